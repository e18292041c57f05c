"""The exactly-once proof: kill `mailer send` with SIGKILL mid-run, run it again.

The server (in this process) holds the final dot of every message from the 8th
on, so each connection of the sender has one message in flight when it dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mailer.config import load_settings
from mailer.db import open_db

CONNECTIONS = 3


@pytest.fixture
def campaign(with_orgs, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    result = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert result.exit_code == 0, result.stderr
    return "call"


def start_sender(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", "send", "call", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def states() -> dict[str, str]:
    db = open_db(load_settings().path("db.path"))
    try:
        return {r["email"]: r["state"] for r in db.query("SELECT email, state FROM message")}
    finally:
        db.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_sends_each_address_at_most_once(campaign, run, smtpd):
    smtpd.hold_from(8)
    sender = start_sender("--rate", "unlimited", "--concurrency", str(CONNECTIONS))
    try:
        wait_for(lambda: smtpd.held == CONNECTIONS, "every connection to be in flight")
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait()
    smtpd.release()
    left = states()
    assert list(left.values()).count("sending") == CONNECTIONS  # one claim per connection

    result = run("send", campaign, "--json", "--rate", "unlimited")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["found_uncertain"] == CONNECTIONS

    final = states()
    received = smtpd.received()
    assert max(received.values()) == 1  # nobody got it twice
    uncertain = {e for e, s in final.items() if s == "uncertain"}
    missing = set(final) - set(received)
    assert missing <= uncertain and len(uncertain) <= CONNECTIONS
    assert {e for e, s in final.items() if s == "sent"} == set(received)


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_the_next_run_finishes(campaign, run, smtpd):
    sender = start_sender("--rate", "10/s")
    wait_for(lambda: len(smtpd.messages) >= 3, "the first messages")
    sender.send_signal(signal.SIGTERM)
    _, stderr = sender.communicate(timeout=60)
    assert sender.returncode == 143
    assert b"run `mailer send call` again" in stderr
    assert "sending" not in states().values()

    result = run("send", campaign, "--rate", "unlimited")
    assert result.exit_code == 0, result.stderr
    assert set(states().values()) == {"sent"}
    assert max(smtpd.received().values()) == 1
