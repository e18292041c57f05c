"""Where messages go: an SMTP server (aiosmtplib) or the local Maildir outbox.

A ``Connection`` delivers one message at a time and reports an ``Outcome`` that
says what the server's answer means for exactly-once delivery: ``sent`` after the
250 to the final ".", ``retry`` for any failure known to come before the final "."
(4xx, a drop before the dot was written), ``failed`` for 5xx, and ``uncertain``
when the dot left but no reply came back. MAIL, RCPT and DATA are issued one by
one (not ``send_message``) so the phase of every failure is known.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import os
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

import aiosmtplib
from aiosmtplib import SMTP, SMTPResponse

from mailer.addresses import ascii_address
from mailer.config import Settings, redact, secret
from mailer.errors import ConfigError, TransportError
from mailer.files import create_private, private_folder
from mailer.models import MessageState

if TYPE_CHECKING:  # OAuth2 libraries load only for a mailbox that signs in with them
    from mailer.oauth import TokenSource

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# A line starting with "." gets another (RFC 5321 4.5.2). Searching for the line break
# before it, not for a line start, is some 30 times faster: 0.2 ms instead of 5 for
# a message carrying a 200 kB file.
_DOT = re.compile(rb"\n\.")
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt means for the message row: ``state`` is where it
    leaves the message, ``queued`` when the server did not take it (to try again).

    ``fatal``: the server refused something that is not about this recipient
    (our sender address, our login), so the run stops and the row stays queued.
    ``invalid``: a 5.1.x reply, the address does not exist.
    ``reconnect``: the connection is gone or the server said 421.
    """

    state: MessageState
    reply: str
    invalid: bool = False
    fatal: bool = False
    reconnect: bool = False


def reply_outcome(code: int, message: str) -> Outcome:
    """Classify an SMTP reply code (with its enhanced status code, if any)."""
    text = f"{code} {' '.join(message.split())}".strip()
    if 200 <= code < 300:
        return Outcome(MessageState.SENT, text)
    if 500 <= code < 600:
        enhanced = _ENHANCED.match(message)
        invalid = bool(enhanced and enhanced.group(1) == "5" and enhanced.group(2) == "1")
        return Outcome(MessageState.FAILED, text, invalid=invalid)
    # 4xx, or a reply that makes no sense here: the message was not taken.
    return Outcome(MessageState.QUEUED, text, reconnect=code in (421, -1))


class Connection(Protocol):
    async def open(self) -> None:
        """Connect if not connected. Raises TransportError when that is impossible."""

    async def deliver(
        self,
        sender: str,
        recipient: str,
        body: bytes,
        meanwhile: Callable[[], object] | None = None,
    ) -> Outcome:
        """Send one message. ``meanwhile``, if given, may be called once while the
        server reads the message: time the engine uses to build its next one."""

    async def close(self) -> None:
        """End the session politely (QUIT)."""

    def abort(self) -> None:
        """Drop the link at once, in the middle of anything."""


class Transport(Protocol):
    description: str  # safe to print: no password
    rate_limited: bool  # the Maildir outbox writes at full speed

    @property
    def max_connections(self) -> int | None: ...  # None: as many as configured

    def connection(self) -> Connection: ...


def envelope_address(address: str) -> bytes:
    """``<address>`` for MAIL FROM / RCPT TO: checked as for a header, the domain
    in IDNA. Cheaper than aiosmtplib's general address parser, which mail() and
    rcpt() would run twice per message. ValueError for an unusable address."""
    return f"<{ascii_address(address)}>".encode("ascii")


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1: traffic that never leaves this machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- SMTP


class SmtpTransport:
    """Connections to one SMTP server, described by an smtp[s|+starttls]:// URL."""

    rate_limited = True
    max_connections = None

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        tokens: TokenSource | None = None,
        timeout: float = 60.0,
        data_timeout: float = 600.0,
        insecure: bool = False,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ConfigError(
                f"[smtp] url: expected smtp://, smtp+starttls:// or smtps://host, got {redact(url)!r}"
            )
        if parts.password is not None:
            raise ConfigError(
                f"[smtp] url {redact(url)!r} contains a password",
                hint="Remove it from the URL and set MAILER_SMTP_PASSWORD or use the system keyring.",
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = _port(parts)
        self.user = unquote(parts.username) if parts.username else None
        self.password = password
        self.tokens = tokens  # auth = "xoauth2": access tokens instead of the password
        self.timeout = timeout or None
        self.data_timeout = data_timeout or None
        self.description = redact(url)
        self._tls_context = tls_context
        self._local_hostname: str | None = None
        if self.scheme == "smtp" and not is_loopback(self.host) and not insecure:
            raise ConfigError(
                f"[smtp] url {self.description!r} sends mail unencrypted to {self.host}",
                hint="Use smtp+starttls:// or smtps://, or allow it with --insecure "
                "(or [smtp] insecure = true).",
            )
        if self.scheme == "smtp" and self.user and not is_loopback(self.host):
            raise ConfigError(
                f"[smtp] url {self.description!r} would send the password for "
                f"{self.user} unencrypted to {self.host}",
                hint="Use smtp+starttls:// or smtps:// for a server that needs a login.",
            )

    def tls_context(self) -> ssl.SSLContext:
        """Certificates verified against the system store (honours SSL_CERT_FILE)."""
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    async def local_hostname(self) -> str:
        """Our EHLO name, looked up once (getfqdn may wait on DNS)."""
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        return self._local_hostname

    def connection(self) -> SmtpConnection:
        return SmtpConnection(self)


def _port(parts: SplitResult) -> int:
    """The URL's port (checked when the settings loaded), or the scheme's usual one."""
    return parts.port or DEFAULT_PORTS[parts.scheme]


class SmtpConnection:
    """One persistent SMTP session, reopened after a drop or a 421."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.t = transport
        self._smtp: SMTP | None = None

    @property
    def is_open(self) -> bool:
        return self._smtp is not None and self._smtp.is_connected

    async def open(self) -> None:
        if self.is_open:
            return
        t = self.t
        smtp = SMTP(
            hostname=t.host,
            port=t.port,
            timeout=t.timeout,
            use_tls=t.scheme == "smtps",
            # STARTTLS is demanded, never opportunistic: aiosmtplib's default
            # (None) would silently carry on in clear text.
            start_tls=t.scheme == "smtp+starttls",
            tls_context=None if t.scheme == "smtp" else t.tls_context(),
            local_hostname=await t.local_hostname(),
        )
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:  # deliver() sends MAIL itself, so greet now
                try:
                    await smtp.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await smtp.helo()
            if t.user:
                encrypted = smtp.get_transport_info("sslcontext") is not None
                if not encrypted and not is_loopback(t.host):  # pragma: no cover - guarded above
                    raise TransportError(f"refusing to send the password to {t.host} unencrypted")
                await self._login(smtp)
        except TransportError:
            smtp.close()
            raise
        except Exception as e:  # every way a connection can fail becomes one sentence
            smtp.close()
            raise _connect_error(t, e) from None
        self._smtp = smtp

    async def _login(self, smtp: SMTP) -> None:
        """AUTH with the password, or with an OAuth2 access token (XOAUTH2).

        A token is asked for at every (re)connection, so one that expired during
        a long run is renewed. A server may know before we do that a token is no
        longer good (revoked, expired early): it gets one freshly renewed token.
        """
        t, user = self.t, self.t.user or ""
        if t.tokens is None:
            await smtp.login(user, t.password or "")
            return
        try:
            await smtp.auth_xoauth2(user, await t.tokens.get())
        except aiosmtplib.SMTPAuthenticationError:
            await smtp.auth_xoauth2(user, await t.tokens.get(fresh=True))

    async def deliver(
        self,
        sender: str,
        recipient: str,
        body: bytes,
        meanwhile: Callable[[], object] | None = None,
    ) -> Outcome:
        smtp = self._smtp
        if smtp is None or not smtp.is_connected:
            return Outcome(MessageState.QUEUED, "not connected", reconnect=True)
        try:
            mail_from = envelope_address(sender)
        except ValueError as e:
            return Outcome(MessageState.QUEUED, f"MAIL FROM: {e}", fatal=True)
        try:
            rcpt_to = envelope_address(recipient)
        except ValueError as e:
            return Outcome(MessageState.FAILED, str(e), invalid=True)
        try:
            reply = await smtp.execute_command(b"MAIL", b"FROM:" + mail_from)
        except (aiosmtplib.SMTPException, OSError) as e:
            return self._lost(f"connection lost before the message was sent ({e})")
        if reply.code != 250:
            outcome = reply_outcome(reply.code, reply.message)
            await self._reset(outcome)
            if outcome.state == MessageState.FAILED:  # our sender was refused: no message can go
                return Outcome(
                    MessageState.QUEUED, f"MAIL FROM <{sender}>: {outcome.reply}", fatal=True
                )
            return outcome
        try:
            reply = await smtp.execute_command(b"RCPT", b"TO:" + rcpt_to)
            if reply.code in (250, 251):  # 251: will forward
                reply = await smtp.execute_command(b"DATA")
        except (aiosmtplib.SMTPException, OSError) as e:
            return self._lost(f"connection lost before the message was sent ({e})")
        if reply.code != 354:
            outcome = reply_outcome(reply.code, reply.message)
            await self._reset(outcome)
            return outcome
        return await self._send_content(smtp, body, meanwhile)

    async def _send_content(
        self, smtp: SMTP, body: bytes, meanwhile: Callable[[], object] | None
    ) -> Outcome:
        """The message, then the final dot: only a silence after the dot is uncertain.

        A large message is flushed to the kernel before the dot is written, so a
        connection that breaks while the content is still going out is known to
        have never seen the dot (safe to retry). A message that fits the kernel's
        send buffer is taken whole at once, so there the flush tells nothing and
        content and dot go out in one write. ``SMTPProtocol`` is not aiosmtplib's
        public API: tests/test_aiosmtplib_contract.py checks what this relies on.
        """
        protocol = smtp.protocol
        if protocol is None or protocol.transport is None:
            return self._lost("connection lost before the message was sent")
        transport = protocol.transport
        content = _DOT.sub(b"\n..", b"." + body if body.startswith(b".") else body)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        try:
            if len(content) <= ONE_WRITE:
                protocol.write(content + b".\r\n")
            else:
                protocol.write(content)
                await _flushed(transport, self.t.timeout)  # type: ignore[arg-type]
                protocol.write(b".\r\n")
        except (aiosmtplib.SMTPException, OSError) as e:
            return self._lost(f"connection lost while sending the message, before its end ({e})")
        if transport.is_closing():
            return self._lost("connection lost while sending the end of the message")
        if meanwhile is not None:
            meanwhile()
        try:
            response: SMTPResponse = await protocol.read_response(timeout=self.t.data_timeout)
        except aiosmtplib.SMTPTimeoutError:
            self._drop()
            return Outcome(
                MessageState.UNCERTAIN,
                f"no reply to the end of the message within {self.t.data_timeout:g} s",
                reconnect=True,
            )
        except (aiosmtplib.SMTPException, OSError) as e:
            self._drop()
            return Outcome(
                MessageState.UNCERTAIN,
                f"connection lost after the end of the message ({e})",
                reconnect=True,
            )
        return reply_outcome(response.code, response.message)

    async def _reset(self, outcome: Outcome) -> None:
        """End a refused transaction so the connection can carry the next one."""
        if outcome.reconnect:
            self._drop()
            return
        try:
            await self._smtp.rset()  # type: ignore[union-attr]
        except (aiosmtplib.SMTPException, OSError):
            self._drop()

    def _lost(self, reply: str) -> Outcome:
        self._drop()
        return Outcome(MessageState.QUEUED, reply, reconnect=True)

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    abort = _drop

    async def close(self) -> None:
        """QUIT politely when we can; a dead link is just closed."""
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit(timeout=5)
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()


# Linux gives every TCP socket at least this much send buffer (tcp_wmem).
ONE_WRITE = 16 * 1024


async def _flushed(transport: asyncio.WriteTransport, timeout: float | None) -> None:
    """Wait until ``transport`` handed everything to the kernel.

    Raises ConnectionError if the link closes first, TimeoutError if the server
    stops reading for ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    left = transport.get_write_buffer_size()
    deadline = loop.time() + (timeout or 3600)
    while left:
        if transport.is_closing():
            raise ConnectionError("connection closed")
        await asyncio.sleep(0.002)
        now_left = transport.get_write_buffer_size()
        if now_left < left:
            deadline = loop.time() + (timeout or 3600)
        elif loop.time() > deadline:
            raise TimeoutError("the server stopped reading the message")
        left = now_left
    if transport.is_closing():
        raise ConnectionError("connection closed")


def _connect_error(t: SmtpTransport, error: Exception) -> TransportError:
    """One clear sentence for a connection that could not be made."""
    where = f"{t.host}:{t.port}"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TransportError(
                f"the TLS certificate of the mail server {where} could not be verified "
                f"({cause.verify_message}); nothing was sent",
                hint="Check the host name in [smtp] url; a self-signed server needs its "
                "certificate in SSL_CERT_FILE.",
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, aiosmtplib.SMTPAuthenticationError) and t.tokens is not None:
        return TransportError(
            f"the mail server {where} refused the OAuth2 token of {t.user}: "
            f"{error.code} {error.message}",
            hint=f"Check that the account signed in with `mailer login` may send as {t.user}, "
            "and that SMTP AUTH is allowed for the mailbox (docs/oauth.md).",
        )
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return TransportError(
            f"the mail server {where} refused the login for {t.user}: {error.code} {error.message}",
            hint="Check the user in [smtp] url and the password (MAILER_SMTP_PASSWORD or keyring).",
        )
    if "STARTTLS extension not supported" in str(error):
        return TransportError(
            f"the mail server {where} does not offer STARTTLS, so mailer will not talk to it "
            "(no password and no message was sent)",
            hint="Use smtps:// if the server speaks TLS from the start.",
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return TransportError(f"the mail server {where} refused us: {error.code} {error.message}")
    reason = str(error) or type(error).__name__
    return TransportError(
        f"cannot connect to the mail server {where}: {reason}",
        hint="Check [smtp] url and that the server is reachable; nothing was sent.",
    )


# ------------------------------------------------------------------------ Maildir


class MaildirTransport:
    """The default outbox: each message becomes a file in a real Maildir."""

    rate_limited = False
    max_connections = 1

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"the outbox {self.path}"

    def connection(self) -> MaildirConnection:
        return MaildirConnection(self.path)


class MaildirConnection:
    """Writes each message the way a Maildir delivery does: into tmp/, synced, then
    renamed into new/. Written here rather than with ``mailbox.Maildir.add``, which
    leaves a partial file in tmp/ when the disk fills at its final flush, and
    creates messages readable by everyone under the usual umask."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    async def open(self) -> None:
        if not self._ready:
            try:
                for sub in ("tmp", "new", "cur"):
                    private_folder(self.path / sub)
            except OSError as e:
                raise TransportError(
                    f"cannot create the outbox {e.filename or self.path}: {e.strerror}"
                ) from None
            self._ready = True

    async def deliver(
        self,
        sender: str,
        recipient: str,
        body: bytes,
        meanwhile: Callable[[], object] | None = None,
    ) -> Outcome:
        # What a delivering MTA adds, so the outbox shows the envelope too.
        envelope = f"Return-Path: <{sender}>\r\nDelivered-To: {recipient}\r\n".encode()
        name = _maildir_name()
        written = self.path / "tmp" / name
        try:
            create_private(written, (envelope + body).replace(b"\r\n", b"\n"), sync=True)
            try:
                os.rename(written, self.path / "new" / name)
            except BaseException:
                written.unlink(missing_ok=True)
                raise
        except OSError as e:
            return Outcome(
                MessageState.QUEUED, f"cannot write to {self.path}: {e.strerror}", fatal=True
            )
        return Outcome(MessageState.SENT, f"250 written to {self.path / 'new' / name}")

    async def close(self) -> None:
        self._ready = False

    def abort(self) -> None:
        self._ready = False


_delivered = itertools.count(1)


def _maildir_name() -> str:
    """A unique Maildir file name: time, microseconds, process, counter, host."""
    seconds, micro = divmod(time.time_ns() // 1000, 1_000_000)
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{seconds}.M{micro}P{os.getpid()}Q{next(_delivered)}.{host}"


def open_transport(
    settings: Settings, *, prompt: Callable[[str], str] | None = None, login: bool = True
) -> Transport:
    """The transport [smtp] url selects; the Maildir outbox when it is empty.

    ``prompt`` asks for a password on a terminal (None when there is none).
    ``login=False`` (``--dry-run``) checks the URL but asks for no password.
    """
    url = settings["smtp.url"]
    if not url:
        return MaildirTransport(settings.path("outbox.path"))
    transport = SmtpTransport(
        url,
        timeout=settings["smtp.timeout"],
        data_timeout=settings["smtp.data_timeout"],
        insecure=settings["smtp.insecure"],
    )
    if settings["smtp.auth"] == "xoauth2":
        from mailer.oauth import token_source

        if not transport.user:
            raise ConfigError(
                '[smtp] url names no user, which auth = "xoauth2" signs in as',
                hint="Write it as smtp+starttls://mailbox%40example.org@host:587 (%40 for the @).",
            )
        transport.tokens = token_source(settings, "smtp", transport.user)
    elif login and transport.user:
        transport.password = secret(
            "smtp", service=transport.host, user=transport.user, prompt=prompt
        )
    return transport
