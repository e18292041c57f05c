"""OAuth2 sign-in (mailer/oauth.py) against the test sign-in service on loopback
(tests/fixtures/oauth.py): MSAL's device-code flow and Google's installed-app
flow, the keyring as the only store, renewal of expired tokens, and the one
line a user gets for a wrong client, a declined or revoked consent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from mailer import oauth
from mailer.config import Settings, load_settings
from mailer.errors import ConfigError
from mailer.oauth import Mailbox, SignInError
from tests.conftest import Run
from tests.fixtures.imap import Dovecot
from tests.fixtures.oauth import GOOGLE_CLIENT, GOOGLE_SECRET, MS_CLIENT, TENANT, IdentityServer
from tests.fixtures.smtp import SmtpServer
from tests.inbox_data import reply_mail

USER = "intl@party.example.org"
SMTP_URL = "smtp+starttls://intl%40party.example.org@smtp.office365.com:587"
IMAP_URL = "imaps://intl%40party.example.org@outlook.office365.com/INBOX"


def settings(provider: str = "microsoft", **more: str) -> Settings:
    env = {
        "MAILER_SMTP_URL": SMTP_URL,
        "MAILER_SMTP_AUTH": "xoauth2",
        "MAILER_OAUTH_PROVIDER": provider,
        "MAILER_OAUTH_CLIENT_ID": MS_CLIENT if provider == "microsoft" else GOOGLE_CLIENT,
        "MAILER_OAUTH_TENANT": TENANT,
        "MAILER_OAUTH_AUTHORITY": os.environ["MAILER_OAUTH_AUTHORITY"],  # the test service
        **more,
    }
    return load_settings(env=env)


def login(s: Settings, identity: IdentityServer, shown: list[str] | None = None) -> str:
    [mailbox] = oauth.mailboxes(s)
    return oauth.login(
        s,
        mailbox,
        show=(shown if shown is not None else []).append,
        ask=identity.browse,
        prompt=lambda _: GOOGLE_SECRET,
    )


def stored(provider: str, client: str) -> dict:
    value = keyring.get_password(f"mailer oauth {provider} {client}", USER)
    assert value is not None
    return json.loads(value)


# ------------------------------------------------------------------ Microsoft


def test_device_code_sign_in_is_kept_in_the_keyring_only(
    identity: IdentityServer, project: Path
) -> None:
    identity.approve_after = 2  # the person takes two polls to type the code
    shown: list[str] = []
    assert login(settings(), identity, shown) == USER
    assert shown == [
        "To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
        "and enter the code BDJX4QZ7L to authenticate."
    ]
    assert (
        identity.requests
        == ["devicecode"] + ["token:urn:ietf:params:oauth:grant-type:device_code"] * 3
    )
    cache = stored("microsoft", MS_CLIENT)["msal_cache"]
    [refresh_token] = identity.grants
    assert refresh_token in cache
    assert not any(
        refresh_token in p.read_text(errors="ignore") for p in project.rglob("*") if p.is_file()
    )


def test_tokens_are_reused_until_they_expire_then_renewed(
    identity: IdentityServer, project: Path
) -> None:
    login(settings(), identity)
    source = oauth.token_source(settings(), "smtp", USER)
    first = source.token()
    assert source.token() == first  # MSAL's cache: no request
    assert identity.count("token:refresh_token") == 0
    assert identity.check(first, USER, "smtp")
    renewed = source.token(fresh=True)
    assert renewed != first and identity.check(renewed, USER, "smtp")
    # A token that lives less than MSAL's five-minute margin counts as expired: renewed
    # at every use, as in a run that outlives its token.
    identity.expires_in = 60
    tokens = {source.token(fresh=True), source.token(), source.token()}
    assert len(tokens) == 3 and identity.count("token:refresh_token") == 4
    assert all(identity.check(t, USER, "smtp") for t in tokens)


def test_a_wrong_client_id_is_one_line_naming_microsofts_error(
    identity: IdentityServer, project: Path
) -> None:
    wrong = "00000000-1111-2222-3333-444444444444"
    with pytest.raises(SignInError) as e:
        login(settings(MAILER_OAUTH_CLIENT_ID=wrong), identity)
    assert str(e.value) == (
        f"Microsoft refused the sign-in for {USER} (unauthorized_client: AADSTS700016: "
        f"Application with identifier '{wrong}' was not found in the directory 'Party'.); "
        "check [oauth] client_id and tenant against your app registration (docs/oauth.md), "
        "then run `mailer login`"
    )


def test_an_unknown_tenant_and_a_declined_sign_in(identity: IdentityServer, project: Path) -> None:
    with pytest.raises(SignInError, match="Microsoft knows no tenant 'nowhere.example'"):
        login(settings(MAILER_OAUTH_TENANT="nowhere.example"), identity)
    identity.deny = True
    with pytest.raises(SignInError) as e:
        login(settings(), identity)
    assert str(e.value) == (
        f"Microsoft refused the sign-in for {USER} (authorization_declined: AADSTS70000: "
        "The user declined the sign-in.); run `mailer login` again and allow access"
    )


def test_revoked_consent_and_no_sign_in_say_run_mailer_login(
    identity: IdentityServer, project: Path
) -> None:
    with pytest.raises(SignInError) as e:
        oauth.token_source(settings(), "smtp", USER).token()
    assert str(e.value) == (
        f"{USER} is not signed in with Microsoft (no saved sign-in in the system keyring); "
        "run `mailer login` first"
    )
    login(settings(), identity)
    identity.revoke()
    with pytest.raises(SignInError) as e:
        oauth.token_source(settings(), "smtp", USER).token(fresh=True)
    assert str(e.value) == (
        f"Microsoft refused the saved sign-in of {USER} (invalid_grant: AADSTS50173: The provided "
        "grant has expired due to it being revoked, a fresh auth token is needed.); "
        "run `mailer login` to sign in again"
    )


def test_imap_asks_for_the_scope_it_was_not_signed_in_for(
    identity: IdentityServer, project: Path
) -> None:
    login(settings(), identity)  # [smtp] only: SMTP.Send
    with pytest.raises(
        SignInError, match="AADSTS65001: The user or administrator has not consented"
    ):
        oauth.token_source(settings(), "imap", USER).token()
    both = settings(MAILER_IMAP_URL=IMAP_URL, MAILER_IMAP_AUTH="xoauth2")
    assert oauth.mailboxes(both) == [Mailbox(USER, ("smtp", "imap"))]
    login(both, identity)
    assert identity.check(oauth.token_source(both, "imap", USER).token(), USER, "imap")


# --------------------------------------------------------------------- Google


def test_google_installed_app_flow_and_renewal(identity: IdentityServer, project: Path) -> None:
    assert login(settings("google"), identity) == USER
    kept = stored("google", GOOGLE_CLIENT)
    assert kept == {"refresh_token": next(iter(identity.grants)), "client_secret": GOOGLE_SECRET}
    source = oauth.token_source(settings("google"), "smtp", USER)
    token = source.token()
    assert source.token() == token and identity.check(token, USER, "smtp")
    assert source.token(fresh=True) != token
    assert identity.count("token:authorization_code") == 1
    assert identity.count("token:refresh_token") == 2


def test_google_errors_name_googles_error_and_the_next_step(
    identity: IdentityServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings("google")
    [mailbox] = oauth.mailboxes(s)

    def sign_in(ask, secret: str = GOOGLE_SECRET) -> str:  # type: ignore[no-untyped-def]
        return oauth.login(s, mailbox, show=print, ask=ask, prompt=lambda _: secret)

    with pytest.raises(SignInError) as e:
        sign_in(identity.browse, secret="wrong")
    assert str(e.value) == (
        f"Google refused the sign-in for {USER} (invalid_client: Unauthorized); check [oauth] "
        "client_id and the client secret against your OAuth client (docs/oauth.md), "
        "then run `mailer login`"
    )
    identity.deny = True
    with pytest.raises(SignInError) as e:
        sign_in(identity.browse)
    assert str(e.value) == (
        f"Google refused the sign-in for {USER} (access_denied: you did not allow access); "
        "run `mailer login` again and allow access"
    )
    identity.deny = False
    # Nothing pasted; then the address of that earlier attempt.
    earlier: list[str] = []
    with pytest.raises(SignInError, match="that is not the address the browser went to"):
        sign_in(lambda url: earlier.append(identity.browse(url)) or "")
    with pytest.raises(SignInError, match="that address belongs to another sign-in attempt"):
        sign_in(lambda url: earlier[0])
    # A wrong client ID: Google shows its error in the browser, and the user pastes that.
    wrong_client = settings("google", MAILER_OAUTH_CLIENT_ID="nobody.apps.googleusercontent.com")
    with pytest.raises(SignInError) as e:
        oauth.login(wrong_client, mailbox, show=print, ask=identity.browse, prompt=lambda _: "x")
    assert str(e.value) == (
        "that is not the address the browser went to after the sign-in (it starts with "
        "http://127.0.0.1:41263/ and holds code=…); if Google showed an error instead, such as "
        "“Error 401: invalid_client”, check [oauth] client_id; then run `mailer login` again"
    )


def test_google_revoked_consent(identity: IdentityServer, project: Path) -> None:
    login(settings("google"), identity)
    identity.revoke()
    with pytest.raises(SignInError) as e:
        oauth.token_source(settings("google"), "smtp", USER).token()
    assert str(e.value) == (
        f"Google refused the saved sign-in of {USER} (invalid_grant: Token has been expired or "
        "revoked.); run `mailer login` to sign in again"
    )


# --------------------------------------------------------------- configuration


def test_what_login_needs_from_the_settings(identity: IdentityServer, project: Path) -> None:
    with pytest.raises(ConfigError, match=r'\[smtp\] auth = "xoauth2" needs \[oauth\] provider'):
        oauth.token_source(settings(MAILER_OAUTH_PROVIDER=""), "smtp", USER)
    with pytest.raises(ConfigError, match="neither \\[smtp\\] nor \\[imap\\] has a url"):
        oauth.pick_mailbox(load_settings(env={}), None)
    no_user = settings(MAILER_SMTP_URL="smtps://smtp.gmail.com")
    with pytest.raises(ConfigError, match=r"\[smtp\] url names no user"):
        oauth.pick_mailbox(no_user, None)
    two = settings(
        MAILER_IMAP_URL="imaps://other%40party.example.org@imap.example.org/INBOX",
        MAILER_IMAP_AUTH="xoauth2",
    )
    with pytest.raises(ConfigError, match="different mailboxes .*: name one with --user"):
        oauth.pick_mailbox(two, None)
    assert oauth.pick_mailbox(two, "Other@party.example.org").protocols == ("imap",)
    with pytest.raises(ConfigError, match=re.escape("--user x@y.org: no [smtp] or [imap]")):
        oauth.pick_mailbox(two, "x@y.org")
    with pytest.raises(ConfigError, match="MAILER_OAUTH_CLIENT_SECRET"):
        oauth.client_secret(None)


# ------------------------------------------ through the CLI, with real servers


@pytest.fixture
def campaign(with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", USER)
    made = run("campaign", "new", "call", "--statement", "templates/example-call")
    assert made.exit_code == 0, made.stderr
    return "call"


@pytest.fixture
def microsoft(identity: IdentityServer, monkeypatch: pytest.MonkeyPatch) -> IdentityServer:
    for name, value in {
        "MAILER_OAUTH_PROVIDER": "microsoft",
        "MAILER_OAUTH_CLIENT_ID": MS_CLIENT,
        "MAILER_OAUTH_TENANT": TENANT,
    }.items():
        monkeypatch.setenv(name, value)
    return identity


def secrets_in(project: Path, identity: IdentityServer) -> list[str]:
    """Refresh and access tokens found in any file of the project (database, settings…)."""
    tokens = [*identity.grants, *identity.access]
    texts = [p.read_bytes() for p in project.rglob("*") if p.is_file()]
    return [t for t in tokens if any(t.encode() in text for text in texts)]


def test_login_then_send_over_xoauth2(
    campaign: str,
    run: Run,
    microsoft: IdentityServer,
    smtpd_xoauth2: SmtpServer,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd_xoauth2.url("intl%40party.example.org"))
    monkeypatch.setenv("MAILER_SMTP_AUTH", "xoauth2")
    signed = run("login")
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout == (
        "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and "
        "enter the code BDJX4QZ7L to authenticate.\n"
        f"Signed in as {USER} for {USER} (SMTP); the system keyring keeps it.\n"
    )
    sent = run("send", campaign, "--rate", "unlimited", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert json.loads(sent.stdout)["sent"] == len(smtpd_xoauth2.messages) > 20
    [*tokens] = smtpd_xoauth2.recorder.tokens  # type: ignore[attr-defined]
    assert tokens and all(user == USER and accepted for user, _, accepted in tokens)
    output = signed.stdout + signed.stderr + sent.stdout + sent.stderr
    assert not [t for t in [*microsoft.grants, *microsoft.access] if t in output]
    assert secrets_in(project, microsoft) == []
    assert run("logout").stdout == f"Removed the sign-in of {USER} from the system keyring.\n"
    assert run("logout").stdout == f"{USER} was not signed in.\n"


def test_a_reconnection_after_expiry_gets_a_fresh_token(
    campaign: str,
    run: Run,
    microsoft: IdentityServer,
    smtpd_xoauth2: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd_xoauth2.url("intl%40party.example.org"))
    monkeypatch.setenv("MAILER_SMTP_AUTH", "xoauth2")
    microsoft.expires_in = 60  # every token has expired by the next connection
    assert run("login").exit_code == 0
    smtpd_xoauth2.hang_up("esteri@lol-lago.example.org", phase="data_command")  # mid-run
    monkeypatch.setenv("MAILER_SMTP_RETRY_FOR", "6")  # retry after 0.1 s, not 1 s
    sent = run("send", campaign, "--rate", "unlimited", "--concurrency", "1", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert json.loads(sent.stdout)["sent"] == len(smtpd_xoauth2.messages)
    tokens = smtpd_xoauth2.recorder.tokens  # type: ignore[attr-defined]
    assert len(tokens) == 2 and all(accepted for _, _, accepted in tokens)
    assert tokens[0][1] != tokens[1][1]
    assert microsoft.count("token:refresh_token") == 2


def test_a_token_the_server_refuses_is_renewed_once(
    campaign: str,
    run: Run,
    microsoft: IdentityServer,
    smtpd_xoauth2: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd_xoauth2.url("intl%40party.example.org"))
    monkeypatch.setenv("MAILER_SMTP_AUTH", "xoauth2")
    assert run("login").exit_code == 0
    microsoft.expire_access_tokens()  # earlier than MSAL was told
    sent = run("send", campaign, "--rate", "unlimited", "--concurrency", "1", "--limit", "2")
    assert sent.exit_code == 0, sent.stderr
    tokens = smtpd_xoauth2.recorder.tokens  # type: ignore[attr-defined]
    assert [accepted for _, _, accepted in tokens] == [False, True]
    assert len(smtpd_xoauth2.messages) == 2


def test_revoked_consent_stops_send_with_one_line(
    campaign: str,
    run: Run,
    microsoft: IdentityServer,
    smtpd_xoauth2: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", smtpd_xoauth2.url("intl%40party.example.org"))
    monkeypatch.setenv("MAILER_SMTP_AUTH", "xoauth2")
    assert run("login").exit_code == 0
    microsoft.revoke()
    sent = run("send", campaign)
    assert sent.exit_code == 1
    assert sent.stderr == (
        f"Error: Microsoft refused the saved sign-in of {USER} (invalid_grant: AADSTS50173: "
        "The provided grant has expired due to it being revoked, a fresh auth token is needed.); "
        "run `mailer login` to sign in again\n"
    )
    assert smtpd_xoauth2.messages == []


def test_login_with_a_wrong_client_is_one_line(
    run: Run, microsoft: IdentityServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_SMTP_URL", SMTP_URL)
    monkeypatch.setenv("MAILER_SMTP_AUTH", "xoauth2")
    monkeypatch.setenv("MAILER_OAUTH_CLIENT_ID", "mailer")
    result = run("login")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Microsoft refused the sign-in for {USER} (unauthorized_client: AADSTS700016: "
        "Application with identifier 'mailer' was not found in the directory 'Party'.); check "
        "[oauth] client_id and tenant against your app registration (docs/oauth.md), then run "
        "`mailer login`\n"
    )


def test_google_login_through_the_cli(
    run: Run, identity: IdentityServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person opens the address shown and pastes back where the browser landed."""
    for name, value in {
        "MAILER_SMTP_URL": "smtps://intl%40party.example.org@smtp.gmail.com",
        "MAILER_SMTP_AUTH": "xoauth2",
        "MAILER_OAUTH_PROVIDER": "google",
        "MAILER_OAUTH_CLIENT_ID": GOOGLE_CLIENT,
        "MAILER_OAUTH_CLIENT_SECRET": GOOGLE_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    process = subprocess.Popen(
        [sys.executable, "-m", "mailer", "login"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=project,
    )
    assert process.stdout and process.stdin
    lines = [process.stdout.readline() for _ in range(3)]
    address = lines[1].strip()
    assert lines[0] == "1. Open this address in a browser, on this or any other computer:\n"
    assert address.startswith(f"{identity.url}/o/oauth2/auth?")
    landed = identity.browse(address)
    assert landed.startswith("http://127.0.0.1:41263/?state=")
    process.stdin.write(landed + "\n")
    process.stdin.close()
    out = process.stdout.read()  # not communicate(): it would skip what readline buffered
    assert process.wait(timeout=60) == 0, process.stderr and process.stderr.read()
    assert out.endswith(
        f"Address: Signed in as {USER} for {USER} (SMTP); the system keyring keeps it.\n"
    )
    assert secrets_in(project, identity) == []
    assert identity.count("token:authorization_code") == 1


@pytest.mark.imap
def test_inbox_fetch_over_xoauth2_with_dovecot(
    run: Run,
    initialized: Path,
    microsoft: IdentityServer,
    imapd: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dovecot's oauth2 passdb asks the sign-in service about every token (introspection)."""
    microsoft.user = imapd.user
    monkeypatch.setenv("MAILER_IMAP_URL", imapd.url("imaps"))
    monkeypatch.setenv("MAILER_IMAP_AUTH", "xoauth2")
    signed = run("login")
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout.endswith(f"for {imapd.user} (IMAP); the system keyring keeps it.\n")
    imapd.append(reply_mail("intl@nwpa.example.org", USER, "We sign.", msgid="<1@nwpa.example>"))
    fetched = run("inbox", "fetch", "--json")
    assert fetched.exit_code == 0, fetched.stderr
    assert json.loads(fetched.stdout)["new"] == 1
    microsoft.expire_access_tokens()  # Dovecot refuses the saved token: a fresh one goes in
    imapd.append(reply_mail("esteri@lol-lago.example.org", USER, "Firmiamo.", msgid="<2@lol>"))
    assert json.loads(run("inbox", "fetch", "--json").stdout)["new"] == 1
    microsoft.revoke()
    refused = run("inbox", "fetch")
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        f"Error: Microsoft refused the saved sign-in of {imapd.user} (invalid_grant: AADSTS50173:"
    )
    assert refused.stderr.endswith("run `mailer login` to sign in again\n")
    assert secrets_in(initialized, microsoft) == []
