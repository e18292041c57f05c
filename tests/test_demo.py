"""`mailer demo`: the README's first command runs the whole story on example
data and leaves a folder the other commands keep working in."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.conftest import Run


def test_demo_runs_the_whole_story_and_leaves_a_usable_folder(project: Path, run: Run) -> None:
    result = run("demo", "story")
    assert result.exit_code == 0, result.stderr + result.stdout
    out = result.stdout
    for step in (
        "org import",
        "campaign new",
        "check",
        "send",
        "inbox import",
        "status",
        "remind",
        "signatories",
    ):
        assert f"$ mailer {step}" in out
    folder = project / "story"
    assert os.getcwd() == str(folder)
    sent = list((folder / "outbox" / "new").iterdir())
    assert len(sent) >= 34  # the first wave to every address, then reminders

    status = json.loads(run("status", "peace-statement", "--json").stdout)
    assert status["responses"]["signed"] == 7
    assert status["responses"]["declined"] == 1
    assert status["bounced"] == 1 and status["auto_replied"] == 1
    assert status["waves"] == 2  # the reminder wave went out

    signatories = json.loads(run("signatories", "peace-statement", "--format", "json").stdout)
    assert [s["n"] for s in signatories] == list(range(1, 8))
    states = {o["name"]: o["state"] for o in status["by_org"]}
    assert states["Union syndicale des Collines"] == "declined"
    assert states["Solidaritätskomitee Bergland"] == "bounced"

    # The thank-you: the final list inside, the person at the address greeted.
    listed = run("signatories", "peace-statement", "--lang", "sr-Latn", "--with-country").stdout
    assert "$ mailer preview peace-thanks --org RPSB\n" in out
    assert "Drugarice Ana,\n\nHvala vam što ste potpisali" in out and listed in out
    thanks = json.loads(run("status", "peace-thanks", "--json").stdout)
    assert thanks["messages"]["sent"] == len(sent) - status["messages"]["sent"] > 0

    # what holds people's addresses and answers is the owner's only
    for private in ("contacts.db", "organizations.csv", "replies.mbox", *sent):
        assert stat.S_IMODE((folder / private).stat().st_mode) == 0o600, private


def test_demo_refuses_a_folder_in_use(project: Path, run: Run) -> None:
    (project / "busy").mkdir()
    (project / "busy" / "notes.txt").write_text("mine")
    result = run("demo", "busy")
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.stderr
    assert (project / "busy" / "notes.txt").read_text() == "mine"


def test_the_demo_ignores_the_users_own_settings(project: Path, run: Run, monkeypatch) -> None:
    """Not the user's database, not their mail server: the demo sends nothing."""
    real = project / "real" / "contacts.db"
    monkeypatch.setenv("MAILER_DB", str(real))
    monkeypatch.setenv("MAILER_SMTP_URL", "smtp://127.0.0.1:9")  # would fail if used
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "someone@elsewhere.example")
    result = run("demo", "isolated")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert not real.exists()
    assert list((project / "isolated" / "outbox" / "new").iterdir())
    assert os.environ["MAILER_DB"] == str(real)  # given back afterwards
