"""The template engine: sandboxed Jinja environments, and the layout around statements.

Templates are compiled with their file name so that every error, at compile time
or while running, is one sentence naming the file and line. The layout (HTML and
text frames plus per-language strings) is the project's own where it has one,
else the packaged default.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import langcodes
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from mailer.errors import MailerError, TemplateError
from mailer.files import load_toml
from mailer.lang import other_serbian_script
from mailer.models import Fields
from mailer.statements import line_of, read_text, transliterate_outside_markup

LAYOUT_FILES = ("email.html.j2", "email.txt.j2")
FALLBACK_STRINGS = "en"
# langcodes' distance between tags of one language in two regions (pt-BR, pt-PT: 5) or
# its two names (no, nb: 1); Croatian and Bosnian are 8 apart, Danish and Norwegian 12.
SAME_LANGUAGE = 5
VARIABLES_HINT = (
    "Variables: org.name, org.short_name, org.country, org.country_name, org.local_name, "
    "recipient.email, campaign.title, campaign.deadline, campaign.kind, sender.name, "
    "sender.address, unsubscribe, reply_to, sign.address, sign.link, lang; "
    "org.fields.COLUMN (custom fields); contact.name, contact.first_name, contact.role "
    "(the person at the address, if known: test with {% if contact %}); signatories and "
    "signed (with list_from in statement.toml)."
)
# Keys a language's own strings file must have, else that language's other key is
# used, not English's: a Serbian letter must not open "Dear comrade Ana Petrović,".
OWN_LANGUAGE_ONLY = {"salutation_contact": "salutation"}


def _finalize(value: Any) -> Any:
    return "" if value is None else value


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that names a missing custom field as such."""

    def __init__(
        self, hint: str | None = None, obj: Any = jinja2.utils.missing, *a: Any, **kw: Any
    ):
        if hint is None and isinstance(obj, Fields):
            columns = ", ".join(obj) or "none: the columns an import did not know become them"
            name = kw.get("name", a[0] if a else None)
            hint = f"org.fields has no column {name!r} (the custom fields are: {columns})"
        super().__init__(hint, obj, *a, **kw)


def make_env(*, html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=_Undefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )


HTML_ENV = make_env(html=True)
TEXT_ENV = make_env(html=False)


def compile_template(env: SandboxedEnvironment, source: str, where: str) -> jinja2.Template:
    """A template whose errors name ``where`` and the line."""
    try:
        tree = env.parse(source, where, where)
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{where}:{e.lineno}: {e.message}") from None
    for node in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        raise TemplateError(
            f"{where}:{node.lineno}: include, extends and import cannot be used in statements"
        )
    code = env.compile(tree, where, where)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _error_line(error: BaseException, where: str) -> int | None:
    """The template line the error was raised at (Jinja rewrites tracebacks to templates)."""
    lines = [tb.lineno for tb in traceback.extract_tb(error.__traceback__) if tb.filename == where]
    return lines[-1] if lines else None


def template_error(error: Exception, where: str) -> TemplateError:
    """One sentence for a template that failed while running: Jinja's own errors
    and Python's (``{{ 1/0 }}``, ``range(10**9)``…) alike, with the line."""
    line = _error_line(error, where)
    kind = "not allowed in templates" if isinstance(error, jinja2.exceptions.SecurityError) else ""
    message = f"{where}:{line}" if line else where
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    if kind:
        text = f"{text} ({kind})"
    hint = VARIABLES_HINT if isinstance(error, jinja2.UndefinedError) else None
    return TemplateError(f"{message}: {text}", hint=hint)


def render_template(template: jinja2.Template, context: Mapping[str, Any], where: str) -> str:
    try:
        return template.render(context)
    except MailerError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure of the template's own code
        raise template_error(e, where) from None


# --- Layout ---------------------------------------------------------------------------------


def packaged_layout() -> Path:
    return Path(str(resources.files("mailer") / "skeleton" / "templates" / "layout"))


@dataclass(frozen=True)
class Layout:
    """The frame: HTML and text templates and the folders of per-language strings."""

    html: Path
    text: Path
    strings_dirs: tuple[Path, ...]

    @classmethod
    def find(cls, templates: Path) -> Layout:
        """The project's ``templates/layout`` files, each falling back to the packaged one."""
        own, packaged = templates / "layout", packaged_layout()

        def pick(name: str) -> Path:
            return own / name if (own / name).is_file() else packaged / name

        return cls(
            html=pick(LAYOUT_FILES[0]),
            text=pick(LAYOUT_FILES[1]),
            strings_dirs=(own / "strings", packaged / "strings"),
        )

    def strings(self, lang: str) -> FrameStrings:
        """The frame strings for ``lang``, and where they come from.

        The file is the language's own; for Serbian in one script, the other
        script's, transliterated; else the same language in another region or script
        (``pt-BR`` → ``pt``, ``zh-TW`` → ``zh-Hant``, ``no`` → ``nb``). Each key comes
        from the project's file, else the packaged one (a project set up before a key
        was added still gets it in its language), else English (but see
        OWN_LANGUAGE_ONLY). A language with no file gets English.
        """
        english = self._read(FALLBACK_STRINGS)
        source = self._source(lang)
        if source is None:
            return FrameStrings(english, FALLBACK_STRINGS, tuple(english))
        found = self._read(source)
        if source == other_serbian_script(lang):
            found, source = _transliterate_strings(found, lang), lang
        values = _with_english(english, found)
        missing = tuple(key for key in english if key not in found and values[key] == english[key])
        return FrameStrings(values, source, missing)

    def _source(self, lang: str) -> str | None:
        """The language of the strings file ``lang`` is served from, if any: the
        project's files first, so that its own Serbian is what the other script shows."""
        other = other_serbian_script(lang)
        for folder in self.strings_dirs:
            available = sorted(path.stem for path in folder.glob("*.toml"))
            for candidate in (lang, other):
                if candidate in available:
                    return candidate
            match = langcodes.closest_supported_match(lang, available, SAME_LANGUAGE)
            if match:
                return str(match)
        return None

    def _read(self, lang: str) -> dict[str, str]:
        """The strings of ``lang``'s files: the project's over the packaged ones. A key
        of OWN_LANGUAGE_ONLY comes from the project's file alone when it has one (but
        English, whose keys must all exist): a file without it greets persons as it
        greets the organization, as en.toml says."""
        merged: dict[str, str] = {}
        for folder in reversed(self.strings_dirs):
            path = folder / f"{lang}.toml"
            if path.is_file() and lang != FALLBACK_STRINGS:
                merged = {k: v for k, v in merged.items() if k not in OWN_LANGUAGE_ONLY}
            merged |= _read_strings(path)
        return merged


@dataclass(frozen=True)
class FrameStrings:
    """The frame strings of one language, and where they come from."""

    values: dict[str, str]
    lang: str  # the language of the file they were read from (Serbian: after transliteration)
    english: tuple[str, ...]  # keys in English because no file of the language has them


def _with_english(english: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """A language's strings, each missing one from English (but see OWN_LANGUAGE_ONLY)."""
    merged = {**english, **own}
    for key, fallback in OWN_LANGUAGE_ONLY.items():
        if key not in own and fallback in merged:
            merged[key] = merged[fallback]
    return merged


def _transliterate_strings(strings: dict[str, str], lang: str) -> dict[str, str]:
    return {k: transliterate_outside_markup(v, lang) for k, v in strings.items()}


@cache
def _read_strings_cached(path: Path, mtime: float) -> dict[str, str]:
    data = load_toml(path, read_text(path), TemplateError)
    for key, value in data.items():
        if not isinstance(value, str):
            raise TemplateError(
                f'{path}:{line_of(path, key)}: {key} must be text in quotes, e.g. {key} = "…"'
            )
        compile_template(TEXT_ENV, value, f"{path} [{key}]")
    return data


def _read_strings(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return dict(_read_strings_cached(path, path.stat().st_mtime))
