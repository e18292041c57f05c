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
from mailer.tokens import (
    REPLY,
    SIGN,
    UNSUBSCRIBE,
    tokens_in_addresses,
    tokens_in_message_ids,
)


@dataclass(frozen=True)
class Sent:
    """What matching needs to know of one message we sent."""

    id: int
    campaign_id: int
    org_id: int | None
    address_id: int | None
    is_test: bool = False  # a `send --test` copy: it belongs to no organization


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
    purpose: str = REPLY  # which of our plus-addresses it reached (tokens.REPLY, SIGN…)
    address_id: int | None = None
    test: bool = False  # it answers a test copy: recorded, never applied to anyone

    @classmethod
    def of(cls, sent: Sent, method: str, *, purpose: str = REPLY) -> Match:
        if sent.is_test:
            return cls(sent.campaign_id, None, sent.id, method, purpose, None, test=True)
        return cls(sent.campaign_id, sent.org_id, sent.id, method, purpose, sent.address_id)

    @property
    def unsubscribe(self) -> bool:
        return self.purpose == UNSUBSCRIBE

    @property
    def sign(self) -> bool:
        return self.purpose == SIGN

    @property
    def ours(self) -> bool:
        """Whether the mail itself names a message we sent (a token or our thread),
        rather than only coming from a known sender or being assigned by a person."""
        return self.method in ("token", "in-reply-to", "quoted")


def match(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """The strongest evidence of what ``msg`` answers, or None."""
    return (
        _by_token(msg, lookups)
        or _by_thread(msg, lookups)
        or _by_quoted(msg, lookups)
        or _by_sender(msg, lookups)
    )


def _by_token(msg: ParsedMessage, lookups: Lookups) -> Match | None:
    """A plus-address we gave out (Reply-To, List-Unsubscribe, envelope sender, sign
    link) among the recipients.

    Only here does ``+unsub-`` mean "unsubscribe": the same address quoted in
    a bounced copy of our message is no request from anyone.
    """
    for token, purpose in tokens_in_addresses(" ".join(msg.recipients)):
        if sent := lookups.by_token(token):
            return Match.of(sent, "token", purpose=purpose)
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
