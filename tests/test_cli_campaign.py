"""`mailer campaign new|list|show`, `preview` and `check` end to end on real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, Run

STATEMENT = EXAMPLES / "statements" / "peace-statement"


@pytest.fixture
def campaign(with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    monkeypatch.setenv("MAILER_SENDER_NAME", "International Department")
    monkeypatch.setenv("MAILER_NOW", "2026-11-01T10:00:00")
    shutil.copytree(STATEMENT, with_orgs / "templates" / "peace")
    result = run("campaign", "new", "peace", "--statement", "templates/peace", "--tag", "europe")
    assert result.exit_code == 0, result.stderr
    assert "Created campaign peace" in result.stdout and "16 organizations" in result.stdout
    return with_orgs


def test_init_writes_the_layout_and_an_example(initialized: Path) -> None:
    assert (initialized / "templates" / "layout" / "strings" / "sr-Cyrl.toml").is_file()
    assert (initialized / "templates" / "example-call" / "statement.toml").is_file()


def test_show_and_list_json_shapes(campaign: Path, run: Run) -> None:
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert {"slug", "title", "kind", "languages", "deadline", "audience", "waves"} <= set(shown)
    assert shown["slug"] == "peace" and shown["audience"] == 16 and shown["waves"] == 0
    assert shown["languages"] == ["en", "es", "fr", "sr-Latn", "sr-Cyrl"]
    assert shown["deadline"] == "2026-12-10"
    listed = json.loads(run("campaign", "list", "--json").stdout)
    assert [c["slug"] for c in listed] == ["peace"]
    text = run("campaign", "show", "peace").stdout
    assert "16 organizations" in text and "europe" in text


def test_unknown_campaign_is_one_clear_error(initialized: Path, run: Run) -> None:
    result = run("campaign", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no campaign named 'nope'")


def test_campaign_new_reports_template_errors_with_file_and_line(with_orgs: Path, run: Run) -> None:
    folder = with_orgs / "templates" / "bad"
    shutil.copytree(STATEMENT, folder)
    (folder / "es.md").write_text("---\nsubject: x\n---\n\n{{ ''.__class__.__mro__ }}\n")
    result = run("campaign", "new", "bad", "--statement", str(folder))
    assert result.exit_code == 1
    assert "es.md:5" in result.stderr and "Traceback" not in result.stderr
    assert "unsafe" in result.stderr


def test_campaign_new_bad_where(with_orgs: Path, run: Run) -> None:
    result = run("campaign", "new", "x", "--statement", str(STATEMENT), "--where", "nosuch = 1")
    assert result.exit_code == 1 and "no such column" in result.stderr


def test_preview_shows_decoded_headers_and_text(campaign: Path, run: Run) -> None:
    result = run("preview", "peace", "--org", "ССЈД", "--html", "out.html")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "To: Социјалистички савез Јужне Долине <kontakt@ssjd.example.org>" in out
    assert "Subject: Заједничка изјава за мир: молимо потпишите до 10. децембар 2026." in out
    assert "Content-Language: sr-Cyrl" in out
    assert "Другови из организације Социјалистички савез Јужне Долине," in out
    assert "transliterated from sr-Latn" in result.stderr
    html = (campaign / "out.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "style=" in html


def test_preview_defaults_to_the_first_org_and_takes_a_language(campaign: Path, run: Run) -> None:
    result = run("preview", "peace", "--lang", "es")
    assert result.exit_code == 0, result.stderr
    assert (
        "New Workers' Party of Atlantis" in result.stdout and "Estimados camaradas" in result.stdout
    )
    result = run("preview", "peace", "--lang", "de")
    assert result.exit_code == 1 and "no text in 'de'" in result.stderr


def test_preview_reminder(campaign: Path, run: Run) -> None:
    result = run("preview", "peace", "--org", "HDU", "--reminder")
    assert "Subject: Reminder: joint statement for peace" in result.stdout


def test_check_passes_and_lists_information(campaign: Path, run: Run) -> None:
    run("org", "optout", "LOL")
    run("org", "optout", "press@nwpa.example.org")
    result = run("check", "peace", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["blocking"] == 0
    assert report["organizations"] == 15 and report["rendered"] == report["recipients"] == 18
    problems = {(p["where"], p["what"]) for p in report["problems"]}
    assert ("Lega Operaia del Lago", "opted out: skipped") in problems
    assert (
        "New Workers' Party of Atlantis",
        "press@nwpa.example.org is unsubscribed: skipped",
    ) in problems
    assert any("none of its languages (ru)" in what for _, what in problems)
    assert "Nothing blocks" in run("check", "peace").stdout


def test_check_blocks_on_missing_address_and_template_error(campaign: Path, run: Run) -> None:
    run("org", "optout", "epafi@emn.example.org")
    (campaign / "templates" / "peace" / "fr.md").write_text(
        "---\nsubject: Bonjour\n---\nChers {{ org.nom }}\n", encoding="utf-8"
    )
    result = run("check", "peace")
    assert result.exit_code == 1
    assert "BLOCKS" in result.stdout and "no deliverable address" in result.stdout
    assert "fr.md:4" in result.stdout
    report = json.loads(run("check", "peace", "--json").stdout)
    assert report["blocking"] == 2


def test_check_without_sender_blocks(with_orgs: Path, run: Run) -> None:
    assert run("campaign", "new", "p", "--statement", str(STATEMENT)).exit_code == 0
    result = run("check", "p")
    assert result.exit_code == 1 and "[sender] address is not set" in result.stdout
