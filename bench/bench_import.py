"""How fast `org import` takes a 5,000-row CSV (and re-imports it unchanged).

    python3 bench/bench_import.py [ROWS]

Runs the real import into a fresh database in a temp folder and prints rows/s.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from mailer.db import open_db
from mailer.importing import import_orgs

COUNTRIES = ["GR", "RS", "ES", "FR", "DE", "RU", "EG", "AR", "BR", "IT", "GB", "US", "IN", "ZA"]
LANGS = ["el;en", "sr-Latn", "es", "fr", "de", "ru", "ar;en", "es", "pt", "it", "en", "en"]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "short_name", "country", "languages", "emails", "tags"])
        for i in range(rows):
            emails = f"intl{i}@org{i}.example.org" + (
                f";press{i}@org{i}.example.org" if i % 3 == 0 else ""
            )
            w.writerow(
                [
                    f"Fictional Organization {i}",
                    f"FO{i}",
                    COUNTRIES[i % len(COUNTRIES)],
                    LANGS[i % len(LANGS)],
                    emails,
                    "bench;europe" if i % 2 else "bench",
                ]
            )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orgs.csv"
        write_csv(path, rows)
        db = open_db(Path(tmp) / "c.db")
        for label in ("first import", "re-import (no change)"):
            start = time.perf_counter()
            result = import_orgs(db, path)
            took = time.perf_counter() - start
            print(
                f"{label:22} {rows} rows in {took:.2f} s = {rows / took:,.0f} rows/s "
                f"({result.created} created, {result.unchanged} unchanged)"
            )


if __name__ == "__main__":
    main()
