"""Decide what a parsed reply is: bounce, auto-reply, unsubscribe, sign-on, decline, action or other.

Machine mail is recognised by structure first (RFC 3464 reports, RFC 3834
headers, flufl.bounce for non-standard bounces), then by wording: a notice that
holds our message until we prove we are human (or until a list's moderator acts)
is an auto-reply, never a bounce; a list refusing non-members is a bounce. Human
text is read by mailer.inbox.intent, after quoted history is gone, with the wording of
the phrase files (mailer/inbox/phrases/<lang>.toml). A sign-on is confident only when it
is explicit, unnegated, unconditional, of this statement, not taken back and short: a
false sign-on publishes an organization's name, so every doubt lowers the confidence
into the review queue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from email.message import Message
from functools import cache

from flufl.bounce import all_failures

from mailer.inbox import intent
from mailer.inbox import phrases as P
from mailer.inbox.parse import ParsedMessage, addresses_in
from mailer.models import BounceInfo, Classification, ReplyClass

__all__ = ["CONFIDENT", "PROVEN", "BounceInfo", "Classification", "classify"]

CONFIDENT = 0.8  # at or above: effects are applied automatically; below: waits for review
PROVEN = 0.95  # an auto-reply by its headers: no human reading can change it

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?:[ -]|$)", re.M)
_NOT_FAILED = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|double-bounce|root|noreply|no-reply)@", re.I
)

logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # it logs every detector exception


def classify(
    msg: ParsedMessage,
    *,
    languages: Sequence[str] = (),
    kind: str = "signon",
    org_names: Sequence[str] = (),
    asked: Sequence[str] = (),
) -> Classification:
    """Classify one reply.

    ``languages``: the campaign's and the organization's languages, whose wording is
    tried first; ``kind``: the campaign's (``call`` reads action reports);
    ``org_names``: the matched organization's names, which it may write about itself
    in the third person ("The X Party signs"); ``asked``: the phrases the statement
    asked for ("We sign"), recognised with small changes.

    Never raises on a message: one that trips a detector goes to review as ``other``. A
    broken phrase file raises MailerError (misreading every reply would be worse).
    """
    _compiled()  # compiles the phrase files once; a broken one raises MailerError here
    try:
        bounce = _bounce(msg)
        if bounce is not None:
            return bounce
        auto = _auto_reply(msg)
        if auto is not None and auto.confidence >= PROVEN:
            return auto
        context = intent.Context(tuple(languages), kind, tuple(org_names), tuple(asked))
        human = intent.read(msg, context)
        # Wording alone ("I was away, sorry: we sign") loses to a clear human answer.
        if auto is None or (human.cls != ReplyClass.OTHER and human.confidence >= CONFIDENT):
            return human
        return auto
    except Exception as exc:  # noqa: BLE001 (outsiders' mail must not stop an import)
        return Classification(
            ReplyClass.OTHER, 0.0, f"could not classify: {type(exc).__name__}"[:200]
        )


# --- bounces -------------------------------------------------------------------------------------


def _bounce(msg: ParsedMessage) -> Classification | None:
    if _holds(msg):
        return None  # a challenge to prove we are human, or a list's moderation: not a failure
    dsn = _from_delivery_status(msg)
    if dsn is not None:
        return dsn
    strong, weak = _bounce_cues(msg)
    rejected = _from_a_robot(msg) and P.pattern("bounce", "rejections").search(
        _flat(msg.text[:5000])
    )
    if not (strong or weak or rejected):
        return None  # flufl.bounce's heuristics misfire on plain replies, and cost time
    failed_temp, failed_perm = _flufl(msg)
    if failed_temp or failed_perm:
        recipients = failed_perm or failed_temp
        evidence = "flufl.bounce and " + ", ".join(strong + weak)
        return _bounce_result(msg, recipients, bool(failed_perm), evidence, 0.95)
    if rejected:  # a mailing list refuses us: through it our message reaches nobody
        recipients = _list_address(msg) or _failed_from_text(msg)
        evidence = f"the list rejects the message: {rejected.group(0)!r}"
        return _bounce_result(msg, recipients, _hard_from_text(msg.text), evidence, 0.9)
    # An Auto-Submitted failure notice needs one cue less ("Message not delivered").
    if strong or len(weak) >= 2 or (weak and _auto_submitted(msg)):
        recipients = _failed_from_text(msg)
        confidence = 0.9 if recipients else 0.7
        evidence = "non-standard bounce: " + ", ".join(strong + weak)
        return _bounce_result(msg, recipients, _hard_from_text(msg.text), evidence, confidence)
    return None


def _flat(text: str) -> str:
    """Folded, with every run of white space one space: wording wraps over lines."""
    return " ".join(P.fold(text).split())


def _holds(msg: ParsedMessage) -> re.Match[str] | None:
    """The wording of a notice that holds our message until we act: a challenge-response
    filter asking us to prove we are human, or a mailing list waiting for its moderator.
    Not when a failure is reported before it: then it is the bounced notice quoted."""
    text = _flat(f"{msg.subject}\n{msg.text[:5000]}")
    held = P.pattern("auto_reply", "holds").search(text)
    if held is None:
        return None
    failed = P.pattern("bounce", "wording").search(text, 0, held.start())
    return None if failed else held


def _auto_submitted(msg: ParsedMessage) -> bool:
    return msg.headers.get("auto-submitted", "no").strip().lower() != "no"


_ROBOT = re.compile(
    r"(?:^|[<\s\"])[^@\s<\"]*(?:-owner|-request|-bounces|owner-|listserv|sympa|mailman|majordomo"
    r"|no-?reply|daemon)[^@\s]*@",
    re.I,
)


def _from_a_robot(msg: ParsedMessage) -> bool:
    """Marks of a program's notice: list headers, bulk precedence, an empty envelope sender,
    Auto-Submitted, or a list or system sender address."""
    h = msg.headers
    return (
        _auto_submitted(msg)
        or h.get("return-path", "").strip() == "<>"
        or h.get("precedence", "").strip().lower() in ("bulk", "list", "junk")
        or any(name in h for name in ("list-id", "x-beenthere", "list-post"))
        or bool(_ROBOT.search(f"{h.get('from', '')} {h.get('return-path', '')}"))
    )


def _list_address(msg: ParsedMessage) -> list[str]:
    """The list that rejected us, from the list headers of its notice."""
    for name in ("x-beenthere", "list-post", "list-id"):
        found = addresses_in(msg.headers.get(name, "").replace("mailto:", " "))
        if found:
            return found[:1]
    return []


def _bounce_cues(msg: ParsedMessage) -> tuple[list[str], list[str]]:
    """Strong cues prove a bounce alone (a mailer daemon, an MTA's own template); weak ones need company."""
    head = _flat(msg.text[:5000])
    strong = [
        "sender " + msg.headers.get("from", "")[:60]
        if P.pattern("bounce", "senders").search(P.fold(msg.headers.get("from", "")))
        else "",
        f"wording {m.group(0)!r}" if (m := P.pattern("bounce", "templates").search(head)) else "",
    ]
    weak = [
        "subject " + repr(msg.subject[:60])
        if P.pattern("bounce", "subjects").search(P.fold(msg.subject))
        else "",
        f"wording {m.group(0)!r}" if (m := P.pattern("bounce", "wording").search(head)) else "",
        "SMTP status" if _STATUS.search(head) or _SMTP_CODE.search(head) else "",
        "returns the original" if _returns_original(msg) else "",
    ]
    return [s for s in strong if s], [w for w in weak if w]


def _returns_original(msg: ParsedMessage) -> bool:
    if msg.mime is None:
        return False
    parts = msg.mime.get_payload()
    if not isinstance(parts, list):  # what is_multipart() tests
        return False
    return any(
        isinstance(part, Message)
        and part.get_content_type() in ("message/rfc822", "text/rfc822-headers")
        for part in parts[1:10]
    )


def _from_delivery_status(msg: ParsedMessage) -> Classification | None:
    """RFC 3464: the per-recipient blocks carry Action, Status and the recipient."""
    failed: list[tuple[list[str], str, dict[str, str]]] = []
    delivered = 0
    for block in msg.delivery_status:
        action = block.get("action", "").strip().lower()
        # Original-Recipient is the address we sent to; Final-Recipient may be rewritten.
        found = [
            _dsn_address(block.get(name, "")) for name in ("original-recipient", "final-recipient")
        ]
        addresses = [a for a in found if a]
        if not action and not addresses:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        if action in ("delivered", "relayed", "expanded"):
            delivered += 1
        else:
            failed.append((addresses, action, block))
    if not failed:
        return (
            Classification(ReplyClass.AUTO_REPLY, 0.7, "delivery report: delivered")
            if delivered
            else None
        )
    recipients = list(dict.fromkeys(a for addresses, _, _ in failed for a in addresses))
    statuses = [_STATUS.search(block.get("status", "")) for _, _, block in failed]
    status = next((m.group(0) for m in statuses if m), None)
    hard = any(
        action == "failed" or (action != "delayed" and m is not None and m.group(1) == "5")
        for (_, action, _), m in zip(failed, statuses, strict=True)
    )
    diagnostic = next(
        (b["diagnostic-code"] for _, _, b in failed if b.get("diagnostic-code")), None
    )
    info = BounceInfo(recipients or _failed_from_text(msg), status, hard, diagnostic)
    kind = "hard" if hard else "soft"
    return Classification(
        ReplyClass.BOUNCE, 0.99, f"delivery status report ({kind}, {status or 'no status'})", info
    )


def _dsn_address(value: str) -> str | None:
    found = addresses_in(value.split(";", 1)[-1])
    return found[0] if found else None


def _flufl(msg: ParsedMessage) -> tuple[list[str], list[str]]:
    if msg.mime is None:
        return [], []
    try:
        temporary, permanent = all_failures(msg.mime)
    except Exception:  # noqa: BLE001 (a detector choking on odd mail is not a bounce)
        return [], []
    return _decoded(temporary), _decoded(permanent)


def _decoded(addresses: frozenset[bytes]) -> list[str]:
    found = []
    for raw in addresses:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        found.extend(addresses_in(text))
    return [a for a in dict.fromkeys(found) if not _NOT_FAILED.match(a)]


def _bounce_result(
    msg: ParsedMessage, recipients: list[str], hard: bool, evidence: str, confidence: float
) -> Classification:
    status = _STATUS.search(msg.text[:20000])
    diagnostic = _diagnostic(msg.text)
    if status and status.group(1) == "4":
        hard = False
    info = BounceInfo(recipients, status.group(0) if status else None, hard, diagnostic)
    return Classification(ReplyClass.BOUNCE, confidence, evidence, info)


def _failed_from_text(msg: ParsedMessage) -> list[str]:
    """Addresses in the notification part, minus the bounce's own sender and system mailboxes."""
    own = {msg.from_addr, *msg.recipients}
    found = [a for a in addresses_in(msg.text[:20000]) if a not in own and not _NOT_FAILED.match(a)]
    return found[:5]


def _hard_from_text(text: str) -> bool:
    status = _STATUS.search(text[:20000])
    if status:
        return status.group(1) == "5"
    code = _SMTP_CODE.search(text[:20000])
    if code:
        return code.group(1) == "5"
    return not re.search(
        r"delay|temporar|will (?:retry|continue)|still trying|not yet been delivered",
        text[:20000],
        re.I,
    )


def _diagnostic(text: str) -> str | None:
    for line in text[:20000].split("\n"):
        if _SMTP_CODE.search(line) or _STATUS.search(line):
            return line.strip()[:300]
    return None


# --- auto-replies --------------------------------------------------------------------------------


def _auto_reply(msg: ParsedMessage) -> Classification | None:
    """RFC 3834 and the usual headers prove an auto-reply; wording (an absence, a challenge
    to verify the sender, a list holding the message) suggests one, more so with a weak
    header (Precedence: bulk, an empty Return-Path) or the wording in the subject."""
    h = msg.headers
    auto_submitted = h.get("auto-submitted", "").strip().lower()
    precedence = h.get("precedence", "").strip().lower()
    strong = [
        f"Auto-Submitted: {auto_submitted}" if auto_submitted and auto_submitted != "no" else "",
        "X-Autoreply" if h.get("x-autoreply") else "",
        "X-Autorespond" if h.get("x-autorespond") else "",
        "X-Autogenerated: Reply" if h.get("x-autogenerated", "").lower() == "reply" else "",
        "Precedence: auto_reply" if precedence == "auto_reply" else "",
        "X-Mailer: vacation" if "vacation" in h.get("x-mailer", "").lower() else "",
    ]
    strong = [s for s in strong if s]
    if strong:
        return Classification(ReplyClass.AUTO_REPLY, PROVEN, ", ".join(strong))
    held = _holds(msg)
    if held:  # sure when a program sent it, or it links to where we should prove ourselves
        sure = _from_a_robot(msg) or "http" in msg.text[:5000]
        cue = f"held until the sender acts: {held.group(0)!r}"
        return Classification(ReplyClass.AUTO_REPLY, 0.9 if sure else 0.75, cue)
    out_of_office = P.pattern("out_of_office", "phrases")
    in_subject = out_of_office.search(_flat(msg.subject))
    wording = in_subject or out_of_office.search(_flat(msg.new_text[:3000]))
    if not wording:
        return None
    weak = [
        f"Precedence: {precedence}" if precedence in ("bulk", "junk") else "",
        "X-Auto-Response-Suppress" if h.get("x-auto-response-suppress") else "",
        "empty Return-Path" if h.get("return-path", "").strip() == "<>" else "",
    ]
    weak = [w for w in weak if w]
    cue = f"out-of-office wording: {wording.group(0)!r}" + "".join(f", {w}" for w in weak)
    return Classification(ReplyClass.AUTO_REPLY, 0.9 if weak or in_subject else 0.75, cue)


_MACHINE = (
    ("bounce", "senders"),
    ("bounce", "subjects"),
    ("bounce", "wording"),
    ("bounce", "templates"),
    ("bounce", "rejections"),
    ("auto_reply", "holds"),
    ("out_of_office", "phrases"),
)


@cache
def _compiled() -> None:
    """Every phrase list compiled now, so that a broken file is found at once."""
    for section, key in _MACHINE:
        P.pattern(section, key)
    intent.wording()
