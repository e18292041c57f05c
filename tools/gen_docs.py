"""Regenerate the parts of docs/ that are derived from the code.

    python3 tools/gen_docs.py          # rewrite docs/cli.md and the key table
    python3 tools/gen_docs.py --check  # exit 1 if they are out of date (tests do this)

docs/cli.md is every command's --help text; docs/configuration.md holds a
table of every mailer.toml key between two marker lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = ROOT / "docs" / "cli.md"
CONFIG_DOC = ROOT / "docs" / "configuration.md"
START, END = "<!-- keys:start -->", "<!-- keys:end -->"


def _commands(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        found.append(([*path, name], command))
        if isinstance(command, click.Group):
            found += _commands(command, [*path, name])
    return found


def help_text(path: list[str]) -> str:
    """The --help output of `mailer PATH…`, as a user sees it (80 columns)."""
    from mailer.cli import cli

    command: click.Command = cli
    # Built as `mailer` builds them (with -h), and independent of any earlier
    # invocation: Click caches a command's help option once it has made it.
    ctx = click.Context(
        cli, info_name="mailer", terminal_width=80, max_content_width=80, **cli.context_settings
    )
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
        ctx = click.Context(
            command, info_name=name, parent=ctx, terminal_width=80, max_content_width=80
        )
    return command.get_help(ctx)


def cli_reference() -> str:
    from mailer.cli import cli

    parts = [
        "# Command reference\n",
        "Generated from each command's `--help` by `python3 tools/gen_docs.py`; "
        "a test keeps it in step.\n",
        "```\n" + help_text([]) + "\n```\n",
    ]
    for path, _ in _commands(cli, []):
        parts.append(f"## mailer {' '.join(path)}\n\n```\n{help_text(path)}\n```\n")
    return "\n".join(parts)


def config_table() -> str:
    from mailer.config import KEYS, env_names
    from mailer.setup import toml_value

    rows = ["| key | default | environment variable | meaning |", "| --- | --- | --- | --- |"]
    for key in KEYS.values():
        section, name = key.name.split(".", 1)
        env = ", ".join(env_names(key.name))
        rows.append(
            f"| `[{section}] {name}` | `{toml_value(key.default)}` | `{env}` | {key.help} |"
        )
    return "\n".join(rows)


def config_reference(current: str) -> str:
    head, _, rest = current.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{config_table()}\n{END}{tail}"


def main() -> int:
    wanted = {CLI_DOC: cli_reference(), CONFIG_DOC: config_reference(CONFIG_DOC.read_text())}
    if "--check" in sys.argv:
        stale = [p for p, text in wanted.items() if p.read_text(encoding="utf-8") != text]
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run python3 tools/gen_docs.py")
        return 1 if stale else 0
    for p, text in wanted.items():
        p.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
