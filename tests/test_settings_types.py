"""Typed settings reads: mypy knows the type of each ``settings["section.key"]``
(from KEYS, through the generated mailer/settings_types.py) and refuses a key
that KEYS does not declare."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from mailer.config import KEYS

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = """\
from mailer.config import Settings


def read(settings: Settings) -> None:
    reveal_type(settings["smtp.grace"])
    reveal_type(settings["names.countries"])
    settings["smtp.grce"]
    settings["smtp.rate"] + 1
    settings.path("db.pth")
"""


def test_mypy_refuses_a_misspelt_key_and_a_wrong_use_of_a_value(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    pytest.importorskip("mypy", reason="mypy is a dev dependency: pip install -e '.[dev]'")
    (tmp_path / "reads.py").write_text(SNIPPET, encoding="utf-8")
    kept = getattr(pytestconfig, "cache", None)  # none under -p no:cacheprovider
    cache = kept.mkdir("mypy") if kept else tmp_path / "mypy"  # kept: a second run takes 0.5 s
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "reads.py", "--config-file", ROOT / "pyproject.toml"),
            *("--cache-dir", cache, "--follow-imports", "silent", "--no-error-summary"),
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "MYPYPATH": str(ROOT),
        },  # this checkout's mailer, as `mypy mailer` sees it
        capture_output=True,
        text=True,
    )
    # Each failed overload match also lists every key's variant: that list is not the point.
    said = [
        line
        for line in result.stdout.splitlines()
        if "Possible overload variants" not in line and "def __getitem__" not in line
    ]
    no_such_key = 'No overload variant of "__getitem__" of "TypedSettings" matches argument type'
    every_key = f"Literal[{', '.join(map(repr, KEYS))}]"
    assert said == [
        'reads.py:5: note: Revealed type is "float"',
        'reads.py:6: note: Revealed type is "dict[str, dict[str, str]]"',
        f'reads.py:7: error: {no_such_key} "str"  [call-overload]',
        'reads.py:8: error: Unsupported operand types for + ("str" and "int")  [operator]',
        'reads.py:9: error: Argument 1 to "path" of "Settings" has incompatible type'
        f' "Literal[\'db.pth\']"; expected "{every_key}"  [arg-type]',
    ], result.stdout + result.stderr
    assert result.returncode == 1


@pytest.mark.parametrize("key", list(KEYS))
def test_a_default_has_the_type_its_parser_returns(key: str) -> None:
    """The generated types are what the parser returns; a default is stored as written,
    so it must already be what the parser would make of it (5.0, not 5)."""
    parse, default = KEYS[key].parse, KEYS[key].default
    returns = typing.get_type_hints(parse)["return"]
    assert isinstance(default, typing.get_origin(returns) or returns)
    assert parse(default) == default
