"""The ``reply``, ``bounce`` and ``imap_cursor`` tables: all of their SQL.

mailer.inbox.ingest stores replies, mailer.inbox.effects their bounces,
mailer.inbox.review corrects them; report, remind, campaigns, contacts and
erasure ask here what replies there are. Writers run inside the caller's
transaction and leave the event log to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from mailer.clock import stamp

# A reply that answers a test copy (send --test) is no organization's answer.
_NOT_TO_A_TEST = "coalesce(message_ref, 0) NOT IN (SELECT id FROM message WHERE is_test = 1)"


# ---------------------------------------------------------------- replies


def known(db: Database, *, content_hash: str | None = None, message_id: str | None = None) -> bool:
    """True when a reply with these bytes (SHA-256) or this Message-ID is stored."""
    column, value = (
        ("content_hash", content_hash) if content_hash else ("header_message_id", message_id)
    )
    return db.execute(f"SELECT 1 FROM reply WHERE {column} = ?", [value]).fetchone() is not None


def insert_reply(db: Database, values: Mapping[str, Any]) -> int:
    """A new reply row (``values`` by column, as stored); its id."""
    columns = ", ".join(values)
    reply_id = db.execute(
        f"INSERT INTO reply ({columns}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    ).lastrowid
    assert reply_id is not None
    return reply_id


def settle(db: Database, reply_id: int, status: str, effects: str, reason: str | None) -> None:
    """What became of a stored reply: its status, effects (JSON) and why it waits."""
    db.execute(
        "UPDATE reply SET status = ?, effects = ?, review_reason = ? WHERE id = ?",
        [status, effects, reason, reply_id],
    )


def update_reply(db: Database, reply_id: int, changes: Mapping[str, Any]) -> None:
    db.table("reply").update(reply_id, dict(changes))


def get_reply(db: Database, reply_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM reply WHERE id = ?", [reply_id]))
    return rows[0] if rows else None


_VIEW = """
SELECT r.id, r.header_message_id, r.from_addr, r.org_id, o.name AS org, c.slug AS campaign,
       r.class, r.confidence, r.text, r.attachments, r.status, r.subject, r.received_at,
       r.match_method, r.evidence, r.error, r.source, r.verified, r.review_reason, r.bounce
FROM reply r
LEFT JOIN organization o ON o.id = r.org_id
LEFT JOIN campaign c ON c.id = r.campaign_id
"""


def view(
    db: Database,
    *,
    reply_id: int | None = None,
    campaign_id: int | None = None,
    unmatched: bool = False,
    cls: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Replies as people look at them, oldest first, filtered (each filter when given),
    with the name of their organization and the slug of their campaign (read from
    ``organization`` and ``campaign``, one query for the whole list)."""
    where, params = [], []
    for clause, value in (
        ("r.id = ?", reply_id),
        ("r.campaign_id = ?", campaign_id),
        ("r.class = ?", cls),
        ("r.status = ?", status),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    if unmatched:
        where.append("r.campaign_id IS NULL")
    sql = _VIEW + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.id"
    return list(db.query(sql, params))


def for_status(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's replies from organizations, in id order, without those to test
    copies (read from ``message``)."""
    return list(
        db.query(
            "SELECT id, org_id, message_ref, class, coalesce(received_at, imported_at) AS at"
            f" FROM reply WHERE campaign_id = ? AND org_id IS NOT NULL AND {_NOT_TO_A_TEST}"
            " ORDER BY id",
            [campaign_id],
        )
    )


def awaiting_review(db: Database, campaign_id: int, classes: Iterable[str]) -> set[int]:
    """Organizations with a reply of these classes to the campaign (not one to a test
    copy, read from ``message``): they may have answered."""
    wanted = list(classes)
    return {
        r[0]
        for r in db.execute(
            f"SELECT org_id FROM reply WHERE campaign_id = ? AND class IN"
            f" ({', '.join('?' * len(wanted))}) AND status != 'test' AND {_NOT_TO_A_TEST}",
            [campaign_id, *wanted],
        )
    }


def replied(db: Database, campaign_ids: list[int], classes: Iterable[str]) -> set[tuple[int, int]]:
    """(org_id, campaign_id) of each reply of these classes to these campaigns."""
    wanted = list(classes)
    return {
        (r[0], r[1])
        for r in db.execute(
            "SELECT org_id, campaign_id FROM reply WHERE org_id IS NOT NULL"
            " AND campaign_id IN (SELECT value FROM json_each(?))"
            f" AND class IN ({', '.join('?' * len(wanted))})",
            [json.dumps(campaign_ids), *wanted],
        )
    }


def count(db: Database, campaign_id: int) -> int:
    return int(
        db.execute("SELECT COUNT(*) FROM reply WHERE campaign_id = ?", [campaign_id]).fetchone()[0]
    )


def detach_campaign(db: Database, campaign_id: int) -> None:
    """The campaign is deleted: its replies stay, unmatched (its messages are read from
    ``message`` to find those that point at one of them)."""
    db.execute(
        "UPDATE reply SET campaign_id = NULL, message_ref = NULL WHERE campaign_id = ?"
        " OR message_ref IN (SELECT id FROM message WHERE campaign_id = ?)",
        [campaign_id, campaign_id],
    )


def move_replies(db: Database, old_org: int, new_org: int) -> int:
    """``old_org``'s replies are ``new_org``'s (a merge); how many."""
    return int(
        db.execute("UPDATE reply SET org_id = ? WHERE org_id = ?", [new_org, old_org]).rowcount
    )


def ids_from(db: Database, org_ids: list[int], emails: list[str]) -> list[int]:
    """Replies matched to these organizations or sent from these addresses."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM reply WHERE org_id IN (SELECT value FROM json_each(?))"
            " OR from_addr IN (SELECT value FROM json_each(?))",
            [json.dumps(org_ids), json.dumps(emails)],
        )
    ]


def senders_and_files(db: Database, reply_ids: list[int]) -> list[tuple[str | None, str]]:
    """(from_addr, attachments JSON) of these replies."""
    return db.execute(
        "SELECT from_addr, attachments FROM reply WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(reply_ids)],
    ).fetchall()


def scrub(db: Database, reply_ids: list[int]) -> None:
    """Replies keep their class, campaign and content hash (so importing the same
    mail again does not bring it back); everything that says who wrote what goes."""
    db.execute(
        "UPDATE reply SET raw = x'', header_message_id = NULL, from_addr = NULL,"
        " subject = NULL, text = NULL, attachments = '[]', evidence = NULL, error = NULL,"
        " effects = '[]', verified = NULL, review_reason = NULL, bounce = NULL,"
        " org_id = NULL, message_ref = NULL, status = 'erased'"
        " WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(reply_ids)],
    )


# ---------------------------------------------------------------- bounces


def add_bounce(db: Database, row: Mapping[str, Any]) -> int:
    bounce_id = db.table("bounce").insert(dict(row)).last_pk
    assert isinstance(bounce_id, int)
    return bounce_id


def remove_bounce(db: Database, bounce_id: int) -> dict[str, Any]:
    """Delete one bounce; returns it as it was."""
    old = dict(db.table("bounce").get(bounce_id))
    db.execute("DELETE FROM bounce WHERE id = ?", [bounce_id])
    return old


def bounce_ids(db: Database, address_ids: list[int]) -> list[int]:
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM bounce WHERE address_id IN (SELECT value FROM json_each(?))",
            [json.dumps(address_ids)],
        )
    ]


def delete_bounces(db: Database, address_ids: list[int]) -> None:
    """The bounces of these addresses go (the addresses do), unlogged."""
    db.execute(
        "DELETE FROM bounce WHERE address_id IN (SELECT value FROM json_each(?))",
        [json.dumps(address_ids)],
    )


# ---------------------------------------------------------------- IMAP cursors


def read_cursor(db: Database, mailbox: str) -> tuple[int, int] | None:
    """(UIDVALIDITY, last UID) read from an IMAP folder, if it was read before."""
    row = db.execute(
        "SELECT uidvalidity, last_uid FROM imap_cursor WHERE mailbox = ?", [mailbox]
    ).fetchone()
    return (row[0], row[1]) if row else None


def advance_cursor(db: Database, mailbox: str, uidvalidity: int, uid: int) -> None:
    db.execute(
        "INSERT INTO imap_cursor (mailbox, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
        " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        [mailbox, uidvalidity, uid, stamp()],
    )
