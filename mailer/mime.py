"""MIME for the messages mailer writes: header lines and the body's parts.

Every header value is cleaned of control characters and RFC 2047-encoded here
(:func:`header_line`, :func:`address_header`), so no data field can add a header;
each body part gets the cheapest transfer encoding that relays pass unchanged.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import mimetypes
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import lru_cache

from mailer.addresses import ascii_address

# Controls, line separators and the bidi overrides and isolates (which reverse what follows).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII, no < >


def clean_header_text(value: str) -> str:
    """One line of text: control characters (CR, LF, NUL…) become spaces, runs collapse."""
    return " ".join(_CONTROL.sub(" ", value).split())


def header_line(name: str, value: str) -> str:
    """``Name: value`` CRLF, folded below 78 columns; non-ASCII as RFC 2047 words."""
    value = clean_header_text(value)
    plain = value.isascii() and "=?" not in value and all(len(w) < 900 for w in value.split())
    header = Header(value, "us-ascii" if plain else "utf-8", header_name=name)
    return f"{name}: {header.encode(linesep=chr(13) + chr(10), maxlinelen=78)}\r\n"


def address_header(name: str, display: str, address: str) -> str:
    """``Name: "Display" <addr>`` CRLF with the display name quoted or RFC 2047-encoded."""
    address = ascii_address(address)
    display = clean_header_text(display)
    if not display:
        return f"{name}: {address}\r\n"
    if display.isascii() and "=?" not in display:
        line = f"{name}: {formataddr((display, address))}"
        if len(line) <= 78:
            return line + "\r\n"
    encoded = _encoded_display(name, display)
    last = encoded.rsplit("\r\n", 1)[-1]
    sep = " " if len(name) + len(last) + len(address) + 5 <= 78 else "\r\n "
    return f"{name}: {encoded}{sep}<{address}>\r\n"


@lru_cache(maxsize=4096)
def _encoded_display(name: str, display: str) -> str:
    """RFC 2047 words for a display name: the same sender name (Reply-To) and
    organization names recur on every message, and encoding them is costly."""
    return Header(display, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=78)


_RAW_TEXT = re.compile(r"<(?:style|script)\b", re.IGNORECASE)  # no character references there


def transfer_encode(text: str, *, html: bool = False) -> tuple[str, bytes]:
    """The cheapest encoding that every relay passes unchanged (DKIM stays valid).

    7bit for ASCII in short lines: nothing to encode, and the server reads fewer
    lines. HTML in a Latin script gets there by writing its few accented letters as
    character references (``&#269;``), which every HTML reader understands.
    Otherwise quoted-printable for mostly-ASCII text (readable raw), base64 for the rest.
    """
    text = text.replace("\r\n", "\n")
    data = text.encode("utf-8")
    wide = len(data) - len(text)  # extra bytes of non-ASCII characters
    if html and 0 < wide < len(data) // 20 and not _RAW_TEXT.search(text):
        data, wide = text.encode("ascii", "xmlcharrefreplace"), 0
    if not wide and _plain_lines(data):
        return "7bit", data.replace(b"\n", b"\r\n")
    data = data.replace(b"\n", b"\r\n")
    if wide < len(data) // 5:
        return "quoted-printable", binascii.b2a_qp(data, istext=True)
    return "base64", base64.encodebytes(data).replace(b"\n", b"\r\n")


def _plain_lines(data: bytes) -> bool:
    """Lines fit for 7bit as they are: no CR or NUL of their own, no trailing space
    or tab (relays may strip it, as in "-- "), at most 998 octets (RFC 5322)."""
    return (
        b"\r" not in data
        and b"\0" not in data
        and b" \n" not in data
        and b"\t\n" not in data
        and not data.endswith((b" ", b"\t"))
        and len(max(data.split(b"\n"), key=len)) <= 998
    )


def body_part(content_type: str, text: str) -> bytes:
    """One body part (its headers and encoded text) of a multipart message."""
    encoding, data = transfer_encode(text, html=content_type == "text/html")
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode("ascii") + data.rstrip(b"\r\n")


def multipart_message(
    head: list[str], parts: list[bytes], attachments: Sequence[bytes] = ()
) -> bytes:
    """The whole message: ``head`` (header lines, each ending in CRLF), then the same
    content in each of ``parts``, the plainest first (multipart/alternative, RFC 2046).
    With ``attachments`` (:func:`attachment_part`), a multipart/mixed holds that first
    and the files after it. One join, so each file's bytes are copied once per message.
    """
    chunks = ["".join(head).encode("ascii"), b"MIME-Version: 1.0\r\n"]
    mixed = _boundary() if attachments else b""
    if mixed:
        chunks += [_multipart_header("mixed", mixed), b"\r\n--" + mixed + b"\r\n"]
    alternative = _boundary()
    chunks.append(_multipart_header("alternative", alternative))
    for part in parts:
        chunks += [b"\r\n--" + alternative + b"\r\n", part]
    chunks.append(b"\r\n--" + alternative + b"--")
    for part in attachments:
        chunks += [b"\r\n--" + mixed + b"\r\n", part]
    if mixed:
        chunks.append(b"\r\n--" + mixed + b"--")
    chunks.append(b"\r\n")
    return b"".join(chunks)


def _boundary() -> bytes:
    return b"=_" + secrets.token_hex(12).encode()


def _multipart_header(subtype: str, boundary: bytes) -> bytes:
    return b'Content-Type: multipart/%s;\r\n boundary="%s"\r\n' % (subtype.encode(), boundary)


def attachment_part(name: str, data: bytes) -> bytes:
    """One file as a MIME part, built once per file and language, never per recipient.

    The type comes from the name (``mimetypes``, which also reads the system's
    table); the name is RFC 2231-encoded, with continuations for long ones, by the
    standard library, in Content-Disposition and in Content-Type's ``name`` (some
    programs read only that); the content is base64, and text in UTF-8 says so.
    """
    guessed, compressed = mimetypes.guess_type(name, strict=False)
    if not guessed or compressed or guessed.startswith(("message/", "multipart/")):
        guessed = "application/octet-stream"  # what cannot be sent as base64 of its own type
    maintype, subtype = guessed.split("/", 1)
    part = EmailMessage(policy=email.policy.SMTP)
    part.set_content(data, maintype, subtype, disposition="attachment", filename=name)
    part.set_param("name", name)
    if maintype == "text" and _is_utf8(data):
        part.set_param("charset", "utf-8")  # else readers guess (as for the file itself)
    del part["MIME-Version"]
    return part.as_bytes().rstrip(b"\r\n")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@lru_cache(maxsize=1)
def date_line(when: datetime) -> str:
    """The Date header, formatted once for all the messages built within a second."""
    return f"Date: {format_datetime(when)}\r\n"
