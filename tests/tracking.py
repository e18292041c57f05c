"""Builders for tracking tests: organizations, a campaign, messages, replies
and answers written straight into a real database, as the sending and
replies code would leave them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from mailer import responses
from mailer.contacts import OrgInput, create_org
from mailer.tokens import message_id, new_token

SENDER = "intl@party.example.org"
DAY1 = "2026-03-01T09:00:00+00:00"


def write_statement(folder: Path) -> Path:
    """A small two-language statement folder, as DESIGN §5 describes it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "statement.toml").write_text(
        'title = "Peace now"\nkind = "signon"\ndefault_language = "en"\n', encoding="utf-8"
    )
    (folder / "en.md").write_text(
        "---\nsubject: Joint statement for peace\n---\nDear {{ org.name }},\n\n"
        "We **condemn** the war.\n",
        encoding="utf-8",
    )
    (folder / "sr-Latn.md").write_text(
        "---\nsubject: Zajednička izjava za mir\n---\nDragi {{ org.name }},\n\nOsuđujemo rat.\n",
        encoding="utf-8",
    )
    return folder


class World:
    """One campaign and the organizations around it."""

    def __init__(
        self, db: Database, statement_dir: Path, campaign: dict[str, Any] | None = None
    ) -> None:
        self.db = db
        if campaign is not None:
            self.campaign = campaign
            return
        db.execute(
            "INSERT INTO campaign (slug, title, kind, statement_dir, default_language,"
            " languages, audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                "peace",
                "Peace now",
                "signon",
                str(statement_dir),
                "en",
                '["en", "sr-Latn"]',
                "{}",
                DAY1,
            ],
        )
        self.campaign = dict(next(iter(db.query("SELECT * FROM campaign WHERE slug = 'peace'"))))

    def org(self, name: str, country: str = "GR", emails: int = 1, **extra: Any) -> int:
        slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:20] or "org"
        data = OrgInput.clean(
            name=name,
            country=country,
            emails=[f"{slug}{i}@{slug}.example.org" for i in range(emails)],
            **extra,
        )
        return create_org(self.db, data)

    def addresses(self, org_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM address WHERE org_id = ? ORDER BY id", [org_id]))

    def send(
        self, org_id: int, *, wave: int = 0, state: str = "sent", at: str = DAY1, test: bool = False
    ) -> list[int]:
        """One message per active address of the organization."""
        ids = []
        for a in self.addresses(org_id):
            token = new_token()
            ids.append(
                self.db["message"]
                .insert(
                    {
                        "campaign_id": self.campaign["id"],
                        "wave": wave,
                        "org_id": org_id,
                        "address_id": a["id"],
                        "email": a["email"],
                        "language": "en",
                        "message_id": message_id(token, "peace", SENDER),
                        "token": token,
                        "state": state,
                        "attempts": 1,
                        "is_test": int(test),
                        "queued_at": at,
                        "claimed_at": at,
                        "sent_at": at if state == "sent" else None,
                        "updated_at": at,
                    }
                )
                .last_pk
            )
        return ids

    def reply(self, org_id: int, cls: str, *, message: int | None = None, at: str = DAY1) -> int:
        raw = f"{org_id}{cls}{message}{at}{new_token()}".encode()
        return int(
            self.db["reply"]
            .insert(
                {
                    "content_hash": hashlib.sha256(raw).hexdigest(),
                    "raw": raw,
                    "received_at": at,
                    "campaign_id": self.campaign["id"],
                    "org_id": org_id,
                    "message_ref": message,
                    "class": cls,
                    "confidence": 0.9,
                    "imported_at": at,
                }
            )
            .last_pk
        )

    def answer(self, org_id: int, kind: str = "signed", **kw: Any) -> None:
        responses.record(self.db, self.campaign["id"], org_id, kind, source="manual", **kw)

    def bounce_all(self, org_id: int) -> None:
        self.db.execute("UPDATE address SET status = 'bounced' WHERE org_id = ?", [org_id])

    def names(self, org_id: int, **names: str) -> None:
        self.db["organization"].update(org_id, {"names": json.dumps(names, ensure_ascii=False)})
