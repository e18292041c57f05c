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
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from mailer.errors import MailerError
from mailer.lang import OTHER_CYRILLIC, cyrillic_to_latin

PHRASE_DIR = Path(str(resources.files("mailer.inbox") / "phrases"))

# Section → the lists it may hold. Every section and list is optional in a file.
SCHEMA: dict[str, tuple[str, ...]] = {
    "words": ("statement", "topics", "this"),
    "sign_on": ("phrases",),
    "third_person": ("subjects", "verbs"),
    "decline": ("phrases",),
    "negation": ("words", "exceptions"),
    "hedge": (
        "conditions",
        "doubts",
        "doubt_exceptions",
        "deferrals",
        "reservations",
        "retractions",
        "holds",
        "for_now",
        "past",
        "past_exceptions",
    ),
    "acted": ("verbs", "actions", "phrases", "photos", "promises", "future"),
    "unsubscribe": ("phrases",),
    "out_of_office": ("phrases",),
    "auto_reply": ("holds",),
    "bounce": ("senders", "subjects", "wording", "templates", "rejections"),
}
# Written inside phrases: {statement} is any of the file's [words] statement, {end} the
# end of the sentence ("KKE signs." but not "KKE signs a contract"), {stop} the end of a
# clause ("Count us in!" but not "count us in for the conference"); {topic}, only in
# [words] topics, the words that say what a statement is about ("on {topic}": "on Cuba").
END = r"(?=[\s.!…)]*$)"
STOP = r"(?=\s*(?:[.!,;:…)–—-]|$))"
_INDIC = "\u0900-\u0dff"  # Devanagari to Sinhala: their vowel signs are no \w to the regex engine
WORD = re.compile(rf"[\w{_INDIC}]+")  # a word, in every script
TOPIC = rf"(?P<topic>{WORD.pattern}(?:[ -]{WORD.pattern}){{0,3}})"
NEVER = re.compile("(?!)")
_UPPER_ESCAPE = re.compile(r"(?<!\\)\\[A-Z]")  # \S, \W, \D, \B: fold() lower-cases them

# Serbian Cyrillic is added after fold() from mailer.lang's transliteration.
_FOLD_MAP = str.maketrans(
    {
        **OTHER_CYRILLIC,
        "đ": "dj",
        "ł": "l",
        "ı": "i",  # Turkish dotless i (İ folds through NFKD)
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
        "\u06cc": "ي",  # Persian yeh and kaf: Persian and Arabic keyboards give either
        "\u06a9": "ك",
        "\u200c": "",  # the zero-width non-joiner of Persian "می‌کنیم"
        "।": ".",  # the Devanagari full stop
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
    """One alternation of folded phrases, found as whole words (at the end only where the
    phrase ends with a letter). Arabic and Persian glue prefixes on, so their phrases get no
    boundaries; Indic scripts write vowels as marks that are no word characters to the
    regex engine, so theirs get boundaries that count those marks in the word.

    One leading \\b for all other phrases rather than one each: the regex engine then
    skips every position inside a word, which makes a long list several times faster.
    """
    bounded: list[str] = []
    others: list[str] = []
    for phrase in phrases:
        body = fold(phrase).replace("{topic}", TOPIC)
        if any(_is_arabic(c) for c in body):
            others.append(f"(?:{body})")
        elif any(_is_indic(c) for c in body):
            others.append(f"{_NOT_INDIC_BEFORE}(?:{body}){_NOT_INDIC_AFTER}")
        else:
            bounded.append(f"(?:{body})" + (r"\b" if body[-1:].isalnum() else ""))
    parts = ([r"\b(?:" + "|".join(bounded) + ")"] if bounded else []) + others
    return re.compile("|".join(parts))


_NOT_INDIC_BEFORE = rf"(?<![\w{_INDIC}])"
_NOT_INDIC_AFTER = rf"(?![\w{_INDIC}])"


def _is_indic(char: str) -> bool:
    return "\u0900" <= char <= "\u0dff"


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


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


@cache
def pattern(section: str, key: str, tags: tuple[str, ...] | None = None) -> re.Pattern[str]:
    """One list as one pattern: of the files ``tags`` (in that order), or of every file.

    A list with no phrases never matches. Compiling is what finds a phrase that is not a
    valid pattern, so it is done here, once; the error names the file, list and phrase.
    """
    files = load_all()
    chosen = tuple(files) if tags is None else tags
    phrases = [p for tag in chosen for p in files.get(tag, {}).get(section, {}).get(key, ())]
    if not phrases:
        return NEVER
    try:
        return compile_phrases(phrases)
    except re.error:
        for tag in chosen:
            check_file(PHRASE_DIR / f"{tag}.toml")
        raise


def check_all() -> None:
    """Every phrase file read and every phrase compiled: MailerError names the first bad one."""
    for path in sorted(PHRASE_DIR.glob("*.toml")):
        check_file(path)


def check_file(path: Path) -> None:
    """One file read and every phrase compiled: MailerError names the first bad one.

    A phrase is compiled with ``{statement}`` standing for a plain group: the statement
    words are compiled on their own (they are a list of the file), and writing them out
    into each of thousands of phrases made `send`'s check of every file take a second.
    """
    data = read_phrase_file(path, expand=False)
    statement = "(?:statement)"
    for section, lists in data.items():
        for key, phrases in lists.items():
            for phrase in phrases:
                try:
                    compile_phrases([_expand(phrase, statement)])
                except re.error as e:
                    raise MailerError(
                        f"{path}: [{section}] {key}: {phrase!r} is not a valid pattern ({e})"
                    ) from None


@cache
def load_all() -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """Every phrase file, read once per process; English first, then by tag."""
    paths = sorted(PHRASE_DIR.glob("*.toml"), key=lambda p: (p.stem != "en", p.stem))
    return {path.stem: read_phrase_file(path) for path in paths}


def read_phrase_file(path: Path, *, expand: bool = True) -> dict[str, dict[str, tuple[str, ...]]]:
    """One language file: known sections and lists of text, placeholders written out
    (unless ``expand`` is false). Whether each phrase is a valid pattern is for
    :func:`check_file` (compiling is slow, so it is done once, when a pattern is built)."""
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
            if any(not phrase.strip() for phrase in phrases):
                raise MailerError(f"{where}: an empty phrase matches everything; remove it")
            if upper := next((p for p in phrases if _UPPER_ESCAPE.search(p)), None):
                raise MailerError(
                    f"{where}: {upper!r} has an upper-case escape, which reading turns into"
                    " its opposite (\\S into \\s); write [^\\s] for \\S, [^\\w] for \\W"
                )
            topics = (section, key) == ("words", "topics")
            if wrong := next((p for p in phrases if ("{topic}" in p) != topics), None):
                need = "needs {topic}" if topics else "uses {topic}, which only [words] topics may"
                raise MailerError(f"{where}: {wrong!r} {need}")
            out[section][key] = tuple(phrases)
    if not out.get("words", {}).get("statement"):
        for section, lists in out.items():
            for key, phrases in lists.items():
                if used := next((p for p in phrases if "{statement}" in p), None):
                    raise MailerError(
                        f"{path}: [{section}] {key}: {used!r} uses {{statement}},"
                        " but [words] statement is empty"
                    )
    if expand:
        statement = _alternation(out.get("words", {}).get("statement", ()))
        for lists in out.values():
            for key, phrases in lists.items():
                lists[key] = tuple(_expand(phrase, statement) for phrase in phrases)
    return out


def _alternation(phrases: Sequence[str]) -> str:
    return "(?:" + "|".join(phrases) + ")"


def _expand(phrase: str, statement: str) -> str:
    """The phrase with {statement}, {end} and {stop} written out ({topic} is written out by
    :func:`compile_phrases`, after folding, which would spoil its group's name)."""
    return phrase.replace("{statement}", statement).replace("{end}", END).replace("{stop}", STOP)
