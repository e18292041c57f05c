"""Copies of sent mail in the mailbox's Sent folder (mailer/sentfolder.py), through
`mailer send` with the aiosmtpd sink and the session's Dovecot, whose "Sent" folder
carries the \\Sent special use."""

from __future__ import annotations

import email
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.fixtures.imap import Dovecot
from tests.fixtures.oauth import MS_CLIENT, TENANT, IdentityServer
from tests.fixtures.smtp import SmtpServer, free_port

pytestmark = pytest.mark.imap


@pytest.fixture
def campaign(
    with_orgs: Path, run: Run, smtpd: SmtpServer, imapd: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> str:
    for name, value in {
        "MAILER_SENDER_ADDRESS": imapd.user,
        "MAILER_SMTP_URL": smtpd.url(),
        "MAILER_SMTP_RATE": "unlimited",
        "MAILER_IMAP_URL": imapd.url("imaps"),
        "MAILER_IMAP_PASSWORD": imapd.password,
    }.items():
        monkeypatch.setenv(name, value)
    made = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert made.exit_code == 0, made.stderr
    return "call"


def send(run: Run, *args: str) -> dict:
    result = run("send", "call", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def message_ids(raw: list[bytes]) -> list[str]:
    return sorted(email.message_from_bytes(r)["Message-ID"] for r in raw)


def logins(imapd: Dovecot) -> int:
    return imapd.log.count(f"Login: user=<{imapd.user}>")


def copy_states(project: Path) -> dict[str | None, int]:
    with sqlite3.connect(project / "contacts.db") as db:
        return dict(db.execute("SELECT sent_copy, count(*) FROM message GROUP BY sent_copy"))


def test_each_sent_message_is_copied_once_in_batches(
    campaign: str, run: Run, smtpd: SmtpServer, imapd: Dovecot, with_orgs: Path
) -> None:
    imapd.create_folder("Sent")
    before = logins(imapd)
    data = send(run)
    sent = data["sent"]
    assert sent > 20  # more than one batch
    assert data["sent_folder"] == {"folder": "Sent", "copied": sent, "note": None}
    assert logins(imapd) == before + 1  # one IMAP session for the whole run
    stored = imapd.messages("Sent")
    assert all("\\Seen" in flags for _, flags in stored)
    # The very bytes the SMTP server took, each once.
    assert sorted(raw.rstrip() for raw, _ in stored) == sorted(
        m.data.rstrip() for m in smtpd.messages
    )
    assert copy_states(with_orgs) == {"done": sent}
    again = send(run)
    assert (again["sent"], again["sent_folder"]["copied"]) == (0, 0)
    assert len(imapd.messages("Sent")) == sent
    text = run("send", "call")
    assert "Copies" not in text.stdout and "Note" not in text.stdout


def test_no_sent_folder_is_a_note_and_a_later_run_adds_the_copies(
    campaign: str, run: Run, smtpd: SmtpServer, imapd: Dovecot, with_orgs: Path
) -> None:
    result = run("send", campaign)
    assert result.exit_code == 0, result.stderr
    sent = len(smtpd.messages)
    note = (
        f"Note: {sent} sent message(s) are not in the mailbox's Sent folder yet: "
        f"imaps://{imapd.user}@127.0.0.1:{imapd.imaps_port} marks no folder as the Sent "
        "folder (\\Sent); name one in [imap] sent_folder; once that is put right, the next "
        "`mailer send` or `mailer remind` of this campaign puts them there.\n"
    )
    assert result.stdout.endswith(note)
    assert copy_states(with_orgs) == {"wanted": sent}
    imapd.create_folder("Sent")
    data = send(run)
    assert data["sent"] == 0 and data["sent_folder"] == {
        "folder": "Sent",
        "copied": sent,
        "note": None,
    }
    stored = [raw for raw, _ in imapd.messages("Sent")]
    originals = [m.data for m in smtpd.messages]
    assert message_ids(stored) == message_ids(originals)  # made again, same Message-IDs
    again = {m["Message-ID"]: m for m in map(email.message_from_bytes, stored)}
    for original in map(email.message_from_bytes, originals):
        copy = again[original["Message-ID"]]
        assert (copy["To"], copy["Subject"]) == (original["To"], original["Subject"])
        plain = [
            p.get_payload(decode=True) for p in copy.walk() if p.get_content_type() == "text/plain"
        ]
        sent_plain = [
            p.get_payload(decode=True)
            for p in original.walk()
            if p.get_content_type() == "text/plain"
        ]
        assert plain == sent_plain
    assert copy_states(with_orgs) == {"done": sent}


def test_a_thank_you_listing_signatories_is_copied_by_a_later_run(
    campaign: str, run: Run, smtpd: SmtpServer, imapd: Dovecot, with_orgs: Path
) -> None:
    """A copy made again later reads the published list, as the message sent did."""
    for org in ("RPSB", "NWPA"):
        assert run("sign", campaign, org).exit_code == 0
    thanks = with_orgs / "thanks"
    shutil.copytree(with_orgs / "templates" / "example-thanks", thanks)
    toml = thanks / "statement.toml"
    toml.write_text(
        toml.read_text().replace('list_from = "peace-2026"', f'list_from = "{campaign}"')
    )
    made = run("campaign", "new", "thanks", "--statement", str(thanks), "--signed", campaign)
    assert made.exit_code == 0, made.stderr
    first = json.loads(run("send", "thanks", "--json").stdout)
    assert first["sent"] > 0 and first["sent_folder"]["copied"] == 0  # no Sent folder yet
    reminded = run("remind", "thanks", "--after-days", "0", "--json")
    assert reminded.exit_code == 0, reminded.stderr
    again = json.loads(reminded.stdout)["send"]["sent"]
    assert again > 0
    imapd.create_folder("Sent")
    # `send` makes the copies of both waves: the reminders' with a factory of their own.
    data = json.loads(run("send", "thanks", "--json").stdout)
    assert data["sent_folder"] == {"folder": "Sent", "copied": first["sent"] + again, "note": None}
    assert message_ids([raw for raw, _ in imapd.messages("Sent")]) == message_ids(
        [m.data for m in smtpd.messages]
    )


def test_a_bad_sent_folder_setting_is_one_note_until_it_is_put_right(
    campaign: str, run: Run, smtpd: SmtpServer, imapd: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    imapd.create_folder("Sent")
    monkeypatch.setenv("MAILER_IMAP_SENT_FOLDER", "Sent\nX")
    result = run("send", campaign, "--limit", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(
        "Note: 2 sent message(s) are not in the mailbox's Sent folder yet: IMAP folder "
        "'Sent\\nX' contains a control character (such as a line break); once that is put "
        "right, the next `mailer send` or `mailer remind` of this campaign puts them there.\n"
    )
    monkeypatch.setenv("MAILER_IMAP_SENT_FOLDER", "Sent")
    assert send(run, "--limit", "1")["sent_folder"]["copied"] == 3


def test_an_imap_server_that_is_away_changes_no_delivery(
    campaign: str, run: Run, smtpd: SmtpServer, imapd: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    imapd.create_folder("Sent")
    monkeypatch.setenv("MAILER_IMAP_URL", imapd.url("imaps", port=free_port()))
    data = send(run)
    assert data["sent"] == len(smtpd.messages) and data["failed"] == data["uncertain"] == 0
    assert data["sent_folder"]["copied"] == 0
    assert "cannot connect" in data["sent_folder"]["note"]
    monkeypatch.setenv("MAILER_IMAP_URL", imapd.url("imap+starttls"))
    assert send(run)["sent_folder"]["copied"] == data["sent"]


def test_a_named_folder_and_what_is_never_copied(
    campaign: str,
    run: Run,
    smtpd: SmtpServer,
    imapd: Dovecot,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imapd.create_folder("Sent")
    imapd.create_folder("Gesendet")
    monkeypatch.setenv("MAILER_IMAP_SENT_FOLDER", "Gesendet")
    test = run("send", campaign, "--test", "me@party.example.org", "--json")
    assert json.loads(test.stdout)["sent_folder"] is None  # a test copy is no campaign message
    data = send(run, "--limit", "3")
    assert data["sent_folder"] == {"folder": "Gesendet", "copied": 3, "note": None}
    assert (len(imapd.messages("Gesendet")), len(imapd.messages("Sent"))) == (3, 0)
    # Without an IMAP server nothing is copied and nothing said; nor from the outbox.
    monkeypatch.delenv("MAILER_IMAP_URL")
    assert send(run, "--limit", "2")["sent_folder"] is None
    monkeypatch.setenv("MAILER_IMAP_URL", imapd.url())
    monkeypatch.delenv("MAILER_SMTP_URL")
    other = run("campaign", "new", "other", "--statement", "templates/example-call")
    assert other.exit_code == 0, other.stderr
    outbox = json.loads(run("send", "other", "--json", "--limit", "2").stdout)
    assert outbox["sent"] == 2 and outbox["sent_folder"] is None
    assert len(imapd.messages("Gesendet")) == 3


def test_copies_over_xoauth2_next_to_sending_over_xoauth2(
    campaign: str,
    run: Run,
    identity: IdentityServer,
    smtpd_xoauth2: SmtpServer,
    imapd: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One `mailer login` for both: SMTP AUTH and the IMAP thread take their own tokens."""
    identity.user = imapd.user
    user = imapd.user.replace("@", "%40")
    for name, value in {
        "MAILER_SMTP_URL": smtpd_xoauth2.url(user),
        "MAILER_SMTP_AUTH": "xoauth2",
        "MAILER_IMAP_AUTH": "xoauth2",
        "MAILER_OAUTH_PROVIDER": "microsoft",
        "MAILER_OAUTH_CLIENT_ID": MS_CLIENT,
        "MAILER_OAUTH_TENANT": TENANT,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAILER_IMAP_PASSWORD")
    signed = run("login")
    assert signed.exit_code == 0, signed.stderr
    assert "(SMTP and IMAP)" in signed.stdout
    imapd.create_folder("Sent")
    data = send(run, "--limit", "5")
    assert data["sent_folder"] == {"folder": "Sent", "copied": 5, "note": None}
    assert len(smtpd_xoauth2.messages) == 5 and len(imapd.messages("Sent")) == 5


def test_no_second_copy_where_the_smtp_server_files_its_own(project: Path) -> None:
    """Gmail and Microsoft 365 put what their SMTP servers send in Sent themselves."""
    from mailer.config import load_settings
    from mailer.sentfolder import copies_wanted

    def wanted(smtp: str, **more: str) -> bool:
        env = {"MAILER_SMTP_URL": smtp, "MAILER_IMAP_URL": "imaps://a%40b.org@imap.b.org/INBOX"}
        return copies_wanted(load_settings(env={**env, **more}))

    assert not wanted("smtp+starttls://a%40b.org@smtp.office365.com:587")
    assert not wanted("smtps://a%40b.org@SMTP.Gmail.com")
    assert wanted("smtps://a%40b.org@smtp.gmail.com", MAILER_IMAP_SENT_FOLDER="[Gmail]/Sent Mail")
    assert wanted("smtps://a%40b.org@mail.party.example.org")
    assert not wanted("", MAILER_IMAP_SENT_FOLDER="Sent")  # the outbox
