"""E-mail addresses and one-line text as users type them, checked and normalised.

Pure (no database, no network): contacts, imports, the sender, the inbox and the
message builder all use these, so the address an organization was entered with is
the one looked up when its replies come in.
"""

from __future__ import annotations

import re

# Line breaks and other controls, and the bidi overrides that make a name display reversed.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def check_text(value: str, what: str) -> str:
    """Refuse control characters (CR, LF, NUL…) that could break headers or files."""
    if CONTROL.search(value):
        raise ValueError(f"{what} contains a control character (such as a line break)")
    return value.strip()


def email_key(text: str) -> str:
    """An address as typed, in the form it is stored in, to look it up: normalized
    like on entry when it is valid (Unicode form, case), else just lower-cased."""
    try:
        return normalize_email(text)
    except ValueError:
        return text.strip().lower()


def normalize_email(text: str, *, to_send: bool = False) -> str:
    """A validated, lower-cased address, no DNS. International domains are allowed;
    a non-ASCII part before the @ only when ``to_send`` is false (mailer does not speak
    SMTPUTF8, so it could never send to one: such an address is refused on entry)."""
    from email_validator import EmailNotValidError, validate_email

    check_text(text, "email")
    try:
        result = validate_email(
            text.strip(), check_deliverability=False, allow_smtputf8=not to_send
        )
    except EmailNotValidError as e:
        raise ValueError(f"email {text.strip()!r} is not valid: {e}") from None
    return str(result.normalized).lower()


_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>()\[\],;:\"\\@]+@[^\s\x00-\x1f\x7f<>()\[\],;:\"\\@]+")


def ascii_address(address: str) -> str:
    """An address fit for a header or an SMTP command line: IDNA domain, and no
    space, bracket, quote or control character; ValueError for anything else."""
    address = address.strip()
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"{address!r} is not a plain e-mail address")
    local, domain = address.rsplit("@", 1)
    if not local.isascii():
        raise ValueError(f"{address!r} has a non-ASCII local part, which needs SMTPUTF8")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise ValueError(f"{address!r} has an invalid domain") from None
    return f"{local}@{domain}"
