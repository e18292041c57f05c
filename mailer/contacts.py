"""Organizations and their addresses: add, edit, merge, opt out, resolve, list.

Their people (contacts) and custom fields are cleaned and stored by mailer.people;
here they travel with the organization (add, edit, merge, show).

Every mutation runs in one ``db.atomic()`` block and appends to the event log.
``do_not_contact`` and unsubscribed addresses are only ever set here, never
cleared as a side effect: the sole way back is the explicit ``undo_optout``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from mailer import orgstore, queue, responses
from mailer.addresses import check_text, email_key, normalize_email
from mailer.db import log_event
from mailer.errors import Ambiguous, MailerError, NotFound
from mailer.inbox import store as replies
from mailer.lang import normalize_country, normalize_language
from mailer.models import Org
from mailer.people import (
    clean_contact,
    clean_fields,
    contact_name,
    contacts_by_org,
    delete_contacts,
    field_name,
    move_contacts,
    org_models,
    save_contacts,
)

# An organization's columns in files (import reads them, export writes them in this
# order; import also reads "email"). A custom field cannot take one of these names.
CONTACT_COLUMNS = ("contact_name", "contact_role", "contact_languages", "contact_gender")
FILE_COLUMNS = (
    "name",
    "short_name",
    "country",
    "languages",
    "emails",
    "tags",
    "notes",
    "names",
    "do_not_contact",
    "unsubscribed",
    *CONTACT_COLUMNS,
)
RESERVED_FIELDS = frozenset({*FILE_COLUMNS, "email"})


def _tag(text: str) -> str:
    """A tag: one line, and no ';', which separates tags in CSV files (import, export)."""
    if ";" in text:
        raise ValueError(f"tag {text.strip()!r} contains ';', which separates tags in files")
    return check_text(text, "tags")


@dataclass
class OrgInput:
    """What a user or an import row says about one organization."""

    name: str
    short_name: str | None = None
    country: str | None = None
    languages: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    do_not_contact: bool = False
    unsubscribed: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # custom columns
    contacts: list[dict[str, Any]] = field(default_factory=list)  # people.clean_contact's

    @classmethod
    def from_row(
        cls,
        org: dict[str, Any],
        addresses: Sequence[tuple[str, str]] = (),
        contacts: Sequence[dict[str, Any]] = (),
    ) -> OrgInput:
        """What is stored, as an input: (email, status) pairs give emails and opt-outs."""
        return cls(
            name=org["name"],
            short_name=org["short_name"],
            country=org["country"],
            languages=json.loads(org["languages"]),
            emails=[e for e, _ in addresses],
            tags=json.loads(org["tags"]),
            notes=org["notes"],
            names=json.loads(org["names"]),
            do_not_contact=bool(org["do_not_contact"]),
            unsubscribed=[e for e, status in addresses if status == "unsubscribed"],
            fields=json.loads(org["fields"] or "{}"),
            contacts=[
                {k: c[k] for k in ("email", "name", "role", "languages", "gender")}
                for c in contacts
            ],
        )

    @classmethod
    def parse(cls, **raw: Any) -> OrgInput:
        """:meth:`clean` for a user's input: a bad field is one error naming the organization."""
        try:
            return cls.clean(**raw)
        except ValueError as e:
            raise MailerError(f"organization {raw.get('name')!r}: {e}") from None

    @classmethod
    def clean(cls, **raw: Any) -> OrgInput:
        """Validate and normalise every field; ValueError names the first bad one."""
        name = check_text(raw.get("name") or "", "name")
        if not name:
            raise ValueError("name is missing")
        short = check_text(raw.get("short_name") or "", "short_name") or None
        country_text = check_text(raw.get("country") or "", "country")
        country = normalize_country(country_text) if country_text else None
        langs = _unique(
            normalize_language(check_text(x, "languages")) for x in raw.get("languages") or []
        )
        emails = _unique(normalize_email(x, to_send=True) for x in raw.get("emails") or [])
        tags = _unique(_tag(t) for t in raw.get("tags") or [] if t.strip())
        notes = raw.get("notes")
        if notes is not None:
            notes = check_text(notes.replace("\n", " "), "notes") or None
        names = {
            normalize_language(k): check_text(v, f"name in {k}")
            for k, v in (raw.get("names") or {}).items()
            if v and v.strip()
        }
        unsub = _unique(normalize_email(x) for x in raw.get("unsubscribed") or [])
        for email in unsub:
            if email not in emails:
                emails.append(email)
        fields = clean_fields(raw.get("fields") or {})
        taken = sorted(RESERVED_FIELDS.intersection(fields))
        if taken:
            raise ValueError(f"{taken[0]!r} is a column of its own, not a custom field")
        people = {}
        for raw_contact in raw.get("contacts") or []:
            contact = clean_contact(raw_contact)
            if contact["email"] not in emails:
                raise ValueError(
                    f"contact {contact['name']!r}: {contact['email']} is not one of its addresses"
                )
            people[contact["email"]] = contact  # one person per address: the last one said
        return cls(
            name,
            short,
            country,
            langs,
            emails,
            tags,
            notes,
            names,
            bool(raw.get("do_not_contact")),
            unsub,
            fields,
            list(people.values()),
        )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- reading


def _record(org: dict[str, Any], emails: list[str]) -> dict[str, Any]:
    """The §4a ``org list --json`` shape of one organization row."""
    return {
        "id": org["id"],
        "name": org["name"],
        "short_name": org["short_name"],
        "country": org["country"],
        "languages": json.loads(org["languages"]),
        "tags": json.loads(org["tags"]),
        "emails": emails,
        "do_not_contact": bool(org["do_not_contact"]),
        "fields": json.loads(org["fields"] or "{}"),
    }


def list_orgs(
    db: Database,
    *,
    tag: str | None = None,
    country: str | None = None,
    lang: str | None = None,
) -> list[dict[str, Any]]:
    """Organizations (not merged away), filtered, in name order."""
    try:
        country = normalize_country(country) if country else None
        lang = normalize_language(lang) if lang else None
    except ValueError as e:
        raise MailerError(str(e)) from None
    emails: dict[int, list[str]] = {}
    for org_id, email, _ in orgstore.all_addresses(db):
        emails.setdefault(org_id, []).append(email)
    return [
        _record(o, emails.get(o["id"], []))
        for o in orgstore.list_orgs(db, tag=tag, country=country, lang=lang)
    ]


def orgs_by_id(db: Database, ids: Iterable[int]) -> dict[int, Org]:
    """The organizations with these ids, as messages are rendered for them."""
    rows = orgstore.org_rows(db, ids)
    return org_models(db, rows) if rows else {}


def show_org(db: Database, ref: str) -> dict[str, Any]:
    """One organization with addresses, responses and the recent history."""
    org = resolve_org(db, ref)
    addresses = orgstore.org_details(db, org["id"])
    record = _record(org, [a["email"] for a in addresses])
    record |= {"names": json.loads(org["names"]), "notes": org["notes"], "addresses": addresses}
    record["contacts"] = [
        {k: v for k, v in c.items() if k != "address_id"}
        for c in contacts_by_org(db, [org["id"]]).get(org["id"], [])
    ]
    record["responses"] = responses.of_org(db, org["id"])
    record["merged"] = [r["name"] for r in orgstore.merged_into(db, org["id"])]
    return record


_ID = re.compile(r"[0-9]{1,18}")


def resolve_org(db: Database, ref: str) -> dict[str, Any]:
    """Find one organization by id, exact name, short name or email address.

    A merged-away organization resolves to the one it was merged into.
    """
    ref = ref.strip()
    found: list[dict[str, Any]] = []
    if _ID.fullmatch(ref):  # not isdigit(): that takes "²" and "٣", and numbers past SQLite's
        found = orgstore.find_by_id(db, int(ref))
    if not found and "@" in ref:
        found = orgstore.find_by_email(db, email_key(ref))
    for column in ("name", "short_name"):
        if not found:
            found = orgstore.find_by_name(db, column, ref)
    found = _follow_merges(db, found)
    if not found:
        raise NotFound(
            f"no organization matches {ref!r}",
            hint="Use an id, the exact name, the short name or an email; `mailer org list` shows them.",
        )
    if len(found) > 1:
        listed = "; ".join(f"{o['id']}: {o['name']} ({o['country'] or '??'})" for o in found)
        raise Ambiguous(
            f"{ref!r} matches {len(found)} organizations: {listed}",
            hint="Name one of them by its id.",
        )
    return found[0]


def kept_id(orgs: dict[int, dict[str, Any]], org_id: int) -> int:
    """The organization an id stands for after merges (``orgs``: every organization by id)."""
    seen = set()
    while orgs[org_id]["merged_into"] is not None and org_id not in seen:
        seen.add(org_id)
        org_id = orgs[org_id]["merged_into"]
    return org_id


def _follow_merges(db: Database, orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The organizations these rows stand for, each once (merged ones → the kept one)."""
    if not any(o["merged_into"] is not None for o in orgs):
        return orgs
    rows = orgstore.all_orgs(db)
    kept = {kept_id(rows, o["id"]) for o in orgs}
    return [rows[i] for i in sorted(kept)]


# ---------------------------------------------------------------- writing


def add_org(db: Database, data: OrgInput) -> int:
    """Create an organization with its addresses; an email already known is an error."""
    with db.atomic():
        for email in data.emails:
            _refuse_taken(db, email, None)
        return create_org(db, data)


def _refuse_taken(db: Database, email: str, org_id: int | None) -> bool:
    """An address belongs to one organization: name the one that has it. True when
    ``org_id`` has it already."""
    owner = orgstore.address_owner(db, email)
    if owner and owner[0] != org_id:
        raise MailerError(f"{email} already belongs to {owner[1]!r} (id {owner[0]})")
    return owner is not None


def create_org(db: Database, data: OrgInput) -> int:
    """Insert without checks (callers validated); used by add and import."""
    org_id = orgstore.insert_org(
        db,
        {
            "name": data.name,
            "short_name": data.short_name,
            "country": data.country,
            "languages": json.dumps(data.languages),
            "tags": json.dumps(data.tags, ensure_ascii=False),
            "notes": data.notes,
            "names": json.dumps(data.names, ensure_ascii=False),
            "do_not_contact": int(data.do_not_contact),
            "fields": json.dumps(data.fields, ensure_ascii=False),
        },
    )
    for email in data.emails:
        add_address(db, org_id, email, unsubscribed=email in data.unsubscribed)
    save_contacts(db, org_id, data.contacts)
    log_event(db, "organization", org_id, "create", new=_public(data))
    return org_id


def add_address(db: Database, org_id: int, email: str, *, unsubscribed: bool = False) -> None:
    status = "unsubscribed" if unsubscribed else "active"
    address_id = orgstore.insert_address(db, org_id, email, status)
    log_event(
        db,
        "address",
        address_id,
        "create",
        new={"email": email, "org_id": org_id, "status": status},
    )


def _public(data: OrgInput) -> dict[str, Any]:
    return {k: v for k, v in data.__dict__.items() if v not in (None, [], {}, False)}


EDITABLE = ("name", "short_name", "country", "languages", "notes")


def edit_org(
    db: Database,
    ref: str,
    *,
    changes: dict[str, Any],
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    add_emails: Iterable[str] = (),
    remove_emails: Iterable[str] = (),
    names: dict[str, str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Change fields of one organization; returns {field: (old, new)} of what changed.

    ``fields`` sets custom fields; an empty value removes one.
    """
    org = resolve_org(db, ref)
    current = OrgInput.from_row(org)
    merged = {**current.__dict__, **{k: v for k, v in changes.items() if v is not None}}
    merged["tags"] = _unique([*current.tags, *add_tags])
    merged["tags"] = [t for t in merged["tags"] if t not in set(remove_tags)]
    merged["names"] = {**current.names, **(names or {})}
    merged["fields"] = {**current.fields, **{field_name(k): v for k, v in (fields or {}).items()}}
    new = OrgInput.parse(**{**merged, "emails": add_emails})  # validates the new addresses too
    new_emails = new.emails
    diff = {
        k: (getattr(current, k), getattr(new, k))
        for k in (*EDITABLE, "tags", "names", "fields")
        if getattr(current, k) != getattr(new, k)
    }
    with db.atomic():
        if diff:
            orgstore.update_org(
                db,
                org["id"],
                {
                    k: json.dumps(new_v, ensure_ascii=False)
                    if isinstance(new_v, list | dict)
                    else new_v
                    for k, (_, new_v) in diff.items()
                },
            )
            log_event(
                db,
                "organization",
                org["id"],
                "edit",
                old={k: o for k, (o, _) in diff.items()},
                new={k: n for k, (_, n) in diff.items()},
            )
        for email in new_emails:
            if not _refuse_taken(db, email, org["id"]):
                add_address(db, org["id"], email)
                diff.setdefault("emails added", ([], []))[1].append(email)
        for email in remove_emails:
            email = email_key(email)
            row = orgstore.find_address(db, email, org["id"])
            if not row:
                raise NotFound(f"{email} is not an address of {org['name']!r}")
            if row[1] == "unsubscribed":
                raise MailerError(
                    f"{email} unsubscribed and is kept so that it is never contacted again"
                )
            if queue.address_used(db, row[0]):
                raise MailerError(
                    f"{email} has messages on record and cannot be removed; "
                    "it stays as history (opt it out with `mailer org optout` to stop mail)"
                )
            delete_contacts(db, [row[0]])
            orgstore.delete_addresses(db, [row[0]])
            log_event(db, "address", row[0], "delete", old={"email": email, "org_id": org["id"]})
            diff.setdefault("emails removed", ([], []))[1].append(email)
    return diff


def merge_orgs(db: Database, keep_ref: str, other_ref: str) -> dict[str, Any]:
    """Fold OTHER into KEEP: addresses, messages, replies, responses, tags, names.

    OTHER stays as a row pointing at KEEP so its name still resolves and the
    history still reads. Opt-outs are unioned, never lost.
    """
    keep = resolve_org(db, keep_ref)
    other = resolve_org(db, other_ref)
    if keep["id"] == other["id"]:
        raise MailerError(f"{keep_ref!r} and {other_ref!r} are the same organization")
    moved: dict[str, int] = {}
    with db.atomic():
        for table, move in (
            ("address", orgstore.move_addresses),
            ("contact", move_contacts),
            ("message", queue.move_messages),
            ("reply", replies.move_replies),
            ("response", responses.move_answers),  # KEEP's own answer wins
        ):
            moved[table] = move(db, other["id"], keep["id"])
        union = {
            "tags": json.dumps(
                _unique([*json.loads(keep["tags"]), *json.loads(other["tags"])]), ensure_ascii=False
            ),
            "languages": json.dumps(
                _unique([*json.loads(keep["languages"]), *json.loads(other["languages"])])
            ),
            "names": json.dumps(
                {**json.loads(other["names"]), **json.loads(keep["names"])}, ensure_ascii=False
            ),
            "fields": json.dumps(
                {**json.loads(other["fields"]), **json.loads(keep["fields"])}, ensure_ascii=False
            ),
            "do_not_contact": keep["do_not_contact"] or other["do_not_contact"],
            "short_name": keep["short_name"] or other["short_name"],
            "country": keep["country"] or other["country"],
        }
        orgstore.update_org(db, keep["id"], union)
        orgstore.update_org(db, other["id"], {"merged_into": keep["id"]})
        orgstore.repoint_merged(db, other["id"], keep["id"])
        log_event(
            db,
            "organization",
            other["id"],
            "merge",
            old={"name": other["name"]},
            new={"merged_into": keep["id"], "moved": moved},
        )
    return {"kept": keep["name"], "merged": other["name"], "moved": moved}


def optout(db: Database, ref: str) -> str:
    """Opt out an organization (``do_not_contact``) or, for an email, one address."""
    return _set_optout(db, ref, opted_out=True)


def undo_optout(db: Database, ref: str) -> str:
    """The one explicit way to contact an opted-out organization or address again."""
    return _set_optout(db, ref, opted_out=False)


def _set_address_optout(
    db: Database, email: str, address_id: int, status: str, *, opted_out: bool
) -> str:
    """Unsubscribe one address, or undo that. Undo only reverses an unsubscribe:
    a bounced or invalid address stays so, and the message says which."""
    if opted_out:
        new, changes = "unsubscribed", status != "unsubscribed"
    elif status == "unsubscribed":
        new, changes = "active", True
    elif status == "active":
        return f"{email} was not opted out; nothing changed"
    else:
        return f"{email} is {status}, not opted out, so it stays unmailed; nothing changed"
    if changes:
        with db.atomic():
            orgstore.set_address(db, address_id, "status", new)
            action = "optout" if opted_out else "optin"
            log_event(
                db, "address", address_id, action, old={"status": status}, new={"status": new}
            )
    if opted_out:
        return f"{email} is unsubscribed and will not be mailed again."
    return f"{email} may be mailed again."


def _set_optout(db: Database, ref: str, *, opted_out: bool) -> str:
    ref = ref.strip()
    action = "optout" if opted_out else "optin"
    if "@" in ref:
        email = email_key(ref)
        row = orgstore.find_address(db, email)
        if row:
            return _set_address_optout(db, email, row[0], row[1], opted_out=opted_out)
    org = resolve_org(db, ref)
    with db.atomic():
        if bool(org["do_not_contact"]) != opted_out:
            orgstore.update_org(db, org["id"], {"do_not_contact": int(opted_out)})
            log_event(
                db,
                "organization",
                org["id"],
                action,
                old={"do_not_contact": not opted_out},
                new={"do_not_contact": opted_out},
            )
    if opted_out:
        return f"{org['name']} is marked do-not-contact and will not be mailed again."
    return f"{org['name']} may be mailed again."


def set_contact(db: Database, ref: str, email: str, **contact: Any) -> dict[str, Any]:
    """Add or change the person at one of the organization's addresses (name, role,
    languages, gender); what is not given stays as it was. Returns the contact."""
    org = resolve_org(db, ref)
    key = email_key(email)
    stored = {
        c["email"]: c
        for c in OrgInput.from_row(
            org, contacts=contacts_by_org(db, [org["id"]]).get(org["id"], [])
        ).contacts
    }
    if not orgstore.find_address(db, key, org["id"]):
        raise NotFound(
            f"{key} is not an address of {org['name']!r}",
            hint=f"Add it first: mailer org edit {org['id']} --add-email {key}",
        )
    given = {k: v for k, v in contact.items() if v is not None}
    try:
        cleaned = clean_contact({**stored.get(key, {}), **given, "email": key})
    except ValueError as e:
        raise MailerError(f"{org['name']}: {e}") from None
    with db.atomic():
        save_contacts(db, org["id"], [cleaned])
    return cleaned


def remove_contact(db: Database, ref: str, email: str) -> str:
    """The person at this address is no longer there (the address stays)."""
    org = resolve_org(db, ref)
    address = orgstore.find_address(db, email_key(email), org["id"])
    name = contact_name(db, address[0]) if address else None
    if address is None or name is None:
        raise NotFound(f"{org['name']!r} has no contact at {email_key(email)}")
    with db.atomic():
        delete_contacts(db, [address[0]])
    return name
