"""Optional DKIM signing of outgoing messages (dkimpy), when ``[dkim]`` is set.

The unsubscribe headers are signed explicitly: mailbox providers only honour
one-click unsubscribe (RFC 8058) when ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` are covered by a valid signature. dkimpy is the
``dkim`` extra (``pip install 'mailer[dkim]'``): most departments send through a
provider that signs for them, and it brings a DNS resolver along.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

from mailer.config import Settings
from mailer.errors import ConfigError

# Signed when present. From is always signed (dkimpy insists).
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-language",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


class Signer:
    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.key = private_key

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front."""
        import dkim  # only when signing is configured: it pulls in a DNS resolver

        head = message.split(b"\r\n\r\n", 1)[0].lower()
        present = [
            h for h in SIGNED_HEADERS if head.startswith(h + b":") or b"\r\n" + h + b":" in head
        ]
        signature = dkim.sign(
            message, self.selector, self.domain, self.key, include_headers=present
        )
        return signature + message


def signer_from_settings(settings: Settings) -> Signer | None:
    """A Signer when [dkim] domain is set; a clear error when it is half set."""
    domain, selector, key_file = (
        settings["dkim.domain"],
        settings["dkim.selector"],
        settings["dkim.key_file"],
    )
    if not domain:
        return None
    if not selector or not key_file:
        raise ConfigError("[dkim] domain is set, so [dkim] selector and key_file are needed too")
    _dkimpy()
    path = settings.path("dkim.key_file")
    try:
        key = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"[dkim] key_file {path}: cannot be read ({e.strerror})") from None
    for name, value in (("domain", domain), ("selector", selector)):
        if not _DNS_NAME.fullmatch(value):
            raise ConfigError(
                f"[dkim] {name} {value!r}: expected a DNS name of letters, digits, '-' and '.'"
                + (" (an international domain in its xn-- form)" if name == "domain" else "")
            )
    _check_key(key, path)
    return Signer(domain, selector, key)


# Letters, digits and hyphens in dot-separated labels: what may stand in d= and s=.
_DNS_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def _dkimpy() -> ModuleType:
    """dkimpy, or the one error that says how to install it."""
    try:
        import dkim
    except ImportError:
        raise ConfigError(
            "[dkim] domain is set, but DKIM signing needs the dkimpy package, which is not installed",
            hint="Install mailer with its dkim extra: pip install 'mailer[dkim]'",
        ) from None
    return dkim


def _check_key(key: bytes, path: Path) -> None:
    """Parse the key now, so a bad one stops the run before anything is sent."""
    from dkim.crypto import UnparsableKeyError, parse_pem_private_key

    try:
        parse_pem_private_key(key)
    except (UnparsableKeyError, ValueError, IndexError):
        raise ConfigError(
            f"[dkim] key_file {path}: not an RSA private key in PEM form that DKIM can use",
            hint="Create one with: openssl genrsa -out dkim.pem 2048",
        ) from None
