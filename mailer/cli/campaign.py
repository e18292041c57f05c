"""``mailer campaign …``, ``mailer preview`` and ``mailer check``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailer.cli import AppContext, cli, confirm, pass_app
from mailer.files import write_text_file
from mailer.output import moment, print_json, table, warn

if TYPE_CHECKING:
    from mailer.preflight import CheckReport


@cli.group()
def campaign() -> None:
    """Campaigns: a statement or call and the organizations it goes to."""


@campaign.command("new")
@click.argument("slug")
@click.option(
    "--statement",
    "statement_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The statement folder: statement.toml and one <language>.md per language.",
)
@click.option(
    "--kind",
    type=click.Choice(["signon", "call"]),
    help="signon (a joint statement to sign) or call (a call to action); default from statement.toml.",
)
@click.option(
    "--tag", "tags", multiple=True, help="Organizations with this tag; repeat for any of several."
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    help="Organizations in this country (GR or Greece); repeatable.",
)
@click.option(
    "--where", help="An SQL condition over the organization table, e.g. \"country IN ('GR','CY')\"."
)
@click.option("--deadline", help="Answer by this date (2026-12-10); default from statement.toml.")
@click.option(
    "--signed",
    metavar="CAMPAIGN",
    multiple=True,
    help="Organizations that signed this campaign; repeat for any of several.",
)
@click.option(
    "--not-signed",
    metavar="CAMPAIGN",
    multiple=True,
    help="Organizations this campaign was sent to that did not sign it; repeatable.",
)
@click.option(
    "--declined",
    metavar="CAMPAIGN",
    multiple=True,
    help="Organizations that declined this campaign; repeatable.",
)
@click.option(
    "--no-answer",
    metavar="CAMPAIGN",
    multiple=True,
    help="Organizations this campaign was sent to that have not answered it; repeatable.",
)
@pass_app
def campaign_new(
    app: AppContext,
    slug: str,
    statement_dir: Path,
    kind: str | None,
    tags: tuple[str, ...],
    countries: tuple[str, ...],
    where: str | None,
    deadline: str | None,
    signed: tuple[str, ...],
    not_signed: tuple[str, ...],
    declined: tuple[str, ...],
    no_answer: tuple[str, ...],
) -> None:
    """Create a campaign from a statement folder.

    Every language of the statement is rendered once to catch template errors now.
    The audience is every organization that has any of the --tag values and is in
    any of the --country values and meets --where, and answered other campaigns
    as --signed, --not-signed, --declined and --no-answer say (each optional, each
    repeatable for any of several campaigns; all that are given must hold; none =
    everyone). Answers count as they are when the audience is computed, until
    `send` queues the messages. Opted-out organizations are never included.

    \b
    Examples:
      mailer campaign new peace-2026 --statement templates/peace-2026 \\
          --tag europe --tag americas --deadline 2026-12-10
      mailer campaign new peace-again --statement templates/peace-again \\
          --not-signed peace-2026
    """
    from mailer.campaigns import create_campaign, summary

    row = create_campaign(
        app.db,
        app.settings,
        slug,
        statement_dir,
        kind=kind,
        tags=tags,
        countries=countries,
        where=where,
        deadline=deadline,
        answers={
            "signed": signed,
            "not_signed": not_signed,
            "declined": declined,
            "no_answer": no_answer,
        },
    )
    info = summary(app.db, row)
    click.echo(
        f"Created campaign {slug}: {info['title']} ({info['kind']}), "
        f"{info['audience']} organizations, languages {', '.join(info['languages'])}"
        + (f", deadline {info['deadline']}." if info["deadline"] else ".")
    )
    if info["audience"] == 0:
        warn(f"no organization is in the audience ({info['audience_rule']}).")
    click.echo(f"Next: mailer preview {slug}  and  mailer check {slug}")


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_app
def campaign_list(app: AppContext, as_json: bool) -> None:
    """List campaigns."""
    from mailer.campaigns import list_campaigns, summary

    items = [summary(app.db, row) for row in list_campaigns(app.db)]
    if as_json:
        print_json(items)
        return
    if not items:
        click.echo("No campaigns yet. Create one with `mailer campaign new SLUG --statement DIR`.")
        return
    table(
        ["slug", "title", "kind", "languages", "deadline", "audience", "waves"],
        [
            [i[k] for k in ("slug", "title", "kind", "languages", "deadline", "audience", "waves")]
            for i in items
        ],
    )


@campaign.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_app
def campaign_show(app: AppContext, slug: str, as_json: bool) -> None:
    """Show one campaign."""
    from mailer.campaigns import get_campaign, summary

    info = summary(app.db, get_campaign(app.db, slug))
    if as_json:
        print_json(info)
        return
    rows = [
        ("title", info["title"]),
        ("kind", info["kind"]),
        ("statement", info["statement_dir"]),
        ("languages", f"{', '.join(info['languages'])} (default {info['default_language']})"),
        ("deadline", info["deadline"] or "none"),
        ("audience", f"{info['audience']} organizations: {info['audience_rule']}"),
        ("waves sent", info["waves"]),
        ("sender", info["sender"] or "(from mailer.toml)"),
        ("created", moment(info["created_at"])),
    ]
    click.echo(f"Campaign {info['slug']}")
    for key, value in rows:
        click.echo(f"  {key + ':':<13}{value}")


@campaign.command("edit")
@click.argument("slug")
@click.option("--title", help="A new title (it then stays, whatever statement.toml says).")
@click.option("--deadline", help="A new deadline, e.g. 2026-12-20.")
@pass_app
def campaign_edit(app: AppContext, slug: str, title: str | None, deadline: str | None) -> None:
    """Change a campaign's title or deadline, also after it was sent.

    Reminders, `check` and the published list use the new values; messages
    already sent keep what they said. The change is kept in the event log.

    \b
    Example:
      mailer campaign edit peace-2026 --deadline 2026-12-20
    """
    from mailer.campaigns import edit_campaign

    if title is None and deadline is None:
        raise click.UsageError("say what to change: --title and/or --deadline")
    diff = edit_campaign(app.db, slug, title=title, deadline=deadline)
    if not diff:
        click.echo("Nothing changed.")
    for key, (old, new) in diff.items():
        click.echo(f"{key}: {old or '(none)'} → {new}")


@campaign.command("delete")
@click.argument("slug")
@click.option(
    "--force", is_flag=True, help="Also a campaign that was sent or has answers or replies."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@pass_app
def campaign_delete(app: AppContext, slug: str, force: bool, yes: bool) -> None:
    """Delete a campaign, e.g. one made to try things out.

    Only a campaign never sent and never answered, unless --force: then its
    messages and answers are deleted too. Replies to it are kept, unmatched
    (`mailer replies --unmatched`). The event log keeps the campaign as it was.
    A campaign whose answers choose another campaign's audience, or that is
    being sent, is never deleted.
    """
    from mailer.campaigns import deletable, delete_campaign

    record = deletable(app.db, slug, force=force)
    lost = f" with its {', '.join(record.history)}" if record.history and force else ""
    confirm(f"Delete campaign {slug}{lost}?", yes=yes)
    delete_campaign(app.db, slug, force=force)
    click.echo(f"Deleted campaign {slug}{lost}.")


@cli.command()
@click.argument("slug")
@click.option(
    "--org",
    "org_ref",
    help="Organization: id, name, short name or email (default: the first of the audience).",
)
@click.option("--lang", help="Show this language instead of the organization's.")
@click.option(
    "--reminder", is_flag=True, help="Show the reminder (wave 1) instead of the first message."
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the HTML part to this file.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML part in a browser.")
@pass_app
def preview(
    app: AppContext,
    slug: str,
    org_ref: str | None,
    lang: str | None,
    reminder: bool,
    html_file: Path | None,
    open_browser: bool,
) -> None:
    """Show the email one organization will get: headers and text, decoded.

    \b
    Example:
      mailer preview peace-2026 --org WPA --html wpa.html
    """
    from mailer.campaigns import get_campaign
    from mailer.preflight import preview_message

    shown = preview_message(
        app.db,
        app.settings,
        get_campaign(app.db, slug),
        org_ref=org_ref,
        lang=lang,
        wave=1 if reminder else 0,
    )
    for name, value in shown.headers:
        click.echo(f"{name}: {value}")
    click.echo("")
    click.echo(shown.text.rstrip("\n"))
    if shown.attachments:
        click.echo("")
    for name, content_type, size in shown.attachments:
        click.echo(f"Attached: {name} ({content_type}, {size:,} bytes)")
    if shown.transliterated_from:
        warn(f"{shown.lang} text transliterated from {shown.transliterated_from}.")
    if shown.placeholder_sender:
        warn("[sender] address is not set in mailer.toml; From shows a placeholder.")
    if open_browser and html_file is None:
        html_file = Path(tempfile.mkstemp(prefix=f"{slug}-", suffix=".html")[1])
    if html_file is not None:
        write_text_file(html_file, shown.html, "the HTML part")
        click.echo(f"\nHTML part written to {html_file}", err=True)
    if open_browser and html_file is not None:
        click.launch(str(html_file))


@cli.command()
@click.argument("slug")
@click.option(
    "--force", is_flag=True, help="A past deadline does not block (as with `send --force`)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_app
def check(app: AppContext, slug: str, force: bool, as_json: bool) -> None:
    """Render every recipient before sending and report problems.

    Exits 1 exactly when `mailer send SLUG` would refuse to start: a missing
    setting, an error every message would have, a missing attachment file, a
    message above [smtp] max_message_mb, a deadline already past. An
    organization's own problem (no deliverable address, its data breaking the
    statement) is a note: send skips that organization. Never connects to a
    mail server.
    """
    from mailer.campaigns import get_campaign
    from mailer.preflight import check_campaign

    report = check_campaign(app.db, app.settings, get_campaign(app.db, slug), force=force)
    if as_json:
        print_json(report.as_json())
    else:
        _print_check(report)
    if report.blocking:
        click.get_current_context().exit(1)


def _print_check(report: CheckReport) -> None:
    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(report.languages.items()))
    click.echo(
        f"{report.campaign}: {report.organizations} organizations, {report.recipients} addresses, "
        f"{report.rendered} messages rendered" + (f" ({languages})" if languages else "") + "."
    )
    if report.findings:
        table(
            ["", "where", "what"],
            [
                [
                    "BLOCKS" if f.blocking else "note",
                    f.where,
                    f.what + (f" (×{f.count})" if f.count > 1 else ""),
                ]
                for f in sorted(report.findings, key=lambda f: not f.blocking)
            ],
        )
    if report.blocking:
        click.echo(
            f"{report.blocking} problem(s) block sending; fix them and run `mailer check {report.campaign}` again.",
            err=True,
        )
    else:
        click.echo(f"Nothing blocks. Next: mailer send {report.campaign}")
