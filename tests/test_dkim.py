"""DKIM signing is the optional `dkim` extra: without dkimpy, one sentence says how to get it."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture
def dkim_campaign(with_orgs, run, monkeypatch, tmp_path):
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    monkeypatch.setenv("MAILER_DKIM_DOMAIN", "party.example.org")
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "mail")
    monkeypatch.setenv("MAILER_DKIM_KEY_FILE", str(tmp_path / "dkim.pem"))
    (tmp_path / "dkim.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    result = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert result.exit_code == 0, result.stderr
    return "call"


def test_signing_without_dkimpy_names_the_extra_to_install(
    dkim_campaign, run, project, monkeypatch
):
    # dkimpy cannot be uninstalled for one test: a None entry makes `import dkim` fail
    # exactly as it does where the package is missing.
    for name in [n for n in sys.modules if n == "dkim" or n.startswith("dkim.")] + ["dkim"]:
        monkeypatch.setitem(sys.modules, name, None)
    for args in (("send", dkim_campaign), ("send", dkim_campaign, "--dry-run")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr == (
            "Error: campaign 'call' cannot be sent: [dkim] domain is set, but DKIM signing"
            " needs the dkimpy package, which is not installed (Install mailer with its dkim"
            " extra: pip install 'mailer[dkim]')\n"
            "Nothing was sent. `mailer check call` lists every problem.\n"
        )
    check = run("check", dkim_campaign)
    assert check.exit_code == 1
    assert "pip install 'mailer[dkim]'" in check.stdout + check.stderr
    assert "internal error" not in check.stderr
    assert not (project / "outbox").exists()
