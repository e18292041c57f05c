"""Messages rendered per second: a 2-language statement (en, sr-Latn; sr-Cyrl by
transliteration) for 5,000 fictional organizations in a temporary database.

    python bench/bench_render.py [N]

Prints the one-off compile time and the per-recipient rate (language choice plus
the complete MIME bytes), the figure the send benchmark builds on.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from mailer.campaigns import audience, create_campaign
from mailer.clock import stamp
from mailer.config import load_settings
from mailer.db import open_db
from mailer.render import build_factory
from mailer.tokens import message_id, new_token

LANGUAGES = [["en"], ["sr-Latn", "en"], ["sr-Cyrl"], ["el", "en"], ["es"], ["ar", "fr"]]


def write_statement(folder: Path) -> Path:
    folder.mkdir()
    (folder / "statement.toml").write_text(
        'title = "Bench statement"\nkind = "signon"\ndefault_language = "en"\ndeadline = 2026-12-10\n'
    )
    paragraph = "We call on all governments to end the wars now under way and to negotiate. " * 4
    (folder / "en.md").write_text(
        "---\nsubject: 'Joint statement: sign by {{ campaign.deadline }}'\n---\n"
        f"We invite {{{{ org.name }}}} ({{{{ org.country_name }}}}) to sign.\n\n"
        f"## For peace\n\n{paragraph}\n\n- one point\n- another [point](https://example.org)\n"
    )
    (folder / "sr-Latn.md").write_text(
        "---\nsubject: 'Zajednička izjava: potpišite do {{ campaign.deadline }}'\n---\n"
        "Pozivamo {{ org.name }} ({{ org.country_name }}) da potpiše.\n\n## Za mir\n\n"
        + "Pozivamo sve vlade da okončaju ratove i da pregovaraju. Ljubav, njegovanje, džep. " * 4
        + "\n"
    )
    return folder


def fill(db, count: int) -> None:
    rng = random.Random(7)
    now = stamp()
    countries = ["RS", "GR", "ES", "EG", "GB", "FR", "DE", "BR"]
    db["organization"].insert_all(
        {
            "id": i,
            "name": f"Workers' Organization {i} of the {rng.choice(['Valley', 'Долина', 'Coast'])}",
            "short_name": f"WO{i}",
            "country": rng.choice(countries),
            "languages": json.dumps(rng.choice(LANGUAGES)),
            "tags": '["bench"]',
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, count + 1)
    )
    db["address"].insert_all(
        {"email": f"intl{i}@org{i}.example.org", "org_id": i, "created_at": now, "updated_at": now}
        for i in range(1, count + 1)
    )


def main(count: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = open_db(root / "contacts.db")
        fill(db, count)
        env = {"MAILER_SENDER_ADDRESS": "intl@party.example.org", "MAILER_SENDER_NAME": "Intl"}
        settings = load_settings(cwd=root, env=env)
        campaign = create_campaign(db, settings, "bench", write_statement(root / "bench"))
        recipients = audience(db, campaign)
        started = time.perf_counter()
        factory = build_factory(settings, campaign)
        compiled = time.perf_counter() - started
        jobs = [
            (r, factory.language_for(r.org), new_token()) for r in recipients
        ]  # tokens are made by the sender, not here
        started = time.perf_counter()
        size = 0
        for recipient, lang, token in jobs:
            raw = factory.build(
                recipient,
                lang=lang,
                token=token,
                message_id=message_id(token, "bench", env["MAILER_SENDER_ADDRESS"]),
            )
            size += len(raw)
        elapsed = time.perf_counter() - started
        print(f"compile once: {compiled * 1000:.0f} ms for {len(factory.languages)} languages")
        print(
            f"rendered {len(jobs)} messages in {elapsed:.2f} s: {len(jobs) / elapsed:,.0f} messages/s"
            f" ({elapsed / len(jobs) * 1e6:.0f} µs each, {size / len(jobs) / 1024:.1f} KiB average)"
        )
        db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
