"""Where a campaign stands, and the list of its signatories.

``campaign_status`` aggregates messages, replies and responses into the
DESIGN §4a status document (by wave, by country, by organization, over
time); ``signatories`` and ``format_signatories`` produce the numbered list
to publish, ``publishable_list`` all that `mailer signatories` prints (the
statement above it comes from mailer.render). Reading only: nothing here changes the database.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlite_utils import Database

from mailer import orgstore, queue, responses
from mailer.campaigns import audience, get_campaign, list_campaigns
from mailer.config import Settings
from mailer.errors import MailerError, TemplateError
from mailer.importing import spreadsheet_safe
from mailer.inbox import store as replies
from mailer.lang import (
    country_name,
    fold_accents,
    is_rtl,
    name_in,
    negotiate,
    normalize_language,
    other_serbian_script,
)
from mailer.models import MessageState, PublishedList, ReplyClass
from mailer.responses import KINDS
from mailer.signon import HEADINGS, fold
from mailer.statements import Statement, line_of

# An organization's state in a campaign, strongest first (the first that applies wins):
#   a current (not withdrawn) response: signed, declined, acted, unsubscribed;
#   bounced: every address of the organization bounced or is invalid;
#   replied: a human reply came (one still waiting for review, or "other");
#   auto_replied: only automatic replies came;
#   no_answer: at least one message was sent;
#   not_sent: nothing was sent yet (or nothing got out).
STATES = (*KINDS, "bounced", "replied", "auto_replied", "no_answer", "not_sent")
# Replies a person wrote (an answer, or one still waiting for review).
HUMAN_REPLIES = frozenset(ReplyClass) - {
    ReplyClass.BOUNCE,
    ReplyClass.AUTO_REPLY,
    ReplyClass.UNPARSABLE,
}


@dataclass
class _OrgFacts:
    org: dict[str, Any]
    messages: list[dict[str, Any]]
    replies: list[dict[str, Any]]
    response: dict[str, Any] | None
    address_states: list[str]
    emails: list[str] = field(default_factory=list)  # its addresses that still take mail

    def state(self) -> str:
        if self.response is not None:
            return str(self.response["kind"])
        if self.address_states and all(s in ("bounced", "invalid") for s in self.address_states):
            return "bounced"
        classes = {r["class"] for r in self.replies}
        if classes & HUMAN_REPLIES:
            return "replied"
        if "auto_reply" in classes:
            return "auto_replied"
        if any(m["state"] == MessageState.SENT for m in self.messages):
            return "no_answer"
        return "not_sent"


def _facts(db: Database, campaign: dict[str, Any]) -> dict[int, _OrgFacts]:
    cid = campaign["id"]
    orgs = orgstore.all_orgs(db)
    facts: dict[int, _OrgFacts] = {}

    def of(org_id: int) -> _OrgFacts:
        # merge_orgs moves every row of a merged organization to the one it kept.
        if org_id not in facts:
            facts[org_id] = _OrgFacts(orgs[org_id], [], [], None, [])
        return facts[org_id]

    for recipient in audience(db, campaign):
        of(recipient.org.id)
    for m in queue.for_status(db, cid):
        of(m["org_id"]).messages.append(m)
    for r in replies.for_status(db, cid):
        of(r["org_id"]).replies.append(r)
    for r in responses.current_answers(db, cid):
        of(r["org_id"]).response = r
    for org_id, email, status in orgstore.all_addresses(db):
        if org_id in facts:
            facts[org_id].address_states.append(status)
            if status == "active":
                facts[org_id].emails.append(email)
    return facts


def _wave_of_response(f: _OrgFacts) -> int | None:
    """The last wave sent to the organization before it answered."""
    if f.response is None:
        return None
    before = [m["wave"] for m in f.messages if m["sent_at"] and m["sent_at"] <= f.response["at"]]
    return max(before) if before else None


def _by_wave(facts: dict[int, _OrgFacts]) -> list[dict[str, Any]]:
    waves = sorted({m["wave"] for f in facts.values() for m in f.messages})
    rows = []
    for wave in waves:
        states: Counter[str] = Counter()
        orgs: set[int] = set()
        counts: Counter[str] = Counter()
        for org_id, f in facts.items():
            mine = [m for m in f.messages if m["wave"] == wave]
            if not mine:
                continue
            orgs.add(org_id)
            states.update(m["state"] for m in mine)
            ids = {m["id"] for m in mine}
            classes = {r["class"] for r in f.replies if r["message_ref"] in ids}
            counts["bounced"] += "bounce" in classes
            counts["auto_replied"] += "auto_reply" in classes
            counts["replied"] += bool(classes & HUMAN_REPLIES)
            if _wave_of_response(f) == wave:
                counts[f.response["kind"]] += 1  # type: ignore[index]
            elif f.state() == "no_answer" and any(m["state"] == MessageState.SENT for m in mine):
                counts["no_answer"] += 1
        rows.append(
            {
                "wave": wave,
                "organizations": len(orgs),
                "messages": {s.value: states[s.value] for s in MessageState},
                **{k: counts[k] for k in (*KINDS, "bounced", "auto_replied", "replied")},
                "no_answer": counts["no_answer"],
            }
        )
    return rows


def _timeline(facts: dict[int, _OrgFacts]) -> list[dict[str, Any]]:
    """Per day: messages sent and answers received (current answers only)."""
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for f in facts.values():
        for m in f.messages:
            if m["sent_at"]:
                days[m["sent_at"][:10]]["sent"] += 1
        if f.response is not None:
            days[f.response["at"][:10]][f.response["kind"]] += 1
    return [
        {"date": d, "sent": days[d]["sent"], **{k: days[d][k] for k in KINDS}} for d in sorted(days)
    ]


# The chart's time unit: hours for a campaign of a day or two, days up to four months,
# weeks beyond, so that its bars and lines have room to read.
_UNITS = ((timedelta(days=2), "hour"), (timedelta(days=120), "day"))


def _activity(facts: dict[int, _OrgFacts]) -> dict[str, Any]:
    """Messages sent and answers received (current ones) per hour, day or week, every
    one from the first to the last (empty ones too, so that time reads evenly)."""
    events: list[tuple[datetime, str]] = []
    for f in facts.values():
        events += [(_utc(m["sent_at"]), "sent") for m in f.messages if m["sent_at"]]
        if f.response is not None:
            events.append((_utc(f.response["at"]), f.response["kind"]))
    if not events:
        return {"unit": "day", "buckets": []}
    first, last = min(t for t, _ in events), max(t for t, _ in events)
    unit = next((u for limit, u in _UNITS if last - first <= limit), "week")
    counts: dict[datetime, Counter[str]] = defaultdict(Counter)
    for when, what in events:
        counts[_bucket(when, unit)][what] += 1
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
    start, buckets = _bucket(first, unit), []
    while start <= last:
        buckets.append(
            {"start": start.isoformat(), "sent": counts[start]["sent"]}
            | {k: counts[start][k] for k in KINDS}
        )
        start += step[unit]
    return {"unit": unit, "buckets": buckets}


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _bucket(when: datetime, unit: str) -> datetime:
    hour = when.replace(minute=0, second=0, microsecond=0)
    if unit == "hour":
        return hour
    day = hour.replace(hour=0)
    return day if unit == "day" else day - timedelta(days=day.weekday())


def _not_answered(
    by_org: list[dict[str, Any]], facts: dict[int, _OrgFacts]
) -> list[dict[str, Any]]:
    """The first question: who was sent the campaign and has not answered (nothing, or
    only an automatic reply)? By country, those without one last, then by name."""
    waiting = [o for o in by_org if o["state"] in ("no_answer", "auto_replied")]
    waiting.sort(key=lambda o: (o["country"] is None, o["country"] or "", sort_key(o["name"])))
    return [
        {k: o[k] for k in ("org_id", "name", "country", "state", "waves", "last_contact")}
        | {"emails": facts[o["org_id"]].emails}
        for o in waiting
    ]


def _last_contact(f: _OrgFacts) -> str | None:
    times = [m["sent_at"] for m in f.messages if m["sent_at"]] + [
        r["at"] for r in f.replies if r["at"]
    ]
    return max(times) if times else None


def campaign_status(db: Database, campaign: dict[str, Any]) -> dict[str, Any]:
    """The §4a status document (plus by_wave, by_country, timeline); test sends never count."""
    facts = _facts(db, campaign)
    by_org = []
    for org_id, f in facts.items():
        by_org.append(
            {
                "org_id": org_id,
                "name": f.org["name"],
                "country": f.org["country"],
                "state": f.state(),
                "messages": len(f.messages),
                "waves": sorted({m["wave"] for m in f.messages}),
                "last_contact": _last_contact(f),
                "answered_at": f.response["at"] if f.response else None,
            }
        )
    by_org.sort(key=lambda o: (sort_key(o["name"]), o["org_id"]))
    states = Counter(o["state"] for o in by_org)
    messages = Counter(m["state"] for f in facts.values() for m in f.messages)
    countries: dict[str, Counter[str]] = defaultdict(Counter)
    for o in by_org:
        countries[o["country"] or ""][o["state"]] += 1
    waves = [m["wave"] for f in facts.values() for m in f.messages]
    return {
        "campaign": campaign["slug"],
        "title": campaign["title"],
        "kind": campaign["kind"],
        "deadline": campaign.get("deadline"),
        "organizations": len(by_org),
        "waves": max(waves) + 1 if waves else 0,
        "messages": {s.value: messages[s.value] for s in MessageState},
        "responses": {k: states[k] for k in KINDS},
        "bounced": states["bounced"],
        "auto_replied": states["auto_replied"],
        "no_answer": states["no_answer"],
        "replied": states["replied"],
        "not_sent": states["not_sent"],
        "states": {s: states[s] for s in STATES},
        "by_wave": _by_wave(facts),
        "not_answered": _not_answered(by_org, facts),
        "by_country": [
            {"country": c or None, "organizations": sum(n.values()), **{s: n[s] for s in STATES}}
            for c, n in sorted(countries.items(), key=lambda item: (not item[0], item[0]))
        ],
        "by_org": by_org,
        "timeline": _timeline(facts),
        "activity": _activity(facts),
        "unsubscribe_requests": unsubscribe_requests(db, campaign),
    }


def unsubscribe_requests(db: Database, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """Unsubscribe requests waiting for a person: their senders are not proven to be the
    organizations, so nothing was recorded, but mail to those organizations is paused."""
    from mailer.inbox.review import list_replies

    return [
        {k: r[k] for k in ("id", "org_id", "org", "from", "date", "reason")}
        for r in list_replies(db, slug=campaign["slug"], cls="unsubscribe", status="review")
    ]


# ---------------------------------------------------------------- signatories


def sort_key(text: str) -> str:
    """Alphabetical order that ignores case and accents (no ICU needed)."""
    return fold_accents(text).strip("\"'“”«» ")


def heading(lang: str) -> str:
    """ "Signing organizations" in ``lang`` (``sr`` takes sr-Latn, ``pt-BR`` pt; else English)."""
    return HEADINGS[negotiate([lang], list(HEADINGS), "en")]


@dataclass(frozen=True)
class Signatory:
    n: int
    org_id: int
    name: str
    country: str | None
    country_name: str | None
    signed_at: str


def published_name(org: dict[str, Any], publish_name: str | None, lang: str) -> str:
    """The ``sign --as`` name as typed, else the organization's name for a list in
    ``lang`` (:func:`mailer.lang.name_in`: a name changes script only when it is
    the organization's own Serbian name)."""
    if publish_name:
        return publish_name
    languages = json.loads(org["languages"] or "[]")
    return name_in(str(org["name"]), languages, json.loads(org["names"] or "{}"), lang)


def signatories(
    db: Database,
    campaign: dict[str, Any],
    *,
    lang: str = "en",
    order: str = "signed",
    first: dict[str, Any] | None = None,
    countries: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Signatory]:
    """Every organization with a current signature, once, numbered 1..n in ``order``;
    ``first`` (the initiating organization) before all others. ``countries``: the
    user's own country names (``[names] countries``)."""
    orgs = orgstore.all_orgs(db)
    signed: dict[int, dict[str, Any]] = {}
    for r in responses.signatures(db, campaign["id"]):
        signed[r["org_id"]] = r  # one answer per organization: merge_orgs keeps one
    rows = []
    for org_id, r in signed.items():
        org = orgs[org_id]
        code = org["country"]
        rows.append(
            (
                org_id,
                published_name(org, r["publish_name"], lang),
                code,
                country_name(code, lang, countries) if code else None,
                r["at"],
            )
        )
    if order == "alpha":
        rows.sort(key=lambda x: (sort_key(x[1]), x[0]))
    elif order == "country":
        rows.sort(key=lambda x: (x[3] is None, sort_key(x[3] or ""), sort_key(x[1]), x[0]))
    # "signed": already in the order the signatures were recorded
    if first is not None:
        if first["id"] not in signed:
            raise MailerError(
                f"{first['name']} has not signed {campaign['slug']}, so it cannot head the list",
                hint=f"Record its signature first: mailer sign {campaign['slug']} {first['id']}",
            )
        rows.sort(key=lambda x: x[0] != first["id"])  # stable: the others keep their order
    return [Signatory(n, *row) for n, row in enumerate(rows, start=1)]


def near_duplicates(entries: list[Signatory], threshold: float = 90.0) -> list[tuple[str, str]]:
    """Pairs of published names so alike they may be one organization twice."""
    keys = [(fold(e.name), e.name) for e in entries]
    return [
        (a[1], b[1])
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
        if a[0] and fuzz.ratio(a[0], b[0]) >= threshold
    ]


def _label(e: Signatory, with_country: bool) -> str:
    return f"{e.name}, {e.country_name}" if with_country and e.country_name else e.name


# Characters Markdown would act on inside a list item, and a start that would open a
# nested list ("1. ", "- ", "+ ") or draw a line ("---"): each escaped with a backslash.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|&~!])")
_MD_LEADING = re.compile(r"^(\d*)([.)](?=\s|$)|[+-])")


def markdown_text(text: str) -> str:
    """``text`` as a line of Markdown that shows these characters, not formatting
    (without spaces at either end, which Markdown drops or reads as a code block)."""
    return _MD_LEADING.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text.strip()))


def format_signatories(
    entries: list[Signatory],
    *,
    fmt: str = "txt",
    lang: str = "en",
    with_country: bool = False,
    statement: str | None = None,
) -> str:
    """The list as text, Markdown, an HTML fragment, CSV or JSON (§4a)."""
    if fmt == "json":
        return (
            json.dumps(
                [
                    {"n": e.n, "org_id": e.org_id, "name": e.name, "country": e.country}
                    | {"country_name": e.country_name, "signed_at": e.signed_at}
                    for e in entries
                ],
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["n", "org_id", "name", "country", "country_name", "signed_at"])
        for e in entries:  # a name from an imported list may start like a formula
            writer.writerow(
                [spreadsheet_safe(v) if isinstance(v, str) else v for v in asdict(e).values()]
            )
        return out.getvalue()
    title = heading(lang)
    if fmt == "html":
        direction = ' dir="rtl"' if is_rtl(lang) else ""
        items = "\n".join(f"  <li>{html.escape(_label(e, with_country))}</li>" for e in entries)
        parts = [f'<section lang="{html.escape(lang)}"{direction}>']
        if statement:
            parts.append(statement.strip())
        parts += [f"<h2>{html.escape(title)}</h2>", f"<ol>\n{items}\n</ol>", "</section>"]
        return "\n".join(parts) + "\n"
    escape = markdown_text if fmt == "md" else str
    lines = [f"{e.n}. {escape(_label(e, with_country))}" for e in entries]
    head = f"## {title}" if fmt == "md" else title
    body = "\n".join([head, "", *lines])
    return (f"{statement.strip()}\n\n{body}" if statement else body) + "\n"


def publishable_list(
    db: Database,
    settings: Settings,
    campaign: dict[str, Any],
    *,
    lang: str | None = None,
    fmt: str = "txt",
    order: str = "signed",
    with_country: bool = False,
    with_statement: bool = False,
    first: str | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    """``mailer signatories``: the list as text in ``fmt``, and the pairs of names so
    alike they may be one organization twice. ``lang`` defaults to the campaign's;
    ``first`` names the organization to list first (an id, name, short name…)."""
    from mailer.contacts import resolve_org
    from mailer.render import public_statement  # only here: it loads the template engine

    if lang is None:
        lang = str(campaign["default_language"])
    else:
        try:
            lang = normalize_language(lang)
        except ValueError as e:
            raise MailerError(str(e)) from None
    if lang.split("-")[0] == "sr" and other_serbian_script(lang) is None:
        # Serbian in no script ("sr", "sr-RS"): the campaign's, else Latin, for the
        # heading, the country names and the organizations' names alike.
        lang = negotiate([lang], json.loads(campaign["languages"]), "sr-Latn")
    initiator = resolve_org(db, first) if first is not None else None
    entries = signatories(
        db, campaign, lang=lang, order=order, first=initiator, countries=settings["names.countries"]
    )
    statement = public_statement(settings, campaign, lang, fmt=fmt) if with_statement else None
    text = format_signatories(
        entries, fmt=fmt, lang=lang, with_country=with_country, statement=statement
    )
    return text, near_duplicates(entries)


def published_list(
    db: Database,
    statement: Statement,
    *,
    countries: Mapping[str, Mapping[str, str]] | None = None,
) -> PublishedList | None:
    """What a statement's ``{{ signatories }}`` and ``{{ signed }}`` print: the list of
    its ``list_from`` campaign in each of its languages, made by :func:`signatories`
    and :func:`format_signatories` as `mailer signatories` makes it (``countries``:
    ``[names] countries``). None without ``list_from``; a campaign that does not
    exist is named with the file and line."""
    from mailer.contacts import resolve_org

    if statement.list_from is None:
        return None
    try:
        source = get_campaign(db, statement.list_from)
    except MailerError:
        known = ", ".join(c["slug"] for c in list_campaigns(db)) or "none yet"
        raise TemplateError(
            f"{statement.toml}:{line_of(statement.toml, 'list_from')}: list_from"
            f" {statement.list_from!r} is not a campaign (the campaigns are: {known})"
        ) from None
    first = resolve_org(db, statement.list_first) if statement.list_first else None
    text: dict[str, str] = {}
    markup: dict[str, str] = {}
    for lang in statement.available:
        entries = signatories(
            db, source, lang=lang, order=statement.list_order, first=first, countries=countries
        )
        for fmt, made in (("txt", text), ("html", markup)):
            made[lang] = format_signatories(
                entries, fmt=fmt, lang=lang, with_country=statement.list_with_country
            ).rstrip("\n")
    signed = {e.org_id for e in signatories(db, source)}
    return PublishedList(source["slug"], text, markup, frozenset(signed))
