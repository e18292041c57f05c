"""The layout's strings files: every language says what en.toml says, with the same
variables, compiles in the sandbox and reads right around the date; which file a
language is served from, and its text direction in the rendered message."""

from __future__ import annotations

import email
import email.policy
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from jinja2 import nodes

from mailer.campaigns import build_trial
from mailer.config import load_settings
from mailer.errors import TemplateError
from mailer.inbox.classify import classify
from mailer.inbox.parse import ParsedMessage, parse_message
from mailer.inbox.phrases import has_phrases
from mailer.lang import format_date, is_rtl
from mailer.models import Org, Recipient, ReplyClass
from mailer.render import build_factory
from mailer.templates import (
    HTML_ENV,
    TEXT_ENV,
    Layout,
    compile_template,
    packaged_layout,
    render_template,
)

STRINGS = packaged_layout() / "strings"
LANGUAGES = sorted(path.stem for path in STRINGS.glob("*.toml"))
RTL = {"ar", "fa", "he", "ur"}
DAY = date(2026, 12, 15)


def strings_of(lang: str) -> dict[str, str]:
    return tomllib.loads((STRINGS / f"{lang}.toml").read_text(encoding="utf-8"))


ENGLISH = strings_of("en")


def variables(source: str) -> set[str]:
    """The names a template prints or tests: ``org.name``, ``unsubscribe``…"""
    tree = TEXT_ENV.parse(source)
    dotted = {
        (attr.node.name, attr.attr)
        for attr in tree.find_all(nodes.Getattr)
        if isinstance(attr.node, nodes.Name)
    }
    bases = {name for name, _ in dotted}
    plain = {n.name for n in tree.find_all(nodes.Name)} - bases
    return {f"{name}.{attr}" for name, attr in dotted} | plain


def test_there_are_strings_for_at_least_25_languages() -> None:
    assert len(LANGUAGES) >= 25 and "en" in LANGUAGES


# The person greeted by salutation_contact, as en.toml describes it: a language picks
# the name it uses (first name, full name or none) and may test the gender.
CONTACT = {"contact.name", "contact.first_name", "contact.role", "contact.gender"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_strings_file_has_the_keys_and_variables_of_english(lang: str) -> None:
    strings = strings_of(lang)  # valid TOML, or this raises
    assert list(strings) == list(ENGLISH)
    for key, text in strings.items():
        assert isinstance(text, str)
        where = f"{lang}.toml [{key}]"
        if key == "salutation_contact":
            assert variables(text) and variables(text) <= CONTACT, where
        else:
            assert variables(text) == variables(ENGLISH[key]), where


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_strings_file_compiles_in_the_sandbox_and_renders(lang: str) -> None:
    context = {
        "org": {"name": "Partido de los Trabajadores"},
        "campaign": {"deadline": format_date(DAY, lang), "title": "Joint statement for peace"},
        "sender": {"name": "International Department", "address": "intl@party.example.org"},
        "recipient": {"email": "intl@org.example.org"},
        "unsubscribe": "intl+unsub-k3jx9q2mwpza@party.example.org",
    }
    for key, text in strings_of(lang).items():
        where = f"{lang}.toml [{key}]"
        for env, gender in ((TEXT_ENV, "f"), (HTML_ENV, "m")):
            contact = {"name": "Ana Petrović", "first_name": "Ana", "role": "", "gender": gender}
            template = compile_template(env, text, where)
            rendered = render_template(template, {**context, "contact": contact}, where)
            assert rendered.strip() and "{" not in rendered, where


# The word in quotes that the unsubscribe line asks for: "…", „…“, « … », 「…」…
QUOTED = re.compile(r"[\"“”„«»‘’「]\s*([^\"“”„«»‘’「」]+?)\s*[\"“”«»‘’」]")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_frame_asks_for_the_sign_phrase_and_one_unsubscribe_word(lang: str) -> None:
    strings = strings_of(lang)
    assert strings["how_to_sign"].endswith(strings["sign_phrase"])
    assert len(QUOTED.findall(strings["unsubscribe"])) == 1


def reply(text: str) -> ParsedMessage:
    return parse_message(
        "From: Org <intl@org.example.org>\nSubject: Re: Statement\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{text}\n".encode()
    )


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if has_phrases(lang)])
def test_replies_in_the_words_the_frame_asks_for_are_read_as_meant(lang: str) -> None:
    """A reply made of the sign phrase (or of the sign-by-e-mail link's prefilled text)
    is a sign-on, one of the unsubscribe word an unsubscribe, in every language whose
    replies mailer reads (a phrase file)."""
    strings = strings_of(lang)
    (word,) = QUOTED.findall(strings["unsubscribe"])
    for text in (strings["sign_phrase"], strings["sign_body"]):
        assert classify(reply(text), languages=(lang,)).cls == ReplyClass.SIGNON, text
    assert classify(reply(word), languages=(lang,)).cls == ReplyClass.UNSUBSCRIBE


NNBSP = "\u202f"
# Each deadline sentence read whole, with the date as format_date writes it.
DEADLINES = {
    "ar": "نرجو الرد قبل 15 ديسمبر 2026.",
    "az": "Xahiş edirik, 15 dekabr 2026 tarixinədək cavab verin.",
    "be": f"Просім адказаць да 15 снежня 2026{NNBSP}г.",
    "bg": f"Моля, отговорете до 15 декември 2026{NNBSP}г.",
    "bn": "অনুগ্রহ করে ১৫ ডিসেম্বর, ২০২৬ তারিখের মধ্যে উত্তর দিন।",
    "bs": "Molimo vas da odgovorite do 15. decembra 2026.",
    "ca": "Us demanem que respongueu abans del dia 15 de desembre del 2026.",
    "cs": "Prosíme o odpověď do 15. prosince 2026.",
    "da": "Vi beder om jeres svar senest den 15. december 2026.",
    "de": "Bitte antworten Sie bis zum 15. Dezember 2026.",
    "el": "Παρακαλούμε απαντήστε έως 15 Δεκεμβρίου 2026.",
    "en": "Please answer by December 15, 2026.",
    "es": "Les rogamos que respondan antes del 15 de diciembre de 2026.",
    "fa": "لطفاً تا ۱۵ دسامبر ۲۰۲۶ پاسخ دهید.",
    "fi": "Pyydämme vastaustanne viimeistään 15. joulukuuta 2026.",
    "fil": "Pakisagot bago ang Disyembre 15, 2026.",
    "fr": "Merci de répondre avant le 15 décembre 2026.",
    "gl": "Pregámosvos que respondades antes do 15 de decembro de 2026.",
    "he": "נא להשיב עד 15 בדצמבר 2026.",
    "hi": "कृपया 15 दिसंबर 2026 तक उत्तर दें।",
    "hr": "Molimo vas da odgovorite do 15. prosinca 2026.",
    "hu": "Kérjük, válaszukat 2026. december 15. napjáig küldjék el.",
    "id": "Mohon balas paling lambat tanggal 15 Desember 2026.",
    "it": "Vi preghiamo di rispondere entro il giorno 15 dicembre 2026.",
    "ja": "2026年12月15日までにご返信ください。",
    "ko": "2026년 12월 15일까지 회신해 주시기 바랍니다.",
    "lt": "Prašome atsakyti iki 2026 m. gruodžio 15 d.",
    "mk": f"Ве молиме одговорете до 15 декември 2026{NNBSP}г.",
    "nb": "Vi ber om svar innen 15. desember 2026.",
    "ne": "कृपया २०२६ डिसेम्बर १५ सम्म जवाफ दिनुहोस्।",
    "nl": "Graag jullie antwoord uiterlijk 15 december 2026.",
    "pl": "Prosimy o odpowiedź do 15 grudnia 2026 r.",
    "pt": "Pedimos que respondam até 15 de dezembro de 2026.",
    "ro": "Vă rugăm să răspundeți până la 15 decembrie 2026.",
    "ru": f"Просим ответить до 15 декабря 2026{NNBSP}г.",
    "sk": "Prosíme o odpoveď do 15. decembra 2026.",
    "sl": "Prosimo, odgovorite do 15. decembra 2026.",
    "sq": "Ju lutemi të përgjigjeni deri më 15 dhjetor 2026.",
    "sr-Cyrl": "Молимо вас да одговорите до 15. децембра 2026.",
    "sr-Latn": "Molimo vas da odgovorite do 15. decembra 2026.",
    "sv": "Vi ber om ert svar senast den 15 december 2026.",
    "sw": "Tafadhali jibuni kabla ya tarehe 15 Desemba 2026.",
    "tr": "Lütfen 15 Aralık 2026 tarihine kadar yanıt verin.",
    "uk": f"Просимо відповісти до 15 грудня 2026{NNBSP}р.",
    "ur": "براہِ کرم 15 دسمبر، 2026 تک جواب دیں۔",
    "vi": "Xin các đồng chí vui lòng trả lời trước ngày 15 tháng 12 năm 2026.",
    "zh": "请于2026年12月15日前回复。",
    "zh-Hant": "請於2026年12月15日前回覆。",
}


def deadline_sentence(lang: str, day: date = DAY) -> str:
    template = compile_template(TEXT_ENV, strings_of(lang)["deadline"], lang)
    return render_template(template, {"campaign": {"deadline": format_date(day, lang)}}, lang)


def test_every_language_has_a_deadline_sentence_read_by_hand() -> None:
    assert sorted(DEADLINES) == LANGUAGES


@pytest.mark.parametrize("lang", sorted(DEADLINES))
def test_the_deadline_sentence_reads_right_with_the_date(lang: str) -> None:
    assert deadline_sentence(lang) == DEADLINES[lang]


def test_the_first_of_the_month_where_the_article_or_the_ordinal_changes() -> None:
    first = date(2026, 3, 1)
    assert deadline_sentence("fr", first) == "Merci de répondre avant le 1er mars 2026."
    assert (
        deadline_sentence("it", first)
        == "Vi preghiamo di rispondere entro il giorno 1º marzo 2026."
    )
    assert (
        deadline_sentence("ca", first)
        == "Us demanem que respongueu abans del dia 1 de març del 2026."
    )
    assert deadline_sentence("el", first) == "Παρακαλούμε απαντήστε έως 1 Μαρτίου 2026."  # fmt: skip


# --- Which file serves a language ---------------------------------------------------------


def layout(tmp_path: Path) -> Layout:
    return Layout.find(tmp_path / "templates")


@pytest.mark.parametrize(
    "lang, served_by",
    [
        ("pl", "pl"),
        ("pt-BR", "pt"),
        ("zh-TW", "zh-Hant"),
        ("zh-CN", "zh"),
        ("no", "nb"),
        ("sr-ME", "sr-Latn"),
        ("en-GB", "en"),
        ("ar-EG", "ar"),
    ],
)
def test_a_language_is_served_by_its_own_file_or_the_same_language_elsewhere(
    tmp_path: Path, lang: str, served_by: str
) -> None:
    frame = layout(tmp_path).strings(lang)
    assert (frame.lang, frame.english) == (served_by, ())
    assert frame.values == {**ENGLISH, **strings_of(served_by)}


def test_a_language_with_no_file_gets_english_and_says_so(tmp_path: Path) -> None:
    for lang in ("eu", "ka", "nn"):  # Nynorsk is not served Bokmål, Basque not Spanish
        frame = layout(tmp_path).strings(lang)
        assert (frame.lang, frame.values, frame.english) == ("en", ENGLISH, tuple(ENGLISH))


def test_the_projects_file_wins_key_by_key_over_the_packaged_one(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "layout" / "strings"
    own.mkdir(parents=True)
    (own / "pl.toml").write_text('closing = "Pozdrawiamy serdecznie"\n', encoding="utf-8")
    (own / "eu.toml").write_text('salutation = "Kaixo, {{ org.name }}!"\n', encoding="utf-8")
    polish = layout(tmp_path).strings("pl")
    polish_own = {"closing": "Pozdrawiamy serdecznie"}
    # salutation_contact is the project's to give: without it, persons are greeted as
    # the organization is (in Polish).
    polish_own["salutation_contact"] = strings_of("pl")["salutation"]
    assert polish.values == {**ENGLISH, **strings_of("pl"), **polish_own}
    assert polish.english == ()
    basque = layout(tmp_path).strings("eu")
    assert basque.lang == "eu" and basque.values["salutation"] == "Kaixo, {{ org.name }}!"
    # A person is greeted as the organization is, in Basque, not in English.
    assert basque.values["salutation_contact"] == "Kaixo, {{ org.name }}!"
    assert basque.english == tuple(
        k for k in ENGLISH if k not in ("salutation", "salutation_contact")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('closing = "Pozdrawiamy"\nclosing = "Serdecznie"\n', "pl.toml:2: not valid TOML"),
        ('closing = "Pozdrawiamy\n', "pl.toml:1: not valid TOML: Illegal character"),
        ('salutation = "Drodzy"\nclosing = 3\n', "pl.toml:2: closing must be text in quotes"),
        ('salutation = "Drodzy"\n\n[closing]\npl = "Z"\n', "pl.toml:3: closing must be text"),
    ],
)
def test_a_slip_in_a_strings_file_names_its_line(tmp_path: Path, text: str, expected: str) -> None:
    own = tmp_path / "templates" / "layout" / "strings"
    own.mkdir(parents=True)
    (own / "pl.toml").write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        layout(tmp_path).strings("pl")
    assert str(info.value).startswith(f"{own}/{expected}")


def test_the_projects_own_serbian_is_what_the_other_script_shows(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "layout" / "strings"
    own.mkdir(parents=True)
    (own / "sr-Latn.toml").write_text('closing = "Drugarski pozdrav,"\n', encoding="utf-8")
    frame = layout(tmp_path).strings("sr-Cyrl")
    assert frame.lang == "sr-Cyrl" and frame.values["closing"] == "Другарски поздрав,"
    assert frame.values["salutation"] == "Другови из организације {{ org.name }},"


# --- Direction in the rendered message ----------------------------------------------------


def test_every_language_with_strings_gets_its_text_direction(tmp_path: Path) -> None:
    """One statement in every language: each message's HTML says the direction, and
    its text part carries the language's own salutation and deadline sentence."""
    statement = tmp_path / "statement"
    statement.mkdir()
    (statement / "statement.toml").write_text(
        'title = "T"\nkind = "signon"\ndefault_language = "en"\ndeadline = 2026-12-15\n'
    )
    for lang in LANGUAGES:
        (statement / f"{lang}.md").write_text("---\nsubject: S\n---\nText.\n")
    settings = load_settings(
        cwd=tmp_path,
        env={"MAILER_SENDER_ADDRESS": "intl@party.example.org", "MAILER_SENDER_NAME": "ID"},
    )
    campaign = {"slug": "s", "title": "T", "kind": "signon", "statement_dir": str(statement)}
    factory = build_factory(settings, {**campaign, "deadline": None})
    for lang in LANGUAGES:
        org = Org(1, "Org", None, "GR", (lang,))
        raw = build_trial(factory, Recipient(org, 1, "a@org.example.org"), lang)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        html = message.get_body(("html",)).get_content()
        direction = "rtl" if lang in RTL else "ltr"
        assert is_rtl(lang) == (lang in RTL)
        assert f'<html lang="{lang}" dir="{direction}">' in html, lang
        text = message.get_body(("plain",)).get_content()
        assert DEADLINES[lang] in text, lang
