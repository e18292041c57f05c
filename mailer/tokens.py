"""Reply tokens: the short random string that ties a reply to the message
it answers. It travels in the Message-ID and in plus-addresses of the
sender's mailbox, one per purpose: the Reply-To (``intl+TOKEN@party.example.org``),
the List-Unsubscribe address (``intl+unsub-TOKEN@…``), the envelope sender that
bounces return to (``intl+bounce-TOKEN@…``, VERP) and the "sign by e-mail" link
(``intl+sign-TOKEN@…``). Which address a message reached says what it is.

Tokens use a lower-case base32 alphabet without look-alike letters, so they
survive mail systems that change case and people who copy them by hand.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1
LENGTH = 12
_TOKEN = f"[{ALPHABET}]{{{LENGTH}}}"
TOKEN = re.compile(_TOKEN)  # what new_token makes: TOKEN.fullmatch(t) checks one
_PLUS = re.compile(rf"\+(?:(unsub|bounce|sign)-)?({_TOKEN})@", re.IGNORECASE)

# What a plus-address is for: the prefix before the token ("" for the Reply-To).
REPLY, UNSUBSCRIBE, BOUNCE, SIGN = "", "unsub", "bounce", "sign"
_MSGID = re.compile(rf"<m\.({_TOKEN})\.[^@>]*@[^>]+>", re.IGNORECASE)


def new_token() -> str:
    # 5 random bits per letter of a 32-letter alphabet: uniform, and one call to
    # the system's randomness instead of twelve (send snapshots thousands at once).
    bits = secrets.randbits(5 * LENGTH)
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(LENGTH))


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"sender address {address!r} has no @")
    return local.split("+", 1)[0], domain


def message_id(token: str, campaign_slug: str, sender: str) -> str:
    """``<m.TOKEN.SLUG@domain>``: unique per message, carries the token."""
    _, domain = _split(sender)
    slug = re.sub(r"[^A-Za-z0-9-]", "-", campaign_slug)[:40]
    return f"<m.{token}.{slug}@{domain}>"


def plus_address(sender: str, token: str, purpose: str = REPLY) -> str:
    """The sender's mailbox with the token (and its purpose) after a ``+``."""
    local, domain = _split(sender)
    return f"{local}+{purpose + '-' if purpose else ''}{token}@{domain}"


def reply_address(sender: str, token: str) -> str:
    return plus_address(sender, token)


def unsubscribe_address(sender: str, token: str) -> str:
    return plus_address(sender, token, UNSUBSCRIBE)


def tokens_in_addresses(text: str) -> list[tuple[str, str]]:
    """Every (token, purpose) found in plus-addresses within ``text``."""
    return [(m.group(2).lower(), (m.group(1) or REPLY).lower()) for m in _PLUS.finditer(text)]


def tokens_in_message_ids(text: str) -> list[str]:
    """Tokens of our Message-IDs found in ``text`` (In-Reply-To, References, a bounce)."""
    return [m.group(1).lower() for m in _MSGID.finditer(text)]
