"""The project's exceptions and exit codes.

The core raises these; only the CLI turns them into messages. ``str(error)`` is
one sentence naming what went wrong and where; ``hint`` is the next thing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_ERROR = 1  # 0 = done
EXIT_USAGE = 2  # the command line itself is wrong (Click's own, and UsageError)
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class MailerError(Exception):
    """A user-facing error: bad input, bad config, missing thing."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class UsageError(MailerError):
    """The command line names something that cannot be (exit 2, as Click's own)."""


class ConfigError(MailerError):
    """A configuration value is missing, malformed or unknown."""


class NotFound(MailerError):
    """Nothing matches what the user named."""


class Ambiguous(MailerError):
    """Several things match what the user named; the message lists them."""


class Locked(MailerError):
    """Another run holds the lock on this campaign."""


class Blocked(MailerError):
    """What `mailer check` reports as blocking stops a send before any message."""


class TemplateError(MailerError):
    """A statement or layout template cannot be loaded or rendered."""


class TransportError(MailerError):
    """The mail server cannot be reached or refuses us at the start."""


@dataclass(frozen=True)
class Problem:
    """One problem in one place, e.g. ``where="orgs.csv:14"``."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class ValidationError(MailerError):
    """Input with one or more problems; nothing was written."""

    def __init__(self, message: str, problems: list[Problem], *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = problems
