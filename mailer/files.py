"""The user's files: text read as UTF-8, lines counted as an editor counts them,
and every file mailer writes besides the database (status pages, exports,
previews, outbox messages, reply attachments).

One writer, so that each of them refuses the same slips: a report written over
the database (``status --html contacts.db``) would destroy every record, and what
mailer writes is about people's political affiliation, so it is readable by its
owner only (0600 files, 0700 folders), whatever the umask (DESIGN §6).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mailer.errors import MailerError

SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
LINE_END = re.compile(r"\r\n|\r|\n")
# Where tomllib (Python 3.11, which has no lineno attribute yet) says a slip is.
_TOML_AT = re.compile(r" \(at line (\d+), column \d+\)$| \(at end of document\)$")


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


def load_toml(path: Path, text: str, error: type[MailerError] = MailerError) -> dict[str, Any]:
    """``text`` (the content of ``path``) as TOML; a slip is an ``error`` that names
    ``path:LINE`` as every other error about a user's file does."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        found = _TOML_AT.search(message)
        last = sum(1 for _ in numbered_lines(text)) or 1
        line = found.group(1) or last if found else last
        message = message[: found.start()] if found else message
        raise error(f"{path}:{line}: not valid TOML: {message}") from None


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
        write_private(path, text.encode("utf-8"))
    except OSError as e:
        raise MailerError(f"{path}: cannot write {what} ({e.strerror})") from None


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, readable by its owner only.

    A file is written beside ``path`` and renamed over it, so a failure (a full
    disk) leaves the old file or none, never half of one. A pipe or a terminal
    (``--html /dev/stdout``) is written as it is. Raises OSError.
    """
    target = path.resolve() if path.is_symlink() else path  # replace the file, not the link
    try:
        kind = target.stat().st_mode
    except FileNotFoundError:
        kind = stat.S_IFREG
    if not stat.S_ISREG(kind):
        with open(target, "wb") as stream:
            stream.write(data)
        return
    beside = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    create_private(beside, data)
    try:
        os.replace(beside, target)
    except BaseException:
        beside.unlink(missing_ok=True)
        raise


def create_private(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Create ``path``, which must not exist (FileExistsError), holding ``data``, mode
    0600; removed again when writing fails, so no partial file stays behind.
    ``sync``: on disk before returning (a message in the outbox). Raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE)  # the umask may have taken the owner's bits too
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def private_folder(path: Path) -> None:
    """Create the folder ``path`` and its missing parents, each mode 0700 whatever the
    umask; folders that exist are left as their owner set them. Raises OSError."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(PRIVATE_FOLDER)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made meanwhile by another process: not ours to change
        os.chmod(folder, PRIVATE_FOLDER)
