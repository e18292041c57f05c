"""The send queue in the database: message rows, their states, and the campaign lock.

This module holds all SQL of the ``message`` and ``send_lock`` tables; other
modules ask it (who was sent what, when) through the functions below.

Every state change of a message is written here and logged in the event log.
``Ledger`` batches the outcome of a finished delivery with the claim of the next
one into a single durable transaction (one fsync per message instead of two),
while a claim is still committed before the connection sends MAIL FROM.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from mailer import orgstore
from mailer.clock import now, stamp
from mailer.db import log_event, log_events
from mailer.errors import Locked
from mailer.models import MessageState


@dataclass(slots=True)
class Row:
    """One message row to deliver (what the engine needs of it)."""

    id: int
    org_id: int | None
    address_id: int | None
    email: str
    language: str
    token: str
    message_id: str


_ROW_COLUMNS = "id, org_id, address_id, email, language, token, message_id"


# ------------------------------------------------------------------------ lock


@contextmanager
def send_lock(db: Database, campaign: dict[str, Any]) -> Iterator[None]:
    """Hold the campaign's ``send_lock`` row for the duration of a run.

    A lock whose process is gone from this host is taken over (a crash or kill -9
    leaves one behind); any other holder makes this run refuse to start.
    """
    host, pid = socket.gethostname(), os.getpid()
    with db.atomic():
        holder = db.execute(
            "SELECT pid, host, started_at FROM send_lock WHERE campaign_id = ?", [campaign["id"]]
        ).fetchone()
        if holder is not None:
            if holder[1] != host or _alive(holder[0]):
                raise Locked(
                    f"campaign {campaign['slug']!r} is being sent by process {holder[0]} on "
                    f"{holder[1]} since {holder[2]}",
                    hint="Wait for that run to finish. If it is gone (another computer crashed), "
                    f"remove its lock: sqlite3 DATABASE 'DELETE FROM send_lock WHERE campaign_id = {campaign['id']}'",
                )
            log_event(db, "campaign", campaign["id"], "lock_taken_over", old={"pid": holder[0]})
            db.execute("DELETE FROM send_lock WHERE campaign_id = ?", [campaign["id"]])
        db.execute(
            "INSERT INTO send_lock (campaign_id, pid, host, started_at) VALUES (?, ?, ?, ?)",
            [campaign["id"], pid, host, stamp()],
        )
    try:
        yield
    finally:
        with db.atomic():
            db.execute(
                "DELETE FROM send_lock WHERE campaign_id = ? AND pid = ? AND host = ?",
                [campaign["id"], pid, host],
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


# ------------------------------------------------------------ queue snapshots


def existing_addresses(db: Database, campaign_id: int, wave: int) -> set[int]:
    """Address ids that already have a (non-test) row in this wave."""
    return {
        r[0]
        for r in db.execute(
            "SELECT address_id FROM message WHERE campaign_id = ? AND wave = ? AND is_test = 0",
            [campaign_id, wave],
        )
    }


def insert_rows(
    db: Database, campaign_id: int, wave: int, rows: Iterable[Row], *, is_test: bool = False
) -> int:
    """Add ``queued`` rows; an address already in the wave is ignored (unique index).

    ``rows`` may be a generator: thousands of rows are streamed, never held at once.
    """
    at = stamp()
    with db.atomic():
        before = db.conn.total_changes
        db.conn.executemany(
            "INSERT OR IGNORE INTO message (campaign_id, wave, org_id, address_id, email, language,"
            " message_id, token, state, is_test, queued_at, updated_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{MessageState.QUEUED}', ?, ?, ?)",
            (
                (
                    campaign_id,
                    wave,
                    r.org_id,
                    r.address_id,
                    r.email,
                    r.language,
                    r.message_id,
                    r.token,
                    int(is_test),
                    at,
                    at,
                )
                for r in rows
            ),
        )
        added = db.conn.total_changes - before
        if added:
            log_event(
                db,
                "campaign",
                campaign_id,
                "queued",
                new={"wave": wave, "messages": added, "test": is_test},
            )
    return added


def test_rows(db: Database, campaign_id: int, message_ids: list[str]) -> list[Row]:
    """The rows just inserted for a test send (with their ids), by their Message-IDs."""
    marks = ",".join("?" * len(message_ids))
    return [
        Row(*r)
        for r in db.execute(
            f"SELECT {_ROW_COLUMNS} FROM message WHERE campaign_id = ? AND message_id IN ({marks})"
            " ORDER BY id",
            [campaign_id, *message_ids],
        )
    ]


def recover_sending(db: Database, campaign_id: int) -> int:
    """Rows a dead run left ``sending`` become ``uncertain``: never resent silently."""
    where = f"campaign_id = ? AND state = '{MessageState.SENDING}'"
    why = "the run sending it stopped before the server answered"
    with db.atomic():
        ids = [r[0] for r in db.execute(f"SELECT id FROM message WHERE {where}", [campaign_id])]
        at = stamp()
        db.execute(
            f"UPDATE message SET state = '{MessageState.UNCERTAIN}', updated_at = ?, last_reply = ?"
            f" WHERE {where}",
            [at, why, campaign_id],
        )
        events = [(i, MessageState.UNCERTAIN, why) for i in ids]
        log_transitions(db, events, at, old=MessageState.SENDING)
    return len(ids)


def expire_deferred(db: Database, campaign_id: int, wave: int, days: float) -> int:
    """Deferred rows first deferred more than ``days`` ago give up: ``failed``."""
    where = (
        f"campaign_id = ? AND wave = ? AND state = '{MessageState.DEFERRED}'"
        " AND first_deferred_at < ?"
    )
    params = [campaign_id, wave, stamp(now() - timedelta(days=days))]
    why = "still deferred after [smtp] defer_days: "
    with db.atomic():
        rows = db.execute(f"SELECT id, last_reply FROM message WHERE {where}", params).fetchall()
        at = stamp()
        db.execute(
            f"UPDATE message SET state = '{MessageState.FAILED}', updated_at = ?,"
            f" last_reply = ? || COALESCE(last_reply, '') WHERE {where}",
            [at, why, *params],
        )
        events = [(i, MessageState.FAILED, why + (reply or "")) for i, reply in rows]
        log_transitions(db, events, at, old=MessageState.DEFERRED)
    return len(rows)


def log_transitions(
    db: Database,
    events: Iterable[tuple[int, MessageState, str | None]],
    at: str,
    *,
    old: MessageState | None = None,
) -> None:
    """Audit-log messages' changes of state, (id, state, reply) each.
    ``old``: the state they all left, when known."""
    changes = [(i, state, old, {"state": state, "reply": reply}) for i, state, reply in events]
    log_events(db, "message", changes, at=at)


# Why a row that is still queued may not be sent: the address or organization changed,
# or (for a reminder) the organization has answered since the wave was planned. It reads
# ``address``, ``organization``, ``reply`` and ``response`` inside the claim's own
# UPDATE, so that nothing can change between the check and the claim.
BLOCKED = """
    (SELECT CASE
        WHEN o.do_not_contact THEN 'organization is do-not-contact'
        WHEN o.merged_into IS NOT NULL THEN 'organization was merged into another'
        WHEN a.status != 'active' THEN 'address is ' || a.status
        WHEN EXISTS (SELECT 1 FROM reply rp WHERE rp.org_id = o.id
            AND rp.class = 'unsubscribe' AND rp.status = 'review')
            THEN 'an unsubscribe request waits in `mailer replies review`'
        WHEN message.wave > 0 AND EXISTS (SELECT 1 FROM response r
            WHERE r.campaign_id = message.campaign_id AND r.org_id = o.id
            AND r.withdrawn_at IS NULL) THEN 'organization has answered'
     END
     FROM address a JOIN organization o ON o.id = a.org_id WHERE a.id = message.address_id)
"""


def waiting_states(retry_uncertain: bool) -> str:
    """The states (an SQL list) of rows still to deliver; uncertain ones only on request."""
    states = [MessageState.QUEUED, MessageState.DEFERRED]
    if retry_uncertain:
        states.append(MessageState.UNCERTAIN)
    return "(" + ", ".join(f"'{state}'" for state in states) + ")"


def pending(
    db: Database, campaign_id: int, wave: int, *, retry_uncertain: bool
) -> tuple[list[Row], list[tuple[Row, str]]]:
    """Rows of the wave still to deliver, in order, and those blocked (with the reason)."""
    states = waiting_states(retry_uncertain)
    ready: list[Row] = []
    blocked: list[tuple[Row, str]] = []
    for r in db.execute(
        f"SELECT {_ROW_COLUMNS}, {BLOCKED} FROM message WHERE campaign_id = ? AND wave = ?"
        f" AND is_test = 0 AND state IN {states} ORDER BY id",
        [campaign_id, wave],
    ):
        row = Row(*r[:-1])
        if r[-1]:
            blocked.append((row, r[-1]))
        else:
            ready.append(row)
    return ready, blocked


def count_states(db: Database, campaign_id: int, wave: int) -> dict[str, int]:
    return dict(
        db.execute(
            "SELECT state, count(*) FROM message WHERE campaign_id = ? AND wave = ? AND is_test = 0"
            " GROUP BY state",
            [campaign_id, wave],
        ).fetchall()
    )


def uncertain_by_wave(db: Database, campaign_id: int) -> dict[int, int]:
    """The campaign's messages (test copies aside) in state ``uncertain``, by wave."""
    return dict(
        db.execute(
            "SELECT wave, count(*) FROM message WHERE campaign_id = ? AND is_test = 0"
            f" AND state = '{MessageState.UNCERTAIN}' GROUP BY wave",
            [campaign_id],
        ).fetchall()
    )


def first_message_ids(db: Database, campaign_id: int) -> dict[int, str]:
    """Address id → Message-ID of the campaign's first message to it (wave 0, sent or
    uncertain: it may have arrived), which reminders to that address follow up."""
    return dict(
        db.execute(
            "SELECT address_id, message_id FROM message WHERE campaign_id = ? AND wave = 0"
            f" AND is_test = 0 AND state IN ('{MessageState.SENT}', '{MessageState.UNCERTAIN}')"
            " AND address_id IS NOT NULL",
            [campaign_id],
        ).fetchall()
    )


def sent_since(db: Database, since: datetime) -> int:
    """Messages handed to the server since ``since`` (all campaigns): the daily cap."""
    return db.execute(
        f"SELECT count(*) FROM message WHERE state = '{MessageState.SENT}' AND sent_at >= ?",
        [stamp(since)],
    ).fetchone()[0]


# ---------------------------------------------------------------- transitions


class Ledger:
    """Writes message transitions, grouping them into as few durable commits as possible.

    An outcome noted with :meth:`note` is not durable until the next claim or
    :meth:`flush`; until then the row stays ``sending`` on disk, which a crash
    turns into ``uncertain`` (never into a resend). Claims of several
    connections share one transaction (group commit): a claim waits at most
    ``window`` seconds until ``group`` claims (or one from every connection
    still running) are there. Each claim is on disk before its MAIL FROM.
    """

    _SET = {
        state: f"state = '{state}', last_reply = ?, updated_at = ?" + more
        for state, more in (
            (MessageState.SENT, ", sent_at = ?"),
            (MessageState.FAILED, ""),
            (MessageState.UNCERTAIN, ""),
            (MessageState.QUEUED, ""),
            (MessageState.DEFERRED, ", first_deferred_at = COALESCE(first_deferred_at, ?)"),
        )
    }

    def __init__(
        self,
        db: Database,
        *,
        connections: int = 1,
        group: int = 1,
        window: float = 0.0,
        retry_uncertain: bool = False,
    ) -> None:
        self.db = db
        self.connections = connections  # still running, so still able to claim
        self.group = group
        self.window = window
        self._timer: asyncio.TimerHandle | None = None
        self._notes: list[tuple[MessageState, Row, str, bool]] = []
        self._claims: list[tuple[Row, asyncio.Future[str | None]]] = []
        claimable = waiting_states(retry_uncertain)
        self._claim_sql = (
            f"UPDATE message SET state = '{MessageState.SENDING}', claimed_at = ?, updated_at = ?,"
            f" attempts = attempts + 1 WHERE id = ? AND state IN {claimable} AND {BLOCKED} IS NULL"
        )

    def note(self, row: Row, state: MessageState, reply: str, *, invalid: bool = False) -> None:
        """Record an outcome, written with the next claim (or flush)."""
        self._notes.append((state, row, reply, invalid))

    @property
    def unwritten(self) -> int:
        """Outcomes noted but not yet on disk (their rows are still ``sending`` there)."""
        return len(self._notes)

    def flush(self) -> None:
        """Write the noted outcomes. When the database refuses, they are kept for the
        next claim or flush, and the error is raised."""
        if self._notes:
            at = stamp()
            with self.db.atomic():
                log_transitions(self.db, self._write_notes(at), at)
            self._notes = []

    async def claim(self, row: Row) -> str | None:
        """Mark ``row`` sending, durably, together with the pending outcomes.

        Returns None when claimed, else why not (the address or organization
        changed since the snapshot, or another run took it).
        """
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._claims.append((row, future))
        if self._complete():
            self._commit_claims()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self._commit_claims)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.result() is None:
                # Claimed, not sent.
                self.note(row, MessageState.QUEUED, "interrupted before it was sent")
            raise

    def leave(self) -> None:
        """A connection is done: the others no longer wait for its claim."""
        self.connections -= 1
        if self._claims and self._complete():
            self._commit_claims()

    def _complete(self) -> bool:
        return len(self._claims) >= min(self.group, self.connections)

    def _commit_claims(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # A connection cancelled while waiting (Ctrl-C) must not leave a claim behind.
        claims = [(row, f) for row, f in self._claims if not f.cancelled()]
        self._claims = []
        at = stamp()
        results: list[str | None] = []
        try:
            with self.db.atomic():
                events = self._write_notes(at)
                for row, _ in claims:
                    results.append(self._claim_one(row, at))
                    if results[-1] is None:
                        events.append((row.id, MessageState.SENDING, None))
                log_transitions(self.db, events, at)
        except Exception as e:  # the notes stay, to be written by a later commit
            for _, future in claims:
                future.set_exception(e)
            return
        self._notes = []
        for (_, future), result in zip(claims, results, strict=True):
            future.set_result(result)

    def _claim_one(self, row: Row, at: str) -> str | None:
        if self.db.execute(self._claim_sql, [at, at, row.id]).rowcount == 1:
            return None
        blocked = self.db.execute(
            f"SELECT {BLOCKED} FROM message WHERE id = ?", [row.id]
        ).fetchone()
        return (blocked and blocked[0]) or "no longer waiting to be sent"

    def _write_notes(self, at: str) -> list[tuple[int, MessageState, str | None]]:
        """The noted outcomes as UPDATEs; the caller empties the notes once committed."""
        notes = self._notes
        events: list[tuple[int, MessageState, str | None]] = []
        for state, row, reply, invalid in notes:
            params: list[Any] = [reply, at]
            if state in (MessageState.SENT, MessageState.DEFERRED):
                params.append(at)
            self.db.execute(
                f"UPDATE message SET {self._SET[state]} WHERE id = ?", [*params, row.id]
            )
            events.append((row.id, state, reply))
            if invalid and row.address_id is not None:
                orgstore.set_address(self.db, row.address_id, "status", "invalid", at=at)
                log_event(
                    self.db,
                    "address",
                    row.address_id,
                    "status",
                    old="active",
                    new={"status": "invalid", "reply": reply},
                )
        return events


# ------------------------------------------------- copies for the Sent folder


def want_copies(db: Database, ids: Iterable[int]) -> None:
    """These messages get a copy in the mailbox's Sent folder once they are sent."""
    with db.atomic():
        db.conn.executemany(
            "UPDATE message SET sent_copy = 'wanted' WHERE id = ? AND sent_copy IS NULL",
            ((i,) for i in ids),
        )


def copies_due(db: Database, campaign_id: int) -> list[tuple[Row, int, str]]:
    """Sent messages of the campaign whose copy is still to be made: (row, wave, sent_at)."""
    return [
        (Row(*r[:-2]), r[-2], r[-1])
        for r in db.execute(
            f"SELECT {_ROW_COLUMNS}, wave, sent_at FROM message WHERE campaign_id = ?"
            f" AND state = '{MessageState.SENT}' AND sent_copy = 'wanted' AND is_test = 0 ORDER BY id",
            [campaign_id],
        )
    ]


def copies_done(db: Database, ids: list[int]) -> None:
    """The copies of these messages are in the Sent folder: never appended again."""
    with db.atomic():
        db.conn.executemany(
            "UPDATE message SET sent_copy = 'done' WHERE id = ?", ((i,) for i in ids)
        )


# ------------------------------------------------------ what other modules ask


def unfinished(
    db: Database, campaign_id: int, wave: int, *, retry_uncertain: bool
) -> list[tuple[int, int, str]]:
    """(org_id, address_id, email) of the wave's rows still queued or deferred (or
    uncertain, to send again) that may still go (see BLOCKED), by organization and address."""
    return db.execute(
        "SELECT org_id, address_id, email FROM message"
        " WHERE campaign_id = ? AND wave = ? AND is_test = 0 AND org_id IS NOT NULL"
        f" AND state IN {waiting_states(retry_uncertain)} AND {BLOCKED} IS NULL"
        " ORDER BY org_id, address_id",
        [campaign_id, wave],
    ).fetchall()


def history(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """org_id, wave, state and ``at`` (sent, else claimed) of the campaign's messages
    (not test copies): whom a reminder goes to."""
    return list(
        db.query(
            "SELECT org_id, wave, state, coalesce(sent_at, claimed_at) AS at FROM message"
            " WHERE campaign_id = ? AND is_test = 0",
            [campaign_id],
        )
    )


def for_status(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's messages to organizations (not test copies), in id order, as
    its status counts them."""
    return list(
        db.query(
            "SELECT id, wave, org_id, email, state, sent_at, queued_at FROM message"
            " WHERE campaign_id = ? AND is_test = 0 AND org_id IS NOT NULL ORDER BY id",
            [campaign_id],
        )
    )


def sent_to(db: Database, campaign_ids: list[int]) -> set[tuple[int, int]]:
    """(org_id, campaign_id) of each organization a message of these campaigns reached
    the server for (not a test copy)."""
    return {
        (r[0], r[1])
        for r in db.execute(
            f"SELECT DISTINCT org_id, campaign_id FROM message WHERE state = '{MessageState.SENT}'"
            " AND is_test = 0 AND org_id IS NOT NULL"
            " AND campaign_id IN (SELECT value FROM json_each(?))",
            [json.dumps(campaign_ids)],
        )
    }


def out_count(db: Database, campaign_id: int) -> int:
    """Messages of the campaign that went out, or may have: sent, uncertain, sending."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM message WHERE campaign_id = ? AND is_test = 0"
            f" AND state IN ('{MessageState.SENT}', '{MessageState.UNCERTAIN}',"
            f" '{MessageState.SENDING}')",
            [campaign_id],
        ).fetchone()[0]
    )


def wave_count(db: Database, campaign_id: int) -> int:
    """How many waves of the campaign have messages (not test copies)."""
    return int(
        db.execute(
            "SELECT COUNT(DISTINCT wave) FROM message WHERE campaign_id = ? AND is_test = 0",
            [campaign_id],
        ).fetchone()[0]
    )


def delete_campaign(db: Database, campaign_id: int) -> None:
    """The campaign's messages and lock go with it (call while holding that lock)."""
    db.execute("DELETE FROM message WHERE campaign_id = ?", [campaign_id])
    db.execute("DELETE FROM send_lock WHERE campaign_id = ?", [campaign_id])


def matching_index(db: Database) -> list[tuple[Any, ...]]:
    """(id, campaign_id, org_id, address_id, token, message_id, state, is_test) of every
    message, the last sent last: what a reply is matched against."""
    return db.execute(
        "SELECT id, campaign_id, org_id, address_id, token, message_id, state, is_test"
        " FROM message ORDER BY sent_at IS NULL, sent_at, id"
    ).fetchall()


def latest_sent(db: Database, org_id: int, campaign_id: int | None) -> dict[str, Any] | None:
    """id, campaign_id and address_id of the latest message sent to the organization
    (in that campaign, when given)."""
    sql = "SELECT id, campaign_id, address_id FROM message WHERE org_id = ?"
    sql += f" AND state = '{MessageState.SENT}' AND is_test = 0"
    params: list[Any] = [org_id]
    if campaign_id is not None:
        sql += " AND campaign_id = ?"
        params.append(campaign_id)
    rows = list(db.query(sql + " ORDER BY sent_at DESC, id DESC LIMIT 1", params))
    return rows[0] if rows else None


def first_to(db: Database, campaign_id: int, email: str) -> tuple[str, str] | None:
    """(Message-ID, token) of the first message of the campaign to ``email``."""
    row = db.execute(
        "SELECT message_id, token FROM message WHERE campaign_id = ? AND email = ?"
        " AND is_test = 0 ORDER BY wave LIMIT 1",
        [campaign_id, email],
    ).fetchone()
    return (row[0], row[1]) if row else None


def address_used(db: Database, address_id: int) -> bool:
    """True when a message went (or is queued) to the address: it is history then."""
    return (
        db.execute("SELECT 1 FROM message WHERE address_id = ? LIMIT 1", [address_id]).fetchone()
        is not None
    )


def move_messages(db: Database, old_org: int, new_org: int) -> int:
    """``old_org``'s messages are ``new_org``'s (a merge); how many."""
    return int(
        db.execute("UPDATE message SET org_id = ? WHERE org_id = ?", [new_org, old_org]).rowcount
    )


def ids_of_orgs(db: Database, org_ids: list[int]) -> list[int]:
    """The messages sent (or queued) to these organizations, test copies left out."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM message WHERE org_id IN (SELECT value FROM json_each(?))"
            " AND is_test = 0",
            [json.dumps(org_ids)],
        )
    ]


def delete_messages(db: Database, message_ids: list[int]) -> None:
    """Delete these messages (an erasure), unlogged: the erasure logs itself once."""
    db.execute(
        "DELETE FROM message WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(message_ids)],
    )


def detach_test_copies(db: Database, org_ids: list[int]) -> None:
    """Test copies that used these organizations as their example are kept without them."""
    db.execute(
        "UPDATE message SET org_id = NULL WHERE is_test = 1"
        " AND org_id IN (SELECT value FROM json_each(?))",
        [json.dumps(org_ids)],
    )
