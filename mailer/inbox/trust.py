"""Whether a reply proves that it comes from the organization it matched (DESIGN §7a).

A sign-on is published in the organization's name, so a reply's answer becomes
a fact automatically only when the reply shows who sent it. Proof, strongest first:

1. the department's own receiving server verified the From domain (DMARC or an
   aligned DKIM ``pass`` in an Authentication-Results header carrying *our*
   authserv-id, RFC 8601 — any other server's header, or one a sender wrote
   themselves, proves nothing), and the From is the organization's;
2. the From is the organization's and the reply carries our token or thread.

"The organization's" From is one of its known addresses, or an address at its
own domain: one no other organization uses and no public webmail service hosts.
A token or a thread alone proves only that the sender saw our message (every
forward carries both); a From alone is trivially forged. Pure: the caller passes
what the database knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import authres  # type: ignore[import-untyped]

from mailer.inbox.parse import ParsedMessage, addresses_in


@cache
def webmail() -> frozenset[str]:
    """Mailbox services shared by many unrelated people: an address there says nothing
    about which organization wrote. A data file, so the list can grow without code."""
    text = (Path(__file__).parent / "webmail.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


@dataclass(frozen=True)
class Known:
    """What the database knows of the matched organization's mail."""

    addresses: frozenset[str]
    domains: frozenset[str]  # its own domains: see own_domains()


@dataclass(frozen=True)
class Origin:
    """``verified`` names what proved the origin; otherwise ``reason`` says what is missing."""

    verified: str | None
    reason: str | None = None


ASSIGNED = Origin("assigned by a person")


def is_webmail(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    parts = domain.split(".")
    return any(".".join(parts[i:]) in webmail() for i in range(len(parts) - 1))


def own_domains(addresses: Sequence[str], used_by_others: set[str]) -> frozenset[str]:
    """The domains of an organization's addresses that are its own: not webmail and
    not used by any other organization."""
    domains = {a.rpartition("@")[2] for a in addresses}
    return frozenset(d for d in domains if d and not is_webmail(d) and d not in used_by_others)


def server_checks(msg: ParsedMessage, authserv_id: str) -> dict[str, str]:
    """What our receiving server found for the From domain: {"dkim": "pass", "dmarc": …}.

    Only the topmost Authentication-Results with our authserv-id counts: it is the
    one our server added last, above anything that came with the message (RFC 8601
    §5 has the server remove earlier ones that claim its name).
    """
    if not authserv_id or not msg.from_addr:
        return {}
    domain = msg.from_addr.rpartition("@")[2]
    for value in msg.auth_results:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except Exception:  # noqa: BLE001 - a malformed header proves nothing
            if _named(value) == authserv_id.lower():
                return {}  # still our topmost: a planted one below must not stand in for it
            continue
        if str(header.authserv_id).lower() != authserv_id.lower():
            continue
        return _checks_for(header.results, domain)
    return {}


def _named(value: str) -> str:
    """The authserv-id a header that cannot be parsed names: its first word before ";"."""
    words = value.partition(";")[0].split()
    return words[0].lower() if words else ""


def _checks_for(results: Sequence[object], domain: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for result in results:
        method = str(getattr(result, "method", "")).lower()
        if method not in ("dkim", "dmarc"):
            continue
        props = {
            f"{p.type}.{p.name}".lower(): str(p.value).lower()
            for p in getattr(result, "properties", [])
        }
        if method == "dkim":
            signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            if not signer or not _aligned(domain, signer):
                continue  # a signature of some other domain says nothing of the From
        elif props.get("header.from") not in (None, domain):
            continue
        outcome = str(getattr(result, "result", "")).lower()
        if found.get(method) != "pass":  # one aligned pass is enough
            found[method] = outcome
    return found


def _aligned(from_domain: str, signer: str) -> bool:
    """Relaxed alignment (DMARC): the signer is the From domain or a parent of it."""
    return from_domain == signer or from_domain.endswith("." + signer)


def verify(msg: ParsedMessage, *, ours: bool, known: Known | None, authserv_id: str) -> Origin:
    """Whether ``msg`` proves it comes from the organization ``known`` describes.

    ``ours``: the reply carries our token or names our message in its thread.
    """
    sender = msg.from_addr
    if known is None or not sender:
        return Origin(None, "no organization to verify the sender against")
    if msg.from_count > 1 or len(addresses_in(msg.headers.get("from", ""))) > 1:
        return Origin(None, "sender not verified: the message names more than one From")
    domain = sender.rpartition("@")[2]
    if sender in known.addresses:
        who = "known address"
    elif domain in known.domains:
        who = "the organization's own domain"
    else:
        stranger = "a stranger in the thread" if ours else "an address the organization never used"
        return Origin(None, f"sender not verified: {sender} is {stranger}")
    checks = server_checks(msg, authserv_id)
    for method in ("dmarc", "dkim"):
        if checks.get(method) == "pass":
            return Origin(f"{method} pass ({who})")
    failed = [f"{m}={r}" for m, r in checks.items() if r in ("fail", "permerror")]
    if failed:
        return Origin(None, f"From not verified by the receiving server ({', '.join(failed)})")
    if ours:
        return Origin(f"{who} with our token or thread")
    return Origin(
        None,
        "From not verified by the receiving server, and the mail carries no token or thread of ours",
    )
