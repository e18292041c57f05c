"""What a classified reply changes, and how ``reply mark`` takes it back.

A confident bounce about a message we sent marks that message's address (hard
at once, soft after ``SOFT_LIMIT`` in a row); an unsubscribe opts the whole
organization out (the request is the organization's: mailing another of its
addresses would ignore it); confident sign-ons, declines and action reports
become responses. Only a reply whose sender is proven to be the organization
(mailer.inbox.trust) changes it; the rest wait for a person, with the reason.
Each change is logged and listed in the reply's ``effects`` so it can be undone
exactly. Callers run these inside the transaction that stores the reply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from mailer import contacts, orgstore, responses
from mailer.addresses import email_key
from mailer.clock import stamp
from mailer.db import log_event
from mailer.inbox import store
from mailer.models import ReplyClass

if TYPE_CHECKING:
    from mailer.models import BounceInfo

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
TEST = "test"  # answers a `send --test` copy: kept, never applied to an organization

ACTIONABLE = (ReplyClass.SIGNON, ReplyClass.DECLINE, ReplyClass.ACTED, ReplyClass.UNSUBSCRIBE)


@dataclass(frozen=True)
class Verdict:
    """What the reply means, and what it proves, as far as effects are concerned."""

    cls: ReplyClass
    confident: bool
    bounce: BounceInfo | None = None
    unsubscribe_token: bool = False  # sent to our +unsub- address: an explicit request
    verified: str | None = None  # what proved the sender is the organization (trust.Origin)
    unverified: str | None = None  # otherwise, why it is not proven
    about_ours: bool = False  # the mail names a message we sent (token, thread, quoted)
    test: bool = False  # it answers a test copy


@dataclass(frozen=True)
class Decision:
    """What became of a reply: its status, the changes made, and why it waits (if it does)."""

    status: str
    effects: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


def apply(
    db: Database, reply: dict[str, Any], verdict: Verdict, *, address_id: int | None
) -> Decision:
    """Record the verdict's effects for ``reply`` (a reply row), when it is sure and proven.

    Bounces need no sender proof (mail servers send them) but must be about a
    message we sent to that very address; every other effect needs a verified
    sender (DESIGN §7a).
    """
    if verdict.test:
        return Decision(TEST, reason="an answer to a test copy: it changes no organization")
    if verdict.cls == ReplyClass.BOUNCE:
        return _apply_bounce(db, reply, verdict, address_id)
    if verdict.cls == ReplyClass.AUTO_REPLY and verdict.confident:
        return Decision(DONE)
    # A proven answer from the address shows mail reaches it: its soft bounces were not in a row.
    effects = _reset_soft_bounces(db, reply["from_addr"]) if verdict.verified else []
    wanted = verdict.unsubscribe_token or (verdict.confident and verdict.cls in ACTIONABLE)
    if not wanted:
        return Decision(REVIEW, effects, _unsure(verdict.cls))
    if reply["org_id"] is None:
        return Decision(REVIEW, reason="matches no organization: attach it with `reply assign`")
    if not verdict.verified:
        return Decision(REVIEW, reason=verdict.unverified or "sender not verified")
    if verdict.unsubscribe_token or verdict.cls == ReplyClass.UNSUBSCRIBE:
        effects += optout(db, reply["org_id"])
        if reply["campaign_id"] is not None:
            effects += respond(db, reply, ReplyClass.UNSUBSCRIBE)
        return Decision(APPLIED, effects)
    if reply["campaign_id"] is None:
        return Decision(REVIEW, effects, "matches no campaign: attach it with `reply assign`")
    return Decision(APPLIED, effects + respond(db, reply, verdict.cls))


def _unsure(cls: ReplyClass) -> str:
    if cls == ReplyClass.OTHER:
        return "no sign-on, refusal or action recognised: a person decides"
    return f"looks like {cls}, but not clearly enough to record it: a person decides"


def _apply_bounce(
    db: Database, reply: dict[str, Any], verdict: Verdict, address_id: int | None
) -> Decision:
    if not verdict.confident:
        return Decision(REVIEW, reason=_unsure(ReplyClass.BOUNCE))
    if verdict.about_ours and address_id is not None:
        targets = [address_id]
    elif verdict.verified and reply["org_id"] is not None:  # attached by a person
        targets = _addresses(db, verdict.bounce, reply["org_id"])
    else:
        targets = []
    if not targets:
        return Decision(
            REVIEW,
            reason="a delivery report about no message we sent: listed, not applied"
            " (`reply assign ID ORG` applies it)",
        )
    effects: list[dict[str, Any]] = []
    for target in targets:
        effects += _bounce(db, target, reply["id"], verdict.bounce)
    return Decision(APPLIED, effects)


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


def _addresses(db: Database, bounce: BounceInfo | None, org_id: int) -> list[int]:
    """The organization's addresses among the bounce's failed recipients (a person
    attached the report to it; no message of ours was named)."""
    emails = [email_key(e) for e in (bounce.recipients if bounce else [])]
    if not emails:
        return []
    return orgstore.address_ids(db, org_id, emails)


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
    bounce_id = store.add_bounce(db, row)
    log_event(db, "bounce", bounce_id, "create", new=row)
    effects: list[dict[str, Any]] = [{"effect": "bounce", "id": bounce_id}]
    state = orgstore.address_state(db, address_id)
    assert state is not None, "a bounce is about an address that exists"
    status, soft = state["status"], state["soft_bounces"]
    if not hard:
        effects += _set_address(db, address_id, "soft_bounces", soft, soft + 1)
    if status == "active" and (hard or soft + 1 >= SOFT_LIMIT):
        effects += _set_address(db, address_id, "status", status, "bounced")
    return effects


def _reset_soft_bounces(db: Database, email: str) -> list[dict[str, Any]]:
    """A reply from the address proves mail reaches it: its soft bounces are no longer in a row."""
    row = orgstore.find_address(db, email.lower())
    return _set_address(db, row[0], "soft_bounces", row[2], 0) if row and row[2] > 0 else []


def _set_address(
    db: Database, address_id: int, field: str, old: Any, new: Any
) -> list[dict[str, Any]]:
    orgstore.set_address(db, address_id, field, new)
    log_event(db, "address", address_id, "update", old={field: old}, new={field: new})
    return [{"effect": "address", "id": address_id, "field": field, "old": old, "new": new}]


def optout(db: Database, org_id: int) -> list[dict[str, Any]]:
    if orgstore.do_not_contact(db, org_id):
        return []
    contacts.optout(db, str(org_id))
    return [{"effect": "optout", "org_id": org_id}]


def undo(db: Database, reply: dict[str, Any]) -> None:
    """Take back every effect the reply recorded, newest first."""
    effects: Sequence[dict[str, Any]] = json.loads(reply["effects"] or "[]")
    for effect in reversed(effects):
        kind = effect["effect"]
        if kind == "bounce":
            old = store.remove_bounce(db, effect["id"])
            log_event(db, "bounce", effect["id"], "delete", old=old)
        elif kind == "address":
            current = orgstore.address_state(db, effect["id"])
            if current and current[effect["field"]] == effect["new"]:  # later changes win
                _set_address(db, effect["id"], effect["field"], effect["new"], effect["old"])
        elif kind == "optout":
            contacts.undo_optout(db, str(effect["org_id"]))
        elif kind == "response":
            _undo_response(db, reply["id"], effect)


def _undo_response(db: Database, reply_id: int, effect: dict[str, Any]) -> None:
    answer = responses.get(db, effect["id"])
    if answer is None or answer["reply_id"] != reply_id:
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
