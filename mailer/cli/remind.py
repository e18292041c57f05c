"""``mailer remind``: the next wave, to organizations that have not answered."""

from __future__ import annotations

import click

from mailer.cli import cli, not_built


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def remind(args: tuple[str, ...]) -> None:
    """Send the next wave to organizations that have not answered."""
    not_built("remind", "tracking issue")()
