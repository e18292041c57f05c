"""``mailer inbox …``, ``mailer replies`` and ``mailer reply …``."""

from __future__ import annotations

import click

from mailer.cli import cli, not_built

ISSUE = "replies issue"


@cli.group()
def inbox() -> None:
    """Bring replies in from files or an IMAP mailbox."""


@inbox.command("import", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def inbox_import(args: tuple[str, ...]) -> None:
    """Import replies from mbox files, Maildir folders or .eml files."""
    not_built("inbox import", ISSUE)()


@inbox.command("fetch", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def inbox_fetch(args: tuple[str, ...]) -> None:
    """Fetch new replies over IMAP."""
    not_built("inbox fetch", ISSUE)()


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def replies(args: tuple[str, ...]) -> None:
    """List replies and what they were classified as."""
    not_built("replies", ISSUE)()


@cli.group()
def reply() -> None:
    """Correct one reply: attach it to an organization, or set its meaning."""


@reply.command("assign", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def reply_assign(args: tuple[str, ...]) -> None:
    """Attach an unmatched reply to an organization."""
    not_built("reply assign", ISSUE)()


@reply.command("mark", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def reply_mark(args: tuple[str, ...]) -> None:
    """Set what a reply means: signed, declined, acted or other."""
    not_built("reply mark", ISSUE)()
