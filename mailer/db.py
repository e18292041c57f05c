"""The SQLite database: opening it safely and migrating its schema.

The file holds political affiliations, so it is created under umask 077: the
database and its ``-wal``/``-shm`` companions are private from the first byte
(a chmod afterwards would leave the companions world-readable).

Schema changes are forward migrations in ``MIGRATIONS`` (sqlite-utils'
``Migrations``). Add new ones at the end; never edit an applied one. A
database migrated by a newer mailer is refused rather than damaged.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from mailer.audit import current_command
from mailer.clock import stamp
from mailer.errors import MailerError
from mailer.files import private_folder

MIGRATIONS = Migrations("mailer")
# How long a command waits for another one that is writing (a send, an import).
BUSY_TIMEOUT_MS = 5000


class MailerDatabase(Database):
    """sqlite-utils' Database, with transactions that take the write lock when they
    begin (BEGIN IMMEDIATE). A plain BEGIN that has read cannot wait for the lock
    when it comes to write: SQLite refuses it at once, whatever the busy timeout, so
    any write during a send failed with "database is locked" instead of waiting."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:  # nested: sqlite-utils' savepoint
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE organization (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            short_name TEXT,
            country TEXT,
            languages TEXT NOT NULL DEFAULT '[]',   -- JSON list of BCP 47 tags, preferred first
            tags TEXT NOT NULL DEFAULT '[]',        -- JSON list
            notes TEXT,
            names TEXT NOT NULL DEFAULT '{}',       -- JSON {lang: name} for publishing
            do_not_contact INTEGER NOT NULL DEFAULT 0,
            merged_into INTEGER REFERENCES organization(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX organization_name ON organization(name COLLATE NOCASE);

        CREATE TABLE address (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            org_id INTEGER NOT NULL REFERENCES organization(id),
            role TEXT,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'bounced', 'invalid', 'unsubscribed')),
            soft_bounces INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX address_org ON address(org_id);

        CREATE TABLE campaign (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('signon', 'call')),
            statement_dir TEXT NOT NULL,
            default_language TEXT NOT NULL,
            languages TEXT NOT NULL DEFAULT '[]',
            audience TEXT NOT NULL DEFAULT '{}',   -- JSON {tags, countries, where}
            deadline TEXT,
            sender TEXT,
            status TEXT NOT NULL DEFAULT 'draft',
            created_at TEXT NOT NULL
        );

        CREATE TABLE message (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaign(id),
            wave INTEGER NOT NULL DEFAULT 0,
            org_id INTEGER REFERENCES organization(id),
            address_id INTEGER REFERENCES address(id),
            email TEXT NOT NULL,
            language TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN
                ('queued', 'sending', 'sent', 'deferred', 'failed', 'uncertain')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_reply TEXT,
            is_test INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT NOT NULL,
            first_deferred_at TEXT,
            claimed_at TEXT,
            sent_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX message_once ON message(campaign_id, wave, address_id)
            WHERE is_test = 0;
        CREATE INDEX message_state ON message(campaign_id, state);
        CREATE INDEX message_org ON message(org_id);

        CREATE TABLE send_lock (
            campaign_id INTEGER PRIMARY KEY REFERENCES campaign(id),
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL
        );

        CREATE TABLE reply (
            id INTEGER PRIMARY KEY,
            header_message_id TEXT,
            content_hash TEXT NOT NULL UNIQUE,
            raw BLOB NOT NULL,
            source TEXT,
            received_at TEXT,
            from_addr TEXT,
            subject TEXT,
            campaign_id INTEGER REFERENCES campaign(id),
            org_id INTEGER REFERENCES organization(id),
            message_ref INTEGER REFERENCES message(id),
            match_method TEXT,
            class TEXT,
            confidence REAL,
            text TEXT,
            attachments TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'new',
            error TEXT,
            imported_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX reply_message_id ON reply(header_message_id)
            WHERE header_message_id IS NOT NULL;
        CREATE INDEX reply_campaign ON reply(campaign_id);

        CREATE TABLE bounce (
            id INTEGER PRIMARY KEY,
            address_id INTEGER NOT NULL REFERENCES address(id),
            reply_id INTEGER REFERENCES reply(id),
            hard INTEGER NOT NULL,
            status_code TEXT,
            diagnostic TEXT,
            at TEXT NOT NULL
        );

        CREATE TABLE response (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaign(id),
            org_id INTEGER NOT NULL REFERENCES organization(id),
            kind TEXT NOT NULL CHECK (kind IN ('signed', 'declined', 'acted', 'unsubscribed')),
            source TEXT NOT NULL CHECK (source IN ('reply', 'manual', 'import', 'web')),
            reply_id INTEGER REFERENCES reply(id),
            publish_name TEXT,
            at TEXT NOT NULL,
            withdrawn_at TEXT,
            UNIQUE (campaign_id, org_id)
        );

        CREATE TABLE imap_cursor (
            mailbox TEXT PRIMARY KEY,
            uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE event (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            command TEXT,
            entity TEXT NOT NULL,
            entity_id INTEGER,
            action TEXT NOT NULL,
            old TEXT,
            new TEXT
        );
        CREATE TRIGGER event_no_update BEFORE UPDATE ON event
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        CREATE TRIGGER event_no_delete BEFORE DELETE ON event
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        """,
    )


def _run_script(db: Database, script: str) -> None:
    """Run several statements inside the migration's transaction.

    ``executescript`` would COMMIT first and break the migration's atomicity,
    so statements are split with SQLite's own completeness test.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _check_ours(db: Database, path: Path) -> None:
    """Refuse another program's SQLite file, and one a newer mailer has upgraded."""
    tables = set(db.table_names())
    if tables and Migrations.migrations_table not in tables:
        raise MailerError(
            f"{path}: a SQLite database of another program (it has tables such as "
            f"{sorted(tables)[0]!r}), not a mailer database; mailer leaves it alone",
            hint="Pass --db with another file name, or run `mailer init` in an empty folder.",
        )
    known = {m.name for m in MIGRATIONS._migrations}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise MailerError(
            f"{path}: this database was upgraded by a newer mailer (migration {unknown[0]!r}); upgrade mailer to use it"
        )


def open_db(path: Path, *, create: bool = True) -> Database:
    """Open (creating if allowed) and migrate the database at ``path``."""
    path = Path(path)
    if not path.exists() and not create:
        raise MailerError(
            f"no database at {path}",
            hint="Run `mailer init` first, or pass --db to name the database file.",
        )
    try:
        private_folder(path.parent)
    except OSError as e:
        raise MailerError(
            f"{path}: the folder for the database cannot be created ({why_unwritable(path.parent) or e.strerror})"
        ) from None
    old_umask = os.umask(0o077)
    try:
        try:
            if path.exists() and why_unwritable(path):
                return _open_read_only(path)
            return _open_read_write(path)
        except sqlite3.DatabaseError as e:
            if path.exists() and why_unwritable(path):  # a disk that filled: read what is there
                with contextlib.suppress(sqlite3.DatabaseError):
                    return _open_read_only(path)
            raise database_error(e, path) or MailerError(
                f"{path}: not a usable SQLite database ({e})"
            ) from None
    finally:
        os.umask(old_umask)


def _open_read_write(path: Path) -> Database:
    db = MailerDatabase(sqlite3.connect(str(path), isolation_level=None))
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _check_ours(db, path)
        MIGRATIONS.apply(db)
    except BaseException:
        db.close()
        raise
    return db


def _open_read_only(path: Path) -> Database:
    """A database mailer may read but not write (a read-only disk, another user's
    folder): commands that only read work; one that writes gets SQLite's read-only
    error, which :func:`database_error` explains.

    A WAL database needs its -shm file, which a read-only or full disk cannot hold;
    there no writer can change the file while it is read (nothing can be written,
    and a write goes to the -wal first), so it is opened immutable, unless a crash
    left changes in its -wal file that only the -shm can make readable."""
    wal = path.with_name(path.name + "-wal")
    stuck = why_unwritable(path) in ("it is on a read-only file system", "the disk is full")
    immutable = stuck and not (wal.exists() and wal.stat().st_size)
    uri = f"{path.absolute().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"
    db = MailerDatabase(sqlite3.connect(uri, uri=True, isolation_level=None))
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _check_ours(db, path)
    if MIGRATIONS.pending(db):
        db.close()
        raise MailerError(
            f"{path}: this database needs upgrading to this version of mailer, but it cannot "
            f"be written ({why_unwritable(path)})"
        )
    return db


def _read_only_disk(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def why_unwritable(path: Path) -> str | None:
    """Why ``path`` (a file or folder that exists) cannot be written, in words; None
    when nothing stops it. Said in messages instead of guessing at a cause."""
    if _read_only_disk(path):
        return "it is on a read-only file system"
    try:
        disk = os.statvfs(path)
    except OSError:
        return None
    if (disk.f_bfree if os.geteuid() == 0 else disk.f_bavail) == 0:  # root may use all
        return "the disk is full"
    if not os.access(path, os.W_OK):
        return "you may not write to it"
    if path.is_file() and not os.access(path.parent, os.W_OK):
        return f"you may not write to its folder {path.parent}"
    return None


def _why_not(path: Path) -> str | None:
    """Why the database file (or, when it is missing, its folder) cannot be written."""
    return why_unwritable(path if path.exists() else path.parent) if path.parent.exists() else None


def open_to_others(path: Path) -> list[Path]:
    """The database file and its -wal/-shm companions that other users of this
    computer may read or write: a file copied in, or made by an older mailer."""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    exposed = []
    for file in files:
        try:
            if file.stat().st_mode & 0o077:
                exposed.append(file)
        except OSError:  # no companion file: nothing to expose
            continue
    return exposed


def database_error(error: sqlite3.DatabaseError, path: Path | str) -> MailerError | None:
    """One sentence for SQLite refusing the file (locked, read-only, not a database,
    disk full…); None for an error of mailer's own SQL, which is a bug to report."""
    text = str(error)
    kind = getattr(error, "sqlite_errorname", "").removeprefix("SQLITE_").split("_")[0]
    if kind in ("BUSY", "LOCKED"):
        return MailerError(
            f"{path}: the database is busy ({text})",
            hint="Another mailer command is using it; try again when it has finished.",
        )
    where = Path(path)
    if kind == "READONLY":
        why = _why_not(where) or text
        return MailerError(
            f"{where}: the database can be read but not written ({why})",
            hint="Commands that only read it, such as `mailer status`, still work.",
        )
    if kind == "CANTOPEN":
        if where.is_dir():
            return MailerError(
                f"{where}: this is a folder, not a database file",
                hint="[db] path (or --db) names the database file itself.",
            )
        return MailerError(
            f"{where}: the database cannot be opened or created there ({_why_not(where) or text})"
        )
    if kind in ("FULL", "IOERR"):
        cause = _why_not(where)
        return MailerError(
            f"{where}: the database could not be written to disk ({cause + ': ' if cause else ''}{text})"
        )
    if kind in ("NOTADB", "CORRUPT"):
        return MailerError(f"{path}: not a usable SQLite database ({text})")
    return None


def log_event(
    db: Database,
    entity: str,
    entity_id: int | None,
    action: str,
    *,
    old: Any = None,
    new: Any = None,
    command: str | None = None,
) -> None:
    """Append one change to the audit log (call inside the change's transaction)."""
    log_events(db, entity, [(entity_id, action, old, new)], command=command)


def log_events(
    db: Database,
    entity: str,
    changes: Iterable[tuple[int | None, str, Any, Any]],
    *,
    at: str | None = None,
    command: str | None = None,
) -> None:
    """Append changes of one kind of entity, (id, action, old, new) each, in one
    executemany: cheap enough for every message of a send."""
    at, command = at or stamp(), command or current_command()
    db.conn.executemany(
        "INSERT INTO event (at, command, entity, entity_id, action, old, new)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (at, command, entity, entity_id, action, _json(old), _json(new))
            for entity_id, action, old, new in changes
        ],
    )


def events_naming(
    db: Database, own: Mapping[str, list[int]], org_ids: list[int], texts: Iterable[str]
) -> list[tuple[int, str, int | None, str | None, str | None]]:
    """(id, entity, entity_id, old, new) of each event that may name an organization
    being erased: those about its own rows (``own``: ids by entity), those whose data
    holds one of its ``org_ids``, and those whose stored JSON holds one of ``texts``
    (its names and addresses, lower case). A first sieve: the caller decides on the
    values themselves."""
    clauses, params = [], []
    for entity, ids in own.items():
        clauses.append("(entity = ? AND entity_id IN (SELECT value FROM json_each(?)))")
        params += [entity, json.dumps(ids)]
    for column in ("old", "new"):
        clauses.append(
            f"CASE WHEN json_valid({column}) THEN json_extract({column}, '$.org_id') END"
            " IN (SELECT value FROM json_each(?))"
        )
        params.append(json.dumps(org_ids))
    # On the stored JSON text, where json.dumps escaped quotes and backslashes.
    for text in texts:
        clauses.append("instr(lower(old), ?) OR instr(lower(new), ?)")
        params += [json.dumps(text, ensure_ascii=False)[1:-1]] * 2
    return db.execute(
        f"SELECT id, entity, entity_id, old, new FROM event WHERE {' OR '.join(clauses)}", params
    ).fetchall()


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


@MIGRATIONS()
def m002_reply_effects(db: Database) -> None:
    """What each reply changed (so ``reply mark`` can undo it) and why it got its class."""
    db.execute("ALTER TABLE reply ADD COLUMN effects TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE reply ADD COLUMN evidence TEXT")


@MIGRATIONS()
def m003_trust(db: Database) -> None:
    """Why a reply was or was not applied (DESIGN §7a), and what a bounce reported."""
    db.execute("ALTER TABLE reply ADD COLUMN verified TEXT")  # what proved the sender
    db.execute("ALTER TABLE reply ADD COLUMN review_reason TEXT")  # why it waits
    db.execute("ALTER TABLE reply ADD COLUMN bounce TEXT")  # {"recipients", "status", "hard"}


@MIGRATIONS()
def m005_erase(db: Database) -> None:
    """Erasure may redact the event log, and only through a record of what it wrote.

    The log stays append-only for everything else: an UPDATE of an event passes the
    trigger only when it changes nothing but ``old`` and ``new``, and only to the
    values an ``event_redaction`` row (itself append-only) holds for that event.
    """
    _run_script(
        db,
        """
        CREATE TABLE event_redaction (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL REFERENCES event(id),
            at TEXT NOT NULL,
            reason TEXT NOT NULL,
            old TEXT,
            new TEXT
        );
        CREATE INDEX event_redaction_event ON event_redaction(event_id);
        CREATE TRIGGER event_redaction_no_update BEFORE UPDATE ON event_redaction
            BEGIN SELECT RAISE(ABORT, 'the record of redactions is append-only'); END;
        CREATE TRIGGER event_redaction_no_delete BEFORE DELETE ON event_redaction
            BEGIN SELECT RAISE(ABORT, 'the record of redactions is append-only'); END;
        DROP TRIGGER event_no_update;
        CREATE TRIGGER event_no_update BEFORE UPDATE ON event
            WHEN NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.command IS NOT OLD.command
                OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
                OR NEW.action IS NOT OLD.action
                OR NOT EXISTS (SELECT 1 FROM event_redaction r WHERE r.event_id = OLD.id
                               AND r.old IS NEW.old AND r.new IS NEW.new)
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        """,
    )


def redact_events(db: Database, changes: Iterable[tuple[int, Any, Any]], *, reason: str) -> int:
    """Replace the ``old`` and ``new`` of events, (id, old, new) each, recording each
    replacement in ``event_redaction`` first (the only way m005's trigger lets an
    event change). Call inside the erasure's transaction; returns how many changed."""
    rows = [(event_id, _json(old), _json(new)) for event_id, old, new in changes]
    at = stamp()
    db.conn.executemany(
        "INSERT INTO event_redaction (event_id, at, reason, old, new) VALUES (?, ?, ?, ?, ?)",
        [(event_id, at, reason, old, new) for event_id, old, new in rows],
    )
    db.conn.executemany(
        "UPDATE event SET old = ?, new = ? WHERE id = ?",
        [(old, new, event_id) for event_id, old, new in rows],
    )
    return len(rows)


@MIGRATIONS()
def m007_campaign_edit(db: Database) -> None:
    """A title set with ``campaign edit`` wins over the statement folder's own."""
    db.execute("ALTER TABLE campaign ADD COLUMN title_edited INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS()
def m004_people(db: Database) -> None:
    """The people of an organization, and the columns of its own that an import kept.

    A contact is the person at one address: a message to that address greets them
    and is written in their language. ``fields`` holds the organization's custom
    columns (website, phone…) as JSON {column: value}.
    """
    _run_script(
        db,
        """
        ALTER TABLE organization ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE contact (
            id INTEGER PRIMARY KEY,
            org_id INTEGER NOT NULL REFERENCES organization(id),
            address_id INTEGER NOT NULL UNIQUE REFERENCES address(id),
            name TEXT NOT NULL,
            role TEXT,
            languages TEXT NOT NULL DEFAULT '[]',  -- JSON list of BCP 47 tags, preferred first
            gender TEXT CHECK (gender IN ('f', 'm')),  -- the form of a salutation, if known
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX contact_org ON contact(org_id);
        """,
    )


@MIGRATIONS()
def m006_sent_folder(db: Database) -> None:
    """Copies of sent messages for the mailbox's Sent folder: 'wanted' from the run
    that sends a message while an IMAP server is set, 'done' once appended there."""
    db.execute(
        "ALTER TABLE message ADD COLUMN sent_copy TEXT CHECK (sent_copy IN ('wanted', 'done'))"
    )
