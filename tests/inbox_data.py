"""Test data for the replies tests: a sent campaign written straight into SQL,
and fictional replies, bounces and auto-replies that refer to its messages.

Kept independent of the sending code on purpose: the inbox must work on any
database holding ``message`` rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from sqlite_utils import Database

from mailer.tokens import message_id, new_token, reply_address, unsubscribe_address

SENDER = "intl@party.example.org"
# The first address of each organization in sent_campaign().
AWP = "intl@awp.example.org"
RPB = "medjunarodno@rpb.example.org"
POS = "internacional@pos.example.org"
NOW = "2025-03-01T10:00:00+00:00"


@dataclass(frozen=True)
class SentMail:
    id: int
    org_id: int
    address_id: int
    email: str
    token: str
    message_id: str

    @property
    def reply_to(self) -> str:
        return reply_address(SENDER, self.token)

    @property
    def unsubscribe(self) -> str:
        return unsubscribe_address(SENDER, self.token)


def add_org(
    db: Database, name: str, emails: list[str], languages: list[str]
) -> tuple[int, list[int]]:
    org_id = (
        db["organization"]
        .insert(
            {
                "name": name,
                "short_name": name.split()[0],
                "languages": json.dumps(languages),
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        .last_pk
    )
    ids = [
        db["address"]
        .insert({"email": e, "org_id": org_id, "created_at": NOW, "updated_at": NOW})
        .last_pk
        for e in emails
    ]
    return org_id, ids


def add_campaign(
    db: Database, slug: str, *, kind: str = "signon", languages: tuple[str, ...] = ("en",)
) -> int:
    return (
        db["campaign"]
        .insert(
            {
                "slug": slug,
                "title": slug.replace("-", " ").title(),
                "kind": kind,
                "statement_dir": f"templates/{slug}",
                "default_language": languages[0],
                "languages": json.dumps(list(languages)),
                "sender": SENDER,
                "status": "sent",
                "created_at": NOW,
            }
        )
        .last_pk
    )


def send(
    db: Database,
    campaign_id: int,
    slug: str,
    org_id: int,
    address_id: int,
    *,
    wave: int = 0,
    sent_at: str = NOW,
) -> SentMail:
    """A message row in state 'sent', as the sending code leaves it."""
    email = db["address"].get(address_id)["email"]
    token = new_token()
    mid = message_id(token, slug, SENDER)
    row_id = (
        db["message"]
        .insert(
            {
                "campaign_id": campaign_id,
                "wave": wave,
                "org_id": org_id,
                "address_id": address_id,
                "email": email,
                "language": "en",
                "message_id": mid,
                "token": token,
                "state": "sent",
                "attempts": 1,
                "queued_at": sent_at,
                "sent_at": sent_at,
                "updated_at": sent_at,
            }
        )
        .last_pk
    )
    return SentMail(row_id, org_id, address_id, email, token, mid)


@dataclass(frozen=True)
class World:
    campaign_id: int
    slug: str
    orgs: dict[str, int]
    mails: dict[str, SentMail]  # by recipient email


def sent_campaign(db: Database, slug: str = "peace-2025", *, kind: str = "signon") -> World:
    """Three organizations, one campaign sent to each of their addresses."""
    campaign_id = add_campaign(db, slug, kind=kind, languages=("en", "sr-Latn"))
    orgs, mails = {}, {}
    for name, emails, langs in [
        ("Atlantis Workers Party", [AWP, "press@awp.example.org"], ["en"]),
        ("Radnička partija Brega", [RPB], ["sr-Latn", "en"]),
        ("Partido Obrero del Sur", [POS], ["es"]),
    ]:
        org_id, address_ids = add_org(db, name, emails, langs)
        orgs[name.split()[0]] = org_id
        for address_id, email in zip(address_ids, emails, strict=True):
            mails[email] = send(db, campaign_id, slug, org_id, address_id)
    return World(campaign_id, slug, orgs, mails)


# ---------------------------------------------------------------- messages


def _date() -> str:
    return format_datetime(datetime(2025, 3, 2, 9, 30, tzinfo=UTC))


def reply_mail(
    frm: str,
    to: str,
    body: str,
    *,
    subject: str = "Re: Joint statement",
    in_reply_to: str | None = None,
    msgid: str | None = None,
    extra: str = "",
) -> bytes:
    headers = [
        f"From: {frm}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {_date()}",
        f"Message-ID: {msgid or '<' + new_token() + '@mail.example.net>'}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if extra:
        headers.append(extra.strip())
    return ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


def with_attachment(frm: str, to: str, body: str, filename: str, data: bytes) -> bytes:
    import base64

    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return (
        f"From: {frm}\r\nTo: {to}\r\nSubject: Photos of our action\r\nDate: {_date()}\r\n"
        f"Message-ID: <{new_token()}@mail.example.net>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
        f'--b1\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename="{filename}"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64}--b1--\r\n"
    ).encode()


def bounce_mail(mail: SentMail, *, hard: bool = True) -> bytes:
    """An RFC 3464 delivery report carrying the headers of our message."""
    status, action = ("5.1.1", "failed") if hard else ("4.2.2", "delayed")
    diagnostic = "550 5.1.1 user unknown" if hard else "452 4.2.2 mailbox full, will retry"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        f"To: {SENDER}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {_date()}\r\n"
        f"Message-ID: <{new_token()}@mx.example.net>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r1"\r\n\r\n'
        "--r1\r\nContent-Type: text/plain\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {mail.email}.\r\n"
        "--r1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {mail.email}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "--r1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {SENDER}\r\nTo: {mail.email}\r\nMessage-ID: {mail.message_id}\r\n"
        "Subject: Joint statement\r\n"
        "--r1--\r\n"
    ).encode()


def auto_reply_mail(mail: SentMail) -> bytes:
    return reply_mail(
        mail.email,
        SENDER,
        "I am out of the office until Monday and will read your message when I return.",
        subject="Automatic reply: Joint statement",
        in_reply_to=mail.message_id,
        extra="Auto-Submitted: auto-replied",
    )


def mbox(*messages: bytes) -> bytes:
    """An mbox file (mboxrd-style ``>From`` quoting) holding ``messages``."""
    out = []
    for raw in messages:
        body = raw.replace(b"\r\n", b"\n")
        body = b"\n".join(
            b">" + line if line.startswith(b"From ") else line for line in body.split(b"\n")
        )
        out.append(b"From MAILER-DAEMON Sun Mar  2 09:30:00 2025\n" + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)
