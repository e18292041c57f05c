"""Settings: ``mailer.toml`` (found like git finds its folder), ``MAILER_*``
environment variables and command-line options, in that rising order.

Every key is declared once in ``KEYS`` with its parser, default and help; the
same table drives validation, ``mailer init``'s commented file, the docs and the
type of each ``settings["section.key"]`` read (mailer/settings_types.py, which
``python3 tools/gen_docs.py`` writes from KEYS: run it after changing a key).
Secrets never live here: passwords are read by :func:`secret` when needed.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mailer.clock import now
from mailer.errors import ConfigError
from mailer.files import load_toml, read_text_file
from mailer.settings_types import SettingKey, TypedSettings

CONFIG_NAME = "mailer.toml"


def parse_rate(text: str) -> tuple[int, float] | None:
    """``"30/min"`` → (30, 60.0); ``"unlimited"`` → None."""
    text = text.strip().lower()
    if text in ("unlimited", "none", "0"):
        return None
    m = re.fullmatch(r"(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)", text)
    if not m or int(m.group(1)) == 0:
        raise ValueError("expected N/s, N/min, N/hour, N/day or 'unlimited'")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)[0]]
    return int(m.group(1)), float(unit)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _whole(value: Any, least: int) -> int:
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError("expected a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("expected a whole number") from None
    if number < least:
        raise ValueError(f"expected a whole number of at least {least}")
    return number


def _positive_int(value: Any) -> int:
    return _whole(value, 1)


def _count(value: Any) -> int:
    return _whole(value, 0)


MAX_DAYS = 36500  # a century: beyond any campaign, and within what dates can hold
MAX_SECONDS = 86400.0  # a day: longer waits or retries within one run make no sense


def _up_to(limit: float, unit: str) -> Callable[[Any], float]:
    """A number of ``unit`` from 0 to ``limit`` (no NaN, no infinity)."""

    def check(value: Any) -> float:
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        if not 0 <= number <= limit:  # also false for NaN
            raise ValueError(f"expected a number of {unit} from 0 to {limit:g}")
        return number

    return check


_seconds = _up_to(MAX_SECONDS, "seconds")
_megabytes = _up_to(1000.0, "megabytes")
days = _up_to(MAX_DAYS, "days")  # also checks `remind --after-days`


def _rate(value: Any) -> str:
    parse_rate(str(value))
    return str(value)


def _url(*schemes: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value)
        if not text:
            return text
        if not any(text.startswith(s + "://") for s in schemes):
            raise ValueError(
                f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        try:
            parts = urlsplit(text)
            host = parts.hostname
        except ValueError as e:  # an unclosed [IPv6 bracket, an invalid address in one
            raise ValueError(f"not a usable URL ({e})") from None
        if not host:
            raise ValueError("the URL names no host")
        try:
            port = parts.port
        except ValueError:  # not a number, or above 65535
            port = 0
        if port == 0:
            raise ValueError("the port must be a number from 1 to 65535")
        return text

    return check


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text in quotes")
    return value


_AUTHSERV_ID = re.compile(r"[^\s;()\"\\]+")


def _authserv_id(value: Any) -> str:
    """An RFC 8601 authserv-id, one token: a value that can never match would silently
    leave every answer unverified."""
    text = _str(value).strip()
    if text and not _AUTHSERV_ID.fullmatch(text):
        raise ValueError(
            "expected your receiving server's name as it begins its Authentication-Results"
            " headers, one word such as mx.party.example.org"
        )
    return text


def _choice(*choices: str) -> Callable[[Any], str]:
    """One of ``choices`` (in quotes), as written."""

    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected {' or '.join(repr(c) for c in choices if c)}")
        return str(value)

    return check


_auth = _choice("password", "xoauth2")


def _country_names(value: Any) -> dict[str, dict[str, str]]:
    """[names] countries: ISO code → {language or "*" for every language: name}.

    mailer.toml: ``{PS = "Palestine", XK = {en = "Kosovo", sr-Latn = "Kosovo i Metohija"}}``;
    MAILER_NAMES_COUNTRIES: ``PS=Palestine;XK:sr-Latn=Kosovo i Metohija``.
    """
    from mailer.addresses import check_text
    from mailer.lang import country_codes, normalize_language

    if isinstance(value, str):
        value = _country_names_from_text(value)
    if not isinstance(value, dict):
        raise ValueError('expected a table such as {PS = "Palestine"}')
    result: dict[str, dict[str, str]] = {}
    for code, names in value.items():
        iso = str(code).strip().upper()
        if iso not in country_codes():
            raise ValueError(f"{code!r} is not an ISO 3166 country code such as PS or XK")
        for lang, name in (names if isinstance(names, dict) else {"*": names}).items():
            where = f"{iso}" if lang == "*" else f"{iso} in {lang}"
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"the name for {where} must be text that is not empty")
            try:
                tag = "*" if lang == "*" else normalize_language(str(lang))
            except ValueError as e:
                raise ValueError(f"{iso}: {e}") from None
            result.setdefault(iso, {})[tag] = check_text(name, f"the name for {where}")
    return result


def _country_names_from_text(text: str) -> dict[str, dict[str, str]]:
    """``PS=Palestine;XK:sr-Latn=Kosovo i Metohija`` as the table mailer.toml would hold."""
    table: dict[str, dict[str, str]] = {}
    for entry in filter(str.strip, text.split(";")):
        key, eq, name = entry.partition("=")
        code, _, lang = key.partition(":")
        if not eq or not code.strip():
            raise ValueError(f"{entry.strip()!r} is not CODE=Name or CODE:language=Name")
        table.setdefault(code.strip(), {})[lang.strip() or "*"] = name.strip()
    return table


@dataclass(frozen=True)
class Key:
    name: str  # "section.key"
    parse: Callable[[Any], Any]  # its return annotation is the type settings[name] has
    default: Any
    help: str


KEYS: dict[str, Key] = {
    k.name: k
    for k in [
        Key("db.path", _str, "contacts.db", "SQLite database file, relative to mailer.toml."),
        Key("templates.path", _str, "templates", "Folder holding layout/ and statements."),
        Key("outbox.path", _str, "outbox", "Maildir written when no SMTP URL is set."),
        Key("attachments.path", _str, "attachments", "Where reply attachments are saved."),
        Key(
            "names.countries",
            _country_names,
            {},
            'Country names to publish instead of Babel\'s, by ISO code: {PS = "Palestine"}.',
        ),
        Key("sender.name", _str, "", "Display name in From, e.g. the department's name."),
        Key("sender.address", _str, "", "From address, e.g. intl@party.example.org."),
        Key("sender.reply_token", _bool, True, "Reply-To local+TOKEN@domain to match replies."),
        Key(
            "sender.verp",
            _bool,
            True,
            "With reply_token: envelope sender local+bounce-TOKEN@domain, so bounces name their message.",
        ),
        Key("sender.unsubscribe_url", _url("https"), "", "HTTPS one-click unsubscribe endpoint."),
        Key(
            "smtp.url",
            _url("smtp", "smtp+starttls", "smtps"),
            "",
            "smtp://, smtp+starttls:// or smtps://user@host:port; empty = Maildir outbox.",
        ),
        Key(
            "smtp.rate",
            _rate,
            "30/min",
            "Most messages per period: N/s, N/min, N/hour, N/day, or unlimited.",
        ),
        Key("smtp.concurrency", _positive_int, 4, "SMTP connections used at once."),
        Key("smtp.daily_cap", _count, 0, "Most messages a day (0 = no cap)."),
        Key(
            "smtp.data_timeout",
            _seconds,
            600.0,
            "Seconds to wait for the reply to the final '.'.",
        ),
        Key("smtp.timeout", _seconds, 60.0, "Seconds to wait for other SMTP replies."),
        Key(
            "smtp.retry_for",
            _seconds,
            60.0,
            "Seconds one message is retried within a run.",
        ),
        Key(
            "smtp.grace",
            _seconds,
            10.0,
            "Seconds messages in flight may still finish after Ctrl-C or SIGTERM.",
        ),
        Key(
            "smtp.defer_days",
            days,
            5.0,
            "Days a deferred message is retried before it fails.",
        ),
        Key("smtp.insecure", _bool, False, "Allow SMTP without TLS to a non-loopback host."),
        Key(
            "smtp.auth",
            _auth,
            "password",
            "How the URL's user logs in: password, or xoauth2 (OAuth2, after `mailer login`).",
        ),
        Key(
            "smtp.max_message_mb",
            _megabytes,
            10.0,
            "Largest message, attachments included, that check and send accept (MB of 1,000,000"
            " bytes, as sent); check warns from 5 MB.",
        ),
        Key("imap.url", _url("imap", "imaps", "imap+starttls"), "", "imaps://user@host/INBOX."),
        Key("imap.move_to", _str, "", "Folder to move processed mail to (empty = leave it)."),
        Key("imap.insecure", _bool, False, "Allow IMAP without TLS to a non-loopback host."),
        Key(
            "imap.auth",
            _auth,
            "password",
            "How the URL's user logs in: password, or xoauth2 (OAuth2, after `mailer login`).",
        ),
        Key(
            "imap.sent_folder",
            _str,
            "",
            "Folder that gets a copy of each message sent over SMTP; empty = the server's"
            " Sent folder (\\Sent).",
        ),
        Key(
            "inbox.authserv_id",
            _authserv_id,
            "",
            "Your receiving server's name in Authentication-Results (its DKIM/DMARC verdicts are trusted).",
        ),
        Key(
            "oauth.provider",
            _choice("", "microsoft", "google"),
            "",
            "Who signs the mailbox in for xoauth2: microsoft or google (docs/oauth.md).",
        ),
        Key("oauth.client_id", _str, "", "Application (client) ID of your app registration."),
        Key(
            "oauth.tenant",
            _str,
            "organizations",
            "Microsoft: your tenant ID or domain (organizations = any work account).",
        ),
        Key(
            "oauth.authority",
            _url("https"),
            "",
            "Sign-in server; empty = the provider's own (set only for a test server).",
        ),
        Key("dkim.domain", _str, "", "DKIM signing domain (d=); empty = no signing."),
        Key("dkim.selector", _str, "", "DKIM selector (s=)."),
        Key("dkim.key_file", _str, "", "PEM private key file for DKIM."),
    ]
}

# Short environment names kept for convenience; every key also has
# MAILER_<SECTION>_<KEY>.
ENV_ALIASES = {"MAILER_DB": "db.path"}


def env_name(key: str) -> str:
    return "MAILER_" + key.replace(".", "_").upper()


def env_names(key: str) -> list[str]:
    """Every variable that sets ``key``: its own name, then short aliases (MAILER_DB)."""
    return [env_name(key), *(alias for alias, k in ENV_ALIASES.items() if k == key)]


@dataclass(frozen=True)
class Settings(TypedSettings):
    """Resolved configuration. ``root`` is the folder relative paths start from.

    ``settings["smtp.grace"]`` reads a key, typed by :class:`TypedSettings`.
    """

    root: Path
    file: Path | None
    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None  # where the command runs

    def path(self, key: SettingKey) -> Path:
        """A path-valued key made absolute: against mailer.toml's folder when it comes
        from there (or is a default), against the current folder when it was typed in
        an option or an environment variable, as any command-line path is."""
        typed = self.sources.get(key) not in ("default", str(self.file))
        base = self.cwd if typed and self.cwd else self.root
        value = self.values[key]
        try:
            return (base / Path(value).expanduser()).resolve()
        except (RuntimeError, ValueError) as e:  # "~nobody/x": no such home; a NUL byte
            section, name = key.split(".", 1)
            raise ConfigError(
                f"[{section}] {name} {value!r} ({self.sources.get(key)}): not a usable path ({e})"
            ) from None


def find_config(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """The keys a mailer.toml sets, as written there ("db.path": "x.db")."""
    data = load_toml(path, read_text_file(path, ConfigError), ConfigError)
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: '{section}' must be a [section], not a bare value")
        for key, value in table.items():
            name = f"{section}.{key}"
            if name not in KEYS:
                raise ConfigError(
                    f"{path}: unknown key [{section}] {key}",
                    hint="See docs/configuration.md for the keys mailer knows.",
                )
            flat[name] = value
    return flat


def _parse(key: str, value: Any, where: str) -> Any:
    try:
        return KEYS[key].parse(value)
    except (ValueError, TypeError) as e:
        section, name = key.split(".", 1)
        got = "" if isinstance(value, dict) else f", got {redact(repr(value))}"  # e names the entry
        raise ConfigError(f"{where}: [{section}] {name}: {e}{got}") from None


# Variables read elsewhere: the clock, --debug, and secrets (never from a file).
OTHER_ENV = (
    "MAILER_NOW",
    "MAILER_DEBUG",
    "MAILER_SMTP_PASSWORD",
    "MAILER_IMAP_PASSWORD",
    "MAILER_OAUTH_CLIENT_SECRET",
)


def _check_env_names(env: Mapping[str, str]) -> None:
    """A MAILER_* variable that is one slip away from a known name is a typo: silently
    ignored, MAILER_SMTP_UR would send into the outbox. (Names far from every known
    one may belong to another program, and are left alone.)"""
    known = [*(name for k in KEYS for name in env_names(k)), *OTHER_ENV]
    for name in sorted(n for n in env if n.startswith("MAILER_") and n not in known):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if close:
            raise ConfigError(
                f"environment variable {name} is not one mailer knows; did you mean {close[0]}?"
            )


def load_settings(
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    project: Path | None = None,
) -> Settings:
    """Resolve every key: option > MAILER_* env > mailer.toml > default.

    mailer.toml is the nearest one from ``cwd`` up, or, for ``project`` (the folder
    `init` sets up), that folder's own, if it has one.
    """
    cwd = (cwd or Path.cwd()).resolve()
    env = os.environ if env is None else env
    _check_env_names(env)
    if project is None:
        file = find_config(cwd)
    else:
        project = project.resolve()
        file = project / CONFIG_NAME if (project / CONFIG_NAME).is_file() else None
    from_file = read_config_file(file) if file else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        value, source = KEYS[key].default, "default"
        if key in from_file:
            value = _parse(key, from_file[key], str(file))
            source = str(file)
        for name in env_names(key):
            if env.get(name):
                value, source = _parse(key, env[name], f"environment variable {name}"), name
        if overrides and overrides.get(key) is not None:
            value, source = _parse(key, overrides[key], "command-line option"), "option"
        values[key], sources[key] = value, source
    now()  # a bad MAILER_NOW is one error here, not one per message later
    root = file.parent if file else (project or cwd)
    return Settings(root=root, file=file, values=values, sources=sources, cwd=cwd)


def secret(name: str, *, service: str, user: str, prompt: Callable[[str], str] | None) -> str:
    """A password from ``MAILER_<NAME>_PASSWORD``, the keyring, or ``prompt``.

    Never stored, never printed. ``prompt`` is None when there is no terminal,
    in which case a missing password is a configuration error naming the variable.
    """
    variable = f"MAILER_{name.upper()}_PASSWORD"
    if os.environ.get(variable):
        return os.environ[variable]
    try:
        import keyring

        stored = keyring.get_password(service, user)
    except Exception:  # a broken keyring backend is the same as an empty one
        stored = None
    if stored:
        return stored
    if prompt is None:
        raise ConfigError(
            f"no password for {user} on {service}: set {variable} or store it in the system keyring"
        )
    return prompt(f"Password for {user} on {service}")


def redact(url: str) -> str:
    """A URL with any password replaced, safe to print or log."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)
