"""Before sending: ``check`` renders every recipient's message and lists what
blocks and what to know; ``preview`` shows one message as its reader will see it.

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

from mailer.campaigns import addresses, build_trial, factory_for, select_orgs
from mailer.clock import now
from mailer.config import Settings
from mailer.contacts import resolve_org
from mailer.errors import MailerError, NotFound
from mailer.inbox.parse import decode_header_value
from mailer.inbox.phrases import check_all, has_phrases
from mailer.lang import best_match, normalize_language
from mailer.models import Org, Recipient
from mailer.people import org_models
from mailer.render import MessageFactory, campaign_deadline
from mailer.report import unsubscribe_requests
from mailer.templates import FALLBACK_STRINGS, Layout

HIDDEN_HEADERS = {"mime-version", "content-type", "content-transfer-encoding"}


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


def check_campaign(db: Database, settings: Settings, campaign: dict[str, Any]) -> CheckReport:
    """Render every recipient of the audience and collect what blocks or deserves a look."""
    report = CheckReport(campaign["slug"])
    report.findings += _settings_findings(settings)
    try:
        factory = factory_for(db, settings, campaign, trial=True)
        reminders = factory_for(db, settings, campaign, wave=1, trial=True)
    except MailerError as e:
        report.findings.append(Finding(True, "statement", str(e)))
        return report
    report.findings += _reading_findings(factory.languages)
    deadline = campaign_deadline(campaign, factory.statement)
    if deadline and deadline < now().date():
        report.findings.append(
            Finding(False, "deadline", f"{deadline.isoformat()} is already past")
        )
    errors: dict[str, list[str]] = {}
    orgs = select_orgs(db, campaign, include_opted_out=True)
    by_org = addresses(db, [o["id"] for o in orgs])
    models = org_models(db, orgs)
    for row in orgs:
        org = models[row["id"]]
        if row["do_not_contact"]:
            report.findings.append(Finding(False, org.name, "opted out: skipped"))
            continue
        report.organizations += 1
        _check_org(report, factory, reminders, org, by_org[org.id], errors)
    for message, names in errors.items():
        example = f"{names[0]} and {len(names) - 1} more" if len(names) > 1 else names[0]
        report.findings.append(Finding(True, example, message, len(names)))
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
    factory: MessageFactory,
    reminders: MessageFactory,
    org: Org,
    rows: list[dict[str, Any]],
    errors: dict[str, list[str]],
) -> None:
    active = [a for a in rows if a["status"] == "active"]
    for a in rows:
        if a["status"] != "active":
            report.findings.append(
                Finding(False, org.name, f"{a['email']} is {a['status']}: skipped")
            )
    if not active:
        report.findings.append(Finding(True, org.name, "no deliverable address"))
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
    rows = addresses(db, [row["id"]])[row["id"]]
    rows.sort(key=lambda a: a["status"] != "active")
    email_address = rows[0]["email"] if rows else "no-address@example.invalid"
    return Recipient(org_models(db, [row])[row["id"]], rows[0]["id"] if rows else 0, email_address)
