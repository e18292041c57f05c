"""Decide what a parsed reply is: bounce, auto-reply, unsubscribe, sign-on, decline, action or other.

Machine mail is recognised by structure first (RFC 3464 reports, RFC 3834
headers, flufl.bounce for non-standard bounces), then by wording. Human text is
judged only after quoted history is gone. A sign-on is confident only when it is
explicit, unnegated, unconditional and short: a false sign-on publishes an
organization's name, so every doubt lowers the confidence into the review queue.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from functools import cache

from flufl.bounce import all_failures

from mailer.inbox import phrases as P
from mailer.inbox.parse import ParsedMessage, addresses_in
from mailer.models import ReplyClass

CONFIDENT = 0.8  # at or above: effects are applied automatically; below: waits for review

MAX_WORDS_CONFIDENT = 120  # a longer text may be our own statement pasted back
MAX_WORDS_UNSUBSCRIBE = 40
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?:[ -]|$)", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NOT_FAILED = re.compile(
    r"^(?:mailer-daemon|postmaster|mail-daemon|double-bounce|root|noreply|no-reply)@", re.I
)

logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)  # it logs every detector exception


@dataclass
class BounceInfo:
    recipients: list[str]
    status: str | None
    hard: bool
    diagnostic: str | None


@dataclass
class Classification:
    cls: ReplyClass
    confidence: float
    evidence: str
    bounce: BounceInfo | None = None


@cache
def _patterns(languages: tuple[str, ...]) -> dict[str, re.Pattern[str]]:
    return {
        "decline": P.compile_phrases(P.every("decline", "phrases", languages)),
        "acted": P.compile_phrases(P.every("acted", "phrases", languages)),
    }


@cache
def _sign_patterns(
    languages: tuple[str, ...],
) -> tuple[re.Pattern[str], dict[str, re.Pattern[str]]]:
    """All sign-on wording in one pattern (a named group per language, the given languages
    first), and per language the words that make a sign-on doubtful."""
    table = P.table("sign_on", "phrases")
    doubts = P.table("hedge", "doubts")
    order = P.pick({lang: [lang] for lang in table}, languages)
    sign = re.compile(
        "|".join(f"(?P<{_group(lang)}>{P.compile_phrases(table[lang]).pattern})" for lang in order)
    )
    hedges = {
        _group(lang): P.compile_phrases((*doubts.get(lang, ()), *doubts["en"])) for lang in order
    }
    return sign, hedges


def _group(lang: str) -> str:
    """A regex group name for a language tag (``pt-BR`` → ``pt_BR``)."""
    return lang.replace("-", "_")


@cache
def _words(section: str, key: str) -> re.Pattern[str]:
    """One list of every language file as one pattern (machine mail comes in any language)."""
    return P.compile_phrases(P.every(section, key))


def classify(
    msg: ParsedMessage, *, languages: Sequence[str] = (), kind: str = "signon"
) -> Classification:
    """Classify one reply. ``languages``: the campaign's and organizations' languages, tried first.

    Never raises on a message: one that trips a detector goes to review as ``other``. A
    broken phrase file raises MailerError (misreading every reply would be worse).
    """
    P.load_all()
    try:
        return (
            _bounce(msg) or _auto_reply(msg) or _human(msg, tuple(dict.fromkeys(languages)), kind)
        )
    except Exception as exc:  # noqa: BLE001 (outsiders' mail must not stop an import)
        return Classification(
            ReplyClass.OTHER, 0.0, f"could not classify: {type(exc).__name__}"[:200]
        )


# --- bounces -------------------------------------------------------------------------------------


def _bounce(msg: ParsedMessage) -> Classification | None:
    dsn = _from_delivery_status(msg)
    if dsn is not None:
        return dsn
    strong, weak = _bounce_cues(msg)
    if not (strong or weak):
        return None  # flufl.bounce's heuristics misfire on plain replies, and cost time
    failed_temp, failed_perm = _flufl(msg)
    if failed_temp or failed_perm:
        recipients = failed_perm or failed_temp
        evidence = "flufl.bounce and " + ", ".join(strong + weak)
        return _bounce_result(msg, recipients, bool(failed_perm), evidence, 0.95)
    if strong or len(weak) >= 2:
        recipients = _failed_from_text(msg)
        confidence = 0.9 if recipients else 0.7
        evidence = "non-standard bounce: " + ", ".join(strong + weak)
        return _bounce_result(msg, recipients, _hard_from_text(msg.text), evidence, confidence)
    return None


def _bounce_cues(msg: ParsedMessage) -> tuple[list[str], list[str]]:
    """Strong cues prove a bounce alone (a mailer daemon, an MTA's own template); weak ones need company."""
    head = P.fold(msg.text[:5000])
    strong = [
        "sender " + msg.headers.get("from", "")[:60]
        if _words("bounce", "senders").search(P.fold(msg.headers.get("from", "")))
        else "",
        f"wording {m.group(0)!r}" if (m := _words("bounce", "templates").search(head)) else "",
    ]
    weak = [
        "subject " + repr(msg.subject[:60])
        if _words("bounce", "subjects").search(P.fold(msg.subject))
        else "",
        f"wording {m.group(0)!r}" if (m := _words("bounce", "wording").search(head)) else "",
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
    h = msg.headers
    auto_submitted = h.get("auto-submitted", "").strip().lower()
    precedence = h.get("precedence", "").strip().lower()
    out_of_office = _words("out_of_office", "phrases")
    in_subject = out_of_office.search(P.fold(msg.subject))
    wording = in_subject or out_of_office.search(P.fold(msg.new_text[:3000]))
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
        return Classification(ReplyClass.AUTO_REPLY, 0.95, ", ".join(strong))
    weak = [
        f"Precedence: {precedence}" if precedence in ("bulk", "junk") else "",
        "X-Auto-Response-Suppress" if h.get("x-auto-response-suppress") else "",
    ]
    weak = [w for w in weak if w]
    if wording:
        confidence = 0.9 if weak or in_subject else 0.75
        return Classification(
            ReplyClass.AUTO_REPLY, confidence, f"out-of-office wording: {wording.group(0)!r}"
        )
    return None


# --- human replies -------------------------------------------------------------------------------


def _human(msg: ParsedMessage, languages: tuple[str, ...], kind: str) -> Classification:
    text = P.fold(_unquoted(msg.new_text))[:5000]
    words = len(text.split())
    patterns = _patterns(languages)
    if _words("unsubscribe", "phrases").search(P.fold(msg.subject)) or _words(
        "unsubscribe", "phrases"
    ).search(text):
        short = words <= MAX_WORDS_UNSUBSCRIBE
        return Classification(
            ReplyClass.UNSUBSCRIBE, 0.9 if short else 0.6, "asks to be removed from the list"
        )
    declined = patterns["decline"].search(text)
    sign_patterns = _sign_patterns(languages)
    signs = [found for s in _SENTENCE.split(text) if (found := _sign_sentence(s, sign_patterns))]
    if declined or any(s[1] == "negated" for s in signs):
        cue = declined.group(0) if declined else next(s[0] for s in signs if s[1] == "negated")
        clean = [s for s in signs if s[1] == "clean"]
        confidence = 0.5 if clean else (0.85 if words <= MAX_WORDS_CONFIDENT else 0.6)
        return Classification(ReplyClass.DECLINE, confidence, f"refusal: {cue!r}")
    if signs:
        sign, hedges = sign_patterns
        hedged = any(hedges[m.lastgroup].search(text) for m in sign.finditer(text) if m.lastgroup)
        return _signon(signs, words, hedged)
    if kind == "call":
        acted = patterns["acted"].search(text)
        images = any(a.content_type.startswith(("image/", "video/")) for a in msg.attachments)
        if acted or images:
            cue = f"reports an action: {acted.group(0)!r}" if acted else "sends photos or videos"
            return Classification(ReplyClass.ACTED, 0.7 if acted and images else 0.6, cue)
    return Classification(ReplyClass.OTHER, 0.5, "no sign-on, refusal or action recognised")


def _unquoted(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def _sign_sentence(
    sentence: str, patterns: tuple[re.Pattern[str], dict[str, re.Pattern[str]]]
) -> tuple[str, str] | None:
    """(phrase, 'clean' | 'negated' | 'doubtful') for a sentence containing a sign-on phrase."""
    sign, hedges = patterns
    found = sign.search(sentence)
    if not found or not found.lastgroup:
        return None
    before = sentence[max(0, found.start() - 40) : found.start()]
    after = sentence[found.end() : found.end() + 25]
    if any(_words("negation", "words").search(part) for part in (before, found.group(0), after)):
        return found.group(0), "negated"
    if (
        "?" in sentence
        or sentence.rstrip().endswith(";")
        or hedges[found.lastgroup].search(sentence)
    ):
        return found.group(0), "doubtful"
    return found.group(0), "clean"


def _signon(signs: list[tuple[str, str]], words: int, hedged: bool) -> Classification:
    phrase = signs[0][0]
    if any(state != "clean" for _, state in signs):
        return Classification(
            ReplyClass.SIGNON, 0.5, f"sign-on wording with a question or condition: {phrase!r}"
        )
    if words > MAX_WORDS_CONFIDENT or hedged:
        return Classification(
            ReplyClass.SIGNON, 0.6, f"sign-on wording in a long or hedged text: {phrase!r}"
        )
    return Classification(ReplyClass.SIGNON, 0.9, f"explicit sign-on: {phrase!r}")
