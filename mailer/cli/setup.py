"""``mailer init`` and ``mailer demo``."""

from __future__ import annotations

from pathlib import Path

import click

from mailer.cli import cli, not_built


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Folder to set up.",
)
@click.option(
    "--force", is_flag=True, help="Rewrite mailer.toml and templates/ (the database is kept)."
)
def init(folder: Path, force: bool) -> None:
    """Create mailer.toml, contacts.db and a templates/ skeleton.

    \b
    Example:
      mkdir intl && cd intl && mailer init
    """
    from mailer.setup import init_project

    for path in init_project(folder, force=force):
        click.echo(f"wrote {path}")
    click.echo("Next: `mailer org import FILE` or `mailer org add NAME --email …`.")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default="mailer-demo")
def demo(folder: Path) -> None:
    """Run the whole story in FOLDER with example data, sending nothing."""
    not_built("demo", "tracking issue")()
