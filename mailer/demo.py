"""The demo: a ready folder, the commands it runs, and example replies that
answer the messages the demo really sent (so matching and classifying are real too).

The CLI's ``mailer demo`` runs :func:`steps` as ordinary commands; nothing here
sends mail or prints.
"""

from __future__ import annotations

import mailbox
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.header import Header
from email.parser import HeaderParser
from email.utils import format_datetime, parseaddr
from importlib import resources
from pathlib import Path

from sqlite_utils import Database

from mailer.campaigns import get_campaign
from mailer.clock import now, stamp
from mailer.config import CONFIG_NAME
from mailer.db import open_db
from mailer.errors import MailerError, NotFound
from mailer.files import PRIVATE_FILE, write_private
from mailer.queue import first_to
from mailer.setup import config_text, init_project
from mailer.tokens import BOUNCE, plus_address, reply_address

SLUG = "peace-statement"
THANKS = "peace-thanks"  # init's example thank-you, printing SLUG's final list
SENDER = ("International Department (demo)", "intl@party.example.org")


@dataclass(frozen=True)
class Step:
    """One command of the demo, and what to do first (returning what to tell the user)."""

    args: tuple[str, ...]
    before: Callable[[], str] | None = None


def steps() -> list[Step]:
    """The story, run in the demo folder: import, send, replies, status, reminders, the
    list, and a thank-you to everyone that prints it."""
    ahead = (now() + timedelta(weeks=4)).date().isoformat()
    return [
        Step(("org", "import", "organizations.csv")),
        Step(("org", "list", "--tag", "balkans")),
        # A deadline weeks ahead, whatever the day: a past one would block sending.
        Step(("campaign", "new", SLUG, "--statement", f"templates/{SLUG}", "--deadline", ahead)),
        Step(("check", SLUG)),
        Step(("preview", SLUG, "--org", "RPSB")),
        Step(("send", SLUG)),
        Step(("inbox", "import", "replies.mbox"), _example_replies),
        Step(("status", SLUG)),
        Step(("remind", SLUG), _four_days_later),
        Step(("signatories", SLUG, "--with-country")),
        Step(("campaign", "new", THANKS, "--statement", f"templates/{THANKS}")),
        Step(("preview", THANKS, "--org", "RPSB")),
        Step(("send", THANKS)),
    ]


def _example_replies() -> str:
    with open_db(Path("contacts.db")) as db:
        write_replies(db, Path("."))
    return "example replies answering the sent messages: replies.mbox"


def _four_days_later() -> str:
    os.environ["MAILER_NOW"] = stamp(now() + timedelta(days=4))  # the clock every command reads
    return "four days later…"


@contextmanager
def own_environment() -> Iterator[None]:
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


def examples_dir() -> Path:
    return Path(str(resources.files("mailer") / "examples"))


def prepare_folder(folder: Path) -> None:
    """A new folder with mailer.toml (demo sender), the example organizations, the
    example statement under templates/, and init's example thank-you pointed at it."""
    if folder.exists() and any(folder.iterdir()):
        raise MailerError(
            f"{folder} already exists and is not empty",
            hint="Remove it, or name another folder: `mailer demo FOLDER`.",
        )
    init_project(folder)
    sender = {"sender.name": SENDER[0], "sender.address": SENDER[1]}
    (folder / CONFIG_NAME).write_text(config_text(sender), encoding="utf-8")
    # Contact data and replies stay private like everything mailer writes (fictional here).
    write_private(folder / "organizations.csv", (examples_dir() / "organizations.csv").read_bytes())
    shutil.copytree(
        examples_dir() / "statements" / SLUG, folder / "templates" / SLUG, dirs_exist_ok=True
    )
    thanks = folder / "templates" / THANKS
    shutil.copytree(folder / "templates" / "example-thanks", thanks)
    toml = thanks / "statement.toml"
    text = re.sub(r'(?m)^list_from = "[^"]*"', f'list_from = "{SLUG}"', toml.read_text("utf-8"))
    toml.write_text(text, encoding="utf-8")


def write_replies(db: Database, folder: Path) -> Path:
    """replies.mbox: each example reply filled in with the message it answers."""
    try:
        campaign = get_campaign(db, SLUG)
    except NotFound:
        raise MailerError(f"the demo campaign {SLUG!r} does not exist") from None
    path = folder / "replies.mbox"
    box = mailbox.mbox(str(path))
    date = format_datetime(now())
    for template in sorted((examples_dir() / "replies").glob("*.eml")):
        text = template.read_text(encoding="utf-8")
        sender = _answered_address(text)
        row = first_to(db, campaign["id"], sender)
        if row is None:
            continue
        filled = (
            text.replace("@@REPLY_TO@@", reply_address(SENDER[1], row[1]))
            .replace("@@BOUNCE_TO@@", plus_address(SENDER[1], row[1], BOUNCE))  # VERP
            .replace("@@IN_REPLY_TO@@", row[0])
            .replace("@@DATE@@", date)
        )
        # Headers carry the title RFC 2047-encoded, the quoted body plainly.
        lines = [
            line.replace("@@SUBJECT@@", Header(campaign["title"], "utf-8").encode())
            if line.startswith("Subject:")
            else line.replace("@@SUBJECT@@", campaign["title"])
            for line in filled.split("\n")
        ]
        box.add("\n".join(lines).encode("utf-8"))
    box.flush()
    box.close()
    path.chmod(PRIVATE_FILE)
    return path


def _answered_address(text: str) -> str:
    """The organization address a template answers: the bounce's failed
    recipient, else the reply's From address."""
    for line in text.splitlines():
        if line.startswith("Final-Recipient:"):
            return line.split(";", 1)[1].strip().lower()
    return parseaddr(HeaderParser().parsestr(text, headersonly=True)["From"] or "")[1].lower()
