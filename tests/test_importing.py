"""Import and export: validation by line, all-or-nothing writes, idempotence,
opt-outs that survive, formula-safe CSV, and arbitrary input never crashing."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from mailer.contacts import RESERVED_FIELDS, OrgInput, add_org, optout, show_org
from mailer.db import open_db
from mailer.errors import MailerError, ValidationError
from mailer.importing import export_orgs, import_orgs, read_rows

EXAMPLES = Path(__file__).resolve().parent.parent / "mailer" / "examples"
HEADER = "name,short_name,country,languages,emails,tags,notes\n"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "c.db")


def csv_file(tmp_path: Path, body: str, name: str = "orgs.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def counts(db: Database) -> tuple[int, int]:
    return db["organization"].count, db["address"].count


def test_examples_import_and_reimport_changes_nothing(db: Database) -> None:
    first = import_orgs(db, EXAMPLES / "organizations.csv")
    assert (first.created, first.updated) == (30, 0)
    events = db["event"].count
    again = import_orgs(db, EXAMPLES / "organizations.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 30)
    assert db["event"].count == events
    countries = {o["country"] for o in db["organization"].rows}
    assert len(countries) >= 12


def test_every_invalid_row_is_listed_by_line_and_nothing_written(
    db: Database, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        HEADER
        + "Good Party,,GR,el,good@g.example.org,,\n"
        + ",,GR,el,noname@g.example.org,,\n"
        + "Bad Mail,,GR,el,not-an-email,,\n"
        + "Bad Country,,Grece,el,c@c.example.org,,\n"
        + '"Evil\rName",,GR,el,e@e.example.org,,\n'
        + "Other Party,,FR,fr,good@g.example.org,,\n"
        + "Bad Lang,,FR,klingon-xx,l@l.example.org,,\n",
    )
    with pytest.raises(ValidationError) as info:
        import_orgs(db, path)
    lines = {p.where: p.what for p in info.value.problems}
    assert set(lines) == {f"orgs.csv:{n}" for n in (3, 4, 5, 6, 7, 8)}
    assert "name is missing" in lines["orgs.csv:3"]
    assert "not valid" in lines["orgs.csv:4"]
    assert "Grece" in lines["orgs.csv:5"]
    assert "control character" in lines["orgs.csv:6"]
    assert "already appears on line 2" in lines["orgs.csv:7"]
    assert "BCP 47" in lines["orgs.csv:8"]
    assert counts(db) == (0, 0)


def test_skip_invalid_imports_the_good_rows(db: Database, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + "Good,,GR,el,g@g.example.org,,\nBad,,GR,el,nope,,\n")
    result = import_orgs(db, path, skip_invalid=True)
    assert result.created == 1 and [str(p) for p in result.skipped] == [
        "orgs.csv:3: email 'nope' is not valid: An email address must have an @-sign."
    ]


def test_dry_run_reports_and_writes_nothing(db: Database, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + "New,,GR,el,n@n.example.org,,\n")
    result = import_orgs(db, path, dry_run=True)
    assert result.created == 1 and result.changes[0].action == "create"
    assert counts(db) == (0, 0)


def test_row_matching_by_email_or_by_name_and_country_updates(db: Database, tmp_path: Path) -> None:
    import_orgs(db, csv_file(tmp_path, HEADER + "Old Name,,GR,el,a@a.example.org,t1,\n"))
    result = import_orgs(
        db,
        csv_file(
            tmp_path,
            HEADER
            + "New Name,NN,GR,el;en,a@a.example.org,t2,\n"
            + "New Name,,GR,,b@a.example.org,,note\n",
            "second.csv",
        ),
    )
    assert (result.created, result.updated) == (0, 1)
    record = show_org(db, "NN")
    assert record["name"] == "New Name"
    assert record["emails"] == ["a@a.example.org", "b@a.example.org"]
    assert record["tags"] == ["t1", "t2"] and record["languages"] == ["el", "en"]
    assert record["notes"] == "note"


def test_reimport_never_clears_an_opt_out(db: Database, tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + "A,,GR,el,a@a.example.org;b@a.example.org,,\n")
    import_orgs(db, path)
    optout(db, "A")
    optout(db, "b@a.example.org")
    import_orgs(db, path)
    record = show_org(db, "A")
    assert record["do_not_contact"] is True
    assert {a["email"]: a["status"] for a in record["addresses"]}[
        "b@a.example.org"
    ] == "unsubscribed"


def test_tsv_and_vcard(db: Database, tmp_path: Path) -> None:
    tsv = csv_file(tmp_path, "Name\tEmails\tCountry\nT Party\tt@t.example.org\tChile\n", "o.tsv")
    vcf = csv_file(
        tmp_path,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Someone\r\nORG:V Front;Intl dept\r\n"
        "EMAIL;TYPE=work:v@v.example.org\r\nEMAIL:v2@v.example.org\r\n"
        "ADR:;;;;;;Peru\r\nCATEGORIES:americas,front\r\nLANG:es\r\nEND:VCARD\r\n",
        "o.vcf",
    )
    assert import_orgs(db, tsv).created == 1
    assert import_orgs(db, vcf).created == 1
    v = show_org(db, "V Front")
    assert v["country"] == "PE" and v["tags"] == ["americas", "front"]
    assert v["emails"] == ["v@v.example.org", "v2@v.example.org"] and v["languages"] == ["es"]


def test_vcard_fields_are_split_before_they_are_unescaped(db: Database, tmp_path: Path) -> None:
    """An escaped ';' or ',' is part of the name or the tag, not a field separator."""
    vcf = csv_file(
        tmp_path,
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Internationaal secretariaat\r\n"
        "ORG:Workers\\; Peasants Party;Intl Dept\r\nNICKNAME:WPP,Workers\r\n"
        'EMAIL;TYPE=work;LABEL="Intl: desk":intl@wpp.example.org\r\n'
        "ADR;TYPE=work:;;Calle 5\\, piso 2;Lima;;15001;Peru\r\n"
        "CATEGORIES:peace\\, justice,americas\r\n"
        "NOTE:Ask for the secretary\\; she answers\\nin Spanish\\\\English\r\n"
        "END:VCARD\r\n",
        "wpp.vcf",
    )
    assert import_orgs(db, vcf).created == 1
    org = show_org(db, "Workers; Peasants Party")
    assert (org["name"], org["short_name"], org["country"]) == (
        "Workers; Peasants Party",
        "WPP",
        "PE",
    )
    assert org["emails"] == ["intl@wpp.example.org"]
    assert org["tags"] == ["peace, justice", "americas"]
    assert org["notes"] == "Ask for the secretary; she answers in Spanish\\English"


def vcard_text(value: str) -> str:
    """A text value escaped as RFC 6350 3.4 asks (what a contacts program writes)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def folded(line: str, width: int = 40) -> str:
    """A long content line folded as vCard writers fold it (CRLF, then one space)."""
    return "\r\n ".join(line[i : i + width] for i in range(0, len(line), width)) + "\r\n"


# Printable text of any script, with the characters vCard escapes; one line each.
TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), include_characters='\\;,:"'),
    min_size=1,
    max_size=40,
)


@given(
    name=TEXT,
    unit=TEXT,
    short=TEXT.filter(lambda t: "," not in t),  # NICKNAME is a list: a comma separates
    country=TEXT,
    tags=st.lists(TEXT.filter(lambda t: ";" not in t), min_size=1, max_size=4),
    note=TEXT,
)
def test_vcard_values_round_trip(tmp_path: Path, name, unit, short, country, tags, note) -> None:
    """What a contacts program escapes, the reader gives back exactly, whatever the text."""
    card = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"ORG:{vcard_text(name)};{vcard_text(unit)}",
        f"NICKNAME:{vcard_text(short)},other",
        f"ADR:;;{vcard_text(unit)};;;;{vcard_text(country)}",
        f"CATEGORIES:{','.join(map(vcard_text, tags))}",
        f"NOTE:{vcard_text(note)}",
        "END:VCARD",
    ]
    path = tmp_path / "card.vcf"
    path.write_text("".join(folded(line) for line in card), encoding="utf-8")
    [row] = read_rows(path)
    assert row.line == 1
    assert row.cells == {
        "name": name,
        "short_name": short,
        "country": country,
        "emails": "",
        "languages": "",
        "tags": ";".join(tags),
        "notes": note,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the file is empty"),
        ("email,country\nx@y.example.org,GR\n", "no 'name' column"),
        ("name,emial\nA,x@y.example.org\n", "unknown column 'emial'"),
        ('name,email\n"A,x@y.example.org\n', "cannot be read as CSV"),
    ],
)
def test_unreadable_files_are_one_clear_error(
    db: Database, tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(MailerError, match=message):
        import_orgs(db, csv_file(tmp_path, body))


def test_non_utf8_names_the_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\nA\nCaf\xe9\n".encode("latin-1"))
    with pytest.raises(MailerError, match=r"latin1.csv:3: not UTF-8"):
        import_orgs(db, path)


def test_export_is_formula_safe_and_round_trips(db: Database, tmp_path: Path) -> None:
    import_orgs(db, EXAMPLES / "organizations.csv")
    import_orgs(
        db,
        csv_file(tmp_path, HEADER + '=HYPERLINK("x"),+1,GR,,f@f.example.org,@tag;-t,\'=quoted\n'),
    )
    optout(db, "f@f.example.org")
    text = export_orgs(db, "csv")
    for row in csv.reader(io.StringIO(text)):
        assert all(not cell or cell[0] not in "=+-@" for cell in row)
    fresh = open_db(tmp_path / "fresh.db")
    path = csv_file(tmp_path, text, "export.csv")
    import_orgs(fresh, path)
    assert json.loads(export_orgs(fresh, "json")) == json.loads(export_orgs(db, "json"))
    assert import_orgs(db, path).unchanged == 31


CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=8), max_size=6))
def test_arbitrary_csv_never_crashes_and_never_half_writes(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    tmp = tmp_path_factory.mktemp("h")
    db = open_db(tmp / "c.db")
    out = io.StringIO()
    csv.writer(out).writerows([["name", "country", "languages", "emails", "tags", "notes"], *rows])
    path = csv_file(tmp, out.getvalue())
    try:
        result = import_orgs(db, path)
    except ValidationError as e:
        assert all(p.where.startswith("orgs.csv:") for p in e.problems)
        assert counts(db) == (0, 0)
    except MailerError:
        assert counts(db) == (0, 0)
    else:
        assert db["organization"].count == result.created


# ---------------------------------------------------------------- people and custom fields

PEOPLE = (
    "name,country,languages,email,contact_name,contact_role,contact_languages,"
    "contact_gender,Website,Phone (office)\n"
    "Radnička partija Severnog Brega,RS,sr-Latn;en,ana@rpsb.example.org,Ana Petrović,"
    "international secretary,sr-Latn,f,https://rpsb.example.org,+381 11 123 45 67\n"
    "Radnička partija Severnog Brega,RS,,press@rpsb.example.org,Marko Marković,press,,m,,\n"
    "Workers' League of the Plains,US,en,intl@wlp.example.org,,,,,https://wlp.example.org,\n"
)


def test_contacts_and_unknown_columns_are_kept(db: Database, tmp_path: Path) -> None:
    result = import_orgs(db, csv_file(tmp_path, PEOPLE))
    assert (result.created, result.custom_columns) == (2, ["phone_office", "website"])
    rpsb = show_org(db, "ana@rpsb.example.org")
    assert rpsb["fields"] == {
        "website": "https://rpsb.example.org",
        "phone_office": "+381 11 123 45 67",
    }
    assert rpsb["contacts"] == [
        {
            "email": "ana@rpsb.example.org",
            "name": "Ana Petrović",
            "role": "international secretary",
            "languages": ["sr-Latn"],
            "gender": "f",
        },
        {
            "email": "press@rpsb.example.org",
            "name": "Marko Marković",
            "role": "press",
            "languages": [],
            "gender": "m",
        },
    ]
    assert show_org(db, "intl@wlp.example.org")["contacts"] == []
    assert import_orgs(db, csv_file(tmp_path, PEOPLE)).unchanged == 2


def test_a_row_says_more_about_a_contact_without_losing_what_was_known(
    db: Database, tmp_path: Path
) -> None:
    import_orgs(db, csv_file(tmp_path, PEOPLE))
    more = "name,country,email,contact_name,contact_languages,website\n"
    more += "Radnička partija Severnog Brega,RS,ana@rpsb.example.org,Ana Petrović,sr-Latn;en,\n"
    result = import_orgs(db, csv_file(tmp_path, more, "more.csv"))
    assert (result.updated, [sorted(c.fields) for c in result.changes]) == (1, [["contacts"]])
    ana = show_org(db, "ana@rpsb.example.org")["contacts"][0]
    assert (ana["role"], ana["languages"], ana["gender"]) == (
        "international secretary",
        ["sr-Latn", "en"],
        "f",
    )
    assert show_org(db, "ana@rpsb.example.org")["fields"]["website"] == "https://rpsb.example.org"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Party,,Ana,secretary,,", "contact 'Ana' has no address: give the row an email"),
        ("Party,p@p.example.org,,secretary,,", "a contact needs a name"),
        ("Party,p@p.example.org,Ana,,xx-nope-long,", "BCP 47"),
        ("Party,p@p.example.org,Ana,,,x", "contact_gender must be f or m, not 'x'"),
    ],
)
def test_a_bad_contact_is_refused_with_its_line(
    db: Database, tmp_path: Path, row: str, message: str
) -> None:
    header = "name,email,contact_name,contact_role,contact_languages,contact_gender\n"
    with pytest.raises(ValidationError) as info:
        import_orgs(db, csv_file(tmp_path, header + "Good,g@g.example.org,,,,\n" + row + "\n"))
    [problem] = info.value.problems
    assert problem.where == "orgs.csv:3" and message in problem.what
    assert counts(db) == (0, 0)


def test_a_near_miss_of_a_known_column_is_still_an_error(db: Database, tmp_path: Path) -> None:
    for heading, meant in [("emial", "email"), ("Language", "languages"), ("tag", "tags")]:
        with pytest.raises(MailerError) as info:
            import_orgs(db, csv_file(tmp_path, f"name,{heading}\nA,x\n"))
        message = f"orgs.csv:1: unknown column {heading!r}; did you mean {meant!r}?"
        assert str(info.value).endswith(message)


def test_custom_fields_choose_an_audience(db: Database, tmp_path: Path) -> None:
    from mailer.campaigns import select_orgs

    import_orgs(db, csv_file(tmp_path, PEOPLE))
    campaign = {"audience": json.dumps({"where": "website LIKE '%wlp%' OR phone_office > ''"})}
    assert sorted(o["name"] for o in select_orgs(db, campaign)) == [
        "Radnička partija Severnog Brega",
        "Workers' League of the Plains",
    ]


KEY = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in RESERVED_FIELDS and not k.endswith("_")
)
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=12,
).map(str.strip)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)


@st.composite
def organizations(draw: st.DrawFn) -> list[OrgInput]:
    orgs = []
    for n in range(draw(st.integers(1, 4))):
        emails = [
            f"{w}{n}{i}@o{n}.example.org" for i, w in enumerate(draw(st.lists(WORD, max_size=3)))
        ]
        people = [
            {
                "email": email,
                "name": draw(TEXT.filter(bool)),
                "role": draw(st.one_of(st.none(), TEXT)),
                "languages": draw(
                    st.lists(st.sampled_from(["en", "sr-Latn", "el"]), max_size=2, unique=True)
                ),
                "gender": draw(st.sampled_from([None, "f", "m"])),
            }
            for email in emails
            if draw(st.booleans())
        ]
        orgs.append(
            OrgInput.clean(
                name=f"{draw(TEXT)} org {n}",
                country=draw(st.sampled_from([None, "GR", "RS"])),
                emails=emails,
                fields=draw(st.dictionaries(KEY, TEXT, max_size=3)),
                contacts=people,
            )
        )
    return orgs


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database file to copy: quicker than migrating one per example."""
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    open_db(path).close()
    return path


def fresh_db(empty: Path, path: Path) -> Database:
    shutil.copy(empty, path)
    return open_db(path)


@given(orgs=organizations())
def test_export_then_import_gives_the_same_people_and_fields(
    tmp_path_factory: pytest.TempPathFactory, empty_db: Path, orgs: list[OrgInput]
) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    first = fresh_db(empty_db, tmp / "first.db")
    for data in orgs:
        add_org(first, data)
    exported = export_orgs(first, "csv")
    second = fresh_db(empty_db, tmp / "second.db")
    import_orgs(second, csv_file(tmp, exported, "export.csv"))
    assert export_orgs(second, "csv") == exported
    assert json.loads(export_orgs(second, "json")) == json.loads(export_orgs(first, "json"))
    again = import_orgs(first, csv_file(tmp, exported, "export.csv"))
    assert (again.created, again.updated) == (0, 0)


def test_a_spreadsheets_own_id_column_is_a_custom_field_too(db: Database, tmp_path: Path) -> None:
    from mailer.campaigns import select_orgs

    import_orgs(db, csv_file(tmp_path, "ID,name,website\n17,A,a.example.org\n18,B,\n"))
    assert show_org(db, "A")["fields"] == {"id": "17", "website": "a.example.org"}
    campaign = {"audience": json.dumps({"where": "fields ->> 'id' = '18' OR website > ''"})}
    assert sorted(o["name"] for o in select_orgs(db, campaign)) == ["A", "B"]
