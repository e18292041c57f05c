"""`mailer campaign new|list|show`, `preview` and `check` end to end on real files."""

from __future__ import annotations

import json
import shutil
import tomllib
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


def test_show_and_list_follow_edits_of_the_statement_folder(campaign: Path, run: Run) -> None:
    folder = campaign / "templates" / "peace"
    toml = folder / "statement.toml"
    toml.write_text(toml.read_text().replace('title = "', 'title = "Corrected: '))
    (folder / "fr.md").unlink()
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert shown["title"].startswith("Corrected: ")
    assert shown["languages"] == ["en", "es", "sr-Latn", "sr-Cyrl"]
    assert "Corrected: " in run("campaign", "list").stdout
    shutil.rmtree(folder)  # gone: what the campaign had when it was made
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert not shown["title"].startswith("Corrected: ") and "fr" in shown["languages"]


def test_a_project_folder_can_be_moved_with_its_campaigns(
    campaign: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = campaign.parent / "moved"
    shutil.move(campaign, moved)
    monkeypatch.chdir(moved)
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert shown["statement_dir"] == str(moved / "templates" / "peace")
    assert shown["title"] == "Joint statement for peace"
    assert run("check", "peace").exit_code == 0


def test_a_project_whose_database_is_in_a_subfolder_can_be_moved_too(
    project: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    (project / "mailer.toml").write_text('[db]\npath = "data/party.db"\n')
    assert run("init", "--force").exit_code == 0
    shutil.copytree(STATEMENT, project / "templates" / "peace")
    assert run("campaign", "new", "peace", "--statement", "templates/peace").exit_code == 0
    moved = project.parent / "moved"
    shutil.move(project, moved)
    monkeypatch.chdir(moved)
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert shown["statement_dir"] == str(moved / "templates" / "peace")


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
    assert "Subject: Заједничка изјава за мир: молимо потпишите до 10. децембра 2026." in out
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
    assert "Subject: Reminder: Joint statement for peace: please sign by" in result.stdout


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
    assert ("deadline", "2026-12-10 is already past") not in problems
    assert "Nothing blocks" in run("check", "peace").stdout


def test_check_names_languages_whose_replies_cannot_be_read(campaign: Path, run: Run) -> None:
    folder = campaign / "templates" / "peace"
    (folder / "fi.md").write_text((folder / "en.md").read_text(encoding="utf-8"), encoding="utf-8")
    report = json.loads(run("check", "peace", "--json").stdout)
    assert report["ok"]
    unread = [p for p in report["problems"] if "no phrase file" in p["what"]]
    assert [(p["where"], p["severity"]) for p in unread] == [("fi", "info")]


def test_a_deadline_already_past_blocks_unless_forced(
    campaign: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NOW", "2026-12-11T09:00:00")
    result = run("check", "peace")
    assert result.exit_code == 1 and "2026-12-10 is already past" in result.stdout
    assert "mailer campaign edit peace --deadline DATE" in result.stdout
    forced = run("check", "peace", "--force")
    assert forced.exit_code == 0 and "already past (--force)" in forced.stdout
    assert run("campaign", "edit", "peace", "--deadline", "2026-12-20").exit_code == 0
    assert run("check", "peace").exit_code == 0


def test_check_blocks_on_a_template_error_and_notes_a_missing_address(
    campaign: Path, run: Run
) -> None:
    run("org", "optout", "epafi@emn.example.org")
    (campaign / "templates" / "peace" / "fr.md").write_text(
        "---\nsubject: Bonjour\n---\nChers {{ org.nom }}\n", encoding="utf-8"
    )
    result = run("check", "peace")
    assert result.exit_code == 1
    assert "BLOCKS" in result.stdout and "fr.md:4" in result.stdout
    report = json.loads(run("check", "peace", "--json").stdout)
    assert report["blocking"] == 1
    [missing] = [p for p in report["problems"] if "no deliverable address" in p["what"]]
    assert missing["severity"] == "info" and missing["what"].endswith("skipped")


BASQUE_ORGS = """name,short_name,country,languages,emails,tags
Euskal Herriko Langileen Batasuna,EHLB,ES,eu;es,nazioartea@ehlb.example.org;idazkaritza@ehlb.example.org,europe
Bizkaiko Ezker Sozialista,BES,ES,eu,harremanak@bes.example.org,europe
"""


def test_check_notes_once_per_language_whose_frame_strings_are_in_english(
    campaign: Path, run: Run
) -> None:
    (campaign / "basque.csv").write_text(BASQUE_ORGS, encoding="utf-8")
    assert run("org", "import", "basque.csv").exit_code == 0
    (campaign / "templates" / "peace" / "eu.md").write_text(
        '---\nsubject: "Bakearen aldeko adierazpen bateratua"\n---\n'
        "{{ org.name }} gonbidatzen dugu adierazpen hau sinatzera.\n",
        encoding="utf-8",
    )
    result = run("check", "peace", "--json")
    assert result.exit_code == 0, result.stdout
    problems = json.loads(result.stdout)["problems"]
    frame = [(p["where"], p["what"]) for p in problems if "frame strings" in p["what"]]
    assert frame == [
        (
            "eu",
            "3 recipients get the frame strings in English: add templates/layout/strings/eu.toml",
        )
    ]
    strings = campaign / "templates" / "layout" / "strings"
    (strings / "eu.toml").write_text(
        'salutation = "{{ org.name }} erakundeko burkide maiteak,"\n', encoding="utf-8"
    )
    english = tomllib.loads((strings / "en.toml").read_text(encoding="utf-8"))
    missing = [key for key in english if key not in ("salutation", "salutation_contact")]
    result = run("check", "peace")
    assert result.exit_code == 0 and "Nothing blocks" in result.stdout
    assert (
        f"eu 3 recipients get {len(missing)} frame string(s) in English"
        f" ({', '.join(missing)}): add them to templates/layout/strings/eu.toml"
    ) in " ".join(result.stdout.split())
    shown = run("preview", "peace", "--org", "BES").stdout
    assert "Bizkaiko Ezker Sozialista erakundeko burkide maiteak," in shown


def test_check_without_sender_blocks(with_orgs: Path, run: Run) -> None:
    assert run("campaign", "new", "p", "--statement", str(STATEMENT)).exit_code == 0
    result = run("check", "p")
    assert result.exit_code == 1 and "[sender] address is not set" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "blocks"),
    [
        ("MAILER_SMTP_URL", "smtp://relay.example.org", "sends mail unencrypted"),
        ("MAILER_SMTP_URL", "smtps://me:pw@127.0.0.1", "password"),
        ("MAILER_DKIM_DOMAIN", "party.example.org", "[dkim] selector and key_file are needed"),
    ],
)
def test_check_blocks_on_settings_that_send_would_refuse(
    campaign: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    blocks: str,
) -> None:
    monkeypatch.setenv(variable, value)
    result = run("check", "peace")
    assert result.exit_code == 1
    assert blocks in result.stdout and "Nothing blocks" not in result.stdout


def _front(subject_lines: str, body: str = "Hello\n") -> str:
    return f"---\n{subject_lines}---\n{body}"


# (files written over a copy of the example, extra options, message on stderr)
BAD_NEW = {
    "no title": ({"statement.toml": 'default_language = "en"\n'}, [], "title is required"),
    "no default language": (
        {"statement.toml": 'title = "T"\n'},
        [],
        "default_language is required",
    ),
    "unknown kind": (
        {"statement.toml": 'title = "T"\ndefault_language = "en"\nkind = "other"\n'},
        [],
        'statement.toml:3: kind must be "signon" or "call"',
    ),
    "no front matter": ({"fr.md": "Bonjour\n"}, [], "fr.md:1: must start with front matter"),
    "bad YAML": ({"fr.md": _front("subject: a: b\n")}, [], "fr.md:2: front matter is not valid"),
    "no subject": ({"fr.md": _front("preheader: p\n")}, [], "fr.md:2: the front matter needs"),
    "Jinja syntax": ({"fr.md": _front("subject: s\n", "a {% if %}\n")}, [], "fr.md:4: Expected"),
    "unknown variable": (
        {"fr.md": _front("subject: s\n", "\n{{ foo.bar }}\n")},
        [],
        "fr.md:5: 'foo' is undefined",
    ),
    "Python error": ({"fr.md": _front("subject: s\n", "\n\n{{ 1/0 }}\n")}, [], "fr.md:6: division"),
    "huge range": (
        {"fr.md": _front("subject: s\n", "{% for i in range(10**9) %}{% endfor %}\n")},
        [],
        "fr.md:4: ",
    ),
    "include": (
        {"fr.md": _front("subject: s\n", "{% include 'x.html' %}\n")},
        [],
        "fr.md:4: include, extends and import cannot be used",
    ),
    "two files, one language": ({"EN.md": _front("subject: s\n")}, [], "a second file for 'en'"),
    "reminder alone": ({"reminder.de.md": _front("subject: s\n")}, [], "there is no de.md"),
    "where syntax": ({}, ["--where", "country = ("], "is not a usable condition"),
    "two statements": ({}, ["--where", "1); DELETE FROM organization; --"], "not several"),
    "deadline word": ({}, ["--deadline", "tomorrow"], "deadline 'tomorrow' is not a date"),
    "unknown country": ({}, ["--country", "Narnia"], "--country: country 'Narnia'"),
}


@pytest.mark.parametrize("case", list(BAD_NEW))
def test_campaign_new_refuses_bad_input_in_one_sentence(
    with_orgs: Path, run: Run, case: str
) -> None:
    files, options, message = BAD_NEW[case]
    folder = with_orgs / "templates" / "bad"
    shutil.copytree(STATEMENT, folder)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    result = run("campaign", "new", "bad", "--statement", str(folder), *options)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert "internal error" not in result.stderr
    assert run("campaign", "list", "--json").stdout.strip() == "[]"
    assert json.loads(run("org", "list", "--json").stdout)  # --where changed nothing


def test_campaign_new_refuses_unreadable_statement_files(with_orgs: Path, run: Run) -> None:
    folder = with_orgs / "templates" / "bad"
    shutil.copytree(STATEMENT, folder)
    (folder / "de.md").write_bytes(b"---\nsubject: x\n---\n\xff\xfe\n")
    result = run("campaign", "new", "bad", "--statement", str(folder))
    assert result.exit_code == 1 and "de.md:4: not UTF-8 text" in result.stderr
    (folder / "de.md").unlink()
    (folder / "de.md").mkdir()
    result = run("campaign", "new", "bad", "--statement", str(folder))
    assert result.exit_code == 1 and "de.md: cannot be read" in result.stderr
    (folder / "de.md").rmdir()
    (with_orgs / "templates" / "layout" / "email.txt.j2").write_bytes(b"\xff{{ body }}")
    result = run("campaign", "new", "bad", "--statement", str(folder))
    assert result.exit_code == 1 and "email.txt.j2:1: not UTF-8 text" in result.stderr


def test_statement_files_saved_with_a_byte_order_mark_are_read(with_orgs: Path, run: Run) -> None:
    folder = with_orgs / "templates" / "bom"
    shutil.copytree(STATEMENT, folder)
    for name in ("statement.toml", "en.md"):
        (folder / name).write_bytes(b"\xef\xbb\xbf" + (folder / name).read_bytes())
    result = run("campaign", "new", "bom", "--statement", str(folder))
    assert result.exit_code == 0, result.stderr


def test_campaign_new_with_kind_country_and_deadline(with_orgs: Path, run: Run) -> None:
    result = run(
        "campaign", "new", "gr", "--statement", str(STATEMENT), "--kind", "call",
        "--country", "Greece", "--deadline", "2026-12-10",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = json.loads(run("campaign", "show", "gr", "--json").stdout)
    assert (shown["kind"], shown["deadline"]) == ("call", "2026-12-10")
    greek = json.loads(run("org", "list", "--json", "--country", "GR").stdout)
    assert shown["audience_definition"]["countries"] == ["GR"]
    assert shown["audience"] == len(greek) > 0


def test_campaign_new_folder_slug_and_duplicate(with_orgs: Path, run: Run) -> None:
    result = run("campaign", "new", "x", "--statement", "nowhere")
    assert result.exit_code == 1 and "nowhere: no such statement folder" in result.stderr
    (with_orgs / "afile").write_text("x")
    result = run("campaign", "new", "x", "--statement", "afile")
    assert result.exit_code == 2 and "is a file" in result.stderr
    for slug in ("peace 2026", "peace/2026", "Peace"):
        result = run("campaign", "new", slug, "--statement", str(STATEMENT))
        assert result.exit_code == 1 and "lower-case letters, digits and hyphens" in result.stderr
    assert run("campaign", "new", "p", "--statement", str(STATEMENT)).exit_code == 0
    result = run("campaign", "new", "p", "--statement", str(STATEMENT))
    assert result.exit_code == 1 and "a campaign named 'p' already exists" in result.stderr


def test_campaign_new_where_may_hold_a_semicolon_in_a_string(with_orgs: Path, run: Run) -> None:
    where = "name = 'a;b' OR short_name = 'HDU'"
    result = run("campaign", "new", "w", "--statement", str(STATEMENT), "--where", where)
    assert result.exit_code == 0, result.stderr
    assert "1 organizations" in result.stdout
    assert json.loads(run("campaign", "show", "w", "--json").stdout)["audience_definition"] == {
        "tags": [],
        "countries": [],
        "where": where,
    }


@pytest.mark.parametrize(
    "given, shown", [("sr", "sr-Latn"), ("SR-cyrl", "sr-Cyrl"), ("en_GB", "en"), ("es-MX", "es")]
)
def test_preview_lang_is_negotiated(campaign: Path, run: Run, given: str, shown: str) -> None:
    result = run("preview", "peace", "--lang", given)
    assert result.exit_code == 0, result.stderr
    assert f"Content-Language: {shown}\n" in result.stdout


def test_preview_refuses_unknown_language_org_and_path(campaign: Path, run: Run) -> None:
    result = run("preview", "peace", "--lang", "not a language")
    assert result.exit_code == 1 and result.stderr.startswith("Error: --lang: language")
    result = run("preview", "peace", "--org", "Nobody at all")
    assert result.exit_code == 1 and "no organization matches 'Nobody at all'" in result.stderr
    result = run("preview", "peace", "--html", "no/such/folder/x.html")
    assert result.exit_code == 1 and "no/such/folder/x.html" in result.stderr
    assert "internal error" not in result.stderr
    result = run("preview", "nope")
    assert result.exit_code == 1 and "no campaign named 'nope'" in result.stderr


def test_check_unknown_campaign_and_vanished_statement(campaign: Path, run: Run) -> None:
    result = run("check", "nope")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no campaign named 'nope'")
    shutil.rmtree(campaign / "templates" / "peace")
    result = run("check", "peace", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p["where"] for p in problems] == ["statement"]
    assert "no such statement folder" in problems[0]["what"]


def test_campaign_new_from_the_answers_to_another(campaign: Path, run: Run) -> None:
    assert run("sign", "peace", "RPSB").exit_code == 0
    assert run("sign", "peace", "ССЈД").exit_code == 0
    result = run(
        "campaign", "new", "thanks", "--statement", "templates/peace",
        "--signed", "peace", "--country", "RS",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "2 organizations" in result.stdout
    text = run("campaign", "show", "thanks").stdout
    assert "  audience:    2 organizations: organizations in RS, that signed peace," in text
    shown = json.loads(run("campaign", "show", "thanks", "--json").stdout)
    assert shown["audience_definition"]["signed"] == ["peace"]
    assert shown["audience_rule"].startswith("organizations in RS, that signed peace,")


def test_campaign_new_naming_an_unknown_campaign_is_a_usage_error(campaign: Path, run: Run) -> None:
    result = run(
        "campaign", "new", "again", "--statement", "templates/peace", "--not-signed", "paece"
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --not-signed: no campaign named 'paece' (the campaigns are: peace)\n"
    )
    assert json.loads(run("campaign", "list", "--json").stdout)[0]["slug"] == "peace"


def test_campaign_edit_through_the_cli(campaign: Path, run: Run) -> None:
    result = run("campaign", "edit", "peace", "--deadline", "2026-12-20", "--title", "Peace!")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "title: Joint statement for peace → Peace!\ndeadline: 2026-12-10 → 2026-12-20\n"
    )
    shown = json.loads(run("campaign", "show", "peace", "--json").stdout)
    assert (shown["title"], shown["deadline"]) == ("Peace!", "2026-12-20")
    preview = run("preview", "peace", "--org", "HDU").stdout
    assert "Please answer by December 20, 2026." in preview
    result = run("campaign", "edit", "peace")
    assert result.exit_code == 2 and "--title and/or --deadline" in result.stderr
    result = run("campaign", "edit", "peace", "--deadline", "20.12.2026")
    assert result.exit_code == 1
    assert result.stderr == "Error: deadline '20.12.2026' is not a date like 2026-12-10\n"


def test_campaign_delete_through_the_cli(campaign: Path, run: Run) -> None:
    assert run("sign", "peace", "HDU").exit_code == 0
    result = run("campaign", "delete", "peace", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: campaign 'peace' has 1 answer on record\n")
    assert "--force" in result.stderr
    result = run("campaign", "delete", "peace", "--force", "--yes")
    assert (result.exit_code, result.stdout) == (0, "Deleted campaign peace with its 1 answer.\n")
    assert "No campaigns yet" in run("campaign", "list").stdout


def test_check_names_a_custom_field_no_organization_has(
    with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    assert run("org", "edit", "HDU", "--field", "website=https://hdu.example.org").exit_code == 0
    folder = with_orgs / "templates" / "fields"
    shutil.copytree(STATEMENT, folder)
    en = folder / "en.md"
    en.write_text(en.read_text() + "\nSee {{ org.fields.webiste }}.\n")
    assert run("campaign", "new", "f", "--statement", str(folder), "--tag", "europe").exit_code == 0
    result = run("check", "f", "--json")
    assert result.exit_code == 1
    problems = [p for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    line = len(en.read_text().splitlines())
    assert [p["what"] for p in problems] == [
        f"{en}:{line}: org.fields has no column 'webiste' (the custom fields are: website)"
    ]
    en.write_text(en.read_text().replace("webiste", "website"))
    assert run("check", "f").exit_code == 0


def test_preview_greets_the_person_at_the_address_in_their_language(
    campaign: Path, run: Run
) -> None:
    result = run(
        "org", "contact", "HDU", "secretary@hdu.example.org", "--name", "Ana Petrović",
        "--lang", "sr-Latn", "--gender", "f",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = run("preview", "peace", "--org", "HDU").stdout
    assert "To: Harbour Dockers' Union <secretary@hdu.example.org>" in out
    assert "Content-Language: sr-Latn" in out and "\nDrugarice Ana,\n" in out


def test_a_thank_you_prints_the_list_as_signatories_prints_it(campaign: Path, run: Run) -> None:
    for org in ("RPSB", "ССЈД", "HDU"):
        assert run("sign", "peace", org).exit_code == 0
    thanks = campaign / "templates" / "thanks"
    shutil.copytree(campaign / "templates" / "example-thanks", thanks)
    toml = thanks / "statement.toml"
    toml.write_text(toml.read_text().replace('list_from = "peace-2026"', 'list_from = "paece"'))
    result = run("campaign", "new", "thanks", "--statement", str(thanks))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {toml}:8: list_from 'paece' is not a campaign (the campaigns are: peace)\n"
    )
    toml.write_text(toml.read_text().replace('"paece"', '"peace"'))
    result = run("campaign", "new", "thanks", "--statement", str(thanks), "--tag", "balkans")
    assert result.exit_code == 0, result.stderr
    for org, lang, thanked in (("RPSB", "sr-Latn", True), ("KOR", "sr-Latn", False)):
        text = run("preview", "thanks", "--org", org).stdout
        listed = run("signatories", "peace", "--lang", lang, "--with-country").stdout
        assert f"\n\n{listed}\n" in text
        assert ("Hvala vam što ste potpisali" in text) is thanked
        assert "Potpisujemo" not in text  # a thank-you asks for nothing
    assert run("check", "thanks").exit_code == 0
    result = run("campaign", "delete", "peace", "--force", "--yes")
    assert result.exit_code == 1
    assert "'peace' chooses the audience, or gives the list, of thanks" in result.stderr
