"""``inbox fetch`` against a real Dovecot on loopback (tests/fixtures/imap.py).

Scenarios: first fetch, incremental fetch, STARTTLS, moving processed mail,
a UIDVALIDITY change, a connection cut mid-fetch (nothing lost, the next
fetch completes), and the errors a user must understand (bad certificate,
refused login, no server).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import trustme
from sqlite_utils import Database

from mailer.config import Settings, load_settings
from mailer.db import open_db
from mailer.errors import TransportError
from mailer.inbox.ingest import Summary, fetch_imap, read_cursor
from mailer.inbox.sources import ImapAccount
from tests.fixtures.imap import Dovecot
from tests.fixtures.smtp import free_port
from tests.inbox_data import SENDER, reply_mail

pytestmark = pytest.mark.imap


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "contacts.db")
    yield database
    database.close()


@pytest.fixture(autouse=True)
def password(imapd: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILER_IMAP_PASSWORD", imapd.password)


def settings_for(tmp_path: Path, url: str, **more: str) -> Settings:
    return load_settings(cwd=tmp_path, env={"MAILER_IMAP_URL": url, **more})


def mails(*names: str, size: int = 0) -> list[bytes]:
    filler = "\n" + "la " * (size // 3) if size else ""
    return [
        reply_mail(f"{n}@example.net", SENDER, f"Reply {n}.{filler}", msgid=f"<{n}@example.net>")
        for n in names
    ]


def fetch(db: Database, settings: Settings, **kw: object) -> Summary:
    return fetch_imap(db, settings, **kw)  # type: ignore[arg-type]


def stored(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT header_message_id FROM reply ORDER BY id")]


def test_first_then_incremental_fetch(imapd: Dovecot, db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, imapd.url("imaps"))
    imapd.append(*mails("a", "b", "c"))
    first = fetch(db, settings)
    assert (first.new, first.duplicates) == (3, 0)
    imapd.append(*mails("d", "e"))
    second = fetch(db, settings)
    assert (second.new, second.duplicates) == (2, 0)  # only the new ones were read
    assert stored(db) == [f"<{n}@example.net>" for n in "abcde"]
    cursor = read_cursor(db, ImapAccount.from_url(imapd.url("imaps")).mailbox)
    assert cursor is not None and cursor.uid == 5
    assert (fetch(db, settings).new, fetch(db, settings).duplicates) == (0, 0)
    with imapd.mailbox() as box:
        box.folder.set("INBOX")
        assert len(box.uids("UNSEEN")) == 5  # fetching does not mark mail as read


def test_starttls_and_moving_processed_mail(imapd: Dovecot, db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, imapd.url("imap+starttls"))
    imapd.append(*mails("a", "b", "c"))
    assert fetch(db, settings, move_to="Processed").new == 3
    with imapd.mailbox() as box:
        assert box.folder.status("INBOX")["MESSAGES"] == 0
        assert box.folder.status("Processed")["MESSAGES"] == 3
    imapd.append(*mails("d"))
    assert fetch(db, settings, move_to="Processed").new == 1


def test_uidvalidity_change_restarts_safely(imapd: Dovecot, db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, imapd.url("imaps", folder="Replies"))
    imapd.append(*mails("a", "b", "c"), folder="Replies")
    assert fetch(db, settings).new == 3
    mailbox = ImapAccount.from_url(imapd.url("imaps", folder="Replies")).mailbox
    old = read_cursor(db, mailbox)
    with imapd.mailbox() as box:  # the folder is recreated: UIDs start again at 1
        box.folder.delete("Replies")
        box.folder.create("Replies")
    imapd.append(*mails("a", "b", "c", "d"), folder="Replies")
    again = fetch(db, settings)
    assert (again.new, again.duplicates) == (1, 3)
    new = read_cursor(db, mailbox)
    assert old and new and new.uidvalidity != old.uidvalidity and new.uid == 4
    assert stored(db) == [f"<{n}@example.net>" for n in "abcd"]


class CuttingProxy:
    """Forwards a loopback TCP connection and hangs up after ``limit`` bytes from the server."""

    def __init__(self, port: int, limit: int) -> None:
        self.target, self.limit = port, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
        self._pump(server, client, self.limit)

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        with suppress(OSError):
            while data := src.recv(4096):
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: limit - sent])
                    break
                dst.sendall(data)
                sent += len(data)
        for s in (src, dst):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.listener.close()


def test_connection_cut_mid_fetch_loses_nothing(
    imapd: Dovecot, db: Database, tmp_path: Path
) -> None:
    imapd.append(*mails(*"abcdef", size=5000))
    proxy = CuttingProxy(imapd.imap_port, limit=14_000)  # in the second batch of two
    try:
        cut = settings_for(tmp_path, imapd.url("imap", port=proxy.port))
        with pytest.raises(TransportError, match="connection was lost") as e:
            fetch(db, cut, batch_size=2)
    finally:
        proxy.close()
    saved = len(stored(db))
    assert saved in (2, 4) and f"{saved} new messages were saved" in str(e.value)
    assert e.value.hint and "inbox fetch" in e.value.hint
    # The cursor names the account and folder, whichever port or TLS mode leads there.
    cursor = read_cursor(db, f"{imapd.user}@127.0.0.1/INBOX")
    assert cursor is not None and cursor.uid == saved
    rest = fetch(db, settings_for(tmp_path, imapd.url("imaps")), batch_size=2)
    assert (rest.new, rest.duplicates) == (6 - saved, 0)
    assert stored(db) == [f"<{n}@example.net>" for n in "abcdef"]


def test_bad_certificate_is_a_clear_error(
    imapd: Dovecot, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    for scheme in ("imaps", "imap+starttls"):
        with pytest.raises(TransportError, match="certificate could not be verified") as e:
            fetch(db, settings_for(tmp_path, imapd.url(scheme)))
        assert e.value.hint and "SSL_CERT_FILE" in e.value.hint


def test_refused_login_and_missing_server(
    imapd: Dovecot, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_IMAP_PASSWORD", "wrong")
    with pytest.raises(TransportError, match=f"refused the login for {re.escape(imapd.user)}") as e:
        fetch(db, settings_for(tmp_path, imapd.url("imaps")))
    assert "wrong" not in str(e.value)
    with pytest.raises(TransportError, match="cannot connect"):  # nothing listens there
        fetch(db, settings_for(tmp_path, imapd.url("imaps", port=free_port())))
