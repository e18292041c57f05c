"""The ``organization`` and ``address`` tables: all of their SQL, and nothing else.

mailer.contacts decides (validation, resolution, merges, opt-outs) and calls these;
so does every other module that reads or changes an organization or an address.
Rows come back as dicts (organizations, addresses) or as plain tuples where
thousands are read at once (a send's audience, an import). Writers run inside
the caller's transaction and leave the event log to the caller.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from mailer.clock import stamp

# sqlite-utils wraps each query in a savepoint, which changes nothing by itself.
_READ_ONLY = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_SAVEPOINT,
    sqlite3.SQLITE_RECURSIVE,
}


# ---------------------------------------------------------------- organizations


def all_orgs(db: Database) -> dict[int, dict[str, Any]]:
    """Every organization row, merged-away ones too, by id (to follow merges)."""
    return {r["id"]: r for r in db.query("SELECT * FROM organization")}


def kept_orgs(db: Database) -> list[dict[str, Any]]:
    """The organizations not merged away, in id order."""
    return list(db.query("SELECT * FROM organization WHERE merged_into IS NULL"))


def org_rows(db: Database, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The organization rows with these ids."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    return list(db.query(f"SELECT * FROM organization WHERE id IN ({marks})", wanted))


def org_names(db: Database) -> list[dict[str, Any]]:
    """id, name, short_name and languages (JSON) of every organization: what matching
    and classifying replies look up."""
    return list(db.query("SELECT id, name, short_name, languages FROM organization"))


def list_orgs(
    db: Database,
    *,
    tag: str | None = None,
    country: str | None = None,
    lang: str | None = None,
) -> list[dict[str, Any]]:
    """Organizations not merged away, with this tag, country code and language (each
    when given, already normalised), in name order."""
    where = ["merged_into IS NULL"]
    params: list[Any] = []
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(organization.tags) WHERE value = ?)")
        params.append(tag)
    if country:
        where.append("country = ?")
        params.append(country)
    if lang:
        where.append("EXISTS (SELECT 1 FROM json_each(organization.languages) WHERE value = ?)")
        params.append(lang)
    sql = f"SELECT * FROM organization WHERE {' AND '.join(where)} ORDER BY name COLLATE NOCASE, id"
    return list(db.query(sql, params))


def find_by_id(db: Database, org_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM organization WHERE id = ?", [org_id]))


def find_by_email(db: Database, email: str) -> list[dict[str, Any]]:
    """The organization that has this address (``email`` as stored: lower case)."""
    return list(
        db.query(
            "SELECT o.* FROM organization o JOIN address a ON a.org_id = o.id WHERE a.email = ?",
            [email],
        )
    )


def find_by_name(db: Database, column: str, text: str) -> list[dict[str, Any]]:
    """Organizations whose ``name`` or ``short_name`` is ``text``, any case, in id order."""
    if column not in ("name", "short_name"):
        raise ValueError(f"not a name column: {column!r}")
    return list(
        db.query(
            f"SELECT * FROM organization WHERE {column} = ? COLLATE NOCASE ORDER BY id", [text]
        )
    )


def merged_into(db: Database, org_id: int) -> list[dict[str, Any]]:
    """id and name of the organizations merged into this one (directly)."""
    return list(db.query("SELECT id, name FROM organization WHERE merged_into = ?", [org_id]))


def do_not_contact(db: Database, org_id: int) -> bool:
    (flag,) = db.execute(
        "SELECT do_not_contact FROM organization WHERE id = ?", [org_id]
    ).fetchone()
    return bool(flag)


def field_names(db: Database) -> list[str]:
    """Every custom field (column of its own) any organization has, sorted."""
    return [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT j.key FROM organization, json_each(organization.fields) AS j"
            " ORDER BY j.key"
        )
    ]


def select_orgs(
    db: Database,
    *,
    tags: list[str],
    countries: list[str],
    include_opted_out: bool,
) -> list[dict[str, Any]]:
    """Organizations not merged away (nor opted out, unless asked), with any of the
    tags and in any of the countries (each when given), by id: the start of an audience."""
    clauses, params = ["merged_into IS NULL"], []
    if not include_opted_out:
        clauses.append("do_not_contact = 0")
    if tags:
        marks = ", ".join("?" * len(tags))
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(organization.tags) WHERE value IN ({marks}))"
        )
        params += tags
    if countries:
        clauses.append(f"country IN ({', '.join('?' * len(countries))})")
        params += countries
    sql = f"SELECT * FROM organization WHERE {' AND '.join(clauses)} ORDER BY id"
    return list(db.query(sql, params))


@contextmanager
def _read_only(db: Database) -> Iterator[None]:
    def authorize(action: int, table: str | None, *_: Any) -> int:
        # SQLite reports reading its own schema as an update of sqlite_master.
        schema = action == sqlite3.SQLITE_UPDATE and table == "sqlite_master"
        return sqlite3.SQLITE_OK if action in _READ_ONLY or schema else sqlite3.SQLITE_DENY

    db.conn.set_authorizer(authorize)
    try:
        yield
    finally:
        db.conn.set_authorizer(None)


def ids_where(db: Database, condition: str) -> set[int]:
    """Ids of the organizations a user's SQL condition chooses, each custom field
    being a column too (``website LIKE '%.gr/%'``; one named like a column of the
    table, such as a spreadsheet's own "id", stays ``fields ->> 'id'``).

    The condition runs in a query of its own, under an authorizer that allows
    reading only: one that closes its parenthesis early can widen only this query,
    never skip the opt-out rules, and can change nothing. SQLite's errors are raised
    as they are, for the caller to explain."""
    own = {row[1] for row in db.execute("PRAGMA table_info(organization)")}
    custom = "".join(
        f', json_extract(fields, \'$."{c}"\') AS "{c}"' for c in field_names(db) if c not in own
    )
    with _read_only(db):
        rows = db.execute(
            f"SELECT id FROM (SELECT *{custom} FROM organization) AS organization"
            f" WHERE (\n{condition}\n)"
        ).fetchall()
    return {row[0] for row in rows}


def insert_org(db: Database, values: Mapping[str, Any]) -> int:
    """A new organization row (``values`` as stored: lists and dicts as JSON)."""
    # A plain INSERT: sqlite-utils' insert() introspects the table on each call,
    # which dominated a 5,000-row import.
    now = stamp()
    columns = [*values, "created_at", "updated_at"]
    org_id = db.execute(
        f"INSERT INTO organization ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [*values.values(), now, now],
    ).lastrowid
    assert isinstance(org_id, int)
    return org_id


def update_org(db: Database, org_id: int, values: Mapping[str, Any]) -> None:
    """Set columns of one organization (``values`` as stored), and its updated_at."""
    db.table("organization").update(org_id, {**values, "updated_at": stamp()})


def repoint_merged(db: Database, old: int, new: int) -> None:
    """Organizations merged into ``old`` now point at ``new`` (``old`` was merged into it)."""
    db.execute("UPDATE organization SET merged_into = ? WHERE merged_into = ?", [new, old])


def delete_org(db: Database, org_id: int) -> str:
    """Delete one organization row (nothing may point at it any more); returns its name."""
    (name,) = db.execute("SELECT name FROM organization WHERE id = ?", [org_id]).fetchone()
    db.execute("DELETE FROM organization WHERE id = ?", [org_id])
    return str(name)


def erase_orgs(db: Database, org_ids: list[int]) -> None:
    """Delete these organizations, merged ones and the one they were merged into alike."""
    within = json.dumps(org_ids)
    db.execute(
        "UPDATE organization SET merged_into = NULL WHERE id IN (SELECT value FROM json_each(?))",
        [within],
    )
    db.execute("DELETE FROM organization WHERE id IN (SELECT value FROM json_each(?))", [within])


def identity(db: Database, org_id: int) -> list[str]:
    """The names an organization is known by: name, short name, its names in languages."""
    name, short, others = db.execute(
        "SELECT name, short_name, names FROM organization WHERE id = ?", [org_id]
    ).fetchone()
    return [name, short or "", *json.loads(others or "{}").values()]


# ---------------------------------------------------------------- addresses


def all_addresses(db: Database) -> list[tuple[int, str, str]]:
    """(org_id, email, status) of every address, in the order they were added."""
    return db.execute("SELECT org_id, email, status FROM address ORDER BY id").fetchall()


def active_addresses(db: Database) -> list[tuple[int, int, str]]:
    """(id, org_id, email) of every address that takes mail, in id order."""
    return db.execute(
        "SELECT id, org_id, email FROM address WHERE status = 'active' ORDER BY id"
    ).fetchall()


def address_index(db: Database) -> list[tuple[int, str, int]]:
    """(id, email, org_id) of every address: who a reply comes from."""
    return db.execute("SELECT id, email, org_id FROM address").fetchall()


def addresses_of(db: Database, org_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every address row of these organizations, any status, by organization, in id order."""
    found: dict[int, list[dict[str, Any]]] = {org_id: [] for org_id in org_ids}
    rows = db.query(
        "SELECT * FROM address WHERE org_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps(org_ids)],
    )
    for row in rows:
        found[row["org_id"]].append(row)
    return found


def address_owner(db: Database, email: str) -> tuple[int, str] | None:
    """(id, name) of the organization that has this address, if one has."""
    row = db.execute(
        "SELECT o.id, o.name FROM address a JOIN organization o ON o.id = a.org_id"
        " WHERE a.email = ?",
        [email],
    ).fetchone()
    return (row[0], row[1]) if row else None


def find_address(
    db: Database, email: str, org_id: int | None = None
) -> tuple[int, str, int] | None:
    """(id, status, soft_bounces) of the address (of that organization, when given)."""
    sql = "SELECT id, status, soft_bounces FROM address WHERE email = ?"
    params: list[Any] = [email]
    if org_id is not None:
        sql += " AND org_id = ?"
        params.append(org_id)
    row = db.execute(sql, params).fetchone()
    return (row[0], row[1], row[2]) if row else None


def address_ids(db: Database, org_id: int, emails: list[str]) -> list[int]:
    """The ids of those of the organization's addresses that are among ``emails``."""
    marks = ",".join("?" * len(emails))
    return [
        r[0]
        for r in db.execute(
            f"SELECT id FROM address WHERE org_id = ? AND email IN ({marks})", [org_id, *emails]
        )
    ]


def address_state(db: Database, address_id: int) -> dict[str, Any] | None:
    """status and soft_bounces of an address; None when it is gone."""
    rows = list(db.query("SELECT status, soft_bounces FROM address WHERE id = ?", [address_id]))
    return rows[0] if rows else None


def insert_address(db: Database, org_id: int, email: str, status: str) -> int:
    now = stamp()
    address_id = db.execute(
        "INSERT INTO address (email, org_id, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [email, org_id, status, now, now],
    ).lastrowid
    assert isinstance(address_id, int)
    return address_id


def set_address(
    db: Database, address_id: int, column: str, value: Any, *, at: str | None = None
) -> None:
    """Set the status or soft_bounces of one address."""
    if column not in ("status", "soft_bounces"):
        raise ValueError(f"not an address column: {column!r}")
    db.execute(
        f"UPDATE address SET {column} = ?, updated_at = ? WHERE id = ?",
        [value, at or stamp(), address_id],
    )


def unsubscribe_email(db: Database, email: str) -> None:
    """The address (lower case, as stored) is unsubscribed."""
    db.execute(
        "UPDATE address SET status = 'unsubscribed', updated_at = ? WHERE email = ?",
        [stamp(), email],
    )


def move_addresses(db: Database, old_org: int, new_org: int) -> int:
    """Every address of ``old_org`` now belongs to ``new_org`` (a merge); how many."""
    return db.execute("UPDATE address SET org_id = ? WHERE org_id = ?", [new_org, old_org]).rowcount


def delete_addresses(db: Database, address_ids: list[int]) -> None:
    db.execute(
        "DELETE FROM address WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(address_ids)],
    )


def ids_and_emails(db: Database, org_ids: list[int]) -> list[tuple[int, str, str]]:
    """(id, email, status) of every address of these organizations, in id order."""
    return db.execute(
        "SELECT id, email, status FROM address WHERE org_id IN (SELECT value FROM json_each(?))"
        " ORDER BY id",
        [json.dumps(org_ids)],
    ).fetchall()


def org_details(db: Database, org_id: int) -> list[dict[str, Any]]:
    """email, status, role and soft_bounces of each address of one organization."""
    return list(
        db.query(
            "SELECT email, status, role, soft_bounces FROM address WHERE org_id = ? ORDER BY id",
            [org_id],
        )
    )
