"""Every ``--json`` document has exactly the fields docs/reference.md documents: no
field the documentation lacks, none it promises missing, at every level (the
top, nested objects, each item of a list).

The shapes are read from docs/reference.md itself (tests/contract.py), the
documents are the real ones of the fixed campaign in tests/cli_story.py. A
field added to the code fails here until it is added to docs/reference.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import click
import pytest

from mailer.cli import cli
from tests.cli_story import STEPS, Output
from tests.contract import (
    MapOf,
    NotationError,
    Object,
    documented_shapes,
    problems,
)

SHAPES = documented_shapes()
# Documented, but not run by the story, and why.
NOT_IN_STORY = {
    "inbox fetch --json": "it needs an IMAP server; its document is inbox import's (one Summary)",
}


def _parts(command: str) -> tuple[list[str], list[str]]:
    """'org show ORG --json' → (['org', 'show'], ['--json']): the command's path and
    the options that ask for JSON; upper-case words stand for any argument."""
    words = command.split()
    path: list[str] = []
    while words and not words[0].startswith("-") and not words[0].isupper():
        path.append(words.pop(0))
    return path, [w for w in words if not w.isupper()]


def _documents(command: str, args: tuple[str, ...]) -> bool:
    """Whether ``mailer ARGS`` prints the document documented as ``command``."""
    path, options = _parts(command)
    if list(args[: len(path)]) != path:
        return False
    return any(list(args[i : i + len(options)]) == options for i in range(len(args)))


def _json_steps() -> list[str]:
    return [
        s.name
        for s in STEPS
        if "--json" in s.args
        or any(s.args[i : i + 2] == ("--format", "json") for i in range(len(s.args)))
    ]


@pytest.mark.parametrize("name", _json_steps())
def test_each_document_has_exactly_the_documented_fields(
    cli_story: dict[str, Output], name: str
) -> None:
    output = cli_story[name]
    assert output.exit_code == 0, output.stderr
    documented = [c for c in SHAPES if _documents(c, output.args)]
    assert len(documented) == 1, f"`mailer {' '.join(output.args)}` matches {documented}"
    found = problems(json.loads(output.stdout), SHAPES[documented[0]], SHAPES)
    assert not found, f"{documented[0]} differs from docs/reference.md:\n" + "\n".join(found)


def test_every_documented_document_is_checked(cli_story: dict[str, Output]) -> None:
    run = [o.args for o in cli_story.values() if o.exit_code == 0]
    for command in SHAPES:
        if command in NOT_IN_STORY:
            continue
        assert any(_documents(command, args) for args in run), (
            f"`mailer {command}` is documented but tests/cli_story.py never runs it"
        )


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _json_options(command: click.Command) -> list[list[str]]:
    """How a command is asked for JSON: --json, or --format json."""
    ways = []
    for param in command.params:
        if "--json" in getattr(param, "opts", []):
            ways.append(["--json"])
        if isinstance(param.type, click.Choice) and "json" in param.type.choices:
            ways.append([param.opts[-1], "json"])
    return ways


def test_every_command_that_prints_json_is_documented() -> None:
    for path, command in _commands(cli):
        for options in _json_options(command):
            args = (*path, *options)
            assert any(_documents(c, args) for c in SHAPES), (
                f"`mailer {' '.join(args)}` prints JSON that docs/reference.md does not document"
            )


# ---------------------------------------------------------------- the check itself can fail

SAMPLE = """
<!-- json-shapes: start -->

    mailer thing list --json      [{"id", "name", "tags": [..], "langs": {lang: N},
                                    "owner": {"email", "verified"} | null, "extra"?: [..],
                                    "unit": "hour" | "day"}]
                                  a note (with brackets [like these]) is not a shape
    mailer thing show ID --json   {as an item of thing list --json}

<!-- json-shapes: end -->
"""


def test_the_check_names_every_difference() -> None:
    shapes = documented_shapes(SAMPLE)
    good = {"id": 1, "name": "a", "tags": ["x"], "langs": {"en": 2}, "owner": None, "unit": "day"}
    assert problems([good], shapes["thing list --json"], shapes) == []
    assert problems({**good, "extra": []}, shapes["thing show ID --json"], shapes) == []
    bad = {
        "id": 1,
        "tags": "x",
        "langs": {"en": "two"},
        "owner": {"email": "a@b", "verified": True, "since": 3},
        "unit": "week",
        "new": 1,
    }
    assert problems([good, bad], shapes["thing list --json"], shapes) == [
        "[1]: field 'new' is not documented",
        "[1]: documented field 'name' is missing",
        "[1].tags: expected a list, got 'x'",
        "[1].langs.en: expected a number, got 'two'",
        "[1].owner: field 'since' is not documented",
        "[1].unit: expected one of ['day', 'hour'], got 'week'",
    ]
    assert problems(
        {"id": {"nested": 1}}, Object({"id": MapOf(Object({}, frozenset()))}, frozenset()), shapes
    ) == ["id.nested: expected an object, got 1"]


@pytest.mark.parametrize(
    "shape, why",
    [
        ('{"a" "b"}', "expected ',' or '}' after field 'a'"),
        ('{"a", "a"}', "field 'a' appears twice"),
        ('{"a": [..}', "expected ]"),
        ("{as other --json}", "refers to 'other --json', not documented"),
    ],
)
def test_a_shape_written_wrong_is_an_error(shape: str, why: str) -> None:
    text = f"<!-- json-shapes: start -->\n    mailer x --json  {shape}\n<!-- json-shapes: end -->"
    with pytest.raises(NotationError, match=why.replace("[", r"\[").replace("(", r"\(")):
        documented_shapes(text)
