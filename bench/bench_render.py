"""Messages rendered per second: a 2-language statement (en, sr-Latn; sr-Cyrl by
transliteration) for 5,000 fictional organizations in a temporary database.

    python bench/bench_render.py [N]

Prints the one-off compile time and the per-recipient rate (language choice plus
the complete MIME bytes), the figure the send benchmark builds on: for the
statement alone, then with one 200 kB file attached (statement.toml
``attachments``), and how much slower a message with the file is to make.
Target: no more than 10 % slower (the file is encoded once, not per message).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from mailer.campaigns import audience, build_sample, create_campaign
from mailer.clock import stamp
from mailer.config import load_settings
from mailer.db import open_db
from mailer.render import build_factory
from mailer.tokens import message_id, new_token

LANGUAGES = [["en"], ["sr-Latn", "en"], ["sr-Cyrl"], ["el", "en"], ["es"], ["ar", "fr"]]


ATTACHMENT_KB = 200


def write_statement(folder: Path, attachment_kb: int = 0) -> Path:
    folder.mkdir()
    files = ""
    if attachment_kb:  # a PDF-sized file that does not compress: the worst case for base64
        (folder / "poster.pdf").write_bytes(os.urandom(attachment_kb * 1000))
        files = 'attachments = ["poster.pdf"]\n'
    (folder / "statement.toml").write_text(
        'title = "Bench statement"\nkind = "signon"\ndefault_language = "en"\ndeadline = 2026-12-10\n'
        + files
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


def prepare(settings, campaign, recipients) -> tuple[float, object, list]:
    """Compile seconds, the factory (each language compiled, its file encoded) and the
    jobs: recipient, language, token (tokens are made by the sender, not here)."""
    started = time.perf_counter()
    factory = build_factory(settings, campaign)
    for lang in factory.languages:
        build_sample(factory, lang)
    compiled = time.perf_counter() - started
    return compiled, factory, [(r, factory.language_for(r.org), new_token()) for r in recipients]


def one_pass(factory, jobs, sender: str) -> tuple[float, float]:
    """Seconds per message and average size of building every job's message once."""
    started = time.perf_counter()
    size = 0
    for recipient, lang, token in jobs:
        raw = factory.build(
            recipient, lang=lang, token=token, message_id=message_id(token, "bench", sender)
        )
        size += len(raw)
    return (time.perf_counter() - started) / len(jobs), size / len(jobs)


def main(count: int = 5000, repeat: int = 5) -> None:
    """The two cases take turns, ``repeat`` passes each, and the best pass counts: the
    machine is shared, others only ever slow a pass down, and taking turns spreads
    what warms up (caches, the allocator) over both."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = open_db(root / "contacts.db")
        fill(db, count)
        env = {"MAILER_SENDER_ADDRESS": "intl@party.example.org", "MAILER_SENDER_NAME": "Intl"}
        settings = load_settings(cwd=root, env=env)
        cases = {}
        for name, kb in (("bench", 0), ("bench-files", ATTACHMENT_KB)):
            campaign = create_campaign(db, settings, name, write_statement(root / name, kb))
            cases[kb] = prepare(settings, campaign, audience(db, campaign))
        best = {kb: (float("inf"), 0.0) for kb in cases}
        for _ in range(repeat):
            for kb, (_, factory, jobs) in cases.items():
                best[kb] = min(best[kb], one_pass(factory, jobs, env["MAILER_SENDER_ADDRESS"]))
        for kb, (compiled, _, jobs) in cases.items():
            each, size = best[kb]
            what = f"with one {kb} kB file" if kb else "statement alone"
            print(
                f"{what}: compile once {compiled * 1000:.0f} ms; {len(jobs)} messages,"
                f" {1 / each:,.0f} messages/s ({each * 1e6:.0f} µs each,"
                f" {size / 1024:.1f} KiB average)"
            )
        slower = best[ATTACHMENT_KB][0] / best[0][0] - 1
        print(f"a message with the file takes {100 * slower:+.1f} % time (target: at most +10 %)")
        db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
