"""``mailer send``."""

from __future__ import annotations

import click

from mailer.cli import cli, not_built


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def send(args: tuple[str, ...]) -> None:
    """Send a campaign, each message exactly once."""
    not_built("send", "sending issue")()
