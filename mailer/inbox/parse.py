"""Turn the raw bytes of one incoming message into a ParsedMessage.

Mail from outsiders is hostile input: the stdlib parser raises on some of it,
loses bad base64 silently and is quadratic on long parameter lists. Here every
error is contained per message, sizes and nesting are bounded, parameter lists
are capped before the stdlib sees them, and unknown charsets fall back.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.utils
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from html.parser import HTMLParser
from itertools import islice

from mailer.addresses import email_key
from mailer.inbox.quotes import strip_reply

MAX_HEADER_CHARS = 8_000  # of one decoded header value
MAX_REFERENCES_CHARS = 64_000
MAX_PARAMS = 64  # Content-Type / Content-Disposition parameters looked at
MAX_PARTS = 500
MAX_DEPTH = 30
MAX_TEXT_CHARS = 1_000_000
MAX_HTML_CHARS = 2_000_000
MAX_TOKEN_TEXT = 256_000
MAX_HEADERS = 300

RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")

# Charsets seen in real mail that Python does not know under that name.
CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-gbk": "gbk",
    "gb2312": "gb18030",
    "x-sjis": "shift_jis",
    "unicode-1-1-utf-7": "utf-7",
    "x-user-defined": "cp1252",
    "windows-874": "cp874",
    "ansi_x3.4-1968": "ascii",
    "x-mac-roman": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
}

_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_ADDR_SPLIT = re.compile(r"[\s,;<>()\"'\[\]]+")
_ADDRESS = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.\-\[\]:_]{1,255}")


@dataclass
class Attachment:
    filename: str | None  # as sent (unsanitised; the ingest makes it safe)
    content_type: str
    data: bytes


@dataclass
class ParsedMessage:
    message_id: str | None
    from_addr: str | None
    from_name: str | None
    recipients: list[str]
    subject: str
    date: datetime | None
    in_reply_to: list[str]
    references: list[str]
    headers: dict[str, str]
    text: str
    new_text: str
    attachments: list[Attachment]
    raw_text_for_tokens: str
    error: str | None = None
    # Fields of message/delivery-status parts: the per-message block first, then one per recipient.
    delivery_status: list[dict[str, str]] = field(default_factory=list)
    # The stdlib tree, for detectors (flufl.bounce) that need it; None if parsing failed.
    mime: Message | None = field(default=None, repr=False, compare=False)
    # Every Authentication-Results value, topmost (added last, by the nearest server) first.
    auth_results: list[str] = field(default_factory=list)
    from_count: int = 1  # From header fields: more than one makes the sender unprovable


class _BoundedMessage(Message):
    """A compat32 Message whose parameter parsing is linear.

    The stdlib re-slices the header once per ';', which is quadratic: a
    Content-Type with 80,000 semicolons takes minutes. The feed parser asks
    for the boundary while parsing, so the cap must live in the class.
    """

    def _get_params_preserve(self, failobj, header):  # noqa: ANN001, ANN202 (stdlib signature)
        value = self.get(header)
        if value is None:
            return failobj
        pieces = str(value)[:MAX_HEADER_CHARS].split(";", MAX_PARAMS)[:MAX_PARAMS]
        params = []
        for piece in pieces:
            name, eq, val = piece.partition("=")
            params.append((name.strip().lower() if eq else name.strip(), val.strip()))
        try:
            return email.utils.decode_params(params)
        except Exception:  # noqa: BLE001 (malformed RFC 2231 parameters: keep them raw)
            return params


def parse_message(raw: bytes, *, max_bytes: int = 25_000_000) -> ParsedMessage:
    """Parse ``raw``; never raises. Problems are reported in ``error``."""
    notes: list[str] = []
    if len(raw) > max_bytes:
        notes.append(f"message of {len(raw)} bytes truncated to {max_bytes} for parsing")
        raw = raw[:max_bytes]
    raw = raw.lstrip(b" \t\r\n")  # some servers put blank lines before the headers
    try:
        return _parse(raw, notes)
    except Exception as exc:  # noqa: BLE001 (the contract: never raise on outsiders' mail)
        notes.append(f"{type(exc).__name__}: {exc}"[:300])
        return _headers_only(raw, notes)


def _parse(raw: bytes, notes: list[str]) -> ParsedMessage:
    try:
        msg = message_from_bytes(raw, _class=_BoundedMessage, policy=compat32)
    except RecursionError:
        notes.append("MIME structure nested too deeply; only the headers were read")
        return _headers_only(raw, notes)
    if not msg.keys():  # a binary or text file that is not mail: nothing to classify
        notes.append("no mail headers: this is not an e-mail message")
        return _headers_only(raw, notes)
    walker = _Walker(notes)
    walker.walk(msg)
    parsed = _from_headers(msg, notes)
    parsed.mime = msg
    parsed.text = walker.body_text()
    parsed.new_text = strip_reply(parsed.text)
    parsed.attachments = walker.attachments
    parsed.delivery_status = walker.delivery_status
    parsed.raw_text_for_tokens = walker.token_text()
    parsed.error = "; ".join(notes) or None
    return parsed


def _headers_only(raw: bytes, notes: list[str]) -> ParsedMessage:
    """Best effort when the MIME tree cannot be built: headers and raw text."""
    head, _, body = (
        raw.partition(b"\n\n") if b"\r\n\r\n" not in raw[:200_000] else raw.partition(b"\r\n\r\n")
    )
    try:
        msg = message_from_bytes(head + b"\n\n", _class=_BoundedMessage, policy=compat32)
        parsed = _from_headers(msg, notes)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"headers unreadable: {type(exc).__name__}")
        parsed = _from_headers(Message(), notes)
    text = decode_bytes(body[:MAX_TEXT_CHARS], None)
    parsed.text = text
    parsed.new_text = strip_reply(text)
    parsed.raw_text_for_tokens = decode_bytes(raw[:MAX_TOKEN_TEXT], None)
    parsed.error = "; ".join(notes) or "unparsable"
    return parsed


# --- headers -------------------------------------------------------------------------------------


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else Windows-1252; never raises."""
    codec = _codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                pass
    if codec:
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, UnicodeError):
            pass
    return data.decode("cp1252", errors="replace")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()[:40]
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _unsurrogate(value: str) -> str:
    """Raw 8-bit header bytes come back as surrogates: decode them as UTF-8/Windows-1252."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def decode_header_value(value: object, limit: int = MAX_HEADER_CHARS) -> str:
    """An RFC 2047 header to text, tolerant of unknown charsets and bad encoded words."""
    text = _unsurrogate(str(value)[:limit])
    if "=?" not in text:
        return " ".join(text.split())
    try:
        parts = decode_header(text)
    except Exception:  # noqa: BLE001 (bad encoded word: show it as sent)
        return " ".join(text.split())
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


def _from_headers(msg: Message, notes: list[str]) -> ParsedMessage:
    headers: dict[str, str] = {}
    auth_results: list[str] = []
    from_count = 0
    for name, value in islice(msg.raw_items(), MAX_HEADERS):  # get_all per name is quadratic
        key = _unsurrogate(str(name)).strip().lower()
        if key not in headers:
            headers[key] = decode_header_value(value)
        if key == "authentication-results":
            auth_results.append(decode_header_value(value))
        from_count += key == "from"
    from_name, from_addr = _parse_from(headers.get("from", ""))
    return ParsedMessage(
        message_id=_message_id(headers.get("message-id")),
        from_addr=from_addr,
        from_name=from_name,
        recipients=_recipients(msg),
        subject=headers.get("subject", ""),
        date=_date(headers.get("date")),
        in_reply_to=_MSGID.findall(str(msg.get("in-reply-to", ""))[:MAX_REFERENCES_CHARS]),
        references=_MSGID.findall(str(msg.get("references", ""))[:MAX_REFERENCES_CHARS]),
        headers=headers,
        text="",
        new_text="",
        attachments=[],
        raw_text_for_tokens="",
        auth_results=auth_results,
        from_count=from_count,
    )


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSGID.search(value)
    if found:
        return found.group(0)
    token = value.strip().split()[0] if value.strip() else ""
    return f"<{token[:500]}>" if token else None


def _parse_from(value: str) -> tuple[str | None, str | None]:
    try:
        name, addr = email.utils.parseaddr(value[:2000])
    except Exception:  # noqa: BLE001
        name, addr = "", ""
    if "@" not in addr:
        found = addresses_in(value)
        addr = found[0] if found else ""
    return (name.strip() or None), (email_key(addr) if addr else None)


def addresses_in(text: str) -> list[str]:
    """Every e-mail address in ``text``, lower-case, in order, once. Linear by construction."""
    seen: dict[str, None] = {}
    for piece in _ADDR_SPLIT.split(text):
        if "@" in piece and len(piece) <= 320:
            piece = piece.strip(".:").removeprefix("mailto:").removeprefix("rfc822;")
            if _ADDRESS.fullmatch(piece):
                seen.setdefault(piece.lower(), None)
    return list(seen)


def _recipients(msg: Message) -> list[str]:
    found: dict[str, None] = {}
    for name in RECIPIENT_HEADERS:
        for value in (msg.get_all(name) or [])[:50]:
            for addr in addresses_in(decode_header_value(value, MAX_REFERENCES_CHARS)):
                found.setdefault(addr, None)
    return list(found)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value[:200])
    except Exception:  # noqa: BLE001
        return None


# --- bodies --------------------------------------------------------------------------------------


def payload_bytes(part: Message, notes: list[str]) -> bytes:
    """The decoded payload of a leaf part; bad base64 decodes as far as it is valid, and says so."""
    # The private _payload: compat32's get_payload() already decodes 8-bit text with 'replace'.
    payload = part._payload  # type: ignore[attr-defined]  # private, so typeshed omits it
    if not isinstance(payload, str):
        return b""
    try:
        data = payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        data = payload.encode("utf-8", "surrogateescape")
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()[:40]
    if cte == "base64":
        return _b64(data, notes)
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return data


_B64_JUNK = bytes(
    c
    for c in range(256)
    if chr(c) not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)


def _b64(data: bytes, notes: list[str]) -> bytes:
    clean = data.translate(None, b" \t\r\n")
    try:
        return base64.b64decode(clean, validate=True)
    except (binascii.Error, ValueError):
        pass
    # Padding ends the data: decode the valid letters before it, repairing the padding.
    valid = clean.split(b"=", 1)[0].translate(None, _B64_JUNK)
    valid = valid[: len(valid) - (len(valid) % 4 == 1)]
    notes.append("bad base64 in a part: decoded the valid part only")
    return base64.b64decode(valid + b"=" * (-len(valid) % 4))


class _Walker:
    """One bounded, iterative pass over the MIME tree collecting bodies, attachments and DSNs."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.plain: str | None = None
        self.html: str | None = None
        self.attachments: list[Attachment] = []
        self.delivery_status: list[dict[str, str]] = []
        self._tokens: list[str] = []
        self._token_size = 0

    def walk(self, root: Message) -> None:
        stack: list[tuple[Message, int, bool]] = [(root, 0, False)]
        seen = 0
        while stack and seen < MAX_PARTS:
            part, depth, embedded = stack.pop()
            seen += 1
            if depth > MAX_DEPTH:
                self.notes.append("MIME parts nested too deeply were skipped")
                continue
            if embedded or depth == 0:
                self._add_tokens(_header_block(part))
            children = self._visit(part, embedded)
            for child, child_embedded in reversed(children):
                stack.append((child, depth + 1, child_embedded))
        if stack:
            self.notes.append(f"more than {MAX_PARTS} MIME parts: the rest were skipped")

    def _visit(self, part: Message, embedded: bool) -> list[tuple[Message, bool]]:
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/delivery-status":
            self._delivery_status(part)
            return []
        if isinstance(payload, list):
            is_message = part.get_content_maintype() == "message"
            if is_message and not embedded and _is_attachment(part) and part.get_filename():
                first = payload[0] if payload else None
                self._attach(part, ctype, first.as_bytes() if isinstance(first, Message) else b"")
            return [
                (child, embedded or is_message) for child in payload if isinstance(child, Message)
            ]
        data = payload_bytes(part, self.notes)
        # A multipart without a usable boundary arrives as one string: read it as text.
        is_text = part.get_content_maintype() in ("text", "multipart")
        if ctype.startswith("multipart/"):
            ctype = "text/plain"
        if is_text:
            text = decode_bytes(data[:MAX_HTML_CHARS], part.get_content_charset())
            self._add_tokens(html_to_text(text) if ctype == "text/html" else text)
        if not embedded and is_text and not _is_attachment(part):
            self._body(ctype, text)
        elif not embedded and (not is_text or _is_attachment(part)):
            self._attach(part, ctype, data)
        return []

    def _body(self, ctype: str, text: str) -> None:
        if ctype == "text/html" and self.html is None:
            self.html = text
        elif ctype != "text/html" and self.plain is None:
            self.plain = text

    def _attach(self, part: Message, ctype: str, data: bytes) -> None:
        name = part.get_filename()
        filename = decode_header_value(name, 500) if name else None
        self.attachments.append(Attachment(filename, ctype, data))

    def _delivery_status(self, part: Message) -> None:
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks = [
                dict((k.lower(), decode_header_value(v, 2000)) for k, v in block.items())
                for block in payload
                if isinstance(block, Message)
            ]
        else:  # encoded or malformed: parse the text ourselves
            text = decode_bytes(payload_bytes(part, self.notes), None)
            blocks = [_fields(chunk) for chunk in re.split(r"\n\s*\n", text.replace("\r", ""))]
        for block in blocks[:100]:
            if block:
                self.delivery_status.append(block)
                self._add_tokens("\n".join(f"{k}: {v}" for k, v in block.items()))

    def _add_tokens(self, text: str) -> None:
        room = MAX_TOKEN_TEXT - self._token_size
        if room > 0 and text:
            self._tokens.append(text[:room])
            self._token_size += min(len(text), room) + 1

    def token_text(self) -> str:
        return "\n".join(self._tokens)

    def body_text(self) -> str:
        if self.plain is not None and (self.plain.strip() or self.html is None):
            return _clean_text(self.plain)
        if self.html is not None:
            return _clean_text(html_to_text(self.html))
        return ""


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("content-disposition", ""))[:200].split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_filename())


def _header_block(part: Message) -> str:
    return "\n".join(
        f"{name}: {decode_header_value(value, 2000)}"
        for name, value in islice(part.raw_items(), MAX_HEADERS)
    )


def _fields(chunk: str) -> dict[str, str]:
    """'Name: value' lines with continuation lines, as in a delivery-status block."""
    fields: dict[str, str] = {}
    last = None
    for line in chunk.split("\n")[:200]:
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            last = name.strip().lower()
            fields.setdefault(last, value.strip())
    return fields


def _clean_text(text: str) -> str:
    return text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\r", "\n")


class _HtmlText(HTMLParser):
    """HTML to plain text; blockquotes become '> ' lines so quote stripping works on them."""

    BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "tr",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "ul",
            "ol",
            "pre",
            "hr",
        }
    )
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.quote = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
            self.out.append("\n")
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self.out.append("\n")
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        # Runs of white space become one space, kept at the edges: "Harbour <b>Dockers</b>"
        # is two words. Lines are stripped at the end.
        text = re.sub(r"\s+", " ", data)
        if self.quote and (not self.out or self.out[-1].endswith("\n")):
            text = "> " * self.quote + text.lstrip()
        self.out.append(text)


def html_to_text(html: str, limit: int | None = MAX_HTML_CHARS) -> str:
    """The text of an HTML mail part (or, with ``limit`` None, a whole saved web page)."""
    parser = _HtmlText()
    try:
        parser.feed(html[:limit])
        parser.close()
    except Exception:  # noqa: BLE001 (broken HTML: keep what was read)
        pass
    lines = [line.strip() for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
