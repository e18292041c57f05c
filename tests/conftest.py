"""Shared fixtures: a private project folder and the CLI runner.

Server fixtures live in tests/fixtures/ (smtp.py: aiosmtpd on loopback,
imap.py: Dovecot on loopback) and are loaded as plugins here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from mailer.cli import cli

if TYPE_CHECKING:
    from tests.cli_story import Output

pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.imap",
    "tests.fixtures.disk",
    "tests.fixtures.oauth",
    "tests.fixtures.browser",
]

settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "mailer" / "examples"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder as cwd, with no MAILER_* settings leaking in."""
    for name in list(os.environ):
        if name.startswith("MAILER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


Run = Callable[..., Result]


@pytest.fixture
def run(project: Path) -> Run:
    """Invoke the CLI in the project folder; stdout and stderr kept apart."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def initialized(project: Path, run: Run) -> Path:
    """A project after `mailer init`."""
    result = run("init")
    assert result.exit_code == 0, result.stderr
    return project


@pytest.fixture
def with_orgs(initialized: Path, run: Run) -> Path:
    """A project with the example organizations imported."""
    result = run("org", "import", str(EXAMPLES / "organizations.csv"))
    assert result.exit_code == 0, result.stderr
    return initialized


@pytest.fixture(scope="session")
def cli_story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Output]:
    """The outputs of tests/cli_story.py's fixed campaign, run once per test session."""
    from tests.cli_story import run_story  # it imports this module's EXAMPLES

    folder = tmp_path_factory.mktemp("story") / "work"
    folder.mkdir()
    return run_story(folder)


@pytest.fixture
def shared_corpus() -> Iterator[Path]:
    """../shared/corpus when present (CI); tests using it skip in a user's clone."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present in this checkout")
    yield corpus
