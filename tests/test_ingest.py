"""Ingesting replies into a real SQLite file: dedup, effects, attachments, undo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from mailer.config import Settings, load_settings
from mailer.db import open_db
from mailer.errors import MailerError
from mailer.inbox import ingest
from mailer.inbox.attachments import safe_name
from mailer.inbox.ingest import Ingester, import_paths
from mailer.inbox.review import assign_reply, list_replies, mark_reply
from mailer.inbox.sources import RawMessage
from tests.inbox_data import (
    AWP,
    POS,
    RPB,
    SENDER,
    World,
    add_campaign,
    add_org,
    auto_reply_mail,
    bounce_mail,
    mbox,
    reply_mail,
    send,
    sent_campaign,
    with_attachment,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "contacts.db")
    yield database
    database.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(cwd=tmp_path, env={})


@pytest.fixture
def world(db: Database) -> World:
    return sent_campaign(db)


def feed(db: Database, settings: Settings, *messages: bytes) -> ingest.Summary:
    ingester = Ingester(db, settings)
    ingester.store([RawMessage(m, f"test#{n}") for n, m in enumerate(messages)])
    return ingester.summary


def reply_row(db: Database, reply_id: int) -> dict[str, Any]:
    return db["reply"].get(reply_id)


def response(db: Database, world: World, org: str) -> tuple[str, str, int | None] | None:
    rows = list(
        db.query(
            "SELECT kind, source, reply_id FROM response WHERE campaign_id = ? AND org_id = ?"
            " AND withdrawn_at IS NULL",
            [world.campaign_id, world.orgs[org]],
        )
    )
    return (rows[0]["kind"], rows[0]["source"], rows[0]["reply_id"]) if rows else None


def address(db: Database, email: str) -> tuple[str, int]:
    row = db.execute("SELECT status, soft_bounces FROM address WHERE email = ?", [email]).fetchone()
    return row[0], row[1]


def signon(world: World, email: str = AWP, **kw: Any) -> bytes:
    mail = world.mails[email]
    return reply_mail(email, mail.reply_to, "Dear comrades,\n\nwe sign the statement.\n", **kw)


# ---------------------------------------------------------------- dedup


def test_importing_twice_records_nothing_new(
    db: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "in.mbox"
    path.write_bytes(mbox(signon(world), auto_reply_mail(world.mails[RPB])))
    first = import_paths(db, settings, [path])
    second = import_paths(db, settings, [path])
    assert (first.new, first.duplicates) == (2, 0)
    assert (second.new, second.duplicates) == (0, 2)
    assert db["reply"].count == 2


def test_same_message_id_with_other_bytes_is_the_same_message(
    db: Database, settings: Settings, world: World
) -> None:
    original = signon(world, msgid="<same@mail.example.net>")
    relayed = b"Delivered-To: " + SENDER.encode() + b"\r\n" + original
    summary = feed(db, settings, original, relayed)
    assert (summary.new, summary.duplicates) == (1, 1)


def test_without_message_id_the_content_decides(db: Database, settings: Settings) -> None:
    raw = b"From: x@example.net\r\nSubject: hello\r\n\r\nno id here\r\n"
    summary = feed(db, settings, raw, raw, raw + b"!")
    assert (summary.new, summary.duplicates) == (2, 1)


# ---------------------------------------------------------------- effects


def test_confident_signon_becomes_the_organizations_response(
    db: Database, settings: Settings, world: World
) -> None:
    summary = feed(db, settings, signon(world))
    (reply_id,) = summary.ids
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)
    row = reply_row(db, reply_id)
    assert (row["class"], row["status"], row["match_method"]) == ("signon", "applied", "token")
    assert row["campaign_id"] == world.campaign_id
    assert "we sign" in row["text"]


def test_an_organization_signing_under_its_short_name_is_read(
    db: Database, settings: Settings, world: World
) -> None:
    """judge() gives the classifier the organization's names: "Atlantis endorses…"."""
    mail = world.mails[AWP]
    raw = reply_mail(AWP, mail.reply_to, "Atlantis endorses the statement.\n")
    (reply_id,) = feed(db, settings, raw).ids
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)


def test_hard_bounce_marks_the_address_bounced(
    db: Database, settings: Settings, world: World
) -> None:
    summary = feed(db, settings, bounce_mail(world.mails[POS]))
    assert summary.classes == {"bounce": 1}
    assert address(db, POS) == ("bounced", 0)
    (bounce,) = db.query("SELECT hard, status_code, reply_id FROM bounce")
    assert bounce == {"hard": 1, "status_code": "5.1.1", "reply_id": summary.ids[0]}
    assert response(db, world, "Partido") is None


def test_three_soft_bounces_in_a_row_mark_the_address_bounced(
    db: Database, settings: Settings, world: World
) -> None:
    mail = world.mails[POS]
    for n in range(2):
        feed(db, settings, bounce_mail(mail, hard=False))
        assert address(db, POS) == ("active", n + 1)
    # their genuine answer shows mail reaches them: the bounces were not in a row
    feed(db, settings, reply_mail(POS, mail.reply_to, "Recibido."))
    assert address(db, POS) == ("active", 0)
    for _ in range(3):
        feed(db, settings, bounce_mail(mail, hard=False))
    assert address(db, POS) == ("bounced", 3)


def test_unsubscribe_address_opts_the_organization_out(
    db: Database, settings: Settings, world: World
) -> None:
    mail = world.mails[RPB]
    summary = feed(db, settings, reply_mail(RPB, mail.unsubscribe, "", subject="unsubscribe"))
    assert summary.classes == {"unsubscribe": 1}
    assert db["organization"].get(world.orgs["Radnička"])["do_not_contact"] == 1
    assert response(db, world, "Radnička") == ("unsubscribed", "reply", summary.ids[0])


def test_auto_reply_changes_nothing_and_needs_no_review(
    db: Database, settings: Settings, world: World
) -> None:
    summary = feed(db, settings, auto_reply_mail(world.mails[RPB]))
    row = reply_row(db, summary.ids[0])
    assert (row["class"], row["status"], row["match_method"]) == (
        "auto_reply",
        "done",
        "in-reply-to",
    )
    assert summary.review == 0 and response(db, world, "Radnička") is None


def test_a_stranger_is_unmatched_and_waits(db: Database, settings: Settings, world: World) -> None:
    summary = feed(
        db, settings, reply_mail("who@else.example.net", SENDER, "We sign the statement.")
    )
    assert (summary.unmatched, summary.review) == (1, 0)  # assigned first, then reviewed
    assert [r["id"] for r in list_replies(db, unmatched=True)] == summary.ids
    assert db["response"].count == 0


def test_known_sender_without_token_matches_its_latest_campaign(
    db: Database, settings: Settings, world: World
) -> None:
    summary = feed(db, settings, reply_mail("press@awp.example.org", SENDER, "We sign."))
    row = reply_row(db, summary.ids[0])
    assert (row["match_method"], row["org_id"]) == ("sender", world.orgs["Atlantis"])
    assert row["campaign_id"] == world.campaign_id


def test_every_effect_is_in_the_event_log(db: Database, settings: Settings, world: World) -> None:
    feed(db, settings, signon(world), bounce_mail(world.mails[POS]))
    entities = {(e["entity"], e["action"]) for e in db.query("SELECT entity, action FROM event")}
    assert {("reply", "create"), ("response", "create"), ("bounce", "create")} <= entities
    assert ("address", "update") in entities


# ---------------------------------------------------------------- robustness


def test_an_error_in_one_message_is_contained(
    db: Database, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.classify

    def flaky(msg: Any, **kw: Any) -> Any:
        if "explode" in msg.text:
            raise RecursionError("maximum recursion depth exceeded")
        return real(msg, **kw)

    monkeypatch.setattr(ingest, "classify", flaky)
    bad = reply_mail(AWP, SENDER, "please explode")
    summary = feed(db, settings, bad, signon(world, email=RPB))
    assert summary.new == 2 and summary.unparsable == 1
    failed = reply_row(db, summary.ids[0])
    assert (failed["class"], failed["raw"]) == ("unparsable", bad)
    assert "RecursionError" in failed["error"]
    assert response(db, world, "Radnička") is not None


def test_oversized_message_is_kept_raw_as_unparsable(db: Database, settings: Settings) -> None:
    ingester = Ingester(db, settings)
    ingester.store([RawMessage(b"From: x@y.example\r\n\r\nabc", "big", "too large")])
    row = reply_row(db, ingester.summary.ids[0])
    assert (row["class"], row["error"], row["raw"]) == (
        "unparsable",
        "too large",
        b"From: x@y.example\r\n\r\nabc",
    )


@given(data=st.binary(max_size=2000))
def test_any_bytes_are_stored_raw_and_never_stop_the_import(
    db: Database, settings: Settings, data: bytes
) -> None:
    ingester = Ingester(db, settings)
    ingester.store(
        [RawMessage(data, "fuzz"), RawMessage(b"Subject: after\r\n\r\nok" + data, "next")]
    )
    for raw in (data, b"Subject: after\r\n\r\nok" + data):
        assert db.execute("SELECT 1 FROM reply WHERE raw = ?", [raw]).fetchone()


# ---------------------------------------------------------------- attachments


def test_attachments_are_saved_safely_and_never_overwritten(
    db: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    one = with_attachment(AWP, SENDER, "Photos of our protest", "../../evil\x07.jpg", b"first")
    two = with_attachment(AWP, SENDER, "More photos", "evil.jpg", b"second")
    summary = feed(db, settings, one, two)
    listed = [a for r in list_replies(db) for a in r["attachments"]]
    paths = [Path(a["path"]) for a in listed]
    folder = tmp_path / "attachments" / world.slug / f"{world.orgs['Atlantis']}-Atlantis"
    assert paths == [folder / "evil.jpg", folder / "evil-1.jpg"]
    assert [p.read_bytes() for p in paths] == [b"first", b"second"]
    assert listed[0]["filename"] == "../../evil\x07.jpg" and summary.new == 2


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.png", "photo.png"),
        ("..", "fallback.bin"),
        (None, "fallback.bin"),
        ("CON.txt", "_CON.txt"),
        (".hidden", "hidden"),
        ("a\r\nb.pdf", "ab.pdf"),
    ],
)
def test_safe_names(name: str | None, safe: str) -> None:
    assert safe_name(name, fallback="fallback.bin") == safe


@given(st.text(max_size=400))
def test_safe_names_are_plain_bounded_components(name: str) -> None:
    safe = safe_name(name, fallback="x.bin")
    assert safe and "/" not in safe and "\\" not in safe and safe not in (".", "..")
    assert not safe.startswith(".") and len(safe.encode()) <= 150
    assert all(ord(c) >= 32 for c in safe)


# ---------------------------------------------------------------- mark and assign


def test_mark_replaces_and_undoes_the_automatic_response(
    db: Database, settings: Settings, world: World
) -> None:
    (reply_id,) = feed(db, settings, signon(world)).ids
    mark_reply(db, reply_id, "declined")
    assert response(db, world, "Atlantis") == ("declined", "reply", reply_id)
    mark_reply(db, reply_id, "other")
    assert response(db, world, "Atlantis") is None
    assert reply_row(db, reply_id)["status"] == "reviewed"


def test_mark_restores_an_earlier_answer(db: Database, settings: Settings, world: World) -> None:
    from mailer import responses

    responses.record(db, world.campaign_id, world.orgs["Atlantis"], "declined", source="manual")
    (reply_id,) = feed(db, settings, signon(world)).ids
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)
    mark_reply(db, reply_id, "other")
    assert response(db, world, "Atlantis") == ("declined", "manual", None)


def test_mark_undoes_a_bounce_and_an_optout(db: Database, settings: Settings, world: World) -> None:
    summary = feed(
        db,
        settings,
        bounce_mail(world.mails[POS]),
        reply_mail(RPB, world.mails[RPB].unsubscribe, "remove us"),
    )
    for reply_id in summary.ids:
        mark_reply(db, reply_id, "other")
    assert address(db, POS) == ("active", 0) and db["bounce"].count == 0
    assert db["organization"].get(world.orgs["Radnička"])["do_not_contact"] == 0
    assert response(db, world, "Radnička") is None


def test_mark_needs_a_campaign(db: Database, settings: Settings, world: World) -> None:
    (reply_id,) = feed(db, settings, reply_mail("who@else.example.net", SENDER, "Yes.")).ids
    with pytest.raises(MailerError, match="not attached"):
        mark_reply(db, reply_id, "signed")


def test_assign_attaches_classifies_and_moves_attachments(
    db: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    raw = with_attachment(
        "new@awp-members.example.net", SENDER, "We sign the statement.", "s.pdf", b"%PDF"
    )
    (reply_id,) = feed(db, settings, raw).ids
    before = json.loads(reply_row(db, reply_id)["attachments"])[0]["path"]
    assert "/unmatched/unknown/" in before
    found = assign_reply(db, settings, reply_id, "Atlantis Workers Party")
    assert (found["campaign"], found["class"], found["status"]) == (world.slug, "signon", "applied")
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)
    after = Path(found["attachments"][0]["path"])
    assert after.parent.parent.name == world.slug and after.read_bytes() == b"%PDF"
    assert not Path(before).exists()


def test_attachments_that_cannot_be_written_do_not_lose_the_reply(
    db: Database, world: World, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings = load_settings(cwd=tmp_path, env={"MAILER_ATTACHMENTS_PATH": str(blocked)})
    reply_to = world.mails[AWP].reply_to
    raw = with_attachment(AWP, reply_to, "We sign the statement.", "photo.jpg", b"JPEG")
    (reply_id,) = feed(db, settings, raw).ids
    row = reply_row(db, reply_id)
    assert row["class"] == "signon" and row["error"].startswith("attachments not saved")
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)


def _nested(depth: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"From: deep@example.net\r\nMIME-Version: 1.0\r\n" + head + b"\r\ntext\r\n"


NASTY = {
    "no headers": b"\r\n\r\njust a body",
    "many parameters": b"From: p@example.net\r\nContent-Type: text/plain"
    + b";" * 80_000
    + b"\r\n\r\nhi",
    "deep nesting": _nested(2000),
    "unknown charset": b"From: c@example.net\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n\xff\xfe",
    "bad base64": b"From: b@example.net\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@",
    "broken message-id": b"Message-ID: <[abc@\r\nFrom: m@example.net\r\n\r\nx",
}


def test_a_file_that_is_not_mail_is_unparsable(db: Database, settings: Settings) -> None:
    (reply_id,) = feed(db, settings, bytes(range(256)) * 4).ids
    row = reply_row(db, reply_id)
    assert row["class"] == "unparsable" and row["status"] == "review"
    assert "not an e-mail message" in row["error"]


def test_a_sender_writing_its_domain_in_punycode_is_recognised(
    db: Database, settings: Settings, world: World
) -> None:
    org_id, (address_id,) = add_org(db, "Bücherpartei", ["intl@bücher.example"], ["de"])
    send(db, world.campaign_id, world.slug, org_id, address_id)
    raw = reply_mail("Intl@xn--bcher-kva.example", SENDER, "We sign the statement.")
    (reply_id,) = feed(db, settings, raw).ids
    row = reply_row(db, reply_id)
    assert (row["org_id"], row["campaign_id"]) == (org_id, world.campaign_id)
    assert row["from_addr"] == "intl@bücher.example" and row["class"] == "signon"


@pytest.mark.parametrize("name", NASTY)
def test_hostile_mail_is_kept_raw_and_the_import_goes_on(
    db: Database, settings: Settings, world: World, tmp_path: Path, name: str
) -> None:
    (tmp_path / "a.eml").write_bytes(NASTY[name])
    (tmp_path / "b.eml").write_bytes(signon(world))
    summary = import_paths(db, settings, [tmp_path / "a.eml", tmp_path / "b.eml"])
    assert summary.new == 2
    assert db.execute("SELECT 1 FROM reply WHERE raw = ?", [NASTY[name]]).fetchone()
    assert response(db, world, "Atlantis") is not None


def test_the_sign_links_prefilled_text_signs_in_a_language_the_reader_has_no_words_for(
    db: Database, settings: Settings
) -> None:
    # Vietnamese has frame strings (so a sign-by-e-mail link) but no phrase file: the
    # prefilled text the campaign itself asked for is still read as what it is.
    campaign_id = add_campaign(db, "hoa-binh", languages=("vi", "en"))
    org_id, (address_id,) = add_org(
        db, "Đảng Lao động Vùng Biển", ["quocte@dlvb.example.org"], ["vi"]
    )
    mail = send(db, campaign_id, "hoa-binh", org_id, address_id)
    sign_address = mail.reply_to.replace("+", "+sign-")
    text = "Chúng tôi ký tên vào bản tuyên bố.\n\n-- \nBan Đối ngoại"
    (reply_id,) = feed(db, settings, reply_mail(mail.email, sign_address, text)).ids
    row = reply_row(db, reply_id)
    assert (row["class"], row["confidence"], row["status"]) == ("signon", 1.0, "applied")
    stranger = reply_mail("ai.do@example.net", mail.reply_to, "Chúng tôi ký tên vào bản tuyên bố.")
    (other_id,) = feed(db, settings, stranger).ids
    assert reply_row(db, other_id)["status"] == "review"


def test_an_erased_reply_can_be_neither_attached_nor_marked(
    db: Database, settings: Settings, world: World
) -> None:
    from mailer.erasure import erase_org

    (reply_id,) = feed(db, settings, reply_mail(POS, world.mails[POS].reply_to, "Recibido.")).ids
    erase_org(db, str(world.orgs["Partido"]))
    for attempt in (
        lambda: assign_reply(db, settings, reply_id, AWP),
        lambda: mark_reply(db, reply_id, "other"),
    ):
        with pytest.raises(MailerError, match=f"reply {reply_id} was erased with its organization"):
            attempt()


def test_a_broken_frame_strings_file_does_not_stop_replies_coming_in(
    db: Database, settings: Settings, world: World, tmp_path: Path
) -> None:
    # The sign phrase the campaign asked for is only a help to the reading: a strings file
    # left half-edited must not block the import (`mailer check` names that fault).
    strings = tmp_path / "templates" / "layout" / "strings"
    strings.mkdir(parents=True)
    (strings / "en.toml").write_text('sign_phrase = "We sign\n', encoding="utf-8")
    (reply_id,) = feed(db, settings, signon(world)).ids
    assert response(db, world, "Atlantis") == ("signed", "reply", reply_id)
