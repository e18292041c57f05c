"""``mailer status``, ``sign``, ``signon import`` and ``signatories``."""

from __future__ import annotations

import click

from mailer.cli import cli, not_built

ISSUE = "tracking issue"


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def status(args: tuple[str, ...]) -> None:
    """Who was sent what, who answered, who has not."""
    not_built("status", ISSUE)()


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sign(args: tuple[str, ...]) -> None:
    """Record (or withdraw) an organization's signature by hand."""
    not_built("sign", ISSUE)()


@cli.group()
def signon() -> None:
    """Sign-on lists from elsewhere."""


@signon.command("import", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def signon_import(args: tuple[str, ...]) -> None:
    """Read a published list of signing organizations into a campaign."""
    not_built("signon import", ISSUE)()


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def signatories(args: tuple[str, ...]) -> None:
    """The numbered list of signing organizations, ready to publish."""
    not_built("signatories", ISSUE)()
