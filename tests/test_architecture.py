"""Layering rules that keep the code readable: only the CLI layer talks to
Click, and the pure modules touch neither the database nor the network."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailer"
CLI_LAYER = {"cli", "output.py"}
PURE = {
    "models.py",
    "errors.py",
    "lang.py",
    "mime.py",
    "render.py",
    "templates.py",
    "textpart.py",
    "tokens.py",
    "ratelimit.py",
    "inbox/parse.py",
    "inbox/classify.py",
    "inbox/match.py",
}
IMPURE_IMPORTS = {"click", "sqlite_utils", "sqlite3", "aiosmtplib", "imap_tools", "socket"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules() -> list[tuple[str, Path]]:
    return [(str(p.relative_to(PACKAGE)), p) for p in PACKAGE.rglob("*.py")]


def test_only_the_cli_layer_imports_click() -> None:
    offenders = [
        rel
        for rel, path in modules()
        if rel.split("/")[0] not in CLI_LAYER and "click" in imports(path)
    ]
    assert offenders == []


def test_pure_modules_touch_no_database_or_network() -> None:
    for rel, path in modules():
        if rel in PURE:
            assert not imports(path) & IMPURE_IMPORTS, rel


def test_the_core_never_prints() -> None:
    for rel, path in modules():
        if rel.split("/")[0] in CLI_LAYER:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
        assert not calls, f"{rel} calls print()"


def test_the_command_starts_without_pandas_or_numpy(tmp_path: Path) -> None:
    """sqlite-utils imports them when installed; `mailer` keeps them out (0.1-0.5 s)."""
    probe = (
        "import sys\n"
        "import mailer.cli\n"
        "assert 'sqlite_utils' not in sys.modules, 'imported before main() can act'\n"
        "sys.argv = ['mailer', 'org', 'list']\n"
        "try:\n"
        "    mailer.cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'sqlite_utils' in sys.modules\n"
        "assert sys.modules['numpy'] is None and sys.modules['pandas'] is None\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
