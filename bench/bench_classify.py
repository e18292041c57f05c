"""Time parse_message + classify per message on our fixtures (and ../shared/corpus when present).

Usage: python3 bench/bench_classify.py [ROUNDS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mailer.inbox.classify import classify
from mailer.inbox.parse import parse_message

ROOT = Path(__file__).resolve().parent.parent


def _measure(label: str, messages: list[bytes], rounds: int) -> None:
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in messages:
            classify(parse_message(raw), languages=("en",))
    elapsed = time.perf_counter() - start
    count = len(messages) * rounds
    print(
        f"{label:<24} {count:>6} messages  {elapsed / count * 1000:.3f} ms each  {count / elapsed:,.0f}/s"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    fixtures = [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "replies").glob("*.eml"))]
    _measure("fixtures (replies)", fixtures, rounds)
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        files = [p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt", "")]
        _measure("shared corpus (bounces)", [p.read_bytes() for p in files], max(1, rounds // 10))


if __name__ == "__main__":
    main()
