"""Line numbers as an editor counts them; files written on request."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mailer.errors import MailerError
from mailer.files import numbered_lines, write_text_file


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\n\n", ["a", ""]),
        ("a\r\nb\rc\nd", ["a", "b", "c", "d"]),
        ("a\x0cb\u2028c\x1ed\n", ["a\x0cb\u2028c\x1ed"]),
    ],
)
def test_numbered_lines(text: str, lines: list[str]) -> None:
    assert list(numbered_lines(text)) == list(enumerate(lines, start=1))


def test_write_text_file_writes_but_never_over_a_database(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    write_text_file(page, "<p>ü</p>", "the report")
    assert page.read_text(encoding="utf-8") == "<p>ü</p>"
    database = tmp_path / "any.db"
    sqlite3.connect(database).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(MailerError, match="is a database, not a file for the report"):
        write_text_file(database, "<p>", "the report")
    assert database.read_bytes().startswith(b"SQLite format 3\x00")


def test_write_text_file_writes_to_a_pipe(tmp_path: Path) -> None:
    """`status --html >(…)` names a pipe: it is written, never read first."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with ThreadPoolExecutor(1) as pool:
        reader = pool.submit(fifo.read_text, encoding="utf-8")
        write_text_file(fifo, "<p>page</p>", "the report")
        assert reader.result(timeout=10) == "<p>page</p>"
