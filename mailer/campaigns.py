"""Campaigns: a statement folder plus the organizations it goes to.

The audience is stored as a definition (tags, countries, an SQL condition, the
answers to other campaigns), not as a list, so organizations added later, and
answers that come in later, count until a send snapshots the audience into
``message`` rows. The SQL condition runs under an SQLite authorizer that allows
reading only (mailer.orgstore.ids_where): it can choose organizations, never
change anything. This module holds the ``campaign`` table's SQL.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from mailer import orgstore, queue, responses
from mailer.addresses import check_text
from mailer.clock import stamp
from mailer.config import Settings
from mailer.db import log_event
from mailer.errors import MailerError, NotFound, UsageError
from mailer.inbox import store as replies
from mailer.lang import normalize_country
from mailer.models import AnyFields, Fields, Org, Recipient
from mailer.people import org_models
from mailer.remind import AWAITING_REVIEW
from mailer.statements import KINDS, load_statement

if TYPE_CHECKING:  # render loads the template engine: imported where it is used
    from mailer.render import MessageFactory

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# Any custom field is there (empty): `check` finds a column no organization has.
SAMPLE_ORG = Org(0, "Sample Organization", "SO", "RS", fields=AnyFields())
TRIAL_TOKEN = "checkmessage"  # letters of tokens.ALPHABET, as a real token
WHERE_HINT = (
    "--where takes an SQL condition over the organization table (columns id, name, "
    "short_name, country, languages, tags, notes, and each custom field such as website), "
    "e.g. --where \"country IN ('GR', 'CY')\"."
)
# Audiences from the answers to other campaigns: each rule names campaigns (any of
# them). "Sent" means a message of that campaign reached its server (not a test
# copy); an answer is a current (not withdrawn) response.
ANSWER_RULES = ("signed", "not_signed", "declined", "no_answer")
# How `campaign show` says each rule, for "that {…}" after the campaigns' names.
_RULE_WORDS = {
    "signed": "signed {}",
    "not_signed": "were sent {} and did not sign it",
    "declined": "declined {}",
    "no_answer": "were sent {} and have not answered it",
}


def create_campaign(
    db: Database,
    settings: Settings,
    slug: str,
    statement_dir: Path,
    *,
    kind: str | None = None,
    tags: tuple[str, ...] | list[str] = (),
    countries: tuple[str, ...] | list[str] = (),
    where: str | None = None,
    deadline: date | str | None = None,
    answers: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """Check the statement (every language rendered once) and the audience, then record it.

    ``answers`` maps a rule of :data:`ANSWER_RULES` to campaign slugs: organizations
    that signed (declined…) any of them. Different rules must all hold.
    """
    if not SLUG.fullmatch(slug):
        raise MailerError(
            f"campaign name {slug!r} must be lower-case letters, digits and hyphens,"
            " e.g. peace-2026"
        )
    if _slugs(db).get(slug) is not None:
        raise MailerError(
            f"a campaign named {slug!r} already exists",
            hint="Choose another name; `mailer campaign list` shows the existing ones.",
        )
    if kind is not None and kind not in KINDS:
        raise MailerError(f"kind must be signon or call, got {kind!r}")
    audience_spec: dict[str, Any] = {
        "tags": sorted(set(tags)),
        "countries": sorted({_country(c) for c in countries}),
        "where": (where or "").strip() or None,
    }
    for rule in ANSWER_RULES:
        if chosen := sorted(set((answers or {}).get(rule, ()))):
            audience_spec[rule] = chosen
    _answer_campaigns(db, audience_spec)  # a usage error before the statement's own
    folder = Path(statement_dir).expanduser().resolve()
    statement = load_statement(folder)
    if isinstance(deadline, str):
        deadline = _parse_date(deadline)
    deadline = deadline or statement.deadline
    row = {
        "slug": slug,
        "title": statement.title,
        "kind": kind or statement.kind,
        "statement_dir": str(folder),
        "default_language": statement.default_language,
        "languages": json.dumps(statement.available),
        "audience": json.dumps(audience_spec),
        "deadline": deadline.isoformat() if deadline else None,
        "sender": settings["sender.address"] or None,
        "status": "draft",
        "created_at": stamp(),
    }
    select_orgs(db, row)  # the condition must run, not just parse
    trial_render(db, settings, row)
    if folder.is_relative_to(settings.root):  # inside the project: kept relative, so it can move
        row["statement_dir"] = Path(os.path.relpath(folder, _home(db))).as_posix()
    with db.atomic():
        campaign_id = db.table("campaign").insert(row).last_pk
        log_event(db, "campaign", campaign_id, "create", new=row)
    return get_campaign(db, slug)


def _country(text: str) -> str:
    try:
        return normalize_country(text)
    except ValueError as e:
        raise MailerError(f"--country: {e}") from None


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise MailerError(f"deadline {text!r} is not a date like 2026-12-10") from None


def trial_render(db: Database, settings: Settings, campaign: Mapping[str, Any]) -> None:
    """Render every language (and its reminder) for a sample organization: any template
    error surfaces now, naming file and line, not halfway through a send."""
    for wave in (0, 1):
        factory = factory_for(db, settings, campaign, wave=wave, trial=True)
        for lang in factory.languages:
            build_sample(factory, lang)


def factory_for(
    db: Database,
    settings: Settings,
    campaign: Mapping[str, Any],
    *,
    wave: int = 0,
    trial: bool = False,
) -> MessageFactory:
    """render.build_factory for a campaign of this database: the list a statement's
    ``list_from`` names (``{{ signatories }}``, ``{{ signed }}``) is read from it."""
    from mailer.render import build_factory
    from mailer.report import published_list

    countries = settings["names.countries"]
    return build_factory(
        settings,
        campaign,
        wave=wave,
        trial=trial,
        lists=lambda st: published_list(db, st, countries=countries),
    )


def build_sample(factory: MessageFactory, lang: str, custom: Iterable[str] | None = None) -> bytes:
    """The message in ``lang`` for the sample organization. It fails on the template
    errors that every recipient would meet; those that depend on one organization's
    data are that organization's alone. ``custom``: the database's custom fields,
    when known; the sample then has those (empty), so that a misspelt one fails here,
    as it would for everyone, rather than having any field."""
    org = replace(SAMPLE_ORG, languages=(lang,))
    if custom is not None:
        org = replace(org, fields=Fields(dict.fromkeys(custom, "")))
    return build_trial(factory, Recipient(org, 0, "sample@example.org"), lang)


def build_trial(factory: MessageFactory, recipient: Recipient, lang: str) -> bytes:
    """A message as it would go out, with a made-up token: for checks and previews."""
    return factory.build(
        recipient,
        lang=lang,
        token=TRIAL_TOKEN,
        message_id=f"<m.{TRIAL_TOKEN}.trial@example.invalid>",
    )


def get_campaign(db: Database, slug: str) -> dict[str, Any]:
    """The campaign row; NotFound naming the slug otherwise."""
    rows = list(db.query("SELECT * FROM campaign WHERE slug = ?", [slug]))
    if not rows:
        raise NotFound(
            f"no campaign named {slug!r}",
            hint="`mailer campaign list` shows the campaigns; `mailer campaign new` makes one.",
        )
    return _as_statement_is_now(_home(db), rows[0])


def _slugs(db: Database) -> dict[str, int]:
    """Every campaign's id by its slug, in slug order."""
    return {row[0]: row[1] for row in db.execute("SELECT slug, id FROM campaign ORDER BY slug")}


def campaign_index(db: Database) -> list[dict[str, Any]]:
    """id, slug, title, kind and languages (JSON, as on the day it was made) of every
    campaign: what reading replies needs, without opening statement folders."""
    return list(db.query("SELECT id, slug, title, kind, languages FROM campaign"))


def mark_sent(db: Database, campaign_id: int) -> None:
    """A campaign with mail out is no longer a draft (`campaign list` shows it)."""
    with db.atomic():
        if db.execute(
            "UPDATE campaign SET status = 'sent' WHERE id = ? AND status = 'draft'", [campaign_id]
        ).rowcount:
            log_event(db, "campaign", campaign_id, "status", old="draft", new="sent")


def list_campaigns(db: Database) -> list[dict[str, Any]]:
    home = _home(db)
    return [
        _as_statement_is_now(home, row) for row in db.query("SELECT * FROM campaign ORDER BY id")
    ]


def _home(db: Database) -> Path:
    """The database's folder: a statement folder inside the project is stored relative
    to it (with "../" when the database lies in a subfolder)."""
    file = db.execute("PRAGMA database_list").fetchone()[2]
    return Path(file).parent if file else Path.cwd()


def _as_statement_is_now(home: Path, row: dict[str, Any]) -> dict[str, Any]:
    """The campaign with its statement folder's full path, and the title and
    languages that folder has today.

    The folder is what the user edits and what the e-mails are made from, so a
    title corrected there shows everywhere (unless ``campaign edit --title`` set
    one); the row keeps the values of the day the campaign was made, for when the
    folder is gone or half-edited.
    """
    row = {**row, "statement_dir": os.path.normpath(home / row["statement_dir"])}
    try:
        statement = load_statement(Path(row["statement_dir"]))
    except MailerError:
        return row
    return {
        **row,
        "title": row["title"] if row.get("title_edited") else statement.title,
        "languages": json.dumps(statement.available),
        "default_language": statement.default_language,
    }


def edit_campaign(
    db: Database, slug: str, *, title: str | None = None, deadline: str | None = None
) -> dict[str, tuple[Any, Any]]:
    """Change the title or the deadline (also of a campaign already sent: reminders
    and the published list use the new ones); returns {field: (old, new)} of what changed."""
    campaign = get_campaign(db, slug)
    changes: dict[str, Any] = {}
    if title is not None:
        try:
            changes["title"] = check_text(title, "the title")
        except ValueError as e:
            raise MailerError(str(e)) from None
        if not changes["title"]:
            raise MailerError("the title cannot be empty")
    if deadline is not None:
        changes["deadline"] = _parse_date(deadline).isoformat()
    diff = {k: (campaign[k], v) for k, v in changes.items() if campaign[k] != v}
    if not diff:
        return {}
    with db.atomic():
        db.table("campaign").update(
            campaign["id"],
            {k: new for k, (_, new) in diff.items()}
            | ({"title_edited": 1} if "title" in diff else {}),
        )
        log_event(
            db,
            "campaign",
            campaign["id"],
            "edit",
            old={k: old for k, (old, _) in diff.items()},
            new={k: new for k, (_, new) in diff.items()},
        )
    return diff


@dataclass(frozen=True)
class CampaignRecord:
    """What a campaign has on record, which deleting it would take away."""

    sent: int  # messages that went out (or may have): sent, uncertain, sending
    answers: int
    replies: int
    used_by: list[str]  # campaigns whose audience names this one

    @property
    def history(self) -> list[str]:
        """What only --force may delete, in words."""
        return [
            text
            for n, text in (
                (self.sent, f"{self.sent} message{'s' if self.sent != 1 else ''} sent"),
                (self.answers, f"{self.answers} answer{'s' if self.answers != 1 else ''}"),
                (self.replies, f"{self.replies} repl{'ies' if self.replies != 1 else 'y'}"),
            )
            if n
        ]


def campaign_record(db: Database, slug: str) -> CampaignRecord:
    campaign = get_campaign(db, slug)
    cid = campaign["id"]
    used_by = [
        other["slug"]
        for other in list_campaigns(db)
        if other["id"] != cid
        and (
            any(
                slug in json.loads(other["audience"] or "{}").get(rule, []) for rule in ANSWER_RULES
            )
            or _lists(other) == slug
        )
    ]
    return CampaignRecord(
        sent=queue.out_count(db, cid),
        answers=responses.count(db, cid),
        replies=replies.count(db, cid),
        used_by=used_by,
    )


def _lists(campaign: Mapping[str, Any]) -> str | None:
    """The campaign whose signatories its statement prints (``list_from``), if any."""
    try:
        return load_statement(Path(campaign["statement_dir"])).list_from
    except MailerError:  # a folder gone or broken names nothing
        return None


def deletable(db: Database, slug: str, *, force: bool = False) -> CampaignRecord:
    """What deleting the campaign would take away; MailerError when it may not be:
    another campaign's audience names it, or it has history and ``force`` is not given."""
    record = campaign_record(db, slug)
    if record.used_by:
        raise MailerError(
            f"campaign {slug!r} chooses the audience, or gives the list, of"
            f" {', '.join(record.used_by)}; it cannot be deleted while they exist"
        )
    if record.history and not force:
        raise MailerError(
            f"campaign {slug!r} has {_any_of(record.history, 'and')} on record",
            hint=f"`mailer campaign delete {slug} --force` deletes it with its messages and"
            " answers (replies are kept, unmatched).",
        )
    return record


def delete_campaign(db: Database, slug: str, *, force: bool = False) -> CampaignRecord:
    """Delete a campaign never sent and never answered; with ``force`` any campaign
    :func:`deletable` allows.

    Its messages and answers go with it; replies stay (unmatched, for `reply assign`);
    the event log keeps the campaign as it was. One that a `send` is sending is not
    deleted (its lock is taken first).
    """
    campaign = get_campaign(db, slug)
    record = deletable(db, slug, force=force)
    cid = campaign["id"]
    with queue.send_lock(db, campaign), db.atomic():
        replies.detach_campaign(db, cid)
        responses.delete_of(db, campaign_id=cid)
        queue.delete_campaign(db, cid)
        db.execute("DELETE FROM campaign WHERE id = ?", [cid])
        log_event(db, "campaign", cid, "delete", old=campaign | {"on record": record.history})
    return record


def summary(db: Database, campaign: Mapping[str, Any]) -> dict[str, Any]:
    """The §4a shape of ``campaign show --json``."""
    waves = queue.wave_count(db, campaign["id"])
    return {
        "slug": campaign["slug"],
        "title": campaign["title"],
        "kind": campaign["kind"],
        "languages": json.loads(campaign["languages"]),
        "default_language": campaign["default_language"],
        "deadline": campaign["deadline"],
        "audience": len(select_orgs(db, campaign)),
        "audience_definition": json.loads(campaign["audience"]),
        "audience_rule": describe_audience(json.loads(campaign["audience"] or "{}")),
        "waves": waves,
        "status": campaign["status"],
        "statement_dir": campaign["statement_dir"],
        "sender": campaign["sender"],
        "created_at": campaign["created_at"],
    }


def select_orgs(
    db: Database, campaign: Mapping[str, Any], *, include_opted_out: bool = False
) -> list[dict[str, Any]]:
    """Organization rows of the audience (not merged away), ordered by id."""
    spec = json.loads(campaign["audience"] or "{}")
    orgs = orgstore.select_orgs(
        db,
        tags=spec.get("tags") or [],
        countries=spec.get("countries") or [],
        include_opted_out=include_opted_out,
    )
    for rule, ids in _answer_campaigns(db, spec).items():
        chosen = _answered(db, rule, ids)
        orgs = [o for o in orgs if o["id"] in chosen]
    if spec.get("where"):
        chosen = _matching_ids(db, spec["where"])
        orgs = [o for o in orgs if o["id"] in chosen]
    return orgs


def _answer_campaigns(db: Database, spec: Mapping[str, Any]) -> dict[str, list[int]]:
    """The ids of the campaigns each answer rule names, looked up now: a slug that
    names no campaign is a usage error listing those that exist."""
    named = {rule: spec[rule] for rule in ANSWER_RULES if spec.get(rule)}
    if not named:
        return {}
    ids = _slugs(db)
    for rule, slugs in named.items():
        unknown = [slug for slug in slugs if slug not in ids]
        if unknown:
            known = ", ".join(ids) if ids else "none yet"
            raise UsageError(
                f"--{rule.replace('_', '-')}: no campaign named {unknown[0]!r}"
                f" (the campaigns are: {known})"
            )
    return {rule: [ids[slug] for slug in slugs] for rule, slugs in named.items()}


def _answered(db: Database, rule: str, campaign_ids: list[int]) -> set[int]:
    """The organizations for which an answer rule holds, about these campaigns."""
    if rule in ("signed", "declined"):
        return {org for org, _ in responses.answered(db, campaign_ids, rule)}
    sent = queue.sent_to(db, campaign_ids)
    if rule == "not_signed":
        answers = responses.answered(db, campaign_ids, "signed")
    else:  # no_answer: a reply still waiting in `replies review` may be an answer
        answers = responses.answered(db, campaign_ids)
        answers |= replies.replied(db, campaign_ids, AWAITING_REVIEW)
    return {org for org, campaign_id in sent - answers}


def describe_audience(spec: Mapping[str, Any]) -> str:
    """The audience rule in words, as `campaign show` prints it."""
    parts = []
    if spec.get("tags"):
        parts.append(f"tagged {_any_of(spec['tags'])}")
    if spec.get("countries"):
        parts.append(f"in {_any_of(spec['countries'])}")
    parts += [
        "that " + words.format(_any_of(spec[rule]))
        for rule, words in _RULE_WORDS.items()
        if spec.get(rule)
    ]
    if spec.get("where"):
        parts.append(f"that meet --where {spec['where']}")
    chosen = "organizations " + ", ".join(parts) if parts else "every organization"
    return f"{chosen}, except any that opted out"


def _any_of(items: list[str], last: str = "or") -> str:
    """ "a", "a or b", "a, b or c" (or "and")."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _matching_ids(db: Database, where: str) -> set[int]:
    """Ids the user's condition chooses, in a query of its own: a condition that closes
    its parenthesis early can widen only this query, never skip the opt-out rules."""
    try:
        return orgstore.ids_where(db, where)
    except sqlite3.ProgrammingError:  # "You can only execute one statement at a time."
        raise MailerError(
            f"--where {where!r} must be one condition, not several statements", hint=WHERE_HINT
        ) from None
    except sqlite3.DatabaseError as e:
        message = "it may only read" if "not authorized" in str(e) else str(e)
        raise MailerError(
            f"--where {where!r} is not a usable condition: {message}", hint=WHERE_HINT
        ) from None


def audience(db: Database, campaign: Mapping[str, Any]) -> list[Recipient]:
    """Every active address of every organization in the audience (not opted out,
    not merged away), ordered by organization id, then address id."""
    orgs = select_orgs(db, campaign)
    # Narrow tuples and one Org per organization: `send` holds 20,000 of these.
    by_org: dict[int, list[tuple[int, str]]] = {o["id"]: [] for o in orgs}
    for address_id, org_id, email in orgstore.active_addresses(db):
        if org_id in by_org:
            by_org[org_id].append((address_id, email))
    models = org_models(db, orgs)
    recipients = []
    for org in orgs:
        model = models[org["id"]]
        recipients += [Recipient(model, a, e) for a, e in by_org.pop(org["id"])]
    return recipients
