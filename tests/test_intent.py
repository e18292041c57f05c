"""intent.read: what a person's reply says, in every language with a phrase file.

Machine mail (bounces, auto-replies) is tests/test_classify.py's; the labelled
development set is tests/test_replies_dev.py's. These tests pin the rules: negations
and refusals, doubts and conditions, the third person, the asked phrase, actions.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.inbox import intent
from mailer.inbox.classify import CONFIDENT
from mailer.inbox.parse import parse_message
from mailer.models import Classification, ReplyClass

LANGUAGES = ("en", "sr-Latn", "sr-Cyrl", "ru", "es", "fr", "de", "pt", "it", "el", "ar")


def _read(
    body: str,
    subject: str = "Re: Joint statement",
    *,
    languages: tuple[str, ...] = (),
    kind: str = "signon",
    org_names: tuple[str, ...] = (),
    asked: tuple[str, ...] = (),
) -> Classification:
    raw = f"From: x@party.example.net\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    context = intent.Context(languages, kind, org_names, asked)
    return intent.read(parse_message(raw.encode()), context)


def _applied(result: Classification) -> str:
    return str(result.cls) if result.confidence >= CONFIDENT else "review"


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
    result = _read(body)
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
    result = _read(body)
    assert not (result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT), result


def test_quoted_signon_wording_is_ignored() -> None:
    body = (
        "Thanks, received.\n\nOn Mon, 3 Mar 2025 Desk <d@x.org> wrote:\n> Reply 'We sign' to sign."
    )
    assert _read(body).cls == ReplyClass.OTHER


def test_unsubscribe() -> None:
    result = _read("Please remove us from your list.")
    assert result.cls == ReplyClass.UNSUBSCRIBE and result.confidence >= CONFIDENT
    assert _read("Отпишите нас, пожалуйста.").cls == ReplyClass.UNSUBSCRIBE


def test_acted_only_in_call_campaigns() -> None:
    body = "We held a rally on Saturday, photos attached."
    assert _read(body, kind="call").cls == ReplyClass.ACTED
    assert _read(body, kind="signon").cls == ReplyClass.OTHER


def test_every_language_list_works() -> None:
    for languages in [(), ("sr-Latn", "sr-Cyrl", "sr"), ("en", "EN", "xx-Unknown"), LANGUAGES]:
        result = _read("Potpisujemo izjavu.", languages=languages)
        assert result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT


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
    assert _applied(_read(body, subject, org_names=org_names)) == expected


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
    assert _applied(_read(body, asked=asked)) == expected


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
    assert _applied(_read(body, kind="call")) == "acted"
    assert _applied(_read(body, kind="signon")) == "review"


@pytest.mark.parametrize(
    "body",
    [
        "We will hold a rally on 15 March and send photos afterwards.",
        "We could not hold the rally: the police banned it.",
        "Did you hold a rally too?",
    ],
)
def test_plans_and_failed_actions_are_not_acted(body: str) -> None:
    assert _applied(_read(body, kind="call")) == "review"


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
    assert _applied(_read(body)) == "decline"


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
    assert _applied(_read(body)) == "signon"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300))
def test_a_refusal_anywhere_is_never_a_confident_signon(noise: str) -> None:
    """Whatever else a line says (no line breaks: a line of "=" would end the text as a
    signature delimiter does), a refusal in the reply keeps a sign-on from being applied."""
    for refusal in ("We cannot sign.", "Ne potpisujemo.", "No firmaremos."):
        result = _read(f"We sign. {noise}\n{refusal}", asked=("We sign",))
        assert not (result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT)


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
    assert _applied(_read(body, asked=("We sign",))) == expected
