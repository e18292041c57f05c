"""Import and export of organizations (CSV, TSV, vCard; CSV and JSON out).

Import is two passes: every row is validated and matched first, producing a
plan; only a plan with no problems (or ``skip_invalid``) is written, in one
transaction. Re-importing a file changes nothing, and an import can set
``do_not_contact`` or unsubscribe an address but never clear either.

A column that is not one of ours is kept as a custom field of each organization
(reported, not refused), unless it is a near miss of one of ours ("emial"). The
``contact_*`` columns describe the person at the row's first address. Export
writes one row per organization, with the contact of its first address, and one
more row per other contact (name, country, that address and the contact's cells),
so that importing the export gives back the same database.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer import orgstore
from mailer.addresses import CONTROL
from mailer.contacts import (
    CONTACT_COLUMNS,
    FILE_COLUMNS,
    OrgInput,
    _unique,
    add_address,
    create_org,
)
from mailer.db import log_event
from mailer.errors import MailerError, Problem, ValidationError
from mailer.files import numbered_lines, read_text_file
from mailer.lang import split_list
from mailer.people import CONTACT_KEYS, contacts_by_org, field_name, save_contacts

COLUMNS = {*FILE_COLUMNS, "email"}
FIELD = "fields."  # the cells of custom columns are keyed "fields.<name>"
# How the cells that hold lists are separated (a tag may contain a comma).
LIST_SEPS = {
    "languages": ";,",
    "emails": ";,",
    "tags": ";",
    "unsubscribed": ";,",
    "contact_languages": ";,",
}
# A cell a spreadsheet would run as a formula is exported behind a quote; the
# quote is removed again on import (one level only, so the round trip is exact).
FORMULA = re.compile(r"^'*[=+\-@\t\r]")


@dataclass
class Row:
    line: int
    cells: dict[str, str]


@dataclass
class Change:
    line: int
    action: str  # "create" | "update"
    name: str
    fields: dict[str, Any]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    custom_columns: list[str] = field(default_factory=list)  # kept as custom fields


# ---------------------------------------------------------------- reading files


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV, TSV or vCard file, each with the line it starts on."""
    text = read_text_file(path)
    suffix = path.suffix.lower()
    if suffix in (".vcf", ".vcard") or text.lstrip().upper().startswith("BEGIN:VCARD"):
        rows = list(_vcard_rows(text, path))
        if not rows:
            raise MailerError(f"{path}: no vCard in the file (BEGIN:VCARD … END:VCARD)")
        return rows
    delimiter = "\t" if suffix in (".tsv", ".tab") else _sniff(text)
    return _table_rows(text, delimiter, path)


def _sniff(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max([",", "\t", ";"], key=header.count)


def _table_rows(text: str, delimiter: str, path: Path) -> list[Row]:
    # Lines end at LF only, so a stray CR inside a cell does not shift the line
    # numbers that errors report from what an editor shows.
    reader = csv.reader(io.StringIO(text, newline="\n"), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise MailerError(f"{path}:1: the header row cannot be read ({e})") from None
    if not header or not any(h.strip() for h in header):
        raise MailerError(f"{path}: the file is empty; the first row must name the columns")
    names = [_column(h, path) for h in header]
    if "name" not in names:
        raise MailerError(f"{path}:1: there is no 'name' column")
    twice = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if twice:
        raise MailerError(f"{path}:1: the column {twice!r} appears twice")
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise MailerError(f"{path}:{start}: the row cannot be read as CSV ({e})") from None
        if any(c.strip() for c in cells):
            if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                rows.append(Row(start, {"__extra__": "x"}))
            else:
                rows.append(Row(start, {n: c for n, c in zip(names, cells, strict=False) if n}))
        start = reader.line_num + 1
    return rows


def _column(heading: str, path: Path) -> str:
    """The key of a column's cells: one of ours, or ``fields.<name>`` for any other
    (a custom field), except a near miss of ours, which is surely a slip."""
    name = heading.strip().lower().replace(" ", "_").replace("-", "_")
    if not name or name in COLUMNS:
        return name
    close = difflib.get_close_matches(name, sorted(COLUMNS), n=1, cutoff=0.8)
    if close:
        raise MailerError(
            f"{path}:1: unknown column {heading!r}; did you mean {close[0]!r}?",
            hint="Other columns are kept as custom fields; rename this one if it is one.",
        )
    custom = field_name(heading)
    if not custom:
        raise MailerError(f"{path}:1: the column {heading!r} needs a name of letters or digits")
    return FIELD + custom


def _vcard_rows(text: str, path: Path) -> Iterator[Row]:
    """A small vCard 3/4 reader: FN/ORG, NICKNAME, EMAIL, ADR country, LANG, CATEGORIES, NOTE.

    A card left open, and vCard 2.1's quoted-printable values, are refused with
    their line rather than imported wrong or dropped. Values are kept escaped
    until :func:`_vcard_cells` splits them into their fields."""
    lines: list[tuple[int, str]] = []
    for number, raw in numbered_lines(text):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        else:
            lines.append((number, raw))
    card: dict[str, list[str]] | None = None
    start = 0
    for number, line in lines:
        found = _CONTENT_LINE.match(line)  # None for an unbalanced quote: the first colon
        key, _, value = (found.group(1), ":", found.group(2)) if found else line.partition(":")
        prop = key.split(";")[0].split(".")[-1].upper()
        if prop == "BEGIN":
            if card is not None:
                raise MailerError(f"{path}:{start}: this card is not closed with END:VCARD")
            card, start = {}, number
        elif prop == "END" and card is not None:
            yield Row(start, _vcard_cells(card))
            card = None
        elif card is not None:
            if "QUOTED-PRINTABLE" in key.upper():
                raise MailerError(
                    f"{path}:{number}: quoted-printable values (vCard 2.1) are not read;"
                    " export the contacts as vCard 3 or 4"
                )
            card.setdefault(prop, []).append(value)
    if card is not None:
        raise MailerError(f"{path}:{start}: this card is not closed with END:VCARD")


# NAME;PARAM="a:b":value — the first colon outside a quoted parameter value ends the name.
_CONTENT_LINE = re.compile(r'((?:[^:"]|"[^"]*")*):(.*)', re.DOTALL)
# vCard escapes (RFC 6350 3.4): \\ \, \; and \n; a line break becomes a space, since
# a name or a note is one line. Any other escaped character stands for itself.
_UNESCAPED = {"n": " ", "N": " "}


def _fields(value: str, separator: str | None = None) -> list[str]:
    """``value`` split at each ``separator`` that is not escaped, then unescaped.

    Splitting first is what keeps ``ORG:Workers\\; Peasants Party;Intl Dept`` one
    organization, "Workers; Peasants Party", and its department apart."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            current.append(_UNESCAPED.get(escaped, escaped))
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _vcard_cells(card: dict[str, list[str]]) -> dict[str, str]:
    def first(prop: str, separator: str | None = None, index: int = 0) -> str:
        values = card.get(prop)
        fields = _fields(values[0], separator) if values else []
        return fields[index] if len(fields) > index else ""

    def every(prop: str, separator: str | None = None) -> list[str]:
        return [f for value in card.get(prop, []) for f in _fields(value, separator)]

    return {
        "name": first("ORG", ";") or first("FN"),
        "short_name": first("NICKNAME", ","),
        "country": first("ADR", ";", 6),
        "emails": ";".join(every("EMAIL")),
        "languages": ";".join(every("LANG")),
        "tags": ";".join(every("CATEGORIES", ",")),
        "notes": " ".join(every("NOTE")),
    }


def _unquote(cell: str) -> str:
    return cell[1:] if FORMULA.match(cell) and cell.startswith("'") else cell


def row_to_input(cells: dict[str, str]) -> OrgInput:
    """Turn one row's cells into a validated OrgInput (ValueError on a problem)."""
    if "__extra__" in cells:
        raise ValueError("the row has more cells than the header has columns")
    cells = {k: _unquote(v) for k, v in cells.items()}
    for column, value in cells.items():
        if CONTROL.search(value):
            raise ValueError(f"{column} contains a control character (such as a line break)")
    emails = split_list(cells.get("email"), LIST_SEPS["emails"]) + split_list(
        cells.get("emails"), LIST_SEPS["emails"]
    )
    names: dict[str, str] = {}
    if cells.get("names", "").strip():
        try:
            names = json.loads(cells["names"])
        except json.JSONDecodeError:
            raise ValueError('names must be JSON such as {"sr-Cyrl": "…"}') from None
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise ValueError('names must be JSON such as {"sr-Cyrl": "…"}')
    flag = cells.get("do_not_contact", "").strip().lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"do_not_contact must be true or false, not {cells['do_not_contact']!r}")
    contacts = []
    if any(cells.get(c, "").strip() for c in CONTACT_COLUMNS):
        contacts.append(
            {
                "email": emails[0] if emails else "",
                "name": cells.get("contact_name"),
                "role": cells.get("contact_role"),
                "languages": split_list(
                    cells.get("contact_languages"), LIST_SEPS["contact_languages"]
                ),
                "gender": cells.get("contact_gender"),
            }
        )
    return OrgInput.clean(
        name=cells.get("name"),
        short_name=cells.get("short_name"),
        country=cells.get("country"),
        languages=split_list(cells.get("languages"), LIST_SEPS["languages"]),
        emails=emails,
        tags=split_list(cells.get("tags"), LIST_SEPS["tags"]),
        notes=cells.get("notes"),
        names=names,
        do_not_contact=flag in ("1", "true", "yes"),
        unsubscribed=split_list(cells.get("unsubscribed"), LIST_SEPS["unsubscribed"]),
        fields={k.removeprefix(FIELD): v for k, v in cells.items() if k.startswith(FIELD)},
        contacts=contacts,
    )


# ---------------------------------------------------------------- planning


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class _Target:
    line: int
    org_id: int | None
    stored: OrgInput | None
    state: OrgInput


def _stored_inputs(db: Database) -> dict[int, OrgInput]:
    addresses: dict[int, list[tuple[str, str]]] = {}
    for org_id, email, status in orgstore.all_addresses(db):
        addresses.setdefault(org_id, []).append((email, status))
    orgs = orgstore.kept_orgs(db)
    people = contacts_by_org(db, [o["id"] for o in orgs])
    return {
        o["id"]: OrgInput.from_row(o, addresses.get(o["id"], []), people.get(o["id"], []))
        for o in orgs
    }


def _apply(state: OrgInput, row: OrgInput) -> OrgInput:
    """What the organization looks like after a row: filled fields win, lists grow."""
    return OrgInput(
        name=row.name,
        short_name=row.short_name or state.short_name,
        country=row.country or state.country,
        languages=row.languages or state.languages,
        emails=_unique([*state.emails, *row.emails]),
        tags=_unique([*state.tags, *row.tags]),
        notes=row.notes or state.notes,
        names={**state.names, **row.names},
        do_not_contact=state.do_not_contact or row.do_not_contact,
        unsubscribed=_unique([*state.unsubscribed, *row.unsubscribed]),
        fields={**state.fields, **row.fields},
        contacts=_merge_contacts(state.contacts, row.contacts),
    )


def _merge_contacts(
    stored: list[dict[str, Any]], given: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Contacts by address: a row's filled cells win over what was known."""
    merged = {c["email"]: c for c in stored}
    for c in given:
        filled = {k: v for k, v in c.items() if v not in (None, [])}
        merged[c["email"]] = {**merged.get(c["email"], {}), **filled}
    return [
        {k: c.get(k) or ([] if k == "languages" else None) for k in CONTACT_KEYS}
        for c in merged.values()
    ]


def _target(
    data: OrgInput,
    owner: dict[str, int],
    named: dict[tuple[str, str | None], Any],
    by_key: dict[tuple[str, str | None], list[int]],
) -> Any:
    """Which organization a row is about: by its addresses, then by name and country
    (earlier rows of this file first, then the database); a str is a problem."""
    owners = {owner[e] for e in data.emails if e in owner}
    if len(owners) > 1:
        return "its emails belong to different organizations already"
    if owners:
        return owners.pop()
    name_key = (_fold(data.name), data.country)
    if name_key in named:
        return named[name_key]
    candidates = by_key.get(name_key, [])
    if len(candidates) > 1:
        return f"{data.name!r} matches several organizations"
    return candidates[0] if candidates else ("new", *name_key)


def plan_import(db: Database, rows: list[Row], source: str) -> tuple[list[_Target], list[Problem]]:
    stored = _stored_inputs(db)
    owner = {e: oid for oid, s in stored.items() for e in s.emails}
    by_key: dict[tuple[str, str | None], list[int]] = {}
    for oid, s in stored.items():
        by_key.setdefault((_fold(s.name), s.country), []).append(oid)
    targets: dict[Any, _Target] = {}
    named: dict[tuple[str, str | None], Any] = {}  # name+country seen in this file → target
    seen_email: dict[str, tuple[Any, int]] = {}  # email → (target, line) in this file
    problems: list[Problem] = []
    for row in rows:
        where = f"{source}:{row.line}"
        try:
            data = row_to_input(row.cells)
        except ValueError as e:
            problems.append(Problem(where, str(e)))
            continue
        key = _target(data, owner, named, by_key)
        if isinstance(key, str):
            problems.append(Problem(where, key))
            continue
        clash = next((e for e in data.emails if seen_email.get(e, (key,))[0] != key), None)
        if clash:
            line = seen_email[clash][1]
            problems.append(
                Problem(
                    where, f"email {clash} already appears on line {line} for another organization"
                )
            )
            continue
        for addr in data.emails:
            seen_email.setdefault(addr, (key, row.line))
        named.setdefault((_fold(data.name), data.country), key)
        if key in targets:
            targets[key].state = _apply(targets[key].state, data)
        else:
            base = stored.get(key) if isinstance(key, int) else None
            org_id = key if isinstance(key, int) else None
            targets[key] = _Target(row.line, org_id, base, _apply(base or data, data))
    return list(targets.values()), problems


def _diff(old: OrgInput, new: OrgInput) -> dict[str, Any]:
    return {k: v for k, v in new.__dict__.items() if getattr(old, k) != v}


def import_orgs(
    db: Database, path: Path, *, dry_run: bool = False, skip_invalid: bool = False
) -> ImportResult:
    """Validate the whole file, then write every change in one transaction."""
    rows = read_rows(path)
    targets, problems = plan_import(db, rows, path.name)
    if problems and not skip_invalid:
        raise ValidationError(
            f"{path}: {len(problems)} invalid row{'s' if len(problems) > 1 else ''}; nothing was imported",
            problems,
            hint="Fix the rows listed, or pass --skip-invalid to import the others.",
        )
    result = ImportResult(skipped=problems)
    result.custom_columns = sorted(
        {k.removeprefix(FIELD) for row in rows for k in row.cells if k.startswith(FIELD)}
    )
    writes: list[tuple[_Target, Change]] = []
    for t in targets:
        if t.stored is None:
            change = Change(t.line, "create", t.state.name, _diff(OrgInput(""), t.state))
        elif fields := _diff(t.stored, t.state):
            change = Change(t.line, "update", t.state.name, fields)
        else:
            result.unchanged += 1
            continue
        result.changes.append(change)
        writes.append((t, change))
    result.created = sum(c.action == "create" for c in result.changes)
    result.updated = sum(c.action == "update" for c in result.changes)
    if not dry_run:
        with db.atomic():
            for t, change in writes:
                if t.stored is None:
                    create_org(db, t.state)
                elif t.org_id is not None:
                    _update(db, t.org_id, t.stored, t.state, change.fields)
    return result


def _update(
    db: Database, org_id: int, old: OrgInput, new: OrgInput, fields: dict[str, Any]
) -> None:
    """Write the ``fields`` that differ (an import only adds: see plan_import)."""
    columns = {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
        for k, v in fields.items()
        if k not in ("emails", "unsubscribed", "contacts")
    }
    if columns:
        orgstore.update_org(db, org_id, columns)
    for email in new.emails:
        if email not in old.emails:
            add_address(db, org_id, email, unsubscribed=email in new.unsubscribed)
    for email in new.unsubscribed:
        if email not in old.unsubscribed and email in old.emails:
            orgstore.unsubscribe_email(db, email)
    save_contacts(db, org_id, [c for c in new.contacts if c not in old.contacts])
    log_event(
        db, "organization", org_id, "import", old={k: getattr(old, k) for k in fields}, new=fields
    )


# ---------------------------------------------------------------- export


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula (=, +, -, @,
    a tab or CR) gets a quote in front, which :func:`row_to_input` takes off again."""
    return "'" + cell if FORMULA.match(cell) else cell


def export_orgs(db: Database, fmt: str = "csv") -> str:
    """Every organization in a form ``import`` reads back to the same database."""
    orgs = _stored_inputs(db)
    if fmt == "json":
        return (
            json.dumps(
                [{"id": oid, **o.__dict__} for oid, o in orgs.items()], ensure_ascii=False, indent=2
            )
            + "\n"
        )
    custom = sorted({k for o in orgs.values() for k in o.fields})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FILE_COLUMNS, *custom])
    for o in orgs.values():
        people = {c["email"]: c for c in o.contacts}
        first = people.pop(o.emails[0], None) if o.emails else None
        cells = [
            o.name,
            o.short_name or "",
            o.country or "",
            ";".join(o.languages),
            ";".join(o.emails),
            ";".join(o.tags),
            o.notes or "",
            json.dumps(o.names, ensure_ascii=False) if o.names else "",
            "true" if o.do_not_contact else "",
            ";".join(o.unsubscribed),
            *_contact_cells(first),
            *(o.fields.get(k, "") for k in custom),
        ]
        writer.writerow([spreadsheet_safe(c) for c in cells])
        for email, contact in people.items():  # one row each, found again by name and country
            row = [o.name, "", o.country or "", "", email, *[""] * 5]
            writer.writerow(
                [spreadsheet_safe(c) for c in [*row, *_contact_cells(contact), *[""] * len(custom)]]
            )
    return out.getvalue()


def _contact_cells(contact: dict[str, Any] | None) -> list[str]:
    """contact_name, contact_role, contact_languages, contact_gender."""
    if contact is None:
        return ["", "", "", ""]
    return [
        contact["name"],
        contact["role"] or "",
        ";".join(contact["languages"]),
        contact["gender"] or "",
    ]
