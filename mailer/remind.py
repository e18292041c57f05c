"""Who gets a reminder: the next wave of a campaign, to organizations that
have not answered.

``plan_reminders`` decides (reading only, so ``--dry-run`` and tests see the
same choice); ``remind`` hands that choice to the sending engine, the same
exactly-once path as the first send.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from mailer import queue, responses
from mailer.clock import now
from mailer.contacts import orgs_by_id
from mailer.errors import MailerError
from mailer.inbox import store as replies
from mailer.models import MessageState, Org, Recipient

if TYPE_CHECKING:
    from mailer.config import Settings
    from mailer.send import EventSink, SendOptions, SendSummary

# Replies that say something a person must still confirm (`replies review`):
# such an organization may have answered, so it is not reminded meanwhile.
AWAITING_REVIEW = ("signon", "decline", "acted", "unsubscribe")


@dataclass
class ReminderPlan:
    """The wave to send and to whom; why the other organizations are left out."""

    wave: int
    recipients: list[Recipient]
    resumed: bool = False  # finishing a reminder wave an earlier run left unsent
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason → org names
    uncertain_earlier: int = 0  # as in SendSummary, also when no one is reminded
    resend_uncertain: list[str] = field(default_factory=list)

    @property
    def organizations(self) -> list[Org]:
        return list({r.org.id: r.org for r in self.recipients}.values())

    def as_dict(self, slug: str, summary: SendSummary | None) -> dict[str, Any]:
        """The ``remind --json`` document; ``send`` is the wave's ``send --json``."""
        return {
            "campaign": slug,
            "wave": self.wave,
            "resumed": self.resumed,
            "organizations": [{"org_id": o.id, "name": o.name} for o in self.organizations],
            "addresses": len(self.recipients),
            "skipped": self.skipped,
            "uncertain_earlier": self.uncertain_earlier,
            "resend_uncertain": self.resend_uncertain,
            "send": summary.as_dict() if summary else None,
        }


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _unfinished_wave(
    db: Database, campaign: dict[str, Any], wave: int, *, retry_uncertain: bool
) -> list[Recipient]:
    """Rows of a reminder wave still queued or deferred (or uncertain, to send again)
    that may still go (queue.BLOCKED: not opted out, address active, no answer since)."""
    rows = queue.unfinished(db, campaign["id"], wave, retry_uncertain=retry_uncertain)
    models = orgs_by_id(db, (org_id for org_id, _, _ in rows))
    return [Recipient(models[org_id], address_id, email) for org_id, address_id, email in rows]


def plan_reminders(
    db: Database,
    campaign: dict[str, Any],
    *,
    after_days: float = 3,
    when: datetime | None = None,
    retry_uncertain: bool = False,
) -> ReminderPlan:
    """The next wave: every organization of the audience with no current answer,
    not opted out, with an active address, first sent to in wave 0, whose last
    message is older than ``after_days``. Auto-replies and "other" replies are
    not answers. All of its active addresses get the reminder. A reminder wave an
    earlier run left unfinished (with ``retry_uncertain``, also its uncertain
    messages) is finished first. Every organization of the audience that gets no
    reminder is in ``skipped`` with the reason, those mail cannot reach too.
    """
    from mailer.campaigns import audience, select_orgs

    cid = campaign["id"]
    messages = queue.history(db, cid)
    if not messages:
        raise MailerError(
            f"campaign {campaign['slug']!r} has not been sent yet, so there is no one to remind",
            hint=f"Run `mailer send {campaign['slug']}` first.",
        )
    last_wave = max(m["wave"] for m in messages)
    if last_wave > 0:
        unfinished = _unfinished_wave(db, campaign, last_wave, retry_uncertain=retry_uncertain)
        if unfinished:
            return ReminderPlan(last_wave, unfinished, resumed=True)

    answered = {org for org, _ in responses.answered(db, [cid])}
    review = replies.awaiting_review(db, cid, AWAITING_REVIEW)
    first_sent = {
        m["org_id"] for m in messages if m["wave"] == 0 and m["state"] == MessageState.SENT
    }
    last_contact: dict[int, datetime] = {}
    for m in messages:
        at = _when(m["at"]) if m["state"] in (MessageState.SENT, MessageState.UNCERTAIN) else None
        if at and (m["org_id"] not in last_contact or at > last_contact[m["org_id"]]):
            last_contact[m["org_id"]] = at
    cutoff = (when or now()) - timedelta(days=after_days)

    by_org: dict[int, list[Recipient]] = defaultdict(list)
    for recipient in audience(db, campaign):
        by_org[recipient.org.id].append(recipient)
    plan = ReminderPlan(last_wave + 1, [])
    for org_id, recipients in by_org.items():
        reason = None
        if org_id in answered:
            reason = "answered"
        elif org_id not in first_sent:
            reason = "first message not sent yet (`mailer send` does that)"
        elif org_id in review:
            reason = "reply waiting in `mailer replies review`"
        elif last_contact.get(org_id, cutoff) > cutoff:
            reason = f"last message less than {after_days:g} days ago"
        if reason:
            plan.skipped.setdefault(reason, []).append(recipients[0].org.name)
        else:
            plan.recipients.extend(recipients)
    for org in select_orgs(db, campaign, include_opted_out=True):
        if org["id"] not in by_org:  # opted out, or no address left that takes mail
            plan.skipped.setdefault(_unreachable(org, answered), []).append(org["name"])
    return plan


def _unreachable(org: dict[str, Any], answered: set[int]) -> str:
    """Why an organization of the audience that mail cannot reach gets no reminder."""
    if org["id"] in answered:
        return "answered"
    if org["do_not_contact"]:
        return "opted out"
    return "no address that takes mail (bounced, invalid or unsubscribed)"


def remind(
    db: Database,
    settings: Settings,
    slug: str,
    options: SendOptions,
    *,
    after_days: float = 3,
    on_event: EventSink | None = None,
    prompt: Callable[[str], str] | None = None,
) -> tuple[ReminderPlan, SendSummary | None]:
    """Plan the next wave and send it with the engine ``send`` uses (Ctrl-C and
    SIGTERM stop it the same way), unless what blocks ``send`` blocks it
    (:func:`~mailer.preflight.require_ready`); no summary when no one needs a reminder."""
    from mailer.campaigns import get_campaign
    from mailer.preflight import require_ready
    from mailer.send import left_uncertain, send_wave

    campaign = get_campaign(db, slug)
    plan = plan_reminders(
        db, campaign, after_days=after_days, retry_uncertain=options.retry_uncertain
    )
    if not plan.recipients:
        plan.uncertain_earlier, plan.resend_uncertain = left_uncertain(db, campaign)
        return plan, None
    require_ready(db, settings, campaign, force=options.force)
    summary = send_wave(
        db,
        settings,
        campaign,
        options,
        wave=plan.wave,
        recipients=plan.recipients,
        on_event=on_event,
        prompt=prompt,
    )
    plan.uncertain_earlier, plan.resend_uncertain = (
        summary.uncertain_earlier,
        summary.resend_uncertain,
    )
    return plan, summary
