"""``mailer status``, ``sign``, ``signon import`` and ``signatories``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from mailer.cli import AppContext, cli, pass_app
from mailer.models import MessageState
from mailer.output import moment, print_json, table, warn


def _states_line(status: dict[str, Any]) -> str:
    parts = [f"{k} {v}" for k, v in status["states"].items() if v]
    return ", ".join(parts).replace("_", " ") or "nothing yet"


@cli.command()
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write a one-page report with a chart to this file (opens offline).",
)
@pass_app
def status(app: AppContext, slug: str, as_json: bool, html_file: Path | None) -> None:
    """Who was sent what, who answered, who has not.

    First, after the totals, the organizations that have not answered yet
    (the ten first; --json and --html list them all, with their addresses).
    Then messages and answers by wave, by country and by organization. Each
    organization has one state, the first that applies: signed, declined,
    acted or unsubscribed (its current answer); bounced (every address
    bounced); replied (a reply a person wrote, not yet an answer);
    auto_replied; no_answer (sent, nothing back); not_sent. Test messages
    (`send --test`) never count.

    \b
    Examples:
      mailer status peace-2026
      mailer status peace-2026 --html status.html
    """
    from mailer.campaigns import get_campaign
    from mailer.report import campaign_status
    from mailer.statuspage import write_status_page

    result = campaign_status(app.db, get_campaign(app.db, slug))
    if html_file is not None:
        write_status_page(html_file, result)
    if as_json:
        print_json(result)
        return
    _print_status(result)
    if html_file is not None:
        click.echo(f"Wrote {html_file}.")


SHORT_LIST = 10


def _print_not_answered(s: dict[str, Any]) -> None:
    """The first question after the totals: who has not answered yet?"""
    waiting = s["not_answered"]
    if not waiting:
        return
    click.echo(f"  Not answered yet ({len(waiting)}):")
    for o in waiting[:SHORT_LIST]:
        auto = ", an automatic reply only" if o["state"] == "auto_replied" else ""
        last = moment(o["last_contact"])
        click.echo(f"    {o['name']} ({o['country'] or 'no country'}){auto}, last contact {last}")
    if len(waiting) > SHORT_LIST:
        click.echo(
            f"    … and {len(waiting) - SHORT_LIST} more (all of them: the table below, or --html)"
        )


def _print_unsubscribe_requests(s: dict[str, Any]) -> None:
    """First thing after the totals: requests nobody may sit on (RFC 8058's spirit)."""
    requests = s["unsubscribe_requests"]
    if not requests:
        return
    many = len(requests) != 1
    click.echo(
        f"  ! {len(requests)} unsubscribe request{'s' if many else ''} wait{'' if many else 's'}"
        f" for your decision; no mail goes to {'those organizations' if many else 'it'} meanwhile:"
    )
    for r in requests:
        click.echo(
            f"    reply {r['id']} from {r['from'] or '?'} for {r['org'] or '?'}: {r['reason']}"
        )
    click.echo(f"    Decide with: mailer replies review {s['campaign']}")


def _print_status(s: dict[str, Any]) -> None:
    click.echo(
        f"{s['title']} ({s['campaign']}): {s['organizations']} organizations, "
        f"{s['waves']} wave{'s' if s['waves'] != 1 else ''}"
    )
    click.echo(f"  {_states_line(s)}")
    _print_not_answered(s)
    _print_unsubscribe_requests(s)
    wave_name = lambda w: "first send" if w == 0 else f"reminder {w}"  # noqa: E731
    if s["by_wave"]:
        table(
            ["wave", "orgs", *s["messages"]],
            [
                [wave_name(w["wave"]), w["organizations"], *w["messages"].values()]
                for w in s["by_wave"]
            ],
            title="Messages",
        )
        answers = ["bounced", "auto_replied", "replied", *s["responses"], "no_answer"]
        table(
            ["wave", *(a.replace("_", " ") for a in answers)],
            [[wave_name(w["wave"]), *(w[a] for a in answers)] for w in s["by_wave"]],
            title="Answers",
        )
    states = [k for k, v in s["states"].items() if v]
    table(
        ["country", "orgs", *(k.replace("_", " ") for k in states)],
        [
            [c["country"] or "", c["organizations"], *(c[k] for k in states)]
            for c in s["by_country"]
        ],
        title="By country",
    )
    table(
        ["id", "organization", "country", "state", "messages", "last contact"],
        [
            [
                o["org_id"],
                o["name"],
                o["country"],
                o["state"].replace("_", " "),
                o["messages"],
                moment(o["last_contact"]),
            ]
            for o in s["by_org"]
        ],
        title="Organizations",
    )
    uncertain = s["messages"][MessageState.UNCERTAIN]
    if uncertain:
        click.echo(
            f"{uncertain} message(s) are uncertain (they may have arrived): "
            f"`mailer send {s['campaign']} --retry-uncertain` sends them again with the same Message-ID."
        )
    if s["no_answer"] or s["auto_replied"]:
        click.echo(f"`mailer remind {s['campaign']} --dry-run` shows who would be reminded.")


@cli.command()
@click.argument("slug")
@click.argument("org", metavar="ORG")
@click.option("--as", "publish_name", metavar="NAME", help="The name to publish in the list.")
@click.option("--withdraw", is_flag=True, help="Withdraw the signature (it leaves the list).")
@pass_app
def sign(app: AppContext, slug: str, org: str, publish_name: str | None, withdraw: bool) -> None:
    """Record (or withdraw) an organization's signature by hand.

    For answers that came another way: a phone call, a conference, another
    mailbox. ORG is an id, the exact name, the short name or an email.
    Signing twice changes nothing; every change is in the event log.

    \b
    Examples:
      mailer sign peace-2026 WPA
      mailer sign peace-2026 WPA --as "Workers' Party of Atlantis (WPA)"
      mailer sign peace-2026 WPA --withdraw
    """
    from mailer.campaigns import get_campaign
    from mailer.responses import sign as sign_org

    if withdraw and publish_name:
        raise click.UsageError("--as and --withdraw cannot be used together.")
    campaign = get_campaign(app.db, slug)
    found, changed = sign_org(
        app.db, campaign, org, publish_name=publish_name, withdraw_it=withdraw
    )
    name = found["name"]
    if withdraw:
        click.echo(
            f"Withdrawn: {name} no longer appears among the signatories of {slug}."
            if changed
            else f"{name} has no signature on {slug} to withdraw; nothing changed."
        )
    elif changed:
        shown = f" (published as {publish_name!r})" if publish_name else ""
        click.echo(f"Recorded: {name} signed {slug}{shown}.")
    else:
        click.echo(f"{name} has already signed {slug}; nothing changed.")


@cli.group()
def signon() -> None:
    """Sign-on lists from elsewhere."""


@signon.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show the matches; write nothing.")
@click.option(
    "--create",
    is_flag=True,
    help="Add entries that are close to no known organization as new organizations.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Also sign organizations that declined, withdrew their signature or opted out.",
)
@pass_app
def signon_import(
    app: AppContext, slug: str, file: Path, dry_run: bool, create: bool, force: bool
) -> None:
    """Read a published list of signing organizations into a campaign.

    The list may be numbered ("1." "1)") or bulleted, one organization per
    line as "Name", "Name, Country", "Name – ACRONYM" or "Name (ACRONYM)";
    headings such as "Signing organizations" are skipped, a country on a line
    of its own heads the entries below it, and a web page (HTML) works too.
    Each entry is matched to a known organization by its name (in any
    language stored), its short name, then by close spelling. Every word
    counts: a qualifier in parentheses, an acronym, or a country named in the
    entry in any common language ("Levica Macedonia", "KKE Греция") decides
    between organizations of similar names. Each organization is recorded
    once as signed; repeats are reported as duplicates, and entries that
    match nothing are listed with the three closest organizations.

    An organization that declined, unsubscribed, withdrew its signature or
    opted out is held back and listed: a list from elsewhere does not
    overrule what it told you. Check, then run again with --force to sign it.

    --create adds only entries that no known organization comes close to
    (a score of 75 or more); the others are listed with their candidates, to
    sign by hand or add with `mailer org add` first.

    \b
    Examples:
      mailer signon import peace-2026 partner-list.txt --dry-run
      mailer signon import peace-2026 partner-list.txt --create
    """
    from mailer.campaigns import get_campaign
    from mailer.signon import import_list

    campaign = get_campaign(app.db, slug)
    plan, skipped = import_list(app.db, campaign, file, dry_run=dry_run, create=create, force=force)
    for line in skipped:
        click.echo(f"Line {line.line} was skipped ({line.reason}): {line.text!r}")
    _print_plan(plan, dry_run=dry_run, create=create)
    _print_next_steps(plan, slug, file, dry_run=dry_run, create=create)


_RESULT = {
    "matched": ("would sign", "signed"),
    "create": ("would create", "created"),
    "duplicate": ("duplicate", "duplicate"),
    "held": ("HELD BACK", "HELD BACK"),
    "unmatched": ("NOT MATCHED", "NOT MATCHED"),
}


def _what(m: Any) -> str:
    """The organization column of one entry's row."""
    if m.status == "duplicate":
        return f"repeats line {m.duplicate_of} ({m.org_name or m.entry.name})"
    if m.status == "unmatched":
        return "closest: " + "; ".join(
            f"{c.name} ({c.country or '??'}, id {c.org_id}) {c.score:g}" for c in m.candidates
        )
    what = f"{m.org_name or m.entry.name} [{m.method or 'new'}]"
    if m.held:
        return what + f" ({m.held}{'' if m.status == 'held' else ', overruled by --force'})"
    if m.previous == "signed":
        return what + " (already signed)"
    return what + (f" (was {m.previous})" if m.previous else "")


def _print_plan(plan: list[Any], *, dry_run: bool, create: bool) -> None:
    rows = []
    for m in plan:
        result = _RESULT[m.status][not dry_run]
        if m.status == "unmatched" and create and m.near:
            result = "NOT CREATED"
        rows.append([m.entry.line, m.entry.text, result, _what(m)])
    table(["line", "entry", "result", "organization"], rows)
    counts = {s: sum(m.status == s for m in plan) for s in _RESULT}
    click.echo(
        f"{len(plan)} entries: {counts['matched']} matched, {counts['create']} new, "
        f"{counts['duplicate']} duplicate, {counts['held']} held back, "
        f"{counts['unmatched']} not matched."
        + ("" if dry_run else f" {sum(m.recorded for m in plan)} signature(s) recorded.")
    )
    if dry_run:
        click.echo("Dry run: nothing was written.")


def _print_next_steps(
    plan: list[Any], slug: str, file: Path, *, dry_run: bool, create: bool
) -> None:
    again = f"mailer signon import {shlex.quote(slug)} {shlex.quote(str(file))}"
    held = [m for m in plan if m.status == "held"]
    if held:
        click.echo(
            f"Held back, not signed: {len(held)} organization(s) that declined, unsubscribed, "
            f"withdrew their signature or opted out ({', '.join(m.org_name for m in held)}). "
            f"If they did sign this list, record them with: {again} --force"
        )
    near = [m for m in plan if m.status == "unmatched" and m.near]
    if create and near:
        lines = ", ".join(str(m.entry.line) for m in near)
        click.echo(
            f"--create {'would add' if dry_run else 'added'} only entries that no known "
            "organization comes close to (a score of 75 or more). Not created, being close "
            f"to one (candidates above): line{'s' if len(near) > 1 else ''} {lines}. "
            f"The same organization: `mailer sign {shlex.quote(slug)} ID`; a different one: "
            "`mailer org add NAME --country CC`, then import again."
        )
    if any(m.status == "unmatched" for m in plan) and not create:
        click.echo(
            "Entries not matched were not recorded: add the organizations (`mailer org add`), "
            "sign them by hand (`mailer sign`), or run again with --create."
        )


@cli.command()
@click.argument("slug")
@click.option(
    "--lang",
    metavar="LANG",
    help="Language of names, countries and heading (default: the statement's).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["txt", "md", "html", "csv", "json"]),
    default="txt",
    show_default=True,
    help="Plain text, Markdown or HTML to paste into a website, CSV or JSON.",
)
@click.option(
    "--order",
    type=click.Choice(["signed", "alpha", "country"]),
    default="signed",
    show_default=True,
    help="In order of signing, alphabetical, or by country then name.",
)
@click.option("--with-country", is_flag=True, help="Add each organization's country.")
@click.option(
    "--with-statement", is_flag=True, help="Put the statement text first (txt, md, html)."
)
@click.option(
    "--first",
    metavar="ORG",
    help="The initiating organization: listed first, as number 1, whatever the order.",
)
@pass_app
def signatories(
    app: AppContext,
    slug: str,
    lang: str | None,
    fmt: str,
    order: str,
    with_country: bool,
    with_statement: bool,
    first: str | None,
) -> None:
    """The numbered list of signing organizations, ready to publish.

    Each organization appears once (merged duplicates too) and withdrawn
    signatures are left out. The name shown is the one given with
    `sign --as`, else the organization's name in that language if known,
    else its name exactly as written; only a Serbian organization's own name
    follows the script of a Serbian list (sr-Latn or sr-Cyrl). Countries are
    named in that language, or as `[names] countries` in mailer.toml says.
    Names so alike that they may be one organization twice are pointed out
    on stderr.

    \b
    Examples:
      mailer signatories peace-2026 --with-country --first NKPJ
      mailer signatories peace-2026 --lang sr-Latn --format html > potpisnici.html
      mailer signatories peace-2026 --format md --with-statement > statement.md
    """
    from mailer.campaigns import get_campaign
    from mailer.report import publishable_list

    if with_statement and fmt in ("csv", "json"):
        raise click.UsageError("--with-statement works with --format txt, md or html.")
    text, alike = publishable_list(
        app.db,
        app.settings,
        get_campaign(app.db, slug),
        lang=lang,
        fmt=fmt,
        order=order,
        with_country=with_country,
        with_statement=with_statement,
        first=first,
    )
    click.echo(text, nl=False)
    for a, b in alike:
        warn(f"{a!r} and {b!r} look like the same organization (`mailer org merge` joins them)")
