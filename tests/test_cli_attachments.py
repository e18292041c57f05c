"""Files sent with a statement, end to end: listed in statement.toml, one per
language where the folder has one, checked by `mailer check`, delivered over SMTP."""

from __future__ import annotations

import email
import email.policy
import json
import os

import pytest

from tests.conftest import Run
from tests.fixtures.smtp import SmtpServer

POSTER = "Плакат — 1. мај.pdf"  # Cyrillic
CALL = "نداء يوم العمل.pdf"  # Arabic


@pytest.fixture
def campaign(with_orgs, run: Run, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    result = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert result.exit_code == 0, result.stderr
    return "call"


def attach(project, names: list[str]) -> None:
    toml = project / "templates" / "example-call" / "statement.toml"
    toml.write_text(toml.read_text() + f"attachments = {json.dumps(names)}\n", encoding="utf-8")


def test_files_reach_every_recipient_in_their_language(
    campaign: str, run: Run, project, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project / "templates" / "example-call"
    (folder / POSTER).write_bytes(b"%PDF-1.7 poster for everyone")
    (folder / "Плакат — 1. мај.sr-Latn.pdf").write_bytes(b"%PDF-1.7 plakat latinicom")
    (folder / CALL).write_bytes(b"%PDF-1.7 call")
    attach(project, [POSTER, CALL])
    assert run("check", campaign).exit_code == 0
    preview = run("preview", campaign, "--org", "RPSB")
    assert preview.stdout.endswith(
        f"\n\nAttached: {POSTER} (application/pdf, 25 bytes)\n"
        f"Attached: {CALL} (application/pdf, 13 bytes)\n"
    )
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd.url())
    result = run("send", campaign, "--rate", "unlimited", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sent"] == len(smtpd.messages) > 20
    seen = set()
    for received in smtpd.messages:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        files = {f.get_filename(): f.get_content() for f in message.iter_attachments()}
        lang = message["Content-Language"]
        serbian = lang in ("sr-Latn", "sr-Cyrl")  # one text: Cyrillic uses the Latin file
        poster = b"%PDF-1.7 plakat latinicom" if serbian else b"%PDF-1.7 poster for everyone"
        assert files == {POSTER: poster, CALL: b"%PDF-1.7 call"}, lang
        seen.add(lang)
    assert seen == {"en", "sr-Latn", "sr-Cyrl"}


def test_check_notes_large_messages_and_blocks_above_the_limit(
    campaign: str, run: Run, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "templates" / "example-call" / "video.mp4").write_bytes(os.urandom(4_000_000))
    attach(project, ["video.mp4"])
    result = run("check", campaign, "--json")
    assert result.exit_code == 0, result.stdout
    notes = [p for p in json.loads(result.stdout)["problems"] if "MB" in p["what"]]
    assert [(p["where"], p["severity"]) for p in notes] == [
        ("en", "info"),
        ("sr-Latn", "info"),
        ("sr-Cyrl", "info"),
    ]
    assert notes[0]["what"] == (
        "messages in en are 5.5 MB with their attachments: some servers refuse messages this large"
    )
    monkeypatch.setenv("MAILER_SMTP_MAX_MESSAGE_MB", "5")
    blocked = run("check", campaign)
    assert blocked.exit_code == 1
    assert "messages in en are 5.5 MB with their attachments, above [smtp] max_message_mb = 5" in (
        blocked.stdout
    )


def test_a_missing_file_blocks_check_and_send_with_its_path(
    campaign: str, run: Run, project
) -> None:
    attach(project, [CALL])
    path = project / "templates" / "example-call" / CALL
    check = run("check", campaign, "--json")
    assert check.exit_code == 1
    problems = json.loads(check.stdout)["problems"]
    assert [p["what"] for p in problems if p["severity"] == "error"] == [
        f"{path}: attachment file not found (listed under attachments in"
        f" {path.parent / 'statement.toml'})"
    ]
    send = run("send", campaign)
    assert send.exit_code == 1 and f"{path}: attachment file not found" in send.stderr
