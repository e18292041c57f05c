"""The exactly-once proof, through a real `mailer send` process: kill it with SIGKILL
mid-run, stop it with Ctrl-C (the grace period running out, or a second Ctrl-C),
take its server away and bring it back, fill its disk or hold its database; then
run it again: no address gets a message twice, and none is lost.

The server (in this process) can hold the final dot of every message from the
N-th on, so each connection of the sender has one message in flight when it stops.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from mailer.config import load_settings
from mailer.db import open_db

CONNECTIONS = 3
# The copied database, its WAL index (32 KiB) and room for the first few messages.
DISK_KIB = 500


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


def rerun_finishes_with_nothing_twice(run, smtpd) -> dict:
    """The next run (in a new process, as a person would start it) sends the rest."""
    result = run("send", "call", "--json", "--rate", "unlimited")
    assert result.exit_code == 0, result.stderr
    final = states()
    received = smtpd.received()
    assert max(received.values()) == 1  # nobody got it twice
    sent = {e for e, s in final.items() if s == "sent"}
    uncertain = {e for e, s in final.items() if s == "uncertain"}
    assert sent | uncertain == set(final)  # none lost: each sent, or left for a person
    assert sent <= set(received) and set(received) - sent <= uncertain
    return json.loads(result.stdout)


def stopped_by_the_database(sender: subprocess.Popen, cause: str) -> tuple[dict, str]:
    """The run's --json summary and its stderr, checked: one error line, exit 1."""
    stdout, stderr = sender.communicate(timeout=120)
    text = stderr.decode()
    assert sender.returncode == 1 and stdout, text
    assert "internal error" not in text and "Traceback" not in text
    summary = json.loads(stdout)
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {summary['error']}"]
    assert summary["error"].startswith(
        f"sending stopped: {load_settings().path('db.path')}: {cause}"
    )
    assert f"{summary['not_attempted']} message(s) were not attempted" in text
    return summary, text


@pytest.mark.slow
def test_a_database_held_past_the_busy_timeout_stops_the_run_then_the_rerun_finishes(
    campaign, run, smtpd
):
    """Another program (here sqlite3) holds the database longer than the busy timeout
    (5 s) while a message is in flight, then lets go (after 8 s)."""
    smtpd.hold_from(4)
    sender = start_sender("--json", "--rate", "unlimited", "--concurrency", "1")
    wait_for(lambda: smtpd.held == 1, "the 4th message to be in flight")
    holder = sqlite3.connect(load_settings().path("db.path"), check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    letting_go = threading.Timer(8, holder.rollback)
    letting_go.start()
    smtpd.release()
    try:
        summary, _ = stopped_by_the_database(sender, "the database is busy (database is locked)")
    finally:
        letting_go.join()
        holder.close()
    assert summary["sent"] == 4 and summary["not_attempted"] == summary["total"] - 4
    assert list(states().values()).count("sent") == 4  # the 4th outcome written once free
    again = rerun_finishes_with_nothing_twice(run, smtpd)
    assert again["found_uncertain"] == 0 and again["sent"] == summary["total"] - 4


@pytest.mark.slow
def test_a_full_disk_stops_the_run_then_the_rerun_finishes(
    campaign, run, smtpd, disks, monkeypatch
):
    """The database's disk fills during the run; space is freed; the next run finishes."""
    disk = disks.small(DISK_KIB)
    database = load_settings().path("db.path")
    with sqlite3.connect(database) as source, sqlite3.connect(disk / "contacts.db") as copy:
        source.backup(copy)
    (disk / "contacts.db").chmod(0o600)
    shutil.copytree(database.parent / "templates", disk / "templates")  # beside it, as made
    monkeypatch.setenv("MAILER_DB", str(disk / "contacts.db"))
    sender = start_sender("--json", "--rate", "unlimited", "--concurrency", "2")
    summary, text = stopped_by_the_database(sender, "the database could not be written to disk (")
    assert 0 < summary["sent"] < summary["total"] and "full" in summary["error"]
    disks.grow(disk, 16 * 1024)
    again = rerun_finishes_with_nothing_twice(run, smtpd)
    assert again["found_uncertain"] <= 2  # at most one in flight per connection
    assert again["previously_sent"] + again["sent"] + again["found_uncertain"] == summary["total"]


def stopped_with_one_in_flight(sender: subprocess.Popen, smtpd, signals: list[int]) -> None:
    """Signals sent once the 3rd message's final dot is held (one connection): the
    run exits 130 saying how to continue, with that message uncertain."""
    wait_for(lambda: smtpd.held == 1, "the 3rd message to be in flight")
    for number in signals:
        sender.send_signal(number)
        time.sleep(0.2)
    stdout, stderr = sender.communicate(timeout=60)
    assert sender.returncode == 130, stderr.decode()
    assert b"run `mailer send call` again to continue" in stderr
    assert b"Traceback" not in stderr
    summary = json.loads(stdout)
    assert (summary["sent"], summary["uncertain"], summary["interrupted"]) == (2, 1, "SIGINT")
    left = list(states().values())
    assert (left.count("sent"), left.count("uncertain"), left.count("sending")) == (2, 1, 0)
    smtpd.release()


def rerun_leaves_the_uncertain_one_alone(run, smtpd) -> None:
    again = rerun_finishes_with_nothing_twice(run, smtpd)
    assert again["previously_sent"] == 2 and again["found_uncertain"] == 0
    assert list(states().values()).count("uncertain") == 1


@pytest.mark.slow
def test_ctrl_c_then_the_grace_period_ends_with_a_message_in_flight(
    campaign, run, smtpd, monkeypatch
):
    monkeypatch.setenv("MAILER_SMTP_GRACE", "0.5")
    smtpd.hold_from(3)
    sender = start_sender("--json", "--rate", "unlimited", "--concurrency", "1")
    stopped_with_one_in_flight(sender, smtpd, [signal.SIGINT])
    rerun_leaves_the_uncertain_one_alone(run, smtpd)


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once(campaign, run, smtpd, monkeypatch):
    """With ten minutes of grace, only the second Ctrl-C can end the run in time."""
    monkeypatch.setenv("MAILER_SMTP_GRACE", "600")
    smtpd.hold_from(3)
    sender = start_sender("--json", "--rate", "unlimited", "--concurrency", "1")
    stopped_with_one_in_flight(sender, smtpd, [signal.SIGINT, signal.SIGINT])
    rerun_leaves_the_uncertain_one_alone(run, smtpd)


@pytest.mark.slow
def test_a_server_that_goes_away_mid_run_and_comes_back(campaign, run, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_RETRY_FOR", "30")
    audience = audience_emails()
    smtpd.outage(audience[4], 1.0)
    sender = start_sender("--json", "--rate", "unlimited", "--concurrency", "1")
    stdout, stderr = sender.communicate(timeout=120)
    assert sender.returncode == 0, stderr.decode()
    summary = json.loads(stdout)
    assert (summary["sent"], summary["error"]) == (len(audience), None)
    assert smtpd.received() == dict.fromkeys(audience, 1)  # each once, none lost
    assert set(states().values()) == {"sent"}
    assert len(smtpd.recorder.outages) == 1


def audience_emails() -> list[str]:
    """The campaign's addresses, in the order a run sends them."""
    from mailer.campaigns import audience, get_campaign

    db = open_db(load_settings().path("db.path"))
    try:
        return [r.email for r in audience(db, get_campaign(db, "call"))]
    finally:
        db.close()
