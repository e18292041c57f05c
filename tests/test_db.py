"""The database file: private permissions, WAL, migrations, the append-only log."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from mailer.db import MIGRATIONS, database_error, log_event, open_db
from mailer.errors import MailerError


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_database_and_companions_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = open_db(tmp_path / "c.db")
        db["organization"].insert({"name": "x", "created_at": "t", "updated_at": "t"})
        files = [p for p in tmp_path.iterdir() if p.name.startswith("c.db")]
        assert {p.name for p in files} >= {"c.db", "c.db-wal", "c.db-shm"}
        assert all(mode(p) == 0o600 for p in files)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        os.umask(old)


def test_an_older_schema_is_migrated_forward_keeping_data(tmp_path: Path) -> None:
    from sqlite_utils import Database

    names = [m.name for m in MIGRATIONS._migrations]
    assert len(names) > 1
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before=names[-1])
    old.execute(
        "INSERT INTO organization (id, name, created_at, updated_at) VALUES (7, 'Kept', 'x', 'x')"
    )
    old.execute(
        "INSERT INTO address (email, org_id, created_at, updated_at)"
        " VALUES ('kept@k.example.org', 7, 'x', 'x')"
    )
    old.close()
    db = open_db(path)
    assert [m.name for m in MIGRATIONS.applied(db)] == names
    assert MIGRATIONS.pending(db) == []
    assert db.execute("SELECT name FROM organization WHERE id = 7").fetchone() == ("Kept",)
    assert db.execute("SELECT org_id FROM address").fetchall() == [(7,)]


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    open_db(tmp_path / "c.db").close()
    db = open_db(tmp_path / "c.db")
    assert len(MIGRATIONS.applied(db)) == len(MIGRATIONS._migrations)


def test_a_database_from_a_newer_mailer_is_refused(tmp_path: Path) -> None:
    db = open_db(tmp_path / "c.db")
    db["_sqlite_migrations"].insert(
        {"migration_set": "mailer", "name": "m999_future", "applied_at": "2099-01-01"}
    )
    db.close()
    with pytest.raises(MailerError, match="newer mailer"):
        open_db(tmp_path / "c.db")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c.db").write_text("this is not sqlite")
    with pytest.raises(MailerError, match="not a usable SQLite database"):
        open_db(tmp_path / "c.db")


def test_a_folder_as_the_database_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(MailerError, match="this is a folder, not a database file") as info:
        open_db(tmp_path)
    assert info.value.hint and "[db] path" in info.value.hint


def test_event_log_is_append_only(tmp_path: Path) -> None:
    db = open_db(tmp_path / "c.db")
    log_event(db, "organization", 1, "create", new={"name": "x"}, command="test")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE event SET action = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM event")
    assert db.execute("SELECT command, entity, action FROM event").fetchall() == [
        ("test", "organization", "create")
    ]


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE foo (x)")
    with pytest.raises(MailerError, match="a SQLite database of another program.*'foo'"):
        open_db(path)
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == ["foo"]


def test_a_command_waits_for_another_that_is_writing(initialized: Path, run) -> None:
    """Another program writes for 0.5 s: the command's own write waits its turn."""
    holder = sqlite3.connect(
        initialized / "contacts.db", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: (holder.execute("COMMIT"), holder.close()))
    release.start()
    try:
        result = run("org", "add", "Waiting Org", "--email", "w@w.example.org")
    finally:
        release.join()
    assert result.exit_code == 0, result.stderr
    assert "Waiting Org" in run("org", "list").stdout


def test_a_locked_database_is_one_sentence_through_the_cli(
    initialized: Path, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds a write lock longer than the busy timeout."""
    monkeypatch.setattr("mailer.db.BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(initialized / "contacts.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("org", "add", "Waiting Org")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "contacts.db: the database is busy (database is locked)" in result.stderr
    assert "Another mailer command is using it" in result.stderr
    assert "internal error" not in result.stderr


def test_only_the_files_own_problems_are_blamed_on_the_file(tmp_path: Path) -> None:
    """Locked or not a database: one sentence about the file. A failing statement of
    mailer's own (a constraint, a missing column) is a bug, reported as such."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x UNIQUE)")
    conn.execute("INSERT INTO t VALUES (1)")
    for sql in ("INSERT INTO t VALUES (1)", "SELECT nope FROM t"):
        with pytest.raises(sqlite3.DatabaseError) as ours:
            conn.execute(sql)
        assert database_error(ours.value, "c.db") is None
    (tmp_path / "c.db").write_text("x" * 200)
    with pytest.raises(sqlite3.DatabaseError) as theirs:
        sqlite3.connect(tmp_path / "c.db").execute("SELECT * FROM sqlite_master")
    problem = database_error(theirs.value, "c.db")
    assert problem is not None and "not a usable SQLite database" in str(problem)


def test_only_a_recorded_redaction_may_change_an_event(tmp_path: Path) -> None:
    from mailer.db import redact_events

    db = open_db(tmp_path / "c.db")
    log_event(db, "organization", 1, "create", new={"name": "Ana's Party"}, command="org add")
    (event_id,) = db.execute("SELECT id FROM event").fetchone()
    assert redact_events(db, [(event_id, None, {"name": "[erased]"})], reason="test") == 1
    assert db.execute("SELECT command, action, old, new FROM event").fetchall() == [
        ("org add", "create", None, '{"name": "[erased]"}')
    ]
    db.execute(  # the recorded values once more: allowed, and changes nothing
        'UPDATE event SET new = \'{"name": "[erased]"}\' WHERE id = ?', [event_id]
    )
    for sql in (
        'UPDATE event SET new = \'{"name": "other"}\'',  # not what the redaction recorded
        "UPDATE event SET action = 'x'",  # another column, with a redaction on record
        "DELETE FROM event",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    for sql in ("UPDATE event_redaction SET new = NULL", "DELETE FROM event_redaction"):
        with pytest.raises(sqlite3.DatabaseError, match="record of redactions is append-only"):
            db.execute(sql)
