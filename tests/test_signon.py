"""Reading published lists back: parsing every common layout, matching the
entries to organizations (exact, short name, other languages, fuzzy, country),
and the property that no text crashes the parser or yields a heading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.db import open_db
from mailer.importing import import_orgs
from mailer.signon import HEADINGS, fold, parse_line, parse_list, plan_import, read_list

DATA = Path(__file__).resolve().parent / "data" / "signon"


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_db(tmp_path / "contacts.db")
    import_orgs(database, DATA / "organizations.csv")
    yield database
    database.close()


def expected(name: str) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("line", "name", "short", "country"),
    [
        (
            "1. New Communist Party of Yugoslavia – NKPJ",
            "New Communist Party of Yugoslavia",
            "NKPJ",
            None,
        ),
        ("2) Communist Party of Greece", "Communist Party of Greece", None, None),
        ("3. PADS, Algeria", "PADS", None, "DZ"),
        ("- Workers' Party — WP, Ireland", "Workers' Party", "WP", "IE"),
        ("• “Union syndicale des Collines” (USC)", "Union syndicale des Collines", "USC", None),
        ("* Partido Operario da Serra - POS, Brazil", "Partido Operario da Serra", "POS", "BR"),
        ("12. Lega Operaia del Lago (Italia)", "Lega Operaia del Lago", None, "IT"),
        ("Радничка партија, Србија", "Радничка партија", None, "RS"),
        ("(7) Party of Labour;", "Party of Labour", None, None),
        (
            "4.\tSocialist Party (Marxist-Leninist)",
            "Socialist Party (Marxist-Leninist)",
            None,
            None,
        ),
    ],
)
def test_parse_line_layouts(line: str, name: str, short: str | None, country: str | None) -> None:
    entry = parse_line(line, 1)
    assert entry is not None
    assert (entry.name, entry.short_name, entry.country) == (name, short, country)


@pytest.mark.parametrize(
    "line",
    [
        "Signing Organizations",
        "SIGNED BY:",
        "Signatories",
        "## Organizacije potpisnice",
        "Подписавшие организации",
        "Организације потписнице:",
        "Signed by the following organizations:",
        "",
        "   ",
    ],
)
def test_headings_and_blanks_are_not_entries(line: str) -> None:
    assert parse_line(line, 1) is None


def test_plain_lines_inside_a_numbered_list_are_set_aside() -> None:
    parsed = parse_list("JOINT STATEMENT\n\n1. One Party\n2. Two Party\n3. Three Party\n")
    assert [e.name for e in parsed.entries] == ["One Party", "Two Party", "Three Party"]
    assert [e.text for e in parsed.skipped] == ["JOINT STATEMENT"]


def test_line_numbers_count_only_line_breaks() -> None:
    """A form feed or U+2028 inside a line neither ends it nor shifts later numbers."""
    parsed = parse_list("1. One Party\n\x0c2. Two\u2028Union\r\n3. Three Party\r4. Four\n")
    assert [e.line for e in parsed.entries] == [1, 2, 3, 4]
    assert [e.name for e in parsed.entries][3] == "Four"


def test_a_pasted_web_page_is_read_item_by_item() -> None:
    page = "<h2>Signing organizations</h2><ol><li>One &amp; Co Party, Greece</li><li>Two Union</li></ol>"
    assert [(e.name, e.country) for e in parse_list(page).entries] == [
        ("One & Co Party", "GR"),
        ("Two Union", None),
    ]
    # Words either side of an inline tag stay apart; a large saved page is read whole.
    page = "<style>" + "p {}" * 600_000 + "</style><ol><li>Harbour <b>Dockers</b> Union</li></ol>"
    assert [e.name for e in parse_list(page).entries] == ["Harbour Dockers Union"]


def test_fold_ignores_case_accents_quotes_and_script() -> None:
    assert fold("Radnička  Partija") == fold("radnicka partija")
    assert fold("Workers’ Party") == fold("Workers' Party") == fold("Workers Party")
    assert fold("Радничка партија") == fold("Radnička partija")
    assert fold("Ђурђевдан «Џеп»") == "djurdjevdan dzep" == fold("Đurđevdan „Džep“")
    assert fold("Объединённая партия труда") == "obedinennaja partija truda"
    assert fold("Київська спілка") == "kiivska spilka"  # Ukrainian letters too


@pytest.mark.parametrize("listing", ["list_en.txt", "list_mixed.md", "list_ru.txt"])
def test_realistic_lists_match_as_expected(db, listing: str) -> None:  # type: ignore[no-untyped-def]
    parsed = read_list(DATA / listing)
    plan = plan_import(db, parsed.entries)
    want = expected(listing.rsplit(".", 1)[0] + ".expected.tsv")
    assert len(plan) == len(want)
    line_to_entry = {m.entry.line: n for n, m in enumerate(plan, start=1)}
    for n, (match, row) in enumerate(zip(plan, want, strict=True), start=1):
        assert match.status == row[1], (n, match.entry.text, match.status, match.candidates)
        if row[1] == "matched":
            org = db["organization"].get(match.org_id)
            assert org["name"] == row[2], (n, match.entry.text, org["name"])
            if len(row) > 3:
                assert org["country"] == row[3]
        elif row[1] == "duplicate":
            assert line_to_entry[match.duplicate_of] == int(row[2]), (n, match.entry.text)
        else:
            assert match.org_id is None and len(match.candidates) == 3


def test_large_list_has_fifty_entries_and_typos_match_fuzzily(db) -> None:  # type: ignore[no-untyped-def]
    plan = plan_import(db, read_list(DATA / "list_en.txt").entries)
    assert len(plan) >= 50
    fuzzy = [m for m in plan if m.method and m.method.startswith("fuzzy")]
    assert fuzzy and all(m.candidates[0].score >= 90 for m in fuzzy)


def test_same_name_in_two_countries_without_a_country_is_not_guessed(db) -> None:  # type: ignore[no-untyped-def]
    (match,) = plan_import(db, parse_list("1. Workers' Party\n").entries)
    assert match.status == "unmatched"
    assert {c.country for c in match.candidates[:2]} == {"IE", "BE"}


def test_a_name_known_only_in_another_country_is_not_matched(db) -> None:  # type: ignore[no-untyped-def]
    (match,) = plan_import(db, parse_list("Communist Party of Norland, Sweden\n").entries)
    assert match.status == "unmatched"
    assert match.candidates[0].name == "Communist Party of Norland"


def test_create_marks_unmatched_entries_once(db) -> None:  # type: ignore[no-untyped-def]
    text = "1. Brand New Front, Chile\n2. Brand New Front, Chile\n3. Lega Operaia del Lago\n"
    plan = plan_import(db, parse_list(text).entries, create=True)
    assert [m.status for m in plan] == ["create", "duplicate", "matched"]


def test_names_in_other_languages_match(db) -> None:  # type: ignore[no-untyped-def]
    org_id = (
        db["organization"]
        .insert(
            {
                "name": "Partija rada",
                "country": "RS",
                "names": json.dumps({"ru": "Партия труда", "fr": "Parti du Travail"}),
                "created_at": "2026-01-01T00:00:00+00:00",
                "updated_at": "2026-01-01T00:00:00+00:00",
            }
        )
        .last_pk
    )
    plan = plan_import(db, parse_list("- Parti du travail\n").entries)
    assert (plan[0].org_id, plan[0].method) == (org_id, "name in fr")


# ---------------------------------------------------------------- properties

heading_lines = st.sampled_from(
    [*HEADINGS.values(), "Signed by", "SIGNATORIES:", "# Signing Organizations", "Signed by:"]
)
any_lines = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80).filter(
    lambda s: "\n" not in s and "\r" not in s
)


@given(st.lists(st.one_of(heading_lines, any_lines), max_size=30))
def test_parser_never_crashes_and_never_yields_headings(lines: list[str]) -> None:
    parsed = parse_list("\n".join(lines))
    headings = {fold(h) for h in HEADINGS.values()} | {"signed by", "signatories"}
    for entry in [*parsed.entries, *parsed.skipped]:
        assert fold(entry.name) not in headings
        assert fold(entry.name)
        assert "\n" not in entry.name


@given(st.text(max_size=300))
def test_parser_survives_any_text(text: str) -> None:
    parse_list(text)
