"""``mailer init``: a working folder with a commented mailer.toml, the
database and a templates/ skeleton, written from the package's skeleton/.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from mailer.config import CONFIG_NAME, KEYS, env_name
from mailer.db import open_db
from mailer.errors import MailerError


def config_text() -> str:
    """mailer.toml with every key, its default and a one-line explanation."""
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
        default = key.default
        if isinstance(default, bool):
            value = "true" if default else "false"
        elif isinstance(default, str):
            value = f'"{default}"'
        else:
            value = str(default)
        lines.append(f"# {key.help} ({env_name(key.name)})")
        lines.append(
            f"{name} = {value}"
            if default not in ("", 0) or isinstance(default, bool)
            else f"# {name} = {value}"
        )
    return "\n".join(lines) + "\n"


def skeleton_dir() -> Path:
    return Path(str(resources.files("mailer") / "skeleton"))


def init_project(folder: Path, *, force: bool = False) -> list[str]:
    """Write the files; returns what was written. Never replaces a database."""
    config = folder / CONFIG_NAME
    templates = folder / "templates"
    db_path = folder / "contacts.db"
    existing = [p.name for p in (config, templates) if p.exists()]
    if existing and not force:
        raise MailerError(
            f"{folder}: {' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}",
            hint="Pass --force to rewrite them (the database is always kept).",
        )
    existed = db_path.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The database first: if it is unusable, nothing else is left half written.
        open_db(db_path).close()
        config.write_text(config_text(), encoding="utf-8")
        shutil.copytree(skeleton_dir() / "templates", templates, dirs_exist_ok=True)
    except shutil.Error as e:  # files of the copy that could not be written, listed
        source, target, why = e.args[0][0]
        raise MailerError(f"cannot set up {folder}: {target}: {why}") from None
    except OSError as e:
        reason = f"{e.strerror} ({e.filename})" if e.strerror else str(e)
        raise MailerError(f"cannot set up {folder}: {reason}") from None
    return [str(config), f"{templates}/", f"{db_path} (kept)" if existed else str(db_path)]
