"""Every file mailer writes is its owner's alone (DESIGN §6), whatever the umask;
an existing database others can read is pointed out once, with the command to fix it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.inbox_data import SENDER, mbox, with_attachment


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a user: files 0644, folders 0755 unless set."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def wrong_modes(root: Path) -> dict[str, str]:
    """Folders under ``root`` (itself included) that are not 0700, files not 0600."""
    wrong = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            wrong[str(path)] = oct(mode)
    return wrong


def test_exports_reports_previews_outbox_and_attachments_are_private(
    project: Path, run: Run, usual_umask: None, monkeypatch
) -> None:
    assert run("demo").exit_code == 0
    monkeypatch.chdir(project / "mailer-demo")
    Path("photos.mbox").write_bytes(
        mbox(with_attachment("intl@front.example.net", SENDER, "Photos", "march.jpg", b"JPEG"))
    )
    Path("out").mkdir()
    Path("out/status.html").write_text("an older page, 0644")
    attachments = Path("out/replies/attachments")  # folders mailer creates
    commands = [
        ("org", "export", "-o", "out/orgs.csv"),
        ("status", "peace-statement", "--html", "out/status.html"),
        ("preview", "peace-statement", "--html", "out/preview.html"),
        ("inbox", "import", "photos.mbox"),
    ]
    for command in commands:
        result = run(*command, env={"MAILER_ATTACHMENTS_PATH": str(attachments)})
        assert result.exit_code == 0, (command, result.stderr)
    assert {p.name for p in Path("out").iterdir()} == {
        "orgs.csv",
        "status.html",
        "preview.html",
        "replies",
    }
    assert {f: m for f, m in wrong_modes(Path("out")).items() if f != "out"} == {}
    assert [p.name for p in attachments.rglob("*.jpg")] == ["march.jpg"]
    assert len(list(Path("outbox/new").iterdir())) > 20
    assert wrong_modes(Path("outbox")) == {}


def test_a_database_others_can_read_gets_one_warning_naming_the_chmod(
    initialized: Path, run: Run
) -> None:
    database = initialized / "contacts.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600  # as mailer makes it
    assert run("org", "list").stderr == ""
    database.chmod(0o644)
    result = run("org", "list")
    assert result.exit_code == 0
    assert result.stderr == (
        f"Warning: {database} can be read by other users of this computer; "
        f"make it private with: chmod 600 {database} {database}-wal {database}-shm\n"
    )
