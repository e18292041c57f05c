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
    assert format_date(day, "sr-Latn") == "15. marta 2026."
    assert format_date(day, "sr-Cyrl") == "15. марта 2026."
    assert format_date(day, "xx") == "March 15, 2026"  # unknown: English


NNBSP = "\u202f"  # CLDR keeps "г." and "р." on the line of the year

# What {{ campaign.deadline }} gives, checked word by word against how each language writes
# "by 15 December 2026" and "by 1 March 2026": the month in the case the sentence needs.
SENTENCE_DATES = {
    "en": ("December 15, 2026", "March 1, 2026"),
    "sr-Latn": ("15. decembra 2026.", "1. marta 2026."),  # genitive, not CLDR's "decembar"
    "sr-Cyrl": ("15. децембра 2026.", "1. марта 2026."),
    "sr": ("15. децембра 2026.", "1. марта 2026."),  # Serbian without a script: Cyrillic
    "sr-ME": ("15. decembra 2026.", "1. marta 2026."),
    "bs": ("15. decembra 2026.", "1. marta 2026."),
    "sl": ("15. decembra 2026", "1. marca 2026"),
    "hr": ("15. prosinca 2026.", "1. ožujka 2026."),
    "ru": (f"15 декабря 2026{NNBSP}г.", f"1 марта 2026{NNBSP}г."),
    "uk": (f"15 грудня 2026{NNBSP}р.", f"1 березня 2026{NNBSP}р."),
    "be": (f"15 снежня 2026{NNBSP}г.", f"1 сакавіка 2026{NNBSP}г."),
    "pl": ("15 grudnia 2026", "1 marca 2026"),
    "cs": ("15. prosince 2026", "1. března 2026"),
    "sk": ("15. decembra 2026", "1. marca 2026"),
    "lt": ("2026 m. gruodžio 15 d.", "2026 m. kovo 1 d."),
    "el": ("15 Δεκεμβρίου 2026", "1 Μαρτίου 2026"),
    "fi": ("15. joulukuuta 2026", "1. maaliskuuta 2026"),
    "hu": ("2026. december 15.", "2026. március 1."),
    "bg": (f"15 декември 2026{NNBSP}г.", f"1 март 2026{NNBSP}г."),
    "mk": (f"15 декември 2026{NNBSP}г.", f"1 март 2026{NNBSP}г."),
    "ro": ("15 decembrie 2026", "1 martie 2026"),
    "tr": ("15 Aralık 2026", "1 Mart 2026"),
    "de": ("15. Dezember 2026", "1. März 2026"),
    "fr": ("15 décembre 2026", "1er mars 2026"),
    "it": ("15 dicembre 2026", "1º marzo 2026"),
    "es": ("15 de diciembre de 2026", "1 de marzo de 2026"),
    "pt": ("15 de dezembro de 2026", "1 de março de 2026"),
    "ca": ("15 de desembre del 2026", "1 de març del 2026"),
    "he": ("15 בדצמבר 2026", "1 במרץ 2026"),
    "ar": ("15 ديسمبر 2026", "1 مارس 2026"),
    "ar-EG": ("١٥ ديسمبر ٢٠٢٦", "١ مارس ٢٠٢٦"),  # CLDR: Arabic-Indic digits in Egypt
    "fa": ("۱۵ دسامبر ۲۰۲۶", "۱ مارس ۲۰۲۶"),  # Persian digits
    "ur": ("15 دسمبر، 2026", "1 مارچ، 2026"),
    "hi": ("15 दिसंबर 2026", "1 मार्च 2026"),
    "bn": ("১৫ ডিসেম্বর, ২০২৬", "১ মার্চ, ২০২৬"),  # Bengali digits
    "zh": ("2026年12月15日", "2026年3月1日"),
    "ja": ("2026年12月15日", "2026年3月1日"),
    "ko": ("2026년 12월 15일", "2026년 3월 1일"),
    "vi": ("15 tháng 12 năm 2026", "1 tháng 3 năm 2026"),  # not CLDR's "15 tháng 12, 2026"
    "sw": ("15 Desemba 2026", "1 Machi 2026"),
}


@pytest.mark.parametrize("tag", list(SENTENCE_DATES))
def test_dates_take_the_form_a_sentence_needs(tag: str) -> None:
    assert (format_date(date(2026, 12, 15), tag), format_date(date(2026, 3, 1), tag)) == (
        SENTENCE_DATES[tag]
    )


@pytest.mark.parametrize(
    "tag, months",
    [
        ("sr-Latn", "januara februara marta aprila maja juna jula avgusta septembra oktobra novembra decembra"),
        ("sr-Cyrl", "јануара фебруара марта априла маја јуна јула августа септембра октобра новембра децембра"),
        ("bs", "januara februara marta aprila maja juna jula augusta septembra oktobra novembra decembra"),
        ("sl", "januarja februarja marca aprila maja junija julija avgusta septembra oktobra novembra decembra"),
    ],
)  # fmt: skip
def test_every_month_in_the_genitive_where_cldr_has_the_nominative(tag: str, months: str) -> None:
    written = [format_date(date(2026, m, 2), tag).split()[1] for m in range(1, 13)]
    assert written == months.split()


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


OWN = {"PS": {"*": "Palestine", "ru": "Палестина"}, "XK": {"sr-Latn": "Kosovo i Metohija"}}


@pytest.mark.parametrize(
    ("code", "lang", "name"),
    [
        ("PS", "en", "Palestine"),
        ("PS", "es", "Palestine"),  # a name for every language is used as written
        ("PS", "ru", "Палестина"),
        ("XK", "sr-Latn", "Kosovo i Metohija"),
        ("XK", "sr-Cyrl", "Косово и Метохија"),  # a Serbian name follows the script
        ("XK", "en", "Kosovo"),  # no name of one's own for English: Babel's
        ("GR", "fr", "Grèce"),
    ],
)
def test_a_countrys_own_name_replaces_babels(code: str, lang: str, name: str) -> None:
    assert country_name(code, lang, OWN) == name
