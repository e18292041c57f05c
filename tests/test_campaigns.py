"""Campaigns core: creation checks the statement and audience; the audience follows
tags, countries and a read-only SQL condition, and never includes opted-out orgs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailer.campaigns import (
    audience,
    create_campaign,
    delete_campaign,
    describe_audience,
    edit_campaign,
    get_campaign,
    list_campaigns,
    select_orgs,
    summary,
)
from mailer.config import load_settings
from mailer.contacts import optout
from mailer.db import open_db
from mailer.errors import MailerError, NotFound, TemplateError, UsageError
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


def _ids(db, *short_names: str) -> list[int]:
    return [
        db.execute("SELECT id FROM organization WHERE short_name = ?", [s]).fetchone()[0]
        for s in short_names
    ]


@pytest.fixture
def answered(db, settings):
    """Campaign "first" was sent to NWPA, RPSB, LOL, PTV, FPS and MOR: NWPA and
    RPSB signed, LOL declined, PTV auto-replied, FPS has a sign-on waiting for
    review, MOR wrote nothing. Campaign "second" was signed by USC only."""
    from tests.tracking import World

    first = World(db, STATEMENT, create_campaign(db, settings, "first", STATEMENT))
    nwpa, rpsb, lol, ptv, fps, mor = _ids(db, "NWPA", "RPSB", "LOL", "PTV", "FPS", "MOR")
    for org_id in (nwpa, rpsb, lol, ptv, fps, mor):
        first.send(org_id)
    first.answer(nwpa)
    first.answer(rpsb)
    first.answer(lol, "declined")
    first.reply(ptv, "auto_reply")
    first.reply(fps, "signon")
    second = World(db, STATEMENT, create_campaign(db, settings, "second", STATEMENT))
    second.answer(*_ids(db, "USC"))
    return first, second


def _audience(db, settings, slug: str, **kw) -> set[str]:
    row = create_campaign(db, settings, slug, STATEMENT, **kw)
    return {o["short_name"] for o in select_orgs(db, row)}


@pytest.mark.parametrize(
    "rule, chosen",
    [
        ("signed", {"NWPA", "RPSB"}),
        ("not_signed", {"LOL", "PTV", "FPS", "MOR"}),
        ("declined", {"LOL"}),
        ("no_answer", {"PTV", "MOR"}),
    ],
)
def test_audiences_from_the_answers_to_another_campaign(
    db, settings, answered, rule: str, chosen: set[str]
) -> None:
    assert _audience(db, settings, "next", answers={rule: ["first"]}) == chosen


def test_answer_rules_combine_with_tags_and_repeat_as_any_of(db, settings, answered) -> None:
    both = _audience(db, settings, "both", answers={"signed": ["first", "second"]})
    assert both == {"NWPA", "RPSB", "USC"}
    balkans = _audience(db, settings, "b", tags=["balkans"], answers={"signed": ["first"]})
    assert balkans == {"RPSB"}
    mixed = _audience(
        db, settings, "m", countries=["ES", "MX", "AR"], answers={"not_signed": ["first"]}
    )
    assert mixed == {"PTV", "FPS", "MOR"}
    none = _audience(db, settings, "n", answers={"signed": ["first"], "declined": ["first"]})
    assert none == set()


def test_answers_count_as_they_are_when_the_audience_is_computed(db, settings, answered) -> None:
    first, _ = answered
    row = create_campaign(db, settings, "thanks", STATEMENT, answers={"signed": ["first"]})
    (mor,) = _ids(db, "MOR")
    first.answer(mor)
    from mailer.responses import withdraw

    withdraw(db, first.campaign["id"], _ids(db, "NWPA")[0])
    optout(db, "RPSB")
    assert {r.org.short_name for r in audience(db, row)} == {"MOR"}


def test_an_unknown_campaign_in_a_rule_is_a_usage_error_naming_the_known_ones(
    db, settings, answered
) -> None:
    with pytest.raises(UsageError) as info:
        create_campaign(db, settings, "x", STATEMENT, answers={"no_answer": ["frist"]})
    assert str(info.value) == (
        "--no-answer: no campaign named 'frist' (the campaigns are: first, second)"
    )
    assert [c["slug"] for c in list_campaigns(db)] == ["first", "second"]


def test_the_audience_rule_in_words(db, settings, answered) -> None:
    row = create_campaign(
        db,
        settings,
        "again",
        STATEMENT,
        tags=["europe", "americas", "party"],
        countries=["GR"],
        where="notes IS NULL",
        answers={"not_signed": ["first", "second"], "signed": ["second"]},
    )
    assert summary(db, row)["audience_rule"] == (
        "organizations tagged americas, europe or party, in GR, that signed second,"
        " that were sent first or second and did not sign it, that meet --where"
        " notes IS NULL, except any that opted out"
    )
    assert describe_audience({}) == "every organization, except any that opted out"


def test_edit_changes_title_and_deadline_and_logs_it(db, settings) -> None:
    create_campaign(db, settings, "peace", STATEMENT)
    assert edit_campaign(db, "peace", deadline="2027-01-15", title=" Peace, now ") == {
        "deadline": ("2026-12-10", "2027-01-15"),
        "title": ("Joint statement for peace", "Peace, now"),
    }
    row = get_campaign(db, "peace")  # the edited title wins over statement.toml's
    assert (row["title"], row["deadline"]) == ("Peace, now", "2027-01-15")
    assert edit_campaign(db, "peace", title="Peace, now") == {}
    (old, new) = db.execute("SELECT old, new FROM event WHERE action = 'edit'").fetchone()
    assert json.loads(old) == {"deadline": "2026-12-10", "title": "Joint statement for peace"}
    assert json.loads(new) == {"deadline": "2027-01-15", "title": "Peace, now"}
    for kw, message in [
        ({"deadline": "soon"}, "not a date"),
        ({"title": "  "}, "cannot be empty"),
        ({"title": "a\nb"}, "control character"),
    ]:
        with pytest.raises(MailerError, match=message):
            edit_campaign(db, "peace", **kw)


def test_delete_a_campaign_never_sent(db, settings) -> None:
    row = create_campaign(db, settings, "trial", STATEMENT)
    record = delete_campaign(db, "trial")
    assert record.history == [] and list_campaigns(db) == []
    (old,) = db.execute("SELECT old FROM event WHERE action = 'delete'").fetchone()
    assert json.loads(old)["slug"] == "trial" and json.loads(old)["id"] == row["id"]


def test_delete_a_sent_campaign_needs_force_and_keeps_its_replies(db, settings, answered) -> None:
    first, _ = answered
    with pytest.raises(MailerError) as info:
        delete_campaign(db, "first")
    assert str(info.value) == (
        "campaign 'first' has 8 messages sent, 3 answers and 2 replies on record"
    )
    with pytest.raises(MailerError, match="'second' has 1 answer on record"):
        delete_campaign(db, "second")  # answered, never sent: also needs force
    create_campaign(db, settings, "thanks", STATEMENT, answers={"signed": ["first"]})
    with pytest.raises(MailerError, match="chooses the audience, or gives the list, of thanks"):
        delete_campaign(db, "first", force=True)
    delete_campaign(db, "thanks")
    delete_campaign(db, "first", force=True)
    assert [c["slug"] for c in list_campaigns(db)] == ["second"]
    assert db.execute("SELECT COUNT(*) FROM message").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM response").fetchone() == (1,)
    assert db.execute(
        "SELECT COUNT(*) FROM reply WHERE campaign_id IS NULL AND message_ref IS NULL"
    ).fetchone() == (2,)
