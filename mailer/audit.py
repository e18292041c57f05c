"""Which command made a change: the name the event log records with it.

Kept apart from mailer.db so that the CLI can name its command without
importing the database layer (and sqlite-utils) before it is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_command: list[str] = []


def current_command() -> str | None:
    return _command[-1] if _command else None


@contextmanager
def command_context(name: str) -> Iterator[None]:
    """Name the command whose changes the event log records."""
    _command.append(name)
    try:
        yield
    finally:
        _command.pop()
