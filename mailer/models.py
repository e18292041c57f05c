"""Small shared value types passed between the core modules."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Org:
    """What rendering needs to know of an organization."""

    id: int
    name: str
    short_name: str | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Org:
        import json

        return cls(
            id=row["id"],
            name=row["name"],
            short_name=row["short_name"],
            country=row["country"],
            languages=tuple(json.loads(row["languages"])),
            names=json.loads(row["names"]),
        )


@dataclass(frozen=True)
class Recipient:
    """One address of one organization in a campaign's audience."""

    org: Org
    address_id: int
    email: str
