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
        raise ConfigError(
            f"MAILER_NOW: expected an ISO 8601 date and time, got {fixed!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamp(when: datetime | None = None) -> str:
    """ISO 8601 UTC text with seconds, the form stored in the database."""
    return (when or now()).astimezone(UTC).isoformat(timespec="seconds")
