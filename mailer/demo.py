"""The demo's data: a ready folder and example replies that answer the
messages the demo really sent (so matching and classifying are real too).

The CLI's ``mailer demo`` runs the ordinary commands over this; nothing here
sends mail or prints.
"""

from __future__ import annotations

import mailbox
import shutil
from email.header import Header
from email.parser import HeaderParser
from email.utils import format_datetime, parseaddr
from importlib import resources
from pathlib import Path

from sqlite_utils import Database

from mailer.clock import now
from mailer.errors import MailerError
from mailer.setup import init_project
from mailer.tokens import reply_address

SLUG = "peace-statement"
SENDER = ("International Department (demo)", "intl@party.example.org")


def examples_dir() -> Path:
    return Path(str(resources.files("mailer") / "examples"))


def prepare_folder(folder: Path) -> None:
    """A new folder with mailer.toml (demo sender), the example organizations
    and the example statement under templates/."""
    if folder.exists() and any(folder.iterdir()):
        raise MailerError(
            f"{folder} already exists and is not empty",
            hint="Remove it, or name another folder: `mailer demo FOLDER`.",
        )
    init_project(folder)
    config = folder / "mailer.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('# name = ""', f'name = "{SENDER[0]}"', 1)
    text = text.replace('# address = ""', f'address = "{SENDER[1]}"', 1)
    config.write_text(text, encoding="utf-8")
    shutil.copy(examples_dir() / "organizations.csv", folder / "organizations.csv")
    shutil.copytree(
        examples_dir() / "statements" / SLUG, folder / "templates" / SLUG, dirs_exist_ok=True
    )


def write_replies(db: Database, folder: Path) -> Path:
    """replies.mbox: each example reply filled in with the message it answers."""
    campaign = db.execute("SELECT id, title FROM campaign WHERE slug = ?", [SLUG]).fetchone()
    if campaign is None:
        raise MailerError(f"the demo campaign {SLUG!r} does not exist")
    path = folder / "replies.mbox"
    box = mailbox.mbox(str(path))
    date = format_datetime(now())
    for template in sorted((examples_dir() / "replies").glob("*.eml")):
        text = template.read_text(encoding="utf-8")
        sender = _answered_address(text)
        row = db.execute(
            "SELECT message_id, token FROM message WHERE campaign_id = ? AND email = ?"
            " AND is_test = 0 ORDER BY wave LIMIT 1",
            [campaign[0], sender],
        ).fetchone()
        if row is None:
            continue
        filled = (
            text.replace("@@REPLY_TO@@", reply_address(SENDER[1], row[1]))
            .replace("@@BOUNCE_TO@@", SENDER[1])
            .replace("@@IN_REPLY_TO@@", row[0])
            .replace("@@DATE@@", date)
        )
        # Headers carry the title RFC 2047-encoded, the quoted body plainly.
        lines = [
            line.replace("@@SUBJECT@@", Header(campaign[1], "utf-8").encode())
            if line.startswith("Subject:")
            else line.replace("@@SUBJECT@@", campaign[1])
            for line in filled.split("\n")
        ]
        box.add("\n".join(lines).encode("utf-8"))
    box.flush()
    box.close()
    return path


def _answered_address(text: str) -> str:
    """The organization address a template answers: the bounce's failed
    recipient, else the reply's From address."""
    for line in text.splitlines():
        if line.startswith("Final-Recipient:"):
            return line.split(";", 1)[1].strip().lower()
    return parseaddr(HeaderParser().parsestr(text, headersonly=True)["From"] or "")[1].lower()
