"""Deleting an organization: a mistaken entry, or an erasure of everything about it.

``delete_org`` removes an entry that has no history (never mailed, no reply, no
answer, no opt-out: a deleted opt-out would let a re-import mail it again).
``erase_org`` is the right to erasure: the organization, its addresses and the
people at them, its messages and answers go, the replies it sent keep only what is anonymous
(class, campaign, the content hash that stops a re-import), their saved
attachments are removed, and earlier events in the log have the organization's
names and addresses replaced by ``"[erased]"`` (see ``db.redact_events``). One
event records the erasure, with counts and the organization's id only.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer import orgstore, people, queue, responses
from mailer.contacts import resolve_org
from mailer.db import events_naming, log_event, redact_events
from mailer.errors import MailerError
from mailer.inbox import store as replies

ERASED = "[erased]"
# In an event about the organization's own rows, these values say what happened,
# not who it happened to: they are kept, every other text goes.
_NEUTRAL_KEYS = frozenset({"status", "state", "kind", "source", "class", "field", "action"})


@dataclass
class OrgRecord:
    """An organization (with the entries merged into it) and what it has on record."""

    org: dict[str, Any]
    org_ids: list[int]
    address_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    reply_ids: list[int] = field(default_factory=list)
    response_ids: list[int] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)  # campaigns with a current signature
    opt_outs: int = 0  # do_not_contact and unsubscribed addresses: what a re-import must meet

    @property
    def history(self) -> list[str]:
        """What a plain delete would lose, in words."""
        return [
            f"{n} {word}{'' if n == 1 else plural}"
            for n, word, plural in (
                (len(self.message_ids), "message", "s"),
                (len(self.reply_ids), "repl", "ies"),
                (len(self.response_ids), "answer", "s"),
                (self.opt_outs, "opt-out", "s"),
            )
            if n
        ]


def org_record(db: Database, ref: str) -> OrgRecord:
    """Everything that belongs to the organization ``ref`` names."""
    org = resolve_org(db, ref)
    ids = [org["id"]] + [r["id"] for r in orgstore.merged_into(db, org["id"])]
    record = OrgRecord(org, ids)
    for address_id, email, status in orgstore.ids_and_emails(db, ids):
        record.address_ids.append(address_id)
        record.emails.append(email)
        record.opt_outs += status == "unsubscribed"
    record.opt_outs += bool(org["do_not_contact"])  # a merge already carried the others'
    record.contact_ids = [contact_id for contact_id, _ in people.contacts_of(db, ids)]
    record.message_ids = queue.ids_of_orgs(db, ids)
    record.reply_ids = replies.ids_from(db, ids, record.emails)
    record.response_ids = responses.ids_of(db, ids)
    record.signed = responses.signed_by(db, ids)
    return record


def deletable(db: Database, ref: str, *, erase: bool = False, force: bool = False) -> OrgRecord:
    """What deleting the organization would take away; MailerError when it may not be.

    A plain delete is for an entry with no messages, replies, answers or opt-outs; an
    erasure of one that signed a campaign (it is in a published list) needs ``force``.
    """
    record = org_record(db, ref)
    name, org_id = record.org["name"], record.org["id"]
    if not erase and record.history:
        raise MailerError(
            f"{name!r} has {', '.join(record.history)} on record; deleting it would lose them",
            hint=f"`mailer org optout {org_id}` stops all mail to it;"
            f" `mailer org delete {org_id} --erase` erases it and its personal data.",
        )
    if erase and record.signed and not force:
        raise MailerError(
            f"{name!r} signed {', '.join(record.signed)}: it appears in"
            " the published list of signatories",
            hint="Pass --force to erase it anyway; it then leaves those lists.",
        )
    return record


def delete_org(db: Database, ref: str) -> OrgRecord:
    """Remove an organization entered by mistake (see :func:`deletable`). Its
    deletion is logged like any change (the log keeps its name)."""
    record = deletable(db, ref)
    with db.atomic():
        _remove_rows(db, record)
        for org_id in reversed(record.org_ids):  # the merged entries before the one kept
            name = orgstore.delete_org(db, org_id)
            log_event(db, "organization", org_id, "delete", old={"name": name})
    return record


def erase_org(db: Database, ref: str, *, force: bool = False) -> dict[str, int]:
    """Erase an organization and its personal data (see the module's docstring).

    Refused while it is in a published list (a current signature) unless ``force``.
    Returns what was erased, by kind; attachment files are removed after the
    database change is committed, and those that could not be are counted."""
    record = deletable(db, ref, erase=True, force=force)
    files = _attachment_files(db, record.reply_ids)
    # What is deleted or replaced is overwritten in the file, not only unlinked from it.
    db.execute("PRAGMA secure_delete = ON")
    with db.atomic():
        events = _events_about(db, record, _identity(db, record))
        replies.scrub(db, record.reply_ids)
        responses.delete_of(db, org_ids=record.org_ids)
        queue.delete_messages(db, record.message_ids)
        _remove_rows(db, record)
        orgstore.erase_orgs(db, record.org_ids)
        reason = f"erasure of organization {record.org['id']}"
        redacted = redact_events(db, events, reason=reason)
        counts = {
            "organizations": len(record.org_ids),
            "addresses": len(record.address_ids),
            "contacts": len(record.contact_ids),
            "messages": len(record.message_ids),
            "replies": len(record.reply_ids),
            "answers": len(record.response_ids),
            "attachments": len(files),
            "events redacted": redacted,
        }
        log_event(db, "organization", record.org["id"], "erase", new=counts)
    # The old pages stay in the write-ahead log until a checkpoint copies it back.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts["attachments not removed"] = _remove_files(files)
    return counts


def _remove_rows(db: Database, record: OrgRecord) -> None:
    """Rows that only point at the organization: bounces of its addresses, the people
    at them, its addresses, and test copies that used it as their example (kept,
    without it)."""
    people.erase_contacts(db, record.org_ids)
    replies.delete_bounces(db, record.address_ids)
    queue.detach_test_copies(db, record.org_ids)
    orgstore.delete_addresses(db, record.address_ids)


def _attachment_files(db: Database, reply_ids: list[int]) -> list[Path]:
    paths = []
    for _, saved in replies.senders_and_files(db, reply_ids):
        paths += [Path(a["path"]) for a in json.loads(saved or "[]") if a.get("path")]
    return paths


def _remove_files(paths: list[Path]) -> int:
    """Delete the files (and their folder once empty); how many could not be."""
    failed = 0
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            failed += 1
            continue
        with contextlib.suppress(OSError):  # the organization's folder, once empty
            path.parent.rmdir()
    return failed


@dataclass(frozen=True)
class _Identity:
    """What identifies the organization in a text: its names (a whole text equal to
    one) and its addresses (anywhere in a text, such as a server's reply)."""

    names: frozenset[str]
    addresses: frozenset[str]

    def found_in(self, text: str) -> bool:
        folded = text.casefold()
        return folded in self.names or any(a in folded for a in self.addresses)


def _identity(db: Database, record: OrgRecord) -> _Identity:
    names: set[str] = set()
    for org_id in record.org_ids:
        names.update(orgstore.identity(db, org_id))
    names.update(n for n in responses.publish_names(db, record.response_ids) if n)
    names.update(name for _, name in people.contacts_of(db, record.org_ids))
    addresses = set(record.emails)
    addresses.update(
        sender for sender, _ in replies.senders_and_files(db, record.reply_ids) if sender
    )
    return _Identity(
        frozenset(n.strip().casefold() for n in names if n and n.strip()),
        frozenset(a.casefold() for a in addresses if a),
    )


def _events_about(db: Database, record: OrgRecord, who: _Identity) -> list[tuple[int, Any, Any]]:
    """Each event that names the organization, with its names and addresses erased.

    An event about one of its own rows (the organization, an address, a message, a
    reply, an answer, or any whose data holds its ``org_id``) keeps only numbers and
    the words that say what happened; any other event loses the texts that name it.
    """
    own = {
        "organization": record.org_ids,
        "address": record.address_ids,
        "contact": record.contact_ids,
        "message": record.message_ids,
        "reply": record.reply_ids,
        "response": record.response_ids,
        "bounce": replies.bounce_ids(db, record.address_ids),
    }
    ours = {(entity, i) for entity, ids in own.items() for i in ids}
    changes = []
    for event_id, entity, entity_id, old, new in events_naming(
        db, own, record.org_ids, sorted(who.names | who.addresses)
    ):
        before = [json.loads(v) if v is not None else None for v in (old, new)]
        is_own = (entity, entity_id) in ours or any(
            isinstance(v, dict) and v.get("org_id") in record.org_ids for v in before
        )
        after = [_redact(v, who, everything=is_own) for v in before]
        if after != before:
            changes.append((event_id, *after))
    return changes


def _redact(value: Any, who: _Identity, *, everything: bool, key: str | None = None) -> Any:
    """``value`` with the texts that identify the organization replaced by ``ERASED``
    (with ``everything``, each text but those under a neutral key)."""
    if isinstance(value, dict):
        return {k: _redact(v, who, everything=everything, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, who, everything=everything, key=key) for v in value]
    if not isinstance(value, str) or value == ERASED:
        return value
    if who.found_in(value) or (everything and key is not None and key not in _NEUTRAL_KEYS):
        return ERASED
    return value
