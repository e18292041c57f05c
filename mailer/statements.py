"""Statement folders (DESIGN §5): ``statement.toml`` plus one Markdown file per
language with ``---`` front matter, and optional ``reminder.<lang>.md`` variants.

Loading checks everything a reader of the folder could get wrong and names the
file and line. Serbian Latin and Cyrillic are one text: the missing script is
made by transliteration, so callers ask :meth:`Statement.text` for any language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import yaml

from mailer.addresses import CONTROL
from mailer.errors import TemplateError
from mailer.files import load_toml, numbered_lines, read_text_file
from mailer.lang import (
    normalize_language,
    other_serbian_script,
    transliterate,
    with_serbian_scripts,
)

KINDS = ("signon", "call")
STATEMENT_KEYS = {
    "title",
    "kind",
    "default_language",
    "deadline",
    "ask",
    "list_from",
    "list_order",
    "list_with_country",
    "list_first",
    "attachments",
}
LIST_ORDERS = ("signed", "alpha", "country")  # as `mailer signatories --order`
FRONT_MATTER_KEYS = {"subject", "preheader"}
# Jinja tags, URLs and e-mail addresses are never transliterated.
_VERBATIM = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\]\([^)]*\)|<[^>\s]+>|https?://\S+|[\w.+-]+@[\w.-]+",
    re.DOTALL,
)


@dataclass(frozen=True)
class LanguageText:
    """One language of a statement: subject, optional preheader, Markdown body."""

    lang: str
    path: Path
    subject: str
    preheader: str
    body: str
    body_line: int  # line of ``path`` where ``body`` starts, for error messages
    transliterated_from: str | None = None

    @property
    def padded_body(self) -> str:
        """The body preceded by blank lines, so template line numbers are file lines."""
        return "\n" * (self.body_line - 1) + self.body


@dataclass(frozen=True)
class Attachment:
    """A file sent with every message (``attachments`` in statement.toml): ``poster.pdf``,
    or for one language its own ``poster.sr-Latn.pdf`` when the folder has one."""

    name: str
    path: Path
    variants: dict[str, Path] = field(default_factory=dict)  # language → its own file

    def path_for(self, lang: str) -> Path:
        """The file ``lang`` gets: its own, the other Serbian script's, else the common one."""
        other = other_serbian_script(lang)
        return self.variants.get(lang) or (other and self.variants.get(other)) or self.path


@dataclass(frozen=True)
class Statement:
    title: str
    kind: str
    default_language: str
    deadline: date | None
    folder: Path
    languages: dict[str, LanguageText] = field(default_factory=dict)
    reminders: dict[str, LanguageText] = field(default_factory=dict)
    ask: bool = True  # false: no line asking to sign or to report (a thank-you, a notice)
    # {{ signatories }}: the list of this campaign, as `mailer signatories` prints it
    # with these options (--order, --with-country, --first).
    list_from: str | None = None
    list_order: str = "signed"
    list_with_country: bool = False
    list_first: str | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def toml(self) -> Path:
        return self.folder / "statement.toml"

    @property
    def available(self) -> list[str]:
        """Languages a recipient can get: the files first, then the Serbian script made
        from the other one."""
        return with_serbian_scripts(list(self.languages))

    def text(self, lang: str, *, reminder: bool = False) -> LanguageText | None:
        """The text in ``lang`` (transliterating Serbian when needed), or None."""
        texts = self.reminders if reminder else self.languages
        if lang in texts:
            return texts[lang]
        other = other_serbian_script(lang)
        if other and other in texts:
            return transliterate_text(texts[other], lang)
        return None


def transliterate_text(text: LanguageText, to: str) -> LanguageText:
    return replace(
        text,
        lang=to,
        subject=transliterate_outside_markup(text.subject, to),
        preheader=transliterate_outside_markup(text.preheader, to),
        body=transliterate_outside_markup(text.body, to),
        transliterated_from=text.lang,
    )


def transliterate_outside_markup(text: str, to: str) -> str:
    """Transliterate prose only: template tags, links and addresses stay as written."""
    out, pos = [], 0
    for m in _VERBATIM.finditer(text):
        out.append(transliterate(text[pos : m.start()], to))
        out.append(m.group())
        pos = m.end()
    out.append(transliterate(text[pos:], to))
    return "".join(out)


def load_statement(folder: Path) -> Statement:
    """Read and check a statement folder; TemplateError naming file:line on any problem."""
    folder = Path(folder)
    toml_path = folder / "statement.toml"
    if not folder.is_dir():
        raise TemplateError(
            f"{folder}: no such statement folder",
            hint="A statement folder holds statement.toml and one <language>.md per language.",
        )
    meta = _read_toml(toml_path)
    meta["attachments"] = tuple(_attachment(folder, name) for name in meta["attachments"])
    languages: dict[str, LanguageText] = {}
    reminders: dict[str, LanguageText] = {}
    for path in sorted(folder.glob("*.md")):
        stem = path.name[: -len(".md")]
        is_reminder = stem.startswith("reminder.")
        if is_reminder:
            stem = stem[len("reminder.") :]
        elif stem.lower() == "readme":
            continue
        try:
            lang = normalize_language(stem)
        except ValueError:
            raise TemplateError(
                f"{path}: the file name must be a language tag such as en.md, sr-Latn.md"
                " or reminder.en.md",
            ) from None
        texts = reminders if is_reminder else languages
        if lang in texts:
            raise TemplateError(
                f"{path}: a second file for {lang!r} besides {texts[lang].path.name}; keep one"
            )
        texts[lang] = read_language_file(path, lang, reminder=is_reminder)
    statement = Statement(folder=folder, languages=languages, reminders=reminders, **meta)
    if not languages:
        raise TemplateError(f"{folder}: no language file (such as en.md) in the statement folder")
    if statement.text(statement.default_language) is None:
        raise TemplateError(
            f"{toml_path}: default_language {statement.default_language!r} has no file"
            f" {statement.default_language}.md in {folder}",
        )
    for lang, reminder in reminders.items():
        if statement.text(lang) is None:
            raise TemplateError(
                f"{reminder.path}: there is no {lang}.md for this reminder to follow",
                hint=f"Add {lang}.md or rename the reminder to one of the languages"
                f" ({', '.join(statement.available)}).",
            )
    return statement


def read_text(path: Path) -> str:
    """A statement, layout or strings file as text (UTF-8; a byte-order mark that an
    editor may have added is dropped); TemplateError naming it if it cannot be read."""
    return read_text_file(path, TemplateError)


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise TemplateError(
            f"{path}: missing", hint='Write title = "…" and default_language = "en" in it.'
        )
    data = load_toml(path, read_text(path), TemplateError)
    unknown = sorted(set(data) - STATEMENT_KEYS)
    if unknown:
        raise TemplateError(
            f"{path}:{line_of(path, unknown[0])}: unknown key {unknown[0]!r}"
            f" (known: {', '.join(sorted(STATEMENT_KEYS))})"
        )
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise TemplateError(
            f'{path}:{line_of(path, "title")}: title is required, e.g. title = "Joint statement"'
        )
    kind = data.get("kind", "signon")
    if kind not in KINDS:
        raise TemplateError(
            f'{path}:{line_of(path, "kind")}: kind must be "signon" or "call", got {kind!r}'
        )
    lang = data.get("default_language")
    if not isinstance(lang, str):
        raise TemplateError(
            f"{path}:{line_of(path, 'default_language')}: default_language is required,"
            ' e.g. default_language = "en"'
        )
    try:
        lang = normalize_language(lang)
    except ValueError as e:
        raise TemplateError(f"{path}:{line_of(path, 'default_language')}: {e}") from None
    deadline = data.get("deadline")
    if deadline is not None and (not isinstance(deadline, date) or isinstance(deadline, datetime)):
        raise TemplateError(
            f"{path}:{line_of(path, 'deadline')}: deadline must be a date without quotes,"
            f" e.g. deadline = 2025-03-15, got {deadline!r}"
        )
    return {
        "title": title.strip(),
        "kind": kind,
        "default_language": lang,
        "deadline": deadline,
        "attachments": _attachment_names(path, data.get("attachments", [])),
        **_list_options(path, data),
    }


def _attachment_names(path: Path, names: object) -> list[str]:
    """``attachments``: plain names of files in the statement folder, each once."""
    where = f"{path}:{line_of(path, 'attachments')}"
    example = 'e.g. attachments = ["poster.pdf"]'
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TemplateError(f"{where}: attachments must be a list of file names, {example}")
    for name in names:
        if (
            name.strip() != name
            or name in ("", ".", "..")
            or any(c in name for c in "/\\\t")
            or CONTROL.search(name)
        ):
            raise TemplateError(
                f"{where}: attachment {name!r} must be the name of a file in the statement"
                f" folder, without a path or spaces around it, {example}"
            )
    repeated = [n for i, n in enumerate(names) if n in names[:i]]
    if repeated:
        raise TemplateError(f"{where}: attachment {repeated[0]!r} is listed twice")
    return names


def _attachment(folder: Path, name: str) -> Attachment:
    """The listed file and its per-language variants: ``poster.<language>.pdf`` next to
    ``poster.pdf`` (the language before the last extension; a name without one ends in it)."""
    path = folder / name
    head, tail = path.stem + ".", path.suffix
    variants = {}
    for candidate in sorted(folder.iterdir()):
        other = candidate.name
        if len(other) > len(head + tail) and other.startswith(head) and other.endswith(tail):
            try:
                variants[normalize_language(other[len(head) : len(other) - len(tail)])] = candidate
            except ValueError:
                continue  # poster.small.pdf: another file, not a language's
    return Attachment(name, path, variants)


def _list_options(path: Path, data: dict) -> dict:
    """``ask`` and the ``list_*`` keys, checked."""
    for key in ("ask", "list_with_country"):
        if not isinstance(data.get(key, False), bool):
            raise TemplateError(f"{path}:{line_of(path, key)}: {key} must be true or false")
    for key in ("list_from", "list_first"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise TemplateError(
                f'{path}:{line_of(path, key)}: {key} must be text in quotes, e.g. {key} = "peace"'
            )
    order = data.get("list_order", "signed")
    if order not in LIST_ORDERS:
        raise TemplateError(
            f"{path}:{line_of(path, 'list_order')}: list_order must be one of"
            f" {', '.join(LIST_ORDERS)}, got {order!r}"
        )
    if not data.get("list_from") and any(
        k in data for k in ("list_order", "list_with_country", "list_first")
    ):
        raise TemplateError(
            f"{path}:{line_of(path, 'list_from')}: list_order, list_with_country and"
            ' list_first need list_from = "CAMPAIGN", the campaign whose list they shape'
        )
    return {
        "ask": data.get("ask", True),
        "list_from": (data.get("list_from") or "").strip() or None,
        "list_order": order,
        "list_with_country": data.get("list_with_country", False),
        "list_first": (data.get("list_first") or "").strip() or None,
    }


def line_of(path: Path, key: str) -> int:
    """The line of a TOML file that sets ``key`` (``key = …`` or a ``[key]`` table), else 1."""
    key = re.escape(key)
    for number, line in numbered_lines(read_text(path)):
        if re.match(rf"\s*(?:{key}\s*=|\[\s*{key}\s*\])", line):
            return number
    return 1


def read_language_file(path: Path, lang: str, *, reminder: bool = False) -> LanguageText:
    """Parse one ``<lang>.md``: YAML front matter between ``---`` lines, then Markdown.

    A reminder's subject is the first message's with the reminder prefix (so it stays
    in that thread): a reminder file needs no subject line, and one it has is unused.
    """
    lines = read_text(path).replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise TemplateError(
            f"{path}:1: must start with front matter: a line '---', subject: …, a line '---'"
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise TemplateError(f"{path}:1: the front matter has no closing '---' line") from None
    meta = _front_matter(path, "\n".join(lines[1:end]))
    unknown = sorted(str(k) for k in set(meta) - FRONT_MATTER_KEYS)
    if unknown:
        raise TemplateError(
            f"{path}:{_yaml_line(lines, unknown[0], end)}: unknown front matter key"
            f" {unknown[0]!r} (known: subject, preheader)"
        )
    subject = meta.get("subject", "" if reminder else None)
    if not isinstance(subject, str) or not (subject.strip() or reminder):
        raise TemplateError(f"{path}:2: the front matter needs a subject: line")
    if "\n" in subject.strip() or "\r" in subject:
        raise TemplateError(f"{path}:{_yaml_line(lines, 'subject', end)}: subject must be one line")
    preheader = meta.get("preheader") or ""
    if not isinstance(preheader, str):
        raise TemplateError(f"{path}:{_yaml_line(lines, 'preheader', end)}: preheader must be text")
    return LanguageText(
        lang=lang,
        path=path,
        subject=subject.strip(),
        preheader=" ".join(preheader.split()),
        body="\n".join(lines[end + 1 :]).strip("\n") + "\n",
        body_line=end + 2 + _leading_blank_lines(lines[end + 1 :]),
    )


def _front_matter(path: Path, text: str) -> dict:
    try:
        meta = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        problem = getattr(e, "problem", None) or str(e)
        raise TemplateError(
            f"{path}:{line}: front matter is not valid YAML: {problem}",
            hint='Put a value containing ": " in quotes: subject: "Joint statement: sign now"',
        ) from None
    if not isinstance(meta, dict):
        raise TemplateError(f"{path}:2: front matter must be lines of key: value")
    return meta


def _yaml_line(lines: list[str], key: str, end: int) -> int:
    for i in range(1, end):
        if lines[i].lstrip().startswith(f"{key}:"):
            return i + 1
    return 2


def _leading_blank_lines(lines: list[str]) -> int:
    count = 0
    for line in lines:
        if line.strip():
            break
        count += 1
    return count
