"""The docs stay in step with the code: the command reference is the real
--help output, the configuration table lists every key (as the typed settings
module does), and the guide and the reference mention every command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from mailer.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def load_gen_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_and_config_table_are_up_to_date() -> None:
    gen = load_gen_docs()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == gen.cli_reference(), (
        "docs/cli.md is out of date: run python3 tools/gen_docs.py"
    )
    config = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config == gen.config_reference(config), (
        "docs/configuration.md is out of date: run python3 tools/gen_docs.py"
    )


def test_the_typed_settings_module_is_up_to_date() -> None:
    """mailer/settings_types.py is what KEYS makes: a key added, renamed or given
    another parser without regenerating it fails here (and mypy would type it wrong)."""
    module = (ROOT / "mailer" / "settings_types.py").read_text(encoding="utf-8")
    assert module == load_gen_docs().settings_types(), (
        "mailer/settings_types.py is out of date: run python3 tools/gen_docs.py"
    )


def test_every_command_has_help_and_is_in_the_guide() -> None:
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    gen = load_gen_docs()
    for path, command in gen._commands(cli, []):
        assert (command.help or "").strip(), f"mailer {' '.join(path)} has no help text"
        if isinstance(command, click.Group):
            continue
        shown = [" ".join(path)]
        if path[-1] == "list":  # `mailer org` and `mailer replies` list by default
            shown.append(" ".join(path[:-1]))
        assert any(f"mailer {words}" in guide for words in shown), (
            f"docs/guide.md never shows `mailer {shown[0]}`"
        )


def test_readme_starts_with_the_two_commands() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("    ")
    ]
    assert lines[0] == "pip install . && mailer demo"
    assert lines[1] == "pip install -e '.[test]' && python3 -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m pytest" in ci.splitlines()[-1]
