"""The user's text files: read as UTF-8, lines counted as an editor counts them,
and the files written on request (status pages, exports, previews).

One writer, so that each of them refuses the same slip: a report written over
the database (``status --html contacts.db``) would destroy every record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mailer.errors import MailerError

SQLITE_HEADER = b"SQLite format 3\x00"
LINE_END = re.compile(r"\r\n|\r|\n")


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) with only CR, LF and CRLF ending a line: str.splitlines also
    breaks at form feeds, U+2028 and others, which shifts every number after them
    (and splits a value that holds one)."""
    lines = LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()  # the end of the last line, not one more
    return enumerate(lines, start=1)


def read_text_file(path: Path, error: type[MailerError] = MailerError) -> str:
    """A user's text file, UTF-8 (a byte-order mark an editor added is dropped); an
    ``error`` naming the file, and the line of a byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None


def write_text_file(path: Path, text: str, what: str) -> None:
    """Write ``text`` (UTF-8) to ``path``; ``what`` names it in errors ("the report")."""
    is_database = False
    if path.is_file():  # not a pipe (--html >(…)): reading that would wait for ever
        try:
            with open(path, "rb") as existing:
                is_database = existing.read(len(SQLITE_HEADER)) == SQLITE_HEADER
        except OSError:  # unreadable: the write below says what is wrong
            pass
    if is_database:
        raise MailerError(
            f"{path} is a database, not a file for {what}",
            hint="Give another file name; nothing was written.",
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise MailerError(f"{path}: cannot write {what} ({e.strerror})") from None
