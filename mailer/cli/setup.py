"""``mailer init`` and ``mailer demo``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mailer.cli import AppContext, cli, pass_app
from mailer.errors import MailerError


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
    "--force",
    is_flag=True,
    help="Also where mailer.toml or templates/ exist: add what is missing, keeping"
    " your settings, templates and database.",
)
@pass_app
def init(app: AppContext, folder: Path, force: bool) -> None:
    """Create mailer.toml, contacts.db and a templates/ skeleton.

    \b
    Example:
      mkdir intl && cd intl && mailer init
    """
    from mailer.setup import init_project

    for path in init_project(folder, force=force, overrides=app.overrides):
        click.echo(f"wrote {path}")
    click.echo("Next: `mailer org import FILE` or `mailer org add NAME --email …`.")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default="mailer-demo")
def demo(folder: Path) -> None:
    """Run a whole campaign on example data in FOLDER, sending nothing.

    \b
    It runs the ordinary commands, each shown before its output:
    init, org import, campaign new, check, send (into the Maildir
    FOLDER/outbox, not to anyone), inbox import of example replies
    (sign-ons in several languages, a decline, an out-of-office,
    a bounce), status, remind (as if four days had passed) and
    signatories. Afterwards, `cd FOLDER` and explore with any command.
    """
    from mailer.demo import own_environment, prepare_folder, steps

    with own_environment():
        prepare_folder(folder)
        click.secho(f"Set up {folder}/ with mailer.toml, contacts.db and templates/.", bold=True)
        os.chdir(folder)
        for step in steps():
            if step.before:
                click.secho(f"\n({step.before()})", dim=True)
            command = f"mailer {' '.join(step.args)}"
            click.secho(f"\n$ {command}", bold=True)
            if cli.main(list(step.args), prog_name="mailer", standalone_mode=False):
                raise MailerError(f"the demo stopped at `{command}`")
    click.secho(
        f"\nDone. The demo folder is {Path.cwd()}: the sent mail is in outbox/, "
        "the database in contacts.db. Try `mailer status peace-statement` there.",
        bold=True,
    )
