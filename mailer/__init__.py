"""mailer: multilingual joint statements and calls to action, sent and tracked."""

__version__ = "0.1.0"
