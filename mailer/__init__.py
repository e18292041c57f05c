"""mailer: multilingual joint statements and calls to action, sent and tracked."""

__version__ = "0.1.0"


def main() -> None:
    """The ``mailer`` command and ``python -m mailer``.

    Kept here, in the one module Python loads before any other of mailer's, so that
    a Ctrl-C while the rest loads (a tenth of a second) exits 130 without a
    traceback, as one during a command does.
    """
    import sys

    try:
        from mailer.cli import main as run

        run()
    except KeyboardInterrupt:
        sys.exit(130)  # EXIT_INTERRUPTED; mailer.errors may not be loaded yet
