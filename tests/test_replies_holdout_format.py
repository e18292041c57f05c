"""The held-out reply set (tests/data/replies_holdout) stays well-formed and big enough.

The set measures the reply classifier on replies nobody tuned it on, so a broken
entry must fail here rather than silently drop out of the measurement. See the
set's README.md for the format and what each label means.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailer.lang import normalize_language

HOLDOUT = Path(__file__).resolve().parent / "data" / "replies_holdout"
FILES = sorted(HOLDOUT.glob("*.toml"))
LABELS = {"signon", "decline", "acted", "other"}
KINDS = {"signon", "call"}
REQUIRED = {"label", "kind", "text"}
OPTIONAL = {"org", "subject", "note"}


def _replies(path: Path) -> list[dict[str, object]]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    assert set(data) == {"reply"}, (
        f"{path.name}: only [[reply]] tables belong here, got {sorted(data)}"
    )
    replies = data["reply"]
    assert isinstance(replies, list)
    return replies


def _problems(entry: dict[str, object]) -> list[str]:
    """What is wrong with one [[reply]] entry (empty when it is well-formed)."""
    problems = [f"missing {key}" for key in sorted(REQUIRED - set(entry))]
    problems += [f"unknown key {key}" for key in sorted(set(entry) - REQUIRED - OPTIONAL)]
    problems += [
        f"{key} must be a non-empty string"
        for key in sorted(set(entry) & (REQUIRED | OPTIONAL))
        if not isinstance(entry[key], str) or not str(entry[key]).strip()
    ]
    if entry.get("label") not in LABELS:
        problems.append(f"label {entry.get('label')!r} is not one of {sorted(LABELS)}")
    if entry.get("kind") not in KINDS:
        problems.append(f"kind {entry.get('kind')!r} is not one of {sorted(KINDS)}")
    if entry.get("label") == "acted" and entry.get("kind") != "call":
        problems.append("label acted needs kind call (only calls to action report actions)")
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_entry_is_well_formed(path: Path) -> None:
    assert normalize_language(path.stem) == path.stem, f"{path.name}: not a canonical BCP 47 tag"
    bad = {
        f"{path.name} reply #{n}": problems
        for n, entry in enumerate(_replies(path), start=1)
        if (problems := _problems(entry))
    }
    assert bad == {}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_language_has_every_label(path: Path) -> None:
    labels = {str(entry.get("label")) for entry in _replies(path)}
    assert labels >= LABELS, f"{path.name}: missing {sorted(LABELS - labels)}"


def test_the_set_is_big_enough() -> None:
    total = sum(len(_replies(path)) for path in FILES)
    assert len(FILES) >= 16, f"{len(FILES)} languages, want at least 16"
    assert total >= 220, f"{total} replies, want at least 220"


def test_the_checks_catch_bad_entries() -> None:
    assert _problems({"label": "signon", "kind": "signon", "text": "Potpisujemo."}) == []
    assert _problems({"label": "acted", "kind": "signon", "text": "Photos attached.", "x": 1}) == [
        "unknown key x",
        "label acted needs kind call (only calls to action report actions)",
    ]
    assert _problems({"label": "signed", "kind": "call", "text": "  "}) == [
        "text must be a non-empty string",
        "label 'signed' is not one of ['acted', 'decline', 'other', 'signon']",
    ]
