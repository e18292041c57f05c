"""Where replies come from: mbox files, Maildir folders, .eml files and IMAP.

Every source yields :class:`RawMessage`: the bytes exactly as stored, never
parsed here (the parser may choke on them; the raw bytes must survive). IMAP
is read incrementally by UIDVALIDITY/UID, always over verified TLS except on
loopback or when ``[imap] insecure`` allows it.
"""

from __future__ import annotations

import imaplib
import mailbox
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from mailer.addresses import check_text
from mailer.config import Settings, redact, secret
from mailer.errors import ConfigError, MailerError, NotFound, TransportError
from mailer.transport import is_loopback

if TYPE_CHECKING:
    from collections.abc import Callable

    from imap_tools import BaseMailBox

    from mailer.oauth import TokenSource

MAX_BYTES = 50_000_000
"""Larger messages are kept truncated to this size and listed as unparsable."""


@dataclass(frozen=True)
class Cursor:
    """How far one IMAP folder has been read: the last UID seen under a UIDVALIDITY."""

    mailbox: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class RawMessage:
    """One message as received; ``error`` says why it cannot be parsed as it is."""

    data: bytes
    ref: str
    error: str | None = None
    cursor: Cursor | None = None


def _raw(data: bytes, ref: str, cursor: Cursor | None = None) -> RawMessage:
    if len(data) > MAX_BYTES:
        return RawMessage(
            data[:MAX_BYTES],
            ref,
            f"the message is larger than {MAX_BYTES // 1_000_000} MB; only its beginning was kept",
            cursor,
        )
    return RawMessage(data, ref, None, cursor)


# ---------------------------------------------------------------- files


def read_paths(paths: Sequence[Path]) -> Iterator[RawMessage]:
    """Every message in the given mbox files, Maildir folders, .eml files or folders of them.

    All paths are checked before the first message is read, so a typo in the
    last one does not leave a half-done import. Empty messages are skipped.
    """
    sources = [source for path in paths for source in _sources(path)]
    for source in sources:
        try:
            for message in _read_source(source):
                if message.data.strip():
                    yield message
        except OSError as e:  # unreadable (permissions, I/O): name the file, not a traceback
            raise MailerError(
                f"{e.filename or source}: cannot read it ({e.strerror or e})",
                hint="Messages read before it were saved; importing again skips them.",
            ) from None


def _sources(path: Path) -> list[Path]:
    """The Maildir folder or the files one given path stands for."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or folder")
    if not path.is_dir() or _is_maildir(path):
        return [path.resolve()]
    files = sorted(p.resolve() for p in path.rglob("*.eml") if p.is_file())
    if not files:
        raise NotFound(
            f"{path}: neither a Maildir folder (with cur/ and new/) nor a folder of .eml files"
        )
    return files


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _read_source(path: Path) -> Iterator[RawMessage]:
    """A Maildir folder's messages, an mbox file's, or one .eml file."""
    if path.is_dir():
        yield from _read_maildir(path)
        return
    with path.open("rb") as f:
        head = f.read(4096).lstrip()  # an mbox may start with a blank line
    if head.startswith(b"From "):
        yield from _read_mbox(path)
    else:
        yield _raw(path.read_bytes(), str(path))


def _read_mbox(path: Path) -> Iterator[RawMessage]:
    box = mailbox.mbox(path, create=False)
    try:
        for n, key in enumerate(box.iterkeys(), start=1):
            yield _raw(box.get_bytes(key), f"{path}#{n}")
    finally:
        box.close()


def _read_maildir(path: Path) -> Iterator[RawMessage]:
    """new/ and cur/ as mailbox.Maildir reads them, each message named by its own file."""
    files = [*(path / "new").glob("*"), *(path / "cur").glob("*")]
    for file in sorted(files, key=lambda f: f.name):
        if file.is_file() and not file.name.startswith("."):
            yield _raw(file.read_bytes(), str(file))


# ---------------------------------------------------------------- IMAP


@dataclass(frozen=True)
class ImapAccount:
    """Where to log in: parsed from ``[imap] url`` such as ``imaps://user@host/INBOX``."""

    scheme: str
    host: str
    port: int
    user: str
    folder: str

    @classmethod
    def from_url(
        cls, url: str, *, insecure: bool = False, folder: str | None = None
    ) -> ImapAccount:
        if not url:
            raise ConfigError(
                "no IMAP server is configured",
                hint='Set [imap] url = "imaps://user@host/INBOX" in mailer.toml or MAILER_IMAP_URL.',
            )
        try:
            parts = urlsplit(url)
        except ValueError as e:  # e.g. an unclosed [IPv6 bracket
            raise ConfigError(f"[imap] url: {e} in {redact(url)}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("imap", "imaps", "imap+starttls"):
            raise ConfigError(f"[imap] url: unknown scheme {scheme!r} in {redact(url)}")
        if not parts.hostname or not parts.username:
            raise ConfigError(f"[imap] url: expected imaps://user@host/FOLDER, got {redact(url)}")
        if scheme == "imap" and not is_loopback(parts.hostname) and not insecure:
            raise ConfigError(
                f"[imap] url: {redact(url)} would send the password unencrypted",
                hint="Use imaps:// or imap+starttls://, or set [imap] insecure = true.",
            )
        port = parts.port or (993 if scheme == "imaps" else 143)  # checked on loading
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=port,
            user=unquote(parts.username),
            folder=folder_name(folder or unquote(parts.path.strip("/")) or "INBOX"),
        )

    @property
    def where(self) -> str:
        """``scheme://user@host:port``: printable, no password."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}"

    @property
    def mailbox(self) -> str:
        """The cursor's key: one per account and folder (any port or TLS mode reaches it)."""
        return f"{self.user}@{self.host}/{self.folder}"


def imap_login(
    settings: Settings, account: ImapAccount, *, prompt: Callable[[str], str] | None
) -> str | TokenSource:
    """How ``account`` logs in: OAuth2 tokens (``[imap] auth = "xoauth2"``) or its password."""
    if settings["imap.auth"] == "xoauth2":
        from mailer.oauth import token_source

        return token_source(settings, "imap", account.user)
    return secret("imap", service=f"imap://{account.host}", user=account.user, prompt=prompt)


def folder_name(name: str) -> str:
    """An IMAP folder name as given; a line break in it would end the command early."""
    try:
        return check_text(name, f"IMAP folder {name!r}")
    except ValueError as e:
        raise ConfigError(str(e)) from None


_FETCH_UID = re.compile(rb"UID (\d+)")


def _xoauth2(box: BaseMailBox, user: str, token: str) -> bool:
    """AUTHENTICATE XOAUTH2; False when the server refuses the token.

    Written out rather than imap_tools' ``xoauth2``, which answers the server's
    error challenge with the token again: the mechanism wants an empty line there.
    """
    answers = iter([f"user={user}\x01auth=Bearer {token}\x01\x01".encode(), b""])
    try:
        box.client.authenticate("XOAUTH2", lambda challenge: next(answers, b""))
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        return False
    return True


class ImapSource:
    """One logged-in IMAP session over one folder (use as a context manager).

    Certificates are verified with ``ssl.create_default_context()``, which
    trusts the system CAs, or the file named by the standard ``SSL_CERT_FILE``
    environment variable (how tests and private CAs are trusted).
    """

    def __init__(
        self, account: ImapAccount, login: str | TokenSource, *, timeout: float = 60.0
    ) -> None:
        self.account = account
        self._login = login  # the password, or access tokens for XOAUTH2
        self._timeout = timeout
        self._box: BaseMailBox | None = None

    def __enter__(self) -> ImapSource:
        from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
        from imap_tools.errors import MailboxLoginError

        a = self.account
        context = ssl.create_default_context()
        try:
            if a.scheme == "imaps":
                box: BaseMailBox = MailBox(
                    a.host, a.port, timeout=self._timeout, ssl_context=context
                )
            elif a.scheme == "imap+starttls":
                box = MailBoxStartTls(a.host, a.port, timeout=self._timeout, ssl_context=context)
            else:
                box = MailBoxUnencrypted(a.host, a.port, timeout=self._timeout)
        except ssl.SSLCertVerificationError as e:
            raise TransportError(
                f"{a.where}: the server's TLS certificate could not be verified ({e.verify_message})",
                hint="If the server uses a private CA, name its certificate file in SSL_CERT_FILE.",
            ) from None
        except (OSError, imaplib.IMAP4.error) as e:
            raise TransportError(f"{a.where}: cannot connect: {e}") from None
        self._box = box
        try:
            with self._errors("logging in"):
                self._authenticate(box)
        except TransportError:
            self.__exit__(None, None, None)
            raise
        except MailboxLoginError:
            self.__exit__(None, None, None)
            if isinstance(self._login, str):
                raise TransportError(
                    f"{a.where}: the server refused the login for {a.user}",
                    hint="Check the user in [imap] url and the password (MAILER_IMAP_PASSWORD).",
                ) from None
            raise TransportError(
                f"{a.where}: the server refused the OAuth2 token of {a.user}",
                hint=f"Check that the account signed in with `mailer login` may open {a.user}, "
                "and that IMAP is allowed for the mailbox (docs/oauth.md).",
            ) from None
        return self

    def _authenticate(self, box: BaseMailBox) -> None:
        """LOGIN with the password, or AUTHENTICATE XOAUTH2 with an access token.

        A server that refuses a token (revoked, expired before we knew) gets one
        freshly renewed token, as SMTP does.
        """
        from imap_tools.errors import MailboxLoginError

        user = self.account.user
        if isinstance(self._login, str):
            box.login(user, self._login, initial_folder=None)
            return
        if not _xoauth2(box, user, self._login.token()) and not _xoauth2(
            box, user, self._login.token(fresh=True)
        ):
            raise MailboxLoginError(command_result=("NO", []), expected="OK")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        box, self._box = self._box, None
        if box is not None:
            try:
                box.logout()
            except (OSError, imaplib.IMAP4.error):
                with suppress(OSError):  # the session is over either way
                    box.client.shutdown()

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Connection trouble after login becomes one TransportError naming the step."""
        from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

        try:
            yield
        except MailboxLoginError:
            raise
        except UnexpectedCommandStatusError as e:
            detail = b" ".join(x for x in e.command_result[1] if isinstance(x, bytes))
            raise TransportError(
                f"{self.account.where}: {what} failed: {detail.decode(errors='replace')}"
            ) from None
        except (OSError, imaplib.IMAP4.error) as e:
            raise TransportError(
                f"{self.account.where}: the connection was lost while {what} ({e or type(e).__name__})"
            ) from None

    @property
    def _mailbox(self) -> BaseMailBox:
        assert self._box is not None, "use ImapSource as a context manager"
        return self._box

    def batches(self, after: Cursor | None, *, size: int = 50) -> Iterator[list[RawMessage]]:
        """The folder's messages newer than ``after``, oldest first, ``size`` at a time.

        A changed UIDVALIDITY means the server renumbered the folder: reading
        restarts from the first message (deduplication makes that safe).
        """
        box, folder = self._mailbox, self.account.folder
        with self._errors(f"opening folder {folder!r}"):
            box.folder.set(folder)
            uidvalidity = int(box.client.response("UIDVALIDITY")[1][0])
        start = after.uid + 1 if after and after.uidvalidity == uidvalidity else 1
        with self._errors("searching for new mail"):
            # "UID n:*" always includes the highest UID, even one below n: filter again.
            uids = sorted(u for u in map(int, box.uids(f"UID {start}:*")) if u >= start)
        for i in range(0, len(uids), size):
            with self._errors("fetching messages"):
                batch = self._fetch(uids[i : i + size], uidvalidity)
            yield batch

    def _fetch(self, uids: list[int], uidvalidity: int) -> list[RawMessage]:
        """Raw bytes by UID; BODY.PEEK leaves the \\Seen flag alone, <0.N> bounds the size."""
        client = self._mailbox.client
        status, data = client.uid(
            "FETCH", ",".join(map(str, uids)), f"(UID BODY.PEEK[]<0.{MAX_BYTES + 1}>)"
        )
        if status != "OK":
            raise imaplib.IMAP4.error(f"FETCH answered {status}")
        by_uid = {
            int(m.group(1)): item[1]
            for item in data
            if isinstance(item, tuple) and (m := _FETCH_UID.search(item[0]))
        }
        where = f"{self.account.where}/{self.account.folder}"
        return [
            _raw(
                by_uid[uid],
                f"{where};UIDVALIDITY={uidvalidity};UID={uid}",
                Cursor(self.account.mailbox, uidvalidity, uid),
            )
            for uid in uids
            if uid in by_uid  # expunged meanwhile: nothing to keep
        ]

    def special_folder(self, use: str) -> str | None:
        """The folder the server marks with the special use ``use`` (RFC 6154), e.g. \\Sent."""
        with self._errors("listing the folders"):
            for folder in self._mailbox.folder.list():
                if use.lower() in (flag.lower() for flag in folder.flags):
                    return folder.name
        return None

    def append(self, message: bytes, folder: str, *, when: datetime) -> None:
        """Store ``message`` in ``folder`` (IMAP APPEND) as read, dated ``when``."""
        with self._errors(f"putting a message in {folder!r}"):
            self._mailbox.append(message, folder, dt=when, flag_set=["\\Seen"])

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move processed messages to ``folder``, creating it when missing."""
        box = self._mailbox
        with self._errors(f"moving messages to {folder!r}"):
            if not box.folder.exists(folder):
                box.folder.create(folder)
            box.move([str(u) for u in uids], folder)
