"""Wording that classifies replies: one TOML file per language in ``phrases/``, read once.

A translator adds a language by adding ``phrases/<tag>.toml`` (docs/translating.md
says how); no Python changes. Each file is checked against ``SCHEMA`` when it is
first read, so a typo is one clear error naming the file and the key.

Phrases are written as people write them and compiled through ``fold``, the same
normalisation applied to incoming text: case folded, accents stripped, Cyrillic
transliterated to Latin (so Serbian Cyrillic and Latin share one list), Arabic
letter variants unified. Patterns may use regex syntax but only lower-case
escapes (\\b, \\s, \\w), since folding lower-cases the pattern too.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from mailer.errors import MailerError
from mailer.lang import OTHER_CYRILLIC, cyrillic_to_latin

PHRASE_DIR = Path(str(resources.files("mailer.inbox") / "phrases"))

# Section → the lists it may hold. Every section and list is optional in a file.
SCHEMA: dict[str, tuple[str, ...]] = {
    "sign_on": ("phrases",),
    "decline": ("phrases",),
    "negation": ("words",),
    "hedge": ("doubts",),
    "acted": ("phrases",),
    "unsubscribe": ("phrases",),
    "out_of_office": ("phrases",),
    "bounce": ("senders", "subjects", "wording", "templates"),
}

# Serbian Cyrillic is added after fold() from mailer.lang's transliteration.
_FOLD_MAP = str.maketrans(
    {
        **OTHER_CYRILLIC,
        "đ": "dj",
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "«": '"',
        "»": '"',
        "„": '"',
        "“": '"',
        "”": '"',
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": "",
        "؟": "?",
        "\u037e": "?",  # Greek question mark
        "\u00a0": " ",
    }
)


# Combining marks: Latin/Greek/Cyrillic accents and Arabic harakat.
_MARKS = re.compile("[\u0300-\u036f\u0483-\u0489\u064b-\u065f\u0670\u1ab0-\u1aff\u20d0-\u20ff]")


def fold(text: str) -> str:
    """Case-, accent- and script-insensitive form of ``text`` for phrase matching."""
    text = text.casefold()
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.translate(_FOLD_MAP)


def _serbian_cyrillic() -> dict[str, str]:
    """Each lower-case Serbian Cyrillic letter as mailer.lang writes it, folded (ž → z, đ → dj)."""
    letters = map(chr, range(0x430, 0x460))  # а..џ: the Serbian alphabet lies inside
    return {c: fold(lat) for c in letters if (lat := cyrillic_to_latin(c)) != c}


_FOLD_MAP.update(str.maketrans(_serbian_cyrillic()))


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One alternation of folded phrases; word boundaries where the phrase starts/ends with a letter."""
    parts = []
    for phrase in phrases:
        body = fold(phrase)
        arabic = any(_is_arabic(c) for c in body)  # Arabic glues prefixes on: no boundaries
        left = "" if arabic else r"\b"
        right = r"\b" if body[-1:].isalnum() and not arabic else ""
        parts.append(f"{left}(?:{body}){right}")
    return re.compile("|".join(parts))


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def pick(table: Mapping[str, Sequence[str]], languages: Sequence[str] = ()) -> list[str]:
    """The phrases of ``languages`` first (base language, so sr-Latn → sr), then all others."""
    wanted = list(dict.fromkeys(lang.split("-")[0].lower() for lang in languages))
    order = [lang for lang in wanted if lang in table] + [
        lang for lang in table if lang not in wanted
    ]
    return [phrase for lang in order for phrase in table[lang]]


def phrase_languages() -> tuple[str, ...]:
    """The languages replies can be read in: those whose phrase file has sign-on wording.

    A file may also hold only machine-mail wording (an out-of-office line in Latvian);
    such a language does not count, since its people's answers would not be understood.
    """
    return tuple(tag for tag, data in load_all().items() if data.get("sign_on"))


def has_phrases(tag: str) -> bool:
    """Whether replies in ``tag`` can be read (a file for the tag or its language: sr-Latn → sr)."""
    known = {t.casefold() for t in phrase_languages()}
    return tag.casefold() in known or tag.split("-")[0].casefold() in known


def table(section: str, key: str) -> dict[str, tuple[str, ...]]:
    """One list of every language file, by language (files without it are left out)."""
    if key not in SCHEMA.get(section, ()):
        raise KeyError(f"[{section}] {key} is not in phrases.SCHEMA")
    return {
        tag: found for tag, data in load_all().items() if (found := data.get(section, {}).get(key))
    }


def every(section: str, key: str, languages: Sequence[str] = ()) -> list[str]:
    """One list of all languages together, those of ``languages`` first."""
    return pick(table(section, key), languages)


@cache
def load_all() -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """Every phrase file, read and checked once per process; English first, then by tag."""
    paths = sorted(PHRASE_DIR.glob("*.toml"), key=lambda p: (p.stem != "en", p.stem))
    return {path.stem: read_phrase_file(path) for path in paths}


def read_phrase_file(path: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    """One language file, checked: known sections and lists, text phrases that compile."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise MailerError(f"{path}: cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise MailerError(f"{path}: not valid TOML: {e}") from None
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for section, lists in data.items():
        if section not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise MailerError(f"{path}: unknown section [{section}] (known: {known})")
        if not isinstance(lists, dict):
            raise MailerError(f"{path}: [{section}] must be a section, not a single value")
        out[section] = {}
        for key, phrases in lists.items():
            where = f"{path}: [{section}] {key}"
            if key not in SCHEMA[section]:
                raise MailerError(f"{where} is not known (known: {', '.join(SCHEMA[section])})")
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                raise MailerError(f'{where} must be a list of phrases in quotes: ["…", "…"]')
            for phrase in phrases:
                _check_phrase(phrase, where)
            out[section][key] = tuple(phrases)
    return out


def _check_phrase(phrase: str, where: str) -> None:
    if not phrase.strip():
        raise MailerError(f"{where}: an empty phrase matches everything; remove it")
    try:
        compile_phrases([phrase])
    except re.error as e:
        raise MailerError(f"{where}: {phrase!r} is not a valid pattern ({e})") from None
