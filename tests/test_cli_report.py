"""The tracking commands through the CLI: status, sign, signon import,
signatories, remind; and the whole story end to end against a real SMTP
server: send, replies imported, status, reminders only to non-responders,
the published list."""

from __future__ import annotations

import json
import mailbox
import re
import shutil
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from mailer.db import open_db
from tests.conftest import EXAMPLES, Run
from tests.tracking import World

SLUG = "peace-statement"  # the example statement, answered by the example replies
SENDER = "intl@party.example.org"
DATA = Path(__file__).resolve().parent / "data" / "signon"


@pytest.fixture
def campaign(with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example organizations and the example statement as a campaign."""
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", SENDER)
    monkeypatch.setenv("MAILER_NOW", "2026-03-01T09:00:00")
    shutil.copytree(EXAMPLES / "statements" / SLUG, with_orgs / "templates" / SLUG)
    result = run("campaign", "new", SLUG, "--statement", f"templates/{SLUG}")
    assert result.exit_code == 0, result.stderr
    return with_orgs


def world(project: Path) -> World:
    db = open_db(project / "contacts.db")
    row = next(iter(db.query("SELECT * FROM campaign WHERE slug = ?", [SLUG])))
    return World(db, Path(row["statement_dir"]), campaign=row)


def status(run: Run) -> dict:  # type: ignore[type-arg]
    result = run("status", SLUG, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def states(run: Run) -> dict[str, str]:
    return {o["name"]: o["state"] for o in status(run)["by_org"]}


def subject(data: bytes) -> str:
    return str(make_header(decode_header(message_from_bytes(data)["Subject"])))


# ---------------------------------------------------------------- the whole story


def test_send_replies_status_remind_signatories(
    campaign: Path,
    run: Run,
    smtpd,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    monkeypatch.setenv("MAILER_SMTP_RATE", "unlimited")
    result = run("send", SLUG)
    assert result.exit_code == 0, result.stderr
    first_wave = len(smtpd.messages)
    assert first_wave > 20

    from mailer.demo import write_replies

    db = open_db(campaign / "contacts.db")
    replies = write_replies(db, campaign)
    db.close()
    result = run("inbox", "import", str(replies))
    assert result.exit_code == 0, result.stderr

    after_replies = states(run)
    assert after_replies["Workers' League of the Plains"] == "signed"
    assert after_replies["Union syndicale des Collines"] == "declined"
    assert after_replies["Arbeiterbund am Fluss"] == "auto_replied"
    assert after_replies["Frente Popular de la Sierra"] == "no_answer"
    s = status(run)
    assert s["waves"] == 1 and s["messages"]["sent"] == first_wave
    assert s["responses"]["signed"] >= 5 and s["responses"]["declined"] == 1

    answered = {n for n, st in after_replies.items() if st in ("signed", "declined", "bounced")}
    orgs = {o["name"]: o for o in json.loads(run("org", "list", "--json").stdout)}

    monkeypatch.setenv("MAILER_NOW", "2026-03-02T09:00:00")
    result = run("remind", SLUG)
    assert result.exit_code == 0, result.stderr
    assert "No organization needs a reminder" in result.stdout  # one day is too early
    assert len(smtpd.messages) == first_wave

    monkeypatch.setenv("MAILER_NOW", "2026-03-05T09:00:00")
    result = run("remind", SLUG, "--dry-run")
    assert result.exit_code == 0 and "Dry run" in result.stdout
    assert len(smtpd.messages) == first_wave

    result = run("remind", SLUG)
    assert result.exit_code == 0, result.stderr
    reminders = smtpd.messages[first_wave:]
    assert reminders
    reminded = {rcpt for m in reminders for rcpt in m.rcpt_tos}
    for name in answered:
        assert not reminded & set(orgs[name]["emails"]), f"{name} answered but was reminded"
    assert reminded & set(orgs["Arbeiterbund am Fluss"]["emails"])  # an auto-reply is no answer
    assert reminded & set(orgs["Frente Popular de la Sierra"]["emails"])
    hdu = [m for m in reminders if set(m.rcpt_tos) & set(orgs["Harbour Dockers' Union"]["emails"])]
    assert hdu and all(subject(m.data).startswith("Reminder:") for m in hdu)
    assert status(run)["waves"] == 2

    result = run("remind", SLUG)  # again the same day: no one twice
    assert result.exit_code == 0 and "No organization needs a reminder" in result.stdout
    assert len(smtpd.messages) == first_wave + len(reminders)

    result = run("sign", SLUG, "FPS", "--as", "Frente Popular de la Sierra (FPS)")
    assert result.exit_code == 0 and "Recorded" in result.stdout
    result = run("signatories", SLUG, "--format", "json")
    assert result.stdout.endswith("]\n")  # a whole last line, like every output
    listed = json.loads(result.stdout)
    assert [e["n"] for e in listed] == list(range(1, len(listed) + 1))
    assert "Frente Popular de la Sierra (FPS)" in [e["name"] for e in listed]
    assert "Union syndicale des Collines" not in [e["name"] for e in listed]
    assert len({e["org_id"] for e in listed}) == len(listed) == status(run)["responses"]["signed"]


# ---------------------------------------------------------------- status


def test_status_terminal_json_and_html(campaign: Path, run: Run) -> None:
    w = world(campaign)
    org = w.db.execute("SELECT id FROM organization WHERE short_name = 'WLP'").fetchone()[0]
    w.send(org)
    w.answer(org)
    w.db.close()
    result = run("status", SLUG, "--html", "report.html")
    assert result.exit_code == 0, result.stderr
    assert "Workers' League of the Plains" in result.stdout and "signed" in result.stdout
    assert "Wrote report.html" in result.stdout
    page = (campaign / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "http" not in page.replace('lang="en"', "")
    data = status(run)
    assert data["responses"]["signed"] == 1
    assert {"org_id", "name", "country", "state", "messages"} <= set(data["by_org"][0])


def test_status_of_an_unknown_campaign_is_one_clear_error(campaign: Path, run: Run) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no campaign named 'nope'")
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- sign


def test_sign_twice_and_withdraw(campaign: Path, run: Run) -> None:
    first = run("sign", SLUG, "WLP")
    assert first.exit_code == 0 and first.stdout.startswith("Recorded: Workers' League")
    again = run("sign", SLUG, "international@wlp.example.org")
    assert again.exit_code == 0 and "already signed" in again.stdout
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout)[0]["name"] == (
        "Workers' League of the Plains"
    )
    withdrawn = run("sign", SLUG, "WLP", "--withdraw")
    assert withdrawn.exit_code == 0 and withdrawn.stdout.startswith("Withdrawn")
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout) == []
    nothing = run("sign", SLUG, "WLP", "--withdraw")
    assert "nothing changed" in nothing.stdout
    db = open_db(campaign / "contacts.db")
    actions = [r[0] for r in db.execute("SELECT action FROM event WHERE entity = 'response'")]
    assert actions == ["create", "withdraw"]


def test_sign_ambiguous_or_unknown_org_is_an_error(campaign: Path, run: Run) -> None:
    assert run("org", "add", "Harbour Dockers' Union", "--country", "IE").exit_code == 0
    result = run("sign", SLUG, "Harbour Dockers' Union")
    assert result.exit_code == 1
    assert "matches 2 organizations" in result.stderr and "(GB)" in result.stderr
    assert run("sign", SLUG, "Nobody At All").exit_code == 1


# ---------------------------------------------------------------- signon import


def test_signon_import_dry_run_then_create(campaign: Path, run: Run) -> None:
    listing = campaign / "partner.txt"
    listing.write_text(
        "Our joint statement\n\nSigning Organizations\n\n"
        "1. Workers’ League of the Plains – WLP\n"
        "2. Radnicka partija Severnog Brega, Serbia\n"
        "3. Brand New Front, Chile\n"
        "4. WLP\n",
        encoding="utf-8",
    )
    dry = run("signon", "import", SLUG, str(listing), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "NOT MATCHED" in dry.stdout and "duplicate" in dry.stdout
    assert "Dry run" in dry.stdout
    assert "Line 1 was skipped (not a list item): 'Our joint statement'" in dry.stdout
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout) == []
    would = run("signon", "import", SLUG, str(listing), "--dry-run", "--create")
    assert would.exit_code == 0, would.stderr
    assert "Brand New Front [new]" in would.stdout and "None" not in would.stdout
    done = run("signon", "import", SLUG, str(listing), "--create")
    assert done.exit_code == 0, done.stderr
    names = [e["name"] for e in json.loads(run("signatories", SLUG, "--format", "json").stdout)]
    assert names == [
        "Workers' League of the Plains",
        "Radnička partija Severnog Brega",
        "Brand New Front",
    ]
    again = run("signon", "import", SLUG, str(listing))
    assert again.exit_code == 0 and "(already signed)" in again.stdout


def test_signon_import_checks_new_names_in_a_dry_run(campaign: Path, run: Run) -> None:
    listing = campaign / "partner.txt"
    listing.write_text("1. Workers' League of the Plains\n2. Rogue\x1b[2J Party\n")
    created = run("signon", "import", SLUG, str(listing), "--dry-run", "--create")
    assert created.exit_code == 1
    assert (
        created.stderr.startswith(f"Error: {listing}:2: ") and "control character" in created.stderr
    )
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout) == []


def _answer(project: Path, ref: str, kind: str, *, withdraw: bool = False) -> None:
    from mailer import responses
    from mailer.contacts import resolve_org

    db = open_db(project / "contacts.db", create=False)
    campaign_id = db.execute("SELECT id FROM campaign WHERE slug = ?", [SLUG]).fetchone()[0]
    org_id = resolve_org(db, ref)["id"]
    responses.record(db, campaign_id, org_id, kind, source="reply")
    if withdraw:
        responses.withdraw(db, campaign_id, org_id)
    db.close()


def test_signon_import_holds_back_a_decline_an_opt_out_and_a_withdrawal(
    campaign: Path, run: Run
) -> None:
    """Issue 11 item 7: a list from elsewhere never silently overrules what an
    organization told us; --force records it, and says so."""
    _answer(campaign, "WLP", "declined")
    _answer(campaign, "HDU", "signed", withdraw=True)
    assert run("org", "optout", "PTV").exit_code == 0
    listing = campaign / "partner.txt"
    listing.write_text(
        "Signing organizations\n\n"
        "1. Workers’ League of the Plains – WLP\n"
        "2. Harbour Dockers’ Union, United Kingdom\n"
        "3. Partido de los Trabajadores del Valle (PTV), España\n"
        "4. Lega Operaia del Lago, Italia\n",
        encoding="utf-8",
    )
    dry = run("signon", "import", SLUG, str(listing), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    held = run("signon", "import", SLUG, str(listing))
    assert held.exit_code == 0, held.stderr
    for out in (dry.stdout, held.stdout):
        assert out.count("HELD BACK") == 3
        assert "(declined on 2026-03-01)" in out
        assert "(withdrew its signature on 2026-03-01)" in out
        assert "(opted out: do not contact)" in out
        assert "4 entries: 1 matched, 0 new, 0 duplicate, 3 held back, 0 not matched." in out
        assert (
            "Held back, not signed: 3 organization(s) that declined, unsubscribed, withdrew "
            "their signature or opted out (Workers' League of the Plains, Harbour Dockers' "
            "Union, Partido de los Trabajadores del Valle). If they did sign this list, record "
            f"them with: mailer signon import {SLUG} {listing} --force"
        ) in " ".join(out.split())
    names = [e["name"] for e in json.loads(run("signatories", SLUG, "--format", "json").stdout)]
    assert names == ["Lega Operaia del Lago"]
    assert states(run)["Workers' League of the Plains"] == "declined"
    forced = run("signon", "import", SLUG, str(listing), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "HELD BACK" not in forced.stdout and forced.stdout.count(", overruled by --force)") == 3
    assert "3 signature(s) recorded." in forced.stdout
    names = [e["name"] for e in json.loads(run("signatories", SLUG, "--format", "json").stdout)]
    assert len(names) == 4
    db = open_db(campaign / "contacts.db", create=False)
    events = [
        json.loads(e[0])
        for e in db.execute("SELECT new FROM event WHERE action = 'signon import' ORDER BY id")
    ]
    assert [len(e["forced"]) for e in events] == [0, 3]
    assert db.execute(
        "SELECT do_not_contact FROM organization WHERE short_name = 'PTV'"
    ).fetchone() == (1,)


def test_signon_import_create_keeps_namesakes_apart_and_lists_near_matches(
    campaign: Path, run: Run
) -> None:
    """Issue 12: "Communist Party (Italy)" was counted as a duplicate of "Communist
    Party (Switzerland)", and one signatory silently disappeared."""
    listing = campaign / "partner.txt"
    listing.write_text(
        "Firmantes\n\n"
        "1) Communist Party (Switzerland)\n"
        "2) Communist Party (Italy)\n"
        "3) Revolutionary Workers’ League of the Plains\n"
        "4) Communist Party (Italy)\n",
        encoding="utf-8",
    )
    done = run("signon", "import", SLUG, str(listing), "--create")
    assert done.exit_code == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "4 entries: 0 matched, 2 new, 1 duplicate, 0 held back, 1 not matched." in out
    assert "NOT CREATED" in out and "closest: Workers' League of the Plains (US, id " in out
    assert (
        "--create added only entries that no known organization comes close to (a score of "
        "75 or more). Not created, being close to one (candidates above): line 5."
    ) in out
    listed = json.loads(run("signatories", SLUG, "--format", "json").stdout)
    assert [(e["name"], e["country"]) for e in listed] == [
        ("Communist Party (Switzerland)", "CH"),
        ("Communist Party (Italy)", "IT"),
    ]


def test_signon_import_of_the_realistic_list_reports_what_it_cannot_match(
    campaign: Path, run: Run
) -> None:
    result = run("signon", "import", SLUG, str(DATA / "list_mixed.md"))
    assert result.exit_code == 0, result.stderr
    assert "13 entries" in result.stdout
    assert "Radnička partija Severnog Brega [name]" in result.stdout


# ---------------------------------------------------------------- signatories


def test_signatories_formats_lang_and_warnings(campaign: Path, run: Run) -> None:
    for ref in ("RPSB", "ССЈД", "PTV"):
        assert run("sign", SLUG, ref).exit_code == 0
    assert (
        run("org", "add", "Partido de los Trabajadores del Vale", "--country", "ES").exit_code == 0
    )
    assert run("sign", SLUG, "Partido de los Trabajadores del Vale").exit_code == 0
    txt = run("signatories", SLUG, "--lang", "sr-Latn", "--with-country", "--order", "alpha")
    assert txt.exit_code == 0, txt.stderr
    lines = txt.stdout.splitlines()
    assert lines[0] == "Organizacije potpisnice"
    assert "1. Partido de los Trabajadores del Vale, Španija" in lines
    assert "look like the same organization" in txt.stderr
    html = run("signatories", SLUG, "--format", "html", "--lang", "ru", "--with-country")
    assert "<h2>Подписавшие организации</h2>" in html.stdout and "Сербия" in html.stdout
    md = run("signatories", SLUG, "--format", "md", "--with-statement")
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith("## For peace") and "## Signing organizations" in md.stdout
    assert "{{" not in md.stdout and "We invite" not in md.stdout  # no per-recipient text
    bad = run("signatories", SLUG, "--format", "csv", "--with-statement")
    assert bad.exit_code == 2
    assert run("signatories", SLUG, "--lang", "not a language").exit_code == 1


def test_remind_before_any_send_is_a_clear_error(campaign: Path, run: Run) -> None:
    result = run("remind", SLUG)
    assert result.exit_code == 1
    assert "has not been sent yet" in result.stderr and f"mailer send {SLUG}" in result.stderr


def test_remind_json_dry_run(campaign: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(campaign)
    ids = [r[0] for r in w.db.execute("SELECT id FROM organization ORDER BY id LIMIT 3")]
    for org_id in ids:
        w.send(org_id, at="2026-03-01T09:00:00+00:00")
    w.answer(ids[0])
    w.db.close()
    monkeypatch.setenv("MAILER_NOW", "2026-03-06T09:00:00")
    result = run("remind", SLUG, "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["wave"] == 1 and [o["org_id"] for o in data["organizations"]] == ids[1:]
    assert data["skipped"]["answered"]
    outbox = campaign / "outbox"
    assert not outbox.exists() or not list(mailbox.Maildir(str(outbox)).keys())


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("command", ["status", "signatories"])
def test_unknown_campaign_for_every_command(campaign: Path, run: Run, command: str) -> None:
    result = run(command, "nope")
    assert result.exit_code == 1 and result.stderr.startswith("Error: no campaign named 'nope'")
    signed = run("sign", "nope", "WLP")
    assert signed.exit_code == 1 and "no campaign named 'nope'" in signed.stderr
    listing = campaign / "list.txt"
    listing.write_text("1. Workers' League of the Plains\n", encoding="utf-8")
    imported = run("signon", "import", "nope", str(listing))
    assert imported.exit_code == 1 and "no campaign named 'nope'" in imported.stderr


def test_withdraw_never_signed_and_as_with_withdraw(campaign: Path, run: Run) -> None:
    never = run("sign", SLUG, "WLP", "--withdraw")
    assert never.exit_code == 0
    assert "has no signature on" in never.stdout and "nothing changed" in never.stdout
    both = run("sign", SLUG, "WLP", "--as", "WLP", "--withdraw")
    assert both.exit_code == 2 and "cannot be used together" in both.stderr
    broken = run("sign", SLUG, "WLP", "--as", "Line\nbreak")
    assert broken.exit_code == 1 and "control character" in broken.stderr
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no organization found"),
        (b"\n\nSigning organizations\n\n", "no organization found"),
        (b"1. Caf\xe9 Party\n", ":1: not UTF-8 text"),
        (b"1. One Party\n2. Two\x00Party\n", "not a text file"),
        (bytes(range(256)), "not UTF-8 text"),
    ],
    ids=["empty", "only-a-heading", "latin-1", "nul-bytes", "binary"],
)
def test_signon_import_of_a_file_that_is_no_list(
    campaign: Path, run: Run, content: bytes, message: str
) -> None:
    listing = campaign / "list.txt"
    listing.write_bytes(content)
    result = run("signon", "import", SLUG, str(listing))
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith(f"Error: {listing}") and message in result.stderr
    assert "internal error" not in result.stderr
    assert json.loads(run("signatories", SLUG, "--format", "json").stdout) == []


def test_signon_import_of_a_missing_file_or_a_folder_is_a_usage_error(
    campaign: Path, run: Run
) -> None:
    missing = run("signon", "import", SLUG, "missing.txt")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    folder = run("signon", "import", SLUG, str(campaign))
    assert folder.exit_code == 2 and "is a directory" in folder.stderr


@pytest.mark.parametrize("lang", ["xx-invalid", "", "not a language"])
def test_signatories_with_an_invalid_language(campaign: Path, run: Run, lang: str) -> None:
    result = run("signatories", SLUG, "--lang", lang)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: language {lang!r} is not a valid BCP 47 tag")


def test_status_html_to_a_missing_folder_or_a_folder(campaign: Path, run: Run) -> None:
    missing = run("status", SLUG, "--html", "no/such/folder/report.html")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: no/such/folder/report.html: cannot write the report")
    assert "internal error" not in missing.stderr
    folder = run("status", SLUG, "--html", str(campaign))
    assert folder.exit_code == 2 and "is a directory" in folder.stderr


def test_with_statement_names_the_line_of_a_broken_template(campaign: Path, run: Run) -> None:
    assert run("sign", SLUG, "WLP").exit_code == 0
    text = campaign / "templates" / SLUG / "en.md"
    lines = text.read_text(encoding="utf-8").splitlines()
    text.write_text("\n".join([*lines, "", "Broken {{ campaign.title"]) + "\n", encoding="utf-8")
    result = run("signatories", SLUG, "--with-statement")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {text}:{len(lines) + 2}: unexpected end of template")


# ---------------------------------------------------------------- signatories options


def test_signatories_csv_country_order_and_language_fallbacks(campaign: Path, run: Run) -> None:
    for ref in ("HDU", "RPSB", "FPS"):
        assert run("sign", SLUG, ref).exit_code == 0
    csv_out = run("signatories", SLUG, "--format", "csv", "--order", "country")
    assert csv_out.exit_code == 0, csv_out.stderr
    rows = csv_out.stdout.splitlines()
    assert rows[0] == "n,org_id,name,country,country_name,signed_at"
    assert [r.split(",")[3] for r in rows[1:]] == ["MX", "RS", "GB"]  # Mexico, Serbia, UK
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]
    serbian = run("signatories", SLUG, "--lang", "sr", "--with-statement", "--with-country")
    assert serbian.exit_code == 0, serbian.stderr
    assert serbian.stdout.startswith("Za mir") and "Organizacije potpisnice" in serbian.stdout
    assert "Meksiko" in serbian.stdout and "Мексико" not in serbian.stdout  # one script
    assert not re.search("[\u0400-\u04ff]", serbian.stdout)
    british = run("signatories", SLUG, "--lang", "en-GB", "--format", "html")
    assert "<h2>Signing organizations</h2>" in british.stdout and 'lang="en-GB"' in british.stdout
    arabic = run("signatories", SLUG, "--lang", "ar", "--format", "html")
    assert 'dir="rtl"' in arabic.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["status", SLUG, "--html"],
        ["preview", SLUG, "--html"],
        ["org", "export", "--output"],
    ],
)
def test_a_file_written_on_request_never_replaces_the_database(
    campaign: Path, run: Run, command: list[str]
) -> None:
    database = campaign / "contacts.db"
    before = database.read_bytes()
    result = run(*command, str(database))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {database} is a database, not a file for the ")
    assert database.read_bytes() == before
    assert run("status", SLUG).exit_code == 0


def test_signatories_first_puts_the_initiating_organization_first(campaign: Path, run: Run) -> None:
    for ref in ("HDU", "FPS", "RPSB"):
        assert run("sign", SLUG, ref).exit_code == 0
    listed = run("signatories", SLUG, "--first", "RPSB", "--order", "alpha", "--with-country")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout == (
        "Signing organizations\n\n"
        "1. Radnička partija Severnog Brega, Serbia\n"
        "2. Frente Popular de la Sierra, Mexico\n"
        "3. Harbour Dockers' Union, United Kingdom\n"
    )
    silent = run("signatories", SLUG, "--first", "WLP")
    assert silent.exit_code == 1
    assert silent.stderr == (
        f"Error: Workers' League of the Plains has not signed {SLUG}, so it cannot head the list\n"
        f"Record its signature first: mailer sign {SLUG} 16\n"
    )
    unknown = run("signatories", SLUG, "--first", "Nobody")
    assert unknown.exit_code == 1 and "no organization matches 'Nobody'" in unknown.stderr


def test_status_says_first_who_has_not_answered(campaign: Path, run: Run) -> None:
    w = world(campaign)
    ids = dict(w.db.execute("SELECT short_name, id FROM organization").fetchall())
    for short in (
        "WLP",
        "HDU",
        "NWPA",
        "FPS",
        "MOR",
        "USC",
        "PTL",
        "ABF",
        "SKB",
        "LOL",
        "PTV",
        "YUL",
    ):
        w.send(ids[short])
    w.answer(ids["WLP"])
    w.reply(ids["HDU"], "auto_reply")
    w.db.execute("UPDATE organization SET country = NULL WHERE short_name = 'YUL'")
    w.db.close()
    lines = run("status", SLUG).stdout.splitlines()
    contact = "last contact 2026-03-01 09:00"
    assert lines[1:15] == [  # right after the totals; by country, the one without one last
        "  signed 1, auto replied 1, no answer 10, not sent 18",
        "  Not answered yet (11):",
        f"    Movimiento Obrero del Río (AR), {contact}",
        f"    Solidaritätskomitee Bergland (AT), {contact}",
        f"    Arbeiterbund am Fluss (DE), {contact}",
        f"    Partido de los Trabajadores del Valle (ES), {contact}",
        f"    Union syndicale des Collines (FR), {contact}",
        f"    Harbour Dockers' Union (GB), an automatic reply only, {contact}",
        f"    New Workers' Party of Atlantis (GR), {contact}",
        f"    Lega Operaia del Lago (IT), {contact}",
        f"    Frente Popular de la Sierra (MX), {contact}",
        f"    Parti des Travailleurs du Littoral (SN), {contact}",
        "    … and 1 more (all of them: the table below, or --html)",
        "Messages",
    ]
    data = status(run)
    assert data["not_answered"][-1]["name"] == "Youth Union of the Lakes"  # no country: last
    assert data["not_answered"][-1]["emails"] == ["yul@yul-lakes.example.org"]
    assert data["by_country"][-1]["country"] is None


def test_signatories_use_the_country_names_of_mailer_toml(
    campaign: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("org", "add", "People's Front for Liberation", "--country", "PS").exit_code == 0
    for ref in ("People's Front for Liberation", "RPSB"):
        assert run("sign", SLUG, ref).exit_code == 0
    babel = run("signatories", SLUG, "--with-country")
    assert "1. People's Front for Liberation, Palestinian Territories" in babel.stdout
    config = campaign / "mailer.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "countries = {}", 'countries = {PS = "Palestine", RS = {sr-Latn = "Srbija"}}'
        ),
        encoding="utf-8",
    )
    own = run("signatories", SLUG, "--with-country")
    assert own.exit_code == 0, own.stderr
    assert own.stdout.splitlines()[2:] == [
        "1. People's Front for Liberation, Palestine",
        "2. Radnička partija Severnog Brega, Serbia",
    ]
    cyrillic = run("signatories", SLUG, "--with-country", "--lang", "sr-Cyrl")
    assert cyrillic.stdout.splitlines()[2:] == [
        "1. People's Front for Liberation, Palestine",
        "2. Радничка партија Северног Брега, Србија",
    ]
    monkeypatch.setenv("MAILER_NAMES_COUNTRIES", "PS=Palestine;XX=Nowhere")
    bad = run("signatories", SLUG)
    assert bad.exit_code == 1
    assert bad.stderr == (
        "Error: environment variable MAILER_NAMES_COUNTRIES: [names] countries: 'XX' is not an "
        "ISO 3166 country code such as PS or XK, got 'PS=Palestine;XX=Nowhere'\n"
    )


def test_a_thank_you_lists_the_countries_as_mailer_toml_names_them(
    campaign: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NAMES_COUNTRIES", "GB=Britain;RS:sr-Latn=Republika Srbija")
    for ref in ("RPSB", "HDU"):
        assert run("sign", SLUG, ref).exit_code == 0
    thanks = campaign / "templates" / "thanks"
    shutil.copytree(campaign / "templates" / "example-thanks", thanks)
    toml = thanks / "statement.toml"
    toml.write_text(toml.read_text().replace('"peace-2026"', f'"{SLUG}"'), encoding="utf-8")
    assert run("campaign", "new", "thanks", "--statement", str(thanks)).exit_code == 0
    for org, lang in (("HDU", "en"), ("RPSB", "sr-Latn")):
        text = run("preview", "thanks", "--org", org).stdout
        listed = run("signatories", SLUG, "--lang", lang, "--with-country").stdout
        assert f"\n\n{listed}\n" in text
    assert "Radnička partija Severnog Brega, Republika Srbija" in listed
    assert "Harbour Dockers' Union, Britain" in listed
