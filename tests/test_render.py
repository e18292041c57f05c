"""Rendering: golden messages in several languages and scripts, the parsed round
trip, header safety against any data, sandbox and template errors with file:line."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import os
import re
import shutil
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.config import load_settings
from mailer.errors import ConfigError, TemplateError
from mailer.models import Org, Recipient
from mailer.render import (
    _transfer_encode,
    address_header,
    build_factory,
    header_line,
    markdown_to_text,
    public_statement,
)

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
    assert "Radnička partija Severnog Brega" in text  # names are never transliterated
    assert "mailto" not in text and "intl@example.org" in text


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
    assert message["Subject"] == "Изјава за RPSB: потпишите до 15. март 2026."
    assert message["To"].addresses[0].display_name == SERBIAN.name
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


NAMES = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)
LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,30}", fullmatch=True)
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


def _clean(text: str) -> str:
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


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


def _same_name(parsed: str, original: str) -> bool:
    """CPython's address parser puts a space between adjacent encoded words of a
    display name (RFC 2047 6.2 says to drop it); email.policy.SMTP folds long names
    into the same words, so compare without spaces where that is the only difference."""
    return parsed == _clean(original) or parsed.replace(" ", "") == _clean(original).replace(
        " ", ""
    )


_FACTORY: list = []


def _hypothesis_factory(tmp_path_factory):
    if not _FACTORY:
        _FACTORY.append(build_factory(settings(tmp_path_factory.mktemp("h")), campaign()))
    return _FACTORY[0]


@given(value=NAMES)
def test_header_line_is_one_folded_ascii_header(value: str) -> None:
    line = header_line("Subject", value)
    assert line.isascii() and line.endswith("\r\n")
    assert all(part.startswith((" ", "\t")) for part in line[:-2].split("\r\n")[1:])
    message = email.message_from_string(line + "\r\n", policy=email.policy.default)
    assert message["Subject"] == _clean(value)


@given(display=NAMES, local=LOCAL)
def test_address_header_round_trips(display: str, local: str) -> None:
    line = address_header("To", display, f"{local}@example.org")
    assert line.isascii() and line.count("\r\n") == line.count("\r\n ") + 1
    parsed = email.message_from_string(line + "\r\n", policy=email.policy.default)["To"]
    assert _same_name(parsed.addresses[0].display_name, display)
    assert parsed.addresses[0].addr_spec == f"{local}@example.org"


@pytest.mark.parametrize("bad", ["a@b.org\r\nBcc: x@y.org", "a b@c.org", "<a@b.org>", "ab.org"])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        address_header("To", "Name", bad)


def test_idn_domain_is_punycoded() -> None:
    assert address_header("To", "", "a@bücher.example") == "To: a@xn--bcher-kva.example\r\n"


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


def test_reminder_without_its_own_file_prefixes_the_subject(tmp_path: Path) -> None:
    made = build_factory(settings(tmp_path), campaign(), wave=1)
    assert parse(build(made, SERBIAN))["Subject"].startswith("Подсетник: Изјава")
    assert parse(build(made, ENGLISH))["Subject"] == f"Reminder for {ENGLISH.name}"


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


def test_markdown_to_text_reads_well() -> None:
    text = markdown_to_text(
        "# Title\n\nSee [the site](https://x.org) and **this**.\n\n- one\n- two \\*x\\*\n"
    )
    assert text == "Title\n=====\n\nSee the site (https://x.org) and *this*.\n\n- one\n- two *x*\n"


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


TEXTS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300
)


def _decoded(encoding: str, data: bytes) -> str:
    raw = {"7bit": lambda d: d, "quoted-printable": binascii.a2b_qp, "base64": base64.b64decode}
    return raw[encoding](data).decode("utf-8").replace("\r\n", "\n")


@given(text=TEXTS, html=st.booleans())
def test_every_part_encoding_gives_back_the_text(text: str, html: bool) -> None:
    encoding, data = _transfer_encode(text, html=html)
    assert data.isascii() and all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")
    decoded = _decoded(encoding, data)
    if html:  # accented letters may come back as character references
        assert unescape(decoded) == unescape(text)
    else:
        assert decoded == text
    if encoding == "7bit":
        assert not any(line.endswith((b" ", b"\t")) for line in data.split(b"\r\n"))


def test_part_encodings_are_chosen_for_the_script() -> None:
    latin = "<p>Pozivamo organizaciju da se pridru\u017ei.</p>\n" * 20
    assert _transfer_encode(latin, html=True) == (
        "7bit",
        latin.replace("\u017e", "&#382;").replace("\n", "\r\n").encode(),
    )
    assert _transfer_encode(latin)[0] == "quoted-printable"  # plain text keeps its letters
    assert _transfer_encode("Plain ASCII.\n")[0] == "7bit"
    assert _transfer_encode("-- \nsignature\n")[0] == "quoted-printable"  # the space stays
    assert _transfer_encode("x" * 1200)[0] == "quoted-printable"  # no line over 998
    cyrillic = "<p>\u041f\u043e\u0437\u0438\u0432\u0430\u043c\u043e</p>\n" * 20
    assert _transfer_encode(cyrillic, html=True)[0] == "base64"
    style = "<style>p::before { content: '\u017e' }</style>" + latin
    assert _transfer_encode(style, html=True)[0] == "quoted-printable"
