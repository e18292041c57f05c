"""Accuracy on ../shared/corpus (real bounces, auto-replies and replies from public test suites).

Prints the per-class precision/recall table (pytest -s) and asserts the targets of
issue 5: bounce recall ≥ 97 %, failed recipient right ≥ 90 %, auto-reply recall ≥ 90 %,
no human reply recorded as a confident sign-on.
"""

from __future__ import annotations

import csv
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from mailer.inbox.classify import CONFIDENT, Classification, classify
from mailer.inbox.parse import ParsedMessage, decode_header_value, parse_message
from mailer.models import ReplyClass

WRAPPER = (
    b"From: someone@example.net\nSubject: Re: hello\nContent-Type: text/plain; charset=utf-8\n\n"
)


def _extra(field: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in field.split(";") if "=" in item)


@pytest.fixture
def results(shared_corpus: Path) -> list[tuple[dict, dict, ParsedMessage, Classification]]:
    return _evaluate(shared_corpus)


@cache  # both tests use the same run over the corpus
def _evaluate(shared_corpus: Path) -> list[tuple[dict, dict, ParsedMessage, Classification]]:
    with (shared_corpus / "LABELS.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for row in rows:
        extra = _extra(row["expected_extra"])
        raw = (shared_corpus / row["path"]).read_bytes()
        if extra.get("format") == "body_only":
            raw = WRAPPER + raw
        msg = parse_message(raw)
        out.append((row, extra, msg, classify(msg)))
    return out


def _group(result: Classification) -> str:
    return result.cls if result.cls in (ReplyClass.BOUNCE, ReplyClass.AUTO_REPLY) else "human"


def _recipient_right(expected: str, got: list[str]) -> bool:
    """Sources state recipients oddly (source routes, encoded words, pipes): compare sensibly."""
    for item in expected.split(","):
        want = decode_header_value(item).strip().lower()
        if want in got or any(g in want for g in got):
            return True
        local = want.rsplit(":", 1)[-1].split("@")[0]
        if local and any(g.split("@")[0] == local for g in got):
            return True
    return False


def test_corpus_accuracy(results) -> None:
    truth_pred = Counter((row["label"], _group(c)) for row, _, _, c in results)
    labels = ("bounce", "auto_reply", "human")
    print("\nclass       n    precision  recall")
    scores = {}
    for label in labels:
        tp = truth_pred[(label, label)]
        actual = sum(v for (t, _), v in truth_pred.items() if t == label)
        predicted = sum(v for (_, p), v in truth_pred.items() if p == label)
        scores[label] = (tp / predicted if predicted else 1.0, tp / actual if actual else 1.0)
        print(f"{label:<10} {actual:>4}   {scores[label][0]:>7.1%}  {scores[label][1]:>7.1%}")
    checked = right = 0
    for row, extra, _, c in results:
        expected = extra.get("recipients") or extra.get("dsn_final_recipient")
        if row["label"] == "bounce" and c.bounce and expected:
            checked += 1
            right += _recipient_right(expected, c.bounce.recipients)
    print(f"failed recipient right: {right}/{checked} = {right / checked:.1%}")
    assert scores["bounce"][1] >= 0.97
    assert scores["auto_reply"][1] >= 0.90
    assert right / checked >= 0.90
    false_signons = [
        row["path"]
        for row, _, _, c in results
        if c.cls == ReplyClass.SIGNON and c.confidence >= CONFIDENT
    ]
    assert false_signons == []


def test_new_text_extraction(results, shared_corpus: Path) -> None:
    """The reply_file= samples: share of replies whose new text is extracted exactly."""
    compared = [(extra, msg) for _, extra, msg, _ in results if "reply_file" in extra]
    right = [
        e["reply_file"]
        for e, msg in compared
        if msg.new_text.strip() == (shared_corpus / e["reply_file"]).read_text("utf-8").strip()
    ]
    print(f"\nnew text exact: {len(right)}/{len(compared)} = {len(right) / len(compared):.1%}")
    assert len(right) / len(compared) >= 0.85
