"""How fast `inbox import` takes an mbox of fictional replies (target: ≥ 500 messages/s).

    python3 bench/bench_inbox.py [MESSAGES]

Builds a temp database with a campaign sent to 500 fictional organizations
(rows written straight in SQL, as the sender leaves them), writes an mbox of
sign-ons, declines, uncertain replies, auto-replies, DSN bounces and strangers'
mail referring to those messages, imports it with the real pipeline, then
imports it again (all duplicates), and prints messages/second for both.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from mailer.config import load_settings
from mailer.db import open_db
from mailer.inbox.ingest import import_paths
from mailer.tokens import message_id, new_token, reply_address

SENDER = "intl@party.example.org"
ORGS = 500
NOW = "2025-03-01T10:00:00+00:00"

SIGN = [
    "We sign the statement.",
    "Potpisujemo izjavu.",
    "Мы подписываем заявление.",
    "Firmamos la declaración.",
    "Nous signons la déclaration.",
]
DECLINE = ["Unfortunately we cannot sign this statement.", "Lamentablemente no podemos firmar."]
OTHER = ["Thank you, we will discuss it at our next meeting.", "Who wrote this text?"]


def seed(db, orgs: int) -> list[tuple[str, str, str]]:
    """A sent campaign: (email, token, Message-ID) of each message."""
    campaign = (
        db["campaign"]
        .insert(
            {
                "slug": "bench",
                "title": "Bench",
                "kind": "signon",
                "statement_dir": "templates/bench",
                "default_language": "en",
                "languages": '["en", "sr-Latn", "ru", "es", "fr"]',
                "created_at": NOW,
            }
        )
        .last_pk
    )
    sent = []
    for i in range(orgs):
        email = f"intl{i}@org{i}.example.org"
        org = (
            db["organization"]
            .insert(
                {
                    "name": f"Org {i}",
                    "languages": json.dumps(["en"]),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            .last_pk
        )
        address = (
            db["address"]
            .insert({"email": email, "org_id": org, "created_at": NOW, "updated_at": NOW})
            .last_pk
        )
        token = new_token()
        mid = message_id(token, "bench", SENDER)
        db["message"].insert(
            {
                "campaign_id": campaign,
                "org_id": org,
                "address_id": address,
                "email": email,
                "language": "en",
                "message_id": mid,
                "token": token,
                "state": "sent",
                "queued_at": NOW,
                "sent_at": NOW,
                "updated_at": NOW,
            }
        )
        sent.append((email, token, mid))
    return sent


def message(n: int, sent: tuple[str, str, str], rng: random.Random) -> str:
    email, token, mid = sent
    head = (
        f"Date: Sun, 02 Mar 2025 09:30:00 +0000\nMessage-ID: <r{n}.{new_token()}@mail.example.net>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
    )
    quote = "\n\nOn 1 March 2025 intl@party.example.org wrote:\n> Dear comrades,\n> please sign.\n"
    kind = rng.random()
    if kind < 0.35:
        body = rng.choice(SIGN)
        return f"From: {email}\nTo: {reply_address(SENDER, token)}\nSubject: Re: Statement\nIn-Reply-To: {mid}\n{head}\n{body}{quote}"
    if kind < 0.5:
        body = rng.choice(DECLINE)
        return f"From: {email}\nTo: {reply_address(SENDER, token)}\nSubject: Re: Statement\n{head}\n{body}{quote}"
    if kind < 0.6:
        return f"From: {email}\nTo: {SENDER}\nSubject: Re: Statement\n{head}\n{rng.choice(OTHER)}{quote}"
    if kind < 0.75:
        return (
            f"From: {email}\nTo: {SENDER}\nSubject: Out of office: Statement\nIn-Reply-To: {mid}\n"
            f"Auto-Submitted: auto-replied\n{head}\nI am out of the office until Monday.\n"
        )
    if kind < 0.9:
        status = "5.1.1" if rng.random() < 0.7 else "4.2.2"
        return (
            f"From: MAILER-DAEMON@mx.example.net\nTo: {SENDER}\nSubject: Undelivered Mail\n"
            f"Date: Sun, 02 Mar 2025 09:30:00 +0000\nMessage-ID: <b{n}.{new_token()}@mx.example.net>\n"
            'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
            f"--r\nContent-Type: text/plain\n\nYour message could not be delivered to {email}.\n"
            "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
            f"Final-Recipient: rfc822; {email}\nAction: failed\nStatus: {status}\n"
            f"Diagnostic-Code: smtp; 550 {status} no such user\n"
            f"--r\nContent-Type: text/rfc822-headers\n\nMessage-ID: {mid}\nTo: {email}\n--r--\n"
        )
    return f"From: stranger{n}@else.example.net\nTo: {SENDER}\nSubject: Hello\n{head}\nWe sign!\n"


def write_mbox(path: Path, sent: list[tuple[str, str, str]], count: int) -> None:
    rng = random.Random(5)
    with path.open("w", encoding="utf-8") as f:
        for n in range(count):
            f.write("From MAILER-DAEMON Sun Mar  2 09:30:00 2025\n")
            f.write(message(n, rng.choice(sent), rng).rstrip("\n") + "\n\n")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = open_db(root / "contacts.db")
        sent = seed(db, ORGS)
        path = root / "replies.mbox"
        write_mbox(path, sent, count)
        settings = load_settings(cwd=root, env={})
        for label in ("first import", "re-import"):
            start = time.perf_counter()
            summary = import_paths(db, settings, [path])
            took = time.perf_counter() - start
            print(
                f"{label}: {count} messages in {took:.2f} s = {count / took:.0f} messages/s"
                f" (new {summary.new}, duplicates {summary.duplicates}, matched {summary.matched},"
                f" classes {dict(summary.classes)})"
            )


if __name__ == "__main__":
    main()
