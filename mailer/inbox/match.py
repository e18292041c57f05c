"""Which campaign, organization and sent message a reply belongs to.

Pure: the caller passes lookups (preloaded from the database by the ingest).
The evidence is tried from strongest to weakest: the reply token in a
plus-address we gave out, our Message-IDs in In-Reply-To/References, our
message quoted inside a bounce or reply, and last the sender's known address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailer.inbox.parse import ParsedMessage
from mailer.tokens import tokens_in_addresses, tokens_in_message_ids


@dataclass(frozen=True)
class Sent:
    """What matching needs to know of one message we sent."""

    id: int
    campaign_id: int
    org_id: int | None
    address_id: int | None


@dataclass(frozen=True)
class Lookups:
    """How to find our messages and the organizations' addresses.

    ``by_sender`` maps a lower-case address to (organization id, address id,
    the latest message actually sent to that organization or None).
    """

    by_token: Callable[[str], Sent | None]
    by_message_id: Callable[[str], Sent | None]
    by_sender: Callable[[str], tuple[int, int, Sent | None] | None]


@dataclass(frozen=True)
class Match:
    campaign_id: int | None
    org_id: int | None
    message_ref: int | None
    method: str  # token | in-reply-to | quoted | sender | assigned
    unsubscribe: bool = False
    address_id: int | None = None

    @classmethod
    def of(cls, sent: Sent, method: str, *, unsubscribe: bool = False) -> Match:
        return cls(sent.campaign_id, sent.org_id, sent.id, method, unsubscribe, sent.address_id)


def match(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """The strongest evidence of what ``msg`` answers, or None."""
    return (
        _by_token(msg, lookups)
        or _by_thread(msg, lookups)
        or _by_quoted(msg, lookups)
        or _by_sender(msg, lookups)
    )


def _by_token(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """A plus-address we gave out (Reply-To or List-Unsubscribe) among the recipients.

    Only here does ``+unsub-`` mean "unsubscribe": the same address quoted in
    a bounced copy of our message is no request from anyone.
    """
    for token, unsubscribe in tokens_in_addresses(" ".join(msg.recipients)):
        if sent := lookups.by_token(token):
            return Match.of(sent, "token", unsubscribe=unsubscribe)
    return None


def _by_thread(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """In-Reply-To first, then References from the newest: the message answered directly."""
    for ref in [*msg.in_reply_to, *reversed(msg.references)]:
        sent = lookups.by_message_id(ref) or _first(lookups, tokens_in_message_ids(ref))
        if sent:
            return Match.of(sent, "in-reply-to")
    return None


def _by_quoted(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """Our Message-ID or reply address inside the body: a bounce or a forward carries it."""
    text = msg.raw_text_for_tokens
    tokens = [*tokens_in_message_ids(text), *(t for t, _ in tokens_in_addresses(text))]
    sent = _first(lookups, tokens)
    return Match.of(sent, "quoted") if sent else None


def _by_sender(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    if not msg.from_addr:
        return None
    found = lookups.by_sender(msg.from_addr.lower())
    if found is None:
        return None
    org_id, address_id, sent = found
    if sent is None:
        return Match(None, org_id, None, "sender", address_id=address_id)
    return Match(sent.campaign_id, org_id, sent.id, "sender", address_id=address_id)


def _first(lookups: Lookups, tokens: Iterable[str]) -> Sent | None:
    for token in tokens:
        if sent := lookups.by_token(token):
            return sent
    return None
