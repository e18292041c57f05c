"""The held-out reply sets (tests/data/replies_holdout, replies_holdout2, replies_holdout3)
stay well-formed, big enough and apart from each other.

Each set measures the reply classifier on replies nobody tuned it on, so a broken
entry must fail here rather than silently drop out of the measurement, and a reply
copied between sets would turn a held-out figure into a tuned one. See each set's
README.md for the format and what each label means.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailer.lang import normalize_language

DATA = Path(__file__).resolve().parent / "data"
# Each held-out set with the least it must hold: (languages, replies).
SETS = {"replies_holdout": (16, 220), "replies_holdout2": (18, 260), "replies_holdout3": (20, 300)}
# The sets written blind to the rules, each checked against every other labelled set.
BLIND = ("replies_holdout2", "replies_holdout3")
FILES = [path for name in SETS for path in sorted((DATA / name).glob("*.toml"))]
IDS = [f"{path.parent.name}/{path.stem}" for path in FILES]
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


def _texts(folder: Path) -> dict[str, str]:
    """Every reply text of a set, whitespace-normalised, mapped to file#entry."""
    texts = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as f:
            entries = tomllib.load(f).get("reply", [])
        for number, entry in enumerate(entries, start=1):
            texts[" ".join(str(entry.get("text", "")).split())] = f"{path.name}#{number}"
    return texts


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_entry_is_well_formed(path: Path) -> None:
    assert normalize_language(path.stem) == path.stem, f"{path.name}: not a canonical BCP 47 tag"
    bad = {
        f"{path.name} reply #{n}": problems
        for n, entry in enumerate(_replies(path), start=1)
        if (problems := _problems(entry))
    }
    assert bad == {}


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_language_has_every_label(path: Path) -> None:
    labels = {str(entry.get("label")) for entry in _replies(path)}
    assert labels >= LABELS, f"{path.name}: missing {sorted(LABELS - labels)}"


@pytest.mark.parametrize(("name", "least"), SETS.items(), ids=list(SETS))
def test_the_set_is_big_enough(name: str, least: tuple[int, int]) -> None:
    files = sorted((DATA / name).glob("*.toml"))
    total = sum(len(_replies(path)) for path in files)
    languages, replies = least
    assert len(files) >= languages, f"{name}: {len(files)} languages, want at least {languages}"
    assert total >= replies, f"{name}: {total} replies, want at least {replies}"


@pytest.mark.parametrize("name", BLIND)
def test_a_blind_set_copies_no_reply_of_the_others(name: str) -> None:
    own = _texts(DATA / name)
    others: dict[str, str] = {}
    for other in ("replies_dev", *SETS):
        if other != name:
            others |= _texts(DATA / other)
    assert {where: others[text] for text, where in own.items() if text in others} == {}


@pytest.mark.parametrize("name", BLIND)
def test_a_blind_set_holds_no_reply_twice(name: str) -> None:
    files = sorted((DATA / name).glob("*.toml"))
    total = sum(len(_replies(path)) for path in files)
    assert len(_texts(DATA / name)) == total, f"{name}: a reply text appears twice"


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
