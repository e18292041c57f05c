"""Campaigns core: creation checks the statement and audience; the audience follows
tags, countries and a read-only SQL condition, and never includes opted-out orgs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailer.campaigns import audience, create_campaign, get_campaign, list_campaigns, summary
from mailer.config import load_settings
from mailer.contacts import optout
from mailer.db import open_db
from mailer.errors import MailerError, NotFound, TemplateError
from mailer.importing import import_orgs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "mailer" / "examples"
STATEMENT = EXAMPLES / "statements" / "peace-statement"


@pytest.fixture
def db(tmp_path: Path):
    database = open_db(tmp_path / "contacts.db")
    import_orgs(database, EXAMPLES / "organizations.csv")
    yield database
    database.close()


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(cwd=tmp_path, env={"MAILER_SENDER_ADDRESS": "intl@party.example.org"})


def test_create_records_the_campaign(db, settings) -> None:
    row = create_campaign(db, settings, "peace", STATEMENT, tags=["balkans"], deadline="2026-12-01")
    assert row == get_campaign(db, "peace")
    assert row["title"] == "Joint statement for peace" and row["kind"] == "signon"
    assert json.loads(row["languages"])[-1] == "sr-Cyrl"
    assert json.loads(row["audience"]) == {"tags": ["balkans"], "countries": [], "where": None}
    assert row["deadline"] == "2026-12-01" and row["sender"] == "intl@party.example.org"
    assert row["statement_dir"] == str(STATEMENT)
    events = list(db.query("SELECT * FROM event WHERE entity = 'campaign'"))
    assert [e["action"] for e in events] == ["create"]
    info = summary(db, row)
    assert info["audience"] == 4 and info["waves"] == 0
    assert [c["slug"] for c in list_campaigns(db)] == ["peace"]


def test_audience_is_active_addresses_of_matching_orgs(db, settings) -> None:
    row = create_campaign(db, settings, "c", STATEMENT, countries=["Germany", "GR"])
    recipients = audience(db, row)
    assert [r.email for r in recipients] == [
        "intl@nwpa.example.org",
        "press@nwpa.example.org",
        "international@abf-fluss.example.org",
        "vorstand@abf-fluss.example.org",
        "epafi@emn.example.org",
    ]
    optout(db, "press@nwpa.example.org")
    optout(db, "ABF")
    assert [r.email for r in audience(db, row)] == [
        "intl@nwpa.example.org",
        "epafi@emn.example.org",
    ]
    assert recipients[0].org.languages == ("el", "en")


def test_where_chooses_and_cannot_widen_past_opt_outs(db, settings) -> None:
    optout(db, "NWPA")
    row = create_campaign(db, settings, "w", STATEMENT, where="country = 'GR'")
    assert {r.org.short_name for r in audience(db, row)} == {"ΕΜΝ"}
    sneaky = create_campaign(db, settings, "s", STATEMENT, where="0) OR (1")
    assert "NWPA" not in {r.org.short_name for r in audience(db, sneaky)}
    assert summary(db, sneaky)["audience"] == 29


@pytest.mark.parametrize(
    "where, message",
    [
        ("1=1; DELETE FROM organization", 'near ";": syntax error'),
        ("1); DELETE FROM organization; --", "one condition, not several statements"),
        ("nosuch = 1", "no such column: nosuch"),
        ("country = ", "is not a usable condition"),
        ("load_extension('x') IS NULL", "it may only read"),
    ],
)
def test_bad_where_is_refused_clearly(db, settings, where: str, message: str) -> None:
    with pytest.raises(MailerError, match=message):
        create_campaign(db, settings, "x", STATEMENT, where=where)
    assert list_campaigns(db) == []
    assert db.execute("SELECT COUNT(*) FROM organization").fetchone()[0] == 30


def test_a_semicolon_inside_a_string_is_part_of_the_condition(db, settings) -> None:
    db.execute("UPDATE organization SET notes = 'a;b' WHERE short_name = 'NWPA'")
    row = create_campaign(db, settings, "semi", STATEMENT, where="notes = 'a;b'")
    assert {r.org.short_name for r in audience(db, row)} == {"NWPA"}


def test_refusals(db, settings, tmp_path: Path) -> None:
    create_campaign(db, settings, "peace", STATEMENT)
    with pytest.raises(MailerError, match="already exists"):
        create_campaign(db, settings, "peace", STATEMENT)
    with pytest.raises(MailerError, match="lower-case letters"):
        create_campaign(db, settings, "Peace 2026", STATEMENT)
    with pytest.raises(MailerError, match="not a date"):
        create_campaign(db, settings, "d", STATEMENT, deadline="tomorrow")
    with pytest.raises(MailerError, match="--country"):
        create_campaign(db, settings, "d", STATEMENT, countries=["Atlantis"])
    with pytest.raises(NotFound, match="no campaign named 'nope'"):
        get_campaign(db, "nope")


def test_a_template_error_stops_creation(db, settings, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "statement.toml").write_text('title = "T"\ndefault_language = "en"\n')
    (folder / "en.md").write_text("---\nsubject: Hi\n---\nDear {{ org.nmae }}\n")
    with pytest.raises(TemplateError, match=r"en\.md:4"):
        create_campaign(db, settings, "broken", folder)
    assert list_campaigns(db) == []
