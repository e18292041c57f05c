"""Status aggregation (states, waves, countries, test sends left out, the
HTML page) and the signatories list (numbering, merges, withdrawals,
published names, localization, formats)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailer import responses
from mailer.contacts import merge_orgs
from mailer.db import open_db
from mailer.errors import MailerError
from mailer.report import (
    campaign_status,
    format_signatories,
    heading,
    markdown_text,
    near_duplicates,
    signatories,
    sort_key,
)
from mailer.statuspage import status_page
from tests.tracking import World, write_statement

KEYS = {
    "campaign",
    "organizations",
    "waves",
    "messages",
    "responses",
    "bounced",
    "auto_replied",
    "no_answer",
    "by_org",
}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAILER_NOW", "2026-03-02T10:00:00")
    db = open_db(tmp_path / "contacts.db")
    yield World(db, write_statement(tmp_path / "templates" / "peace"))
    db.close()


def by_name(status: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {o["name"]: o for o in status["by_org"]}


def test_each_state_and_its_precedence(world: World) -> None:
    w = world
    signed = w.org("Signed Party")
    w.send(signed)
    w.reply(signed, "auto_reply")
    w.answer(signed, "signed")
    declined = w.org("Declined Union", country="FR")
    w.send(declined)
    w.answer(declined, "declined")
    withdrawn = w.org("Withdrawn Front")
    w.send(withdrawn)
    w.answer(withdrawn, "signed")
    responses.withdraw(w.db, w.campaign["id"], withdrawn)
    bounced = w.org("Bounced League", emails=2)
    w.send(bounced)
    w.bounce_all(bounced)
    replied = w.org("Replied Movement")
    w.send(replied)
    w.reply(replied, "other")
    auto = w.org("Away Committee")
    w.send(auto)
    w.reply(auto, "auto_reply")
    pending = w.org("Pending Group")
    w.send(pending, state="queued")
    w.org("Never Sent Party")

    s = campaign_status(w.db, w.campaign)
    assert set(s) >= KEYS
    states = {name: o["state"] for name, o in by_name(s).items()}
    assert states == {
        "Signed Party": "signed",
        "Declined Union": "declined",
        "Withdrawn Front": "no_answer",
        "Bounced League": "bounced",
        "Replied Movement": "replied",
        "Away Committee": "auto_replied",
        "Pending Group": "not_sent",
        "Never Sent Party": "not_sent",
    }
    assert s["organizations"] == 8
    assert s["responses"] == {"signed": 1, "declined": 1, "acted": 0, "unsubscribed": 0}
    assert (s["bounced"], s["auto_replied"], s["no_answer"]) == (1, 1, 1)
    assert s["messages"]["sent"] == 7 and s["messages"]["queued"] == 1
    assert by_name(s)["Bounced League"]["messages"] == 2
    france = [c for c in s["by_country"] if c["country"] == "FR"]
    assert france == [
        {
            "country": "FR",
            "organizations": 1,
            **dict.fromkeys(
                (
                    "signed",
                    "acted",
                    "unsubscribed",
                    "bounced",
                    "replied",
                    "auto_replied",
                    "no_answer",
                    "not_sent",
                ),
                0,
            ),
            "declined": 1,
        }
    ]


def test_test_messages_never_count(world: World) -> None:
    org = world.org("Only Tested")
    (test_message,) = world.send(org, test=True)
    world.reply(org, "signon", message=test_message)
    s = campaign_status(world.db, world.campaign)
    assert s["messages"]["sent"] == 0 and s["waves"] == 0
    assert by_name(s)["Only Tested"]["state"] == "not_sent"


def test_waves_attribute_answers_to_the_wave_before_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = world.org("Early Signer")
    late = world.org("Late Signer")
    silent = world.org("Silent Party")
    for org in (first, late, silent):
        world.send(org, at="2026-03-01T09:00:00+00:00")
    world.answer(first)  # MAILER_NOW 2026-03-02
    for org in (late, silent):
        world.send(org, wave=1, at="2026-03-05T09:00:00+00:00")
    monkeypatch.setenv("MAILER_NOW", "2026-03-06T10:00:00")
    world.answer(late)
    s = campaign_status(world.db, world.campaign)
    assert s["waves"] == 2
    w0, w1 = s["by_wave"]
    assert (w0["organizations"], w0["signed"], w0["no_answer"]) == (3, 1, 1)
    assert (w1["organizations"], w1["signed"], w1["no_answer"]) == (2, 1, 1)
    assert [t["date"] for t in s["timeline"]] == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-05",
        "2026-03-06",
    ]
    assert sum(t["signed"] for t in s["timeline"]) == 2


def test_merged_organization_counts_once(world: World) -> None:
    keep = world.org("Kept Party")
    other = world.org("Kept Party (old entry)")
    world.send(keep)
    world.send(other)
    merge_orgs(world.db, str(keep), str(other))
    s = campaign_status(world.db, world.campaign)
    assert [o["name"] for o in s["by_org"]] == ["Kept Party"]
    assert s["by_org"][0]["messages"] == 2


def test_html_page_is_self_contained(world: World) -> None:
    org = world.org("Signed <b>Party</b>")
    world.send(org)
    world.answer(org)
    page = status_page(campaign_status(world.db, world.campaign), today=date(2026, 3, 2))
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<style>" in page
    assert not re.search(r"(src|href)=|https?://|@import|url\(", page)
    assert "Signed &lt;b&gt;Party&lt;/b&gt;" in page


# ---------------------------------------------------------------- signatories


def test_signatories_once_each_withdrawn_out_published_names(world: World) -> None:
    w = world
    a = w.org("Workers' Party of Atlantis", country="GR")
    b = w.org("Radnička partija", country="RS")
    w.names(b, **{"sr-Cyrl": "Радничка партија", "en": "Workers' Party of the North"})
    c = w.org("Union des Collines", country="FR")
    d = w.org("Withdrawn Front", country="IT")
    e = w.org("Union des Collines (duplicate)", country="FR")
    w.answer(a, publish_name="WPA – Workers' Party of Atlantis")
    w.answer(b)
    w.answer(c)
    w.answer(d)
    w.answer(e)
    responses.withdraw(w.db, w.campaign["id"], d)
    merge_orgs(w.db, str(c), str(e))
    entries = signatories(w.db, w.campaign, lang="en")
    assert [(x.n, x.name) for x in entries] == [
        (1, "WPA – Workers' Party of Atlantis"),
        (2, "Workers' Party of the North"),
        (3, "Union des Collines"),
    ]
    alpha = signatories(w.db, w.campaign, lang="sr-Cyrl", order="alpha")
    assert [x.name for x in alpha] == [
        "Union des Collines",
        "WPA – Workers' Party of Atlantis",
        "Радничка партија",
    ]
    by_country = signatories(w.db, w.campaign, lang="sr-Cyrl", order="country")
    assert [x.country_name for x in by_country] == ["Грчка", "Србија", "Француска"]
    assert [x.n for x in by_country] == [1, 2, 3]


def test_serbian_names_follow_the_script_of_the_list(world: World) -> None:
    serbian = world.org("Radnička partija Severnog Brega", country="RS", languages=["sr-Latn"])
    cyrillic_only = world.org("Savez", country="RS")
    world.names(cyrillic_only, **{"sr-Cyrl": "Савез омладине"})
    foreign = world.org("Workers' League", country="US", languages=["en"])
    # Reads Serbian, but its name is English: it was spelled "Цоммунист Партy оф Грееце".
    greek = world.org("Communist Party of Greece", country="GR", languages=["el", "en", "sr-Latn"])
    for org in (serbian, cyrillic_only, foreign, greek):
        world.answer(org)
    cyr = [e.name for e in signatories(world.db, world.campaign, lang="sr-Cyrl")]
    assert cyr == [
        "Радничка партија Северног Брега",
        "Савез омладине",
        "Workers' League",
        "Communist Party of Greece",
    ]
    lat = [e.name for e in signatories(world.db, world.campaign, lang="sr-Latn")]
    assert lat == [
        "Radnička partija Severnog Brega",
        "Savez omladine",
        "Workers' League",
        "Communist Party of Greece",
    ]


def test_formats(world: World) -> None:
    org = world.org("Partido de los Trabajadores", country="ES")
    world.answer(org)
    entries = signatories(world.db, world.campaign, lang="es")
    txt = format_signatories(entries, fmt="txt", lang="es", with_country=True)
    assert txt == "Organizaciones firmantes\n\n1. Partido de los Trabajadores, España\n"
    md = format_signatories(entries, fmt="md", lang="es")
    assert md.startswith("## Organizaciones firmantes\n\n1. Partido")
    page = format_signatories(entries, fmt="html", lang="ar")
    assert 'dir="rtl"' in page and "<ol>" in page and "<li>Partido de los Trabajadores</li>" in page
    assert json.loads(format_signatories(entries, fmt="json")) == [
        {
            "n": 1,
            "org_id": org,
            "name": "Partido de los Trabajadores",
            "country": "ES",
            "country_name": "España",
            "signed_at": "2026-03-02T10:00:00+00:00",
        }
    ]
    rows = list(csv.DictReader(io.StringIO(format_signatories(entries, fmt="csv"))))
    assert rows[0]["n"] == "1" and rows[0]["country"] == "ES"


def test_csv_names_cannot_run_as_spreadsheet_formulas(world: World) -> None:
    """Issue 14 item 11: a list imported with --create could plant formulas; cells are
    quoted exactly as `org export` quotes them."""
    names = ['=HYPERLINK("http://x.example/","Click")', "+Front", "-Left Union", "@Party", "'=1+1"]
    for n, name in enumerate(names):
        world.answer(world.org(name, country="ES" if n else "GR"))
    world.answer(world.org("Plain Party", country="ES"))
    out = format_signatories(signatories(world.db, world.campaign, lang="en"), fmt="csv")
    cells = [row[2] for row in csv.reader(io.StringIO(out))][1:]
    assert cells == [
        '\'=HYPERLINK("http://x.example/","Click")',
        "'+Front",
        "'-Left Union",
        "'@Party",
        "''=1+1",  # one more quote, so that `org import` gives back the name
        "Plain Party",
    ]


def test_html_escapes_names(world: World) -> None:
    org = world.org("Front <script>", country="ES")
    world.answer(org)
    page = format_signatories(signatories(world.db, world.campaign), fmt="html")
    assert "<script>" not in page and "Front &lt;script&gt;" in page


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Signing organizations"),
        ("sr-Latn", "Organizacije potpisnice"),
        ("sr-Cyrl", "Организације потписнице"),
        ("ru", "Подписавшие организации"),
        ("es", "Organizaciones firmantes"),
        ("fr", "Organisations signataires"),
        ("de", "Unterzeichnende Organisationen"),
        ("pt-BR", "Organizações signatárias"),
        ("it", "Organizzazioni firmatarie"),
        ("el", "Οργανώσεις που υπογράφουν"),
        ("ar", "المنظمات الموقعة"),
        ("sr", "Organizacije potpisnice"),
        ("en-GB", "Signing organizations"),
        ("xx", "Signing organizations"),
    ],
)
def test_localized_headings(lang: str, text: str) -> None:
    assert heading(lang) == text


def test_alpha_order_ignores_case_and_accents(world: World) -> None:
    for name in ("Ötztal Union", "alpha Front", "Órgano Obrero", "Beta Party"):
        world.answer(world.org(name))
    names = [e.name for e in signatories(world.db, world.campaign, order="alpha")]
    assert names == ["alpha Front", "Beta Party", "Órgano Obrero", "Ötztal Union"]


def test_near_duplicates_are_found(world: World) -> None:
    for name in ("Communist Party of Atlantis", "Comunist Party of Atlantis", "Harbour Union"):
        world.answer(world.org(name))
    pairs = near_duplicates(signatories(world.db, world.campaign))
    assert pairs == [("Communist Party of Atlantis", "Comunist Party of Atlantis")]


def test_sort_key_folds() -> None:
    assert sort_key("Ärger") == sort_key("arger")


@given(
    st.lists(st.sampled_from(["signed", "withdrawn", "declined", "none"]), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=6),
    st.sampled_from(["signed", "alpha", "country"]),
)
def test_numbers_are_one_to_n_and_no_org_twice(
    tmp_path_factory: pytest.TempPathFactory,
    answers: list[str],
    merges: list[tuple[int, int]],
    order: str,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    db = open_db(folder / "contacts.db")
    world = World(db, write_statement(folder / "peace"))
    ids = [world.org(f"Org {i}", country=["GR", "RS", "FR"][i % 3]) for i in range(len(answers))]
    for org_id, answer in zip(ids, answers, strict=True):
        if answer in ("signed", "withdrawn", "declined"):
            world.answer(org_id, "declined" if answer == "declined" else "signed")
        if answer == "withdrawn":
            responses.withdraw(db, world.campaign["id"], org_id)
    for keep, other in merges:
        if keep < len(ids) and other < len(ids) and keep != other:
            with contextlib.suppress(MailerError):  # already one organization
                merge_orgs(db, str(ids[keep]), str(ids[other]))
    entries = signatories(db, world.campaign, order=order)
    assert [e.n for e in entries] == list(range(1, len(entries) + 1))
    assert len({e.org_id for e in entries}) == len(entries)
    merged = {
        r["id"] for r in db.query("SELECT id FROM organization WHERE merged_into IS NOT NULL")
    }
    assert not {e.org_id for e in entries} & merged
    current = {
        r["org_id"]
        for r in db.query(
            "SELECT org_id FROM response WHERE kind = 'signed' AND withdrawn_at IS NULL"
        )
    }
    assert {e.org_id for e in entries} == current
    db.close()


NAME_CHARACTERS = st.sampled_from(list("ab \tZ09.)(-+=:;'\"\\`*_[]<>#|&~!{}@/%$^?,") + ["é", "ш"])


@given(st.text(NAME_CHARACTERS, min_size=1, max_size=30).filter(str.strip))
@example("---")  # a line across the list, once
def test_a_name_in_a_markdown_list_shows_exactly_as_written(name: str) -> None:
    from html import unescape

    from mailer.textpart import markdown_parser

    rendered = markdown_parser().render(f"1. {markdown_text(name)}\n")
    match = re.fullmatch(r"<ol>\n<li>(.*)</li>\n</ol>\n", rendered, re.DOTALL)
    assert match, rendered
    assert "<" not in match[1]  # no element of its own: no emphasis, link, nested list
    assert unescape(match[1]) == name.strip()  # Markdown drops spaces at either end


def test_the_initiating_organization_comes_first(world: World) -> None:
    ids = [world.org(name) for name in ("Beta Front", "Alpha Union", "Gamma Party")]
    for org_id in ids:
        world.answer(org_id)
    initiator = world.db["organization"].get(ids[2])
    for order, rest in [
        ("signed", ["Beta Front", "Alpha Union"]),
        ("alpha", ["Alpha Union", "Beta Front"]),
    ]:
        listed = signatories(world.db, world.campaign, order=order, first=initiator)
        assert [(e.n, e.name) for e in listed] == [(1, "Gamma Party"), (2, rest[0]), (3, rest[1])]
    silent = world.db["organization"].get(world.org("Silent League"))
    with pytest.raises(MailerError, match="Silent League has not signed peace"):
        signatories(world.db, world.campaign, first=silent)


def test_countries_can_have_the_names_a_movement_publishes(world: World) -> None:
    world.answer(world.org("People's Front for Liberation", country="PS"))
    world.answer(world.org("Workers' League", country="US"))
    own = {"PS": {"*": "Palestine"}, "US": {"es": "EE. UU."}}
    spanish = signatories(world.db, world.campaign, lang="es", order="country", countries=own)
    assert [(e.name, e.country_name) for e in spanish] == [
        ("Workers' League", "EE. UU."),
        ("People's Front for Liberation", "Palestine"),
    ]
    english = signatories(world.db, world.campaign, lang="en", countries=own)
    assert [e.country_name for e in english] == ["Palestine", "United States"]
