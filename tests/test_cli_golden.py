"""Golden whole-output tests: the main commands' complete stdout, stderr and exit
code, text and ``--json``, on one fixed campaign (tests/cli_story.py), compared
with the files in tests/golden/cli/ (one per step, named after it).

After a change of output on purpose, regenerate every golden file (these and the
e-mail goldens of tests/test_render.py) with one command:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_cli_golden.py tests/test_render.py

then read ``git diff tests/golden`` as a user would before committing it: the
diff is the change users will see.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import pytest

from mailer.tokens import tokens_in_addresses, tokens_in_message_ids
from tests.cli_story import STEPS, Output

GOLDEN = Path(__file__).resolve().parent / "golden" / "cli"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


@pytest.mark.parametrize("name", [step.name for step in STEPS])
def test_whole_output(cli_story: dict[str, Output], name: str) -> None:
    text = cli_story[name].transcript()
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path.name} is missing: regenerate with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: if the change is meant, UPDATE_GOLDEN=1 rewrites it"
    )


def test_every_golden_file_belongs_to_a_step() -> None:
    """A step renamed or removed must not leave its old output behind, looking tested."""
    names = {f"{step.name}.txt" for step in STEPS}
    stale = sorted(p.name for p in GOLDEN.glob("*.txt") if p.name not in names)
    if UPDATE:
        for name in stale:
            (GOLDEN / name).unlink()
        stale = []
    assert not stale, f"golden files no step writes: {stale}"
    assert len(names) == len(STEPS), "two steps have the same name"


def test_outputs_are_deterministic(cli_story: dict[str, Output]) -> None:
    """What would make the golden files differ between machines or runs: the temporary
    folder, the machine's home, today's date, random reply tokens."""
    today = date.today().isoformat()
    for name, output in cli_story.items():
        text = output.transcript()
        assert tempfile.gettempdir() not in text and str(Path.home()) not in text, name
        assert today not in text or today.startswith("2026-03"), name
        found = tokens_in_message_ids(text) + [t for t, _ in tokens_in_addresses(text)]
        assert all(t.startswith("fixed") for t in found), (name, found)
        assert "Traceback" not in text and "internal error" not in text, name
