"""MIME: header lines that no data can break or add to, and body parts whose
transfer encoding gives back exactly the text."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.mime import (
    address_header,
    attachment_part,
    header_line,
    multipart_message,
    transfer_encode,
)

NAMES = st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)
LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,30}", fullmatch=True)


def _clean(text: str) -> str:
    return " ".join(
        re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", text).split()
    )


def _same_name(parsed: str, original: str) -> bool:
    """CPython's address parser puts a space between adjacent encoded words of a
    display name (RFC 2047 6.2 says to drop it); email.policy.SMTP folds long names
    into the same words, so compare without spaces where that is the only difference."""
    return parsed == _clean(original) or parsed.replace(" ", "") == _clean(original).replace(
        " ", ""
    )


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


TEXTS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=300
)


def _decoded(encoding: str, data: bytes) -> str:
    raw = {"7bit": lambda d: d, "quoted-printable": binascii.a2b_qp, "base64": base64.b64decode}
    return raw[encoding](data).decode("utf-8").replace("\r\n", "\n")


@given(text=TEXTS, html=st.booleans())
def test_every_part_encoding_gives_back_the_text(text: str, html: bool) -> None:
    encoding, data = transfer_encode(text, html=html)
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
    assert transfer_encode(latin, html=True) == (
        "7bit",
        latin.replace("\u017e", "&#382;").replace("\n", "\r\n").encode(),
    )
    assert transfer_encode(latin)[0] == "quoted-printable"  # plain text keeps its letters
    assert transfer_encode("Plain ASCII.\n")[0] == "7bit"
    assert transfer_encode("-- \nsignature\n")[0] == "quoted-printable"  # the space stays
    assert transfer_encode("x" * 1200)[0] == "quoted-printable"  # no line over 998
    cyrillic = "<p>\u041f\u043e\u0437\u0438\u0432\u0430\u043c\u043e</p>\n" * 20
    assert transfer_encode(cyrillic, html=True)[0] == "base64"
    style = "<style>p::before { content: '\u017e' }</style>" + latin
    assert transfer_encode(style, html=True)[0] == "quoted-printable"


CYRILLIC = "Плакат за мир — протест у Београду, 1. мај 2026.pdf"
ARABIC = "بيان التضامن مع العمال المضربين.pdf"


def _with_attachments(*files: tuple[str, bytes]) -> email.message.EmailMessage:
    parts = [b'Content-Type: text/plain; charset="utf-8"\r\n\r\nHello']
    raw = multipart_message(
        ["Subject: files\r\n"], parts, [attachment_part(name, data) for name, data in files]
    )
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    return email.message_from_bytes(raw, policy=email.policy.default)


@pytest.mark.parametrize("name", [CYRILLIC, ARABIC, "poster.pdf", 'a "quoted" name.pdf'])
def test_attachment_names_survive_the_standard_parser(name: str) -> None:
    data = bytes(range(256)) * 40
    message = _with_attachments((name, data))
    assert message.get_content_type() == "multipart/mixed"
    first, attachment = message.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    assert attachment.get_filename() == name
    assert attachment.get_param("name") == name  # also where some programs look
    assert attachment.get_content_disposition() == "attachment"
    assert (attachment.get_content_type(), attachment.get_content()) == ("application/pdf", data)
    legacy = email.message_from_bytes(message.as_bytes())  # compat32, as older tools parse
    assert list(legacy.walk())[-1].get_filename() == name


def test_non_ascii_names_are_rfc_2231_encoded() -> None:
    head = attachment_part(CYRILLIC, b"x").split(b"\r\n\r\n")[0].decode("ascii")
    assert "filename*0*=utf-8''%D0%9F%D0%BB" in head and "=?" not in head


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("photo.JPG", "image/jpeg"),
        ("call.txt", "text/plain"),
        ("poster", "application/octet-stream"),
        ("archive.tar.gz", "application/octet-stream"),  # compressed: no type of its own
        ("forwarded.eml", "application/octet-stream"),  # message/* cannot be base64
    ],
)
def test_the_content_type_comes_from_the_name(name: str, content_type: str) -> None:
    part = email.message_from_bytes(attachment_part(name, b"data"), policy=email.policy.default)
    assert part.get_content_type() == content_type and part.get_content() in (b"data", "data")


@given(
    name=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=120).filter(
        lambda n: n.strip() == n != ""
    )
)
def test_any_printable_name_round_trips(name: str) -> None:
    [attachment] = list(_with_attachments((name, b"x")).iter_attachments())
    assert attachment.get_filename() == name
