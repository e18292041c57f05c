"""``mailer init`` and ``mailer demo``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click

from mailer.cli import cli
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
    """Run a whole campaign on example data in FOLDER, sending nothing.

    \b
    It runs the ordinary commands, each shown before its output:
    init, org import, campaign new, check, send (into the Maildir
    FOLDER/outbox, not to anyone), inbox import of example replies
    (sign-ons in several languages, a decline, an out-of-office,
    a bounce), status, remind (as if four days had passed) and
    signatories. Afterwards, `cd FOLDER` and explore with any command.
    """
    from mailer.clock import now, stamp
    from mailer.db import open_db
    from mailer.demo import SLUG, prepare_folder, write_replies

    prepare_folder(folder)
    click.secho(f"Set up {folder}/ with mailer.toml, contacts.db and templates/.", bold=True)
    os.chdir(folder)
    steps: list[list[str]] = [
        ["org", "import", "organizations.csv"],
        ["org", "list", "--tag", "balkans"],
        ["campaign", "new", SLUG, "--statement", f"templates/{SLUG}"],
        ["check", SLUG],
        ["preview", SLUG, "--org", "RPSB"],
        ["send", SLUG],
        ["inbox", "import", "replies.mbox"],
        ["status", SLUG],
        ["remind", SLUG],
        ["signatories", SLUG, "--with-country"],
    ]
    with _demo_environment():
        for args in steps:
            if args[0] == "inbox":
                with open_db(Path("contacts.db")) as db:
                    write_replies(db, Path("."))
                click.secho(
                    "\n(example replies answering the sent messages: replies.mbox)", dim=True
                )
            if args[0] == "remind":  # the clock every command reads (see mailer.clock)
                os.environ["MAILER_NOW"] = stamp(now() + timedelta(days=4))
                click.secho("\n(four days later…)", dim=True)
            click.secho(f"\n$ mailer {' '.join(args)}", bold=True)
            if cli.main(args, prog_name="mailer", standalone_mode=False):
                raise MailerError(f"the demo stopped at `mailer {' '.join(args)}`")
    click.secho(
        f"\nDone. The demo folder is {Path.cwd()}: the sent mail is in outbox/, "
        "the database in contacts.db. Try `mailer status peace-statement` there.",
        bold=True,
    )


@contextmanager
def _demo_environment() -> Iterator[None]:
    """Only the demo folder's own settings: a MAILER_* variable of the user's (their
    database, their SMTP server) must not reach the demo's commands. MAILER_NOW and
    MAILER_DEBUG are kept; everything is as before once the demo ends."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("MAILER_")}
    for name in saved:
        if name not in ("MAILER_NOW", "MAILER_DEBUG"):
            del os.environ[name]
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith("MAILER_")]:
            del os.environ[name]
        os.environ.update(saved)
