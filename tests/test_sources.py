"""Reading raw messages from mbox files, Maildir folders, .eml files; IMAP URLs."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from mailer.errors import ConfigError, NotFound
from mailer.inbox import sources
from mailer.inbox.sources import ImapAccount, read_paths
from tests.inbox_data import mbox, reply_mail

MESSAGES = [
    reply_mail(f"a{n}@example.net", "intl@party.example.org", f"Message {n}\nFrom here on.")
    for n in range(3)
]


def test_mbox_yields_each_message_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "replies.mbox"
    path.write_bytes(mbox(*MESSAGES))
    found = list(read_paths([path]))
    assert [m.ref for m in found] == [f"{path}#{n}" for n in (1, 2, 3)]
    assert [m.data.replace(b"\n", b"\r\n") for m in found] == [
        m.replace(b"From here", b">From here") for m in MESSAGES
    ]
    assert all(m.error is None and m.cursor is None for m in found)


def test_maildir_and_eml_files_and_folders_of_them(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(MESSAGES[0])
    box.add(MESSAGES[1])
    (tmp_path / "one.eml").write_bytes(MESSAGES[2])
    exported = tmp_path / "exported" / "deeper"
    exported.mkdir(parents=True)
    (exported / "x.eml").write_bytes(MESSAGES[0])
    found = list(read_paths([tmp_path / "Maildir", tmp_path / "one.eml", tmp_path / "exported"]))
    assert sorted(m.data for m in found[:2]) == sorted(MESSAGES[:2])
    assert [m.data for m in found[2:]] == [MESSAGES[2], MESSAGES[0]]


def test_every_path_is_checked_before_reading(tmp_path: Path) -> None:
    (tmp_path / "one.eml").write_bytes(MESSAGES[0])
    messages = read_paths([tmp_path / "one.eml", tmp_path / "missing.mbox"])
    with pytest.raises(NotFound, match="missing.mbox"):
        next(messages)


def test_a_folder_without_mail_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NotFound, match="neither a Maildir"):
        list(read_paths([tmp_path]))


def test_empty_files_hold_no_message(tmp_path: Path) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "blank.eml").write_bytes(b"\r\n\n  ")
    (tmp_path / "empty.mbox").write_bytes(b"")
    assert list(read_paths(sorted(tmp_path.iterdir()))) == []


def test_an_oversized_message_is_kept_truncated_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_BYTES", 100)
    (tmp_path / "big.eml").write_bytes(MESSAGES[0] + b"x" * 1000)
    (found,) = read_paths([tmp_path / "big.eml"])
    assert found.data == MESSAGES[0][:100] and "larger than" in (found.error or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("imaps://me@mail.example.org/INBOX", ("imaps", "mail.example.org", 993, "me", "INBOX")),
        (
            "imap+starttls://me%40x.org@mail.example.org",
            ("imap+starttls", "mail.example.org", 143, "me@x.org", "INBOX"),
        ),
        (
            "imap://me@127.0.0.1:1143/Replies/2025",
            ("imap", "127.0.0.1", 1143, "me", "Replies/2025"),
        ),
    ],
)
def test_imap_urls(url: str, expected: tuple[object, ...]) -> None:
    a = ImapAccount.from_url(url)
    assert (a.scheme, a.host, a.port, a.user, a.folder) == expected


def test_folder_option_overrides_the_url() -> None:
    assert (
        ImapAccount.from_url("imaps://me@h.example.org/INBOX", folder="Replies").folder == "Replies"
    )


def test_plain_imap_to_a_remote_host_needs_insecure() -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        ImapAccount.from_url("imap://me:pw@mail.example.org/INBOX")
    assert ImapAccount.from_url("imap://me@mail.example.org", insecure=True).port == 143


@pytest.mark.parametrize(
    "url",
    [
        "",
        "imaps://:hunter2@mail.example.org/INBOX",
        "pop3://me:hunter2@h.example.org",
        "imaps://me:hunter2@[::1/INBOX",
    ],
)
def test_bad_imap_urls_are_config_errors_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as e:
        ImapAccount.from_url(url)
    assert "hunter2" not in str(e.value)
