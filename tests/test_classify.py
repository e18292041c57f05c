"""classify() on our own fictional replies in 11 languages, bounces and auto-replies.

File names in tests/data/replies say what each message is: CLASS_LANG_N.eml. The
zero-tolerance rule is checked over every fixture: nothing that is not an explicit
sign-on may come out as a confident sign-on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# --- what issue 12 asked for: third person, asked phrases, actions, machine mail -------------

MACHINE = Path(__file__).parent / "data" / "machine"


def _reply(body: str, subject: str = "Re: Joint statement", headers: str = "", **kwargs):
    return classify(parse_message(_text(body, subject, headers)), **kwargs)


def _applied(result) -> str:
    return str(result.cls) if result.confidence >= CONFIDENT else "review"


@pytest.mark.parametrize(
    ("body", "subject", "org_names", "expected"),
    [
        ("KKE signs the joint statement.", "Re: x", (), "signon"),  # an acronym names itself
        (
            "Atlantis endorses the statement.",
            "Re: x",
            ("Atlantis Workers' Party", "Atlantis"),
            "signon",
        ),
        ("Atlantis endorses the statement.", "Re: x", (), "review"),  # not known as a name
        ("Comradely greetings.", "PCTE se adhiere", ("Partido Comunista – PCTE",), "signon"),
        (
            "Predsedništvo je na sednici od 12. marta odlučilo da se pridruži izjavi.",
            "Re: x",
            (),
            "signon",
        ),
        ("The Central Committee decided not to join the statement.", "Re: x", (), "decline"),
        ("Το ΚΚΕ δεν υπογράφει τη δήλωση.", "Re: x", (), "decline"),
        ("Our union signs a new collective agreement today.", "Re: x", (), "review"),
    ],
)
def test_an_organization_writing_about_itself(
    body: str, subject: str, org_names: tuple[str, ...], expected: str
) -> None:
    assert _applied(_reply(body, subject, org_names=org_names)) == expected


@pytest.mark.parametrize(
    ("body", "asked", "expected"),
    [
        ("we sing", ("We sign",), "signon"),  # two letters swapped
        ("WE ALSO SIGN IT", ("We sign",), "signon"),
        ("Potpisujem.", ("Potpisujemo",), "signon"),
        ("Tunasaini tamko hili.", ("Tunasaini",), "signon"),  # a language without a phrase file
        ("Hatusaini.", ("Tunasaini",), "review"),
        ("Formamos parte de la coordinadora.", ("Firmamos",), "review"),  # a changed letter
        ("We signal our interest.", ("We sign",), "review"),
        ("We do not sign.", ("We sign",), "decline"),
        ("We would sign if the text changed.", ("We sign",), "review"),
    ],
)
def test_the_phrase_the_statement_asked_for(
    body: str, asked: tuple[str, ...], expected: str
) -> None:
    assert _applied(_reply(body, asked=asked)) == expected


@pytest.mark.parametrize(
    "body",
    [
        "We held a rally in front of the embassy, photos attached.",
        "U subotu smo održali protest ispred ambasade.",
        "В субботу мы провели пикет у посольства.",
        "El sábado realizamos una concentración frente a la embajada.",
        "Ieri si è svolto un presidio davanti al porto, al quale abbiamo partecipato.",
        "Cumartesi günü büyükelçilik önünde bir eylem yaptık.",
    ],
)
def test_reported_actions_are_confident_in_call_campaigns(body: str) -> None:
    assert _applied(_reply(body, kind="call")) == "acted"
    assert _applied(_reply(body, kind="signon")) == "review"


@pytest.mark.parametrize(
    "body",
    [
        "We will hold a rally on 15 March and send photos afterwards.",
        "We could not hold the rally: the police banned it.",
        "Did you hold a rally too?",
    ],
)
def test_plans_and_failed_actions_are_not_acted(body: str) -> None:
    assert _applied(_reply(body, kind="call")) == "review"


@pytest.mark.parametrize(
    "body",
    [
        "Ми не підписуватимемо цю заяву.",
        "Bildiriyi imzalamayacağız.",
        "Nie podpiszemy tego oświadczenia.",
        "Toto prohlášení nepodepíšeme.",
        "Ezt a nyilatkozatot nem írjuk alá.",
        "Nu vom semna această declarație.",
        "Няма да подпишем тази декларация.",
    ],
)
def test_negations_in_the_other_languages_are_declines(body: str) -> None:
    assert _applied(_reply(body)) == "decline"


@pytest.mark.parametrize(
    "body",
    [
        "No objections, we sign.",
        "Nemamo primedbi, potpisujemo.",
        "Замечаний по тексту нет, подписываем.",
        "Ne condividiamo il contenuto e firmiamo.",  # Italian "ne" is no negation
        "Ne alăturăm apelului.",  # Romanian "ne" is "us"
        "Sí, firmamos.",  # "sí" is yes, not "if"
    ],
)
def test_words_that_only_look_negative(body: str) -> None:
    assert _applied(_reply(body)) == "signon"


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


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300))
def test_a_refusal_anywhere_is_never_a_confident_signon(noise: str) -> None:
    """Whatever else a line says (no line breaks: a line of "=" would end the text as a
    signature delimiter does), a refusal in the reply keeps a sign-on from being applied."""
    for refusal in ("We cannot sign.", "Ne potpisujemo.", "No firmaremos."):
        result = _reply(f"We sign. {noise}\n{refusal}", asked=("We sign",))
        assert not (result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT)


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


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Yes, we'll sign.", "signon"),
        ("We're happy to sign this statement.", "signon"),
        ("We'd sign it with one small amendment.", "review"),
        ("We sign. But only if the paragraph on the EU goes.", "review"),  # the next sentence
        ("Firmamos. Eso sí, solo si se quita la referencia a la OTAN.", "review"),
        ("They asked us to write “We sign”. We will discuss it.", "review"),  # mentioned
        ("We do not wish to sign this statement.", "decline"),
        ("ما این بیانیه را امضا می‌کنیم.", "signon"),
        ("ما نمی‌توانیم این بیانیه را امضا کنیم.", "decline"),
        ("हम इस बयान पर हस्ताक्षर करते हैं।", "signon"),
        ("हम हस्ताक्षर नहीं करेंगे।", "decline"),
        ("हमारा संगठन इस पर विचार करेगा।", "review"),  # "हम" inside "हमारा" is no word
    ],
)
def test_more_ways_of_saying_it(body: str, expected: str) -> None:
    assert _applied(_reply(body, asked=("We sign",))) == expected
