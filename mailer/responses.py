"""Organizations' answers to campaigns: signed, declined, acted, unsubscribed.

One current answer per organization and campaign (a table constraint); every
change, withdrawal included, is in the event log, so nothing is lost when an
answer is corrected.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from mailer.clock import stamp
from mailer.db import log_event
from mailer.errors import MailerError

KINDS = ("signed", "declined", "acted", "unsubscribed")
SOURCES = ("reply", "manual", "import", "web")


def current(db: Database, campaign_id: int, org_id: int) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT * FROM response WHERE campaign_id = ? AND org_id = ?", [campaign_id, org_id]
        )
    )
    return rows[0] if rows else None


def record(
    db: Database,
    campaign_id: int,
    org_id: int,
    kind: str,
    *,
    source: str,
    reply_id: int | None = None,
    publish_name: str | None = None,
) -> bool:
    """Set the organization's answer; returns False when nothing changed.

    Recording the same answer again is a no-op (signing twice changes
    nothing); a different answer replaces the old one, and a withdrawn
    signature becomes current again when signed anew.
    """
    if kind not in KINDS or source not in SOURCES:
        raise ValueError(f"unknown response {kind!r} from {source!r}")
    with db.atomic():
        old = current(db, campaign_id, org_id)
        if (
            old
            and old["kind"] == kind
            and old["withdrawn_at"] is None
            and (publish_name is None or publish_name == old["publish_name"])
        ):
            return False
        values = {
            "campaign_id": campaign_id,
            "org_id": org_id,
            "kind": kind,
            "source": source,
            "reply_id": reply_id,
            "publish_name": publish_name
            if publish_name is not None
            else (old or {}).get("publish_name"),
            "at": stamp(),
            "withdrawn_at": None,
        }
        if old:
            db.table("response").update(old["id"], values)
            log_event(db, "response", old["id"], "change", old=old, new=values)
        else:
            new_id = db.table("response").insert(values).last_pk
            log_event(db, "response", new_id, "create", new=values)
    return True


def withdraw(db: Database, campaign_id: int, org_id: int) -> bool:
    """Withdraw a current answer (e.g. a signature); False if there was none."""
    with db.atomic():
        old = current(db, campaign_id, org_id)
        if not old or old["withdrawn_at"] is not None:
            return False
        change = {"withdrawn_at": stamp()}
        db.table("response").update(old["id"], change)
        log_event(db, "response", old["id"], "withdraw", old=old, new=change)
    return True


def get(db: Database, response_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM response WHERE id = ?", [response_id]))
    return rows[0] if rows else None


def current_answers(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's current (not withdrawn) answers, in id order."""
    return list(
        db.query(
            "SELECT * FROM response WHERE campaign_id = ? AND withdrawn_at IS NULL", [campaign_id]
        )
    )


def signatures(db: Database, campaign_id: int) -> list[dict[str, Any]]:
    """The campaign's current signatures, in the order they were given."""
    return list(
        db.query(
            "SELECT * FROM response WHERE campaign_id = ? AND kind = 'signed'"
            " AND withdrawn_at IS NULL ORDER BY at, id",
            [campaign_id],
        )
    )


def answered(
    db: Database, campaign_ids: list[int], kind: str | None = None
) -> set[tuple[int, int]]:
    """(org_id, campaign_id) of each current answer (of ``kind``, when given) to these campaigns."""
    sql = (
        "SELECT org_id, campaign_id FROM response WHERE withdrawn_at IS NULL"
        " AND campaign_id IN (SELECT value FROM json_each(?))"
    )
    params: list[Any] = [json.dumps(campaign_ids)]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    return {(r[0], r[1]) for r in db.execute(sql, params)}


def count(db: Database, campaign_id: int) -> int:
    """Answers on record for the campaign, withdrawn ones too."""
    return int(
        db.execute("SELECT COUNT(*) FROM response WHERE campaign_id = ?", [campaign_id]).fetchone()[
            0
        ]
    )


def of_org(db: Database, org_id: int) -> list[dict[str, Any]]:
    """The organization's answers, oldest first, each with its campaign's slug (read
    from ``campaign``: the name people know a campaign by)."""
    return list(
        db.query(
            "SELECT c.slug AS campaign, r.kind, r.source, r.at, r.publish_name, r.withdrawn_at"
            " FROM response r JOIN campaign c ON c.id = r.campaign_id"
            " WHERE r.org_id = ? ORDER BY r.at",
            [org_id],
        )
    )


def signed_by(db: Database, org_ids: list[int]) -> list[str]:
    """Slugs of the campaigns these organizations have a current signature in (read
    from ``campaign``), sorted: the published lists they are in."""
    return [
        r[0]
        for r in db.execute(
            "SELECT c.slug FROM response r JOIN campaign c ON c.id = r.campaign_id"
            " WHERE r.org_id IN (SELECT value FROM json_each(?)) AND r.kind = 'signed'"
            " AND r.withdrawn_at IS NULL ORDER BY c.slug",
            [json.dumps(org_ids)],
        )
    ]


def ids_of(db: Database, org_ids: list[int]) -> list[int]:
    """Every answer of these organizations, withdrawn ones too."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM response WHERE org_id IN (SELECT value FROM json_each(?))",
            [json.dumps(org_ids)],
        )
    ]


def publish_names(db: Database, response_ids: list[int]) -> list[str | None]:
    return [
        r[0]
        for r in db.execute(
            "SELECT publish_name FROM response WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(response_ids)],
        )
    ]


def move_answers(db: Database, old_org: int, new_org: int) -> int:
    """A merge: ``old_org``'s answers become ``new_org``'s, except where ``new_org``
    has its own answer to that campaign, which wins (one answer per organization
    and campaign); the others are deleted, and logged. Returns how many moved."""
    dropped = list(
        db.query(
            "SELECT * FROM response WHERE org_id = ? AND campaign_id IN"
            " (SELECT campaign_id FROM response WHERE org_id = ?)",
            [old_org, new_org],
        )
    )
    for r in dropped:
        db.execute("DELETE FROM response WHERE id = ?", [r["id"]])
        log_event(db, "response", r["id"], "delete", old=r)
    return int(
        db.execute("UPDATE response SET org_id = ? WHERE org_id = ?", [new_org, old_org]).rowcount
    )


def delete_of(
    db: Database, *, org_ids: list[int] | None = None, campaign_id: int | None = None
) -> None:
    """Delete the answers of these organizations (an erasure) or of a campaign (its
    deletion), unlogged: the caller logs the whole deletion."""
    if org_ids is not None:
        db.execute(
            "DELETE FROM response WHERE org_id IN (SELECT value FROM json_each(?))",
            [json.dumps(org_ids)],
        )
    if campaign_id is not None:
        db.execute("DELETE FROM response WHERE campaign_id = ?", [campaign_id])


def remove(db: Database, response_id: int) -> None:
    """Undo an answer that was recorded by mistake (e.g. a misread reply)."""
    with db.atomic():
        old = db.table("response").get(response_id)
        db.execute("DELETE FROM response WHERE id = ?", [response_id])
        log_event(db, "response", response_id, "delete", old=dict(old))


def sign(
    db: Database,
    campaign: dict[str, Any],
    ref: str,
    *,
    publish_name: str | None = None,
    withdraw_it: bool = False,
) -> tuple[dict[str, Any], bool]:
    """A signature given by hand (phone, conference), or its withdrawal.

    Returns the organization and whether anything changed: signing twice, or
    withdrawing what was never signed, changes nothing. Only a signature is
    withdrawn here; a decline stays a decline.
    """
    from mailer.addresses import check_text
    from mailer.contacts import resolve_org

    org = resolve_org(db, ref)
    if withdraw_it:
        answer = current(db, campaign["id"], org["id"])
        if not answer or answer["kind"] != "signed":
            return org, False
        return org, withdraw(db, campaign["id"], org["id"])
    if publish_name is not None:
        try:
            publish_name = check_text(publish_name, "the published name") or None
        except ValueError as e:
            raise MailerError(str(e)) from None
    return org, record(
        db, campaign["id"], org["id"], "signed", source="manual", publish_name=publish_name
    )
