"""Layering rules that keep the code readable: only the CLI layer talks to
Click, and the pure modules touch neither the database nor the network."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailer"
CLI_LAYER = {"cli", "output.py"}
# Modules that decide (render, parse, match, classify…) and what they build on: they
# load no database, CLI, SMTP or IMAP code, so they are quick to import and to test.
PURE = {
    "addresses",
    "clock",
    "config",
    "errors",
    "files",
    "inbox.classify",
    "inbox.intent",
    "inbox.match",
    "inbox.parse",
    "inbox.phrases",
    "inbox.quotes",
    "inbox.trust",
    "lang",
    "mime",
    "models",
    "ratelimit",
    "render",
    "settings_types",
    "statements",
    "templates",
    "textpart",
    "tokens",
}
IMPURE = {"sqlite3", "sqlite_utils", "click", "aiosmtplib", "imap_tools"}


def module_name(path: Path) -> str:
    """``inbox.parse`` for mailer/inbox/parse.py."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules() -> list[tuple[str, Path]]:
    return [(str(p.relative_to(PACKAGE)), p) for p in PACKAGE.rglob("*.py")]


def test_only_the_cli_layer_imports_click() -> None:
    offenders = [
        rel
        for rel, path in modules()
        if rel.split("/")[0] not in CLI_LAYER
        and "click" in {n.split(".")[0] for n in imports(path)}
    ]
    assert offenders == []


def test_importing_a_pure_module_loads_no_database_cli_or_network_code() -> None:
    """Each pure module imported alone, in a fresh interpreter: what it really loads,
    through every module it imports in turn."""
    probe = (
        "import importlib, json, sys\n"
        "importlib.import_module(sys.argv[1])\n"
        "print(json.dumps(list(sys.modules)))\n"
    )
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", probe, f"mailer.{name}"], stdout=subprocess.PIPE, text=True
        )
        for name in sorted(PURE)
    }
    loaded = {}
    for name, run in runs.items():
        out, _ = run.communicate()
        assert run.returncode == 0, f"mailer.{name} does not import"
        loaded[name] = sorted({m.split(".")[0] for m in json.loads(out)} & IMPURE)
    assert {name: found for name, found in loaded.items() if found} == {}


def test_pure_modules_import_nothing_impure_even_inside_functions() -> None:
    """What the fresh interpreter cannot see: an import that runs only when a
    function is called. A pure module names no impure library and, of mailer's
    own modules, only pure ones."""
    pure_files = {PACKAGE.joinpath(*name.split(".")).with_suffix(".py") for name in PURE}
    assert all(path.is_file() for path in pure_files)
    mailer_modules = {module_name(path) for _, path in modules() if path.stem != "__init__"}
    offenders = {}
    for path in sorted(pure_files):
        names = imports(path)
        own = {n.removeprefix("mailer.") for n in names if n.startswith("mailer.")}
        bad = {n for n in names if n.split(".")[0] in IMPURE | {"socket"}}
        bad |= {f"mailer.{n}" for n in own & mailer_modules if n not in PURE}
        if bad:
            offenders[module_name(path)] = sorted(bad)
    assert offenders == {}


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


# ------------------------------------------------------------ who owns which table

# Each table family has one owner module, which holds all of its SQL; the others call
# its functions. db.py also holds the schema (the migrations create every table).
OWNERS = {
    "organization": "orgstore",
    "address": "orgstore",
    "contact": "people",
    "campaign": "campaigns",
    "message": "queue",
    "send_lock": "queue",
    "response": "responses",
    "reply": "inbox.store",
    "bounce": "inbox.store",
    "imap_cursor": "inbox.store",
    "event": "db",
    "event_redaction": "db",
}
# Reads across families, each in one function of the owner of the main table that
# says in its docstring which other tables it reads and why.
CROSS_READS = {
    "queue": {"address", "organization", "reply", "response"},  # BLOCKED, in the claim itself
    "people": {"address"},  # a contact is the person at an address, named by its email
    "responses": {"campaign"},  # an organization's answers, by campaign slug
    "inbox.store": {"organization", "campaign", "message"},  # names; replies to test copies
}
_SQL_TABLE = re.compile(r"\b(DELETE\s+FROM|FROM|JOIN|INTO|UPDATE)\s+(\{\}|[a-z_][a-z_0-9]*)")


def _is_migration(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "MIGRATIONS"
        for d in node.decorator_list
    )


def _docstring(node: ast.AST) -> ast.AST | None:
    body = getattr(node, "body", None)
    first = body[0] if isinstance(body, list) and body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.value
    return None


def _strings(tree: ast.AST) -> Iterator[str]:
    """The module's string literals (f-strings with ``{}`` for each value), without
    docstrings and migrations."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if _is_migration(node):
            skip.update(id(n) for n in ast.walk(node))
        skip.add(id(_docstring(node)))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
            yield "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _sqlite_utils_table(node: ast.AST) -> object:
    """The table of sqlite-utils' ``db.table("x")`` or ``db["x"]``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "table"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return node.args[0].value
    if (
        isinstance(node, ast.Subscript)
        and ast.unparse(node.value).endswith("db")
        and isinstance(node.slice, ast.Constant)
    ):
        return node.slice.value
    return None


def table_uses(tree: ast.AST) -> set[tuple[str, str]]:
    """(table, "read" or "write") for each table the module's SQL names; "{}" for a
    table name made at run time, which no reader can check."""
    uses = set()
    for text in _strings(tree):
        for keyword, table in _SQL_TABLE.findall(text):
            if table in OWNERS or table == "{}":
                uses.add((table, "read" if keyword in ("FROM", "JOIN") else "write"))
    for node in ast.walk(tree):
        name = _sqlite_utils_table(node)
        if isinstance(name, str):
            uses.add((name, "write"))
    return uses


def test_each_table_is_queried_only_by_its_owner() -> None:
    offenders = []
    for rel, path in sorted(modules()):
        name = module_name(path)
        for table, how in sorted(table_uses(ast.parse(path.read_text(encoding="utf-8")))):
            if OWNERS.get(table) == name:
                continue
            if how == "read" and table in CROSS_READS.get(name, set()):
                continue
            offenders.append(f"{rel}: {how}s {table}")
    assert offenders == []


def test_the_ownership_scan_sees_sql() -> None:
    """The scan above must see what it checks, or it would pass on anything."""
    source = (
        "def f(db, t):\n"
        "    db.execute('SELECT o.id FROM organization o JOIN address a ON a.org_id = o.id')\n"
        "    db.execute(f'DELETE FROM reply WHERE id = {t}')\n"
        "    db.execute(f'UPDATE {t} SET x = 1')\n"
        "    db.table('campaign').insert({})\n"
    )
    assert table_uses(ast.parse(source)) == {
        ("organization", "read"),
        ("address", "read"),
        ("reply", "write"),
        ("{}", "write"),
        ("campaign", "write"),
    }
    assert set(OWNERS.values()) <= {module_name(p) for _, p in modules()}
