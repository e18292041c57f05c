"""intent.read: what a person's reply says, in every language with a phrase file.

Machine mail (bounces, auto-replies) is tests/test_classify.py's; the labelled
development set is tests/test_replies_dev.py's. These tests pin the rules: negations
and refusals, doubts and conditions, the third person, the asked phrase, actions, and
what keeps a sign-on from being applied: another occasion, another statement, a hold
or a retraction after it.
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
        "We didn't leaflet this time.",  # "did" is no done-verb inside "didn't"
        "We are leafleting tomorrow at the station.",
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


# --- what keeps a sign-on from being applied: another occasion, another statement, a hold ----


@pytest.mark.parametrize(
    ("body", "subject"),
    [
        ("We have signed your statement on Cuba last year.", "Re: Joint statement"),
        ("Our party has also endorsed the declaration previously.", "Re: Joint statement"),
        ("We've signed the appeal in 2024, when it first went round.", "Re: Appeal for peace"),
        ("Прошле године смо потписали ваш апел.", "Re: Заједничка изјава"),
        ("В прошлом году мы подписали ваше заявление.", "Re: Совместное заявление"),
        ("Assinamos a declaração do ano passado.", "Re: Declaração conjunta"),
        ("Partidul nostru a semnat declarația acum doi ani.", "Re: Declarație comună"),
        ("الحزب وقع على البيان في العام الماضي.", "Re: بيان مشترك"),
    ],
)
def test_a_signature_of_another_occasion_waits_for_review(body: str, subject: str) -> None:
    result = _read(body, subject)
    assert _applied(result) == "review" and result.cls == ReplyClass.SIGNON, result


@pytest.mark.parametrize(
    "body",
    [
        "We sign this statement, as we signed last year's.",
        "Like last year, we sign.",
        "The Communist Party of Examplia, founded in 1921, signs the statement.",
        "Kao i prošle godine, potpisujemo.",
        "Как и в прошлом году, подписываем.",
        "Como el año pasado, firmamos.",
        "Wie im letzten Jahr unterzeichnen wir.",
        "كما في العام الماضي، نوقع على البيان.",
    ],
)
def test_a_comparison_or_another_date_is_no_other_occasion(body: str) -> None:
    assert _applied(_read(body)) == "signon"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Joint statement on Palestine", "review"),  # the statement answered is another
        ("Re: Joint statement on the blockade of Cuba", "signon"),  # it is this one
        ("Re: Joint statement", "signon"),  # the subject does not say what it is about
        ("Cuba: we sign", "signon"),  # the sender's own subject says nothing of ours
    ],
)
def test_a_statement_named_by_its_topic_is_compared_with_the_subject(
    subject: str, expected: str
) -> None:
    assert _applied(_read("We have signed your statement on Cuba.", subject)) == expected


def test_this_statement_is_the_one_answered_whatever_its_topic() -> None:
    body = "We sign this statement on the Palestinian cause."
    assert _applied(_read(body, "Re: Appeal for peace")) == "signon"
    assert _applied(_read("Подписываем заявление о Палестине.", "Re: Statement on Palestine")) == (
        "signon"
    )


@pytest.mark.parametrize(
    "body",
    [
        "We sign. Actually, hold on: our chair wants to read the final version first.",
        "We endorse the statement. Please don't publish our name until you hear from us again.",
        "Count us in!\n\nP.S. Pending approval by our national committee.",
        "Potpisujemo. Sačekajte, predsednik mora prvo da odobri tekst.",
        "Подписываем. Пока не публикуйте наше название.",
        "Firmamos. Esperen un momento, no publiquen nuestro nombre todavía.",
        "Wir unterzeichnen. Bitte noch nicht veröffentlichen.",
        "نوقع. انتظروا موافقة المكتب قبل النشر.",
        "İmzalıyoruz. Lütfen adımızı şimdilik yayınlamayın.",
        "We sign. No, sorry, the board must still approve it.",
        "Podpisujemy. A nie, czekajcie, zarząd musi to jeszcze zatwierdzić.",
        "Підписуємо. Ой, ні, голова ще не погодив.",
        "Wir unterzeichnen. Nein, Moment, der Vorstand muss noch zustimmen.",
        "हम हस्ताक्षर करते हैं। नहीं, रुकिए, अध्यक्ष की मंज़ूरी देनी होगी।",
        "Podpisujemy. Przewodniczący potwierdzi jutro.",
        "Firmamos. El secretario general lo confirmará mañana.",
        "Подписываем. Партия решит позже.",
        "Semnăm. Conducerea va decide săptămâna viitoare.",
    ],
)
def test_a_sign_on_held_or_taken_back_later_waits_for_review(body: str) -> None:
    result = _read(body)
    assert result.cls == ReplyClass.SIGNON and _applied(result) == "review", result


@pytest.mark.parametrize(
    "body",
    [
        "Sorry to keep you waiting. We sign.",  # the wait is before the sign-on
        "We sign — please publish us as 'Workers' Party (Examplia)'.",
        "We sign. We are waiting for the final list of signatories.",
        "We sign and demand the withdrawal of the troops.",
        "Wir unterzeichnen und fordern den Rückzug der Truppen.",
        "Semnăm. Cerem retragerea trupelor.",
        "لا نتردد لحظة، نوقع!",  # "a moment" before the sign-on
        "We sign. No objections, no changes.",  # "no" of a negation exception
        "Podpisujemy. Nie mamy uwag.",  # a negation, but no "No," that corrects
    ],
)
def test_words_that_only_look_like_a_hold(body: str) -> None:
    assert _applied(_read(body)) == "signon"


@pytest.mark.parametrize(
    ("body", "languages"),
    [
        ("Probably we will sign after our congress; no decision has been taken yet.", ("en",)),
        ("Wir werden voraussichtlich nach dem Parteitag unterzeichnen.", ("de",)),
        ("احتمالاً پس از کنگره امضا خواهیم کرد.", ("fa",)),
        ("We already signed the Peace Council's statement on the same issue.", ("en",)),
        ("Мы уже подписали заявление Совета мира по этому же вопросу.", ("ru",)),
        ("We signed the appeal of the Peace Council. Does that count?", ("en",)),
        ("Ми вже підписали заяву Лівого форуму. Це зараховується?", ("uk",)),
    ],
)
def test_a_later_signature_or_another_one_waits_for_review(
    body: str, languages: tuple[str, ...]
) -> None:
    assert _applied(_read(body, languages=languages)) == "review"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300))
def test_a_hold_after_a_sign_on_is_never_applied(noise: str) -> None:
    """Whatever stands between them, a request not to publish yet after a sign-on keeps
    it from being applied."""
    for hold in ("Please do not publish our name yet.", "Ne objavljujte naše ime još."):
        assert _applied(_read(f"We sign. {noise}\n{hold}", asked=("We sign",))) != "signon"


@pytest.mark.parametrize(
    "body",
    [
        "Our Political Bureau voted against signing the joint statement.",
        "Our party has opted for non-participation in this appeal.",
        "The board rejected the proposal to sign the statement.",
        "Centralni komitet je odlučio da ne potpiše izjavu.",
        "Председништво је одбило да потпише изјаву.",
        "Президиум ЦК решил отказаться от подписания заявления.",
        "Рада ухвалила рішення про неприєднання до звернення.",
        "Hemos resuelto finalmente no sumarnos a este llamamiento.",
        "A Comissão Política decidiu pela não adesão a esta declaração.",
        "Le Comité central a décidé de renoncer à signer la déclaration.",
        "Il partito si è espresso contro l'adesione all'appello.",
        "Der Parteivorstand hat beschlossen, von einer Unterzeichnung abzusehen.",
        "Η Κεντρική Επιτροπή αποφάσισε τη μη υπογραφή της δήλωσης.",
        "Merkez Komitesi bildiriye katılmama kararı aldı.",
        "قررت اللجنة التنفيذية عدم الانضمام إلى هذا البيان.",
        "Komitet podjął decyzję o niepodpisywaniu tego apelu.",
        "Ústřední výbor rozhodl o nepřipojení k prohlášení.",
        "A vezetőség a csatlakozás ellen szavazott.",
        "Conducerea s-a pronunțat împotriva semnării apelului.",
        "Изпълнителният съвет взе решение за неприсъединяване към призива.",
        "تصمیم به عدم امضای بیانیه گرفته شد.",
        "केंद्रीय समिति ने बयान पर हस्ताक्षर करने से इनकार कर दिया।",
    ],
)
def test_a_refusal_by_a_noun_or_another_verb_is_a_decline(body: str) -> None:
    assert _applied(_read(body)) == "decline"


@pytest.mark.parametrize(
    "body",
    [
        "Ne odustajemo, potpisujemo!",
        "We won't hesitate for a second: we sign.",
        "No lo dudamos, firmamos.",
        "Nous n'hésitons pas une seconde : nous signons.",
        "Не сомневаемся ни секунды, подписываем!",
        "हम बिल्कुल नहीं हिचकिचाते, हम हस्ताक्षर करते हैं!",
    ],
)
def test_a_negation_does_not_reach_past_its_clause(body: str) -> None:
    assert _applied(_read(body)) == "signon"


@pytest.mark.parametrize(
    ("body", "languages", "expected"),
    [
        ("After a long discussion we decided to sign the statement.", ("en",), "signon"),
        ("Tras debatirlo, hemos decidido firmar la declaración.", ("es",), "signon"),
        ("После обсуждения мы решили подписать заявление.", ("ru",), "signon"),
        ("We will sign after the congress has decided.", ("en",), "review"),
        ("Решили подписать после съезда.", ("ru",), "review"),
    ],
)
def test_a_decision_taken_after_a_deliberation_is_no_doubt(
    body: str, languages: tuple[str, ...], expected: str
) -> None:
    assert _applied(_read(body, languages=languages)) == expected


@pytest.mark.parametrize(
    ("body", "languages"),
    [
        ("Please add us to your mailing list.", ("en",)),
        ("Включите нас в список рассылки.", ("ru",)),
        ("Dodajcie nas do listy mailingowej.", ("pl",)),
        ("Nehmt uns in den Verteiler auf.", ("de",)),
        ("Προσθέστε μας στη λίστα αλληλογραφίας.", ("el",)),
    ],
)
def test_joining_a_mailing_list_is_no_signature(body: str, languages: tuple[str, ...]) -> None:
    assert _applied(_read(body, languages=languages)) == "review"


def test_a_signature_withdrawn_with_our_name_off_the_list_is_no_sure_unsubscribe() -> None:
    """'Remove our name from the list' after withdrawing a signature asks off the list
    of signatories: a person decides whether it also means no more mail."""
    result = _read(
        "Geçen ay gönderdiğimiz imzamızı geri çekiyoruz; lütfen adımızı listeden çıkarın.",
        languages=("tr",),
    )
    assert result.cls == ReplyClass.UNSUBSCRIBE and _applied(result) == "review", result
    assert _applied(_read("Lütfen adımızı listeden çıkarın.", languages=("tr",))) == "unsubscribe"


@pytest.mark.parametrize(
    ("body", "languages", "expected"),
    [
        ("Мы ещё не решили подписать.", ("ru",), "review"),
        ("Jeszcze nie postanowiliśmy podpisać.", ("pl",), "review"),
        ("Todavía no decidimos firmar.", ("es",), "review"),
        ("Мы не будем подписывать, обсудим это на следующем заседании.", ("ru",), "decline"),
    ],
)
def test_not_yet_decided_to_sign_is_no_refusal(
    body: str, languages: tuple[str, ...], expected: str
) -> None:
    assert _applied(_read(body, languages=languages)) == expected


@pytest.mark.parametrize(
    ("body", "languages", "expected"),
    [
        ("Please don't add our name yet.", ("en",), "review"),
        ("We sign... No, wait: the board wants to read it again.", ("en",), "review"),
        ("Podpisujemy... Nie, czekajcie: zarząd chce to jeszcze przeczytać.", ("pl",), "review"),
        ("Bitte nehmt uns noch nicht auf.", ("de",), "review"),
        ("Por favor, no incluyan todavía nuestro nombre.", ("es",), "review"),
        ("Don't add our name, we don't support it.", ("en",), "decline"),
        ("Wstrzymujemy się od podpisania.", ("pl",), "decline"),
        # "For now" alone refuses; with a sign-on or a deferral in the reply it holds.
        ("We cannot join for now.", ("en",), "decline"),
        ("No podemos sumarnos por ahora.", ("es",), "decline"),
        (
            "Our youth wing agrees; the board will decide. Do not add our name for now.",
            ("en",),
            "review",
        ),
    ],
)
def test_a_sign_on_put_off_is_a_hold_not_a_refusal(
    body: str, languages: tuple[str, ...], expected: str
) -> None:
    result = _read(body, languages=languages)
    assert _applied(result) == expected, result
    if expected == "review":  # and not a refusal waiting for a look either
        assert result.cls != ReplyClass.DECLINE, result


@pytest.mark.parametrize(
    ("body", "languages", "expected"),
    [
        ("Spremamo piket za petak, javićemo kako je prošlo.", ("sr-Latn",), "review"),
        ("Готовим митинг на субботу, напишем, как прошло.", ("ru",), "review"),
        ("Chystáme pochod, pak vám napíšeme, jak proběhl.", ("cs",), "review"),
        ("We are planning a picket and will report back on how it went.", ("en",), "review"),
        ("Miting je prošao mirno, održali smo ga ispred ambasade.", ("sr-Latn",), "acted"),
        ("Митинг прошёл в субботу у посольства.", ("ru",), "acted"),
    ],
)
def test_a_promise_to_tell_how_it_went_reports_nothing(
    body: str, languages: tuple[str, ...], expected: str
) -> None:
    result = _read(body, languages=languages, kind="call")
    assert _applied(result) == expected, result


@pytest.mark.parametrize(
    ("body", "languages", "expected"),
    [
        ("Protest će biti održan u subotu.", ("sr-Latn",), "review"),
        ("Митинг будет проведён в субботу.", ("ru",), "review"),
        ("Митингът ще се проведе в събота.", ("bg",), "review"),
        ("Protest je održan u subotu.", ("sr-Latn",), "acted"),
        ("Митинг был проведён в субботу.", ("ru",), "acted"),
        ("Митингът се проведе в събота.", ("bg",), "acted"),
    ],
)
def test_a_done_verb_in_the_future_is_a_plan(
    body: str, languages: tuple[str, ...], expected: str
) -> None:
    assert _applied(_read(body, languages=languages, kind="call")) == expected
