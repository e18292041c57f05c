"""One fixed, realistic campaign run through the CLI, every command's whole output kept.

The example organizations (mailer/examples/organizations.csv), the example
statement and the example replies, on a clock fixed with MAILER_NOW and with
reply tokens from a fixed sequence, in a fresh folder: the same commands give
the same bytes on every machine. tests/test_cli_golden.py compares each output
with its file in tests/golden/cli/, tests/test_json_contract.py checks each
``--json`` document against docs/reference.md.

A step's name is its golden file's name, so it says what the step shows.
"""

from __future__ import annotations

import itertools
import mailbox
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailer.cli import cli
from tests.conftest import EXAMPLES

SLUG = "peace-statement"
DATA = Path(__file__).resolve().parent / "data" / "cli"
PROJECT = "<project>"  # what the temporary folder's path reads as in the golden files


@dataclass(frozen=True)
class Step:
    """One command of the story; ``before`` prepares it (a file, the clock)."""

    name: str
    args: tuple[str, ...]
    before: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class Output:
    """What one command printed, the temporary folder's path replaced by <project>."""

    args: tuple[str, ...]
    stdout: str
    stderr: str
    exit_code: int

    def transcript(self) -> str:
        """The whole output as a reader sees it: the command, stdout, stderr, exit code."""
        parts = [f"$ mailer {' '.join(_quoted(a) for a in self.args)}\n", self.stdout]
        if self.stderr:
            parts += ["--- stderr\n", self.stderr]
        parts.append(f"--- exit {self.exit_code}\n")
        return "".join(parts)


def _quoted(arg: str) -> str:
    return repr(arg) if not arg or any(c in arg for c in " '\"$") else arg


def at(when: str) -> Callable[[Path], None]:
    """Set the clock every command reads (DESIGN §2: MAILER_NOW)."""

    def set_clock(project: Path) -> None:
        os.environ["MAILER_NOW"] = when

    return set_clock


def _copy(source: Path) -> Callable[[Path], None]:
    def copy(project: Path) -> None:
        shutil.copy(source, project / source.name)

    return copy


def _replies(project: Path) -> None:
    """The example replies, filled in with the messages they answer (as `mailer demo`
    does), then two of our own: a partner's photos from a private address, and an
    organization that writes back without answering."""
    from mailer.db import open_db
    from mailer.demo import write_replies

    at("2026-03-03T14:30:00")(project)
    with open_db(project / "contacts.db") as db:
        box = write_replies(db, project)
    mbox = mailbox.mbox(box)
    for name in ("11-photos-pt.eml", "12-later-it.eml", "13-unsubscribe-en.eml"):
        mbox.add((DATA / name).read_bytes())
    mbox.close()


def _statement(project: Path) -> None:
    shutil.copytree(EXAMPLES / "statements" / SLUG, project / "templates" / SLUG)


def _broken_statement(project: Path) -> None:
    folder = project / "templates" / "broken"
    shutil.copytree(project / "templates" / SLUG, folder)
    text = (folder / "en.md").read_text(encoding="utf-8")
    (folder / "en.md").write_text(text.replace("{{ org.name }}", "{{ org.name }"), "utf-8")


STEPS = [
    Step("init", ("init",), at("2026-03-02T08:30:00")),
    Step(
        "org-import", ("org", "import", "organizations.csv"), _copy(EXAMPLES / "organizations.csv")
    ),
    Step("org-list", ("org", "list")),
    Step("org-list-tag-json", ("org", "list", "--tag", "balkans", "--json")),
    Step(
        "campaign-new",
        ("campaign", "new", SLUG, "--statement", f"templates/{SLUG}"),
        _statement,
    ),
    Step("campaign-list-draft", ("campaign", "list")),
    Step("check", ("check", SLUG)),
    Step("check-json", ("check", SLUG, "--json")),
    Step("send-dry-run", ("send", SLUG, "--dry-run")),
    Step("send-dry-run-json", ("send", SLUG, "--dry-run", "--json")),
    Step("send-limit", ("send", SLUG, "--limit", "5"), at("2026-03-02T09:00:00")),
    # Between the two runs the coast party asks, by telephone, for no more mail.
    Step("org-optout", ("org", "optout", "PCC")),
    Step("send-json", ("send", SLUG, "--json"), at("2026-03-02T09:05:00")),
    Step("send-again", ("send", SLUG)),
    Step("inbox-import", ("inbox", "import", "replies.mbox"), _replies),
    Step("inbox-import-again-json", ("inbox", "import", "replies.mbox", "--json")),
    Step("replies", ("replies", SLUG)),
    Step("replies-json", ("replies", SLUG, "--json")),
    Step("replies-unmatched", ("replies", "--unmatched")),
    Step("replies-unmatched-json", ("replies", "--unmatched", "--json")),
    Step("status", ("status", SLUG), at("2026-03-03T15:00:00")),
    Step("status-json", ("status", SLUG, "--json")),
    Step("org-show", ("org", "show", "RPSB")),
    Step("org-show-json", ("org", "show", "RPSB", "--json")),
    # A person decides what the replies waiting for review mean.
    Step("reply-assign-json", ("reply", "assign", "11", "POS", "--json")),
    Step("reply-mark", ("reply", "mark", "13", "unsubscribed")),
    Step("reply-mark-json", ("reply", "mark", "12", "other", "--json")),
    Step("campaign-list", ("campaign", "list")),
    Step("campaign-list-json", ("campaign", "list", "--json")),
    Step("campaign-show", ("campaign", "show", SLUG)),
    Step("campaign-show-json", ("campaign", "show", SLUG, "--json")),
    Step("remind-too-early", ("remind", SLUG, "--dry-run")),
    Step("remind-dry-run", ("remind", SLUG, "--dry-run"), at("2026-03-06T10:00:00")),
    Step("remind-dry-run-json", ("remind", SLUG, "--dry-run", "--json")),
    Step("sign", ("sign", SLUG, "ABF", "--as", "Arbeiterbund am Fluss (ABF)")),
    Step(
        "signon-import-dry-run",
        ("signon", "import", SLUG, "partner-list.txt", "--dry-run"),
        _copy(DATA / "partner-list.txt"),
    ),
    Step("signatories", ("signatories", SLUG)),
    Step("signatories-md", ("signatories", SLUG, "--format", "md", "--with-country")),
    Step("signatories-csv", ("signatories", SLUG, "--format", "csv")),
    Step("signatories-json", ("signatories", SLUG, "--format", "json")),
    Step("signatories-sr-cyrl", ("signatories", SLUG, "--lang", "sr-Cyrl", "--with-country")),
    Step("org-export-json", ("org", "export", "--format", "json")),
    # Bad input: one sentence on stderr naming what and where, and the exit code.
    Step("error-unknown-campaign", ("status", "peace-statment")),
    Step("error-unknown-org", ("org", "show", "Workers Party")),
    Step("error-bad-rate", ("send", SLUG, "--rate", "fast")),
    Step("error-format-option", ("signatories", SLUG, "--format", "csv", "--with-statement")),
    Step(
        "error-import-invalid-rows",
        ("org", "import", "new-partners.csv"),
        _copy(DATA / "new-partners.csv"),
    ),
    Step(
        "error-email-taken",
        ("org", "add", "Radnička partija", "--email", "medjunarodno@rpsb.example.org"),
    ),
    Step(
        "error-template",
        ("campaign", "new", "broken", "--statement", "templates/broken"),
        _broken_statement,
    ),
    Step("error-clock", ("status", SLUG), at("next Tuesday")),
]


def _fixed_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reply tokens 'fixedaaaaaab', 'fixedaaaaaac'… in every module that makes them."""
    import mailer.send  # noqa: F401  (loaded so that its copy of new_token is replaced)
    from mailer import tokens

    counter = itertools.count(1)
    width = tokens.LENGTH - len("fixed")

    def token() -> str:
        n = next(counter)
        return "fixed" + "".join(tokens.ALPHABET[(n >> 5 * i) & 31] for i in reversed(range(width)))

    original = tokens.new_token
    for module in list(sys.modules.values()):
        if (
            module
            and module.__name__.startswith("mailer")
            and getattr(module, "new_token", None) is original
        ):
            monkeypatch.setattr(module, "new_token", token)


def run_story(folder: Path) -> dict[str, Output]:
    """Every step in order in a fresh ``folder``; the outputs by step name."""
    outputs: dict[str, Output] = {}
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("MAILER_"):
                mp.delenv(name)
        mp.setenv("HOME", str(folder.parent / "home"))
        mp.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        mp.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
        mp.setenv("MAILER_SENDER_NAME", "International Department")
        mp.setenv("MAILER_NOW", "2026-03-02T08:30:00")
        mp.chdir(folder)
        _fixed_tokens(mp)
        for step in STEPS:
            if step.before:
                step.before(folder)
            result = CliRunner().invoke(
                cli, list(step.args), prog_name="mailer", catch_exceptions=False
            )
            outputs[step.name] = Output(
                step.args,
                _placeholders(result.stdout, folder),
                _placeholders(result.stderr, folder),
                result.exit_code,
            )
    return outputs


def _placeholders(text: str, folder: Path) -> str:
    for path in {str(folder.resolve()), str(folder)}:
        text = text.replace(path, PROJECT)
    return text
