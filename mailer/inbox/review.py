"""Looking at stored replies and correcting them: list, review queue, assign, mark.

A person's decision always wins: ``reply mark`` undoes whatever the reply
had recorded automatically (a response, a bounce, an opt-out) and records
the decision instead; ``reply assign`` attaches a reply to an organization
and campaign and works out its meaning again against them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from mailer import contacts, queue
from mailer.campaigns import get_campaign
from mailer.clock import stamp
from mailer.config import Settings
from mailer.db import log_event
from mailer.errors import MailerError, NotFound
from mailer.inbox import attachments, effects, store
from mailer.inbox.ingest import (
    Index,
    Ingester,
    apply_verdict,
    bounce_json,
    judge,
    origin,
    unparsable,
)
from mailer.inbox.match import Match
from mailer.inbox.parse import parse_message
from mailer.models import ReplyClass

MARKS = {
    "signed": ReplyClass.SIGNON,
    "declined": ReplyClass.DECLINE,
    "acted": ReplyClass.ACTED,
    "unsubscribed": ReplyClass.UNSUBSCRIBE,
    "other": ReplyClass.OTHER,
}


def record(row: dict[str, Any]) -> dict[str, Any]:
    """The ``replies --json`` shape (DESIGN §4a) of one reply, plus details."""
    return {
        "id": row["id"],
        "message_id": row["header_message_id"],
        "from": row["from_addr"],
        "org_id": row["org_id"],
        "org": row["org"],
        "campaign": row["campaign"],
        "class": row["class"],
        "confidence": row["confidence"],
        "text": row["text"],
        "attachments": json.loads(row["attachments"] or "[]"),
        "status": row["status"],
        "subject": row["subject"],
        "date": row["received_at"],
        "matched_by": row["match_method"],
        "evidence": row["evidence"],
        "verified": row["verified"],
        "reason": row["review_reason"],
        "bounce": json.loads(row["bounce"]) if row["bounce"] else None,
        "error": row["error"],
        "source": row["source"],
    }


def list_replies(
    db: Database,
    *,
    slug: str | None = None,
    unmatched: bool = False,
    cls: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Replies, oldest first, filtered by campaign, unmatched, class or status."""
    campaign_id = get_campaign(db, slug)["id"] if slug is not None else None
    rows = store.view(db, campaign_id=campaign_id, unmatched=unmatched, cls=cls, status=status)
    return [record(row) for row in rows]


def review_queue(db: Database, slug: str) -> list[dict[str, Any]]:
    """The campaign's replies that wait for a person's decision, unsubscribe requests
    first: mail to their organizations is paused until they are decided."""
    waiting = list_replies(db, slug=slug, status=effects.REVIEW)
    return sorted(waiting, key=lambda r: r["class"] != ReplyClass.UNSUBSCRIBE)


def _reply(db: Database, reply_id: int) -> dict[str, Any]:
    reply = store.get_reply(db, reply_id)
    if reply is None:
        raise NotFound(f"no reply {reply_id}", hint="`mailer replies` lists the replies.")
    if reply["status"] == "erased":
        raise MailerError(
            f"reply {reply_id} was erased with its organization (`org delete --erase`):"
            " nothing is left of it to attach or to mark"
        )
    return reply


def _view(db: Database, reply_id: int) -> dict[str, Any]:
    return record(store.view(db, reply_id=reply_id)[0])


def mark_reply(db: Database, reply_id: int, decision: str) -> dict[str, Any]:
    """Set what the reply means; its earlier automatic effects are undone first."""
    cls = MARKS[decision]
    reply = _reply(db, reply_id)
    needs_campaign = cls not in (ReplyClass.OTHER, ReplyClass.UNSUBSCRIBE)
    if (cls != ReplyClass.OTHER and reply["org_id"] is None) or (
        needs_campaign and reply["campaign_id"] is None
    ):
        raise MailerError(
            f"reply {reply_id} is not attached to an organization and a campaign",
            hint=f"Attach it first: mailer reply assign {reply_id} ORG --campaign SLUG",
        )
    if reply["status"] == effects.TEST and cls != ReplyClass.OTHER:
        raise MailerError(
            f"reply {reply_id} answers a test copy (send --test), not the organization's own message",
            hint=f"If it really is the organization's answer, attach it: mailer reply assign {reply_id} ORG",
        )
    with db.atomic():
        effects.undo(db, reply)
        done = _decide(db, reply, cls)
        changes = {
            "class": str(cls),
            "confidence": 1.0,
            "status": effects.REVIEWED,
            "effects": json.dumps(done, ensure_ascii=False, default=str),
            "evidence": f"marked {decision} by hand on {stamp()}",
            "review_reason": None,
        }
        store.update_reply(db, reply_id, changes)
        log_event(
            db,
            "reply",
            reply_id,
            "mark",
            old={"class": reply["class"], "status": reply["status"]},
            new={"class": str(cls), "status": effects.REVIEWED},
        )
    return _view(db, reply_id)


def _decide(db: Database, reply: dict[str, Any], cls: ReplyClass) -> list[dict[str, Any]]:
    """A person's decision, recorded as the reply's effects (so a later mark undoes it)."""
    if cls == ReplyClass.OTHER:
        return []
    if cls == ReplyClass.UNSUBSCRIBE:
        answer = effects.respond(db, reply, cls) if reply["campaign_id"] is not None else []
        return effects.optout(db, reply["org_id"]) + answer
    return effects.respond(db, reply, cls)


def assign_reply(
    db: Database, settings: Settings, reply_id: int, org_ref: str, *, campaign: str | None = None
) -> dict[str, Any]:
    """Attach a reply to an organization (and campaign), then classify and apply it anew.

    Without ``campaign`` the latest campaign actually sent to the organization is used.
    """
    reply = _reply(db, reply_id)
    org = contacts.resolve_org(db, org_ref)
    if campaign is not None:
        campaign_id = get_campaign(db, campaign)["id"]
        sent = queue.latest_sent(db, org["id"], campaign_id)
    else:
        sent = queue.latest_sent(db, org["id"], None)
        if sent is None:
            raise MailerError(
                f"nothing was sent to {org['name']!r} yet, so the reply's campaign is unknown",
                hint=f"Name it: mailer reply assign {reply_id} {org['id']} --campaign SLUG",
            )
        campaign_id = sent["campaign_id"]
    with db.atomic():
        effects.undo(db, reply)
        ingester = Ingester(db, settings)
        found = Match(
            campaign_id,
            org["id"],
            sent["id"] if sent else None,
            "assigned",
            address_id=sent["address_id"] if sent else None,
        )
        _reclassify(db, ingester, reply, found)
        log_event(
            db,
            "reply",
            reply_id,
            "assign",
            old={"campaign_id": reply["campaign_id"], "org_id": reply["org_id"]},
            new={"campaign_id": campaign_id, "org_id": org["id"]},
        )
    return _view(db, reply_id)


def _reclassify(db: Database, ingester: Ingester, reply: dict[str, Any], found: Match) -> None:
    parsed = parse_message(reply["raw"])
    index: Index = ingester.index
    changes: dict[str, Any] = {
        "campaign_id": found.campaign_id,
        "org_id": found.org_id,
        "message_ref": found.message_ref,
        "match_method": found.method,
        "status": effects.REVIEW,
        "effects": "[]",
        "review_reason": None,
    }
    saved = json.loads(reply["attachments"] or "[]")
    if saved:
        folder = ingester.folder(found.campaign_id, found.org_id)
        paths = attachments.move([a["path"] for a in saved], folder)
        changes["attachments"] = json.dumps(
            [{**a, "path": p} for a, p in zip(saved, paths, strict=True)], ensure_ascii=False
        )
    if reply["class"] != ReplyClass.UNPARSABLE and not unparsable(parsed):
        verdict = judge(parsed, found, index)
        proof = origin(parsed, found, index, ingester.authserv_id)
        row = {**reply, "campaign_id": found.campaign_id, "org_id": found.org_id}
        decision = apply_verdict(db, row, verdict, found, proof)
        changes.update(
            {
                "class": str(verdict.cls),
                "confidence": verdict.confidence,
                "evidence": verdict.evidence,
                "verified": proof.verified,
                "bounce": bounce_json(verdict),
                "status": decision.status,
                "review_reason": decision.reason,
                "effects": json.dumps(decision.effects, ensure_ascii=False, default=str),
            }
        )
    store.update_reply(db, reply["id"], changes)
