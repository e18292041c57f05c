"""``mailer remind``: the next wave, to organizations that have not answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailer.cli import AppContext, cli, pass_app, password_prompt
from mailer.config import days
from mailer.output import print_json, table

if TYPE_CHECKING:
    from mailer.remind import ReminderPlan
    from mailer.send import SendSummary


def _days(ctx: click.Context, param: click.Parameter, value: float) -> float:
    try:
        return days(value)  # the check of [smtp] defer_days: no NaN, no infinity
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@cli.command()
@click.argument("slug")
@click.option(
    "--after-days",
    type=float,
    callback=_days,
    metavar="DAYS",
    default=3,
    show_default=True,
    help="Remind only organizations whose last message is older than this many days.",
)
@click.option("--dry-run", is_flag=True, help="Show who would be reminded; send nothing.")
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="Send at most N messages in this run."
)
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="Send again the reminders marked uncertain, with their original Message-ID.",
)
@click.option("--force", is_flag=True, help="Remind even though the campaign's deadline is past.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_app
def remind(
    app: AppContext,
    slug: str,
    after_days: float,
    dry_run: bool,
    limit: int | None,
    retry_uncertain: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Send the next wave to organizations that have not answered.

    A reminder goes to every organization of the campaign's audience that has
    no answer (signed, declined, acted, unsubscribed), is not opted out, has
    an address that works, got the first message, and whose last message is
    older than --after-days. Auto-replies and replies classed "other" are not
    answers; replies still waiting in `mailer replies review` hold the
    reminder back. The text is reminder.<language>.md where the statement has
    one, else the statement; the subject is always the first message's after
    the language's "Reminder: ", and the reminder answers the first message
    (In-Reply-To), so mail programs show both in one thread. Sending is the
    same exactly-once sending as `mailer send`, stopped by the same problems
    as `mailer check` reports: running remind again the same day reminds no
    one twice, and an interrupted run is finished by the next one.

    \b
    Examples:
      mailer remind peace-2026 --dry-run
      mailer remind peace-2026 --after-days 7
    """
    from mailer.cli.send import Progress, finish
    from mailer.remind import remind as remind_campaign
    from mailer.send import SendOptions

    options = SendOptions(
        dry_run=dry_run, limit=limit, retry_uncertain=retry_uncertain, force=force
    )
    with Progress() as progress:
        plan, summary = remind_campaign(
            app.db,
            app.settings,
            slug,
            options,
            after_days=after_days,
            on_event=progress,
            prompt=password_prompt(),
        )
    if as_json:
        print_json(plan.as_dict(slug, summary))
    else:
        _print(plan, summary, dry_run=dry_run)
    if summary:
        finish(summary, f"mailer remind {slug}")


def _print(plan: ReminderPlan, summary: SendSummary | None, *, dry_run: bool) -> None:
    from mailer.cli.send import print_summary, print_uncertain

    for reason, names in plan.skipped.items():
        click.echo(f"Not reminded, {reason}: {len(names)}")
    if summary is None:
        click.echo("No organization needs a reminder now.")
        print_uncertain(plan.uncertain_earlier, plan.resend_uncertain)
        return
    what = "finishing reminder" if plan.resumed else "reminder"
    click.echo(
        f"{'Would remind' if dry_run else 'Reminding'} {len(plan.organizations)} organization(s)"
        f" at {len(plan.recipients)} address(es): {what} wave {plan.wave}."
    )
    if dry_run:
        table(["organization", "email"], [[r.org.name, r.email] for r in plan.recipients])
    print_summary(summary)
