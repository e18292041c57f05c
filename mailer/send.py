"""Sending a wave of a campaign: each message exactly once, over N connections.

``run_wave`` takes the campaign lock, turns rows a dead run left ``sending`` into
``uncertain``, snapshots the recipients into ``queued`` rows, then feeds them from
one queue to N workers, each owning one connection, under one global rate limit.
A row is claimed (committed) right before its MAIL FROM and settled by the
transport's ``Outcome``; transitions go out as ``SendEvent``s for the CLI to show.
SQLite is only touched from the event-loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from mailer import queue
from mailer.addresses import normalize_email
from mailer.clock import now
from mailer.config import Settings, parse_rate
from mailer.contacts import orgs_by_id
from mailer.db import database_error
from mailer.dkim import Signer, signer_from_settings
from mailer.errors import MailerError, TemplateError, TransportError
from mailer.models import MessageState, Org, Recipient
from mailer.queue import Ledger, Row
from mailer.ratelimit import RateLimiter
from mailer.tokens import BOUNCE, message_id, new_token, plus_address
from mailer.transport import Connection, Outcome, SmtpTransport, Transport, open_transport

if TYPE_CHECKING:  # render is imported when a run needs it (tests pass their own factory)
    from mailer.render import MessageFactory
    from mailer.sentfolder import CopyReport, SentCopies

# Claims share their fsync (group commit): a claim waits up to this long for the
# claims of half the connections. Half, not all: connections that commit together
# then talk to the server together, so with every connection in one group the
# server and mailer take turns, each idle while the other works. Two halves keep
# both busy. Measured on loopback with 4 connections: pairs send about 8 % more
# per second than groups of 4, which beat committing each claim alone; 3 ms
# outlasts the spread between conversations, so the window is rarely waited
# out. A real server's round trips are tens of milliseconds: it costs nothing there.
GROUP_COMMIT_WINDOW = 0.003
# A row this run left alone (blocked since it was queued, or its template failed): it
# stays queued. Not a state of its own: a run reports it beside the states it set.
SKIPPED = "skipped"
# What can become of a message in one run, in the order summaries show them.
STATES: tuple[str, ...] = (
    MessageState.SENT,
    MessageState.DEFERRED,
    MessageState.FAILED,
    MessageState.UNCERTAIN,
    SKIPPED,
)


@dataclass(frozen=True)
class SendOptions:
    dry_run: bool = False
    test_email: str | None = None
    limit: int | None = None
    retry_uncertain: bool = False
    force: bool = False  # send even though the deadline is past


@dataclass(frozen=True)
class SendEvent:
    """One thing that happened, for a progress display.

    kind: "start" (total = messages to send), "retry", or one of ``STATES``.
    """

    kind: str
    email: str = ""
    reply: str = ""
    total: int = 0


@dataclass
class SendSummary:
    campaign: str
    wave: int
    transport: str
    dry_run: bool = False
    test: bool = False
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    previously_sent: int = 0
    found_uncertain: int = 0
    uncertain_earlier: int = 0  # the campaign's, left by earlier runs (any wave)
    resend_uncertain: list[str] = field(default_factory=list)  # commands that resend them
    languages: Counter[str] = field(default_factory=Counter)
    problems: list[dict[str, str]] = field(default_factory=list)
    interrupted: str | None = None
    error: str | None = None  # the run could not finish its job (server lost, sender refused)
    note: str | None = None  # the run stopped early by design (daily cap)
    sent_folder: CopyReport | None = None  # copies in the mailbox's Sent folder ([imap] url)

    @property
    def not_attempted(self) -> int:
        done = sum(self.counts[k] for k in STATES)
        return max(0, self.total - done)

    def as_dict(self) -> dict[str, Any]:
        """The ``send --json`` document."""
        return {
            "campaign": self.campaign,
            "wave": self.wave,
            "transport": self.transport,
            "dry_run": self.dry_run,
            "test": self.test,
            "total": self.total,
            **{k: self.counts[k] for k in STATES},
            "not_attempted": self.not_attempted,
            "previously_sent": self.previously_sent,
            "found_uncertain": self.found_uncertain,
            "uncertain_earlier": self.uncertain_earlier,
            "resend_uncertain": self.resend_uncertain,
            "languages": dict(self.languages),
            "problems": self.problems,
            "interrupted": self.interrupted,
            "error": self.error,
            "note": self.note,
            "sent_folder": self.sent_folder.as_dict() if self.sent_folder else None,
        }


class Stop:
    """Ctrl-C / SIGTERM: no new claims; after ``grace`` seconds ([smtp] grace), or at a
    second Ctrl-C, the messages still in flight are cut off (left uncertain).

    The run also sets ``event`` itself when it must stop (a fatal reply, a database
    that refuses): no signal then, and a Ctrl-C after it is still a first one."""

    def __init__(self, grace: float = 10.0) -> None:
        self.event = asyncio.Event()
        self.grace = grace
        self.signal: str | None = None
        self.cut: Callable[[], object] | None = None

    def request(self, name: str = "SIGINT") -> None:
        if self.signal is not None:  # a second Ctrl-C: do not wait for the grace period
            self._cut()
            return
        self.signal = name
        self.event.set()
        asyncio.get_running_loop().call_later(self.grace, self._cut)

    def _cut(self) -> None:
        if self.cut:
            self.cut()

    def is_set(self) -> bool:
        return self.event.is_set()

    async def sleep(self, seconds: float) -> None:
        """Sleep that ends early when a stop is requested."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), max(0.0, seconds))


EventSink = Callable[[SendEvent], None]


# ------------------------------------------------------------------- entry points


def send_campaign(
    db: Database,
    settings: Settings,
    slug: str,
    options: SendOptions,
    *,
    on_event: EventSink | None = None,
    prompt: Callable[[str], str] | None = None,
) -> SendSummary:
    """``mailer send``: wave 0 of the campaign's audience, unless something
    `mailer check` reports as blocking stops it (:class:`~mailer.errors.Blocked`).
    A past deadline does not stop test copies."""
    from mailer.campaigns import get_campaign
    from mailer.preflight import require_ready

    campaign = get_campaign(db, slug)
    require_ready(db, settings, campaign, force=options.force or bool(options.test_email))
    return send_wave(db, settings, campaign, options, on_event=on_event, prompt=prompt)


def send_wave(
    db: Database,
    settings: Settings,
    campaign: dict[str, Any],
    options: SendOptions,
    *,
    wave: int = 0,
    recipients: list[Recipient] | None = None,
    on_event: EventSink | None = None,
    prompt: Callable[[str], str] | None = None,
) -> SendSummary:
    """:func:`run_wave` in its own event loop, with Ctrl-C and SIGTERM turned
    into a clean stop; what ``send`` and ``remind`` both run."""

    async def main() -> SendSummary:
        stop = Stop(grace=settings["smtp.grace"])
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.request, sig.name)
        try:
            return await run_wave(
                db,
                settings,
                campaign,
                wave=wave,
                recipients=recipients,
                options=options,
                on_event=on_event,
                prompt=prompt,
                stop=stop,
            )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    summary = asyncio.run(main())
    this_run = 0 if summary.test else summary.counts[MessageState.UNCERTAIN]
    summary.uncertain_earlier, summary.resend_uncertain = left_uncertain(
        db, campaign, this_run=this_run
    )
    return summary


def left_uncertain(
    db: Database, campaign: dict[str, Any], *, this_run: int = 0
) -> tuple[int, list[str]]:
    """How many of the campaign's messages earlier runs left uncertain (they may have
    arrived or not), and the commands that send every uncertain one again with its
    Message-ID. ``this_run``: those the current run left, which its counts show."""
    by_wave = queue.uncertain_by_wave(db, campaign["id"])
    slug = campaign["slug"]
    commands = [f"mailer send {slug} --retry-uncertain"] if by_wave.get(0) else []
    if any(wave > 0 for wave in by_wave):
        commands.append(f"mailer remind {slug} --retry-uncertain")
    return sum(by_wave.values()) - this_run, commands


async def run_wave(
    db: Database,
    settings: Settings,
    campaign: dict[str, Any],
    *,
    wave: int,
    recipients: list[Recipient] | None,
    options: SendOptions,
    on_event: EventSink | None = None,
    prompt: Callable[[str], str] | None = None,
    stop: Stop | None = None,
    factory: MessageFactory | None = None,
    transport: Transport | None = None,
) -> SendSummary:
    """Deliver one wave exactly once; recipients None = the campaign's audience.

    ``factory`` and ``transport`` default to the campaign's statement and the
    configured server; tests pass their own.
    """
    if factory is None:
        from mailer.campaigns import factory_for

        factory = factory_for(db, settings, campaign, wave=wave)
    if recipients is None:
        from mailer.campaigns import audience

        recipients = audience(db, campaign)
    run = _Run(
        db,
        settings,
        campaign,
        factory,
        wave=wave,
        options=options,
        on_event=on_event or (lambda e: None),
        stop=stop or Stop(grace=settings["smtp.grace"]),
    )
    test_email = check_test_address(options.test_email) if options.test_email else None
    if transport is None:
        transport = open_transport(settings, prompt=prompt, login=not options.dry_run)
    if options.dry_run:
        return run.dry_run(recipients, transport.description)
    if test_email:
        return await run.test_send(recipients, transport, test_email)
    if isinstance(transport, SmtpTransport):
        from mailer.sentfolder import SentCopies

        run.copies = SentCopies.start(db, settings, campaign, factory, prompt=prompt)
    try:
        with queue.send_lock(db, campaign):
            return await run.send(recipients, transport)
    except sqlite3.DatabaseError as e:
        if not run.summary.total:  # nothing begun: the error alone says it all
            raise
        run.database_failed(e)  # the lock's release, the campaign's status
        return run.summary


# --------------------------------------------------------------------- the run


class _Run:
    """One invocation: the state shared by the workers."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        campaign: dict[str, Any],
        factory: MessageFactory,
        *,
        wave: int,
        options: SendOptions,
        on_event: EventSink,
        stop: Stop,
    ) -> None:
        self.db = db
        self.settings = settings
        self.campaign = campaign
        self.factory = factory
        self.wave = wave
        self.options = options
        self.emit = on_event
        self.stop = stop
        self.retry_for = settings["smtp.retry_for"]
        self.signer: Signer | None = signer_from_settings(settings)
        self.orgs: dict[int, Org] = {}
        # Test copies belong to no organization; each is rendered as its model's.
        self.models: dict[str, Org] = {}
        # A reminder continues the thread of the first message to its address.
        self.threads = queue.first_message_ids(db, campaign["id"]) if wave else {}
        self.summary = SendSummary(campaign["slug"], wave, "")
        self.copies: SentCopies | None = None  # for the Sent folder, when sent over SMTP

    def database_failed(self, error: sqlite3.DatabaseError) -> None:
        """The database refused a write (locked past the busy timeout, disk full…):
        no new claims, the messages in flight finish, and the summary says why.
        Re-raises an error of mailer's own SQL, which is a bug to report."""
        problem = database_error(error, self.settings.path("db.path"))
        if problem is None:
            raise error
        if not self.summary.error:
            self.summary.error = f"sending stopped: {problem}"
        self.stop.event.set()

    # ---- building messages

    def _new_row(self, recipient: Recipient, *, is_test: bool = False) -> Row:
        token = new_token()
        return Row(
            id=0,
            org_id=None if is_test else recipient.org.id or None,
            address_id=None if is_test else recipient.address_id,
            email=recipient.email,
            language=self.factory.language_for(recipient),
            token=token,
            message_id=message_id(token, self.campaign["slug"], self.factory.sender),
        )

    def _fresh_rows(self, recipients: list[Recipient]) -> list[Row]:
        """New rows for the recipients that have none in this wave yet."""
        have = queue.existing_addresses(self.db, self.campaign["id"], self.wave)
        return [self._new_row(r) for r in recipients if r.address_id not in have]

    def _build(self, row: Row) -> bytes:
        org = self.models.get(row.message_id) or self.orgs.get(row.org_id or 0) or Org(0, "")
        body = self.factory.build(
            Recipient(org, row.address_id or 0, row.email),
            lang=row.language,
            token=row.token,
            message_id=row.message_id,
            in_reply_to=self.threads.get(row.address_id or 0),
            test=row.message_id in self.models,
        )
        return self.signer.sign(body) if self.signer else body

    def envelope_sender(self, row: Row) -> str:
        """MAIL FROM: bounces return there. With reply tokens on, a VERP address
        (``local+bounce-TOKEN@domain``) ties every bounce to its message, even one
        that returns nothing of the original (DESIGN §7a)."""
        sender = self.factory.sender
        if self.settings["sender.reply_token"] and self.settings["sender.verp"]:
            return plus_address(sender, row.token, BOUNCE)
        return sender

    def _load_orgs(self, recipients: list[Recipient], rows: list[Row]) -> None:
        self.orgs = {r.org.id: r.org for r in recipients}
        missing = {r.org_id for r in rows if r.org_id and r.org_id not in self.orgs}
        self.orgs.update(orgs_by_id(self.db, missing))

    def _preflight(self, rows: list[Row]) -> None:
        """One message per language before any connection: template errors that every
        recipient would meet stop the run here; one organization's own is skipped later."""
        from mailer.campaigns import build_sample

        for lang in dict.fromkeys(row.language for row in rows):
            build_sample(self.factory, lang)

    # ---- the three modes

    def dry_run(self, recipients: list[Recipient], transport: str) -> SendSummary:
        """Render everything that would go out; write nothing."""
        s = self.summary
        s.dry_run, s.transport = True, transport
        ready, blocked = queue.pending(
            self.db, self.campaign["id"], self.wave, retry_uncertain=self.options.retry_uncertain
        )
        ready += self._fresh_rows(recipients)
        ready = ready[: self._allowance(len(ready))]
        self._load_orgs(recipients, ready)
        self._preflight(ready)  # an error every message has stops the dry run as it stops a send
        s.total = len(ready) + len(blocked)
        s.previously_sent = queue.count_states(self.db, self.campaign["id"], self.wave).get(
            MessageState.SENT, 0
        )
        for row, why in blocked:
            self._record(row, SKIPPED, why)
        for row in ready:
            try:
                self._build(row)
            except TemplateError as e:
                self._record(row, SKIPPED, str(e))
            else:
                s.languages[row.language] += 1
        return s

    async def test_send(
        self, recipients: list[Recipient], transport: Transport, email: str
    ) -> SendSummary:
        """One copy per language to ``email``, recorded with is_test=1."""
        s = self.summary
        s.test, s.transport = True, transport.description
        by_lang: dict[str, Recipient] = {}
        for r in recipients:
            by_lang.setdefault(self.factory.language_for(r.org), r)
        languages = self.factory.languages  # the statement as it is now, not as it was
        sample = next(iter(by_lang.values()), None)
        rows = []
        for lang in languages:
            model = by_lang.get(lang) or sample
            org = model.org if model else Org(id=0, name=self.campaign["title"])
            row = self._new_row(Recipient(org, 0, email), is_test=True)
            row.language = lang
            rows.append(row)
            self.models[row.message_id] = org
        rows = rows[: self._allowance(len(rows))]  # test copies are mail the server counts
        s.total = len(rows)
        self.emit(SendEvent("start", total=s.total))
        self._preflight(rows)
        queue.insert_rows(self.db, self.campaign["id"], self.wave, rows, is_test=True)
        rows = queue.test_rows(self.db, self.campaign["id"], [r.message_id for r in rows])
        await self._deliver_all(rows, transport, RateLimiter(None))
        return s

    async def send(self, recipients: list[Recipient], transport: Transport) -> SendSummary:
        s = self.summary
        s.transport = transport.description
        cid = self.campaign["id"]
        s.found_uncertain = queue.recover_sending(self.db, cid)
        queue.insert_rows(self.db, cid, self.wave, self._fresh_rows(recipients))
        queue.expire_deferred(self.db, cid, self.wave, self.settings["smtp.defer_days"])
        ready, blocked = queue.pending(
            self.db, cid, self.wave, retry_uncertain=self.options.retry_uncertain
        )
        s.previously_sent = queue.count_states(self.db, cid, self.wave).get(MessageState.SENT, 0)
        ready = ready[: self._allowance(len(ready))]
        s.total = len(ready) + len(blocked)
        self._load_orgs(recipients, ready)
        self.emit(SendEvent("start", total=s.total))
        for row, why in blocked:
            self._record(row, SKIPPED, why)
        if ready:
            self._preflight(ready)
            if self.copies:
                self.copies.want(ready)
            await self._deliver_all(ready, transport, self._limiter(transport))
        if self.copies:
            s.sent_folder = await self.copies.finish(interrupted=self.stop.is_set())
        if s.counts[MessageState.SENT] or s.previously_sent:
            from mailer.campaigns import mark_sent

            mark_sent(self.db, cid)
        return s

    def _allowance(self, count: int) -> int:
        """--limit and the daily cap: how many of ``count`` rows this run may send."""
        allowed = count if self.options.limit is None else min(count, self.options.limit)
        cap = self.settings["smtp.daily_cap"]
        if cap > 0:
            today = now().replace(hour=0, minute=0, second=0, microsecond=0)
            left = max(0, cap - queue.sent_since(self.db, today))
            if left < allowed:
                self.summary.note = (
                    f"the daily cap of {cap} messages ([smtp] daily_cap) leaves {left} for today"
                )
            allowed = min(allowed, left)
        return allowed

    def _limiter(self, transport: Transport) -> RateLimiter:
        if not transport.rate_limited:
            return RateLimiter(None)
        rate = parse_rate(self.settings["smtp.rate"])  # checked when the settings loaded
        if rate is None:
            return RateLimiter(None)
        return RateLimiter(rate[0], rate[1], sleep=self.stop.sleep)

    # ---- delivery

    async def _deliver_all(
        self, rows: list[Row], transport: Transport, limiter: RateLimiter
    ) -> None:
        count = self.settings["smtp.concurrency"]
        if transport.max_connections:
            count = min(count, transport.max_connections)
        count = max(1, min(count, len(rows)))
        connections = [transport.connection() for _ in range(count)]
        await connections[0].open()  # unreachable at the start: nothing was claimed
        ledger = Ledger(
            self.db,
            connections=count,
            group=max(1, count // 2),
            window=GROUP_COMMIT_WINDOW,
            retry_uncertain=self.options.retry_uncertain,
        )
        work = _Work(rows)
        workers = [_Worker(self, c, work, ledger, limiter) for c in connections]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(w.run()) for w in workers]
                self.stop.cut = lambda: [t.cancel() for t in tasks]
        finally:
            self.stop.cut = None
            self._flush(ledger)
        if ledger.unwritten:
            self.summary.error = (
                f"{self.summary.error}; the outcome of {ledger.unwritten} message(s) could not "
                "be recorded, so the next run marks them uncertain"
            )
        if self.stop.is_set() and self.stop.signal:
            self.summary.interrupted = self.stop.signal
        elif work.left() and not self.summary.error:
            errors = [w.error for w in workers if w.error]
            self.summary.error = errors[0] if errors else "some messages could not be attempted"

    def _flush(self, ledger: Ledger) -> None:
        """Write the outcomes noted so far; a database that refuses stops the run."""
        try:
            ledger.flush()
        except sqlite3.DatabaseError as e:
            self.database_failed(e)

    def _record(self, row: Row, kind: str, reply: str) -> None:
        self.summary.counts[kind] += 1
        if kind != MessageState.SENT:
            self.summary.problems.append({"email": row.email, "state": kind, "reply": reply})
        self.emit(SendEvent(kind, row.email, reply))


class _Work:
    """The shared queue: fresh rows in order, plus rows waiting for a retry time."""

    def __init__(self, rows: list[Row]) -> None:
        self.fresh = list(reversed(rows))  # pop() from the end: O(1), original order
        self.later: list[tuple[float, int, Row]] = []
        self.tries: dict[int, tuple[float, int]] = {}  # row id -> (first failure, failures)

    def left(self) -> int:
        return len(self.fresh) + len(self.later)

    def take(self, clock: float) -> Row | float | None:
        """A row to send now, else the time the next retry is due, else None (done)."""
        if self.later and self.later[0][0] <= clock:
            return heapq.heappop(self.later)[2]
        if self.fresh:
            return self.fresh.pop()
        return self.later[0][0] if self.later else None

    def put_back(self, row: Row) -> None:
        self.fresh.append(row)

    def retry_at(self, row: Row, clock: float, retry_for: float) -> float | None:
        """When to try ``row`` again, or None when its time in this run is used up."""
        first, failures = self.tries.get(row.id, (clock, 0))
        self.tries[row.id] = (first, failures + 1)
        due = clock + backoff(failures, retry_for)
        return None if due - first > retry_for else due

    def schedule(self, row: Row, due: float) -> None:
        heapq.heappush(self.later, (due, row.id, row))


def backoff(failures: int, retry_for: float) -> float:
    """1, 2, 4, 8, 16, 30 s… for the default retry_for of 60 s; scaled with it."""
    unit = retry_for / 60
    return min(unit * 2**failures, unit * 30)


class _Worker:
    """One connection's loop: connect, take a row, wait for the rate, claim, deliver.

    While the server reads a message, the worker builds its next one: building
    then overlaps the server's work instead of keeping it waiting.
    """

    def __init__(
        self, run: _Run, connection: Connection, work: _Work, ledger: Ledger, limiter: RateLimiter
    ) -> None:
        self.owner = run
        self.connection = connection
        self.work = work
        self.ledger = ledger
        self.limiter = limiter
        self.error: str | None = None
        self.ahead: tuple[Row, bytes | MailerError] | None = None  # taken and built early

    async def run(self) -> None:
        stop = self.owner.stop
        try:
            while not stop.is_set():
                row = await self._next_row()
                if row is None or not await self._connect():
                    if row is not None:
                        self._put_back(row)
                    return
                if self.limiter.would_wait():
                    self.ledger.flush()  # do not leave an outcome pending during the wait
                if not await self.limiter.acquire(stop.event):
                    self._put_back(row)
                    return
                await self._one(row)
        except sqlite3.DatabaseError as e:  # a claim or outcome could not be written
            self.owner.database_failed(e)  # the other connections finish what is in flight
        finally:  # a row built ahead stays queued in the database: nothing to undo
            self.ledger.leave()
            self.owner._flush(self.ledger)
            await self.connection.close()

    def _put_back(self, row: Row) -> None:
        self.ahead = None
        self.work.put_back(row)

    async def _next_row(self) -> Row | None:
        if self.ahead is not None:
            return self.ahead[0]
        while True:
            got = self.work.take(time.monotonic())
            if not isinstance(got, float):
                return got
            self.ledger.flush()
            await self.owner.stop.sleep(got - time.monotonic())
            if self.owner.stop.is_set():
                return None

    async def _connect(self) -> bool:
        """(Re)connect with backoff; False when the server stays away too long."""
        started, failures = time.monotonic(), 0
        while not self.owner.stop.is_set():
            try:
                await self.connection.open()
                return True
            except TransportError as e:
                if time.monotonic() - started > self.owner.retry_for:
                    self.error = str(e)
                    return False
                await self.owner.stop.sleep(backoff(failures, self.owner.retry_for))
                failures += 1
        return False

    async def _one(self, row: Row) -> None:
        run = self.owner
        try:
            body = self._body(row)
        except TemplateError as e:
            run._record(row, SKIPPED, str(e))
            return
        why_not = await self.ledger.claim(row)
        if why_not:
            run._record(row, SKIPPED, why_not)
            return
        try:
            outcome = await self.connection.deliver(
                run.envelope_sender(row), row.email, body, self._build_ahead
            )
        except asyncio.CancelledError:  # the grace period after Ctrl-C ran out
            self.connection.abort()
            why = "interrupted while the message was in flight"
            self.ledger.note(row, MessageState.UNCERTAIN, why)
            run._record(row, MessageState.UNCERTAIN, why)
            raise
        self._settle(row, outcome)
        if outcome.state == MessageState.SENT and run.copies:
            run.copies.add(row.id, body)

    def _body(self, row: Row) -> bytes:
        """The message for ``row``: the one built ahead, else built now."""
        if self.ahead is None:
            return self.owner._build(row)
        built = self.ahead[1]
        self.ahead = None
        if isinstance(built, MailerError):
            raise built
        return built

    def _build_ahead(self) -> None:
        """Take the next row that is due now and build its message."""
        if self.ahead is not None or self.owner.stop.is_set():
            return
        row = self.work.take(time.monotonic())
        if not isinstance(row, Row):
            return
        try:
            self.ahead = (row, self.owner._build(row))
        except MailerError as e:  # reported when the row's turn comes
            self.ahead = (row, e)

    def _settle(self, row: Row, outcome: Outcome) -> None:
        run = self.owner
        if outcome.state != MessageState.QUEUED:  # the server answered for good
            self.ledger.note(row, outcome.state, outcome.reply, invalid=outcome.invalid)
            run._record(row, outcome.state, outcome.reply)
            return
        if outcome.fatal:  # not this recipient's fault: stop the run, keep the row
            self.ledger.note(row, MessageState.QUEUED, outcome.reply)
            self.work.put_back(row)
            reply = outcome.reply
            if reply.startswith("MAIL FROM <") and run.envelope_sender(row) != run.factory.sender:
                reply += (
                    " (a server that refuses plus-addressed senders needs [sender] verp = false)"
                )
            run.summary.error = f"sending stopped: {reply}"
            run.stop.event.set()
            return
        due = self.work.retry_at(row, time.monotonic(), run.retry_for)
        if due is None:
            self.ledger.note(row, MessageState.DEFERRED, outcome.reply)
            run._record(row, MessageState.DEFERRED, outcome.reply)
            return
        self.ledger.note(row, MessageState.QUEUED, outcome.reply)
        self.work.schedule(row, due)
        run.emit(SendEvent("retry", row.email, outcome.reply))


def check_test_address(email: str) -> str:
    """The --test address, validated like any address we store."""
    try:
        return normalize_email(email, to_send=True)
    except ValueError as e:
        raise MailerError(f"--test: {e}") from None
