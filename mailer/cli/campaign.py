"""``mailer campaign …``, ``mailer preview`` and ``mailer check``."""

from __future__ import annotations

import click

from mailer.cli import cli, not_built

ISSUE = "statements issue"


@cli.group()
def campaign() -> None:
    """Campaigns: a statement or call and the organizations it goes to."""


@campaign.command("new", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def campaign_new(args: tuple[str, ...]) -> None:
    """Create a campaign from a statement folder."""
    not_built("campaign new", ISSUE)()


@campaign.command("list")
def campaign_list() -> None:
    """List campaigns."""
    not_built("campaign list", ISSUE)()


@campaign.command("show")
@click.argument("slug")
def campaign_show(slug: str) -> None:
    """Show one campaign."""
    not_built("campaign show", ISSUE)()


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def preview(args: tuple[str, ...]) -> None:
    """Show the email one organization will get."""
    not_built("preview", ISSUE)()


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def check(args: tuple[str, ...]) -> None:
    """Render every recipient before sending and report problems."""
    not_built("check", ISSUE)()
