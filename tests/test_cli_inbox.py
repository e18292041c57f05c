"""The inbox, replies and reply commands end to end through the CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlite_utils import Database

from mailer.db import open_db
from tests.conftest import Run
from tests.fixtures.imap import Dovecot
from tests.inbox_data import (
    AWP,
    POS,
    RPB,
    SENDER,
    World,
    auto_reply_mail,
    bounce_mail,
    mbox,
    reply_mail,
    sent_campaign,
    with_attachment,
)

REPLY_KEYS = {"id", "message_id", "from", "org_id", "org", "campaign", "class", "confidence"}
REPLY_KEYS |= {"text", "attachments"}


@pytest.fixture
def world(initialized: Path) -> World:
    db = open_db(initialized / "contacts.db")
    try:
        return sent_campaign(db)
    finally:
        db.close()


def db_of(project: Path) -> Database:
    return open_db(project / "contacts.db")


@pytest.fixture
def inbox(world: World, initialized: Path) -> Path:
    """An mbox with a sign-on, an uncertain reply, a bounce, an auto-reply, a stranger."""
    path = initialized / "replies.mbox"
    path.write_bytes(
        mbox(
            reply_mail(AWP, world.mails[AWP].reply_to, "We sign the statement."),
            reply_mail(RPB, world.mails[RPB].reply_to, "Thank you, we will discuss it."),
            bounce_mail(world.mails[POS]),
            auto_reply_mail(world.mails[RPB]),
            with_attachment("who@else.example.net", SENDER, "Our photos", "photo.jpg", b"JPEG"),
        )
    )
    return path


def test_import_summary_then_reimport_adds_nothing(run: Run, inbox: Path) -> None:
    result = run("inbox", "import", str(inbox), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["new"], summary["duplicates"], summary["unmatched"]) == (5, 0, 1)
    assert summary["classes"] == {"auto_reply": 1, "bounce": 1, "other": 2, "signon": 1}
    again = run("inbox", "import", str(inbox))
    assert again.exit_code == 0
    assert again.stdout.startswith("0 new, 5 already known, 0 unparsable")


def test_import_human_summary_names_the_next_steps(run: Run, inbox: Path) -> None:
    result = run("inbox", "import", str(inbox))
    assert (
        "5 new" in result.stdout
        and "1 reply waits for a decision: mailer replies review peace-2025\n" in result.stdout
    )
    assert "mailer replies --unmatched" in result.stdout


def test_import_of_a_missing_file_is_a_usage_error(run: Run, initialized: Path) -> None:
    result = run("inbox", "import", "nowhere.mbox")
    assert result.exit_code == 2 and "nowhere.mbox" in result.stderr


def test_replies_json_has_the_design_shape(run: Run, inbox: Path, world: World) -> None:
    run("inbox", "import", str(inbox))
    result = run("replies", world.slug, "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert len(listed) == 4 and all(set(r) >= REPLY_KEYS for r in listed)
    signed = [r for r in listed if r["class"] == "signon"]
    assert signed[0]["org"] == "Atlantis Workers Party" and signed[0]["campaign"] == world.slug
    only = json.loads(run("replies", "--class", "bounce", "--json").stdout)
    assert [r["class"] for r in only] == ["bounce"]


def test_empty_listings_say_why_they_are_empty(run: Run, world: World, inbox: Path) -> None:
    assert "No replies yet: `mailer inbox import PATH`" in run("replies").stdout
    run("inbox", "import", str(inbox))
    assert run("replies", world.slug, "--class", "decline").stdout == "No replies match.\n"
    db = db_of(inbox.parent)
    db.execute("DELETE FROM reply WHERE campaign_id IS NULL")  # only matched replies left
    db.close()
    assert run("replies", "--unmatched").stdout.startswith("No unmatched replies: each one")


def test_unmatched_listing_shows_attachments(run: Run, inbox: Path) -> None:
    run("inbox", "import", str(inbox))
    result = run("replies", "--unmatched")
    assert result.exit_code == 0
    assert "who@else.example.net" in result.stdout and "photo.jpg" in result.stdout
    (row,) = json.loads(run("replies", "--unmatched", "--json").stdout)
    assert row["campaign"] is None and row["attachments"][0]["filename"] == "photo.jpg"


def test_replies_of_an_unknown_campaign(run: Run, initialized: Path) -> None:
    result = run("replies", "no-such")
    assert result.exit_code == 1 and "no campaign named 'no-such'" in result.stderr


def test_review_asks_for_each_uncertain_reply(run: Run, inbox: Path, world: World) -> None:
    run("inbox", "import", str(inbox))
    result = run("replies", "review", world.slug, input="declined\n")
    assert result.exit_code == 0, result.stderr
    assert "Thank you, we will discuss it." in result.stdout
    assert "1 decided, 0 left for later." in result.stdout
    db = db_of(inbox.parent)
    (kind,) = db.execute(
        "SELECT kind FROM response WHERE org_id = ?", [world.orgs["Radnička"]]
    ).fetchone()
    assert kind == "declined"
    assert "No replies of" in run("replies", "review", world.slug).stdout


def test_review_skip_leaves_it_for_later(run: Run, inbox: Path, world: World) -> None:
    run("inbox", "import", str(inbox))
    result = run("replies", "review", world.slug, input="\n")
    assert "0 decided, 1 left for later." in result.stdout


def test_assign_then_mark(run: Run, inbox: Path, world: World) -> None:
    run("inbox", "import", str(inbox))
    (stranger,) = json.loads(run("replies", "--unmatched", "--json").stdout)
    refused = run("reply", "mark", str(stranger["id"]), "acted")
    assert refused.exit_code == 1 and "reply assign" in refused.stderr
    assigned = run("reply", "assign", str(stranger["id"]), "Partido", "--campaign", world.slug)
    assert assigned.exit_code == 0, assigned.stderr
    assert "Partido Obrero del Sur" in assigned.stdout
    marked = run("reply", "mark", str(stranger["id"]), "acted", "--json")
    assert json.loads(marked.stdout)["class"] == "acted"
    db = db_of(inbox.parent)
    kinds = [r[0] for r in db.execute("SELECT kind FROM response ORDER BY id")]
    assert kinds == ["signed", "acted"]


def test_mark_rejects_unknown_decisions_and_replies(run: Run, initialized: Path) -> None:
    assert run("reply", "mark", "1", "maybe").exit_code == 2
    for command in (["mark", "99999999999999999999999", "signed"], ["assign", "0", "X"]):
        huge = run("reply", *command)
        assert huge.exit_code == 2 and "Invalid value for 'ID'" in huge.stderr
    missing = run("reply", "mark", "99", "signed")
    assert missing.exit_code == 1 and "no reply 99" in missing.stderr


def test_fetch_without_a_server_configured(run: Run, initialized: Path) -> None:
    result = run("inbox", "fetch")
    assert result.exit_code == 1 and "no IMAP server is configured" in result.stderr


@pytest.mark.imap
def test_fetch_over_imaps(run: Run, world: World, imapd: Dovecot) -> None:
    imapd.append(reply_mail(AWP, world.mails[AWP].reply_to, "We sign the statement."))
    env = {"MAILER_IMAP_URL": imapd.url("imaps"), "MAILER_IMAP_PASSWORD": imapd.password}
    result = run("inbox", "fetch", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["classes"] == {"signon": 1}
    assert imapd.password not in result.stdout + result.stderr
    assert run("inbox", "fetch", env=env).stdout.startswith("0 new")


# ---------------------------------------------------------------- bad input, one sentence each


def test_import_of_a_folder_without_mail(run: Run, initialized: Path) -> None:
    (initialized / "empty").mkdir()
    result = run("inbox", "import", "empty")
    assert result.exit_code == 1 and "neither a Maildir folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_of_empty_files_records_nothing(run: Run, initialized: Path) -> None:
    (initialized / "empty.eml").write_bytes(b"")
    (initialized / "empty.mbox").write_bytes(b"")
    result = run("inbox", "import", "empty.eml", "empty.mbox", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["new"] == 0
    assert run("replies", "--json").stdout.strip() == "[]"


def test_import_of_a_binary_file_keeps_it_as_unparsable(run: Run, initialized: Path) -> None:
    blob = bytes(range(256)) * 8
    (initialized / "photo.jpg").write_bytes(blob)
    result = run("inbox", "import", "photo.jpg", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["classes"] == {"unparsable": 1}
    (row,) = json.loads(run("replies", "--json").stdout)
    assert row["class"] == "unparsable" and "not an e-mail message" in row["error"]


def test_import_of_an_unreadable_file_names_it(
    run: Run, initialized: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, whom file permissions do not stop: refuse the read as the kernel would.
    (initialized / "locked.eml").write_bytes(b"From: a@b.org\n\nhi")
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == "locked.eml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse)
    (initialized / "first.eml").write_bytes(b"From: a@b.org\nMessage-ID: <first@b.org>\n\nhi")
    result = run("inbox", "import", "first.eml", "locked.eml")
    assert result.exit_code == 1
    assert "locked.eml: cannot read it (Permission denied)" in result.stderr
    assert "Messages read before it were saved" in result.stderr
    assert "internal error" not in result.stderr
    # …and they were: the file before the unreadable one is in the database
    assert [r["message_id"] for r in json.loads(run("replies", "--json").stdout)] == [
        "<first@b.org>"
    ]


def test_mbox_maildir_and_eml_folder_through_the_cli(run: Run, initialized: Path) -> None:
    one = b"From: a@b.org\nMessage-ID: <one@b.org>\n\nhi\n"
    two = b"From: c@d.org\nMessage-ID: <two@d.org>\n\nhello\n"
    (initialized / "lead.mbox").write_bytes(b"\n" + mbox(one, two, b""))  # blank first line
    maildir = initialized / "md"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "123.host:2,S").write_bytes(
        b"From: e@f.org\nMessage-ID: <three@f.org>\n\nx\n"
    )
    (maildir / "new" / "124.host").write_bytes(b"")  # an empty message is skipped
    (initialized / "emls" / "sub").mkdir(parents=True)
    (initialized / "emls" / "sub" / "4.eml").write_bytes(
        b"From: g@h.org\nMessage-ID: <four@h.org>\n\ny\n"
    )
    result = run("inbox", "import", "lead.mbox", "md", "emls", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["new"], summary["unparsable"], summary["review"]) == (4, 0, 0)
    human = run("inbox", "import", "lead.mbox", "md", "emls")
    assert "0 new, 4 already known" in human.stdout and "wait for a decision" not in human.stdout


def test_import_checks_every_path_before_reading(run: Run, initialized: Path) -> None:
    (initialized / "first.eml").write_bytes(b"From: a@b.org\nMessage-ID: <first@b.org>\n\nhi")
    (initialized / "nomail").mkdir()
    result = run("inbox", "import", "first.eml", "nomail")
    assert result.exit_code == 1 and "nomail: neither a Maildir folder" in result.stderr
    assert run("replies", "--json").stdout.strip() == "[]"  # nothing half-done


def test_a_folder_name_with_a_line_break_is_refused(run: Run, initialized: Path) -> None:
    env = {"MAILER_IMAP_URL": "imaps://me@127.0.0.1/INBOX", "MAILER_IMAP_PASSWORD": "x"}
    for option in ("--folder", "--move-to"):
        result = run("inbox", "fetch", option, "IN\r\nBOX", env=env)
        assert result.exit_code == 1, result.stderr
        assert "IMAP folder 'IN\\r\\nBOX' contains a control character" in result.stderr


def test_fetch_with_a_malformed_url(run: Run, initialized: Path) -> None:
    env = {"MAILER_IMAP_URL": "imaps://u:pw@[::1/INBOX", "MAILER_IMAP_PASSWORD": "pw"}
    result = run("inbox", "fetch", env=env)
    assert (
        result.exit_code == 1 and "[imap] url: not a usable URL (Invalid IPv6 URL)" in result.stderr
    )
    assert ":pw@" not in result.stderr


def test_fetch_from_a_closed_port(run: Run, initialized: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"MAILER_IMAP_URL": f"imaps://u@127.0.0.1:{port}/INBOX", "MAILER_IMAP_PASSWORD": "pw"}
    result = run("inbox", "fetch", env=env)
    assert result.exit_code == 1 and f"127.0.0.1:{port}: cannot connect" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("reply", "assign", "x", "1"), ("reply", "mark", "x", "signed"), ("replies", "--class", "no")],
)
def test_malformed_arguments_are_usage_errors(
    run: Run, initialized: Path, args: tuple[str]
) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "Invalid value" in result.stderr


def test_assign_of_an_unknown_reply(run: Run, world: World) -> None:
    result = run("reply", "assign", "99", "Partido")
    assert result.exit_code == 1 and "no reply 99" in result.stderr


def test_assign_to_an_ambiguous_org_or_unknown_campaign(
    run: Run, inbox: Path, world: World
) -> None:
    run("inbox", "import", str(inbox))
    (stranger,) = json.loads(run("replies", "--unmatched", "--json").stdout)
    rid = str(stranger["id"])
    added = run("org", "add", "Partido Obrero del Sur", "--country", "AR", "--email", "x@pos.ar")
    assert added.exit_code == 0, added.stderr
    twice = run("reply", "assign", rid, "Partido Obrero del Sur")
    assert twice.exit_code == 1 and "matches 2 organizations" in twice.stderr
    nowhere = run("reply", "assign", rid, POS, "--campaign", "no-such")
    assert nowhere.exit_code == 1 and "no campaign named 'no-such'" in nowhere.stderr
    unknown = run("reply", "assign", rid, "Nobody at all")
    assert unknown.exit_code == 1 and "no organization matches" in unknown.stderr
    (still,) = json.loads(run("replies", "--unmatched", "--json").stdout)
    assert still["id"] == stranger["id"]


def test_review_of_an_unknown_campaign(run: Run, initialized: Path) -> None:
    result = run("replies", "review", "no-such")
    assert result.exit_code == 1 and "no campaign named 'no-such'" in result.stderr


def test_the_cli_offers_exactly_the_decisions_the_core_knows() -> None:
    # The CLI keeps its own list so `--help` need not load the database layer.
    from mailer.cli.inbox import DECISIONS
    from mailer.inbox.review import MARKS

    assert tuple(MARKS) == DECISIONS
