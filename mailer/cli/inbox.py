"""``mailer inbox …``, ``mailer replies`` and ``mailer reply …``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailer.cli import AppContext, DefaultCommandGroup, cli, pass_app, password_prompt
from mailer.models import ReplyClass
from mailer.output import print_json, table

if TYPE_CHECKING:
    from mailer.inbox.ingest import Summary

CLASSES = tuple(c.value for c in ReplyClass)
DECISIONS = ("signed", "declined", "acted", "unsubscribed", "other")


def _progress() -> Any:
    """A one-line counter on stderr when it is a terminal; nothing in pipes and tests."""
    if not sys.stderr.isatty():
        return None

    def show(summary: Summary) -> None:
        if summary.seen % 50 == 0:
            click.echo(f"\r{summary.seen} messages read, {summary.new} new", err=True, nl=False)

    return show


def _summary(summary: Summary, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_dict())
        return
    if sys.stderr.isatty() and summary.seen >= 50:
        click.echo(err=True)  # end the progress line
    click.echo(
        f"{summary.new} new, {summary.duplicates} already known, {summary.unparsable} unparsable;"
        f" {summary.matched} matched to a campaign, {summary.unmatched} unmatched."
    )
    if summary.classes:
        click.echo("By class: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.classes.items())))
    if summary.review:
        waits = "reply waits" if summary.review == 1 else "replies wait"
        commands = " and ".join(
            f"mailer replies review {shlex.quote(slug)}" for slug in sorted(summary.to_review)
        )
        click.echo(f"{summary.review} {waits} for a decision: {commands}")
    if summary.unmatched:
        click.echo("Unmatched ones: mailer replies --unmatched, then mailer reply assign ID ORG")


@cli.group()
def inbox() -> None:
    """Bring replies in from files or an IMAP mailbox."""


@inbox.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def inbox_import(app: AppContext, paths: tuple[Path, ...], as_json: bool) -> None:
    """Import replies from mbox files, Maildir folders or .eml files.

    Importing the same mail again records nothing new.

    \b
    Examples:
      mailer inbox import ~/Mail/replies.mbox
      mailer inbox import ~/Maildir/.Replies saved/*.eml
    """
    from mailer.inbox.ingest import import_paths

    summary = import_paths(app.db, app.settings, list(paths), on_progress=_progress())
    _summary(summary, as_json)


@inbox.command("fetch")
@click.option("--folder", help="IMAP folder to read (default: the one in [imap] url, else INBOX).")
@click.option("--move-to", help="Move processed mail to this folder (default: [imap] move_to).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def inbox_fetch(app: AppContext, folder: str | None, move_to: str | None, as_json: bool) -> None:
    """Fetch new replies over IMAP (TLS), continuing where the last fetch stopped.

    The server is [imap] url in mailer.toml, e.g. imaps://user@host/INBOX; the
    password comes from MAILER_IMAP_PASSWORD, the system keyring or a prompt.
    A private CA's certificate can be trusted with SSL_CERT_FILE.
    """
    from mailer.inbox.ingest import fetch_imap

    summary = fetch_imap(
        app.db,
        app.settings,
        folder=folder,
        move_to=move_to,
        prompt=password_prompt(),
        on_progress=_progress(),
    )
    _summary(summary, as_json)


@cli.group(cls=DefaultCommandGroup, default="list", default_if_no_args=True)
def replies() -> None:
    """Replies and what they mean (`mailer replies [SLUG]` lists them)."""


@replies.command("list")
@click.argument("slug", required=False)
@click.option("--unmatched", is_flag=True, help="Only replies not matched to any campaign.")
@click.option("--class", "cls", type=click.Choice(CLASSES), help="Only replies of this class.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@pass_app
def replies_list(
    app: AppContext, slug: str | None, unmatched: bool, cls: str | None, as_json: bool
) -> None:
    """List replies, optionally of one campaign.

    \b
    Examples:
      mailer replies solidarity-2025 --class signon
      mailer replies --unmatched
    """
    from mailer.inbox.review import list_replies

    found = list_replies(app.db, slug=slug, unmatched=unmatched, cls=cls)
    if as_json:
        print_json(found)
        return
    if not found:
        if unmatched:
            click.echo("No unmatched replies: each one belongs to a campaign and organization.")
        elif slug or cls:
            click.echo("No replies match.")
        else:
            click.echo("No replies yet: `mailer inbox import PATH` or `mailer inbox fetch`.")
        return
    table(
        [
            "id",
            "date",
            "from",
            "organization",
            "campaign",
            "class",
            "conf",
            "status",
            "files",
            "text",
        ],
        [
            [
                r["id"],
                (r["date"] or "")[:10],
                r["from"],
                r["org"],
                r["campaign"],
                r["class"],
                "" if r["confidence"] is None else f"{r['confidence']:.2f}",
                r["status"],
                len(r["attachments"]) or "",
                _excerpt(r["text"]),
            ]
            for r in found
        ],
    )
    for r in found:
        for a in r["attachments"]:
            click.echo(f"  reply {r['id']}: {a['path']}")


def _excerpt(text: str | None, width: int = 50) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


@replies.command("review")
@click.argument("slug")
@pass_app
def replies_review(app: AppContext, slug: str) -> None:
    """Decide, one by one, what the campaign's waiting replies mean.

    A reply waits when its meaning is unclear or when nothing proves that it
    comes from the organization (a stranger in the thread, a From the receiving
    server did not verify). For each reply the reason, the evidence and the new
    text (without quoted history) are shown; answer signed, declined, acted,
    unsubscribed, other, or skip to leave it for later.
    """
    from mailer.inbox.review import mark_reply, review_queue

    queue = review_queue(app.db, slug)
    if not queue:
        click.echo(f"No replies of {slug} wait for a decision.")
        return
    decided = 0
    for n, r in enumerate(queue, start=1):
        click.echo(
            f"\n[{n}/{len(queue)}] reply {r['id']} from {r['from'] or '?'}"
            f" ({r['org'] or 'unknown organization'}), classified {r['class']}"
        )
        if r["subject"]:
            click.echo(f"Subject: {r['subject']}")
        if r["reason"]:
            click.echo(f"Waits because: {r['reason']}")
        click.echo(
            f"Evidence: {r['evidence'] or 'none'}; matched by {r['matched_by'] or 'nothing'}"
        )
        click.echo((r["text"] or "(no text)").strip()[:3000])
        for a in r["attachments"]:
            click.echo(f"Attachment: {a['path']}")
        choice = click.prompt("Decision", type=click.Choice([*DECISIONS, "skip"]), default="skip")
        if choice != "skip":
            mark_reply(app.db, r["id"], choice)
            decided += 1
    click.echo(f"\n{decided} decided, {len(queue) - decided} left for later.")


# Ids as SQLite stores them: a bigger number is a clear usage error, not an overflow.
REPLY_ID = click.IntRange(1, 2**63 - 1)


@cli.group()
def reply() -> None:
    """Correct one reply: attach it to an organization, or set its meaning."""


@reply.command("assign")
@click.argument("reply_id", metavar="ID", type=REPLY_ID)
@click.argument("org")
@click.option(
    "--campaign",
    "campaign",
    metavar="SLUG",
    help="The campaign it answers (default: the latest one sent to ORG).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
@pass_app
def reply_assign(
    app: AppContext, reply_id: int, org: str, campaign: str | None, as_json: bool
) -> None:
    """Attach a reply to an organization, then work out its meaning again.

    ORG is an id, exact name, short name or email address.
    """
    from mailer.inbox.review import assign_reply

    found = assign_reply(app.db, app.settings, reply_id, org, campaign=campaign)
    _done(found, as_json, f"reply {reply_id} now belongs to {found['org']} in {found['campaign']}")


@reply.command("mark")
@click.argument("reply_id", metavar="ID", type=REPLY_ID)
@click.argument("decision", type=click.Choice(DECISIONS))
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
@pass_app
def reply_mark(app: AppContext, reply_id: int, decision: str, as_json: bool) -> None:
    """Set what a reply means: signed, declined, acted, unsubscribed or other.

    Whatever the reply had recorded automatically is undone first.
    "unsubscribed" opts the organization out for good; "other" records nothing.
    """
    from mailer.inbox.review import mark_reply

    found = mark_reply(app.db, reply_id, decision)
    _done(found, as_json, f"reply {reply_id} is marked {decision}")


def _done(found: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(found)
    else:
        click.echo(f"{message} (class {found['class']}, {found['status']}).")
