"""What a classified reply changes, and how ``reply mark`` takes it back.

A confident bounce marks addresses (hard at once, soft after ``SOFT_LIMIT``
in a row); an unsubscribe opts the whole organization out (the request is
the organization's: mailing another of its addresses would ignore it);
confident sign-ons, declines and action reports become responses. Each change
is logged and listed in the reply's ``effects`` so it can be undone exactly.
Callers run these inside the transaction that stores the reply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from mailer import contacts, responses
from mailer.clock import stamp
from mailer.db import log_event
from mailer.models import ReplyClass

if TYPE_CHECKING:
    from mailer.inbox.classify import BounceInfo

SOFT_LIMIT = 3
"""Soft bounces in a row (no reply from the address in between) that mark it bounced."""

RESPONSE_OF = {
    ReplyClass.SIGNON: "signed",
    ReplyClass.DECLINE: "declined",
    ReplyClass.ACTED: "acted",
    ReplyClass.UNSUBSCRIBE: "unsubscribed",
}

# reply.status values
APPLIED = "applied"  # its effects were recorded automatically
DONE = "done"  # nothing to do (an auto-reply)
REVIEW = "review"  # waits for `replies review` or `reply mark`
REVIEWED = "reviewed"  # a person decided with `reply mark`


@dataclass(frozen=True)
class Verdict:
    """What the reply means, as far as effects are concerned."""

    cls: ReplyClass
    confident: bool
    bounce: BounceInfo | None = None
    unsubscribe_token: bool = False  # sent to our +unsub- address: an explicit request


def apply(
    db: Database, reply: dict[str, Any], verdict: Verdict, *, address_id: int | None
) -> tuple[str, list[dict[str, Any]]]:
    """Record the verdict's effects for ``reply`` (a reply row); returns (status, effects)."""
    effects: list[dict[str, Any]] = []
    if verdict.cls == ReplyClass.BOUNCE:
        if not verdict.confident:
            return REVIEW, effects
        targets = [address_id] if address_id else _addresses(db, verdict.bounce)
        for target in targets:
            effects += _bounce(db, target, reply["id"], verdict.bounce)
        return (APPLIED if targets else REVIEW), effects
    if reply["from_addr"]:
        effects += _reset_soft_bounces(db, reply["from_addr"])
    if verdict.unsubscribe_token or (verdict.cls == ReplyClass.UNSUBSCRIBE and verdict.confident):
        if reply["org_id"] is None:
            return REVIEW, effects
        effects += _optout(db, reply["org_id"])
        if reply["campaign_id"] is not None:
            effects += respond(db, reply, ReplyClass.UNSUBSCRIBE)
        return APPLIED, effects
    if verdict.cls in (ReplyClass.SIGNON, ReplyClass.DECLINE, ReplyClass.ACTED):
        if verdict.confident and reply["org_id"] and reply["campaign_id"]:
            return APPLIED, effects + respond(db, reply, verdict.cls)
        return REVIEW, effects
    if verdict.cls == ReplyClass.AUTO_REPLY and verdict.confident:
        return DONE, effects
    return REVIEW, effects


def respond(db: Database, reply: dict[str, Any], cls: ReplyClass) -> list[dict[str, Any]]:
    """The organization's response for the reply's campaign, with the reply as its source."""
    previous = responses.current(db, reply["campaign_id"], reply["org_id"])
    changed = responses.record(
        db,
        reply["campaign_id"],
        reply["org_id"],
        RESPONSE_OF[cls],
        source="reply",
        reply_id=reply["id"],
    )
    if not changed:
        return []
    now = responses.current(db, reply["campaign_id"], reply["org_id"])
    assert now is not None
    return [{"effect": "response", "id": now["id"], "previous": previous}]


def _addresses(db: Database, bounce: BounceInfo | None) -> list[int]:
    """Our addresses among the bounce's failed recipients (when no sent message matched)."""
    emails = [contacts.email_key(e) for e in (bounce.recipients if bounce else [])]
    if not emails:
        return []
    marks = ",".join("?" * len(emails))
    return [r[0] for r in db.execute(f"SELECT id FROM address WHERE email IN ({marks})", emails)]


def _bounce(
    db: Database, address_id: int, reply_id: int, bounce: BounceInfo | None
) -> list[dict[str, Any]]:
    hard = bool(bounce and bounce.hard)
    row = {
        "address_id": address_id,
        "reply_id": reply_id,
        "hard": int(hard),
        "status_code": bounce.status if bounce else None,
        "diagnostic": (bounce.diagnostic or "")[:1000] if bounce else None,
        "at": stamp(),
    }
    bounce_id = db.table("bounce").insert(row).last_pk
    log_event(db, "bounce", bounce_id, "create", new=row)
    effects: list[dict[str, Any]] = [{"effect": "bounce", "id": bounce_id}]
    status, soft = db.execute(
        "SELECT status, soft_bounces FROM address WHERE id = ?", [address_id]
    ).fetchone()
    if not hard:
        effects += _set_address(db, address_id, "soft_bounces", soft, soft + 1)
    if status == "active" and (hard or soft + 1 >= SOFT_LIMIT):
        effects += _set_address(db, address_id, "status", status, "bounced")
    return effects


def _reset_soft_bounces(db: Database, email: str) -> list[dict[str, Any]]:
    """A reply from the address proves mail reaches it: its soft bounces are no longer in a row."""
    row = db.execute(
        "SELECT id, soft_bounces FROM address WHERE email = ? AND soft_bounces > 0", [email.lower()]
    ).fetchone()
    return _set_address(db, row[0], "soft_bounces", row[1], 0) if row else []


def _set_address(
    db: Database, address_id: int, field: str, old: Any, new: Any
) -> list[dict[str, Any]]:
    db.execute(
        f"UPDATE address SET {field} = ?, updated_at = ? WHERE id = ?", [new, stamp(), address_id]
    )
    log_event(db, "address", address_id, "update", old={field: old}, new={field: new})
    return [{"effect": "address", "id": address_id, "field": field, "old": old, "new": new}]


def _optout(db: Database, org_id: int) -> list[dict[str, Any]]:
    (already,) = db.execute(
        "SELECT do_not_contact FROM organization WHERE id = ?", [org_id]
    ).fetchone()
    if already:
        return []
    contacts.optout(db, str(org_id))
    return [{"effect": "optout", "org_id": org_id}]


def undo(db: Database, reply: dict[str, Any]) -> None:
    """Take back every effect the reply recorded, newest first."""
    effects: Sequence[dict[str, Any]] = json.loads(reply["effects"] or "[]")
    for effect in reversed(effects):
        kind = effect["effect"]
        if kind == "bounce":
            old = db.table("bounce").get(effect["id"])
            db.execute("DELETE FROM bounce WHERE id = ?", [effect["id"]])
            log_event(db, "bounce", effect["id"], "delete", old=dict(old))
        elif kind == "address":
            current = db.execute(
                f"SELECT {effect['field']} FROM address WHERE id = ?", [effect["id"]]
            ).fetchone()
            if current and current[0] == effect["new"]:  # later changes win over an undo
                _set_address(db, effect["id"], effect["field"], effect["new"], effect["old"])
        elif kind == "optout":
            contacts.undo_optout(db, str(effect["org_id"]))
        elif kind == "response":
            _undo_response(db, reply["id"], effect)


def _undo_response(db: Database, reply_id: int, effect: dict[str, Any]) -> None:
    rows = list(db.query("SELECT * FROM response WHERE id = ?", [effect["id"]]))
    if not rows or rows[0]["reply_id"] != reply_id:
        return  # replaced since by another answer: that one stands
    previous = effect["previous"]
    if previous is None:
        responses.remove(db, effect["id"])
        return
    responses.record(
        db,
        previous["campaign_id"],
        previous["org_id"],
        previous["kind"],
        source=previous["source"],
        reply_id=previous["reply_id"],
        publish_name=previous["publish_name"],
    )
    if previous["withdrawn_at"]:
        responses.withdraw(db, previous["campaign_id"], previous["org_id"])
