"""Matching a reply to what we sent: the evidence order of DESIGN §7, on plain data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailer.inbox.match import Lookups, Match, Sent, match
from mailer.inbox.parse import ParsedMessage
from mailer.tokens import message_id, new_token, reply_address, unsubscribe_address

SENDER = "intl@party.example.org"
A = Sent(id=1, campaign_id=10, org_id=100, address_id=1000)
B = Sent(id=2, campaign_id=20, org_id=200, address_id=2000)
TOKEN_A, TOKEN_B = new_token(), new_token()
MID_A, MID_B = message_id(TOKEN_A, "first", SENDER), message_id(TOKEN_B, "second", SENDER)


def lookups(senders: dict[str, tuple[int, int, Sent | None]] | None = None) -> Lookups:
    by_token = {TOKEN_A: A, TOKEN_B: B}
    by_mid = {MID_A.lower(): A, MID_B.lower(): B}
    return Lookups(
        by_token=by_token.get,
        by_message_id=lambda m: by_mid.get(m.lower()),
        by_sender=(senders or {}).get,
    )


def msg(**fields: object) -> ParsedMessage:
    base: dict[str, object] = {
        "message_id": "<x@example.net>",
        "from_addr": "someone@example.net",
        "from_name": None,
        "recipients": [],
        "subject": "",
        "date": None,
        "in_reply_to": [],
        "references": [],
        "headers": {},
        "text": "",
        "new_text": "",
        "attachments": [],
        "raw_text_for_tokens": "",
    }
    base.update(fields)
    return ParsedMessage(**base)  # type: ignore[arg-type]


def test_reply_token_in_a_recipient_matches_first() -> None:
    found = match(msg(recipients=[reply_address(SENDER, TOKEN_A)], in_reply_to=[MID_B]), lookups())
    assert found == Match(10, 100, 1, "token", "", 1000)


def test_unsubscribe_token_asks_to_unsubscribe() -> None:
    found = match(msg(recipients=[unsubscribe_address(SENDER, TOKEN_B)]), lookups())
    assert found is not None and found.unsubscribe and found.message_ref == 2


def test_unknown_token_falls_through_to_in_reply_to() -> None:
    found = match(
        msg(recipients=[reply_address(SENDER, new_token())], in_reply_to=[MID_B]), lookups()
    )
    assert found is not None and (found.method, found.message_ref) == ("in-reply-to", 2)


def test_references_newest_first_and_ids_compared_without_case() -> None:
    found = match(msg(references=[MID_A, MID_B.upper(), "<other@example.net>"]), lookups())
    assert found is not None and found.message_ref == 2


def test_our_message_id_with_another_domain_still_carries_its_token() -> None:
    rewritten = f"<m.{TOKEN_A}.first@relay.example.com>"
    found = match(msg(in_reply_to=[rewritten]), lookups())
    assert found is not None and found.message_ref == 1


def test_bounce_carrying_our_headers_matches_without_unsubscribing() -> None:
    quoted = (
        f"Message-ID: {MID_A}\nList-Unsubscribe: <mailto:{unsubscribe_address(SENDER, TOKEN_A)}>"
    )
    found = match(
        msg(from_addr="mailer-daemon@mx.example.net", raw_text_for_tokens=quoted), lookups()
    )
    assert found is not None
    assert (found.method, found.message_ref, found.unsubscribe) == ("quoted", 1, False)


def test_known_sender_gets_the_latest_campaign_sent_to_the_organization() -> None:
    senders = {"press@org.example.org": (200, 2001, B)}
    found = match(msg(from_addr="Press@Org.example.org"), lookups(senders))
    assert found == Match(20, 200, 2, "sender", "", 2001)


def test_known_sender_without_any_sent_campaign_has_an_organization_only() -> None:
    found = match(msg(from_addr="a@org.example.org"), lookups({"a@org.example.org": (7, 70, None)}))
    assert found == Match(None, 7, None, "sender", "", 70)


def test_nothing_matches_a_stranger() -> None:
    assert match(msg(from_addr=None, raw_text_for_tokens="hello"), lookups()) is None


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@given(
    recipients=st.lists(text, max_size=3),
    refs=st.lists(text, max_size=3),
    body=text,
    sender=st.none() | text,
)
def test_matching_never_fails_on_arbitrary_text(
    recipients: list[str], refs: list[str], body: str, sender: str | None
) -> None:
    found = match(
        msg(
            recipients=recipients,
            in_reply_to=refs,
            references=refs,
            raw_text_for_tokens=body + " " + MID_A,
            from_addr=sender,
        ),
        lookups(),
    )
    assert found is not None and found.campaign_id in (10, 20)
