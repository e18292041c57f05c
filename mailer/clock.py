"""The one clock of the program.

Tests and demos fix it with ``MAILER_NOW`` (ISO 8601) so deadlines, reminder
ages and daily caps are reproducible.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from mailer.errors import ConfigError


def now() -> datetime:
    """Current time, timezone-aware UTC, honouring ``MAILER_NOW``."""
    fixed = os.environ.get("MAILER_NOW")
    if not fixed:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(fixed)
    except ValueError:
        value = None
    # Years far from now would overflow date arithmetic (deadlines, reminder ages).
    if value is None or not 1900 <= value.year <= 9000:
        raise ConfigError(
            f"MAILER_NOW: expected an ISO 8601 date and time between the years 1900 and 9000,"
            f" got {fixed!r}"
        )
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamp(when: datetime | None = None) -> str:
    """ISO 8601 UTC text with seconds, the form stored in the database."""
    return (when or now()).astimezone(UTC).isoformat(timespec="seconds")
