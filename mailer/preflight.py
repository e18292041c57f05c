"""Before sending: ``check`` renders every recipient's message and lists what
blocks and what to know; ``preview`` shows one message as its reader will see it.

What blocks sending is decided in one place, :func:`readiness`, which ``check``
reports and ``send`` and ``remind`` obey: ``check`` exits 0 exactly when ``send``
would start. Problems of the campaign as a whole block (settings, the statement,
attachments, message size, a past deadline); an organization's own (no
deliverable address, its data breaking a template) are reported, and it is skipped.

Neither needs the network or a configured sender: when ``[sender] address`` is
unset a placeholder stands in and ``check`` reports the missing setting.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from mailer.campaigns import build_sample, build_trial, factory_for, select_orgs
from mailer.clock import now
from mailer.config import Settings
from mailer.contacts import resolve_org
from mailer.errors import Blocked, MailerError, NotFound
from mailer.inbox.parse import decode_header_value
from mailer.inbox.phrases import check_all, has_phrases
from mailer.lang import best_match, normalize_language
from mailer.models import Org, Recipient
from mailer.orgstore import addresses_of, field_names
from mailer.people import org_models
from mailer.render import MessageFactory, campaign_deadline
from mailer.report import unsubscribe_requests
from mailer.templates import FALLBACK_STRINGS, Layout

HIDDEN_HEADERS = {"mime-version", "content-type", "content-transfer-encoding"}
MB = 1_000_000
WARN_MB = 5.0  # messages this large may be refused or slow to fetch: check says so


@dataclass(frozen=True)
class Finding:
    """One problem: ``blocking`` ones stop a send, the others are for information."""

    blocking: bool
    where: str
    what: str
    count: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "severity": "error" if self.blocking else "info",
            "where": self.where,
            "what": self.what,
            "count": self.count,
        }


@dataclass
class CheckReport:
    campaign: str
    organizations: int = 0
    recipients: int = 0
    rendered: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> int:
        return sum(1 for f in self.findings if f.blocking)

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "organizations": self.organizations,
            "recipients": self.recipients,
            "rendered": self.rendered,
            "languages": dict(self.languages),
            "blocking": self.blocking,
            "ok": self.blocking == 0,
            "problems": [f.as_json() for f in self.findings],
        }


@dataclass
class Readiness:
    """What the campaign as a whole is like for sending: its findings, the message
    factories (first message, reminder) when the statement loads, and the languages
    whose every message fails (their recipients need no rendering to know it)."""

    findings: list[Finding]
    factories: tuple[MessageFactory, MessageFactory] | None = None
    broken: set[str] = field(default_factory=set)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]


def readiness(
    db: Database, settings: Settings, campaign: dict[str, Any], *, force: bool = False
) -> Readiness:
    """THE rule of what blocks sending, shared by ``check``, ``send`` and ``remind``.

    Blocking: a setting ``send`` needs, a statement or template error every message
    would have, an unreadable phrase file, a missing attachment file, a message above
    ``[smtp] max_message_mb``, and a deadline already past unless ``force``. One
    message per language (first message and reminder) is built to find them, for a
    sample organization with the database's custom fields.
    """
    findings = _settings_findings(settings)
    try:
        factory = factory_for(db, settings, campaign, trial=True)
        reminders = factory_for(db, settings, campaign, wave=1, trial=True)
    except MailerError as e:
        return Readiness([*findings, Finding(True, "statement", str(e))])
    findings += _reading_findings(factory.languages)
    findings += _deadline_findings(campaign, factory, force)
    findings += _reminder_subject_notes(factory)
    ready = Readiness(findings, (factory, reminders))
    _sample_findings(ready, settings["smtp.max_message_mb"], field_names(db))
    return ready


def require_ready(
    db: Database, settings: Settings, campaign: dict[str, Any], *, force: bool = False
) -> Readiness:
    """:func:`readiness`, raising :class:`Blocked` when anything blocks sending."""
    ready = readiness(db, settings, campaign, force=force)
    blocking = ready.blocking
    if blocking:
        slug = campaign["slug"]
        more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
        raise Blocked(
            f"campaign {slug!r} cannot be sent: {blocking[0].what}{more}",
            hint=f"Nothing was sent. `mailer check {slug}` lists every problem.",
        )
    return ready


def _deadline_findings(
    campaign: dict[str, Any], factory: MessageFactory, force: bool
) -> list[Finding]:
    deadline = campaign_deadline(campaign, factory.statement)
    if not deadline or deadline >= now().date():
        return []
    past = f"the deadline {deadline.isoformat()} is already past"
    if force:
        return [Finding(False, "deadline", f"{past} (--force)")]
    fix = f"set a new one with `mailer campaign edit {campaign['slug']} --deadline DATE`"
    return [Finding(True, "deadline", f"{past}: {fix}, or pass --force to send anyway")]


def _reminder_subject_notes(factory: MessageFactory) -> list[Finding]:
    return [
        Finding(
            False,
            str(text.path),
            "its subject line is not used: a reminder's subject is the first message's after"
            " the reminder prefix, so that it stays in the same thread",
        )
        for text in factory.statement.reminders.values()
        if text.subject
    ]


def _sample_findings(ready: Readiness, limit_mb: float, custom: list[str]) -> None:
    """Build each language's first message and reminder for a sample organization:
    an error there is every recipient's; its size is about every message's."""
    assert ready.factories is not None
    errors: dict[str, None] = {}  # each once: a file may be several languages' source
    for lang in ready.factories[0].languages:
        try:
            size = max(len(build_sample(made, lang, custom)) for made in ready.factories)
        except MailerError as e:
            errors[str(e)] = None
            ready.broken.add(lang)
            continue
        what = f"messages in {lang} are {size / MB:.1f} MB with their attachments"
        if size > limit_mb * MB:
            limit = f"[smtp] max_message_mb = {limit_mb:g}"
            ready.findings.append(Finding(True, lang, f"{what}, above {limit}"))
        elif size > WARN_MB * MB:
            note = f"{what}: some servers refuse messages this large"
            ready.findings.append(Finding(False, lang, note))
    for message in errors:
        ready.findings.append(Finding(True, "statement", message))


def check_campaign(
    db: Database, settings: Settings, campaign: dict[str, Any], *, force: bool = False
) -> CheckReport:
    """Render every recipient of the audience and collect what blocks (:func:`readiness`)
    and what deserves a look: an organization's own problems, for which it is skipped."""
    report = CheckReport(campaign["slug"])
    ready = readiness(db, settings, campaign, force=force)
    report.findings += ready.findings
    if ready.factories is None:
        return report
    factory, reminders = ready.factories
    errors: dict[str, list[str]] = {}
    orgs = select_orgs(db, campaign, include_opted_out=True)
    by_org = addresses_of(db, [o["id"] for o in orgs])
    models = org_models(db, orgs)
    for row in orgs:
        org = models[row["id"]]
        if row["do_not_contact"]:
            report.findings.append(Finding(False, org.name, "opted out: skipped"))
            continue
        report.organizations += 1
        _check_org(report, ready, org, by_org[org.id], errors)
    for message, names in errors.items():
        example = f"{names[0]} and {len(names) - 1} more" if len(names) > 1 else names[0]
        report.findings.append(Finding(False, example, f"{message}: skipped", len(names)))
    for r in unsubscribe_requests(db, campaign):
        report.findings.append(
            Finding(
                False,
                r["org"] or "?",
                f"unsubscribe request from {r['from']} (reply {r['id']}) waits in"
                f" `mailer replies review {campaign['slug']}`: skipped until decided",
            )
        )
    strings_dir = f"{settings['templates.path']}/layout/strings"
    report.findings += _frame_findings(factory.layout, report.languages, strings_dir)
    return report


def _frame_findings(layout: Layout, languages: Counter[str], strings_dir: str) -> list[Finding]:
    """One note per language whose recipients get frame strings (salutation, how to
    sign, deadline, footer…) in English because no strings file of theirs has them."""
    found = []
    for lang, count in sorted(languages.items()):
        frame = layout.strings(lang)
        if not frame.english:
            continue
        who = f"{count} recipients get" if count > 1 else "1 recipient gets"
        if frame.lang == FALLBACK_STRINGS:
            what = f"{who} the frame strings in English: add {strings_dir}/{lang}.toml"
        else:
            keys = ", ".join(frame.english)
            what = (
                f"{who} {len(frame.english)} frame string(s) in English ({keys}):"
                f" add them to {strings_dir}/{frame.lang}.toml"
            )
        found.append(Finding(False, lang, what))
    return found


def _settings_findings(settings: Settings) -> list[Finding]:
    """What in the settings would stop `send` before its first message."""
    from mailer.dkim import signer_from_settings
    from mailer.transport import open_transport

    found = []
    if not settings["sender.address"]:
        found.append(
            Finding(True, "mailer.toml", "[sender] address is not set (the From of every message)")
        )
    for check in (
        lambda: open_transport(settings, login=False),
        lambda: signer_from_settings(settings),
    ):
        try:
            check()
        except MailerError as e:  # the hint is the fix (the extra to install, the URL form)
            found.append(Finding(True, "mailer.toml", f"{e} ({e.hint})" if e.hint else str(e)))
    return found


def _reading_findings(languages: list[str]) -> list[Finding]:
    """Statement languages whose replies mailer cannot read: their answers all wait for review."""
    try:
        check_all()
        unread = [lang for lang in languages if not has_phrases(lang)]
    except MailerError as e:  # a broken phrase file would stop `inbox import` too
        return [Finding(True, "phrase files", str(e))]
    return [
        Finding(
            False,
            lang,
            "mailer has no phrase file for reading replies in this language, so sign-ons and"
            " refusals in it will wait for `mailer replies review` (docs/translating.md)",
        )
        for lang in unread
    ]


def _check_org(
    report: CheckReport,
    ready: Readiness,
    org: Org,
    rows: list[dict[str, Any]],
    errors: dict[str, list[str]],
) -> None:
    assert ready.factories is not None
    factory, reminders = ready.factories
    active = [a for a in rows if a["status"] == "active"]
    for a in rows:
        if a["status"] != "active":
            report.findings.append(
                Finding(False, org.name, f"{a['email']} is {a['status']}: skipped")
            )
    if not active:
        report.findings.append(Finding(False, org.name, "no deliverable address: skipped"))
        return
    lang = factory.language_for(org)
    if org.languages and best_match(org.languages, factory.languages) is None:
        report.findings.append(
            Finding(
                False,
                org.name,
                f"the statement has none of its languages ({', '.join(org.languages)});"
                f" it gets {lang}",
            )
        )
    for a in active:
        report.recipients += 1
        recipient = Recipient(org, a["id"], a["email"])
        lang = factory.language_for(recipient)  # the person's there, if known
        if lang in ready.broken:  # already reported, as every message's problem
            continue
        try:
            for made in (factory, reminders):
                build_trial(made, recipient, lang)
        except MailerError as e:
            errors.setdefault(str(e), []).append(org.name)
            continue
        report.rendered += 1
        report.languages[lang] += 1


@dataclass(frozen=True)
class Preview:
    org: Org
    email: str
    lang: str
    headers: list[tuple[str, str]]
    text: str
    html: str
    placeholder_sender: bool
    transliterated_from: str | None
    attachments: list[tuple[str, str, int]]  # file name, content type, bytes


def preview_message(
    db: Database,
    settings: Settings,
    campaign: dict[str, Any],
    *,
    org_ref: str | None = None,
    lang: str | None = None,
    wave: int = 0,
) -> Preview:
    """The message one organization gets, decoded as a mail program shows it."""
    factory = factory_for(db, settings, campaign, wave=wave, trial=True)
    recipient = _preview_recipient(db, campaign, org_ref)
    chosen = factory.language_for(recipient) if lang is None else _language(factory, lang)
    raw = build_trial(factory, recipient, chosen)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers = [
        (k, decode_header_value(v))
        for k, v in email.message_from_bytes(raw).items()  # compat32: undecoded values
        if k.lower() not in HIDDEN_HEADERS
    ]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return Preview(
        org=recipient.org,
        email=recipient.email,
        lang=chosen,
        headers=headers,
        text=text.get_content(),
        html=html.get_content(),
        placeholder_sender=not settings["sender.address"],
        transliterated_from=factory.plan_source(chosen).transliterated_from,
        attachments=[
            (part.get_filename() or "", part.get_content_type(), len(part.get_content()))
            for part in message.iter_attachments()
        ],
    )


def _language(factory: MessageFactory, lang: str) -> str:
    """The statement's language for ``--lang``: ``sr`` is the Serbian it was written in,
    ``en-GB`` is ``en``; a language it does not have is an error, not the default."""
    try:
        wanted = normalize_language(lang)
    except ValueError as e:
        raise MailerError(f"--lang: {e}") from None
    chosen = best_match([wanted], factory.languages)
    if chosen is None:
        raise MailerError(
            f"the statement has no text in {wanted!r}",
            hint=f"It has {', '.join(factory.languages)}.",
        )
    return chosen


def _preview_recipient(db: Database, campaign: dict[str, Any], org_ref: str | None) -> Recipient:
    if org_ref is None:
        orgs = select_orgs(db, campaign)
        if not orgs:
            raise NotFound(
                f"campaign {campaign['slug']!r} has no organization in its audience",
                hint="Name any organization with --org.",
            )
        row = orgs[0]
    else:
        row = resolve_org(db, org_ref)
    rows = addresses_of(db, [row["id"]])[row["id"]]
    rows.sort(key=lambda a: a["status"] != "active")
    email_address = rows[0]["email"] if rows else "no-address@example.invalid"
    return Recipient(org_models(db, [row])[row["id"]], rows[0]["id"] if rows else 0, email_address)
