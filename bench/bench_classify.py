"""How well and how fast replies are classified.

    python3 bench/bench_classify.py [ROUNDS] [--dev] [-v]

Prints, for the development set of human replies (tests/data/replies_dev), held-out
sets 1 and 2 (tests/data/replies_holdout, replies_holdout2: tuned on since each was
first measured) and held-out set 3 (tests/data/replies_holdout3, the newest; not
with --dev, which is for tuning: its figure is honest only while nobody tunes on it;
-v lists the misses of the other three; its README records its blind figure),
precision and recall per class, the share read right per language and the recall of each class in
each language, classified as ingest does it (the
organization's language, its name, the statement's sign phrase); a reply counts as
"applied" for a class when the classifier says it with a confidence of at least
CONFIDENT. Then the same per class (bounce / auto-reply / human) on ../shared/corpus
when present, and the time per message.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.inbox.classify import CONFIDENT, classify  # noqa: E402
from mailer.inbox.parse import parse_message  # noqa: E402
from mailer.models import ReplyClass  # noqa: E402
from tests.reply_sets import BLIND, DEV, HOLDOUT, HOLDOUT2, LABELS, Scores, load_set, score  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
WRAPPER = (
    b"From: someone@example.net\nSubject: Re: hello\nContent-Type: text/plain; charset=utf-8\n\n"
)


def print_scores(title: str, scores: Scores, *, misses: bool = False) -> None:
    print(f"\n{title}: {scores.total} replies, {scores.accuracy():.1%} read right")
    print(f"  {'class':<9} {'n':>5} {'applied':>8} {'precision':>10} {'recall':>8}")
    for label in LABELS:
        print(
            f"  {label:<9} {scores.truth[label]:>5} {scores.predicted[label]:>8}"
            f" {scores.precision(label):>10.1%} {scores.recall(label):>8.1%}"
        )
    others = {k: v for k, v in scores.predicted.items() if k not in LABELS}
    if others:
        print(f"  also applied: {dict(others)}")
    print(f"  false sign-ons: {len(scores.false_signons)} {scores.false_signons or ''}")
    print("  per language (read right):")
    langs = sorted(scores.per_lang)
    for start in range(0, len(langs), 6):
        row = langs[start : start + 6]
        print("   " + "".join(f" {lang:>8} {scores.accuracy(lang):>6.1%}" for lang in row))
    print("  per language and class (right/replies):")
    print(f"    {'':<8}" + "".join(f" {label:>9}" for label in LABELS))
    for lang in langs:
        cells = [
            f"{scores.hits_lang[lang, label]}/{scores.truth_lang[lang, label]}"
            if scores.truth_lang[lang, label]
            else "-"
            for label in LABELS
        ]
        print(f"    {lang:<8}" + "".join(f" {cell:>9}" for cell in cells))
    if misses:
        for reply, result in scores.misses:
            print(f"  miss {reply.where}: {reply.label} → {result.cls} {result.confidence}")
            print(f"       {result.evidence}")


def corpus_figures() -> None:
    with (CORPUS / "LABELS.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    pairs: Counter[tuple[str, str]] = Counter()
    for row in rows:
        raw = (CORPUS / row["path"]).read_bytes()
        if "format=body_only" in row["expected_extra"]:
            raw = WRAPPER + raw
        result = classify(parse_message(raw))
        machine = result.cls in (ReplyClass.BOUNCE, ReplyClass.AUTO_REPLY)
        pairs[(row["label"], str(result.cls) if machine else "human")] += 1
        signed = result.cls == ReplyClass.SIGNON and result.confidence >= CONFIDENT
        if row["label"] == "human" and signed:
            print(f"  FALSE SIGN-ON {row['path']}")
    print(f"\n../shared/corpus: {len(rows)} messages")
    print(f"  {'class':<11} {'n':>5} {'precision':>10} {'recall':>8}")
    for label in ("bounce", "auto_reply", "human"):
        hits = pairs[(label, label)]
        actual = sum(n for (t, _), n in pairs.items() if t == label)
        predicted = sum(n for (_, p), n in pairs.items() if p == label)
        precision = hits / predicted if predicted else 1.0
        print(f"  {label:<11} {actual:>5} {precision:>10.1%} {hits / actual:>8.1%}")


def timing(rounds: int) -> None:
    fixtures = [p.read_bytes() for p in sorted((ROOT / "tests" / "data").rglob("*.eml"))]
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in fixtures:
            classify(parse_message(raw), languages=("en",))
    elapsed = time.perf_counter() - start
    count = len(fixtures) * rounds
    print(f"\ntime: {count} messages, {elapsed / count * 1000:.2f} ms each (parse and classify)")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    rounds = int(args[0]) if args else 20
    start = time.perf_counter()
    classify(parse_message(b"From: a@b.example\n\nhello\n"))
    print(f"phrase files compiled in {time.perf_counter() - start:.2f} s")
    # -v lists the misses of the sets tuned on; the blind set's are not for tuning.
    misses = "-v" in sys.argv
    print_scores("development set", score(load_set(DEV)), misses=misses)
    for title, folder, blind in (
        ("held-out set 1 (tuned on since its first measure)", HOLDOUT, False),
        ("held-out set 2 (tuned on since its first measure)", HOLDOUT2, False),
        (
            "held-out set 3 (blind at its first measure; its wrongly applied answers fixed since)",
            BLIND,
            True,
        ),
    ):
        if blind and "--dev" in sys.argv:
            print(f"\n{title}: not measured (--dev)")
        elif folder.is_dir() and any(folder.glob("*.toml")):
            print_scores(title, score(load_set(folder)), misses=misses and not blind)
        else:
            print(f"\n{title}: not present")
    if CORPUS.is_dir():
        corpus_figures()
    timing(rounds)


if __name__ == "__main__":
    main()
