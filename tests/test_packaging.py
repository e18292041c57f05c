"""constraints.txt keeps CI reproducible only while it pins every package mailer asks for."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT


def name(requirement: str) -> str:
    """The normalized project name of a requirement such as ``"click>=8.2,<9"``."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group()).lower()


def test_constraints_pin_every_dependency_ci_installs():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, build = pyproject["project"], pyproject["build-system"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *build["requires"]]
    wanted += [*extras["test"], *extras["dev"], *extras["dkim"]]
    pinned = {
        name(line): line.split("==", 1)[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    missing = {name(r) for r in wanted if name(r) != "mailer"} - set(pinned)
    assert not missing, f"add exact versions of {sorted(missing)} to constraints.txt"
