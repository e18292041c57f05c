"""The command line: parse options, call one core function, print the result.

Commands live in sibling modules by topic; this module holds the root group,
the shared ``AppContext`` and the error boundary that turns the project's
exceptions into one ``Error: …`` line and an exit code.
"""

from __future__ import annotations

import shlex
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click_default_group import DefaultGroup

from mailer import __version__
from mailer.audit import command_context
from mailer.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    MailerError,
    UsageError,
    ValidationError,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

    from mailer.config import Settings


@dataclass
class AppContext:
    """Opens configuration and database lazily: --help and init need neither."""

    overrides: dict[str, Any] = field(default_factory=dict)  # options that set a key
    _settings: Settings | None = None
    _db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from mailer.config import load_settings

            self._settings = load_settings(overrides=self.overrides)
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            from mailer.db import open_db, open_to_others

            path = self.settings.path("db.path")
            self._db = open_db(path, create=False)
            click.get_current_context().call_on_close(self._db.close)
            exposed = open_to_others(path)
            if exposed:
                files = " ".join(shlex.quote(str(f)) for f in exposed)
                click.echo(
                    f"Warning: {path} can be read by other users of this computer; "
                    f"make it private with: chmod 600 {files}",
                    err=True,
                )
        return self._db


pass_app = click.make_pass_decorator(AppContext)


def password_prompt() -> Callable[[str], str] | None:
    """A hidden password prompt when a person is at a terminal, else None."""
    if not sys.stdin.isatty():
        return None
    return lambda text: click.prompt(text, hide_input=True)


def at_terminal() -> bool:
    """Whether a person can answer a question on standard input."""
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool) -> None:
    """Ask before something that cannot be undone; a script passes --yes instead."""
    if yes:
        return
    if not at_terminal():
        raise MailerError(
            "this asks for confirmation and there is no terminal to ask at",
            hint="Pass --yes to go ahead without the question.",
        )
    click.confirm(question, abort=True)


def _report(error: MailerError) -> None:
    click.echo(f"Error: {error}", err=True)
    if isinstance(error, ValidationError):
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
    if error.hint:
        click.echo(error.hint, err=True)


class NamedCommand(click.Command):
    """A command whose changes the event log records under its name ("org add")."""

    def invoke(self, ctx: click.Context) -> Any:
        with command_context(ctx.command_path.split(" ", 1)[-1]):
            return super().invoke(ctx)


class CommandGroup(click.Group):
    command_class = NamedCommand


class DefaultCommandGroup(DefaultGroup):
    """A group that runs its default command when given none (`mailer org` lists)."""

    command_class = NamedCommand


class MailerGroup(click.Group):
    """A group whose invoke is the error boundary for every command below it."""

    command_class = NamedCommand
    group_class = CommandGroup

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except MailerError as e:
            if debug:
                raise
            _report(e)
            ctx.exit(EXIT_USAGE if isinstance(e, UsageError) else EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader (e.g. `| head`) went away: not an error of ours.
            sys.stderr.close()
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:
            if debug:
                raise
            problem = _database_problem(ctx, e)
            if problem is not None:  # locked by another command, read-only, disk full…
                _report(problem)
            else:
                click.echo(
                    f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)",
                    err=True,
                )
            ctx.exit(EXIT_ERROR)


def _database_problem(ctx: click.Context, error: Exception) -> MailerError | None:
    """The user's database refusing (one sentence), else None: then it is our bug."""
    if not isinstance(error, sqlite3.DatabaseError):
        return None
    from mailer.db import database_error

    app = ctx.obj
    where = app.settings.path("db.path") if app and app._settings else "the database"
    return database_error(error, where)


@click.group(cls=MailerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database file to use instead of [db] path in mailer.toml (env MAILER_DB).",
)
@click.option("--debug", is_flag=True, envvar="MAILER_DEBUG", help="Show tracebacks of errors.")
@click.version_option(__version__, prog_name="mailer")
@click.pass_context
def cli(ctx: click.Context, db_path: Path | None, debug: bool) -> None:
    """Send multilingual statements to organizations and track who signs.

    \b
    A first run, with nothing sent anywhere (mail goes to ./mailer-demo/outbox):
      mailer demo
    Your own campaign:
      mailer init
      mailer org import orgs.csv
      mailer campaign new my-call --statement templates/my-call
      mailer check my-call && mailer send my-call
      mailer inbox import ~/Mail/replies.mbox
      mailer status my-call
    """
    ctx.obj = AppContext(overrides={"db.path": str(db_path)} if db_path else {})


def _register() -> None:
    # Imported here so each topic module can import `cli` and `pass_app` from us.
    from mailer.cli import campaign, inbox, login, org, remind, report, send, setup  # noqa: F401


_register()


def main() -> None:
    """The ``mailer`` command.

    sqlite-utils imports pandas and numpy whenever they are installed, only to
    store their number types, which mailer never has; on a machine that has them
    that costs every command 0.1 to 0.5 s before it starts. Marking them missing
    in this process keeps the start quick.
    """
    for name in ("pandas", "numpy"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    cli()
