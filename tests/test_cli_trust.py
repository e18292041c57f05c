"""Who can change an organization's answer (DESIGN §7a), end to end: a campaign really
sent to an aiosmtpd sink, then replies, forgeries and delivery reports written as an
outsider would, imported from real Maildir and mbox files through the CLI."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, Run
from tests.fixtures.smtp import SmtpServer
from tests.inbox_data import mbox

SENDER = "intl@party.example.org"
OURS = "mx.party.example.org"
STATEMENT = EXAMPLES / "statements" / "peace-statement"
NWPA = "intl@nwpa.example.org"  # New Workers' Party of Atlantis (the example organizations)
USC = "international@usc-collines.example.org"  # Union syndicale des Collines
TESTER = "comrade.tester@party.example.org"


@dataclass(frozen=True)
class Copy:
    """One message as the sink received it: what a recipient (or forward) can see."""

    envelope_from: str
    message_id: str
    reply_to: str
    unsubscribe: str


@dataclass(frozen=True)
class Sent:
    copies: dict[str, Copy]  # by recipient
    tests: list[Copy]  # the send --test copies


def copy_of(mail_from: str, data: bytes) -> Copy:
    msg = email.message_from_bytes(data)
    unsubscribe = next(
        a for _, a in getaddresses([msg["List-Unsubscribe"].replace("mailto:", "")]) if "@" in a
    )
    return Copy(mail_from, msg["Message-ID"], getaddresses([msg["Reply-To"]])[0][1], unsubscribe)


@pytest.fixture
def sent(with_orgs: Path, run: Run, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Sent:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", SENDER)
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    monkeypatch.setenv("MAILER_INBOX_AUTHSERV_ID", OURS)
    monkeypatch.setenv("MAILER_NOW", "2026-12-01T09:00:00")
    made = run("campaign", "new", "peace", "--statement", str(STATEMENT))
    assert made.exit_code == 0, made.stderr
    for args in (["send", "peace"], ["send", "peace", "--test", TESTER]):
        result = run(*args, "--rate", "unlimited")
        assert result.exit_code == 0, result.stderr
    copies, tests = {}, []
    for m in smtpd.messages:
        if m.rcpt_tos == [TESTER]:
            tests.append(copy_of(m.mail_from, m.data))
        else:
            copies[m.rcpt_tos[0]] = copy_of(m.mail_from, m.data)
    return Sent(copies, tests)


def message(
    frm: str, to: str, body: str, *headers: str, subject: str = "Re: Joint statement for peace"
) -> bytes:
    head = "".join(h + "\r\n" for h in headers)
    return (
        f"{head}From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{abs(hash((frm, to, body)))}@x>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def dsn(to: str, failed: str, returned: str = "") -> bytes:
    """A delivery report as MTAs write them; ``returned``: the original's headers, if any."""
    parts = [
        "--r\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at mx.example.net.\r\n"
        "Your message could not be delivered.\r\n",
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n",
    ]
    if returned:
        parts.append(f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n")
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{abs(hash((to, failed, returned)))}@mx.example.net>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        + "".join(parts)
        + "--r--\r\n"
    ).encode()


def import_maildir(run: Run, folder: Path, *messages: bytes) -> None:
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    result = run("inbox", "import", str(folder))
    assert result.exit_code == 0, result.stderr


def replies(run: Run) -> list[dict[str, Any]]:
    return json.loads(run("replies", "--json").stdout)


def answers(run: Run) -> dict[str, str]:
    status = json.loads(run("status", "peace", "--json").stdout)
    return {o["name"]: o["state"] for o in status["by_org"] if o["state"] != "no_answer"}


def address_status(run: Run, org: str) -> dict[str, str]:
    shown = json.loads(run("org", "show", org, "--json").stdout)
    return {a["email"]: a["status"] for a in shown["addresses"]}


def opted_out(run: Run, org: str) -> bool:
    return bool(json.loads(run("org", "show", org, "--json").stdout)["do_not_contact"])


# ---------------------------------------------------------------- the attacks


def test_a_forged_from_of_a_known_address_waits(run: Run, sent: Sent, project: Path) -> None:
    import_maildir(run, project / "in", message(NWPA, SENDER, "We sign the statement."))
    (reply,) = replies(run)
    assert (reply["class"], reply["status"], reply["verified"]) == ("signon", "review", None)
    assert reply["reason"] == (
        "From not verified by the receiving server, and the mail carries no token or thread of ours"
    )
    assert answers(run) == {"New Workers' Party of Atlantis": "replied"}
    assert run("signatories", "peace").stdout.count("Atlantis") == 0


def test_a_stranger_replying_in_a_forwarded_thread_waits(
    run: Run, sent: Sent, project: Path
) -> None:
    copy = sent.copies[NWPA]
    forged = message(
        "activist@gmail.com",
        copy.reply_to,
        "We sign the statement.",
        f"In-Reply-To: {copy.message_id}",
    )
    import_maildir(run, project / "in", forged)
    (reply,) = replies(run)
    assert (reply["org"], reply["status"], reply["matched_by"]) == (
        "New Workers' Party of Atlantis",
        "review",
        "token",
    )
    assert reply["reason"] == "sender not verified: activist@gmail.com is a stranger in the thread"
    assert answers(run) == {"New Workers' Party of Atlantis": "replied"}  # waits: no answer yet


def test_a_stranger_at_the_unsubscribe_address_pauses_mail_but_opts_nobody_out(
    run: Run, sent: Sent, project: Path
) -> None:
    copy = sent.copies[NWPA]
    import_maildir(
        run, project / "in", message("prankster@mail.ru", copy.unsubscribe, "unsubscribe")
    )
    assert not opted_out(run, NWPA)
    (reply,) = replies(run)
    assert (reply["class"], reply["status"]) == ("unsubscribe", "review")
    status = run("status", "peace")
    assert (
        "  ! 1 unsubscribe request waits for your decision; no mail goes to it meanwhile:\n"
        f"    reply {reply['id']} from prankster@mail.ru for New Workers' Party of Atlantis:"
        " sender not verified: prankster@mail.ru is a stranger in the thread\n"
        "    Decide with: mailer replies review peace\n"
    ) in status.stdout
    assert (
        json.loads(run("status", "peace", "--json").stdout)["unsubscribe_requests"][0]["id"]
        == (reply["id"])
    )
    check = json.loads(run("check", "peace", "--json").stdout)
    assert any("unsubscribe request from prankster@mail.ru" in p["what"] for p in check["problems"])
    # the person decides: it was no request of theirs
    assert run("reply", "mark", str(reply["id"]), "other").exit_code == 0
    assert json.loads(run("status", "peace", "--json").stdout)["unsubscribe_requests"] == []


def test_a_report_about_no_message_of_ours_changes_no_address(
    run: Run, sent: Sent, project: Path
) -> None:
    import_maildir(run, project / "in", dsn("someone@else.example", NWPA))
    assert address_status(run, NWPA)[NWPA] == "active"
    (reply,) = replies(run)
    assert (reply["class"], reply["status"], reply["org"]) == ("bounce", "review", None)
    assert reply["bounce"] == {"recipients": [NWPA], "status": "5.1.1", "hard": True}
    assert reply["reason"].startswith("a delivery report about no message we sent")


def test_answers_to_a_test_copy_change_no_organization(run: Run, sent: Sent, project: Path) -> None:
    assert sent.tests, "send --test sent nothing"
    copy = sent.tests[0]
    import_maildir(
        run,
        project / "in",
        message(TESTER, copy.reply_to, "We sign the statement."),
        message(TESTER, copy.unsubscribe, "unsubscribe"),
    )
    listed = replies(run)
    assert [(r["status"], r["org"]) for r in listed] == [("test", None), ("test", None)]
    assert answers(run) == {}
    assert not any(
        json.loads(run("org", "show", o["name"], "--json").stdout)["do_not_contact"]
        for o in json.loads(run("org", "list", "--json").stdout)
    )
    status = json.loads(run("status", "peace", "--json").stdout)
    assert status["messages"]["sent"] == len(sent.copies)  # the test copies count for nothing


# ---------------------------------------------------------------- the controls


def test_a_genuine_reply_through_our_token_is_applied_at_once(
    run: Run, sent: Sent, project: Path
) -> None:
    copy = sent.copies[NWPA]
    reply_text = "Dear comrades,\n\nwe sign the statement.\n\nInternational Department, NWPA"
    (project / "replies.mbox").write_bytes(mbox(message(NWPA, copy.reply_to, reply_text)))
    assert run("inbox", "import", str(project / "replies.mbox")).exit_code == 0
    (reply,) = replies(run)
    assert (reply["status"], reply["verified"]) == (
        "applied",
        "known address with our token or thread",
    )
    assert run("signatories", "peace").stdout == (
        "Signing organizations\n\n1. New Workers' Party of Atlantis\n"
    )


def test_a_new_message_verified_by_our_server_is_applied(
    run: Run, sent: Sent, project: Path
) -> None:
    verified = message(
        USC,
        SENDER,
        "Nous signons la déclaration.",
        f"Authentication-Results: {OURS};\r\n\tdkim=pass header.d=usc-collines.example.org;"
        "\r\n\tdmarc=pass header.from=usc-collines.example.org",
        subject="Déclaration pour la paix",
    )
    import_maildir(run, project / "in", verified)
    (reply,) = replies(run)
    assert (reply["status"], reply["verified"]) == ("applied", "dmarc pass (known address)")
    assert answers(run) == {"Union syndicale des Collines": "signed"}


def test_a_header_claiming_verification_by_another_server_is_ignored(
    run: Run, sent: Sent, project: Path
) -> None:
    planted = message(
        USC,
        SENDER,
        "Nous signons la déclaration.",
        "Authentication-Results: mx.usc-collines.example.org; dmarc=pass"
        " header.from=usc-collines.example.org",
    )
    import_maildir(run, project / "in", planted)
    (reply,) = replies(run)
    assert (reply["status"], reply["verified"]) == ("review", None)
    assert answers(run) == {"Union syndicale des Collines": "replied"}


def test_a_genuine_report_of_our_message_marks_that_address(
    run: Run, sent: Sent, project: Path
) -> None:
    copy = sent.copies[NWPA]
    assert copy.envelope_from.startswith("intl+bounce-")  # VERP: the report needs nothing more
    import_maildir(run, project / "in", dsn(copy.envelope_from, NWPA))
    assert address_status(run, NWPA) == {NWPA: "bounced", "press@nwpa.example.org": "active"}
    (reply,) = replies(run)
    assert (reply["status"], reply["matched_by"]) == ("applied", "token")
    assert reply["bounce"] == {"recipients": [NWPA], "status": "5.1.1", "hard": True}


def test_a_report_returning_our_message_id_marks_that_address(
    run: Run, sent: Sent, project: Path
) -> None:
    copy = sent.copies[USC]
    returned = f"From: {SENDER}\r\nTo: {USC}\r\nMessage-ID: {copy.message_id}\r\n"
    import_maildir(run, project / "in", dsn(SENDER, USC, returned))
    assert address_status(run, USC) == {USC: "bounced"}


def test_every_automatic_decision_is_in_the_event_log(run: Run, sent: Sent, project: Path) -> None:
    import sqlite3

    import_maildir(run, project / "in", message(NWPA, sent.copies[NWPA].reply_to, "We sign."))
    db = sqlite3.connect(project / "contacts.db")
    (new,) = db.execute(
        "SELECT new FROM event WHERE entity = 'reply' AND action = 'create'"
    ).fetchone()
    db.close()
    logged = json.loads(new)
    assert (logged["matched_by"], logged["verified"], logged["status"]) == (
        "token",
        "known address with our token or thread",
        "applied",
    )
    assert logged["evidence"].startswith("explicit sign-on")


# ---------------------------------------------------------------- the sign-by-e-mail link


RPSB = "medjunarodno@rpsb.example.org"  # Radnička partija Severnog Brega (sr-Latn)


def clicked(smtpd: SmtpServer, recipient: str, frm: str) -> bytes:
    """What a mail client writes when the recipient clicks the link: the link's
    address, subject and body, sent from ``frm``."""
    import html
    import re
    from email.message import EmailMessage
    from urllib.parse import parse_qs, unquote, urlsplit

    data = next(m.data for m in smtpd.messages if m.rcpt_tos == [recipient])
    part = email.message_from_bytes(data, policy=email.policy.default).get_body(("html",))
    href = html.unescape(re.search(r'href="(mailto:[^"]+)"', part.get_content()).group(1))
    link = urlsplit(href)
    fields = {k: v[0] for k, v in parse_qs(link.query).items()}
    reply = EmailMessage()
    reply["From"], reply["To"] = frm, unquote(link.path)
    reply["Subject"], reply["Message-ID"] = fields["subject"], f"<click.{abs(hash(frm))}@x>"
    reply.set_content(fields["body"])
    return bytes(reply)


def test_one_click_on_the_sign_link_signs_in_the_recipients_language(
    run: Run, sent: Sent, smtpd: SmtpServer, project: Path
) -> None:
    raw = clicked(smtpd, RPSB, RPSB)
    assert b"Subject: Potpisujemo: Joint statement for peace" in raw
    assert "Potpisujemo izjavu." in raw.decode()
    import_maildir(run, project / "in", raw)
    (reply,) = replies(run)
    assert (reply["class"], reply["confidence"], reply["status"]) == ("signon", 1.0, "applied")
    assert reply["evidence"] == "sent through the sign-by-e-mail link"
    assert answers(run) == {"Radnička partija Severnog Brega": "signed"}


def test_the_sign_link_of_a_forwarded_copy_does_not_sign_for_a_stranger(
    run: Run, sent: Sent, smtpd: SmtpServer, project: Path
) -> None:
    import_maildir(run, project / "in", clicked(smtpd, RPSB, "reader@yahoo.com"))
    (reply,) = replies(run)
    assert (reply["class"], reply["status"]) == ("signon", "review")
    assert reply["reason"] == "sender not verified: reader@yahoo.com is a stranger in the thread"
