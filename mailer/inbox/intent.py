"""What a person's reply says: it signs, declines, reports an action, asks to be removed,
or none of these, with the wording of the phrase files (mailer/inbox/phrases/<lang>.toml).

The new text (quotes gone) is cut into sentences; the reply's own subject ("KKE signs")
counts as the first. In each sentence the sign-on wording is looked for three ways: first
person ("we sign", "add our name"), an organization speaking of itself ("KKE signs the
statement": its name, or a word like "the Committee", near the verb), and the phrase the
statement asked for, approximately.

A sign-on is published in the organization's name, so a find is confident only when nothing
casts doubt on it. It is negated by a negation word of its language in its clause ("we do
not sign", "decided non-joining"), or by a refusal anywhere in its sentence. It is doubtful
when its sentence asks, hesitates or sets a condition; when it speaks of another occasion
("last year we signed", "we signed your statement on Cuba" when the statement answered is
on something else); and when the reply, after it, holds or takes it back ("we sign.
Actually, wait for our chair", "we sign. No, sorry…"). Any refusal makes a decline, unless
it only puts the sign-on off ("don't add our name yet": a hold, which waits for review);
only clean sign-ons in a short reply that defers nothing are confident.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from os.path import commonprefix

from rapidfuzz.distance import OSA, Indel

from mailer.inbox import phrases as P
from mailer.inbox.parse import ParsedMessage
from mailer.models import Classification, ReplyClass

MAX_WORDS_CONFIDENT = 120  # a longer text may be our own statement pasted back
MAX_WORDS_UNSUBSCRIBE = 40
NEGATION_BEFORE = 5  # words before a sign-on phrase in which a negation counts
NEGATION_AFTER = 2  # and after it ("wir unterzeichnen nicht")
SUBJECT_BEFORE = 160  # characters before a third-person verb that may hold its subject
SUBJECT_AFTER = 60  # after it ("hiermit unterzeichnet die DKP", Arabic verb-first)
PLAN_BEFORE = 4  # words before a done-verb in which a word of the future makes it a plan
ACTION_NEAR = 60  # characters around a done-verb in which an action word must stand
UNDECIDED_NEAR = 20  # characters before a negated sign-on in which "not yet decided" may start
THIS_BEFORE = 3  # words before a statement named by its topic in which "this" makes it ours
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|vs|rv|r|tr|i|odg|odp|ynt|res|enc|ant|απ|σχετ|отв|ответ|رد)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*:",
    re.I,
)
_WORD = re.compile(r"\w+")
_CLAUSE_END = re.compile(r"[;:]")
# Where a negation stops: "ne odustajemo, potpisujemo" (we do not give up, we sign).
_NEGATION_STOP = re.compile(r"[,;:–—،]|\s-\s")
_QUOTES = ('"', "'")  # fold() makes every quotation mark one of these: a quoted sign-on
# phrase is mentioned ("they asked us to write “We sign”"), not said
# A sentence ends at . ! ? or ; (a Greek question) or an ellipsis ("We sign... No, wait")
# before a space, but not a period after a digit: "12. marta", "am 12. März" are dates. Indic vowel signs are no \w: "हैं।" ends one.
_SENTENCE_END = re.compile(
    r"(?:(?<=[!?;…])|(?<=\.\.\.)|(?<=[^\d\W]\.)|(?<=[\u0900-\u0dff]\.)|(?<=[)\]\"'»”]\.))\s+"
)
# A later sentence that opens with a bare negation takes a sign-on back: "We sign. No,
# wait…", "Podpisujemy. A nie, czekajcie…", "Підписуємо. Ой, ні…" (one word may come first).
_CORRECTION = r"^\W*(?:\w+\W+)?(?:{})\s*[,!—–-]"


@dataclass(frozen=True)
class Context:
    """What the reply answers: see :func:`mailer.inbox.classify.classify`."""

    languages: tuple[str, ...] = ()
    kind: str = "signon"
    org_names: Sequence[str] = ()
    asked: Sequence[str] = ()


@dataclass(frozen=True)
class _Find:
    phrase: str
    state: str  # "clean" | "negated" | "doubtful" | "held" (a refusal put off: "not yet")
    why: str = ""  # what makes it doubtful: "a question mark", "'last year'"
    sentence: int = 0  # where it ends: the sentence's index, and the offset in it
    end: int = 0
    tags: tuple[str, ...] = ()  # the languages whose wording judges it


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
    retractions: re.Pattern[str]
    reports: re.Pattern[str]
    photos: re.Pattern[str]
    promises: re.Pattern[str]


@cache
def wording() -> _Wording:
    """The human-reply wording of every phrase file, compiled (MailerError for a broken one)."""
    tags = tuple(P.load_all())
    for tag in tags:  # compiled now, so that a broken file is found at once
        _topics(tag)
    for section, key in (
        ("words", "this"),
        ("hedge", "past"),
        ("hedge", "past_exceptions"),
        ("hedge", "doubt_exceptions"),
    ):
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
        retractions=P.pattern("hedge", "retractions"),
        reports=P.pattern("acted", "phrases"),
        photos=P.pattern("acted", "photos"),
        promises=P.pattern("acted", "promises"),
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
def _topics(tag: str) -> tuple[re.Pattern[str], ...]:
    """The [words] topics of one file, each phrase compiled on its own: each holds a group
    named "topic", which an alternation of several could not."""
    found = P.load_all().get(tag, {}).get("words", {}).get("topics", ())
    try:
        return tuple(P.compile_phrases([phrase]) for phrase in found)
    except re.error:
        P.check_file(P.PHRASE_DIR / f"{tag}.toml")
        raise


@cache
def hinted(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The phrase files of the hinted tags: the tag's own, else its language's (sr-Latn → sr)."""
    files = {tag.casefold(): tag for tag in P.load_all()}
    found = []
    for lang in languages:
        for tag in (lang, lang.split("-")[0]):
            if tag.casefold() in files:
                found.append(files[tag.casefold()])
                break
    return tuple(dict.fromkeys(found))


def read(msg: ParsedMessage, context: Context) -> Classification:
    """What a person's reply says (machine mail is the caller's to rule out first)."""
    words_of = wording()
    hints = hinted(context.languages)
    body = _unquoted(msg.new_text)
    text = P.fold(body)[:5000]
    words = len(text.split())
    own_subject = P.fold(_own_subject(msg.subject))
    if words_of.unsubscribe.search(own_subject) or words_of.unsubscribe.search(text):
        # "We withdraw our signature; remove our name from the list" asks off the list
        # of signatories, not off the mailing list: a person decides.
        withdrawn = words_of.retractions.search(text)
        sure = words <= MAX_WORDS_UNSUBSCRIBE and not withdrawn
        why = f", but withdraws too: {withdrawn.group(0)!r}" if withdrawn else ""
        return Classification(
            ReplyClass.UNSUBSCRIBE, 0.9 if sure else 0.6, f"asks to be removed from the list{why}"
        )
    sentences = [*([own_subject] if own_subject else []), *_sentences(text)]
    reading = _Reading(words_of, hints, _names(context.org_names, body), context, msg.subject)
    refusals: list[_Find] = []
    signs: list[_Find] = []
    found_in = [reading.signs(sentence, index) for index, sentence in enumerate(sentences)]
    # "For now" holds a refusal only in a reply that signs, defers or holds ("the youth branch
    # agrees, the leadership has not decided yet: don't include our name for now");
    # "we cannot join for now" alone is a refusal.
    retracting = P.pattern("hedge", "retractions", hints or ("en",))  # own: "Moment" is German
    put_off = any(f.state != "negated" for found in found_in for f in found) or bool(
        words_of.deferrals.search(text) or retracting.search(text)
    )
    for index, sentence in enumerate(sentences):
        refused = _refusals(sentence, words_of, hints, put_off)
        found = found_in[index]
        if refused:  # "Няма да подпишем": the sign-on words in a refusal are what it refuses,
            # and a refusal held or conditional ("not yet", "unless") leaves them doubtful
            state = "negated" if any(r.state == "negated" for r in refused) else "doubtful"
            found = [_Find(f.phrase, state, refused[0].why) for f in found]
        else:
            found = [_undecided(f, sentence, words_of.deferrals, put_off) for f in found]
        refusals += refused
        signs += found
    negated = [s for s in signs if s.state in ("negated", "held")]
    if refusals or negated:
        return _declined(refusals + negated, signs, words)
    if signs:
        held = words_of.deferrals.search(text) or words_of.reservations.search(text)
        return _signon(signs, words, held.group(0) if held else _retracted(signs, sentences, hints))
    if context.kind == "call":
        return _action(msg, sentences, words_of, hints) or _NOTHING
    return _NOTHING


_NOTHING = Classification(ReplyClass.OTHER, 0.5, "no sign-on, refusal or action recognised")


def _undecided(find: _Find, sentence: str, deferrals: re.Pattern[str], put_off: bool) -> _Find:
    """A negated sign-on inside a deferral ("we have not yet decided to sign", "Мы ещё не
    решили подписать") refuses nothing yet: it is only doubtful. A deferral elsewhere in
    the sentence leaves a refusal one ("we won't sign, see you at the next meeting")."""
    if find.state != "negated":
        return find
    start = find.end - len(find.phrase) - UNDECIDED_NEAR
    for deferral in deferrals.finditer(sentence):
        if deferral.start() < find.end and deferral.end() > start:
            return _Find(find.phrase, "doubtful", repr(deferral.group(0)), find.sentence, find.end)
    start = find.end - len(find.phrase)
    if hold := _on_hold(sentence, start, find.end, find.tags or None, put_off):
        return _Find(find.phrase, "held", repr(hold), find.sentence, find.end)
    return find


def _on_hold(
    sentence: str, start: int, end: int, tags: tuple[str, ...] | None, put_off: bool
) -> str:
    """A temporal hold in the clause of a refusal: "don't add our name yet", "wait until
    the board has seen it" put a sign-on off, they refuse nothing for good; such a reply
    waits for review. "For now" only in a reply that signs, defers or holds too
    (``put_off``), or in a sentence with a hold ("for now don't add us, the board still has
    to read it").
    "Don't add our name, we don't support it" stays a refusal: the comma ends the clause."""
    before = _NEGATION_STOP.split(sentence[:start])[-1]
    after = _NEGATION_STOP.split(sentence[end:])[0]
    clause = f"{before}{sentence[start:end]}{after}"
    strong = P.pattern("hedge", "holds", tags).search(sentence)
    lists = ("holds", "for_now") if put_off or strong else ("holds",)
    for key in lists:
        if found := P.pattern("hedge", key, tags).search(clause):
            return found.group(0)
    return ""


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
    sentence: str, pattern: re.Pattern[str], hints: tuple[str, ...], section: str, key: str
) -> list[tuple[re.Match[str], tuple[str, ...]]]:
    """Matches of a by-language pattern, each with the languages whose negations and
    hedges apply to it: its own (a hinted language when that says the same words too:
    "realizamos" is Portuguese for a Portuguese organization), then the hinted ones."""
    found = []
    for match in pattern.finditer(sentence):
        own = (match.lastgroup or "").replace("_", "-")
        also = (h for h in hints if P.pattern(section, key, (h,)).match(sentence, match.start()))
        own = next(also, own)
        found.append((match, tuple(dict.fromkeys((own, *hints)))))
    return found


def _refusals(
    sentence: str, words_of: _Wording, hints: tuple[str, ...], put_off: bool
) -> list[_Find]:
    """Refusals in a sentence; one with a condition ("not unless…") or a hold ("not yet")
    is only doubtful."""
    conditional = P.pattern("hedge", "conditions", hints or ("en",)).search(sentence)
    finds = []
    for found in words_of.decline.finditer(sentence):
        hold = _on_hold(sentence, found.start(), found.end(), hints or ("en",), put_off)
        if conditional:
            finds.append(_Find(found.group(0), "doubtful", repr(conditional.group(0))))
        else:
            finds.append(_Find(found.group(0), "held" if hold else "negated", repr(hold)))
    return finds


@dataclass(frozen=True)
class _Reading:
    """What the sign-on finds of one reply are judged against."""

    words_of: _Wording
    hints: tuple[str, ...]
    names: re.Pattern[str]
    context: Context
    subject: str  # the reply's

    @cached_property
    def answered(self) -> str:
        """The subject of the statement answered, folded, when it names a topic: the reply's
        when it answers ours ("Re: Statement on Palestine"). "KKE signs" and "Re: Joint
        statement" say nothing of what the statement is about."""
        subject = self.subject
        if not _REPLY_PREFIX.match(subject):
            return ""
        folded = P.fold(_REPLY_PREFIX.sub("", subject))
        rest = P.pattern("words", "statement").sub(" ", folded)
        return folded if any(len(word) >= 4 for word in P.WORD.findall(rest)) else ""

    def signs(self, sentence: str, index: int) -> list[_Find]:
        """The sign-on finds of one sentence, each judged in it."""
        spans = [
            (m.start(), m.end(), tags)
            for m, tags in _finds(sentence, self.words_of.sign, self.hints, "sign_on", "phrases")
        ]
        for verb, tags in _finds(
            sentence, self.words_of.third, self.hints, "third_person", "verbs"
        ):
            if _has_subject(sentence, verb, self.words_of.subjects, self.names):
                spans.append((verb.start(), verb.end(), tags))
        spans += [(s, e, self.hints or ("en",)) for s, e in _asked_in(sentence, self.context.asked)]
        return [self.judge(sentence, index, start, end, tags) for start, end, tags in spans]

    def judge(
        self, sentence: str, index: int, start: int, end: int, tags: tuple[str, ...]
    ) -> _Find:
        """Negated (a negation in its clause just before or after), doubtful (a question, a
        condition or hesitation in the sentence, the phrase in quotation marks, another
        occasion or another statement) or clean."""
        phrase = sentence[start:end]
        if _negated(sentence, start, end, tags):
            return _Find(phrase, "negated", sentence=index, end=end, tags=tags)
        quoted = (
            sentence[:start].rstrip()[-1:] in _QUOTES and sentence[end:].lstrip()[:1] in _QUOTES
        )
        cue = (
            _hedged(sentence, tags)
            or _another_time(sentence, tags)
            or _another_statement(sentence, tags, self.answered)
        )
        doubt = (
            ("a question mark" if "?" in sentence or sentence.rstrip().endswith(";") else "")
            or ("quotation marks" if quoted else "")
            or (repr(cue) if cue else "")
        )
        return _Find(phrase, "doubtful" if doubt else "clean", doubt, index, end)


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


def _negated(sentence: str, start: int, end: int, tags: tuple[str, ...]) -> bool:
    """A negation word in the find, or in its clause just before or after it. A clause
    boundary ends a negation's reach: "no dudamos, firmamos" (we do not hesitate, we sign)."""
    exceptions = P.pattern("negation", "exceptions", tags)
    negation = P.pattern("negation", "words", tags)
    before = _NEGATION_STOP.split(exceptions.sub(" ", sentence[:start]))[-1]
    after = _NEGATION_STOP.split(sentence[end:])[0]
    parts = (
        " ".join(before.split()[-NEGATION_BEFORE:]),
        sentence[start:end],
        " ".join(after.split()[:NEGATION_AFTER]),
    )
    return any(negation.search(part) for part in parts)


def _hedged(sentence: str, tags: tuple[str, ...]) -> str:
    """A condition or a hesitation in the sentence ("if", "maybe", "but"). A decision
    already taken after a deliberation ("after discussion we decided to sign") is no
    "after" of a signature put off: those phrases go first."""
    if found := P.pattern("hedge", "conditions", tags).search(sentence):
        return found.group(0)
    decided = P.pattern("hedge", "doubt_exceptions", tags).sub(" ", sentence)
    found = P.pattern("hedge", "doubts", tags).search(decided)
    return found.group(0) if found else ""


def _another_time(sentence: str, tags: tuple[str, ...]) -> str:
    """A signature of another occasion: "last year we signed", "the one of 2024". Not a
    comparison ("as last year, we sign") or another date ("founded in 1921"): those go first."""
    dated = P.pattern("hedge", "past_exceptions", tags).sub(" ", sentence)
    found = P.pattern("hedge", "past", tags).search(dated)
    return found.group(0) if found else ""


def _another_statement(sentence: str, tags: tuple[str, ...], subject: str) -> str:
    """A statement named by a topic ("your statement on Cuba") that ``subject``, the folded
    subject of our statement, does not mention; unless "this" points at it."""
    if not subject:
        return ""
    for tag in tags:
        this = P.pattern("words", "this", (tag,))
        for topics in _topics(tag):
            for found in topics.finditer(sentence):
                near = " ".join(sentence[: found.start()].split()[-THIS_BEFORE:])
                if this.search(near) or this.search(found.group(0)):
                    continue
                # Words of four letters or more: "on the war in Sudan" is told by "Sudan".
                words = [w for w in P.WORD.findall(found.group("topic")) if len(w) >= 4]
                if words and not any(_in_subject(word, subject) for word in words):
                    return found.group(0)
    return ""


def _in_subject(word: str, subject: str) -> bool:
    """Whether a word of a topic is in the subject, in any ending: "Palestina" names the
    statement on "Palestine", "Кубе" the one on "Куба"."""
    for other in P.WORD.findall(subject):
        shared = len(commonprefix([word, other]))
        if shared >= 3 and shared >= min(len(word), len(other)) - 2:
            return True
    return False


def _retracted(signs: list[_Find], sentences: list[str], hints: tuple[str, ...]) -> str | None:
    """A hold or retraction after the first sign-on: "We sign. Actually, hold on: wait for
    our chair", "…but do not publish our name yet", or a later sentence that opens with
    "No," (in the hinted languages, else in any)."""
    first = min(signs, key=lambda s: (s.sentence, s.end))
    later = [sentences[first.sentence][first.end :], *sentences[first.sentence + 1 :]]
    if found := wording().retractions.search(" ".join(later)):
        return found.group(0)
    correction = _correction(hints)
    exceptions = P.pattern("negation", "exceptions", hints or None)
    for sentence in later[1:]:
        if found := correction.search(exceptions.sub(" ", sentence)):
            return found.group(0)
    return None


@cache
def _correction(hints: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_CORRECTION.format(P.pattern("negation", "words", hints or None).pattern))


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
    if all(r.state == "held" for r in refusals):
        why = refusals[0].why
        return Classification(ReplyClass.OTHER, 0.5, f"a sign-on put off ({why}): {cue!r}")
    if all(r.state != "negated" for r in refusals):
        return Classification(ReplyClass.DECLINE, 0.5, f"refusal with a condition: {cue!r}")
    if any(s.state == "clean" for s in signs):
        return Classification(ReplyClass.DECLINE, 0.5, f"refusal and sign-on wording: {cue!r}")
    confidence = 0.85 if words <= MAX_WORDS_CONFIDENT else 0.6
    return Classification(ReplyClass.DECLINE, confidence, f"refusal: {cue!r}")


def _signon(signs: list[_Find], words: int, held: str | None) -> Classification:
    doubtful = next((s for s in signs if s.state != "clean"), None)
    if doubtful:
        return Classification(
            ReplyClass.SIGNON,
            0.5,
            f"sign-on wording, but {doubtful.why} in its sentence: {doubtful.phrase!r}",
        )
    phrase = signs[0].phrase
    if held:
        return Classification(
            ReplyClass.SIGNON, 0.6, f"sign-on wording, but the reply holds or defers: {held!r}"
        )
    if words > MAX_WORDS_CONFIDENT:
        return Classification(ReplyClass.SIGNON, 0.6, f"sign-on wording in a long text: {phrase!r}")
    return Classification(ReplyClass.SIGNON, 0.9, f"explicit sign-on: {phrase!r}")


def _action(
    msg: ParsedMessage, sentences: list[str], words_of: _Wording, hints: tuple[str, ...]
) -> Classification | None:
    """A call campaign: an action reported as done (photos alone only suggest one). A
    promise to tell later how it went ("javićemo kako je prošlo") holds a past-tense verb
    but reports nothing: it is taken out first, with every language's list, since a verb
    of one language may be found in a neighbour's text. An action of another occasion
    ("last year we held a rally") is no report either."""
    sentences = [words_of.promises.sub(" ", sentence) for sentence in sentences]
    reports = [
        found.group(0)
        for sentence in sentences
        if "?" not in sentence
        for found, tags in _reports(sentence, words_of, hints)
        if not _negated(sentence, found.start(), found.end(), tags)
        and not _planned(sentence, found.start(), found.end(), tags)
        and not _another_time(sentence, tags)
    ]
    if reports:
        return Classification(ReplyClass.ACTED, 0.85, f"reports an action: {reports[0]!r}")
    photos = words_of.photos.search(" ".join(sentences))
    if photos:
        return Classification(ReplyClass.ACTED, 0.6, f"mentions photos: {photos.group(0)!r}")
    if any(a.content_type.startswith(("image/", "video/")) for a in msg.attachments):
        return Classification(ReplyClass.ACTED, 0.6, "sends photos or videos")
    return None


def _planned(sentence: str, start: int, end: int, tags: tuple[str, ...]) -> bool:
    """A word of the future in a done verb's find or in its clause just before it: "će
    biti održan", "будет проведён", "ще се проведе" (will be held), "our members will have
    distributed" announce a plan, they report nothing."""
    before = _NEGATION_STOP.split(sentence[:start])[-1]
    near = " ".join([*before.split()[-PLAN_BEFORE:], sentence[start:end]])
    return bool(P.pattern("acted", "future", tags).search(near))


def _reports(
    sentence: str, words_of: _Wording, hints: tuple[str, ...]
) -> list[tuple[re.Match[str], tuple[str, ...]]]:
    """Actions reported done: a whole phrase, or a done-verb with an action word near it."""
    found = [(m, hints or ("en",)) for m in words_of.reports.finditer(sentence)]
    for verb, tags in _finds(sentence, words_of.done, hints, "acted", "verbs"):
        near = sentence[max(0, verb.start() - ACTION_NEAR) : verb.end() + ACTION_NEAR]
        if any(words_of.actions[tag].search(near) for tag in tags):
            found.append((verb, tags))
    return found
