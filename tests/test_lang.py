"""Language choice, Serbian transliteration (every letter, digraphs, case), RTL, dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.lang import (
    best_match,
    country_name,
    cyrillic_to_latin,
    format_date,
    is_rtl,
    latin_to_cyrillic,
    name_in,
    negotiate,
    normalize_language,
    own_name,
    with_serbian_scripts,
)

CYRILLIC = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"
LATIN = ["A", "B", "V", "G", "D", "Đ", "E", "Ž", "Z", "I", "J", "K", "L", "Lj", "M", "N", "Nj",
         "O", "P", "R", "S", "T", "Ć", "U", "F", "H", "C", "Č", "Dž", "Š"]  # fmt: skip


@pytest.mark.parametrize("cyr, lat", list(zip(CYRILLIC, LATIN, strict=True)))
def test_every_letter_both_ways_and_both_cases(cyr: str, lat: str) -> None:
    assert cyrillic_to_latin(cyr.lower()) == lat.lower()
    assert latin_to_cyrillic(lat.lower()) == cyr.lower()
    assert cyrillic_to_latin(cyr + "а") == lat + "a"  # title case: Lj, Nj, Dž
    assert latin_to_cyrillic(lat + "a") == cyr + "а"
    assert cyrillic_to_latin(cyr + "А") == lat.upper() + "A"  # all capitals: LJ, NJ, DŽ
    assert latin_to_cyrillic(lat.upper() + "A") == cyr + "А"


@pytest.mark.parametrize(
    "latin, cyrillic",
    [
        ("Ljubljana", "Љубљана"),
        ("LJUBLJANA", "ЉУБЉАНА"),
        ("Njegoš i džep", "Његош и џеп"),
        ("Đurđevdan, ćup, čaša, žito, šuma", "Ђурђевдан, ћуп, чаша, жито, шума"),
        (
            "nadživeti, podžupan, injekcija, konjugacija",
            "надживети, поджупан, инјекција, конјугација",
        ),
        ("Wi-Fi 2026 xy", "Wи-Фи 2026 xy"),
    ],
)
def test_words(latin: str, cyrillic: str) -> None:
    assert latin_to_cyrillic(latin) == cyrillic


def test_shouting_digraph_at_word_end_and_alone() -> None:
    assert cyrillic_to_latin("КОЊ") == "KONJ"
    assert cyrillic_to_latin("Љ") == "Lj"
    assert cyrillic_to_latin("ЉУ") == "LJU"


def test_other_scripts_are_left_alone() -> None:
    for text in ["Εργατικό Μέτωπο", "حزب العمال", "日本"]:
        assert cyrillic_to_latin(text) == text and latin_to_cyrillic(text) == text


SERBIAN_LATIN_WORD = st.text(
    st.sampled_from(list("abcčćdđefghijklmnoprsštuvzž")), min_size=1, max_size=12
).filter(lambda w: not any(p in w for p in ("lj", "nj", "dž")))


@given(
    st.lists(SERBIAN_LATIN_WORD, min_size=1, max_size=8),
    st.sampled_from(["lower", "title", "upper"]),
)
def test_latin_cyrillic_latin_round_trip(words: list[str], case: str) -> None:
    text = " ".join(getattr(w, case)() for w in words)
    assert cyrillic_to_latin(latin_to_cyrillic(text)) == text


@given(st.text(st.sampled_from(list(CYRILLIC + CYRILLIC.lower() + " .,")), max_size=40))
def test_cyrillic_latin_cyrillic_round_trip(text: str) -> None:
    # нј, лј and дж have no unambiguous Latin spelling (nj, lj, dž): leave them out
    if any(p in text.lower() for p in ("нј", "лј", "дж")):
        return
    assert latin_to_cyrillic(cyrillic_to_latin(text)) == text


def test_negotiation() -> None:
    available = with_serbian_scripts(["en", "sr-Latn", "pt-BR"])
    assert available == ["en", "sr-Latn", "pt-BR", "sr-Cyrl"]
    assert negotiate(("el", "en"), available, "en") == "en"
    assert negotiate(("sr-Cyrl", "en"), available, "en") == "sr-Cyrl"
    assert negotiate(("sr",), available, "en") == "sr-Latn"  # the script it was written in
    assert negotiate(("pt",), available, "en") == "pt-BR"
    assert negotiate(("en-GB",), available, "en") == "en"
    assert negotiate(("ru", "el"), available, "en") == "en"
    assert negotiate((), available, "sr-Latn") == "sr-Latn"
    assert negotiate(("zh-Hant",), ["zh-Hans", "en"], "en") == "en"  # no other script conversion
    # best_match tells a fallback from a match: the default may be one of the org's languages.
    assert best_match(("zh-Hant",), ["zh-Hans"]) is None
    assert best_match(("ru", "sr"), available) == "sr-Latn"


def test_rtl() -> None:
    assert all(is_rtl(t) for t in ["ar", "he", "fa", "ur", "ar-EG"])
    assert not any(is_rtl(t) for t in ["en", "sr-Latn", "sr-Cyrl", "el", "ru"])


def test_localized_dates() -> None:
    day = date(2026, 3, 15)
    assert format_date(day, "en") == "March 15, 2026"
    assert format_date(day, "sr-Latn") == "15. mart 2026."
    assert format_date(day, "sr-Cyrl") == "15. март 2026."
    assert format_date(day, "xx") == "March 15, 2026"  # unknown: English


def test_normalize_language_still_works() -> None:
    assert normalize_language("sr-latn") == "sr-Latn"


def test_country_names_for_tags_babel_does_not_know_fall_back_to_english() -> None:
    for tag in ("qaa", "zxx", "x-private", "i-klingon"):
        assert country_name("GR", tag) == "Greece"


# ---------------------------------------------------------------- organizations' names


@pytest.mark.parametrize(
    ("name", "languages", "names", "lang", "shown"),
    [
        # A Serbian organization's own name follows the script of the text.
        ("Radnička partija", ["sr-Latn", "en"], {}, "sr-Cyrl", "Радничка партија"),
        ("Радничка партија", ["sr-Cyrl"], {}, "sr-Latn", "Radnička partija"),
        ("Radnička partija", ["sr"], {}, "sr-Latn", "Radnička partija"),
        # ... from its own spelling in that script when one is stored.
        ("Novi Front – NF", ["sr-Latn"], {"sr-Cyrl": "Нови фронт – НФ"}, "sr-Cyrl", "Нови фронт – НФ"),
        # Any other name stays as written, in a Serbian text or not.
        ("Communist Party of Greece", ["el", "en", "sr-Latn"], {}, "sr-Cyrl", "Communist Party of Greece"),
        ("Workers' League", ["en"], {}, "sr-Latn", "Workers' League"),
        ("Levica", [], {}, "sr-Cyrl", "Levica"),
        ("Radnička partija", ["sr-Latn"], {}, "en", "Radnička partija"),
        ("Radnička partija", ["sr-Latn"], {}, "sr", "Radnička partija"),  # no script: no change
    ],
)  # fmt: skip
def test_own_name_changes_script_only_for_a_serbian_name(
    name: str, languages: list[str], names: dict[str, str], lang: str, shown: str
) -> None:
    assert own_name(name, languages, names, lang) == shown


@pytest.mark.parametrize(
    ("names", "lang", "shown"),
    [
        ({"ru": "Коммунистическая партия Греции"}, "ru", "Коммунистическая партия Греции"),
        ({"pt": "Partido Comunista da Grécia"}, "pt-BR", "Partido Comunista da Grécia"),
        ({"sr-Latn": "Komunistička partija Grčke"}, "sr-Cyrl", "Комунистичка партија Грчке"),
        ({"sr-Cyrl": "Комунистичка партија Грчке"}, "sr-Latn", "Komunistička partija Grčke"),
        ({"sr": "Komunistička partija Grčke"}, "sr-Cyrl", "Комунистичка партија Грчке"),
        ({"ru": "Коммунистическая партия Греции"}, "sr-Cyrl", "Communist Party of Greece"),
        ({}, "el", "Communist Party of Greece"),
    ],
)
def test_name_in_a_language_is_the_stored_one_else_the_own_name(
    names: dict[str, str], lang: str, shown: str
) -> None:
    assert name_in("Communist Party of Greece", ["el", "en"], names, lang) == shown


@given(
    name=st.text(max_size=60),
    languages=st.lists(st.sampled_from(["en", "el", "es", "ru", "mk", "hr", "ar"]), max_size=3),
    lang=st.sampled_from(["sr-Latn", "sr-Cyrl", "ru", "en"]),
)
def test_a_name_not_serbian_is_never_transliterated(
    name: str, languages: list[str], lang: str
) -> None:
    assert name_in(name, languages, {}, lang) == own_name(name, languages, {}, lang) == name
