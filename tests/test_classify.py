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


@pytest.mark.parametrize(
    "body",
    [
        "We cannot sign.",
        "We can't sign this.",
        "we will not sign",
        "We won't sign the statement.",
        "Ne možemo da potpišemo.",
        "Не можем подписать.",
        "No podemos firmar.",
        "Nous ne pouvons pas signer.",
        "Wir können nicht unterschreiben.",
        "Não podemos assinar.",
        "Non possiamo firmare.",
        "Δεν μπορούμε να υπογράψουμε.",
        "لا يمكننا التوقيع.",
    ],
)
def test_negations_are_never_signons(body: str) -> None:
    result = classify(parse_message(_text(body)))
    assert result.cls == ReplyClass.DECLINE, result


@pytest.mark.parametrize(
    "body",
    [
        "Can we sign?",
        "Should we sign as a youth wing?",
        "We would sign if you changed it.",
        "We confirm receipt.",
        "Confirmamos la recepción.",
        "We signal our interest; more later.",
        "We will sign off on the budget tomorrow.",
        "Who signed so far?",
        "We sign.\n\nHowever, we need to check with the committee first.",
        # our own statement pasted back without quote marks
        "Please reply 'We sign' to add your organization. " + "The statement text follows. " * 30,
    ],
)
def test_doubtful_texts_are_not_confident_signons(body: str) -> None:
    result = classify(parse_message(_text(body)))
    assert not (result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT), result


def test_quoted_signon_wording_is_ignored() -> None:
    body = (
        "Thanks, received.\n\nOn Mon, 3 Mar 2025 Desk <d@x.org> wrote:\n> Reply 'We sign' to sign."
    )
    assert classify(parse_message(_text(body))).cls == ReplyClass.OTHER


def test_unsubscribe() -> None:
    result = classify(parse_message(_text("Please remove us from your list.")))
    assert result.cls == ReplyClass.UNSUBSCRIBE and result.confidence >= CONFIDENT
    assert classify(parse_message(_text("Отпишите нас, пожалуйста."))).cls == ReplyClass.UNSUBSCRIBE


def test_auto_submitted_header_wins_over_wording() -> None:
    raw = _text("We sign.", headers="Auto-Submitted: auto-replied\n")
    assert classify(parse_message(raw)).cls == ReplyClass.AUTO_REPLY


def test_acted_only_in_call_campaigns() -> None:
    raw = _text("We held a rally on Saturday, photos attached.")
    assert classify(parse_message(raw), kind="call").cls == ReplyClass.ACTED
    assert classify(parse_message(raw), kind="signon").cls == ReplyClass.OTHER


def test_every_language_list_works() -> None:
    raw = _text("Potpisujemo izjavu.")
    for languages in [(), ("sr-Latn", "sr-Cyrl", "sr"), ("en", "EN", "xx-Unknown"), LANGUAGES]:
        result = classify(parse_message(raw), languages=languages)
        assert result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT
