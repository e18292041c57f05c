"""Decide what a parsed reply is: bounce, auto-reply, unsubscribe, sign-on, decline, action or other.

Machine mail is recognised by structure first (RFC 3464 reports, RFC 3834
headers, flufl.bounce for non-standard bounces), then by wording: a notice that
holds our message until we prove we are human (or until a list's moderator acts)
is an auto-reply, never a bounce; a list refusing non-members is a bounce. Human
text is judged only after quoted history is gone, with the wording of the phrase
files (mailer/inbox/phrases/<lang>.toml). A sign-on is confident only when it is
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
from rapidfuzz.distance import OSA, Indel

from mailer.inbox import phrases as P
from mailer.inbox.parse import ParsedMessage, addresses_in
from mailer.models import ReplyClass

CONFIDENT = 0.8  # at or above: effects are applied automatically; below: waits for review
PROVEN = 0.95  # an auto-reply by its headers: no human reading can change it

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?:[ -]|$)", re.M)
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
    _wording()  # compiles the phrase files once; a broken one raises MailerError here
    try:
        bounce = _bounce(msg)
        if bounce is not None:
            return bounce
        auto = _auto_reply(msg)
        if auto is not None and auto.confidence >= PROVEN:
            return auto
        human = _human(msg, Context(tuple(languages), kind, tuple(org_names), tuple(asked)))
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


# --- human replies -------------------------------------------------------------------------------
#
# The new text (quotes gone) is cut into sentences. In each sentence the sign-on wording is
# looked for three ways: first person ("we sign", "add our name"), an organization speaking
# of itself ("KKE signs the statement": its name, or a word like "the Committee", near the
# verb), and the phrase the statement asked for, approximately. A find is negated when a
# negation word of its language stands just before it, doubtful when its sentence asks or
# hesitates. Any refusal or negated sign-on makes a decline; only clean sign-ons in a short
# reply that defers nothing are confident.

MAX_WORDS_CONFIDENT = 120  # a longer text may be our own statement pasted back
MAX_WORDS_UNSUBSCRIBE = 40
NEGATION_BEFORE = 5  # words before a sign-on phrase in which a negation counts
NEGATION_AFTER = 2  # and after it ("wir unterzeichnen nicht")
SUBJECT_BEFORE = 160  # characters before a third-person verb that may hold its subject
SUBJECT_AFTER = 60  # after it ("hiermit unterzeichnet die DKP", Arabic verb-first)
ACTION_NEAR = 60  # characters around a done-verb in which an action word must stand
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|vs|rv|r|tr|i|odg|odp|ynt|res|enc|ant|απ|σχετ|отв|ответ|رد)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*:",
    re.I,
)
_WORD = re.compile(r"\w+")
_CLAUSE_END = re.compile(r"[;:]")
_QUOTES = ('"', "'")  # fold() makes every quotation mark one of these: a quoted sign-on
# phrase is mentioned ("they asked us to write “We sign”"), not said
# A sentence ends at . ! ? or ; (a Greek question) before a space, but not a period after a
# digit: "12. marta", "am 12. März" are dates.
_SENTENCE_END = re.compile(r"(?:(?<=[!?;])|(?<=[^\d\W]\.)|(?<=[)\]\"'»”]\.))\s+")


@dataclass(frozen=True)
class Context:
    """What the reply answers: see :func:`classify`."""

    languages: tuple[str, ...] = ()
    kind: str = "signon"
    org_names: Sequence[str] = ()
    asked: Sequence[str] = ()


@dataclass(frozen=True)
class _Find:
    phrase: str
    state: str  # "clean" | "negated" | "doubtful"


@dataclass(frozen=True)
class _Wording:
    """Every phrase file compiled, once per process. The first-person, third-person and
    action verbs have a named group per language: whose a find is decides which negations
    and hedges apply to it."""

    sign: re.Pattern[str]
    third: re.Pattern[str]  # verbs of an organization signing, in the third person
    done: re.Pattern[str]  # verbs of an action done
    actions: dict[str, re.Pattern[str]]  # per language: what the action was
    subjects: re.Pattern[str]
    decline: re.Pattern[str]
    unsubscribe: re.Pattern[str]
    deferrals: re.Pattern[str]
    reservations: re.Pattern[str]
    reports: re.Pattern[str]
    photos: re.Pattern[str]


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
def _wording() -> _Wording:
    tags = tuple(P.load_all())
    for section, key in _MACHINE:  # compiled now, so that a broken file is found at once
        P.pattern(section, key)
    return _Wording(
        sign=_by_language(tags, "sign_on", "phrases"),
        third=_by_language(tags, "third_person", "verbs"),
        done=_by_language(tags, "acted", "verbs"),
        actions={tag: P.pattern("acted", "actions", (tag,)) for tag in tags},
        subjects=P.pattern("third_person", "subjects"),
        decline=P.pattern("decline", "phrases"),
        unsubscribe=P.pattern("unsubscribe", "phrases"),
        deferrals=P.pattern("hedge", "deferrals"),
        reservations=P.pattern("hedge", "reservations"),
        reports=P.pattern("acted", "phrases"),
        photos=P.pattern("acted", "photos"),
    )


def _by_language(tags: tuple[str, ...], section: str, key: str) -> re.Pattern[str]:
    groups = [
        f"(?P<{_group(tag)}>{found.pattern})"
        for tag in tags
        if (found := P.pattern(section, key, (tag,))) is not P.NEVER
    ]
    return re.compile("|".join(groups)) if groups else P.NEVER


def _group(tag: str) -> str:
    """A regex group name for a language tag (``pt-BR`` → ``pt_BR``)."""
    return tag.replace("-", "_")


@cache
def _hinted(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The phrase files of the hinted tags: the tag's own, else its language's (sr-Latn → sr)."""
    files = {tag.casefold(): tag for tag in P.load_all()}
    found = []
    for lang in languages:
        for tag in (lang, lang.split("-")[0]):
            if tag.casefold() in files:
                found.append(files[tag.casefold()])
                break
    return tuple(dict.fromkeys(found))


def _human(msg: ParsedMessage, context: Context) -> Classification:
    wording = _wording()
    hinted = _hinted(context.languages)
    body = _unquoted(msg.new_text)
    text = P.fold(body)[:5000]
    words = len(text.split())
    own_subject = P.fold(_own_subject(msg.subject))
    if wording.unsubscribe.search(own_subject) or wording.unsubscribe.search(text):
        short = words <= MAX_WORDS_UNSUBSCRIBE
        return Classification(
            ReplyClass.UNSUBSCRIBE, 0.9 if short else 0.6, "asks to be removed from the list"
        )
    sentences = [*_sentences(text), *([own_subject] if own_subject else [])]
    names = _names(context.org_names, body)
    refusals: list[_Find] = []
    signs: list[_Find] = []
    for sentence in sentences:
        refused = _refusals(sentence, wording, hinted)
        found = _signs(sentence, wording, hinted, names, context.asked)
        if refused:  # "Няма да подпишем": the sign-on words in a refusal are what it refuses
            found = [_Find(f.phrase, "negated") for f in found]
        refusals += refused
        signs += found
    negated = [s for s in signs if s.state == "negated"]
    if refusals or negated:
        return _declined(refusals + negated, signs, words)
    if signs:
        deferred = wording.deferrals.search(text) or wording.reservations.search(text)
        return _signon(signs, words, deferred.group(0) if deferred else None)
    if context.kind == "call":
        return _action(msg, sentences, wording, hinted) or _NOTHING
    return _NOTHING


_NOTHING = Classification(ReplyClass.OTHER, 0.5, "no sign-on, refusal or action recognised")


def _unquoted(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def _own_subject(subject: str) -> str:
    """The subject when the sender wrote it ("KKE signs"); nothing when it is ours with "Re:"."""
    return "" if _REPLY_PREFIX.match(subject) else subject


def _sentences(text: str) -> list[str]:
    """Sentences; a long line without an end mark was wrapped and goes on in the next one."""
    lines: list[str] = []
    for line in (raw.strip() for raw in text.split("\n")):
        last = lines[-1] if lines else ""
        if line and len(last) >= 50 and last[-1] not in ".!?;:":
            lines[-1] = f"{last} {line}"
        else:
            lines.append(line)
    return [s for line in lines for s in _SENTENCE_END.split(line) if s.strip()]


def _names(org_names: Sequence[str], body: str) -> re.Pattern[str]:
    """The organization's names and their parts ("X Party – XP": "X Party", "XP"), and the
    acronyms written in the reply: what an organization calls itself in the third person."""
    names: set[str] = set()
    for name in org_names:
        for part in re.split(r"\s[–—-]\s|[()\[\],]", name):
            if len(part.strip()) >= 2:
                names.add(P.fold(part.strip()))
    if body.upper() != body:  # in all capitals every word would look like an acronym
        names.update(P.fold(w) for w in _WORD.findall(body) if _is_acronym(w))
    if not names:
        return P.NEVER
    return re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in sorted(names)))


def _is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 8 and word.isalpha() and word.isupper()


def _finds(
    sentence: str, pattern: re.Pattern[str], hinted: tuple[str, ...], section: str, key: str
) -> list[tuple[re.Match[str], tuple[str, ...]]]:
    """Matches of a by-language pattern, each with the languages whose negations and
    hedges apply to it: its own (a hinted language when that says the same words too:
    "realizamos" is Portuguese for a Portuguese organization), then the hinted ones."""
    found = []
    for match in pattern.finditer(sentence):
        own = (match.lastgroup or "").replace("_", "-")
        also = (h for h in hinted if P.pattern(section, key, (h,)).match(sentence, match.start()))
        own = next(also, own)
        found.append((match, tuple(dict.fromkeys((own, *hinted)))))
    return found


def _refusals(sentence: str, wording: _Wording, hinted: tuple[str, ...]) -> list[_Find]:
    """Refusals in a sentence; one with a condition ("not unless…") is only doubtful."""
    conditional = P.pattern("hedge", "conditions", hinted or ("en",)).search(sentence)
    state = "doubtful" if conditional else "negated"
    return [_Find(found.group(0), state) for found in wording.decline.finditer(sentence)]


def _signs(
    sentence: str,
    wording: _Wording,
    hinted: tuple[str, ...],
    names: re.Pattern[str],
    asked: Sequence[str],
) -> list[_Find]:
    finds = [
        _state(sentence, m.start(), m.end(), tags)
        for m, tags in _finds(sentence, wording.sign, hinted, "sign_on", "phrases")
    ]
    for verb, tags in _finds(sentence, wording.third, hinted, "third_person", "verbs"):
        if _has_subject(sentence, verb, wording.subjects, names):
            finds.append(_state(sentence, verb.start(), verb.end(), tags))
    for start, end in _asked_in(sentence, asked):
        finds.append(_state(sentence, start, end, hinted or ("en",)))
    return finds


def _has_subject(
    sentence: str, verb: re.Match[str], nouns: re.Pattern[str], names: re.Pattern[str]
) -> bool:
    """Whether the organization is the verb's subject: named, or called "the Party", in its
    clause before the verb, just after it, or inside the find ("decided … to join" holds the
    subject in verb-first languages)."""
    before = _CLAUSE_END.split(sentence[max(0, verb.start() - SUBJECT_BEFORE) : verb.start()])[-1]
    after = sentence[verb.end() : verb.end() + SUBJECT_AFTER]
    return any(
        pattern.search(part)
        for pattern in (nouns, names)
        for part in (before, verb.group(0), after)
    )


def _state(sentence: str, start: int, end: int, tags: tuple[str, ...]) -> _Find:
    """Negated (a negation just before or after), doubtful (a question, a condition or
    hesitation in the sentence, or the phrase in quotation marks) or clean."""
    phrase = sentence[start:end]
    exceptions = P.pattern("negation", "exceptions", tags)
    negation = P.pattern("negation", "words", tags)
    before = " ".join(exceptions.sub(" ", sentence[:start]).split()[-NEGATION_BEFORE:])
    after = " ".join(sentence[end:].split()[:NEGATION_AFTER])
    if any(negation.search(part) for part in (before, phrase, after)):
        return _Find(phrase, "negated")
    asks = "?" in sentence or sentence.rstrip().endswith(";")
    quoted = sentence[:start].rstrip()[-1:] in _QUOTES and sentence[end:].lstrip()[:1] in _QUOTES
    if (
        asks
        or quoted
        or any(P.pattern("hedge", key, tags).search(sentence) for key in ("conditions", "doubts"))
    ):
        return _Find(phrase, "doubtful")
    return _Find(phrase, "clean")


def _asked_in(sentence: str, asked: Sequence[str]) -> list[tuple[int, int]]:
    """Where the sentence says an asked-for phrase with a small change: its words in order,
    each the same or off by a letter ("WE SIGN IT", "we sing", "Potpisujem"). Spans in the
    sentence."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(sentence)]
    spans = []
    for phrase in asked:
        wanted = _WORD.findall(P.fold(phrase))
        for first, token in enumerate(tokens if wanted else ()):
            if _same_word(token[0], wanted[0]):
                last = _rest_in_order(tokens, first + 1, wanted[1:])
                if last is not None:
                    spans.append((token[1], tokens[last][2]))
                    break
    return spans


def _rest_in_order(tokens: list[tuple[str, int, int]], start: int, wanted: list[str]) -> int | None:
    """Index of the token matching the last wanted word, each right after the one before
    ("we'd sign", "we hope to sign" are not "we sign": other words change what it says)."""
    last = start - 1
    for word in wanted:
        last += 1
        if last >= len(tokens) or not _same_word(tokens[last][0], word):
            return None
    return last


def _same_word(token: str, wanted: str) -> bool:
    """Equal; or, for words of four letters or more, two letters swapped ("sing"), and for
    five or more one letter added or dropped ("potpisujem"). Never a changed letter: that
    makes other words ("formamos" for "firmamos")."""
    if token == wanted:
        return True
    if min(len(token), len(wanted)) < 4:
        return False
    if len(token) == len(wanted):
        return sorted(token) == sorted(wanted) and OSA.distance(token, wanted) == 1
    return len(wanted) >= 5 and Indel.distance(token, wanted) == 1


def _declined(refusals: list[_Find], signs: list[_Find], words: int) -> Classification:
    cue = refusals[0].phrase
    if all(r.state == "doubtful" for r in refusals):
        return Classification(ReplyClass.DECLINE, 0.5, f"refusal with a condition: {cue!r}")
    if any(s.state == "clean" for s in signs):
        return Classification(ReplyClass.DECLINE, 0.5, f"refusal and sign-on wording: {cue!r}")
    confidence = 0.85 if words <= MAX_WORDS_CONFIDENT else 0.6
    return Classification(ReplyClass.DECLINE, confidence, f"refusal: {cue!r}")


def _signon(signs: list[_Find], words: int, deferred: str | None) -> Classification:
    doubtful = next((s.phrase for s in signs if s.state != "clean"), None)
    if doubtful:
        return Classification(
            ReplyClass.SIGNON, 0.5, f"sign-on wording with a question or condition: {doubtful!r}"
        )
    phrase = signs[0].phrase
    if deferred:
        return Classification(
            ReplyClass.SIGNON,
            0.6,
            f"sign-on wording, but the reply defers or reserves: {deferred!r}",
        )
    if words > MAX_WORDS_CONFIDENT:
        return Classification(ReplyClass.SIGNON, 0.6, f"sign-on wording in a long text: {phrase!r}")
    return Classification(ReplyClass.SIGNON, 0.9, f"explicit sign-on: {phrase!r}")


def _action(
    msg: ParsedMessage, sentences: list[str], wording: _Wording, hinted: tuple[str, ...]
) -> Classification | None:
    """A call campaign: an action reported as done (photos alone only suggest one)."""
    reports = [
        found.group(0)
        for sentence in sentences
        if "?" not in sentence
        for found, tags in _reports(sentence, wording, hinted)
        if _state(sentence, found.start(), found.end(), tags).state != "negated"
    ]
    if reports:
        return Classification(ReplyClass.ACTED, 0.85, f"reports an action: {reports[0]!r}")
    photos = wording.photos.search(" ".join(sentences))
    if photos:
        return Classification(ReplyClass.ACTED, 0.6, f"mentions photos: {photos.group(0)!r}")
    if any(a.content_type.startswith(("image/", "video/")) for a in msg.attachments):
        return Classification(ReplyClass.ACTED, 0.6, "sends photos or videos")
    return None


def _reports(
    sentence: str, wording: _Wording, hinted: tuple[str, ...]
) -> list[tuple[re.Match[str], tuple[str, ...]]]:
    """Actions reported done: a whole phrase, or a done-verb with an action word near it."""
    found = [(m, hinted or ("en",)) for m in wording.reports.finditer(sentence)]
    for verb, tags in _finds(sentence, wording.done, hinted, "acted", "verbs"):
        near = sentence[max(0, verb.start() - ACTION_NEAR) : verb.end() + ACTION_NEAR]
        if any(wording.actions[tag].search(near) for tag in tags):
            found.append((verb, tags))
    return found
