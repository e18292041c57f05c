"""Tables as a person at a terminal sees them (rich) and as a pipe does."""

from __future__ import annotations

import sys

import pytest

from mailer.output import table


@pytest.mark.parametrize("terminal", [True, False])
def test_table_cells_are_shown_as_written(
    terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: terminal)
    monkeypatch.setenv("COLUMNS", "200")
    names = ["Workers [/b] Party", "[bold]Union[/bold] :smile:"]
    table(["name", "n"], [[names[0], 1], [names[1], None]], title="[red]Orgs")
    out = capsys.readouterr().out
    for text in (*names, "[red]Orgs"):
        assert text in out
