"""`mailer init` and `mailer org …` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.conftest import EXAMPLES, Run


def test_init_refuses_to_overwrite_and_force_keeps_the_database(project: Path, run: Run) -> None:
    assert run("init").exit_code == 0
    assert (project / "contacts.db").exists() and (project / "templates").is_dir()
    again = run("init")
    assert again.exit_code == 1
    assert "already exist" in again.stderr and "--force" in again.stderr
    run("org", "add", "Kept", "--email", "k@k.example.org")
    forced = run("init", "--force")
    assert forced.exit_code == 0 and "(kept)" in forced.stdout
    assert "Kept" in run("org", "list").stdout


def test_init_force_adds_what_is_missing_and_keeps_what_the_user_made(
    project: Path, run: Run
) -> None:
    assert run("init").exit_code == 0
    config = project / "mailer.toml"
    text = config.read_text().replace('path = "contacts.db"', 'path = "data/party.db"')
    config.write_text(text.replace('# address = ""', 'address = "intl@party.example.org"'))
    (project / "data").mkdir()
    assert run("init", "--force").exit_code == 0  # creates data/party.db
    assert run("org", "add", "Kept Party", "--email", "k@k.example.org").exit_code == 0
    layout = project / "templates" / "layout" / "email.html.j2"
    layout.write_text(layout.read_text() + "<!-- our own footer -->\n")
    (project / "templates" / "layout" / "email.txt.j2").unlink()
    forced = run("init", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "mailer.toml (values kept)" in forced.stdout and "party.db (kept)" in forced.stdout
    rewritten = config.read_text()
    assert 'path = "data/party.db"' in rewritten
    assert 'address = "intl@party.example.org"' in rewritten
    assert "our own footer" in layout.read_text()  # an edited template is never replaced
    assert (project / "templates" / "layout" / "email.txt.j2").is_file()  # a missing one is back
    assert "Kept Party" in run("org", "list").stdout
    # A key mailer does not know is for the user to fix: nothing is set aside or lost.
    config.write_text(rewritten + "backup = true\n")
    unknown = run("init", "--force")
    assert unknown.exit_code == 1 and "unknown key [dkim] backup" in unknown.stderr
    assert config.read_text().endswith("backup = true\n")
    assert not (project / "mailer.toml.bak").exists()
    # A mailer.toml that is not TOML at all is kept aside, not lost...
    (project / "contacts.db").write_text("no database")
    config.write_text("[db\npath = ")
    refused = run("init", "--force")  # ...unless the set-up fails: then all is as it was
    assert refused.exit_code == 1 and "not a usable SQLite database" in refused.stderr
    assert config.read_text() == "[db\npath = " and not (project / "mailer.toml.bak").exists()
    (project / "contacts.db").unlink()
    broken = run("init", "--force")
    assert broken.exit_code == 0, broken.stderr
    assert (project / "mailer.toml.bak").read_text() == "[db\npath = "
    assert "mailer.toml.bak (the mailer.toml that was not TOML, kept)" in broken.stdout


def test_init_creates_the_database_that_db_or_mailer_db_names(
    project: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("--db", "party.db", "init")
    assert result.exit_code == 0, result.stderr
    assert (project / "party.db").is_file() and not (project / "contacts.db").exists()
    monkeypatch.setenv("MAILER_DB", "party.db")
    assert run("org", "list").exit_code == 0  # the next command finds it
    monkeypatch.setenv("MAILER_DB", "~nobody-at-all/x.db")
    odd = run("org", "list")
    assert odd.exit_code == 1
    assert odd.stderr.startswith("Error: [db] path '~nobody-at-all/x.db' (MAILER_DB): not a usable")


def test_commands_work_from_a_subfolder_of_the_project(
    with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = with_orgs / "templates" / "layout"
    monkeypatch.chdir(sub)
    listed = run("org", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 30  # the project's database, found from below
    assert not (sub / "contacts.db").exists()


def test_a_mailer_toml_saved_with_a_byte_order_mark_is_read(project: Path, run: Run) -> None:
    assert run("init").exit_code == 0
    config = project / "mailer.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    assert run("org", "list").exit_code == 0


def test_commands_without_a_database_say_how_to_start(project: Path, run: Run) -> None:
    result = run("org", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no database at ")
    assert "mailer init" in result.stderr


def test_org_list_json_has_the_design_shape(with_orgs: Path, run: Run) -> None:
    result = run("org", "list", "--json", "--country", "RS")
    assert result.exit_code == 0
    orgs = json.loads(result.stdout)
    assert len(orgs) == 3
    assert set(orgs[0]) >= {
        "id",
        "name",
        "short_name",
        "country",
        "languages",
        "tags",
        "emails",
        "do_not_contact",
    }
    assert {o["languages"][0] for o in orgs} == {"sr-Latn", "sr-Cyrl"}


def test_org_list_table_and_default_subcommand(with_orgs: Path, run: Run) -> None:
    result = run("org")
    assert result.exit_code == 0
    assert "Arbeiterbund am Fluss" in result.stdout
    assert result.stdout.rstrip().endswith("30 organizations")


def test_org_add_show_edit_merge_optout(initialized: Path, run: Run) -> None:
    added = run(
        "org",
        "add",
        "Party of Labour",
        "--short",
        "PL",
        "--country",
        "Greece",
        "--email",
        "a@pl.example.org",
        "--lang",
        "el,en",
        "--tag",
        "europe",
        "--name-in",
        "sr-Cyrl=Партија рада",
    )
    assert added.exit_code == 0, added.stderr
    run("org", "add", "Party of Labor", "--email", "b@pl.example.org")
    shown = json.loads(run("org", "show", "PL", "--json").stdout)
    assert shown["country"] == "GR" and shown["names"] == {"sr-Cyrl": "Партија рада"}
    edited = run("org", "edit", "PL", "--add-tag", "party", "--country", "CY")
    assert edited.exit_code == 0 and "country: 'GR' → 'CY'" in edited.stdout
    merged = run("org", "merge", "PL", "Party of Labor")
    assert merged.exit_code == 0 and "Merged Party of Labor into Party of Labour" in merged.stdout
    assert json.loads(run("org", "show", "b@pl.example.org", "--json").stdout)["id"] == shown["id"]
    assert run("org", "optout", "PL").exit_code == 0
    assert json.loads(run("org", "show", "PL", "--json").stdout)["do_not_contact"] is True
    refused = run("org", "optout", "PL", "--undo", input="n\n")
    assert refused.exit_code == 1
    assert json.loads(run("org", "show", "PL", "--json").stdout)["do_not_contact"] is True
    undone = run("org", "optout", "PL", "--undo", "--yes")
    assert undone.exit_code == 0, undone.stderr
    assert json.loads(run("org", "show", "PL", "--json").stdout)["do_not_contact"] is False


def test_bad_input_is_one_sentence_without_traceback(initialized: Path, run: Run) -> None:
    result = run("org", "add", "X", "--email", "broken@", "--country", "GR")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: organization 'X': email 'broken@' is not valid")
    assert "Traceback" not in result.stderr
    missing = run("org", "show", "Nobody")
    assert missing.exit_code == 1 and "no organization matches 'Nobody'" in missing.stderr
    # an address mail could never go to (it would need SMTPUTF8) is refused on entry
    umlaut = run("org", "add", "Umlaut", "--email", "jöse@bücher.example")
    assert umlaut.exit_code == 1 and "before the @-sign are not supported" in umlaut.stderr
    assert run("org", "add", "IDN", "--email", "intl@bücher.example").exit_code == 0
    # a right-to-left override would show the rest of the name (and line) reversed
    spoof = run("org", "add", "الحزب \u202egnp.exe")
    assert spoof.exit_code == 1 and "contains a control character" in spoof.stderr


def test_import_dry_run_then_real_then_export(initialized: Path, run: Run, tmp_path: Path) -> None:
    source = str(EXAMPLES / "organizations.csv")
    dry = run("org", "import", source, "--dry-run")
    assert dry.exit_code == 0
    assert "would create" in dry.stdout and "30 created" in dry.stdout
    assert json.loads(run("org", "list", "--json").stdout) == []
    assert "30 created" in run("org", "import", source).stdout
    out = tmp_path / "export.csv"
    assert run("org", "export", "-o", str(out)).exit_code == 0
    assert "0 created, 0 updated, 30 unchanged" in run("org", "import", str(out)).stdout


def test_invalid_import_lists_rows_and_exits_1(initialized: Path, run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nA,a@a.example.org\nB,nope\n,c@c.example.org\n")
    result = run("org", "import", str(bad))
    assert result.exit_code == 1
    assert "2 invalid rows; nothing was imported" in result.stderr
    assert "bad.csv:3:" in result.stderr and "bad.csv:4: name is missing" in result.stderr
    skipped = run("org", "import", str(bad), "--skip-invalid")
    assert skipped.exit_code == 0 and "1 created" in skipped.stdout


def test_bad_config_value_is_reported_with_the_file(initialized: Path, run: Run) -> None:
    (initialized / "mailer.toml").write_text('[smtp]\nrate = "fast"\n')
    result = run("org", "list")
    assert result.exit_code == 1
    assert "mailer.toml: [smtp] rate: expected" in result.stderr


def test_help_lists_every_command_group(project: Path, run: Run) -> None:
    text = run("--help").stdout
    for name in (
        "init",
        "org",
        "campaign",
        "preview",
        "check",
        "send",
        "inbox",
        "replies",
        "reply",
        "sign",
        "signon",
        "status",
        "remind",
        "signatories",
        "demo",
    ):
        assert f"  {name} " in text


def test_an_address_of_another_organization_is_refused_by_name(with_orgs: Path, run: Run) -> None:
    result = run("org", "edit", "NWPA", "--add-email", "medjunarodno@rpsb.example.org")
    assert result.exit_code == 1
    assert "already belongs to 'Radnička partija Severnog Brega' (id 2)" in result.stderr
    assert "medjunarodno@rpsb.example.org" not in run("org", "show", "NWPA").stdout


def test_init_into_a_file_is_one_clear_error(project: Path, run: Run) -> None:
    (project / "taken").write_text("a file")
    assert run("init", "--dir", "taken").exit_code == 2  # Click: "is a file"
    result = run("init", "--dir", "taken/inside")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot set up taken/inside:")
    assert "internal error" not in result.stderr
    # a database that is no database: refused before anything else is written
    (project / "bad").mkdir()
    (project / "bad" / "contacts.db").write_text("garbage")
    result = run("init", "--dir", "bad")
    assert result.exit_code == 1 and "contacts.db: not a usable SQLite database" in result.stderr
    assert sorted(p.name for p in (project / "bad").iterdir()) == ["contacts.db"]
    # a file where the templates need a folder: named, not "None (None)"
    (project / "busy" / "templates").mkdir(parents=True)
    (project / "busy" / "templates" / "layout").write_text("in the way")
    result = run("init", "--dir", "busy", "--force")
    assert result.exit_code == 1 and "busy/templates/layout" in result.stderr
    assert "None" not in result.stderr


def test_bad_filters_and_options_are_clear(with_orgs: Path, run: Run) -> None:
    bad_country = run("org", "list", "--country", "Atlantis")
    assert bad_country.exit_code == 1
    assert "country 'Atlantis' is not an ISO 3166 code" in bad_country.stderr
    bad_name = run("org", "edit", "NWPA", "--name-in", "broken")
    assert bad_name.exit_code == 2 and "expected LANG=NAME" in bad_name.stderr
    for path in ("/dev/null", str(Path(__file__))):
        result = run("org", "import", path)
        assert result.exit_code == 1 and result.stderr.startswith("Error: ")


def test_export_to_a_missing_folder_is_one_clear_error(with_orgs: Path, run: Run) -> None:
    result = run("org", "export", "-o", "no/such/folder/orgs.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no/such/folder/orgs.csv: cannot write the export")


BAD_FILES = {
    "dup.csv": ("name,email,name\nA,a@y.org,B\n", "dup.csv:1: the column 'name' appears twice"),
    "open.vcf": (
        "BEGIN:VCARD\nFN:Card One\nEMAIL:c1@x.org\nBEGIN:VCARD\nFN:Card Two\nEND:VCARD\n",
        "open.vcf:1: this card is not closed with END:VCARD",
    ),
    "cut.vcf": ("BEGIN:VCARD\nFN:Open\n", "cut.vcf:1: this card is not closed"),
    "garbage.vcf": ("garbage\n", "garbage.vcf: no vCard in the file"),
    "old.vcf": (
        "BEGIN:VCARD\nVERSION:2.1\nFN;ENCODING=QUOTED-PRINTABLE:=D0=9F\nEND:VCARD\n",
        "old.vcf:3: quoted-printable values (vCard 2.1) are not read",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_files_that_would_lose_data_are_refused(
    initialized: Path, run: Run, tmp_path: Path, name: str
) -> None:
    text, message = BAD_FILES[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run("org", "import", str(tmp_path / name))
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert json.loads(run("org", "list", "--json").stdout) == []


def test_a_tag_with_the_file_separator_is_refused(initialized: Path, run: Run) -> None:
    result = run("org", "add", "Semi", "--tag", "a;b")
    assert result.exit_code == 1 and "contains ';', which separates tags" in result.stderr
    assert run("org", "add", "Comma", "--tag", "a,b").exit_code == 0  # a comma is fine in a tag


def test_optout_of_an_address_and_its_undo(with_orgs: Path, run: Run) -> None:
    email = "secretary@hdu.example.org"
    assert "will not be mailed again" in run("org", "optout", email).stdout
    undo = run("org", "optout", email.upper(), "--undo", "--yes")
    assert undo.exit_code == 0 and f"{email} may be mailed again" in undo.stdout
    again = run("org", "optout", email, "--undo", "--yes")
    assert "was not opted out; nothing changed" in again.stdout
    db = Database(with_orgs / "contacts.db")
    db.execute("UPDATE address SET status = 'bounced' WHERE email = ?", [email])
    db.conn.commit()
    bounced = run("org", "optout", email, "--undo", "--yes")
    assert "is bounced, not opted out, so it stays unmailed" in bounced.stdout
    assert db.execute("SELECT status FROM address WHERE email = ?", [email]).fetchone() == (
        "bounced",
    )


def test_an_address_is_found_however_its_letters_are_composed(initialized: Path, run: Run) -> None:
    assert run("org", "add", "IDN", "--email", "intl@b\u00fccher.example").exit_code == 0
    decomposed = "intl@bu\u0308cher.example"  # the same text as typed on another keyboard
    shown = run("org", "show", decomposed)
    assert shown.exit_code == 0 and "IDN" in shown.stdout
    taken = run("org", "add", "IDN2", "--email", decomposed)
    assert taken.exit_code == 1 and "already belongs to 'IDN'" in taken.stderr


def test_the_event_log_names_the_command_of_each_change(initialized: Path, run: Run) -> None:
    assert run("org", "add", "Named", "--email", "n@n.example.org").exit_code == 0
    assert run("org", "edit", "Named", "--country", "GR").exit_code == 0
    assert run("org").exit_code == 0  # the default subcommand reads and logs nothing
    db = Database(initialized / "contacts.db")
    commands = [r[0] for r in db.execute("SELECT DISTINCT command FROM event ORDER BY id")]
    assert commands == ["org add", "org edit"]


def test_people_and_custom_fields_through_the_cli(initialized: Path, run: Run) -> None:
    (initialized / "orgs.csv").write_text(
        "name,short_name,country,languages,email,contact_name,contact_role,Website\n"
        "Radnička partija Severnog Brega,RPSB,RS,sr-Latn;en,ana@rpsb.example.org,"
        "Ana Petrović,international secretary,https://rpsb.example.org\n",
        encoding="utf-8",
    )
    result = run("org", "import", "orgs.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Columns kept as custom fields: website (`mailer org show` shows them;"
        " {{ org.fields.website }} in a statement).\n"
        "1 created, 0 updated, 0 unchanged (saved).\n"
    )
    result = run(
        "org", "contact", "RPSB", "ana@rpsb.example.org", "--lang", "sr-Latn,en", "--gender", "f"
    )
    assert result.stdout == "ana@rpsb.example.org: Ana Petrović, international secretary.\n"
    assert run("org", "edit", "RPSB", "--field", "phone=+381 11 1").exit_code == 0
    shown = run("org", "show", "RPSB").stdout
    assert "  website: https://rpsb.example.org\n  phone: +381 11 1\n" in shown
    assert "Ana Petrović  international secretary  ana@rpsb.example.org  sr-Latn, en  f\n" in shown
    result = run("org", "contact", "RPSB", "nobody@rpsb.example.org", "--name", "X")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: nobody@rpsb.example.org is not an address of 'Radnička partija Severnog Brega'"
    )
    assert run("org", "contact", "RPSB", "ana@rpsb.example.org", "--remove").stdout == (
        "Ana Petrović is no longer the contact at ana@rpsb.example.org.\n"
    )
