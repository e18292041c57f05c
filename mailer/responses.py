"""Organizations' answers to campaigns: signed, declined, acted, unsubscribed.

One current answer per organization and campaign (a table constraint); every
change, withdrawal included, is in the event log, so nothing is lost when an
answer is corrected.
"""

from __future__ import annotations

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
