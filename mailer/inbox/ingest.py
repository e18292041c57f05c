"""Bring replies into the database: dedupe, parse, match, classify, store, apply.

Each raw message is stored once (by Message-ID, else by SHA-256 of its
bytes), together with its effects, in one transaction per chunk with a
savepoint per message: an error in one message is contained (its raw bytes
are kept as ``unparsable``) and never stops the import. An IMAP cursor
advances in the same transaction as the messages it covers.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer import orgstore, queue
from mailer.campaigns import campaign_index
from mailer.clock import stamp
from mailer.config import Settings
from mailer.db import log_event
from mailer.errors import MailerError, TransportError
from mailer.inbox import attachments, effects, store, trust
from mailer.inbox.classify import CONFIDENT, Classification, classify
from mailer.inbox.match import Lookups, Match, Sent, match
from mailer.inbox.parse import ParsedMessage, parse_message
from mailer.inbox.sources import (
    Cursor,
    ImapAccount,
    ImapSource,
    RawMessage,
    folder_name,
    imap_login,
    read_paths,
)
from mailer.models import MessageState, ReplyClass
from mailer.templates import TEXT_ENV, Layout, compile_template, render_template

CHUNK = 200  # messages per transaction when importing files


@dataclass
class Summary:
    """What an import did; ``as_dict`` is the ``inbox import --json`` document."""

    new: int = 0
    duplicates: int = 0
    unparsable: int = 0
    matched: int = 0
    unmatched: int = 0
    review: int = 0  # matched to a campaign, waiting in `replies review SLUG`
    to_review: set[str] = field(default_factory=set)  # those campaigns' slugs
    classes: Counter[str] = field(default_factory=Counter)
    ids: list[int] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicates": self.duplicates,
            "unparsable": self.unparsable,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "review": self.review,
            "classes": dict(sorted(self.classes.items())),
            "ids": self.ids,
        }


Progress = Callable[[Summary], None]


def import_paths(
    db: Database, settings: Settings, paths: list[Path], *, on_progress: Progress | None = None
) -> Summary:
    """Import every message of mbox files, Maildir folders and .eml files."""
    ingester = Ingester(db, settings, on_progress=on_progress)
    chunk: list[RawMessage] = []
    try:
        for message in read_paths(paths):
            chunk.append(message)
            if len(chunk) == CHUNK:
                full, chunk = chunk, []
                ingester.store(full)
    finally:  # what was read before an unreadable file is kept, as its error says
        ingester.store(chunk)
    return ingester.summary


def fetch_imap(
    db: Database,
    settings: Settings,
    *,
    folder: str | None = None,
    move_to: str | None = None,
    prompt: Callable[[str], str] | None = None,
    on_progress: Progress | None = None,
    batch_size: int = 50,
) -> Summary:
    """Fetch the folder's new messages; each batch is committed with the cursor it advances.

    ``move_to`` (default ``[imap] move_to``) moves each batch on the server
    after it is committed, so a failure there loses nothing.
    """
    account = ImapAccount.from_url(
        settings["imap.url"], insecure=settings["imap.insecure"], folder=folder
    )
    move_to = move_to or settings["imap.move_to"] or None
    if move_to:
        move_to = folder_name(move_to)
    login = imap_login(settings, account, prompt=prompt)
    ingester = Ingester(db, settings, on_progress=on_progress)
    with ImapSource(account, login) as source:
        try:
            for batch in source.batches(read_cursor(db, account.mailbox), size=batch_size):
                ingester.store(batch)
                if move_to and batch:
                    source.move([m.cursor.uid for m in batch if m.cursor], move_to)
        except TransportError as e:
            if not ingester.summary.new:
                raise
            raise TransportError(
                f"{e}; {ingester.summary.new} new messages were saved before that",
                hint="Run `mailer inbox fetch` again to continue where it stopped.",
            ) from None
    return ingester.summary


def read_cursor(db: Database, mailbox: str) -> Cursor | None:
    found = store.read_cursor(db, mailbox)
    return Cursor(mailbox, *found) if found else None


# ---------------------------------------------------------------- the pipeline


class Index:
    """Everything matching and classifying look up, loaded once per import.

    One query per table instead of several per message keeps the import fast.
    """

    def __init__(self, db: Database, layout: Layout | None = None) -> None:
        self.layout = layout
        self._asked: dict[int, tuple[str, ...]] = {}
        self.by_token: dict[str, Sent] = {}
        self.by_message_id: dict[str, Sent] = {}
        self.latest_by_org: dict[int, Sent] = {}
        rows = queue.matching_index(db)
        for id_, campaign_id, org_id, address_id, token, message_id, state, is_test in rows:
            sent = Sent(id_, campaign_id, org_id, address_id, bool(is_test))
            self.by_token[token] = sent
            self.by_message_id[message_id.lower()] = sent
            if state == MessageState.SENT and not is_test and org_id is not None:
                self.latest_by_org[org_id] = sent  # ordered by sent_at: the last one wins
        self.addresses = {email: (org_id, id_) for id_, email, org_id in orgstore.address_index(db)}
        self._emails_of: dict[int, list[str]] = {}
        self._orgs_at: dict[str, set[int]] = {}
        for email, (org_id, _) in self.addresses.items():
            self._emails_of.setdefault(org_id, []).append(email)
            self._orgs_at.setdefault(email.rpartition("@")[2], set()).add(org_id)
        self.campaigns = {
            r["id"]: {**r, "languages": json.loads(r["languages"])} for r in campaign_index(db)
        }
        self.orgs = {
            r["id"]: {**r, "languages": json.loads(r["languages"])} for r in orgstore.org_names(db)
        }
        self.lookups = Lookups(
            by_token=self.by_token.get,
            by_message_id=lambda mid: self.by_message_id.get(mid.lower()),
            by_sender=self._sender,
        )

    def _sender(self, email: str) -> tuple[int, int, Sent | None] | None:
        found = self.addresses.get(email)
        if found is None:
            return None
        org_id, address_id = found
        return org_id, address_id, self.latest_by_org.get(org_id)

    def known(self, org_id: int) -> trust.Known:
        """The organization's addresses and own domains, for verifying a sender."""
        emails = self._emails_of.get(org_id, [])
        shared = {d for d, orgs in self._orgs_at.items() if orgs != {org_id}}
        return trust.Known(frozenset(emails), trust.own_domains(emails, shared))

    def asked(self, campaign_id: int | None) -> tuple[str, ...]:
        """What a sign-on campaign's messages ask people to reply, in each of its languages:
        the frame's sign phrase and the prefilled text of its sign-by-e-mail link."""
        campaign = self.campaigns.get(campaign_id or 0)
        if campaign is None or campaign["kind"] != "signon" or self.layout is None:
            return ()
        if campaign["id"] not in self._asked:
            self._asked[campaign["id"]] = _asked_phrases(self.layout, campaign)
        return self._asked[campaign["id"]]

    def languages(self, campaign_id: int | None, org_id: int | None) -> list[str]:
        """The campaign's languages, then the organization's: the wording to expect."""
        campaign = self.campaigns.get(campaign_id or 0, {"languages": []})
        org = self.orgs.get(org_id or 0, {"languages": []})
        return list(dict.fromkeys([*campaign["languages"], *org["languages"]]))


def apply_verdict(
    db: Database,
    reply: dict[str, Any],
    verdict: Classification,
    found: Match | None,
    origin: trust.Origin,
) -> effects.Decision:
    """Record what a judged reply means (effects.apply), on import and on reassignment
    alike: its effects are automatic only when the classifier is confident and the
    sender is proven to be the organization."""
    return effects.apply(
        db,
        reply,
        effects.Verdict(
            verdict.cls,
            verdict.confidence >= CONFIDENT,
            verdict.bounce,
            unsubscribe_token=bool(found and found.unsubscribe),
            verified=origin.verified,
            unverified=origin.reason,
            about_ours=bool(found and found.ours),
            test=bool(found and found.test),
        ),
        address_id=found.address_id if found else None,
    )


def judge(parsed: ParsedMessage, found: Match | None, index: Index) -> Classification:
    """Classify in the languages of the matched campaign and organization.

    Mail sent to our ``+unsub-`` address is an unsubscribe whatever its words,
    unless it is a bounce or an auto-reply. Mail sent to our ``+sign-`` address
    (the "sign by e-mail" link) is a sign-on when its words sign or say nothing
    more than the prefilled text; any other words are judged as they stand.
    """
    campaign_id = found.campaign_id if found else None
    org_id = found.org_id if found else None
    kind = index.campaigns.get(campaign_id or 0, {}).get("kind", "signon")
    org = index.orgs.get(org_id or 0, {})
    names = [name for name in (org.get("name"), org.get("short_name")) if name]
    result = classify(
        parsed,
        languages=index.languages(campaign_id, org_id),
        kind=kind,
        org_names=names,
        asked=index.asked(campaign_id),
    )
    if result.cls in (ReplyClass.BOUNCE, ReplyClass.AUTO_REPLY) or not found:
        return result
    if found.unsubscribe:
        return Classification(ReplyClass.UNSUBSCRIBE, 1.0, "sent to the unsubscribe address", None)
    signs = result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT
    if found.sign and (signs or not parsed.new_text.strip()):
        return Classification(ReplyClass.SIGNON, 1.0, "sent through the sign-by-e-mail link", None)
    return result


def _asked_phrases(layout: Layout, campaign: dict[str, Any]) -> tuple[str, ...]:
    phrases: dict[str, None] = {}
    context = {"campaign": {"title": campaign.get("title", ""), "kind": campaign["kind"]}}
    for lang in campaign["languages"]:
        for key in ("sign_phrase", "sign_body"):
            try:
                strings = layout.strings(lang).values
                where = f"strings/{lang}.toml [{key}]"
                text = render_template(
                    compile_template(TEXT_ENV, strings[key], where), context, where
                )
            except (KeyError, MailerError):  # a key the strings lack, a broken file or template:
                continue  # the phrase files still read the reply; `mailer check` names the fault
            if text.strip():
                phrases.setdefault(text.strip(), None)
    return tuple(phrases)


def origin(
    parsed: ParsedMessage, found: Match | None, index: Index, authserv_id: str
) -> trust.Origin:
    """What proves (or fails to prove) that the reply comes from the matched organization."""
    if found is None or found.org_id is None:
        return trust.Origin(None, "matches no organization")
    if found.method == "assigned":
        return trust.ASSIGNED
    return trust.verify(
        parsed, ours=found.ours, known=index.known(found.org_id), authserv_id=authserv_id
    )


def unparsable(parsed: ParsedMessage | None) -> bool:
    """True when only the headers could be read (the parser fell back to them)."""
    return parsed is None or parsed.mime is None


class Ingester:
    """Stores batches of raw messages; keeps the lookups and the running summary."""

    def __init__(
        self, db: Database, settings: Settings, *, on_progress: Progress | None = None
    ) -> None:
        self.db = db
        self.index = Index(db, Layout.find(settings.path("templates.path")))
        self.authserv_id = settings["inbox.authserv_id"]
        self.attachments_root = settings.path("attachments.path")
        self.summary = Summary()
        self.on_progress = on_progress

    def store(self, batch: list[RawMessage]) -> None:
        """One transaction for the batch, one savepoint per message."""
        db = self.db
        with db.atomic():
            for raw in batch:
                digest = hashlib.sha256(raw.data).hexdigest()
                try:
                    with db.atomic():
                        self._one(raw, digest)
                except Exception as e:  # noqa: BLE001 - contained per message, raw bytes kept
                    with db.atomic():
                        self._insert(
                            raw, digest, None, None, None, error=f"{type(e).__name__}: {e}"
                        )
                if self.on_progress:
                    self.on_progress(self.summary)
            cursors = [raw.cursor for raw in batch if raw.cursor]
            if cursors:
                _advance(db, cursors[-1])

    def _one(self, raw: RawMessage, digest: str) -> None:
        if store.known(self.db, content_hash=digest):
            self.summary.duplicates += 1
            return
        parsed = parse_message(raw.data) if raw.error is None else None
        if parsed and parsed.message_id and store.known(self.db, message_id=parsed.message_id):
            self.summary.duplicates += 1
            return
        if unparsable(parsed):
            found = match(parsed, self.index.lookups) if parsed else None
            self._insert(raw, digest, parsed, found, None, error=raw.error or _error(parsed))
            return
        assert parsed is not None
        found = match(parsed, self.index.lookups)
        self._insert(raw, digest, parsed, found, judge(parsed, found, self.index))

    def _insert(
        self,
        raw: RawMessage,
        digest: str,
        parsed: ParsedMessage | None,
        found: Match | None,
        verdict: Classification | None,
        *,
        error: str | None = None,
    ) -> None:
        """The reply row, its attachments and its effects."""
        cls = verdict.cls if verdict else ReplyClass.UNPARSABLE
        campaign_id = found.campaign_id if found else None
        org_id = found.org_id if found else None
        try:
            saved = self._save_attachments(parsed, cls, campaign_id, org_id)
        except OSError as e:  # the reply still counts; its raw bytes keep the files
            saved, error = [], f"attachments not saved: {e}"
        proof = origin(parsed, found, self.index, self.authserv_id) if verdict and parsed else None
        reply_id = store.insert_reply(
            self.db,
            {
                "header_message_id": parsed.message_id if parsed else None,
                "content_hash": digest,
                "raw": raw.data,
                "source": raw.ref,
                "received_at": stamp(parsed.date) if parsed and parsed.date else None,
                "from_addr": parsed.from_addr if parsed else None,
                "subject": (parsed.subject or "")[:1000] if parsed else None,
                "campaign_id": campaign_id,
                "org_id": org_id,
                "message_ref": found.message_ref if found else None,
                "match_method": found.method if found else None,
                "class": str(cls),
                "confidence": verdict.confidence if verdict else None,
                "text": (parsed.new_text or parsed.text) if parsed else None,
                "attachments": json.dumps(saved, ensure_ascii=False),
                "status": effects.REVIEW,
                "error": error or _error(parsed),
                "evidence": verdict.evidence if verdict else None,
                "verified": proof.verified if proof else None,
                "bounce": bounce_json(verdict),
                "imported_at": stamp(),
            },
        )
        row: dict[str, Any] = {"id": reply_id, "campaign_id": campaign_id, "org_id": org_id}
        row["from_addr"] = parsed.from_addr if parsed else None
        decision = effects.Decision(effects.REVIEW, reason="the message could not be read")
        if verdict and proof:
            decision = apply_verdict(self.db, row, verdict, found, proof)
        status = decision.status
        store.settle(self.db, reply_id, status, _effects_json(decision.effects), decision.reason)
        log_event(
            self.db,
            "reply",
            reply_id,
            "create",
            new={
                "class": cls,
                "confidence": verdict.confidence if verdict else None,
                "evidence": verdict.evidence if verdict else None,
                "campaign_id": campaign_id,
                "org_id": org_id,
                "matched_by": found.method if found else None,
                "verified": proof.verified if proof else None,
                "status": status,
                "reason": decision.reason,
            },
        )
        self._count(reply_id, cls, campaign_id, status)

    def _save_attachments(
        self,
        parsed: ParsedMessage | None,
        cls: ReplyClass,
        campaign_id: int | None,
        org_id: int | None,
    ) -> list[dict[str, Any]]:
        """Human replies' attachments only: a bounce or auto-reply carries our own mail back."""
        if (
            not parsed
            or not parsed.attachments
            or cls in (ReplyClass.BOUNCE, ReplyClass.AUTO_REPLY)
        ):
            return []
        return attachments.save(self.folder(campaign_id, org_id), parsed.attachments)

    def folder(self, campaign_id: int | None, org_id: int | None) -> Path:
        campaign = self.index.campaigns.get(campaign_id or 0)
        org = self.index.orgs.get(org_id or 0)
        return attachments.folder_for(
            self.attachments_root,
            campaign["slug"] if campaign else None,
            org_id,
            (org["short_name"] or org["name"]) if org else None,
        )

    def _count(self, reply_id: int, cls: str, campaign_id: int | None, status: str) -> None:
        s = self.summary
        s.new += 1
        s.ids.append(reply_id)
        s.classes[str(cls)] += 1
        s.unparsable += cls == ReplyClass.UNPARSABLE
        if status == effects.REVIEW and campaign_id is not None:
            s.review += 1
            s.to_review.add(self.index.campaigns[campaign_id]["slug"])
        if campaign_id is None:
            s.unmatched += 1
        else:
            s.matched += 1


def bounce_json(verdict: Classification | None) -> str | None:
    """What a bounce reported, as ``replies --json`` shows it (matched or not)."""
    if verdict is None or verdict.bounce is None:
        return None
    b = verdict.bounce
    return json.dumps({"recipients": b.recipients, "status": b.status, "hard": b.hard})


def _effects_json(done: list[dict[str, Any]]) -> str:
    return json.dumps(done, ensure_ascii=False, default=str)


def _error(parsed: ParsedMessage | None) -> str | None:
    return parsed.error[:2000] if parsed and parsed.error else None


def _advance(db: Database, cursor: Cursor) -> None:
    store.advance_cursor(db, cursor.mailbox, cursor.uidvalidity, cursor.uid)
    log_event(
        db,
        "imap_cursor",
        None,
        "advance",
        new={"mailbox": cursor.mailbox, "uidvalidity": cursor.uidvalidity, "last_uid": cursor.uid},
    )
