"""Deleting organizations: a mistaken entry goes only when it has no history; an
erasure leaves nothing that names the organization, in the tables, the event log,
the attachment folder or the database file's bytes, and touches no one else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from mailer.contacts import OrgInput, add_org, merge_orgs, show_org
from mailer.db import open_db
from mailer.erasure import ERASED, delete_org, erase_org
from mailer.errors import MailerError, NotFound
from tests.conftest import Run
from tests.inbox_data import (
    AWP,
    POS,
    RPB,
    SENDER,
    mbox,
    reply_mail,
    sent_campaign,
    with_attachment,
)

AWP_NAME = "Atlantis Workers Party"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "c.db")


def test_delete_removes_an_entry_with_no_history(db: Database) -> None:
    org_id = add_org(db, OrgInput.parse(name="Typo Party", emails=["t@typo.example.org"]))
    world = sent_campaign(db)
    db.execute(  # a test copy that used it as its example keeps existing, without it
        "INSERT INTO message (campaign_id, org_id, email, language, message_id, token,"
        " is_test, queued_at, updated_at) VALUES (?, ?, 'me@x.example.org', 'en',"
        " '<t@x>', 'tok', 1, 'x', 'x')",
        [world.campaign_id, org_id],
    )
    delete_org(db, "Typo Party")
    with pytest.raises(NotFound):
        show_org(db, "Typo Party")
    assert db.execute("SELECT org_id FROM message WHERE is_test = 1").fetchall() == [(None,)]
    assert db.execute("SELECT COUNT(*) FROM address WHERE email LIKE '%typo%'").fetchone() == (0,)
    events = db.execute(
        "SELECT action, old FROM event WHERE entity = 'organization' AND entity_id = ?", [org_id]
    ).fetchall()
    assert events[-1] == ("delete", json.dumps({"name": "Typo Party"}))


def test_delete_refuses_an_organization_with_history(db: Database) -> None:
    sent_campaign(db)
    with pytest.raises(MailerError, match=r"'Atlantis Workers Party' has 2 messages on record"):
        delete_org(db, "Atlantis")
    assert show_org(db, "Atlantis")["emails"] == [AWP, "press@awp.example.org"]


def test_delete_keeps_an_opt_out_entered_by_hand(db: Database) -> None:
    """A do-not-contact list imported before any mail: deleting an entry would let the
    next import of the same address mail it."""
    add_org(
        db, OrgInput.parse(name="Quiet Party", emails=["q@quiet.example.org"], do_not_contact=True)
    )
    add_org(
        db,
        OrgInput.parse(
            name="Half Party",
            emails=["a@half.example.org", "b@half.example.org"],
            unsubscribed=["b@half.example.org"],
        ),
    )
    with pytest.raises(MailerError, match=r"^'Quiet Party' has 1 opt-out on record;"):
        delete_org(db, "Quiet Party")
    with pytest.raises(MailerError, match=r"^'Half Party' has 1 opt-out on record;"):
        delete_org(db, "Half Party")
    assert show_org(db, "Quiet Party")["do_not_contact"] is True
    assert show_org(db, "Half Party")["emails"] == ["a@half.example.org", "b@half.example.org"]


@pytest.fixture
def answered(initialized: Path, run: Run) -> Path:
    """A sent campaign; Atlantis signs, sends photos, and its press address bounces."""
    db = open_db(initialized / "contacts.db")
    world = sent_campaign(db)
    db.close()
    press = world.mails["press@awp.example.org"]
    bounce = (
        f"From: MAILER-DAEMON@awp.example.org\r\nTo: {SENDER}\r\n"
        "Subject: Undelivered Mail\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <b1@awp.example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; awp\r\n\r\n"
        f"Final-Recipient: rfc822; {press.email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {press.message_id}\r\n--r--\r\n"
    ).encode()
    (initialized / "in.mbox").write_bytes(
        mbox(
            reply_mail(f"Ana Petrović <{AWP}>", world.mails[AWP].reply_to, "We sign. Ana Petrović"),
            with_attachment(AWP, world.mails[AWP].reply_to, "Our action", "ana.jpg", b"JPEG"),
            reply_mail(RPB, world.mails[RPB].reply_to, "We sign."),
            bounce,
        )
    )
    result = run("inbox", "import", "in.mbox")
    assert result.exit_code == 0, result.stderr
    assert run("org", "edit", "Atlantis", "--notes", "ask Ana, intl secretary").exit_code == 0
    result = run("org", "contact", "Atlantis", AWP, "--name", "Ana Petrović", "--gender", "f")
    assert result.exit_code == 0, result.stderr
    return initialized


def _file_bytes(project: Path) -> bytes:
    return b"".join(p.read_bytes() for p in project.glob("contacts.db*"))


def test_erase_leaves_nothing_that_names_the_organization(answered: Path, run: Run) -> None:
    photos = list((answered / "attachments").rglob("ana.jpg"))
    assert photos and b"awp.example.org" in _file_bytes(answered)
    result = run("org", "delete", "Atlantis", "--erase", "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: 'Atlantis Workers Party' signed peace-2025: it appears in the published list"
    )
    result = run("org", "delete", AWP, "--erase", "--force", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Erased {AWP_NAME} (id 1): 1 organizations, 2 addresses,")
    assert not photos[0].exists() and not photos[0].parent.exists()
    data = _file_bytes(answered)
    for text in ("awp.example.org", "Atlantis", "Ana Petrovi", "ask Ana", "JPEG"):
        assert text.encode() not in data, text
    db = open_db(answered / "contacts.db")
    assert [r["name"] for r in db.query("SELECT name FROM organization ORDER BY id")] == [
        "Radnička partija Brega",
        "Partido Obrero del Sur",
    ]
    erased = list(db.query("SELECT * FROM reply WHERE status = 'erased' ORDER BY id"))
    assert [(r["class"], r["raw"], r["from_addr"], r["text"]) for r in erased] == [
        ("signon", b"", None, None),
        ("other", b"", None, None),
        ("bounce", b"", None, None),
    ]
    assert db.execute("SELECT COUNT(*) FROM message WHERE org_id IS NULL").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM bounce").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM contact").fetchone() == (0,)
    (log,) = db.execute("SELECT new FROM event WHERE action = 'erase'").fetchone()
    assert json.loads(log) == {
        "organizations": 1,
        "addresses": 2,
        "contacts": 1,
        "messages": 2,
        "replies": 3,
        "answers": 1,
        "attachments": 1,
        "events redacted": json.loads(log)["events redacted"],
    }
    redactions = db.execute("SELECT COUNT(*), MIN(reason) FROM event_redaction").fetchone()
    assert redactions == (json.loads(log)["events redacted"], "erasure of organization 1")
    assert show_org(db, RPB)["responses"][0]["kind"] == "signed"  # the others are untouched
    assert show_org(db, POS)["emails"] == [POS]
    db.close()
    again = run("inbox", "import", "in.mbox")  # the same mail does not bring it back
    assert again.stdout.startswith("0 new, 4 already known"), again.stdout


def test_erasure_redacts_only_the_texts_that_name_it(db: Database) -> None:
    for name, email, country in [
        (AWP_NAME, AWP, "GR"),
        ("Atlantis Workers Party (old entry)", "old@awp.example.org", "GR"),
        ("Partido Obrero del Sur", POS, "AR"),
    ]:
        add_org(db, OrgInput.parse(name=name, emails=[email], country=country, short_name=None))
    merge_orgs(db, AWP_NAME, "Atlantis Workers Party (old entry)")  # its old entry goes too
    db.execute("INSERT INTO event (at, entity, action, new) VALUES ('t', 'note', 'x', ?)", [
        json.dumps({"said": f"write to {AWP} now", "who": AWP_NAME, "n": 3, "also": "POS"})
    ])  # fmt: skip
    erase_org(db, AWP)
    note = db.execute("SELECT new FROM event WHERE entity = 'note'").fetchone()[0]
    assert json.loads(note) == {"said": ERASED, "who": ERASED, "n": 3, "also": "POS"}
    created = [
        json.loads(new)
        for (new,) in db.execute(
            "SELECT new FROM event WHERE entity IN ('organization', 'address')"
            " AND action = 'create' ORDER BY id"
        )
    ]
    assert created == [
        {"email": ERASED, "org_id": 1, "status": "active"},
        {"name": ERASED, "country": ERASED, "emails": [ERASED]},
        {"email": ERASED, "org_id": 2, "status": "active"},
        {"name": ERASED, "country": ERASED, "emails": [ERASED]},
        {"email": POS, "org_id": 3, "status": "active"},
        {"name": "Partido Obrero del Sur", "country": "AR", "emails": [POS]},
    ]
    assert db.execute("SELECT name FROM organization").fetchall() == [("Partido Obrero del Sur",)]
    with pytest.raises(NotFound):
        show_org(db, "Atlantis Workers Party (old entry)")


def test_erase_asks_at_a_terminal_and_needs_yes_in_a_script(
    answered: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run("org", "delete", "Radnička partija Brega", "--erase", "--force")
    assert result.exit_code == 1
    assert "there is no terminal to ask at" in result.stderr and "--yes" in result.stderr
    monkeypatch.setattr("mailer.cli.at_terminal", lambda: True)
    result = run("org", "delete", "Radnička partija Brega", "--erase", "--force", input="n\n")
    assert result.exit_code == 1
    assert "Erase Radnička partija Brega (id 2) and everything about it (1 addresses," in (
        result.stdout
    )
    assert "Radnička" in run("org", "list").stdout
    result = run("org", "delete", "Radnička partija Brega", "--erase", "--force", input="y\n")
    assert result.exit_code == 0 and "Radnička" not in run("org", "list").stdout


def test_plain_delete_through_the_cli(initialized: Path, run: Run) -> None:
    assert run("org", "add", "Oops Party", "--email", "o@oops.example.org").exit_code == 0
    result = run("org", "delete", "Oops Party", "--yes")
    assert (result.exit_code, result.stdout) == (0, "Deleted Oops Party (id 1).\n")
    assert run("org", "delete", "Oops Party", "--yes").exit_code == 1


def test_plain_delete_of_an_opted_out_entry_through_the_cli(initialized: Path, run: Run) -> None:
    assert run("org", "add", "Quiet Party", "--email", "q@quiet.example.org").exit_code == 0
    assert run("org", "optout", "q@quiet.example.org", "--yes").exit_code == 0
    result = run("org", "delete", "Quiet Party", "--yes")
    assert result.exit_code == 1
    assert "'Quiet Party' has 1 opt-out on record; deleting it would lose them" in result.stderr
    assert "Traceback" not in result.output
    assert "unsubscribed" in run("org", "show", "Quiet Party").stdout
