"""`mailer remind` end to end over a real SMTP server on loopback: reminders answer
the first message (same thread, same subject after the prefix), report the
campaign's uncertain messages, and stop where `mailer send` would."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage

import pytest

from tests.conftest import EXAMPLES, Run
from tests.fixtures.smtp import SmtpServer

DAY1 = "2027-03-01T09:00:00+00:00"
DAY5 = "2027-03-05T09:00:00+00:00"


@pytest.fixture
def sent(project, run: Run, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Campaign "call" (the example of `mailer init`) sent on DAY1 through ``smtpd``."""
    for name, value in (
        ("MAILER_NOW", DAY1),
        ("MAILER_SENDER_ADDRESS", "intl@party.example.org"),
        ("MAILER_SMTP_URL", smtpd.url()),
        ("MAILER_SMTP_RATE", "unlimited"),
    ):
        monkeypatch.setenv(name, value)
    for args in (
        ("init",),
        ("org", "import", str(EXAMPLES / "organizations.csv")),
        ("campaign", "new", "call", "--statement", "templates/example-call"),
        ("send", "call"),
    ):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
    return "call"


def parsed(server: SmtpServer, start: int = 0) -> list[EmailMessage]:
    return [
        email.message_from_bytes(m.data, policy=email.policy.default)
        for m in server.messages[start:]
    ]


def test_a_reminder_continues_the_thread_of_the_first_message(
    sent: str, run: Run, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {m["To"].addresses[0].addr_spec: m for m in parsed(smtpd)}
    monkeypatch.setenv("MAILER_NOW", DAY5)
    result = run("remind", sent, "--json")
    assert result.exit_code == 0, result.stderr
    reminders = parsed(smtpd, len(first))
    assert len(reminders) == json.loads(result.stdout)["send"]["sent"] == len(first)
    prefixes = {"en": "Reminder: ", "sr-Latn": "Podsetnik: ", "sr-Cyrl": "Подсетник: "}
    for reminder in reminders:
        original = first[reminder["To"].addresses[0].addr_spec]
        assert reminder["In-Reply-To"] == original["Message-ID"]
        assert reminder["References"] == original["Message-ID"]
        assert reminder["Message-ID"] != original["Message-ID"]
        lang = reminder["Content-Language"]
        assert reminder["Subject"] == prefixes[lang] + original["Subject"]
    assert {r["Content-Language"] for r in reminders} == set(prefixes)


def test_uncertain_reminders_are_reported_and_sent_again_on_request(
    sent: str, run: Run, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NOW", DAY5)
    smtpd.hang_up("medjunarodno@rpsb.example.org", phase="after_dot")
    before = len(smtpd.messages)
    first = json.loads(run("remind", sent, "--json").stdout)
    assert first["send"]["uncertain"] == 1 and first["uncertain_earlier"] == 0
    assert first["resend_uncertain"] == ["mailer remind call --retry-uncertain"]
    again = run("remind", sent)
    assert again.exit_code == 0, again.stderr
    assert "No organization needs a reminder now." in again.stdout
    assert (
        "1 message(s) left uncertain by earlier runs; uncertain messages may have arrived or"
        " not: `mailer remind call --retry-uncertain` sends them again"
    ) in again.stdout
    data = json.loads(run("remind", sent, "--json").stdout)
    assert (data["send"], data["uncertain_earlier"]) == (None, 1)
    count = len(smtpd.messages)
    retried = json.loads(run("remind", sent, "--retry-uncertain", "--json").stdout)
    assert (retried["resumed"], retried["send"]["sent"], retried["uncertain_earlier"]) == (
        True,
        1,
        0,
    )
    ids = [m["Message-ID"] for m in parsed(smtpd, before) if "rpsb" in str(m["To"])]
    assert len(ids) == 2 and ids[0] == ids[1] and len(smtpd.messages) == count + 1


def test_a_past_deadline_stops_reminders_unless_forced(
    sent: str, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NOW", "2027-12-01T09:00:00+00:00")
    refused = run("remind", sent)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: campaign 'call' cannot be sent: the deadline")
    forced = run("remind", sent, "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["send"]["sent"] > 0
