"""Line numbers as an editor counts them; files written on request."""

from __future__ import annotations

import os
import sqlite3
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mailer.errors import MailerError
from mailer.files import (
    create_private,
    load_toml,
    numbered_lines,
    private_folder,
    write_text_file,
)


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a = 1\n[b\nc = "d"\n', "x.toml:2: not valid TOML: Expected ']' at the end of a table"),
        ("a = 1\na = 2\n", "x.toml:2: not valid TOML: Cannot overwrite a value"),
        ('a = "b\n', "x.toml:1: not valid TOML: Illegal character"),
        ("a = 1\r\nb = [1,\r\n", "x.toml:2: not valid TOML:"),
    ],
)
def test_a_toml_slip_names_its_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(MailerError) as info:
        load_toml(Path("x.toml"), text)
    assert str(info.value).startswith(expected)
    assert "(at " not in str(info.value)


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


def test_private_files_and_folders_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        private_folder(tmp_path / "a" / "b")
        create_private(tmp_path / "a" / "b" / "m.eml", b"x")
        (tmp_path / "old.html").write_text("old")  # 0644, as another program left it
        write_text_file(tmp_path / "old.html", "new", "the report")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    assert modes == {"a": 0o700, "b": 0o700, "m.eml": 0o600, "old.html": 0o600}
    assert (tmp_path / "old.html").read_text() == "new"
    with pytest.raises(FileExistsError):
        create_private(tmp_path / "a" / "b" / "m.eml", b"y")


def test_a_full_disk_leaves_no_half_file_and_keeps_the_old_one(disks) -> None:
    disk = disks.small(64)
    with pytest.raises(OSError, match="No space left"):
        create_private(disk / "big.eml", b"x" * 200_000)
    write_text_file(disk / "report.html", "<p>last week</p>", "the report")
    with pytest.raises(MailerError, match=r"report.html: cannot write the report \(No space"):
        write_text_file(disk / "report.html", "<p>" + "x" * 200_000, "the report")
    assert [p.name for p in disk.iterdir()] == ["report.html"]
    assert (disk / "report.html").read_text() == "<p>last week</p>"
