"""Copies of sent mail in the mailbox's Sent folder, as a mail client keeps them.

Colleagues look for what the department sent in its Sent folder. Each message
the SMTP server accepted is appended there once (IMAP APPEND, marked read), in
batches, over one IMAP session that works in a thread of its own: sending never
waits for it. ``message.sent_copy`` records the copy: 'wanted' when a run with an
``[imap] url`` is about to send the message, 'done' once it is in the folder. So
re-runs never append twice, and a later run appends what an earlier one could
not (the IMAP server was away, the run was stopped), rebuilt from the statement
with the message's own Message-ID and Date. A copy that cannot be made never
changes what became of the message: it is a note in the send summary.
"""

from __future__ import annotations

import asyncio
import imaplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from mailer import queue
from mailer.clock import now
from mailer.config import Settings
from mailer.contacts import orgs_by_id
from mailer.errors import MailerError
from mailer.inbox.sources import ImapAccount, ImapSource, folder_name, imap_login
from mailer.models import Org, Recipient
from mailer.queue import Row

if TYPE_CHECKING:
    from mailer.oauth import TokenSource
    from mailer.render import MessageFactory

BATCH = 20  # copies handed to the IMAP thread at once, and committed together
# SMTP servers that file a copy of what they are handed in the Sent folder
# themselves: a second copy would show every message twice.
FILES_ITS_OWN_COPY = ("smtp.gmail.com", "smtp.office365.com", "smtp-mail.outlook.com")
# Copies held in memory while IMAP is slower than SMTP; later ones are rebuilt at the end.
MAX_WAITING = 5 * BATCH


@dataclass
class Copy:
    row_id: int
    body: bytes
    when: datetime


@dataclass(frozen=True)
class CopyReport:
    """What became of the copies, for the send summary (``sent_folder`` in --json)."""

    folder: str | None
    copied: int
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "copied": self.copied, "note": self.note}


def copies_wanted(settings: Settings) -> bool:
    """Not without an [imap] url, nor from the outbox (it is no mailbox), nor where the
    SMTP server files its own copy, unless [imap] sent_folder names a folder."""
    if not settings["imap.url"] or not settings["smtp.url"]:
        return False
    host = (urlsplit(settings["smtp.url"]).hostname or "").rstrip(".").lower()
    return host not in FILES_ITS_OWN_COPY or bool(settings["imap.sent_folder"])


class SentCopies:
    """One run's copies: :meth:`want` before sending, :meth:`add` for each message the
    server accepted, :meth:`finish` after the last one."""

    def __init__(
        self,
        db: Database,
        campaign: dict[str, Any],
        factory: MessageFactory,
        settings: Settings,
        account: ImapAccount | None,
        login: str | TokenSource | None,
        folder: str,
    ) -> None:
        self.db, self.campaign, self.settings = db, campaign, settings
        self.factories = {factory.wave: factory}
        self.account, self.login, self.folder = account, login, folder
        self.copied = 0
        self.problem: str | None = None
        self._waiting: list[Copy] = []
        self._task: asyncio.Task[None] | None = None
        self._source: ImapSource | None = None

    @classmethod
    def start(
        cls,
        db: Database,
        settings: Settings,
        campaign: dict[str, Any],
        factory: MessageFactory,
        *,
        prompt: Callable[[str], str] | None,
    ) -> SentCopies | None:
        """The run's copies, or None when :func:`copies_wanted` says no. Asks for the
        IMAP password now, before sending starts: a missing one is a note, never a
        reason not to send."""
        if not copies_wanted(settings):
            return None
        copies = cls(db, campaign, factory, settings, None, None, "")
        try:
            copies.account = ImapAccount.from_url(
                settings["imap.url"], insecure=settings["imap.insecure"]
            )
            copies.folder = (
                folder_name(settings["imap.sent_folder"]) if settings["imap.sent_folder"] else ""
            )
            copies.login = imap_login(settings, copies.account, prompt=prompt)
        except MailerError as e:
            copies.problem = str(e)
        return copies

    def want(self, rows: list[Row]) -> None:
        queue.want_copies(self.db, (row.id for row in rows))

    def add(self, row_id: int, body: bytes) -> None:
        """The server accepted this message: its copy goes out with the next batch."""
        if self.problem is not None or len(self._waiting) >= MAX_WAITING:
            return  # still 'wanted': made again at the end, or by a later run
        self._waiting.append(Copy(row_id, body, now()))
        if len(self._waiting) >= BATCH and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain(final=False))

    async def finish(self, *, interrupted: bool) -> CopyReport:
        """Append what is left, then what earlier runs could not; close the session.
        After Ctrl-C nothing more is appended: the next run does it."""
        if self._task is not None:
            await self._task
        if not interrupted:
            await self._drain(final=True)
            await self._catch_up()
        if self._source is not None:
            await asyncio.to_thread(self._close)
        return self.report()

    def report(self) -> CopyReport:
        left = len(queue.copies_due(self.db, self.campaign["id"]))
        note = None
        if left:
            # A problem (a setting, the server, the statement) is not gone by itself.
            why = f": {self.problem}; once that is put right," if self.problem else ";"
            note = (
                f"{left} sent message(s) are not in the mailbox's Sent folder yet{why} "
                "the next `mailer send` or `mailer remind` of this campaign puts them there"
            )
        return CopyReport(self.folder or None, self.copied, note)

    # ---- appending

    async def _drain(self, *, final: bool) -> None:
        while self.problem is None and self._waiting and (final or len(self._waiting) >= BATCH):
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            await self._store(batch)

    async def _store(self, batch: list[Copy]) -> None:
        done, problem = await asyncio.to_thread(self._append, batch)
        if done:
            queue.copies_done(self.db, [copy.row_id for copy in batch[:done]])
            self.copied += done
        if problem is not None:
            self.problem = problem
            self._waiting.clear()

    def _append(self, batch: list[Copy]) -> tuple[int, str | None]:
        """In the IMAP thread: (how many copies went in, the problem that stopped it)."""
        done = 0
        try:
            source = self._open()
            for copy in batch:
                source.append(copy.body, self.folder, when=copy.when)
                done += 1
        except (MailerError, OSError, imaplib.IMAP4.error) as e:
            return done, str(e)
        return done, None

    def _open(self) -> ImapSource:
        if self._source is None:
            assert self.account is not None and self.login is not None
            source = ImapSource(self.account, self.login).__enter__()
            self._source = source
            if not self.folder:
                found = source.special_folder("\\Sent")
                if found is None:
                    raise MailerError(
                        f"{self.account.where} marks no folder as the Sent folder (\\Sent); "
                        "name one in [imap] sent_folder"
                    )
                self.folder = found
        return self._source

    def _close(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.__exit__(None, None, None)

    # ---- copies earlier runs could not make

    async def _catch_up(self) -> None:
        due = queue.copies_due(self.db, self.campaign["id"])
        for start in range(0, len(due), BATCH):
            if self.problem is not None:
                return
            batch = self._rebuild(due[start : start + BATCH])
            if batch:
                await self._store(batch)

    def _rebuild(self, due: list[tuple[Row, int, str]]) -> list[Copy]:
        """The messages again, as they were sent: same Message-ID, token and Date."""
        from mailer.campaigns import factory_for

        orgs = orgs_by_id(self.db, (row.org_id for row, _, _ in due if row.org_id))
        copies: list[Copy] = []
        for row, wave, sent_at in due:
            try:
                if wave not in self.factories:
                    self.factories[wave] = factory_for(
                        self.db, self.settings, self.campaign, wave=wave
                    )
                org = orgs.get(row.org_id or 0) or Org(id=0, name="")
                when = datetime.fromisoformat(sent_at)
                body = self.factories[wave].build(
                    Recipient(org, row.address_id or 0, row.email),
                    lang=row.language,
                    token=row.token,
                    message_id=row.message_id,
                    date=when,
                )
            except MailerError as e:  # the statement changed since: the copy waits
                self.problem = f"the message to {row.email} cannot be built again ({e})"
                return copies
            copies.append(Copy(row.id, body, when))
        return copies
