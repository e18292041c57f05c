"""``mailer init``: a working folder with a commented mailer.toml, the
database and a templates/ skeleton, written from the package's skeleton/.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from mailer.clock import now
from mailer.config import CONFIG_NAME, KEYS, env_names, load_settings, read_config_file
from mailer.db import open_db
from mailer.errors import MailerError

EXAMPLE_DEADLINE = re.compile(r"^deadline = \d{4}-\d{2}-\d{2}", re.MULTILINE)
EXAMPLE_WEEKS = 8


def config_text(values: Mapping[str, Any] | None = None) -> str:
    """mailer.toml with every key and a one-line explanation: the ``values`` given
    (those of the file being rewritten), the others at their defaults."""
    values = values or {}
    lines = [
        "# mailer configuration. Every key is optional; the values shown are the defaults.",
        "# Each key can be overridden by an environment variable, shown after it,",
        "# and some by command-line options. Passwords never go here: set",
        "# MAILER_SMTP_PASSWORD / MAILER_IMAP_PASSWORD or use the system keyring.",
    ]
    section = None
    for key in KEYS.values():
        sec, name = key.name.split(".", 1)
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        lines.append(f"# {key.help} ({', '.join(env_names(key.name))})")
        if key.name in values:
            lines.append(f"{name} = {toml_value(values[key.name])}")
        elif key.default in ("", 0) and not isinstance(key.default, bool):
            lines.append(f"# {name} = {toml_value(key.default)}")
        else:
            lines.append(f"{name} = {toml_value(key.default)}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A value as TOML writes it (JSON's string escapes are TOML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):  # an inline table: [names] countries
        items = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    return str(value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def skeleton_dir() -> Path:
    return Path(str(resources.files("mailer") / "skeleton"))


def init_project(
    folder: Path, *, force: bool = False, overrides: Mapping[str, Any] | None = None
) -> list[str]:
    """Write the files; returns what was written.

    Never replaces a database, a template or a value of mailer.toml: ``force``
    adds what is missing and rewrites mailer.toml around the values it holds.
    One that is not TOML at all is kept as mailer.toml.bak; one with a wrong key
    or value is an error to fix first. The database is the one the settings
    name (mailer.toml, MAILER_DB, --db), so the next command finds it.
    """
    config = folder / CONFIG_NAME
    templates = folder / "templates"
    existing = [p.name for p in (config, templates) if p.exists()]
    if existing and not force:
        raise MailerError(
            f"{folder}: {' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}",
            hint="Pass --force to add what is missing (nothing of yours is replaced).",
        )
    backup = config.with_name(CONFIG_NAME + ".bak")
    broken = config.is_file() and not _is_toml(config)
    if broken:
        config.replace(backup)
    try:
        written = _write_project(folder, overrides)
    except BaseException:
        if broken and not config.exists():
            backup.replace(config)  # nothing was set up: leave the folder as it was
        raise
    if broken:
        written.insert(0, f"{backup} (the mailer.toml that was not TOML, kept)")
    return written


def _is_toml(path: Path) -> bool:
    try:
        tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    except OSError:  # unreadable: reading it for its values says so
        return True
    return True


def _write_project(folder: Path, overrides: Mapping[str, Any] | None) -> list[str]:
    config = folder / CONFIG_NAME
    templates = folder / "templates"
    values = read_config_file(config) if config.is_file() else {}
    db_path = load_settings(project=folder, overrides=overrides).path("db.path")
    existed = db_path.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The database first: if it is unusable, nothing else is left half written.
        open_db(db_path).close()
        config.write_text(config_text(values), encoding="utf-8")
        shutil.copytree(
            skeleton_dir() / "templates", templates, dirs_exist_ok=True, copy_function=_copy_new
        )
    except shutil.Error as e:  # files of the copy that could not be written, listed
        source, target, why = e.args[0][0]
        raise MailerError(f"cannot set up {folder}: {target}: {why}") from None
    except OSError as e:
        reason = f"{e.strerror} ({e.filename})" if e.strerror else str(e)
        raise MailerError(f"cannot set up {folder}: {reason}") from None
    kept = " (values kept)" if values else ""
    return [
        f"{config}{kept}",
        f"{templates}/",
        f"{db_path} (kept)" if existed else str(db_path),
    ]


def _copy_new(source: str, target: str) -> None:
    """Copy a skeleton file unless the user already has one there (maybe edited).

    An example statement's deadline becomes a date some weeks after today: one fixed
    in the package would soon be past, and a past deadline blocks sending.
    """
    if Path(target).exists():
        return
    if Path(source).name != "statement.toml":
        shutil.copy2(source, target)
        return
    ahead = (now() + timedelta(weeks=EXAMPLE_WEEKS)).date().isoformat()
    text = EXAMPLE_DEADLINE.sub(f"deadline = {ahead}", Path(source).read_text(encoding="utf-8"))
    Path(target).write_text(text, encoding="utf-8")
