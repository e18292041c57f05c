"""Reading published lists back: parsing every common layout, matching the
entries to organizations (exact, short name, other languages, fuzzy, country),
and the property that no text crashes the parser or yields a heading."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.db import open_db
from mailer.importing import import_orgs
from mailer.signon import (
    HEADINGS,
    Entry,
    Heading,
    Skipped,
    country_code,
    fold,
    parse_line,
    parse_list,
    plan_import,
    read_list,
)

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
        ("12. Lega Operaia del Lago (Italia)", "Lega Operaia del Lago (Italia)", None, "IT"),
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
        "Potpisnici",
        "POTPISNICI:",
        "Firmantes:",
        "**Organizaciones firmantes**",
        "Signataires",
        "İmzacı örgütler",
        "Europe",
        "América Latina:",
    ],
)
def test_headings_are_not_entries(line: str) -> None:
    assert parse_line(line, 1) == Heading()


@pytest.mark.parametrize("line", ["", "   ", "\u00a0\u200b", "---", "* * *"])
def test_blank_lines_and_rules_are_nothing(line: str) -> None:
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


LISTS = ["list_en.txt", "list_mixed.md", "list_ru.txt", "list_namesakes.txt", "list_es_sr.txt"]


@pytest.mark.parametrize("listing", LISTS)
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
                assert org["country"] == row[3], (n, match.entry.text)
        elif row[1] == "duplicate":
            assert line_to_entry[match.duplicate_of] == int(row[2]), (n, match.entry.text)
        else:
            assert match.org_id is None and match.candidates, (n, match.entry.text)
            if len(row) > 2:
                assert match.candidates[0].name == row[2], (n, match.entry.text)


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


# ---------------------------------------------------------------- every word counts


@pytest.fixture
def few(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A database that knows only the Italian of two namesakes, and a few others."""
    csv = tmp_path / "few.csv"
    csv.write_text(
        "name,short_name,country,languages\n"
        "Communist Party (Italy),,IT,it\n"
        "Communist Party of Greece,KKE,GR,el;en\n"
        "Workers' League of the Plains,WLP,US,en\n",
        encoding="utf-8",
    )
    database = open_db(tmp_path / "few.db")
    import_orgs(database, csv)
    yield database
    database.close()


def test_create_keeps_namesakes_told_apart_by_a_qualifier(tmp_path: Path) -> None:
    """Issue 12: both used to become "Communist Party", the second a "duplicate"."""
    empty = open_db(tmp_path / "empty.db")
    text = "1. Communist Party (Switzerland)\n2. Communist Party (Italy)\n"
    plan = plan_import(empty, parse_list(text).entries, create=True)
    assert [(m.status, m.entry.name, m.entry.country) for m in plan] == [
        ("create", "Communist Party (Switzerland)", "CH"),
        ("create", "Communist Party (Italy)", "IT"),
    ]


def test_a_namesake_of_another_country_is_no_candidate_for_create(few) -> None:  # type: ignore[no-untyped-def]
    text = "1. Communist Party (Switzerland)\n2. Communist Party (Italy)\n"
    swiss, italian = plan_import(few, parse_list(text).entries, create=True)
    assert (swiss.status, swiss.near) == ("create", False)
    assert swiss.candidates[0].name == "Communist Party (Italy)"
    assert swiss.candidates[0].score < 75  # the other country counts against it
    assert (italian.status, italian.org_name, italian.method) == (
        "matched",
        "Communist Party (Italy)",
        "name",
    )


def test_create_lists_an_entry_close_to_a_known_organization_instead(few) -> None:  # type: ignore[no-untyped-def]
    text = (
        "- Comunist Party of Greec\n"
        "- Revolutionary Workers’ League of the Plains\n"
        "- Workers League of the Plains, Canada\n"
        "- Brand New Front\n"
    )
    greek, league, canadian, new = plan_import(few, parse_list(text).entries, create=True)
    assert (greek.status, greek.org_name) == ("matched", "Communist Party of Greece")
    assert (league.status, league.near) == ("unmatched", True)
    assert league.candidates[0].name == "Workers' League of the Plains"
    assert 75 <= league.candidates[0].score < 90
    assert canadian.status == "create"  # a namesake in another country: no near match
    assert canadian.candidates[0].score < 75
    assert new.status == "create"


@pytest.mark.parametrize(
    ("line", "country"),
    [
        ("Levica Macedonia", "MK"),
        ("Levica North Macedonia", "MK"),
        ("Levica – Северна Македонија", "MK"),
        ("Levica Macédoine du Nord", "MK"),
        ("Levica (MK)", "MK"),
        ("Levica, SI", "SI"),
        ("Levica Slovenia", "SI"),
        ("Levica Eslovenia", "SI"),
        ("Levica (Slowenien)", "SI"),
    ],
)
def test_a_country_named_anywhere_in_the_entry_decides(db, line: str, country: str) -> None:  # type: ignore[no-untyped-def]
    (match,) = plan_import(db, parse_list(line).entries)
    assert match.status == "matched", match.candidates
    assert db["organization"].get(match.org_id)["country"] == country


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("PCTE España", "Communist Party of the Workers of Spain"),
        ("PCPE Spain", "Communist Party of the Peoples of Spain"),
        ("KKE Греция", "Communist Party of Greece"),
        ("KKE Ελλάδα", "Communist Party of Greece"),
        ("KKE (Grčka)", "Communist Party of Greece"),
        ("Workers' Party – WPI", "Workers' Party"),
    ],
)
def test_an_acronym_with_a_country_matches(db, line: str, name: str) -> None:  # type: ignore[no-untyped-def]
    (match,) = plan_import(db, parse_list(line).entries)
    assert (match.status, match.org_name) == ("matched", name), match.candidates


def test_an_acronym_decides_between_namesakes(db) -> None:  # type: ignore[no-untyped-def]
    text = "1. Workers’ Party – WPB\n2. Workers’ Party (WPI)\n"
    belgian, irish = plan_import(db, parse_list(text).entries)
    assert db["organization"].get(belgian.org_id)["country"] == "BE"
    assert db["organization"].get(irish.org_id)["country"] == "IE"


def test_the_same_acronym_in_another_country_is_not_matched(db) -> None:  # type: ignore[no-untyped-def]
    (match,) = plan_import(db, parse_list("KKE, Cyprus\n").entries)
    assert match.status == "unmatched"


def test_a_country_heading_gives_its_country_to_the_entries_below() -> None:
    text = "Grčka:\n- KKE\n\nSlovenija\n- Levica\nSeverna Makedonija\n- Levica\n- PADS, Algeria\n"
    parsed = parse_list(text)
    assert [(e.name, e.country) for e in parsed.entries] == [
        ("KKE", "GR"),
        ("Levica", "SI"),
        ("Levica", "MK"),
        ("PADS", "DZ"),
    ]
    assert parsed.skipped == []


def test_two_letter_acronyms_in_parentheses_and_three_letter_ones_are_not_countries() -> None:
    for line, short in [
        ("Partido Acción Nacional (PAN)", "PAN"),
        ("Parti socialiste (PS)", "PS"),
        ("Partido Comunista del Perú – PCP", "PCP"),
    ]:
        entry = parse_line(line, 1)
        assert isinstance(entry, Entry) and (entry.short_name, entry.country) == (short, None)
    entry = parse_line("Levica, MK", 1)
    assert isinstance(entry, Entry) and (entry.name, entry.country) == ("Levica", "MK")


def test_spaces_tabs_and_invisible_marks_as_pasted_from_the_web() -> None:
    entry = parse_line("1.\u00a0\u00a0Communist\u00a0Party\u200b (Italy)\u200f ", 1)
    assert isinstance(entry, Entry)
    assert (entry.name, entry.country) == ("Communist Party (Italy)", "IT")
    entry = parse_line("3\tPADS\tAlgeria", 1)  # columns pasted from a spreadsheet
    assert isinstance(entry, Entry) and (entry.name, entry.country, entry.numbered) == (
        "PADS",
        "DZ",
        True,
    )
    entry = parse_line("No. 4. „Radnička partija“ — RP.", 1)
    assert isinstance(entry, Entry) and (entry.name, entry.short_name) == ("Radnička partija", "RP")


def test_lines_that_name_no_organization_are_reported_with_the_reason() -> None:
    parsed = parse_list(
        "# Joint statement\n\n1. One Party\n2.\n3. Two Party\n4. " + "word " * 60 + "\n"
    )
    assert [e.name for e in parsed.entries] == ["One Party", "Two Party"]
    assert [(s.line, s.reason) for s in parsed.skipped] == [
        (1, "a title, not a name"),
        (4, "a number with no name"),
        (6, "too long to be a name"),
    ]


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
    for entry in parsed.entries:
        assert fold(entry.name) not in headings
        assert fold(entry.name)
        assert "\n" not in entry.name


@given(st.lists(st.one_of(heading_lines, any_lines), max_size=30))
def test_every_line_is_an_entry_a_reported_line_a_heading_or_blank(lines: list[str]) -> None:
    """No line is lost: each becomes one entry or one reported line, unless it is a
    heading or has no letter or digit at all."""
    text = "\n".join(lines)
    parsed = parse_list(text)
    if re.search(r"(?i)<(li|p|br|div|ol|ul)\b", text):
        return  # a web page is read as its text, not line by line
    taken = [e.line for e in parsed.entries] + [s.line for s in parsed.skipped]
    assert len(taken) == len(set(taken))
    for number, raw in enumerate(text.split("\n"), start=1):
        kind = parse_line(raw, number)
        assert (number in taken) == isinstance(kind, (Entry, Skipped)), raw
        if kind is None:
            assert not any(c.isalnum() for c in raw), raw


WORDS = ["Workers", "Party", "Union", "Front", "Communist", "Radnička", "partija", "Союз",
         "трудящихся", "Κόμμα", "Partido", "Obrero", "Liga", "Youth", "of", "the", "del",
         "People's", "Socialist", "Movement", "Federation", "Marxist-Leninist", "(Bolshevik)"]  # fmt: skip
COUNTRIES = [("Greece", "GR"), ("España", "ES"), ("Греция", "GR"), ("Srbija", "RS"),
             ("Deutschland", "DE"), ("Türkiye", "TR"), ("GR", "GR"), ("North Macedonia", "MK")]  # fmt: skip
names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(
    lambda ws: " ".join([ws[0][0].upper() + ws[0][1:], *ws[1:]])
)
acronyms = st.text(alphabet="ABCDEKLMNOPRSTUW", min_size=3, max_size=6).filter(
    lambda a: country_code(a) is None
)


@given(
    name=names,
    acronym=st.none() | acronyms,
    country=st.none() | st.sampled_from(COUNTRIES),
    number=st.sampled_from(["", "1. ", "12) ", "• ", "- ", "3.\t", "(4) ", "No. 5. "]),
    dash=st.sampled_from([" – ", " — ", " - ", "\u00a0–\u00a0"]),
    quotes=st.sampled_from([("", ""), ("“", "”"), ("„", "“"), ("«", "»"), ('"', '"')]),
    space=st.sampled_from([" ", "\u00a0", "  "]),
)
def test_a_written_entry_reads_back_as_written(
    name: str,
    acronym: str | None,
    country: tuple[str, str] | None,
    number: str,
    dash: str,
    quotes: tuple[str, str],
    space: str,
) -> None:
    line = number + quotes[0] + name.replace(" ", space) + quotes[1]
    if acronym:
        line += dash + acronym
    if country:
        line += ", " + country[0]
    entry = parse_line(line, 7)
    assert isinstance(entry, Entry), line
    assert (entry.name, entry.short_name) == (name, acronym), line
    assert entry.country == (country[1] if country else None), line
    assert entry.numbered == bool(number), line


@given(st.text(max_size=300))
def test_parser_survives_any_text(text: str) -> None:
    parse_list(text)
