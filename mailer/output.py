"""Printing: tables, JSON documents and progress. No domain decisions here.

Tables go through rich when stdout is a terminal and fall back to plain
aligned columns otherwise, so pipes and tests see stable text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click


def print_json(data: Any) -> None:
    """One JSON document on stdout (non-ASCII kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    """A table for people: rich on a terminal, plain columns in a pipe."""
    rows = [[_cell(v) for v in row] for row in rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # Text, not str: rich would read "[/b]" in a name as its own markup.
        t = Table(*headers, title=Text(title) if title else None, show_lines=False)
        for row in rows:
            t.add_row(*(Text(cell) for cell in row))
        Console().print(t)
        return
    if title:
        click.echo(title)
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def moment(stamp: str | None) -> str:
    """A stored time (ISO 8601, UTC) as a table shows it: ``2026-03-02 09:05``."""
    return (stamp or "")[:16].replace("T", " ")


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)
