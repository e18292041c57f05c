"""Addresses and one-line text as users type them: what is refused, and the one
form an address is stored, looked up and written in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.addresses import ascii_address, check_text, email_key, normalize_email


def test_internationalized_address_is_accepted_where_mail_can_go() -> None:
    assert normalize_email("δοκιμή@παράδειγμα.δοκιμή") == "δοκιμή@παράδειγμα.δοκιμή"  # a sender
    assert normalize_email("intl@παράδειγμα.δοκιμή", to_send=True) == "intl@παράδειγμα.δοκιμή"
    with pytest.raises(ValueError, match="δοκιμή@παράδειγμα.δοκιμή"):
        normalize_email("δοκιμή@παράδειγμα.δοκιμή", to_send=True)  # would need SMTPUTF8


def test_an_address_is_stored_and_looked_up_in_one_form() -> None:
    assert normalize_email("  Intl@Party.Example.ORG ") == "intl@party.example.org"
    assert email_key("Intl@Party.Example.ORG") == "intl@party.example.org"
    assert email_key("ΔΟΚΙΜΉ@Παράδειγμα.δοκιμή") == "δοκιμή@παράδειγμα.δοκιμή"
    assert email_key(" Not An Address ") == "not an address"  # still a key, never an error


@pytest.mark.parametrize("bad", ["no-at-sign", "a@b", "a b@party.example.org", "a@@b.org"])
def test_a_bad_address_is_one_sentence_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match=rf"^email {bad!r} is not valid: "):
        normalize_email(bad)


@pytest.mark.parametrize("value", ["Party\nBcc: x@y.org", "Party\r", "Par\x00ty", "\u202eytraP"])
def test_text_with_a_control_character_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="^name contains a control character"):
        check_text(value, "name")
    assert check_text("  Partido Comunista\tde España ", "name") == "Partido Comunista\tde España"


def test_an_address_for_a_header_has_an_ascii_domain() -> None:
    assert ascii_address(" intl@παράδειγμα.δοκιμή ") == "intl@xn--hxajbheg2az3al.xn--jxalpdlp"
    for bad in ("δοκιμή@example.org", "a@b.org>", '"a"@b.org', "a@b.org,c@d.org"):
        with pytest.raises(ValueError):
            ascii_address(bad)


TYPED = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"[A-Za-zİΣ0-9._+ -]{1,10}@[A-Za-zΣά.-]{1,12}", fullmatch=True),
)


@given(TYPED)
def test_any_text_gives_a_lookup_key_that_is_stable(text: str) -> None:
    key = email_key(text)
    assert key == key.strip() and email_key(key) == key
