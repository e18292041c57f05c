"""How fast `signon import` reads and matches a published list.

    python3 bench/bench_signon.py [ORGS] [ENTRIES]

Fills a fresh database with ORGS organizations (2,000) whose names look like
parties' names in several languages, with namesakes in other countries, then
times parsing a list of ENTRIES lines (300, a third with a typing slip) and
matching it, once cold (the
country names of every language loaded) and once warm.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from mailer.contacts import OrgInput, create_org
from mailer.db import open_db
from mailer.lang import country_name
from mailer.signon import parse_list, plan_import

KINDS = ["Communist Party", "Workers' Party", "Socialist Union", "Partido Comunista",
         "Parti des Travailleurs", "Radnička partija", "Рабочая партия", "Front populaire"]  # fmt: skip
PLACES = ["of the Valley", "of the Coast", "del Norte", "Severnog Brega", "(Marxist-Leninist)",
          "of the Islands", "du Littoral", "Северной Равнины", ""]  # fmt: skip
COUNTRIES = ["GR", "RS", "ES", "FR", "DE", "RU", "EG", "AR", "BR", "IT", "GB", "MK", "SI", "CH"]


def main() -> None:
    orgs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "c.db")
        names = []
        with db.atomic():
            for i in range(orgs):
                name = f"{rng.choice(KINDS)} {rng.choice(PLACES)} {i}".replace("  ", " ")
                country = rng.choice(COUNTRIES)
                create_org(db, OrgInput.clean(name=name, short_name=f"P{i}", country=country))
                names.append((name, country))
        lines = ["Signing Organizations", ""]
        for n, (name, country) in enumerate(rng.sample(names, entries), start=1):
            lines.append(
                f"{n}. {name}, {country_name(country, rng.choice(['en', 'es', 'sr-Latn']))}"
            )
        text = "\n".join(lines)
        for label in ("cold", "warm"):
            start = time.perf_counter()
            plan = plan_import(db, parse_list(text).entries)
            took = time.perf_counter() - start
            matched = sum(m.status == "matched" for m in plan)
            print(
                f"{label}: {entries} entries against {orgs} organizations in {took:.2f} s "
                f"({took / entries * 1000:.1f} ms each; {matched} matched)"
            )


if __name__ == "__main__":
    main()
