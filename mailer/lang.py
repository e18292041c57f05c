"""Languages (BCP 47) and countries (ISO 3166 alpha-2): validation,
normalisation and localised names.

Pure functions: no database, no Click. Babel supplies localised country names,
langcodes validates language tags, pycountry knows official and common names.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import langcodes

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


def _fold(text: str) -> str:
    """Case- and accent-insensitive key for country names."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


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
def _country_codes() -> frozenset[str]:
    from babel import Locale

    return frozenset(
        code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
    ) - {"ZZ", "QO", "EU", "EZ", "UN"}


def normalize_country(text: str) -> str:
    """An ISO 3166 alpha-2 code from a code or an English name; ValueError if unknown."""
    value = text.strip()
    if len(value) == 2 and value.upper() in _country_codes():
        return value.upper()
    code = _country_index().get(_fold(value))
    if code is None:
        raise ValueError(f"country {text!r} is not an ISO 3166 code or a known country name")
    return code


def country_name(code: str, lang: str = "en") -> str:
    """The country's name in ``lang`` (falls back to English, then the code)."""
    from babel import Locale

    for tag in (lang, "en"):
        try:
            name = Locale.parse(tag, sep="-").territories.get(code)
        except (ValueError, LookupError):
            continue
        if name:
            return name
    return code


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
