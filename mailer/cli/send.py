"""``mailer send``: options in, one call to the send engine, progress and a summary out."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from mailer.cli import AppContext, cli, pass_app, password_prompt
from mailer.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, MailerError
from mailer.models import MessageState
from mailer.output import print_json, table

if TYPE_CHECKING:
    from mailer.send import SendEvent, SendSummary


def _rate(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from mailer.config import parse_rate

    if value is not None:
        try:
            parse_rate(value)
        except ValueError as e:
            raise click.BadParameter(f"{e}, got {value!r}") from None
    return value


@cli.command()
@click.argument("slug")
@click.option("--dry-run", is_flag=True, help="Render every message and report; send nothing.")
@click.option(
    "--test",
    "test_email",
    metavar="EMAIL",
    help="Send one copy in each language to EMAIL only, its subject starting with [TEST]"
    " (recorded as a test: not counted as the campaign's).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="Send at most N messages in this run."
)
@click.option(
    "--rate",
    callback=_rate,
    metavar="N/PERIOD",
    help="Most messages per period, e.g. 30/min, 2/s or unlimited ([smtp] rate).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="SMTP connections used at once ([smtp] concurrency, 4).",
)
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="Send again the messages marked uncertain, with their original Message-ID.",
)
@click.option("--force", is_flag=True, help="Send even though the campaign's deadline is past.")
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow smtp:// without encryption to a server that is not this computer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
@pass_app
def send(
    app: AppContext,
    slug: str,
    dry_run: bool,
    test_email: str | None,
    limit: int | None,
    rate: str | None,
    concurrency: int | None,
    retry_uncertain: bool,
    force: bool,
    insecure: bool,
    as_json: bool,
) -> None:
    """Send campaign SLUG: every address of its audience gets the message once.

    Running it again continues where it stopped and never sends a message twice:
    after Ctrl-C, a crash or a power cut, just run the same command. A message
    that may or may not have reached the server when the link broke is marked
    uncertain and is only sent again with --retry-uncertain. With no [smtp] url
    the messages are written to the outbox/ folder instead.

    It starts exactly when `mailer check SLUG` finds nothing blocking (a past
    deadline blocks unless --force); an organization with no working address
    or whose data breaks the statement is reported and skipped.

    \b
    Examples:
      mailer send peace-2026 --dry-run
      mailer send peace-2026 --test me@party.example.org
      mailer send peace-2026 --limit 5
      mailer send peace-2026
    """
    from mailer.send import SendOptions, send_campaign

    if dry_run and test_email:
        raise click.UsageError("--dry-run and --test cannot be used together.")
    # Options take precedence over mailer.toml and MAILER_* like every setting.
    for key, value in (
        ("smtp.insecure", insecure or None),
        ("smtp.rate", rate),
        ("smtp.concurrency", concurrency),
    ):
        if value is not None:
            app.overrides[key] = value
    options = SendOptions(
        dry_run=dry_run,
        test_email=test_email,
        limit=limit,
        retry_uncertain=retry_uncertain,
        force=force,
    )
    with Progress() as progress:
        summary = send_campaign(
            app.db, app.settings, slug, options, on_event=progress, prompt=password_prompt()
        )
    if as_json:
        print_json(summary.as_dict())
    else:
        print_summary(summary)
    finish(summary, f"mailer send {slug}")


def finish(summary: SendSummary, rerun: str) -> None:
    """Exit 130/143 after an interruption; exit 1 when the run could not do its job."""
    if summary.interrupted:
        click.echo(f"Interrupted: run `{rerun}` again to continue.", err=True)
        sys.exit(EXIT_TERMINATED if summary.interrupted == "SIGTERM" else EXIT_INTERRUPTED)
    if summary.error:
        raise MailerError(
            summary.error,
            hint=f"{summary.not_attempted} message(s) were not attempted; "
            f"run `{rerun}` again to continue.",
        )


def print_summary(summary: SendSummary) -> None:
    from mailer.send import STATES

    data = summary.as_dict()
    if summary.dry_run:
        click.echo(f"Dry run for {summary.campaign}: nothing was sent ({summary.transport}).")
        table(["language", "messages"], sorted(summary.languages.items()))
    else:
        what = "Test copies" if summary.test else f"Campaign {summary.campaign}"
        click.echo(f"{what}, through {summary.transport}:")
        rows = [[k, data[k]] for k in STATES]
        rows += [["not attempted", data["not_attempted"]]]
        if summary.previously_sent:
            rows.append(["sent before", summary.previously_sent])
        if summary.found_uncertain:
            rows.append(["left uncertain by a stopped run", summary.found_uncertain])
        if summary.uncertain_earlier:
            rows.append(["uncertain from earlier runs", summary.uncertain_earlier])
        table(["messages", "count"], rows)
    if summary.problems:
        table(
            ["email", "state", "server reply or reason"],
            [[p["email"], p["state"], p["reply"]] for p in summary.problems],
            title="Not sent",
        )
    if summary.note:
        click.echo(f"Note: {summary.note}.")
    copies = summary.sent_folder
    if copies and copies.copied:
        click.echo(
            f"Copies of {copies.copied} sent message(s) went to the IMAP folder {copies.folder!r}."
        )
    if copies and copies.note:
        click.echo(f"Note: {copies.note}.")
    print_uncertain(summary.uncertain_earlier, summary.resend_uncertain)


def print_uncertain(earlier: int, commands: list[str]) -> None:
    """The campaign's uncertain messages (they may have arrived) and what resends them."""
    if not commands:
        return
    left = f"{earlier} message(s) left uncertain by earlier runs; uncertain" if earlier else ""
    click.echo(
        f"{left or 'Uncertain'} messages may have arrived or not: "
        + " and ".join(f"`{c}`" for c in commands)
        + " sends them again, with the same Message-ID."
    )


class Progress:
    """A rich progress bar on a terminal, plain lines on stderr otherwise."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.failures = 0
        self._bar: Any = None
        self._task: Any = None
        self._next_line = 0

    def __call__(self, event: SendEvent) -> None:
        if event.kind == "start":
            self.total = event.total
            self._start()
            return
        if event.kind == "retry":
            if self._bar is None:
                click.echo(f"retrying {event.email}: {event.reply}", err=True)
            return
        self.done += 1
        if event.kind != MessageState.SENT:
            self.failures += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, failures=self.failures)
        elif event.kind != MessageState.SENT:
            click.echo(f"{event.kind} {event.email}: {event.reply}", err=True)
        elif self.done >= self._next_line or self.done == self.total:
            click.echo(f"{self.done}/{self.total} done, {self.failures} not sent", err=True)
            # A line per tenth of the run (at least 100 messages apart) keeps
            # logs readable; the last message always gets its line.
            self._next_line = self.done + max(100, self.total // 10)

    def _start(self) -> None:
        if not sys.stderr.isatty() or not self.total:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:.1f}/s")

        self._bar = Progress(
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            Rate(),
            TextColumn("{task.fields[failures]} not sent"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("send", total=self.total, failures=0)
        self._bar.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
