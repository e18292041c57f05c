"""What proves a reply's origin (mailer.inbox.trust), and that nothing else changes an
organization: the unit rules, then a property over real imports into a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlite_utils import Database

from mailer.config import load_settings
from mailer.db import open_db
from mailer.inbox.ingest import Ingester
from mailer.inbox.parse import parse_message
from mailer.inbox.sources import RawMessage
from mailer.inbox.trust import Known, Origin, is_webmail, own_domains, server_checks, verify
from tests.inbox_data import AWP, POS, SENDER, reply_mail, sent_campaign

OURS = "mx.party.example.org"
KNOWN = Known(frozenset({"intl@kke.gr", "press@kke.gr"}), frozenset({"kke.gr"}))


def mail(frm: str, *headers: str, body: str = "We sign the statement.") -> bytes:
    extra = "".join(h + "\r\n" for h in headers)
    return (
        f"{extra}From: {frm}\r\nTo: {SENDER}\r\nSubject: Re: Statement\r\n"
        f"Message-ID: <x1@kke.gr>\r\n\r\n{body}\r\n"
    ).encode()


def origin(raw: bytes, *, ours: bool = False, known: Known | None = KNOWN) -> Origin:
    return verify(parse_message(raw), ours=ours, known=known, authserv_id=OURS)


def test_a_known_address_with_our_token_or_thread_is_the_organization() -> None:
    assert origin(mail("intl@kke.gr"), ours=True) == Origin(
        "known address with our token or thread"
    )


def test_an_address_at_the_organizations_own_domain_counts_like_a_known_one() -> None:
    found = origin(mail("Secretary <secretary@KKE.gr>"), ours=True)
    assert found.verified == "the organization's own domain with our token or thread"


def test_a_known_from_alone_is_trivially_forged() -> None:
    found = origin(mail("intl@kke.gr"))
    assert found.verified is None
    assert found.reason == (
        "From not verified by the receiving server, and the mail carries no token or thread of ours"
    )


def test_a_stranger_in_the_thread_proves_only_that_they_saw_the_message() -> None:
    found = origin(mail("friend@gmail.com"), ours=True)
    assert found == Origin(
        None, "sender not verified: friend@gmail.com is a stranger in the thread"
    )


def test_our_servers_dmarc_pass_proves_a_new_message_from_a_known_address() -> None:
    header = f"Authentication-Results: {OURS}; dmarc=pass (p=reject) header.from=kke.gr"
    assert origin(mail("intl@kke.gr", header)) == Origin("dmarc pass (known address)")


def test_an_aligned_dkim_signature_of_a_parent_domain_counts() -> None:
    header = f"Authentication-Results: {OURS};\r\n\tdkim=pass header.d=kke.gr header.s=s1"
    assert origin(
        mail("intl@mail.kke.gr", header), known=Known(frozenset({"intl@mail.kke.gr"}), frozenset())
    ).verified == ("dkim pass (known address)")


def test_a_dkim_pass_of_another_domain_says_nothing_of_the_from() -> None:
    header = f"Authentication-Results: {OURS}; dkim=pass header.d=bulk-mailer.example"
    assert server_checks(parse_message(mail("intl@kke.gr", header)), OURS) == {}


def test_a_header_with_any_other_authserv_id_is_ignored() -> None:
    forged = "Authentication-Results: mx.kke.gr; dmarc=pass header.from=kke.gr"
    assert origin(mail("intl@kke.gr", forged)).verified is None


def test_only_the_topmost_header_of_ours_counts() -> None:
    # Our server's verdict is on top; a sender's copy of our name sits below it.
    top = f"Authentication-Results: {OURS}; dmarc=fail header.from=kke.gr"
    planted = f"Authentication-Results: {OURS}; dmarc=pass header.from=kke.gr"
    found = origin(mail("intl@kke.gr", top, planted), ours=True)
    assert found == Origin(None, "From not verified by the receiving server (dmarc=fail)")


def test_a_failed_dmarc_outweighs_our_token() -> None:
    header = f"Authentication-Results: {OURS}; dmarc=fail header.from=kke.gr"
    assert origin(mail("intl@kke.gr", header), ours=True).verified is None


def test_without_an_authserv_id_no_header_is_trusted() -> None:
    header = f"Authentication-Results: {OURS}; dmarc=pass header.from=kke.gr"
    parsed = parse_message(mail("intl@kke.gr", header))
    assert verify(parsed, ours=False, known=KNOWN, authserv_id="").verified is None


def test_a_malformed_header_proves_nothing_and_breaks_nothing() -> None:
    header = f"Authentication-Results: {OURS};;; ==dmarc"
    assert server_checks(parse_message(mail("intl@kke.gr", header)), OURS) == {}


def test_a_malformed_header_of_ours_on_top_hides_a_planted_one_below() -> None:
    # Our server's own header is the topmost of ours even when it cannot be read: a
    # sender's copy of our name below it must not take its place.
    top = f"Authentication-Results: {OURS};;; ==dmarc"
    planted = f"Authentication-Results: {OURS}; dmarc=pass header.from=kke.gr"
    assert server_checks(parse_message(mail("intl@kke.gr", top, planted)), OURS) == {}


def test_two_from_fields_make_the_sender_unprovable() -> None:
    found = origin(mail("intl@kke.gr", "From: attacker@evil.example"), ours=True)
    assert found.verified is None and "more than one From" in (found.reason or "")


def test_webmail_and_shared_domains_are_never_an_organizations_own() -> None:
    assert is_webmail("gmail.com") and is_webmail("eu.mail.yahoo.com") and not is_webmail("kke.gr")
    addresses = ["a@kke.gr", "b@gmail.com", "c@riseup.net", "d@shared.example"]
    assert own_domains(addresses, used_by_others={"shared.example"}) == {"kke.gr"}


# ------------------------------------------------------- nothing from outside changes an org


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "contacts.db")
    yield database
    database.close()


def facts(db: Database) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Everything a reply could change about organizations: answers, opt-outs, addresses."""
    return (
        db.execute("SELECT org_id, kind, withdrawn_at FROM response ORDER BY id").fetchall(),
        db.execute("SELECT id, do_not_contact FROM organization ORDER BY id").fetchall(),
        db.execute("SELECT id, status, soft_bounces FROM address ORDER BY id").fetchall(),
    )


WORDS = [
    "We sign the statement.",
    "Potpisujemo izjavu.",
    "Unsubscribe",
    "Please remove us from your list.",
    "We cannot sign.",
    "We held a rally at the embassy, photos attached.",
    "",
]
STRANGERS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True),
    st.sampled_from(
        ["gmail.com", "evil.example", "mail.ru", "kke-gr.example", "party.example.org"]
    ),
)


def dsn_naming(address: str) -> bytes:
    """A delivery report about someone else's message that names one of our addresses."""
    return (
        "From: MAILER-DAEMON@mx.evil.example\r\nTo: someone@evil.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.evil.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.evil.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--r--\r\n"
    ).encode()


@given(
    stranger=STRANGERS,
    words=st.sampled_from(WORDS),
    to=st.sampled_from(["reply", "unsubscribe", "sign", "plain"]),
    thread=st.booleans(),
    claims=st.sampled_from(["", "ours-pass", "theirs-pass"]),
)
def test_no_reply_from_outside_an_organization_changes_it(
    tmp_path_factory: pytest.TempPathFactory,
    stranger: str,
    words: str,
    to: str,
    thread: bool,
    claims: str,
) -> None:
    folder = tmp_path_factory.mktemp("trust")
    db = open_db(folder / "contacts.db")
    try:
        world = sent_campaign(db)
        target = world.mails[AWP]
        before = facts(db)
        address = {
            "reply": target.reply_to,
            "unsubscribe": target.unsubscribe,
            "sign": target.reply_to.replace("+", "+sign-"),
            "plain": SENDER,
        }[to]
        domain = stranger.rpartition("@")[2]
        claim = {
            "": "",
            # the stranger's own domain really passes at our server: it proves the stranger
            "ours-pass": f"Authentication-Results: {OURS}; dmarc=pass header.from={domain}",
            # a header the stranger wrote, claiming the organization's domain
            "theirs-pass": "Authentication-Results: mx.awp.example.org; dmarc=pass"
            " header.from=awp.example.org",
        }[claims]
        settings = load_settings(cwd=folder, env={"MAILER_INBOX_AUTHSERV_ID": OURS})
        ingester = Ingester(db, settings)
        messages = [
            reply_mail(
                stranger,
                address,
                words,
                in_reply_to=target.message_id if thread else None,
                extra=claim,
            ),
            dsn_naming(POS),
        ]
        ingester.store([RawMessage(m, f"m{n}") for n, m in enumerate(messages)])
        assert facts(db) == before
    finally:
        db.close()
