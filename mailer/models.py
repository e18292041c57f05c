"""Small shared value types passed between the core modules."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MessageState(StrEnum):
    """Where a message stands (DESIGN §3): queued → sending → sent | deferred | failed
    | uncertain. The one spelling of these words: SQL, summaries and JSON use it."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


class ReplyClass(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    SIGNON = "signon"
    DECLINE = "decline"
    ACTED = "acted"
    OTHER = "other"
    UNPARSABLE = "unparsable"


@dataclass
class BounceInfo:
    """What a failure notice says: the addresses that failed, how and why."""

    recipients: list[str]
    status: str | None
    hard: bool
    diagnostic: str | None


@dataclass
class Classification:
    """What a reply is (mailer.inbox.classify), how sure, and the words that decided it."""

    cls: ReplyClass
    confidence: float
    evidence: str
    bounce: BounceInfo | None = None


@dataclass(frozen=True)
class Contact:
    """The person at one address of an organization: whom a message there greets,
    in their languages."""

    name: str
    role: str | None = None
    languages: tuple[str, ...] = ()
    gender: str | None = None  # "f" or "m": the grammatical form of a salutation

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


class Fields(dict[str, str]):
    """An organization's custom fields, {column: value}: a type of its own so that a
    template naming a column that does not exist is told so (mailer.templates)."""


class AnyFields(Fields):
    """Custom fields where every column exists (empty): for the sample organization
    that trial renders use, which cannot know the database's columns."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Org:
    """What rendering needs to know of an organization."""

    id: int
    name: str
    short_name: str | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    # Its custom columns: every column any organization has, "" where it has none,
    # so that a template naming a column no organization has is an error.
    fields: Fields = field(default_factory=Fields)
    contacts: dict[int, Contact] = field(default_factory=dict)  # by address id

    @classmethod
    def from_row(
        cls,
        row: dict[str, Any],
        *,
        columns: Iterable[str] = (),
        contacts: dict[int, Contact] | None = None,
    ) -> Org:
        """The organization of a database row; ``columns``: every custom column."""
        own = json.loads(row.get("fields") or "{}")
        return cls(
            id=row["id"],
            name=row["name"],
            short_name=row["short_name"],
            country=row["country"],
            languages=tuple(json.loads(row["languages"])),
            names=json.loads(row["names"]),
            fields=Fields({**dict.fromkeys(columns, ""), **own}),
            contacts=contacts or {},
        )


@dataclass(frozen=True)
class Recipient:
    """One address of one organization in a campaign's audience."""

    org: Org
    address_id: int
    email: str

    @property
    def contact(self) -> Contact | None:
        return self.org.contacts.get(self.address_id)


@dataclass(frozen=True)
class PublishedList:
    """Another campaign's signatories, for a statement's ``{{ signatories }}`` (the
    list in each language, as `mailer signatories` prints it in text and in HTML)
    and ``{{ signed }}`` (whether the recipient's organization is on it)."""

    campaign: str
    text: dict[str, str]  # by language
    html: dict[str, str]
    signed: frozenset[int]  # organization ids
