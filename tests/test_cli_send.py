"""`mailer send` end to end through the CLI: outbox, SMTP, JSON, errors, exit codes."""

from __future__ import annotations

import json
import mailbox
import os
import re
import socket

import pytest

from tests.fixtures.smtp import PASSWORD, USER, free_port

SENDER = "intl@party.example.org"


@pytest.fixture
def campaign(with_orgs, run, monkeypatch):
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", SENDER)
    result = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert result.exit_code == 0, result.stderr
    return "call"


def audience_size(run) -> int:
    return json.loads(run("send", "call", "--dry-run", "--json").stdout)["total"]


def test_send_to_the_outbox_by_default_then_nothing_twice(campaign, run, project):
    assert json.loads(run("campaign", "show", campaign, "--json").stdout)["status"] == "draft"
    result = run("send", campaign)
    assert result.exit_code == 0, result.stderr
    assert "the outbox" in result.stdout and "sent" in result.stdout
    box = mailbox.Maildir(project / "outbox")
    count = len(box)
    assert count > 20
    again = run("send", campaign, "--json")
    data = json.loads(again.stdout)
    assert (data["sent"], data["previously_sent"]) == (0, count)
    assert len(mailbox.Maildir(project / "outbox")) == count
    assert json.loads(run("campaign", "show", campaign, "--json").stdout)["status"] == "sent"


def test_an_address_with_an_international_domain_is_sent_in_idna(
    with_orgs, run, smtpd, monkeypatch
):
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", SENDER)
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    added = run("org", "add", "Buchhandlung der Arbeit", "--email", "intl@bücher.example")
    assert added.exit_code == 0, added.stderr
    made = run("campaign", "new", "idn", "--statement", "templates/example-call")
    assert made.exit_code == 0, made.stderr
    result = run("send", "idn", "--json", "--rate", "unlimited")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["failed"] == 0
    assert smtpd.received()["intl@xn--bcher-kva.example"] == 1


def test_json_summary_over_smtp(campaign, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    total = audience_size(run)
    result = run("send", campaign, "--json", "--rate", "unlimited", "--concurrency", "2")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["sent"] == total == len(smtpd.messages)
    for key in (
        "campaign",
        "wave",
        "transport",
        "deferred",
        "failed",
        "uncertain",
        "skipped",
        "not_attempted",
        "problems",
        "interrupted",
        "error",
    ):
        assert key in data
    assert "done" in result.stderr  # plain progress lines when not on a terminal


def test_failed_messages_are_results_not_errors(campaign, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    smtpd.fail("intl@nwpa.example.org", "550 5.1.1 no such user", times=None)
    result = run("send", campaign, "--rate", "unlimited")
    assert result.exit_code == 0
    assert "intl@nwpa.example.org" in result.stdout and "550 5.1.1" in result.stdout
    assert "failed intl@nwpa.example.org" in result.stderr


def test_dry_run_sends_and_writes_nothing(campaign, run, project):
    result = run("send", campaign, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "nothing was sent" in result.stdout
    assert not (project / "outbox").exists()


def test_test_copy_per_language(campaign, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    result = run("send", campaign, "--test", "me@party.example.org", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["test"] is True
    assert smtpd.received() == {"me@party.example.org": 3}
    assert "3/3 done, 0 not sent" in result.stderr  # progress knows the total
    bad = run("send", campaign, "--test", "not an address")
    assert bad.exit_code == 1 and "--test" in bad.stderr
    umlaut = run("send", campaign, "--test", "ü@b.org")
    assert umlaut.stderr.startswith("Error: --test: email 'ü@b.org' is not valid")


def test_server_down_at_start(campaign, run, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    result = run("send", campaign)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot connect to the mail server 127.0.0.1")
    assert "Traceback" not in result.stderr
    data = json.loads(run("send", campaign, "--dry-run", "--json").stdout)
    assert data["previously_sent"] == 0


def test_plain_smtp_to_another_host_needs_insecure(campaign, run, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", "smtp://192.0.2.1:25")
    monkeypatch.setenv("MAILER_SMTP_TIMEOUT", "0.5")
    result = run("send", campaign)
    assert result.exit_code == 1 and "--insecure" in result.stderr
    insecure = run("send", campaign, "--insecure")
    assert insecure.exit_code == 1 and "cannot connect" in insecure.stderr


def test_bad_rate_is_a_usage_error(campaign, run):
    result = run("send", campaign, "--rate", "fast")
    assert result.exit_code == 2 and "--rate" in result.stderr


def test_a_locked_campaign_is_refused(campaign, run, project):
    from mailer.config import load_settings
    from mailer.db import open_db

    db = open_db(load_settings().path("db.path"))
    db.execute(
        "INSERT INTO send_lock (campaign_id, pid, host, started_at) VALUES (1, ?, ?, 'now')",
        [os.getppid(), socket.gethostname()],
    )
    result = run("send", campaign)
    assert result.exit_code == 1 and "is being sent by process" in result.stderr


def test_the_password_is_never_printed_or_stored(
    campaign, run, smtpd_starttls, monkeypatch, project
):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd_starttls.url(USER))
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", PASSWORD)
    result = run("send", campaign, "--rate", "unlimited", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == len(smtpd_starttls.messages) > 0
    assert PASSWORD not in result.stdout + result.stderr
    assert PASSWORD.encode() not in (project / "contacts.db").read_bytes()
    for companion in project.glob("contacts.db-*"):
        assert PASSWORD.encode() not in companion.read_bytes()


def test_unknown_campaign(with_orgs, run):
    result = run("send", "nope")
    assert result.exit_code == 1 and "nope" in result.stderr


def test_limit_caps_the_run_and_the_dry_run_alike(campaign, run, project):
    dry = json.loads(run("send", campaign, "--limit", "2", "--dry-run", "--json").stdout)
    assert dry["total"] == sum(dry["languages"].values()) == 2
    result = run("send", campaign, "--limit", "2", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == 2 == len(mailbox.Maildir(project / "outbox"))
    zero = run("send", campaign, "--limit", "0")
    assert zero.exit_code == 2 and "--limit" in zero.stderr


def test_the_daily_cap_shows_in_the_dry_run(campaign, run, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_DAILY_CAP", "3")
    result = run("send", campaign, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "daily cap of 3 messages" in result.stdout and "leaves 3 for today" in result.stdout


def test_dry_run_and_test_together_is_a_usage_error(campaign, run, project):
    result = run("send", campaign, "--dry-run", "--test", "me@party.example.org")
    assert result.exit_code == 2 and "--dry-run and --test" in result.stderr
    assert not (project / "outbox").exists()


def test_a_bad_test_address_is_refused_before_asking_for_a_password(campaign, run, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", f"smtps://{USER}@127.0.0.1:{free_port()}")
    result = run("send", campaign, "--test", "me@")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --test: email 'me@' is not valid")
    assert "PASSWORD" not in result.stderr


@pytest.mark.parametrize("port", ["abc", "99999", "0"])
@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)])
def test_a_bad_port_in_the_smtp_url_is_one_sentence(campaign, run, monkeypatch, port, dry_run):
    monkeypatch.setenv("MAILER_SMTP_URL", f"smtp://127.0.0.1:{port}")
    result = run("send", campaign, *dry_run)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: environment variable MAILER_SMTP_URL: [smtp] url: the port must be a number"
        f" from 1 to 65535, got 'smtp://127.0.0.1:{port}'"
    )
    assert "internal error" not in result.stderr


def test_uncertain_messages_go_again_only_with_retry_uncertain(campaign, run, project):
    from mailer.config import load_settings
    from mailer.db import open_db

    assert run("send", campaign, "--limit", "3").exit_code == 0
    db = open_db(load_settings().path("db.path"))
    db.execute("UPDATE message SET state = 'uncertain' WHERE id = (SELECT min(id) FROM message)")
    db.close()
    again = json.loads(run("send", campaign, "--limit", "1", "--json").stdout)
    assert (again["sent"], again["previously_sent"]) == (1, 2)  # a new one, not the uncertain
    assert len(mailbox.Maildir(project / "outbox")) == 4
    result = run("send", campaign, "--retry-uncertain", "--limit", "1", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["sent"], data["previously_sent"]) == (1, 3)
    assert len(mailbox.Maildir(project / "outbox")) == 5  # 3, 1 new, the uncertain one again


def test_bad_dkim_settings_are_one_sentence_before_anything_is_sent(
    campaign, run, project, tmp_path
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    curve_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "ec.pem").write_bytes(curve_key)
    (tmp_path / "cut.pem").write_bytes(curve_key[:60])
    cases = [
        ({"MAILER_DKIM_KEY_FILE": str(tmp_path / "ec.pem")}, "not an RSA private key"),
        ({"MAILER_DKIM_KEY_FILE": str(tmp_path / "cut.pem")}, "not an RSA private key"),
        ({"MAILER_DKIM_DOMAIN": "pärty.example.org"}, "[dkim] domain 'pärty.example.org'"),
        ({"MAILER_DKIM_SELECTOR": "s 1;x="}, "[dkim] selector 's 1;x='"),
    ]
    for change, message in cases:
        env = {
            "MAILER_DKIM_DOMAIN": "party.example.org",
            "MAILER_DKIM_SELECTOR": "mail",
            "MAILER_DKIM_KEY_FILE": str(tmp_path / "ec.pem"),
            **change,
        }
        for dry_run in ((), ("--dry-run",)):
            result = run("send", campaign, *dry_run, env=env)
            assert result.exit_code == 1, (change, result.stderr)
            assert result.stderr.startswith("Error: ") and message in result.stderr
            assert "internal error" not in result.stderr
    assert not (project / "outbox").exists()


def test_rate_limits_through_the_cli(campaign, run, smtpd, monkeypatch):
    """--rate 2/s reaches the engine: four messages get their slots half a second
    apart. The limiter runs on the fake clock of tests/test_ratelimit.py, so this
    measures the pacing, not the machine, and takes no real time."""
    import mailer.send
    from mailer.ratelimit import RateLimiter
    from tests.test_ratelimit import FakeClock

    clock = FakeClock()
    slots: list[float] = []

    class OnTheFakeClock(RateLimiter):
        def __init__(self, count, period=60.0, **real_time):
            super().__init__(count, period, clock=clock, sleep=clock.sleep)

        async def acquire(self, stop=None):
            granted = await super().acquire(stop)
            if granted:
                slots.append(clock())
            return granted

    monkeypatch.setattr(mailer.send, "RateLimiter", OnTheFakeClock)
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    total = audience_size(run)
    result = run("send", campaign, "--json", "--rate", "2/s", "--limit", "4")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == len(smtpd.messages) == 4
    assert slots == [0.0, 0.5, 1.0, 1.5]
    fast = run("send", campaign, "--json", "--rate", "unlimited", "--concurrency", "1")
    assert json.loads(fast.stdout)["sent"] == total - 4
    assert clock() == 1.5  # unlimited never waits


def test_a_statement_broken_for_everyone_stops_the_dry_run_as_it_stops_a_send(
    campaign, run, project
):
    text = project / "templates" / "example-call" / "en.md"
    lines = text.read_text(encoding="utf-8").splitlines()
    text.write_text("\n".join([*lines, "{% if %}"]) + "\n", encoding="utf-8")
    for args in (["--dry-run"], []):
        result = run("send", campaign, *args)
        assert result.exit_code == 1, result.stdout
        assert result.stderr.startswith(
            f"Error: campaign 'call' cannot be sent: {text}:{len(lines) + 1}: "
        )
    assert not (project / "outbox").exists()


def test_an_outbox_that_cannot_be_made_stops_the_run_before_anything(campaign, run, project):
    (project / "outbox").mkdir()
    (project / "outbox" / "new").write_text("in the way")  # the Maildir cannot be made
    result = run("send", campaign)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: cannot create the outbox {project / 'outbox' / 'new'}:"
    )
    assert json.loads(run("status", campaign, "--json").stdout)["messages"]["sent"] == 0


def test_a_disk_that_fills_partway_stops_the_run_says_what_is_left_and_exits_1(
    campaign, run, project, disks, monkeypatch
):
    outbox = disks.small(96) / "outbox"
    monkeypatch.setenv("MAILER_OUTBOX_PATH", str(outbox))
    total = audience_size(run)
    result = run("send", campaign, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert 0 < summary["sent"] < total and summary["not_attempted"] == total - summary["sent"]
    assert "sending stopped: cannot write to" in result.stderr
    assert "No space left on device" in result.stderr
    assert (
        f"{total - summary['sent']} message(s) were not attempted; run `mailer send {campaign}` again"
        in (result.stderr)
    )
    assert list((outbox / "tmp").iterdir()) == []  # no half-written message left behind
    assert len(list((outbox / "new").iterdir())) == summary["sent"]


# --- check and send share one rule of what blocks -------------------------------------------


def _append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _statement(project):
    return project / "templates" / "example-call"


def _no_address(run, project, monkeypatch):
    assert run("org", "optout", "contacto@fps-sierra.example.org").exit_code == 0
    return "no deliverable address: skipped"


def _own_template_error(run, project, monkeypatch):
    _append(_statement(project) / "en.md", '\n{% if org.country == "MX" %}{{ nope }}{% endif %}\n')
    return "nope"


def _past_deadline(run, project, monkeypatch):
    monkeypatch.setenv("MAILER_NOW", "2031-01-01T09:00:00")
    return "already past"


def _past_deadline_moved(run, project, monkeypatch):
    monkeypatch.setenv("MAILER_NOW", "2031-01-01T09:00:00")
    assert run("campaign", "edit", "call", "--deadline", "2031-02-01").exit_code == 0
    return "Nothing blocks"


def _missing_attachment(run, project, monkeypatch):
    _append(_statement(project) / "statement.toml", 'attachments = ["poster.pdf"]\n')
    return str(_statement(project) / "poster.pdf")


def _too_large(run, project, monkeypatch):
    (_statement(project) / "poster.pdf").write_bytes(os.urandom(30_000))
    _append(_statement(project) / "statement.toml", 'attachments = ["poster.pdf"]\n')
    monkeypatch.setenv("MAILER_SMTP_MAX_MESSAGE_MB", "0.03")
    return "above [smtp] max_message_mb = 0.03"


def _no_sender(run, project, monkeypatch):
    monkeypatch.delenv("MAILER_SENDER_ADDRESS")
    return "[sender] address is not set"


def _broken_for_everyone(run, project, monkeypatch):
    _append(_statement(project) / "en.md", "\n{{ org.nom }}\n")
    return "en.md:"


@pytest.mark.parametrize(
    ("state", "args", "starts"),
    [
        (lambda run, project, monkeypatch: "Nothing blocks", (), True),
        (_no_address, (), True),
        (_own_template_error, (), True),
        (_past_deadline, (), False),
        (_past_deadline, ("--force",), True),
        (_past_deadline_moved, (), True),
        (_missing_attachment, (), False),
        (_too_large, (), False),
        (_no_sender, (), False),
        (_broken_for_everyone, (), False),
    ],
    ids=[
        "clean",
        "an organization with no deliverable address",
        "a template error of one organization",
        "deadline past",
        "deadline past, --force",
        "deadline past, then moved",
        "attachment missing",
        "message too large",
        "no sender",
        "template error for everyone",
    ],
)
def test_check_exits_0_exactly_when_send_starts(
    campaign, run, project, monkeypatch, state, args, starts
):
    shown = state(run, project, monkeypatch)
    dry = run("send", campaign, "--dry-run", "--json", *args)
    assert (dry.exit_code == 0) == starts  # a dry run refuses what the send would refuse
    check = run("check", campaign, *args)
    assert shown in check.stdout + check.stderr
    send = run("send", campaign, *args, "--json")
    assert (check.exit_code == 0, send.exit_code == 0) == (starts, starts), send.stderr
    if starts:
        assert json.loads(send.stdout)["total"] == json.loads(dry.stdout)["total"] > 0
        assert len(mailbox.Maildir(project / "outbox")) > 0
    else:
        assert send.stdout == "" and not (project / "outbox").exists()
        assert send.stderr.startswith("Error: campaign 'call' cannot be sent: ")
        assert send.stderr.endswith("Nothing was sent. `mailer check call` lists every problem.\n")


def test_an_organization_that_cannot_be_sent_to_is_reported_and_skipped(campaign, run, project):
    _own_template_error(run, project, None)
    check = run("check", campaign, "--json")
    [note] = [p for p in json.loads(check.stdout)["problems"] if "nope" in p["what"]]
    assert (note["where"], note["severity"]) == ("Frente Popular de la Sierra", "info")
    result = json.loads(run("send", campaign, "--json").stdout)
    assert [(p["email"], p["state"]) for p in result["problems"]] == [
        ("contacto@fps-sierra.example.org", "skipped")
    ]


# --- the uncertain messages of earlier runs -------------------------------------------------


def test_every_summary_reports_the_uncertain_messages_of_earlier_runs(
    campaign, run, smtpd, monkeypatch
):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    smtpd.hang_up("intl@nwpa.example.org", phase="after_dot")  # arrived; the reply never came
    first = json.loads(run("send", campaign, "--limit", "3", "--json").stdout)
    assert (first["uncertain"], first["uncertain_earlier"]) == (1, 0)
    assert first["resend_uncertain"] == ["mailer send call --retry-uncertain"]
    again = run("send", campaign, "--limit", "1", "--json", "--rate", "unlimited")
    data = json.loads(again.stdout)
    assert (data["sent"], data["uncertain"], data["uncertain_earlier"]) == (1, 0, 1)
    assert data["resend_uncertain"] == ["mailer send call --retry-uncertain"]
    text = run("send", campaign, "--limit", "1", "--rate", "unlimited")
    assert re.search(r"\nuncertain from earlier runs +1\n", text.stdout)
    assert (
        "1 message(s) left uncertain by earlier runs; uncertain messages may have arrived or"
        " not: `mailer send call --retry-uncertain` sends them again, with the same Message-ID."
    ) in text.stdout
    dry = json.loads(run("send", campaign, "--dry-run", "--json").stdout)
    assert dry["uncertain_earlier"] == 1
    test = json.loads(run("send", campaign, "--test", "me@party.example.org", "--json").stdout)
    assert test["uncertain_earlier"] == 1
    retried = json.loads(
        run("send", campaign, "--retry-uncertain", "--json", "--rate", "unlimited").stdout
    )
    assert (retried["uncertain_earlier"], retried["resend_uncertain"]) == (0, [])
    assert smtpd.received()["intl@nwpa.example.org"] == 2  # the same message, sent again


# --- test copies ----------------------------------------------------------------------------


def test_a_test_copy_is_marked_and_counted_nowhere(campaign, run, smtpd, monkeypatch):
    import email
    import email.policy

    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    result = run("send", campaign, "--test", "me@party.example.org", "--json")
    assert result.exit_code == 0, result.stderr
    subjects = {}
    for received in smtpd.messages:
        assert received.rcpt_tos == ["me@party.example.org"]
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        subjects[message["Content-Language"]] = message["Subject"]
    deadline = json.loads(run("campaign", "show", campaign, "--json").stdout)["deadline"]
    year, month, day = (int(part) for part in deadline.split("-"))
    months = ["January", "February", "March", "April", "May", "June", "July", "August"]
    months += ["September", "October", "November", "December"]
    assert subjects["en"] == f"[TEST] Call for a day of action on {months[month - 1]} {day}, {year}"
    assert subjects["sr-Cyrl"].startswith("[TEST] Позив на дан акције ")
    assert subjects["sr-Latn"].startswith("[TEST] Poziv na dan akcije ")
    status = json.loads(run("status", campaign, "--json").stdout)
    assert sum(status["messages"].values()) == 0 and status["waves"] == 0
    assert json.loads(run("campaign", "show", campaign, "--json").stdout)["status"] == "draft"
    assert run("remind", campaign).exit_code == 1  # nothing sent yet: no one to remind
    assert json.loads(run("send", campaign, "--dry-run", "--json").stdout)["previously_sent"] == 0


def test_test_copies_count_toward_the_daily_cap(campaign, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    monkeypatch.setenv("MAILER_SMTP_DAILY_CAP", "2")
    result = json.loads(run("send", campaign, "--test", "me@party.example.org", "--json").stdout)
    assert (result["total"], result["sent"]) == (2, 2) and "daily cap of 2" in result["note"]
    after = json.loads(run("send", campaign, "--dry-run", "--json").stdout)
    assert after["total"] == 0 and "leaves 0 for today" in after["note"]
