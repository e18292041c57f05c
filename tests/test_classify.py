"""classify() on our own fictional replies in 11 languages, bounces and auto-replies.

File names in tests/data/replies say what each message is: CLASS_LANG_N.eml. The
zero-tolerance rule is checked over every fixture: nothing that is not an explicit
sign-on may come out as a confident sign-on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.inbox.classify import CONFIDENT, classify
from mailer.inbox.parse import parse_message
from mailer.models import ReplyClass

REPLIES = Path(__file__).parent / "data" / "replies"
FIXTURES = sorted(REPLIES.glob("*.eml"))
LANGUAGES = ("en", "sr-Latn", "sr-Cyrl", "ru", "es", "fr", "de", "pt", "it", "el", "ar")


def _expected(path: Path) -> tuple[str, str]:
    name = path.stem.removeprefix("auto_reply_")
    if name != path.stem:
        return "auto_reply", name.split("_")[0]
    kind, lang, _ = path.stem.split("_")
    return kind, lang


def _classify(path: Path, **kwargs):
    return classify(parse_message(path.read_bytes()), **kwargs)


def _by_kind(kind: str) -> list[Path]:
    return [p for p in FIXTURES if _expected(p)[0] == kind]


def test_fixtures_cover_every_language() -> None:
    for kind in ("signon", "decline", "other"):
        langs = [_expected(p)[1] for p in _by_kind(kind)]
        assert all(langs.count(lang) >= 2 for lang in LANGUAGES), kind


def test_explicit_signons_are_recognised_confidently() -> None:
    signons = _by_kind("signon")
    hits = [
        p.name
        for p in signons
        if (c := _classify(p)).cls == ReplyClass.SIGNON and c.confidence >= CONFIDENT
    ]
    assert len(hits) / len(signons) >= 0.95, sorted({p.name for p in signons} - set(hits))


@pytest.mark.parametrize("path", _by_kind("signon"), ids=lambda p: p.stem)
def test_signon_with_language_hint(path: Path) -> None:
    result = _classify(path, languages=[_expected(path)[1]])
    assert result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT, result


@pytest.mark.parametrize("path", _by_kind("decline"), ids=lambda p: p.stem)
def test_declines_and_negations(path: Path) -> None:
    result = _classify(path)
    assert result.cls == ReplyClass.DECLINE, result


@pytest.mark.parametrize(
    "path", [p for p in FIXTURES if _expected(p)[0] != "signon"], ids=lambda p: p.stem
)
def test_zero_false_signons(path: Path) -> None:
    for kind in ("signon", "call"):
        result = _classify(path, kind=kind)
        assert not (result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT), result


@pytest.mark.parametrize("path", _by_kind("auto_reply"), ids=lambda p: p.stem)
def test_out_of_office(path: Path) -> None:
    assert _classify(path).cls == ReplyClass.AUTO_REPLY


@pytest.mark.parametrize(
    ("name", "recipient", "hard"),
    [
        ("bounce_dsn_1", "nobody@union.example.com", True),
        ("bounce_dsn_delayed", "slow@union.example.com", False),
        ("bounce_exim_1", "gone@league.example.net", True),
        ("bounce_qmail_1", "closed@front.example.com", True),
        ("bounce_exchange_1", "moved@corp.example.com", True),
    ],
)
def test_bounces(name: str, recipient: str, hard: bool) -> None:
    result = _classify(REPLIES / f"{name}.eml")
    assert result.cls == ReplyClass.BOUNCE and result.confidence >= CONFIDENT
    assert result.bounce is not None
    assert result.bounce.recipients == [recipient]
    assert result.bounce.hard is hard


def _text(body: str, subject: str = "Re: Joint statement", headers: str = "") -> bytes:
    return (
        f"From: x@party.example.net\nSubject: {subject}\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


def test_auto_submitted_header_wins_over_wording() -> None:
    raw = _text("We sign.", headers="Auto-Submitted: auto-replied\n")
    assert classify(parse_message(raw)).cls == ReplyClass.AUTO_REPLY


# --- machine mail and the answer beside it ---------------------------------------------------

MACHINE = Path(__file__).parent / "data" / "machine"


def _reply(body: str, subject: str = "Re: Joint statement", headers: str = "", **kwargs):
    return classify(parse_message(_text(body, subject, headers)), **kwargs)


def _applied(result) -> str:
    return str(result.cls) if result.confidence >= CONFIDENT else "review"


def test_a_clear_answer_wins_over_out_of_office_wording() -> None:
    body = "Sorry for the late answer, I was on holiday. We sign."
    assert _applied(_reply(body)) == "signon"
    absent = _reply("I am on holiday until Monday.", headers="Precedence: bulk\n")
    assert absent.cls == ReplyClass.AUTO_REPLY


@pytest.mark.parametrize("path", sorted(MACHINE.glob("*.eml")), ids=lambda p: p.stem)
def test_machine_mail(path: Path) -> None:
    """Challenges and list holds are auto-replies, never bounces; failure notices sent as
    auto-replies and lists refusing non-members are bounces; out-of-office mail marked
    only by Precedence or an empty Return-Path is an auto-reply, in any language."""
    result = _classify(path)
    assert (result.cls, result.confidence >= CONFIDENT) == (path.stem.split("__")[0], True)


def test_a_bounced_hold_notice_is_a_bounce() -> None:
    raw = _text(
        "--- Non-Delivery Report ---\nThe email below could not be delivered to the following"
        " user:\n\n<gone@list.example.org>\n\nOld message:\n\nYour mail to 'Peace' is being held"
        " until the list moderator can review it for approval.\n",
        subject="Non-Delivery: Your message to Peace awaits moderator approval",
    )
    assert classify(parse_message(raw)).cls == ReplyClass.BOUNCE


@pytest.mark.parametrize(
    "body",
    [
        "Please confirm your participation in our congress by 1 October.",
        "You are not a member of our coordination list yet: write to the secretariat.",
        "Your message was held by our spam filter, we only saw it today. We sign.",
        "I was travelling last week, sorry for the delay. We sign.",
    ],
)
def test_people_are_not_taken_for_machines(body: str) -> None:
    result = _reply(body)
    assert (
        result.cls not in (ReplyClass.BOUNCE, ReplyClass.AUTO_REPLY)
        or result.confidence < CONFIDENT
    )
