"""Rendering: golden messages in several languages and scripts, the parsed round
trip, header safety against any data, sandbox and template errors with file:line."""

from __future__ import annotations

import email
import email.header
import email.policy
import os
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mailer.templates
from mailer.config import load_settings
from mailer.errors import ConfigError, MailerError, TemplateError
from mailer.models import Contact, Fields, Org, PublishedList, Recipient
from mailer.render import build_factory, public_statement
from tests.test_mime import LOCAL, NAMES, _clean, _same_name

GOLDEN = Path(__file__).parent / "golden"
STATEMENT = GOLDEN / "statement"
WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TOKEN = "k3jx9q2mwpza"
MSGID = f"<m.{TOKEN}.golden@party.example.org>"
SERBIAN = Org(2, "Radnička partija Severnog Brega", "RPSB", "RS", ("sr-Cyrl", "en"))
ARABIC = Org(3, "حزب العمال في الوادي", "HAW", "EG", ("ar", "fr"))
GREEK = Org(4, "Εργατικό Μέτωπο του Νησιού", "ΕΜΝ", "GR", ("el",))
ENGLISH = Org(1, "Harbour Dockers' Union", "HDU", "GB", ("en",))


def settings(tmp: Path, **extra: str):
    env = {
        "MAILER_SENDER_ADDRESS": "intl@party.example.org",
        "MAILER_SENDER_NAME": "International Department",
        **extra,
    }
    return load_settings(cwd=tmp, env=env)


def campaign(folder: Path = STATEMENT) -> dict:
    return {
        "slug": "golden",
        "title": "Golden statement",
        "kind": "signon",
        "statement_dir": str(folder),
        "deadline": None,
    }


@pytest.fixture
def factory(tmp_path: Path):
    return build_factory(settings(tmp_path), campaign())


def build(factory, org: Org, email_address: str = "intl@org.example.org", **kw) -> bytes:
    lang = kw.pop("lang", None) or factory.language_for(org)
    return factory.build(
        Recipient(org, 1, email_address), lang=lang, token=TOKEN, message_id=MSGID, date=WHEN
    )


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def decoded_to(raw: bytes) -> str:
    """The To: header decoded by RFC 2047's rule that the space between two encoded
    words is no text, which mail clients follow; the standard library's newer parser
    puts a space there inside a display name ("Северн ог")."""
    header = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    return str(email.header.make_header(email.header.decode_header(header)))


# --- golden files ---------------------------------------------------------------------------


def normalized(raw: bytes) -> str:
    text = raw.decode("ascii")
    boundary = re.search(r'boundary="([^"]+)"', text).group(1)
    return text.replace(boundary, "BOUNDARY")


@pytest.mark.parametrize(
    "case, org, wave",
    [("en", ENGLISH, 0), ("sr-Cyrl", SERBIAN, 0), ("ar", ARABIC, 0), ("reminder-en", ENGLISH, 1)],
)
def test_golden_messages(tmp_path: Path, case: str, org: Org, wave: int) -> None:
    made = build_factory(settings(tmp_path), campaign(), wave=wave)
    raw = build(made, org)
    message = parse(raw)
    outputs = {
        f"{case}.eml": normalized(raw),
        f"{case}.txt": message.get_body(("plain",)).get_content(),
        f"{case}.html": message.get_body(("html",)).get_content(),
    }
    for name, text in outputs.items():
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_bytes(text.encode("utf-8"))
        assert text == path.read_bytes().decode("utf-8"), f"{name} differs"


def test_serbian_cyrillic_is_transliterated_from_latin(factory) -> None:
    text = parse(build(factory, SERBIAN)).get_body(("plain",)).get_content()
    assert "Љубљана, Његош, Џеп, Ђурђевдан, чаша, шума, жито," in text
    assert "Радничка партија Северног Брега" in text  # its own Serbian name follows the script
    assert "mailto" not in text and "intl@example.org" in text


def test_only_an_organizations_own_serbian_name_changes_script(factory) -> None:
    """{{ org.name }} and the To: name in a Serbian e-mail follow lang.own_name, as the
    published list does."""
    greek = Org(5, "Communist Party of Greece", "KKE", "GR", ("el", "sr-Latn"))
    raw = build(factory, greek, lang="sr-Cyrl")
    text = parse(raw).get_body(("plain",)).get_content()
    assert "Communist Party of Greece" in text and "Цоммунист" not in text
    assert decoded_to(raw) == "Communist Party of Greece <intl@org.example.org>"
    own = Org(6, "Savez", "S", "RS", ("sr-Latn",), names={"sr-Cyrl": "Савез (С)"})
    raw = build(factory, own, lang="sr-Cyrl")
    assert (
        "Позивамо *Савез (С)* (Србија) да потпише." in parse(raw).get_body(("plain",)).get_content()
    )
    assert decoded_to(raw) == "Савез (С) <intl@org.example.org>"


def test_rtl_languages_get_dir_and_right_alignment(factory) -> None:
    html = parse(build(factory, ARABIC)).get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    assert "text-align: right" in html
    html_en = parse(build(factory, ENGLISH)).get_body(("html",)).get_content()
    assert 'dir="ltr"' in html_en and "text-align: right" not in html_en


def test_fallback_to_default_language(factory) -> None:
    assert factory.language_for(GREEK) == "en"
    assert factory.language_for(ARABIC) == "ar"
    assert factory.language_for(SERBIAN) == "sr-Cyrl"


# --- round trip and headers -----------------------------------------------------------------


def test_round_trip_through_the_email_parser(factory) -> None:
    raw = build(factory, SERBIAN, "medjunarodno@rpsb.example.org")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n"))
    message = parse(raw)
    assert message["Subject"] == "Изјава за RPSB: потпишите до 15. марта 2026."
    # its own Serbian name, in the script of the message, as in the text
    assert decoded_to(raw) == "Радничка партија Северног Брега <medjunarodno@rpsb.example.org>"
    assert message["To"].addresses[0].addr_spec == "medjunarodno@rpsb.example.org"
    assert message["From"].addresses[0].display_name == "International Department"
    assert message["Reply-To"].addresses[0].addr_spec == f"intl+{TOKEN}@party.example.org"
    assert message["List-Unsubscribe"] == f"<mailto:intl+unsub-{TOKEN}@party.example.org>"
    assert message["Message-ID"] == MSGID
    assert message["Content-Language"] == "sr-Cyrl"
    assert message["Date"].datetime == WHEN
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    assert not message.defects and not any(p.defects for p in message.iter_parts())
    assert raw.split(b"\r\n\r\n", 1)[1].startswith(b"--=_")


def test_one_click_unsubscribe_when_a_url_is_configured(tmp_path: Path) -> None:
    made = build_factory(
        settings(tmp_path, MAILER_SENDER_UNSUBSCRIBE_URL="https://party.example.org/u"), campaign()
    )
    message = parse(build(made, ENGLISH))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(f"<https://party.example.org/u?token={TOKEN}>")


def test_no_reply_to_token_when_disabled(tmp_path: Path) -> None:
    made = build_factory(settings(tmp_path, MAILER_SENDER_REPLY_TOKEN="false"), campaign())
    assert parse(build(made, ENGLISH))["Reply-To"] is None


def test_each_message_has_its_own_boundary(factory) -> None:
    first, second = build(factory, ENGLISH), build(factory, ENGLISH)
    assert normalized(first) == normalized(second) and first != second


def test_sender_address_is_required_to_build(tmp_path: Path) -> None:
    made = build_factory(load_settings(cwd=tmp_path, env={}), campaign())
    with pytest.raises(ConfigError, match="sender"):
        made.sender  # noqa: B018
    with pytest.raises(ConfigError):
        build(made, ENGLISH)


EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-unsubscribe",
    "content-language",
    "mime-version",
    "content-type",
}


@given(name=NAMES, short=NAMES, local=LOCAL)
def test_no_data_can_add_a_header_or_break_a_line(tmp_path_factory, name, short, local) -> None:
    made = _hypothesis_factory(tmp_path_factory)
    org = Org(9, name or "x", short, "GR", ("en",))
    raw = build(made, org, f"{local}@example.org")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    message = parse(raw)
    assert not message.defects
    assert {k.lower() for k in message} == EXPECTED_HEADERS
    assert len(message.get_all("To")) == 1
    assert message["To"].addresses[0].addr_spec == f"{local}@example.org"
    assert _same_name(message["To"].addresses[0].display_name, name or "x")
    assert message["Subject"] == _clean(f"Statement for {short}: sign by March 15, 2026")


_FACTORY: list = []


def _hypothesis_factory(tmp_path_factory):
    if not _FACTORY:
        _FACTORY.append(build_factory(settings(tmp_path_factory.mktemp("h")), campaign()))
    return _FACTORY[0]


# --- template errors and the sandbox --------------------------------------------------------


def _statement(tmp_path: Path, body: str, subject: str = "Hello") -> Path:
    folder = tmp_path / "st"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "statement.toml").write_text('title = "T"\ndefault_language = "en"\n')
    (folder / "en.md").write_text(f"---\nsubject: {subject}\n---\n{body}", encoding="utf-8")
    return folder


def _error(tmp_path: Path, body: str, subject: str = "Hello") -> str:
    folder = _statement(tmp_path, body, subject)
    with pytest.raises(TemplateError) as info:
        made = build_factory(settings(tmp_path), campaign(folder))
        build(made, ENGLISH)
    return str(info.value)


def test_sandbox_escape_attempts_fail_clearly(tmp_path: Path) -> None:
    for attempt in [
        "{{ ''.__class__.__mro__ }}",
        "{{ org.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
    ]:
        message = _error(tmp_path, f"Line one\n{attempt}\n")
        assert "en.md:5" in message, message
        assert "unsafe" in message or "undefined" in message or "not allowed" in message


def test_undefined_variable_names_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "First\n\nSecond {{ org.nam }}\n")
    assert re.search(r"en\.md:6: .*nam", message), message


def test_undefined_variable_in_a_branch_is_found_per_recipient(tmp_path: Path) -> None:
    body = "Hi\n{% if org.country == 'GB' %}{{ missing }}{% endif %}\n"
    assert "en.md:5" in _error(tmp_path, body)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    assert "en.md:6" in _error(tmp_path, "a\n\nb {% if %}\n")


def test_undefined_in_subject_names_the_subject(tmp_path: Path) -> None:
    assert "(subject)" in _error(tmp_path, "Body\n", subject="'{{ nothing }}'")


def test_a_reminder_subject_is_the_prefix_and_the_first_subject(tmp_path: Path) -> None:
    """With or without a reminder file (English has one, Serbian not): exactly the
    language's reminder_prefix and the first message's subject, so threads hold."""
    first = build_factory(settings(tmp_path), campaign())
    made = build_factory(settings(tmp_path), campaign(), wave=1)
    for org, prefix in ((SERBIAN, "Подсетник: "), (ENGLISH, "Reminder: "), (ARABIC, "تذكير: ")):
        original = parse(build(first, org))["Subject"]
        assert parse(build(made, org))["Subject"] == prefix + original
    text = parse(build(made, ENGLISH)).get_body(("plain",)).get_content()
    assert "We have not heard from Harbour Dockers' Union yet." in text  # the reminder's body


def test_project_layout_overrides_the_packaged_one(tmp_path: Path) -> None:
    layout = tmp_path / "templates" / "layout"
    layout.mkdir(parents=True)
    (layout / "email.txt.j2").write_text("CUSTOM {{ strings.salutation }}\n{{ body }}\n")
    made = build_factory(settings(tmp_path), campaign())
    text = parse(build(made, ENGLISH)).get_body(("plain",)).get_content()
    assert text.startswith("CUSTOM Dear comrades of Harbour Dockers' Union,")
    assert "<html" in parse(build(made, ENGLISH)).get_body(("html",)).get_content()


def test_an_error_in_a_layout_names_the_layout_file_and_line(tmp_path: Path) -> None:
    layout = tmp_path / "templates" / "layout"
    layout.mkdir(parents=True)
    (layout / "email.txt.j2").write_text("{{ body }}\n\n{{ org.nope }}\n")
    made = build_factory(settings(tmp_path), campaign())
    with pytest.raises(TemplateError, match=r"layout/email\.txt\.j2:3: .*'nope'"):
        build(made, ENGLISH)


def test_html_escapes_data_but_keeps_markdown(factory) -> None:
    org = Org(5, "<b>Evil & Co</b>", "E&C", "FR", ("en",))
    html = parse(build(factory, org)).get_body(("html",)).get_content()
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in html and "<b>Evil" not in html
    assert "<strong" in html and 'href="https://example.org/peace?a=1&amp;b=2"' in html


def test_an_unreadable_layout_or_strings_file_is_named(tmp_path: Path) -> None:
    layout = tmp_path / "templates" / "layout"
    (layout / "strings").mkdir(parents=True)
    (layout / "strings" / "en.toml").write_bytes(b'salutation = "\xff"\n')
    made = build_factory(settings(tmp_path), campaign())  # languages compile on first use
    with pytest.raises(TemplateError, match=r"strings/en\.toml:1: not UTF-8 text"):
        build(made, Org(id=1, name="X", languages=("en",)))
    (layout / "strings" / "en.toml").unlink()
    (layout / "email.html.j2").write_bytes(b"<html>\xff</html>")
    with pytest.raises(TemplateError, match=r"email\.html\.j2:1: not UTF-8 text"):
        build_factory(settings(tmp_path), campaign())


def test_public_statement_leaves_out_what_addresses_one_recipient(tmp_path: Path) -> None:
    md = public_statement(settings(tmp_path), campaign(), "en", fmt="md")
    assert md.startswith("## Our demands") and "We invite" not in md
    assert "{" not in md and "Serbia" not in md  # {% if org… %} blocks are per recipient
    text = public_statement(
        settings(tmp_path), campaign(), "en-GB", fmt="txt"
    )  # negotiated like an e-mail
    assert text.startswith("Our demands\n-----------") and "(https://example.org/peace" in text
    html = public_statement(
        settings(tmp_path), campaign(), "sr", fmt="html"
    )  # Serbian: the script it has
    assert html.startswith("<h2>Naši zahtevi</h2>") and "Pozivamo" not in html


def test_public_statement_leaves_out_whatever_depends_on_a_recipient(tmp_path: Path) -> None:
    """A block over several paragraphs, a value set aside for later, a filtered one."""
    body = (
        "We stand together.\n\n"
        "{% if org.country == 'GB' %}\nDear British comrades,\n\nwe count on you.\n{% endif %}\n\n"
        "{% set whom = org.name %}\nFor peace.\n\nWith {{ whom }} we act.\n\n"
        "SHOUT {{ org.short_name | upper }}\n\n"
        "{% for word in org.name %}{{ word }}{% endfor %}Sign by {{ campaign.deadline }}.\n"
    )
    folder = _statement(tmp_path, body)
    when = {**campaign(folder), "deadline": "2026-12-10"}
    assert public_statement(settings(tmp_path), when, "en", fmt="md") == (
        "We stand together.\n\nFor peace.\n\nSign by December 10, 2026."
    )


def test_public_statement_fills_in_the_campaign_and_the_sender(tmp_path: Path) -> None:
    folder = _statement(tmp_path, "Sign by {{ campaign.deadline }} ({{ sender.name }}).\n")
    when = {**campaign(folder), "deadline": "2026-12-10"}
    assert public_statement(settings(tmp_path), when, "en", fmt="md") == (
        "Sign by December 10, 2026 (International Department)."
    )
    unnamed = settings(tmp_path, MAILER_SENDER_NAME="")
    assert public_statement(unnamed, when, "en", fmt="md").endswith("(intl@party.example.org).")


def test_public_statement_errors_name_the_file_line(tmp_path: Path) -> None:
    folder = _statement(tmp_path, "Dear {{ org.name }},\n\nSign {% if %}\n")
    with pytest.raises(TemplateError, match=r"en\.md:6"):
        public_statement(settings(tmp_path), campaign(folder), "en", fmt="md")
    # A misspelt name is an error, as in the e-mails, not a silent gap in a public text.
    folder = _statement(tmp_path, "Sign by {{ campaign.dedline }}.\n")
    with pytest.raises(TemplateError, match=r"en\.md:4: .*dedline") as typo:
        public_statement(settings(tmp_path), campaign(folder), "en", fmt="md")
    assert typo.value.hint and "campaign.deadline" in typo.value.hint
    folder = _statement(tmp_path, "Signed: {{ sender.name }}\n")
    unset = settings(tmp_path, MAILER_SENDER_ADDRESS="", MAILER_SENDER_NAME="")
    with pytest.raises(TemplateError, match=r"en\.md:4: .*\[sender\] address is not set"):
        public_statement(unset, campaign(folder), "en", fmt="md")


# --- filling frames and encoding parts --------------------------------------------------------

PRINTED = (
    "Dear {{ org.name }} ({{ org.short_name }}, {{ org.country_name }}),\n\n"
    "We write to {{ recipient.email }} & {{ org.local_name }}. Stop: {{ unsubscribe }}\n"
)
_PRINTED_FACTORY: list = []


def _printed_factory(tmp_path_factory):
    if not _PRINTED_FACTORY:
        tmp = tmp_path_factory.mktemp("printed")
        folder = _statement(tmp, PRINTED, subject="For {{ org.name }}")
        _PRINTED_FACTORY.append(build_factory(settings(tmp), campaign(folder)))
    return _PRINTED_FACTORY[0]


@given(name=NAMES, short=st.one_of(st.none(), NAMES), country=st.sampled_from(["GR", "EG", None]))
def test_a_filled_frame_is_exactly_what_the_template_gives(
    tmp_path_factory, name, short, country
) -> None:
    made = _printed_factory(tmp_path_factory)
    org = Org(9, name, short, country, ("en",), names={"en": name[::-1]})
    context = made.context(Recipient(org, 1, "a&b@example.org"), "en", TOKEN)
    plan = made._plan("en")
    for frame in (plan.html, plan.plain):
        assert frame.parts is not None  # the quick way is taken…
        assert frame.render(context) == frame.template.render(context)  # …to the same text


def test_a_frame_that_tests_recipient_values_runs_the_template(tmp_path: Path) -> None:
    body = "Hi\n{% if org.country == 'GB' %}Dear neighbours,{% endif %}\n{{ org.name|upper }}\n"
    made = build_factory(settings(tmp_path), campaign(_statement(tmp_path, body)))
    assert made._plan("en").plain.parts is None
    text = parse(build(made, ENGLISH)).get_body(("plain",)).get_content()
    assert "Dear neighbours," in text and "HARBOUR DOCKERS' UNION" in text
    assert "Dear neighbours," not in parse(build(made, GREEK, lang="en")).as_string()


def test_the_text_part_says_what_the_html_part_says(tmp_path: Path) -> None:
    """Reference links, entities, nested lists and code spans: one parse gives both."""
    body = (
        "We invite **{{ org.name }}** to sign the [appeal][a] &amp; to tell us.\n\n"
        "1. Ceasefire\n   - an exchange of prisoners\n\n"
        "Reply with `WE SIGN`.\n\n"
        "[a]: https://dockers.example.org/appeal?lang=en&amp;v=2\n"
    )
    made = build_factory(settings(tmp_path), campaign(_statement(tmp_path, body)))
    message = parse(build(made, ENGLISH))
    html = re.sub(r' style="[^"]*"', "", message.get_body(("html",)).get_content())
    html = html.replace("\r\n", "\n")
    assert 'href="https://dockers.example.org/appeal?lang=en&amp;v=2">appeal</a> &amp; to' in html
    assert "<li>Ceasefire\n<ul>\n<li>an exchange of prisoners</li>" in html
    assert "<code>WE SIGN</code>" in html
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == (
        "Dear comrades of Harbour Dockers' Union,\n"
        "\n"
        "We invite *Harbour Dockers' Union* to sign the appeal\n"
        "(https://dockers.example.org/appeal?lang=en&v=2) & to tell us.\n"
        "\n"
        "1. Ceasefire\n"
        "   - an exchange of prisoners\n"
        "\n"
        "Reply with `WE SIGN`.\n"
        "\n"
        "To add your organization's signature, reply to this email with: We sign\n"
        "Sign by e-mail: intl+sign-k3jx9q2mwpza@party.example.org\n"
        "\n"
        "With comradely greetings,\n"
        "International Department\n"
        "\n"
        "-- \n"
        "This message was sent by International Department <intl@party.example.org>"
        " to intl@org.example.org.\n"
        'To receive no more of these messages, reply with the word "unsubscribe"'
        " or write to intl+unsub-k3jx9q2mwpza@party.example.org."
    )


# --- the person at the address, and custom fields ---------------------------------------------

ANA = Contact("Ana Petrović", "international secretary", ("sr-Latn",), "f")


def _greeting(made, org: Org, address_id: int = 1) -> tuple[str, str, str]:
    """The language, and the first line of the text and of the HTML card."""
    recipient = Recipient(org, address_id, "intl@org.example.org")
    lang = made.language_for(recipient)
    message = parse(made.build(recipient, lang=lang, token=TOKEN, message_id=MSGID, date=WHEN))
    html = message.get_body(("html",)).get_content()
    first_html = re.search(r'<div class="card"[^>]*>\s*<p[^>]*>(.*?)</p>', html, re.S)
    return lang, message.get_body(("plain",)).get_content().splitlines()[0], first_html.group(1)


def test_the_salutation_and_the_language_follow_the_contact(factory) -> None:
    org = replace(ENGLISH, contacts={1: ANA})
    assert _greeting(factory, org) == ("sr-Latn", "Drugarice Ana,", "Drugarice Ana,")
    # Another address of the same organization: no one known there.
    assert _greeting(factory, org, 2)[:2] == ("en", "Dear comrades of Harbour Dockers' Union,")
    marko = Contact("Marko Marković", languages=("sr-Cyrl",), gender="m")
    assert _greeting(factory, replace(SERBIAN, contacts={1: marko}))[1] == "Друже Марко,"
    john = Contact("John O'Brien & Sons", "press")  # in English no form is needed
    assert _greeting(factory, replace(GREEK, contacts={1: john}))[1:] == (
        "Dear comrade John O'Brien & Sons,",
        "Dear comrade John O&#39;Brien &amp; Sons,",
    )


def test_a_form_the_language_has_no_words_for_greets_the_organization(factory) -> None:
    unknown = Contact("Ana Petrović", languages=("sr-Latn",))
    assert _greeting(factory, replace(ENGLISH, contacts={1: unknown}))[1] == (
        "Drugovi iz organizacije Harbour Dockers' Union,"
    )


def test_a_strings_file_without_the_contact_salutation_keeps_its_own_language(
    tmp_path: Path,
) -> None:
    strings = tmp_path / "templates" / "layout" / "strings"
    strings.mkdir(parents=True)
    packaged = Path(mailer.templates.packaged_layout()) / "strings"
    older = (packaged / "sr-Latn.toml").read_text(encoding="utf-8")
    older = "\n".join(line for line in older.split("\n") if "salutation_contact" not in line)
    (strings / "sr-Latn.toml").write_text(older, encoding="utf-8")
    (strings / "en.toml").write_text('closing = "Yours,"\n', encoding="utf-8")  # an old copy
    made = build_factory(settings(tmp_path), campaign())
    org = replace(ENGLISH, contacts={1: ANA})
    assert _greeting(made, org)[1] == "Drugovi iz organizacije Harbour Dockers' Union,"
    john = Contact("John Smith")  # English keys the project's file lacks come from ours
    assert _greeting(made, replace(ENGLISH, contacts={1: john}))[1] == "Dear comrade John Smith,"


def test_statements_use_the_contact_and_custom_fields(tmp_path: Path) -> None:
    body = (
        "{% if contact %}For {{ contact.first_name }} ({{ contact.role }}).{% endif %}\n\n"
        "See {{ org.fields.website }}, call {{ org.fields.phone }}.\n"
    )
    made = build_factory(settings(tmp_path), campaign(_statement(tmp_path, body)))
    fields = Fields(website="https://hdu.example.org", phone="")
    org = replace(ENGLISH, fields=fields, contacts={1: Contact("John Smith", "press")})
    text = parse(build(made, org)).get_body(("plain",)).get_content()
    assert "For John (press).\r\nSee https://hdu.example.org, call .\r\n" in text
    text = parse(build(made, replace(org, contacts={}))).get_body(("plain",)).get_content()
    assert "For John" not in text and "See https://hdu.example.org" in text


def test_a_custom_field_no_organization_has_is_named_with_file_and_line(tmp_path: Path) -> None:
    folder = _statement(tmp_path, "Hi\n\nVisit {{ org.fields.webiste }}\n")
    made = build_factory(settings(tmp_path), campaign(folder))
    org = replace(ENGLISH, fields=Fields(website="https://hdu.example.org", phone=""))
    with pytest.raises(TemplateError) as info:
        build(made, org)
    assert str(info.value) == (
        f"{folder / 'en.md'}:6: org.fields has no column 'webiste'"
        " (the custom fields are: website, phone)"
    )


# --- the list inside a message ----------------------------------------------------------------

LISTED = PublishedList(
    "peace",
    text={lang: f"Signing organizations ({lang})\n\n1. A & B\n2. C" for lang in ("en",)},
    html={
        "en": '<section lang="en">\n<h2>Signing organizations</h2>\n<ol>\n  <li>A &amp; B</li>\n'
        "  <li>C</li>\n</ol>\n</section>"
    },
    signed=frozenset({ENGLISH.id}),
)
THANKS = (
    "{% if signed %}\n\nThank you, {{ org.name }}.\n\n{% else %}\n\nFor your information.\n\n"
    "{% endif %}\n\n{{ signatories }}\n\nShare it.\n"
)


def _thanks(tmp_path: Path, toml: str = "", published: PublishedList | None = LISTED):
    folder = _statement(tmp_path, THANKS)
    (folder / "statement.toml").write_text(
        'title = "T"\ndefault_language = "en"\nask = false\n' + toml
    )
    return build_factory(settings(tmp_path), campaign(folder), lists=lambda st: published)


def test_signatories_print_the_list_as_text_and_as_html(tmp_path: Path) -> None:
    made = _thanks(tmp_path)
    message = parse(build(made, ENGLISH))
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith(
        "Dear comrades of Harbour Dockers' Union,\n\nThank you, Harbour Dockers' Union.\n\n"
        f"{LISTED.text['en']}\n\nShare it.\n\nWith comradely greetings,"
    )  # and no line asking to sign: ask = false
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert f"Harbour Dockers&#39; Union.</p>\n{LISTED.html['en']}\n<p" in re.sub(
        r' style="[^"]*"', "", html
    )
    assert "action" not in html.split("<body")[1] and "mailto:" not in html
    other = parse(build(made, GREEK, lang="en")).get_body(("plain",)).get_content()
    assert "For your information." in other and "Thank you" not in other


def test_signatories_without_list_from_is_an_error_saying_so(tmp_path: Path) -> None:
    made = _thanks(tmp_path, published=None)
    with pytest.raises(TemplateError) as info:
        build(made, ENGLISH)
    assert str(info.value).endswith(
        'en.md:4: signed needs list_from = "CAMPAIGN" in statement.toml:'
        " the campaign whose list it is"
    )


def test_the_public_statement_leaves_the_list_and_the_thanks_out(tmp_path: Path) -> None:
    """The list follows the public statement on its page; a recipient test is never true."""
    folder = _thanks(tmp_path).statement.folder
    public = public_statement(settings(tmp_path), campaign(folder), "en", fmt="md")
    assert public == "For your information.\n\nShare it."


# --- attachments, threads, test copies ------------------------------------------------------


def _with_files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    shutil.copytree(STATEMENT, folder)
    toml = folder / "statement.toml"
    toml.write_text(toml.read_text() + 'attachments = ["poster.pdf", "بيان.txt"]\n')
    (folder / "poster.pdf").write_bytes(b"%PDF-1.7 english poster")
    (folder / "poster.sr-Latn.pdf").write_bytes(b"%PDF-1.7 plakat")
    (folder / "بيان.txt").write_text("بيان التضامن\n", encoding="utf-8")
    return folder


def test_attachments_follow_the_text_in_multipart_mixed(tmp_path: Path) -> None:
    made = build_factory(settings(tmp_path), campaign(_with_files(tmp_path)))
    for org, poster, dear in (
        (ENGLISH, b"%PDF-1.7 english poster", "Dear comrades"),
        (SERBIAN, b"%PDF-1.7 plakat", "Другови"),
    ):
        message = parse(build(made, org))
        assert message.get_content_type() == "multipart/mixed"
        body, *files = message.iter_parts()
        assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
        assert [(f.get_filename(), f.get_content_type()) for f in files] == [
            ("poster.pdf", "application/pdf"),  # Serbian's own file, under the listed name
            ("بيان.txt", "text/plain"),
        ]
        assert files[0].get_content() == poster
        assert files[1].get_content() == "بيان التضامن\n"
        assert message.get_body(("plain",)).get_content().startswith(dear)


def test_attachments_are_read_and_encoded_once_not_per_recipient(tmp_path: Path) -> None:
    folder = _with_files(tmp_path)
    made = build_factory(settings(tmp_path), campaign(folder))
    first = [f.get_content() for f in parse(build(made, ENGLISH)).iter_attachments()]
    for name in ("poster.pdf", "poster.sr-Latn.pdf", "بيان.txt"):
        (folder / name).unlink()  # gone: only what was encoded for the language is used
    again = parse(build(made, GREEK, "epafi@emn.example.org"))  # English too, the default
    assert [f.get_content() for f in again.iter_attachments()] == first
    with pytest.raises(TemplateError, match=r"poster\.sr-Latn\.pdf: attachment file not found"):
        build(made, SERBIAN)  # a language compiled after the files went


def test_a_missing_attachment_names_its_path_and_the_list(tmp_path: Path) -> None:
    folder = _with_files(tmp_path)
    (folder / "poster.pdf").unlink()
    made = build_factory(settings(tmp_path), campaign(folder))
    with pytest.raises(TemplateError) as info:
        build(made, ENGLISH)
    assert str(info.value) == (
        f"{folder / 'poster.pdf'}: attachment file not found"
        f" (listed under attachments in {folder / 'statement.toml'})"
    )
    assert parse(build(made, SERBIAN))["Subject"]  # Serbian has its own poster


def test_a_reminder_answers_the_first_message(tmp_path: Path) -> None:
    made = build_factory(settings(tmp_path), campaign(), wave=1)
    first = "<m.abcdefghijkl.golden@party.example.org>"
    raw = made.build(
        Recipient(ENGLISH, 1, "intl@org.example.org"),
        lang="en",
        token=TOKEN,
        message_id=MSGID,
        in_reply_to=first,
    )
    message = parse(raw)
    assert (message["In-Reply-To"], message["References"], message["Message-ID"]) == (
        first,
        first,
        MSGID,
    )
    with pytest.raises(MailerError, match="is not of the form"):
        made.build(
            Recipient(ENGLISH, 1, "a@b.org"),
            lang="en",
            token=TOKEN,
            message_id=MSGID,
            in_reply_to="<x>\r\nBcc: all@example.org",
        )


@pytest.mark.parametrize("wave", [0, 1])
def test_a_test_copy_subject_starts_with_test_before_any_reminder_prefix(
    tmp_path: Path, wave: int
) -> None:
    made = build_factory(settings(tmp_path), campaign(), wave=wave)
    for org in (ENGLISH, SERBIAN):
        normal = parse(build(made, org))["Subject"]
        lang = made.language_for(org)
        raw = made.build(
            Recipient(org, 0, "me@party.example.org"),
            lang=lang,
            token=TOKEN,
            message_id=MSGID,
            test=True,
        )
        assert parse(raw)["Subject"] == "[TEST] " + normal
    assert normal.startswith("Подсетник: " if wave else "Изјава")
