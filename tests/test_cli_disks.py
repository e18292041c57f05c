"""A database on a read-only or a full disk: commands that only read still work, those
that write say the real cause in one sentence, and nothing half-written is left."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import Run


@pytest.fixture
def project_on_disk(with_orgs: Path, run: Run, disks, monkeypatch) -> Path:
    """The example project (organizations, a campaign with its outbox sent) moved to a
    small file system of its own, which the test then locks or fills."""
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    assert run("campaign", "new", "call", "--statement", "templates/example-call").exit_code == 0
    assert run("send", "call").exit_code == 0
    disk = disks.small(4096)
    for name in ("mailer.toml", "contacts.db", "templates", "outbox"):
        source = with_orgs / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, disk / name)
    monkeypatch.chdir(disk)
    return disk


def test_a_read_only_disk_still_answers_read_only_commands(project_on_disk, run, disks):
    disks.read_only(project_on_disk)
    for command in (("status", "call"), ("org", "list"), ("campaign", "show", "call")):
        result = run(*command)
        assert result.exit_code == 0, (command, result.stderr)
        assert result.stderr == ""
    database = project_on_disk / "contacts.db"
    result = run("sign", "call", "1")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {database}: the database can be read but not written "
        "(it is on a read-only file system)\n"
        "Commands that only read it, such as `mailer status`, still work.\n"
    )


def test_a_full_disk_still_answers_read_only_commands_and_names_the_cause(project_on_disk, run):
    filler = project_on_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with pytest.raises(OSError, match="No space left"):  # fill it to the last block
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    assert run("status", "call").exit_code == 0
    result = run("sign", "call", "1")
    assert result.exit_code == 1
    assert "the disk is full" in result.stderr and "Is it a folder" not in result.stderr
    assert result.stderr.count("\n") <= 2 and "internal error" not in result.stderr
    filler.unlink()
    assert run("sign", "call", "1").exit_code == 0  # room again: it works
