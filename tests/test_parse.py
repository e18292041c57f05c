"""parse_message on ordinary and hostile mail: fields, bounded work, never an exception."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.inbox.parse import MAX_TOKEN_TEXT, parse_message
from mailer.inbox.quotes import strip_reply


def _reply(
    body: str = "We sign.\n\nOn Mon, 3 Mar 2025, Desk <d@x.org> wrote:\n> old text\n",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "=?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <Jose@Party.Example.net>"
    msg["To"] = "intl+abcdefghijkm@party.example.org, other@x.org"
    msg["Cc"] = "third@y.org"
    msg["Subject"] = "=?utf-8?b?UmU6IEl6amF2YQ==?="
    msg["Date"] = "Tue, 04 Mar 2025 09:30:00 +0100"
    msg["Message-ID"] = "<abc@party.example.net>"
    msg["In-Reply-To"] = "<m.abcdefghijkm.peace@party.example.org>"
    msg["References"] = "<a@b> <m.abcdefghijkm.peace@party.example.org>"
    msg.set_content(body)
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="../../photo.png")
    return bytes(msg)


def test_fields_of_an_ordinary_reply() -> None:
    parsed = parse_message(_reply())
    assert parsed.error is None
    assert parsed.from_addr == "jose@party.example.net"
    assert parsed.from_name == "José Pérez"
    assert parsed.subject == "Re: Izjava"
    assert parsed.message_id == "<abc@party.example.net>"
    assert parsed.in_reply_to == ["<m.abcdefghijkm.peace@party.example.org>"]
    assert parsed.references[-1] == "<m.abcdefghijkm.peace@party.example.org>"
    assert parsed.recipients == [
        "intl+abcdefghijkm@party.example.org",
        "other@x.org",
        "third@y.org",
    ]
    assert parsed.date is not None and parsed.date.year == 2025
    assert parsed.new_text == "We sign."
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("../../photo.png", "image/png", b"\x89PNG...")
    ]


def test_html_only_reply_keeps_blockquotes_as_quotes() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: text/html; charset=utf-8\n\n"
        b"<div>Firmamos &amp; saludamos</div><blockquote>Old <b>text</b></blockquote>"
    )
    parsed = parse_message(raw)
    assert parsed.text.splitlines()[0] == "Firmamos & saludamos"
    assert "> Old" in parsed.text
    assert parsed.new_text == "Firmamos & saludamos"
    inline = parse_message(b"Content-Type: text/html\n\n<p>We <b>sign</b> the statement.</p>")
    assert inline.text == "We sign the statement."  # words either side of a tag stay apart


def test_unknown_charset_and_8bit_headers_fall_back() -> None:
    raw = (
        "From: Đorđe <dj@x.rs>\nSubject: Potpisujemo\nContent-Type: text/plain; charset=x-nonsense\n\n"
        "Potpisujemo izjavu. Živeli!\n"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.from_name == "Đorđe"
    assert "Živeli" in parsed.text


def test_bad_base64_decodes_what_is_valid_and_says_so() -> None:
    raw = (
        b"From: a@b.org\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        b"V2Ugc2lnbi4=\x00***!!\nbroken"
    )
    parsed = parse_message(raw)
    assert "We sign." in parsed.text
    assert parsed.error and "base64" in parsed.error


def test_pathological_content_type_is_linear() -> None:
    # 80,000 semicolons take the stdlib over a minute; the capped parser reads only the first few.
    raw = (
        b"From: a@b.org\nContent-Type: multipart/mixed; boundary=x"
        + b";" * 80_000
        + b"\n\n--x\n\nhi\n--x--\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_addr == "a@b.org"


def test_deep_nesting_is_contained() -> None:
    depth = 3000
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    parsed = parse_message(b"From: a@b.org\n" + head + b"\nbottom\n")
    assert parsed.from_addr == "a@b.org"
    assert parsed.error


def test_oversized_message_is_truncated_not_refused() -> None:
    raw = b"From: a@b.org\nSubject: big\n\n" + b"x" * 5000
    parsed = parse_message(raw, max_bytes=1000)
    assert parsed.subject == "big"
    assert parsed.error and "truncated" in parsed.error


def test_bounce_carries_the_original_headers_for_matching() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status;"
        b" boundary=z\n\n--z\nContent-Type: text/plain\n\nfailed\n--z\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; gone@x.org\nAction: failed\nStatus: 5.1.1\n"
        b"\n--z\nContent-Type: message/rfc822\n\nMessage-ID: <m.abcdefghijkm.peace@party.example.org>\n"
        b"Reply-To: intl+abcdefghijkm@party.example.org\n\nbody\n--z--\n"
    )
    parsed = parse_message(raw)
    assert "<m.abcdefghijkm.peace@party.example.org>" in parsed.raw_text_for_tokens
    assert "intl+abcdefghijkm@party.example.org" in parsed.raw_text_for_tokens
    assert parsed.delivery_status[-1]["final-recipient"] == "rfc822; gone@x.org"
    assert parsed.attachments == []


def test_empty_message() -> None:
    parsed = parse_message(b"")
    assert parsed.text == "" and parsed.from_addr is None and parsed.recipients == []


def test_bytes_without_headers_are_not_mail() -> None:
    parsed = parse_message(bytes(range(256)) * 4)
    assert parsed.mime is None and "not an e-mail message" in (parsed.error or "")


def test_sender_address_is_stored_as_contacts_stores_it() -> None:
    parsed = parse_message(b"From: Intl <Intl@xn--bcher-kva.example>\n\nhi")
    assert parsed.from_addr == "intl@bücher.example"
    odd = parse_message(b"From: Someone@LocalHost\n\nhi")  # refused by the validator, kept
    assert odd.from_addr == "someone@localhost"


_MIME_BITS = st.sampled_from(
    [
        b"From: a@b.org\n",
        b"Subject: =?x-bad?q?=ZZ?=\n",
        b"Content-Type: multipart/mixed; boundary=q\n",
        b"Content-Type: text/plain; charset=bogus\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"Message-ID: <\n",
        b"Message-ID: <a@b>>@@\n",
        b"\n",
        b"--q\n",
        b"--q--\n",
        b"=?utf-8?b?////?=",
        b"\xff\xfe\x00",
        b"Content-Type: message/rfc822\n",
        b"Content-Type: message/delivery-status\n",
        b"Final-Recipient: ;;;\n",
        b"To: ,,,<@>\n",
        b"Content-Disposition: attachment; filename*=x''%ZZ\n",
        b"\t folded\n",
        b"=\n",
        b"A" * 300,
    ]
)


@given(st.lists(_MIME_BITS, max_size=40).map(b"".join))
def test_mangled_mime_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert len(parsed.raw_text_for_tokens) <= MAX_TOKEN_TEXT + 1000


@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    parse_message(raw)


_LINES = st.sampled_from(
    [
        "We sign.",
        "",
        "> quoted",
        "On Mon, 3 Mar 2025 Desk <d@x.org> wrote:",
        "-- ",
        "Sent from my iPhone",
        "From: x",
        "Sent: y",
        "To: z",
        "Subject: s",
        "-----Original Message-----",
        "text",
        "Le 3 mars,",
        "a écrit :",
        "Richard> hi",
        "___",
        "2016-03-03 17:21 GMT+01:00 Someone",
    ]
)


@given(st.lists(_LINES, max_size=30).map("\n".join))
def test_quote_stripping_is_idempotent(text: str) -> None:
    once = strip_reply(text)
    assert strip_reply(once) == once


@pytest.mark.parametrize(
    "history",
    [
        '07.03.2025, 12:30, "International Department" <intl@party.example.org>:\n> Ответьте: Мы подписываем',
        "Пятница, 7 марта 2025, 12:30 +03:00 от International Department <intl@party.example.org>:\n\n>Ответьте",
        "04.03.2025 09:12, International Department пишет:\n> Просим ответить",
        "W dniu 7.03.2025 o 12:30, International Department pisze:\n> Podpisujemy",
        "Dne 07. 03. 25 v 12:30 International Department napsal(a):\n> Podepisujeme",
        "International Department <intl@party.example.org> ezt írta (időpont: 2025. márc. 7., P, 12:30):\n> Aláírjuk",
        "Pe 04.03.2025 09:12, International Department a scris:\n> Semnăm",
        "На 04.03.2025 в 09:12, International Department написа:\n> Подписваме",
        "Feladó: International Department <intl@party.example.org>\nElküldve: 2025. március 7.\nCímzett: tamas@example.hu\nTárgy: Közös nyilatkozat\n\nAláírjuk",
        "De la: International Department <intl@party.example.org>\nTrimis: vineri, 7 martie 2025\nCătre: mihai@example.ro\nSubiect: Declarație\n\nSemnăm",
        "Kimden: International Department <intl@party.example.org>\nGönderildi: 7 Mart 2025 Cuma\nKime: can@example.org.tr\nKonu: Ortak bildiri\n\nİmzalıyoruz",
        "Від: International Department <intl@party.example.org>\nНадіслано: 7 березня 2025 р.\nКому: taras@example.ua\nТема: Спільна заява\n\nПідписуємо",
        "-----Wiadomość oryginalna-----\nOd: International Department\nPodpisujemy",
        "در تاریخ جمعه ۷ مارس ۲۰۲۵، International Department <intl@party.example.org> نوشت:\n> بیانیه",
        "शुक्र, 7 मार्च 2025 को 12:30 pm बजे International Department <intl@party.example.org>"
        " ने लिखा:\n> हस्ताक्षर",
        "प्रेषक: International Department <intl@party.example.org>\nभेजा गया: शुक्रवार\nप्रति:"
        " a@b.example\nविषय: बयान\n\nहस्ताक्षर",
    ],
)
def test_attributions_of_more_mail_clients_and_languages(history: str) -> None:
    """Yandex and mail.ru (no verb), Thunderbird and Gmail in Polish, Czech, Hungarian,
    Romanian, Bulgarian, Persian, Hindi, Outlook's headers in Hungarian, Romanian, Turkish,
    Ukrainian, Hindi."""
    assert strip_reply(f"Thank you, received.\n\n{history}\n") == "Thank you, received."


@pytest.mark.parametrize(
    "text",
    [
        "We handed out 800 leaflets.",
        "Fizemos panfletagem no centro, umas 400 pessoas.",
        "Kampüste bildiri dağıttık, 800 imza topladık.",
        "Reply from our office: info@org.example",
    ],
)
def test_a_last_line_with_a_number_is_no_part_of_the_marker_below(text: str) -> None:
    """A text line with a digit or an address may start a wrapped attribution, but not
    when the line below is a whole marker with its own date: the text is the reply."""
    history = (
        "12 Mar 2026 Per, 18:40 tarihinde Intl Dept <intl@party.example.org> şunu yazdı:\n"
        "> Tüm örgütleri çağırıyoruz."
    )
    assert strip_reply(f"{text}\n\n{history}\n") == text


def test_an_attribution_wrapped_before_its_time_is_still_one_marker() -> None:
    wrapped = "On Thu, Jun 20, 2013 at\n4:18 PM, Intl Dept <intl@party.example.org> wrote:\n> Hi"
    assert strip_reply(f"We sign.\n\n{wrapped}\n") == "We sign."
