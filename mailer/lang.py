"""Languages (BCP 47) and countries (ISO 3166 alpha-2): validation,
normalisation and localised names.

Pure functions: no database, no Click. Babel supplies localised country names,
langcodes validates language tags, pycountry knows official and common names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import langcodes

if TYPE_CHECKING:
    from babel import Locale

# Spellings people write in spreadsheets that neither Babel nor pycountry knows.
COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "holland": "NL",
    "the netherlands": "NL",
    "south korea": "KR",
    "north korea": "KP",
    "dprk": "KP",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "vietnam": "VN",
    "viet nam": "VN",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "macedonia": "MK",
    "turkey": "TR",
    "palestine": "PS",
    "kosovo": "XK",
    "swaziland": "SZ",
    "burma": "MM",
    "east timor": "TL",
    "cape verde": "CV",
    "congo-brazzaville": "CG",
    "congo-kinshasa": "CD",
    "drc": "CD",
}


def fold_accents(text: str) -> str:
    """``text`` without case or accents ("Čile" → "cile"): what name matching and
    alphabetical order ignore."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(text: str) -> str:
    """Case- and accent-insensitive key for country names."""
    return " ".join(fold_accents(text).split())


@cache
def _country_index() -> dict[str, str]:
    import pycountry
    from babel import Locale

    index: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index[_fold(value)] = c.alpha_2
        index[_fold(c.alpha_3)] = c.alpha_2
    for code, name in Locale("en").territories.items():
        if len(code) == 2 and code.isalpha():
            index[_fold(name)] = code
    index.update({_fold(k): v for k, v in COUNTRY_ALIASES.items()})
    return index


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of countries (not EU, UN or "unknown region")."""
    from babel import Locale

    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha()
    ) - {"ZZ", "QO", "EU", "EZ", "UN"}


def normalize_country(text: str) -> str:
    """An ISO 3166 alpha-2 code from a code or an English name; ValueError if unknown."""
    value = text.strip()
    if len(value) == 2 and value.upper() in country_codes():
        return value.upper()
    code = _country_index().get(_fold(value))
    if code is None:
        raise ValueError(f"country {text!r} is not an ISO 3166 code or a known country name")
    return code


def country_name(
    code: str, lang: str = "en", own: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The country's name in ``lang``: the user's own name for it in ``own`` (the
    ``[names] countries`` setting) if it has one, else Babel's (falling back to
    English, then the code)."""
    if own and code in own and (name := _own_country_name(own[code], lang)):
        return name
    for tag in (lang, "en"):
        name = babel_locale(tag).territories.get(code)
        if name:
            return name
    return code


def _own_country_name(names: Mapping[str, str], lang: str) -> str | None:
    """The name for ``lang`` among names by language ("*": every language): the same
    tag, the closest one (``pt`` for ``pt-BR``; a Serbian name in either script,
    written in the script of ``lang``), else the one for every language, as written."""
    if other_serbian_script(lang):
        for tag in (lang, other_serbian_script(lang), "sr"):
            if tag and names.get(tag):
                return transliterate(names[tag], lang)
    tag = best_match([lang], [t for t in names if t != "*"])
    return names[tag] if tag else names.get("*")


def normalize_language(text: str) -> str:
    """A canonical BCP 47 tag (``sr-latn`` → ``sr-Latn``); ValueError if invalid."""
    value = text.strip().replace("_", "-")
    try:
        valid = bool(value) and langcodes.tag_is_valid(value)
    except (ValueError, LookupError):
        valid = False
    if not valid:
        raise ValueError(f"language {text!r} is not a valid BCP 47 tag such as en, sr-Latn or ar")
    return str(langcodes.standardize_tag(value))


def split_list(text: str | None, seps: str = ";,") -> list[str]:
    """Split a cell like ``"sr-Latn; en"`` on any of ``seps``, dropping blanks."""
    if not text:
        return []
    for sep in seps[1:]:
        text = text.replace(sep, seps[0])
    return [part.strip() for part in text.split(seps[0]) if part.strip()]


# --- Language choice, scripts and localized dates -------------------------------------------

RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"})
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm"})
SERBIAN_SCRIPTS = ("sr-Latn", "sr-Cyrl")


def _parts(tag: str) -> tuple[str, str | None]:
    """(language, script) of a tag, e.g. ``sr-Latn`` → ("sr", "Latn")."""
    parsed = langcodes.Language.get(tag)
    return (parsed.language or tag.split("-")[0]).lower(), parsed.script


def is_rtl(tag: str) -> bool:
    """Whether text in ``tag`` is written right to left (Arabic, Hebrew, Persian, Urdu…)."""
    language, script = _parts(tag)
    return script in RTL_SCRIPTS if script else language in RTL_LANGUAGES


def other_serbian_script(tag: str) -> str | None:
    """``sr-Latn`` ↔ ``sr-Cyrl``; None for any other tag."""
    if tag == "sr-Latn":
        return "sr-Cyrl"
    if tag == "sr-Cyrl":
        return "sr-Latn"
    return None


def with_serbian_scripts(tags: list[str] | tuple[str, ...]) -> list[str]:
    """The tags plus the Serbian script each one implies (one text, two scripts)."""
    result = list(tags)
    for tag in tags:
        other = other_serbian_script(tag)
        if other and other not in result:
            result.append(other)
    return result


def best_match(preferred: tuple[str, ...] | list[str], available: list[str]) -> str | None:
    """The first preferred language the statement can be given in, or None.

    ``available`` are the statement's languages (Serbian scripts already expanded).
    A preferred ``sr`` without a script takes the first Serbian script in ``available``
    (list the written ones before the transliterated ones); ``en-GB`` takes ``en``, ``pt`` takes
    ``pt-BR``: same language, no conflicting script. Other scripts are never converted.
    """
    by_fold = {tag.casefold(): tag for tag in available}
    for want in preferred:
        if want.casefold() in by_fold:
            return by_fold[want.casefold()]
        language, script = _parts(want)
        if language == "sr" and script is None:
            serbian = [t for t in available if t in SERBIAN_SCRIPTS]
            if serbian:
                return serbian[0]
        for tag in available:
            tag_language, tag_script = _parts(tag)
            if tag_language == language and (script is None or tag_script in (None, script)):
                return tag
    return None


def negotiate(preferred: tuple[str, ...] | list[str], available: list[str], default: str) -> str:
    """:func:`best_match`, else ``default`` (the statement's own language)."""
    return best_match(preferred, available) or default


# Serbian Cyrillic ↔ Gaj's Latin. One letter each way except the digraphs Lj, Nj, Dž.
_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
    "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
_LAT_TO_CYR = {lat: cyr for cyr, lat in _CYR_TO_LAT.items()}
# The other Cyrillic letters of Russian, Ukrainian and Macedonian, in Latin for matching
# names and phrases only (no transliteration standard is meant).
OTHER_CYRILLIC = {
    "ё": "e", "й": "j", "щ": "sc", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju", "я": "ja",
    "є": "e", "і": "i", "ї": "i", "ѓ": "g", "ќ": "k", "ѕ": "dz",
}  # fmt: skip
_LATIN_UNIT = re.compile(r"lj|nj|dž|[abcčćdđefghijklmnoprsštuvzž]", re.IGNORECASE)
# Words where the Latin pair is two letters, not one digraph ("nad-živeti", "in-jekcija").
_NOT_DIGRAPH = re.compile(
    r"\b(?:(?:na|po|pre|ispo)d(?=ž)|od(?=žal)|in(?=jekc)|kon(?=j(?:ug|unk))|van(?=jezi))",
    re.IGNORECASE,
)


def latin_to_cyrillic(text: str) -> str:
    """Serbian Latin → Cyrillic; letters outside the Serbian alphabet are kept."""
    out: list[str] = []
    split_here = {m.end() for m in _NOT_DIGRAPH.finditer(text)}
    pos = 0
    while pos < len(text):
        m = _LATIN_UNIT.match(text, pos)
        if not m:
            out.append(text[pos])
            pos += 1
            continue
        unit = m.group()
        if len(unit) == 2 and pos + 1 in split_here:
            unit = unit[0]
        cyr = _LAT_TO_CYR[unit.lower()]
        out.append(cyr.upper() if unit[0].isupper() else cyr)
        pos += len(unit)
    return "".join(out)


def cyrillic_to_latin(text: str) -> str:
    """Serbian Cyrillic → Latin. Љ, Њ, Џ become ``LJ`` inside an upper-case word, else ``Lj``."""
    out: list[str] = []
    for i, ch in enumerate(text):
        lat = _CYR_TO_LAT.get(ch.lower())
        if lat is None:
            out.append(ch)
        elif not ch.isupper():
            out.append(lat)
        elif len(lat) == 1:
            out.append(lat.upper())
        else:
            after = text[i + 1] if i + 1 < len(text) else ""
            before = text[i - 1] if i > 0 else ""
            shouting = after.isupper() or (not after.isalpha() and before.isupper())
            out.append(lat.upper() if shouting else lat.capitalize())
    return "".join(out)


def transliterate(text: str, to: str) -> str:
    """Serbian text into the script of ``to`` (``sr-Latn`` or ``sr-Cyrl``)."""
    return latin_to_cyrillic(text) if to == "sr-Cyrl" else cyrillic_to_latin(text)


def own_name(name: str, languages: Sequence[str], names: Mapping[str, str], lang: str) -> str:
    """An organization's own name as a text in ``lang`` writes it.

    A name changes script only when it is the organization's own name in that
    language: the name of an organization whose own (first) language is Serbian
    is written in the script of a Serbian text, from its stored spelling in that
    script if there is one. Any other name stays exactly as written: "Communist
    Party of Greece" is never spelled in Cyrillic letter by letter.
    """
    if other_serbian_script(lang) is None or not languages or _parts(languages[0])[0] != "sr":
        return name
    return names.get(lang) or transliterate(name, lang)


def name_in(name: str, languages: Sequence[str], names: Mapping[str, str], lang: str) -> str:
    """An organization's name for a list or a text in ``lang``: its name in that
    language when stored (``pt`` serves ``pt-BR``; a Serbian name stored in either
    script, or as plain ``sr``, is written in the script of ``lang``), else
    :func:`own_name`."""
    if names.get(lang):
        return names[lang]
    if other_serbian_script(lang):
        for tag in (other_serbian_script(lang), "sr"):
            if tag and names.get(tag):
                return transliterate(names[tag], lang)
    elif names.get(_parts(lang)[0]):
        return names[_parts(lang)[0]]
    return own_name(name, languages, names, lang)


def babel_locale(tag: str) -> Locale:
    """The Babel locale for a tag, falling back to its language, then English."""
    from babel import Locale, UnknownLocaleError

    for candidate in (tag, _parts(tag)[0], "en"):
        try:
            return Locale.parse(candidate, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
    return Locale("en")


# Where CLDR's long date does not fit a sentence. Everything else is Babel's CLDR data:
# the long pattern, and month names in the *format* context (the form a month takes inside
# a date, which CLDR gives in the genitive for ru, uk, be, pl, cs, sk, hr, lt, el, fi, hy…)
# rather than the *stand-alone* one ("декабрь", "grudzień").
#
# CLDR's format-context months for Serbian, Montenegrin, Bosnian and Slovenian are the
# nominative ("15. decembar"), although these languages write a date, and every date
# after "do", "od", "posle", in the genitive ("do 15. decembra 2026."). Keys are CLDR's
# own month names, so a name CLDR changes is left as CLDR writes it; Cyrillic is
# transliterated from the Latin below.
_GENITIVE_MONTHS_LATIN = {
    "sr": {
        "januar": "januara", "februar": "februara", "mart": "marta", "april": "aprila",
        "maj": "maja", "jun": "juna", "jul": "jula", "avgust": "avgusta",
        "septembar": "septembra", "oktobar": "oktobra", "novembar": "novembra",
        "decembar": "decembra",
    },
    "bs": {
        "januar": "januara", "februar": "februara", "mart": "marta", "april": "aprila",
        "maj": "maja", "juni": "juna", "juli": "jula", "august": "augusta",
        "septembar": "septembra", "oktobar": "oktobra", "novembar": "novembra",
        "decembar": "decembra",
    },
    "sl": {
        "januar": "januarja", "februar": "februarja", "marec": "marca", "april": "aprila",
        "maj": "maja", "junij": "junija", "julij": "julija", "avgust": "avgusta",
        "september": "septembra", "oktober": "oktobra", "november": "novembra",
        "december": "decembra",
    },
}  # fmt: skip
GENITIVE_MONTHS = {
    language: {
        **months,
        **{latin_to_cyrillic(nom): latin_to_cyrillic(gen) for nom, gen in months.items()},
    }
    for language, months in _GENITIVE_MONTHS_LATIN.items()
}
# The first of the month is an ordinal in French and Italian ("avant le 1er décembre",
# "entro il 1º dicembre"); CLDR's pattern has only the number.
FIRST_OF_MONTH = {"fr": "1er", "it": "1º"}
# CLDR's Vietnamese long date is "15 tháng 12, 2026"; a sentence says "15 tháng 12 năm 2026".
LONG_PATTERNS = {"vi": "d 'tháng' M 'năm' y"}
# The zero of each decimal numbering system CLDR makes a locale's default (fa: ۰, bn: ০,
# ne: ०, ar-EG: ٠…). Babel knows the default system but always writes dates in ASCII digits.
NUMBERING_ZERO = {
    "arab": "\u0660", "arabext": "\u06f0", "beng": "\u09e6", "deva": "\u0966",
    "mymr": "\u1040", "tibt": "\u0f20", "olck": "\u1c50", "nkoo": "\u07c0",
    "mtei": "\uabf0", "cakm": "\U00011136", "adlm": "\U0001e950", "hmnp": "\U0001e140",
}  # fmt: skip


def format_date(day: date, tag: str) -> str:
    """``day`` as a sentence in ``tag`` writes it: after "by", "until", "on" (``15. decembra
    2026.``, ``15 декабря 2026 г.``, ``15 grudnia 2026``, ``2026. december 15.``).

    ``{{ campaign.deadline }}`` is this text, so each layout strings file builds its
    deadline sentence around it. Babel's long date (CLDR), adjusted only where CLDR's
    form does not fit running text (see the tables above), in the locale's own digits.
    """
    from babel.dates import format_date as babel_format

    locale = babel_locale(tag)
    text = babel_format(day, _sentence_pattern(day, locale), locale=locale)
    zero = NUMBERING_ZERO.get(locale.default_numbering_system)
    if zero:
        text = text.translate({ord("0") + i: chr(ord(zero) + i) for i in range(10)})
    return text


def _sentence_pattern(day: date, locale: Locale) -> str:
    """CLDR's long date pattern for ``locale`` with the month (and the first of the
    month) written in as text where the tables above correct CLDR."""
    from babel.dates import tokenize_pattern, untokenize_pattern

    language = locale.language
    pattern = LONG_PATTERNS.get(language) or locale.date_formats["long"].pattern
    month = locale.months["format"]["wide"][day.month]
    genitive = GENITIVE_MONTHS.get(language, {}).get(month)
    first = FIRST_OF_MONTH.get(language) if day.day == 1 else None
    tokens: list[tuple[str, str | tuple[str, int]]] = []
    for kind, value in tokenize_pattern(pattern):
        if genitive and value == ("M", 4):
            tokens.append(("chars", genitive))
        elif first and kind == "field" and value[0] == "d":
            tokens.append(("chars", first))
        else:
            tokens.append((kind, value))
    return str(untokenize_pattern(tokens))
