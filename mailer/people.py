"""The people of an organization, and the columns of its own.

A contact is the person at one of the organization's addresses (name, role,
languages, and the grammatical form their salutation takes): a message to that
address greets them and is written in their language. Custom fields are the
columns an import did not know (website, phone…), kept as the organization's
``fields`` and usable in statements (``{{ org.fields.website }}``) and ``--where``.

The ``contact`` table's SQL lives here (organizations and addresses are
mailer.orgstore's); contacts.py resolves organizations and calls in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from mailer import orgstore
from mailer.addresses import check_text, normalize_email
from mailer.clock import stamp
from mailer.db import log_event
from mailer.lang import normalize_language
from mailer.models import Contact, Org

# How a salutation's grammatical form is written, in files and options.
GENDERS = {"f": "f", "female": "f", "m": "m", "male": "m"}
CONTACT_KEYS = ("email", "name", "role", "languages", "gender")


def field_name(text: str) -> str:
    """A column heading as the name of a custom field: lower case, words joined by
    "_" ("Phone (office)" → "phone_office"), so that a template can say
    ``{{ org.fields.phone_office }}``."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"\W+", "_", text).strip("_")


def clean_fields(raw: Mapping[str, str]) -> dict[str, str]:
    """Custom fields with their names normalised; empty values are left out."""
    fields = {}
    for key, value in raw.items():
        name = field_name(key)
        if not name:
            raise ValueError(f"the custom field {key!r} has no name made of letters or digits")
        text = check_text(value or "", name)
        if text:
            fields[name] = text
    return fields


def clean_contact(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A contact as stored and exported ({email, name, role, languages, gender});
    ValueError naming the first bad part."""
    name = check_text(raw.get("name") or "", "contact_name")
    if not name:
        raise ValueError("a contact needs a name")
    if not (raw.get("email") or "").strip():
        raise ValueError(f"contact {name!r} has no address: give the row an email")
    gender = (raw.get("gender") or "").strip().lower()
    if gender and gender not in GENDERS:
        raise ValueError(f"contact_gender must be f or m, not {raw['gender']!r}")
    return {
        "email": normalize_email(raw["email"], to_send=True),
        "name": name,
        "role": check_text(raw.get("role") or "", "contact_role") or None,
        "languages": list(
            dict.fromkeys(
                normalize_language(check_text(x, "contact_languages"))
                for x in raw.get("languages") or []
            )
        ),
        "gender": GENDERS.get(gender),
    }


# ---------------------------------------------------------------- reading


def contacts_by_org(db: Database, org_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The contacts of these organizations (as :func:`clean_contact` shapes them, with
    the address id), by organization, in the order they were added. Reads ``address``
    too: a contact is the person at an address, and is named by its email."""
    found: dict[int, list[dict[str, Any]]] = {}
    for row in db.query(
        "SELECT c.*, a.email FROM contact c JOIN address a ON a.id = c.address_id"
        " WHERE c.org_id IN (SELECT value FROM json_each(?)) ORDER BY c.id",
        [json.dumps(list(org_ids))],
    ):
        found.setdefault(row["org_id"], []).append(
            {k: row[k] for k in CONTACT_KEYS}
            | {"languages": json.loads(row["languages"]), "address_id": row["address_id"]}
        )
    return found


def org_models(db: Database, rows: Iterable[Mapping[str, Any]]) -> dict[int, Org]:
    """Organization rows as the models rendering needs (custom fields and contacts
    loaded in two queries, whatever the number of rows), by id."""
    rows = list(rows)
    names = orgstore.field_names(db)
    people = contacts_by_org(db, [r["id"] for r in rows])
    return {
        r["id"]: Org.from_row(
            dict(r),
            columns=names,
            contacts={
                c["address_id"]: Contact(c["name"], c["role"], tuple(c["languages"]), c["gender"])
                for c in people.get(r["id"], [])
            },
        )
        for r in rows
    }


# ---------------------------------------------------------------- writing


def save_contacts(db: Database, org_id: int, contacts: Iterable[Mapping[str, Any]]) -> None:
    """Add or update the contacts (by their address, which must be the
    organization's); call inside the change's transaction."""
    now = stamp()
    for c in contacts:
        address = orgstore.find_address(db, c["email"], org_id)
        assert address is not None, "callers save contacts at the organization's own addresses"
        address_id = address[0]
        values = {
            "name": c["name"],
            "role": c.get("role"),
            "languages": json.dumps(list(c.get("languages") or [])),
            "gender": c.get("gender"),
        }
        old = db.execute(
            "SELECT id, name, role, languages, gender FROM contact WHERE address_id = ?",
            [address_id],
        ).fetchone()
        if old is None:
            contact_id = db.execute(
                "INSERT INTO contact (org_id, address_id, name, role, languages, gender,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [org_id, address_id, *values.values(), now, now],
            ).lastrowid
            log_event(db, "contact", contact_id, "create", new=values | {"org_id": org_id})
            continue
        before = dict(zip(values, old[1:], strict=True))
        if before != values:
            db.execute(
                "UPDATE contact SET name = ?, role = ?, languages = ?, gender = ?,"
                " updated_at = ? WHERE id = ?",
                [*values.values(), now, old[0]],
            )
            log_event(db, "contact", old[0], "edit", old=before, new=values)


def delete_contacts(db: Database, address_ids: Iterable[int]) -> int:
    """Remove the contacts at these addresses (the addresses go, or the person left)."""
    ids = json.dumps(list(address_ids))
    rows = db.execute(
        "SELECT id, org_id, name FROM contact WHERE address_id IN (SELECT value FROM json_each(?))",
        [ids],
    ).fetchall()
    db.execute("DELETE FROM contact WHERE address_id IN (SELECT value FROM json_each(?))", [ids])
    for contact_id, org_id, name in rows:
        log_event(db, "contact", contact_id, "delete", old={"name": name, "org_id": org_id})
    return len(rows)


def contact_name(db: Database, address_id: int) -> str | None:
    """The name of the person at this address, if there is one."""
    row = db.execute("SELECT name FROM contact WHERE address_id = ?", [address_id]).fetchone()
    return str(row[0]) if row else None


def move_contacts(db: Database, old_org: int, new_org: int) -> int:
    """The people of ``old_org`` are ``new_org``'s (a merge); how many."""
    return int(
        db.execute("UPDATE contact SET org_id = ? WHERE org_id = ?", [new_org, old_org]).rowcount
    )


def contacts_of(db: Database, org_ids: list[int]) -> list[tuple[int, str]]:
    """(id, name) of the people of these organizations."""
    return db.execute(
        "SELECT id, name FROM contact WHERE org_id IN (SELECT value FROM json_each(?))",
        [json.dumps(org_ids)],
    ).fetchall()


def erase_contacts(db: Database, org_ids: list[int]) -> None:
    """Delete the people of these organizations, unlogged: an erasure logs itself once."""
    db.execute(
        "DELETE FROM contact WHERE org_id IN (SELECT value FROM json_each(?))",
        [json.dumps(org_ids)],
    )
