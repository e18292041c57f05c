"""OAuth2 sign-in for the mailbox, for SASL XOAUTH2 on SMTP and IMAP.

``mailer login`` signs the mailbox in once, through the provider's own client
library. Microsoft: MSAL's device-code flow, which needs no browser on this
machine (the code is typed on any phone or computer). Google: its flow for
installed apps, whose address is opened in a browser anywhere and whose final
address is pasted back: Google does not allow the mail scope on its device flow.

What keeps the sign-in (MSAL's token cache; Google's refresh token and the
client secret Google requires with it) lives in the system keyring only.
:class:`TokenSource` hands transports an access token: the library renews it
when it has expired, including in the middle of a long run, and a server that
refuses one gets a freshly renewed one once.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mailer.config import Settings
from mailer.errors import ConfigError, TransportError

NAMES = {"microsoft": "Microsoft", "google": "Google"}
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Where Google sends the browser after consent: the loopback address that Google
# allows for installed apps. Nothing needs to listen there; the user copies the
# address the browser shows. The port is one no browser refuses to visit.
GOOGLE_REDIRECT = "http://127.0.0.1:41263/"
SCOPES = {
    "microsoft": {
        "smtp": "https://outlook.office.com/SMTP.Send",
        "imap": "https://outlook.office.com/IMAP.AccessAsUser.All",
    },
    "google": {"smtp": "https://mail.google.com/", "imap": "https://mail.google.com/"},
}
TIMEOUT = 30  # seconds for each request to the sign-in service
# What the user does next, by the provider's error code.
_WRONG_CLIENT = {
    "microsoft": "check [oauth] client_id and tenant against your app registration "
    "(docs/oauth.md), then run `mailer login`",
    "google": "check [oauth] client_id and the client secret against your OAuth client "
    "(docs/oauth.md), then run `mailer login`",
}
_NEXT_STEP = {
    "access_denied": "run `mailer login` again and allow access",
    "authorization_declined": "run `mailer login` again and allow access",
    "expired_token": "the code expired before the sign-in was finished; run `mailer login` again",
}
_CLIENT_ERRORS = {"invalid_client", "unauthorized_client", "invalid_request"}


class SignInError(TransportError):
    """The provider refused a sign-in or a token, or could not be reached."""


@dataclass(frozen=True)
class OAuthClient:
    """The app registration that signs the mailbox in (``[oauth]`` in mailer.toml)."""

    provider: str
    client_id: str
    tenant: str = "organizations"
    authority: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, why: str) -> OAuthClient:
        """``why`` names the setting that asked for OAuth2, e.g. ``[smtp] auth = "xoauth2"``."""
        provider, client_id = settings["oauth.provider"], settings["oauth.client_id"].strip()
        if not provider or not client_id:
            missing = "provider" if not provider else "client_id"
            raise ConfigError(
                f"{why} needs [oauth] {missing}, which is not set",
                hint='Set [oauth] provider = "microsoft" or "google" and client_id; '
                "docs/oauth.md says what to register.",
            )
        tenant = settings["oauth.tenant"].strip() or "organizations"
        if not re.fullmatch(r"[\w.-]+", tenant):
            raise ConfigError(f"[oauth] tenant: expected a tenant ID or domain, got {tenant!r}")
        return cls(provider, client_id, tenant, settings["oauth.authority"].rstrip("/"))

    @property
    def name(self) -> str:
        return NAMES[self.provider]

    def scopes(self, protocols: Iterable[str]) -> list[str]:
        """What to ask for, for the given protocols ("smtp", "imap")."""
        return sorted({SCOPES[self.provider][p] for p in protocols})


# ------------------------------------------------------------------ the keyring


def _service(client: OAuthClient) -> str:
    """The keyring entry's service: a sign-in belongs to one app registration."""
    return f"mailer oauth {client.provider} {client.client_id}"


def _load(client: OAuthClient, user: str) -> dict[str, Any] | None:
    import keyring

    try:
        stored = keyring.get_password(_service(client), user)
    except Exception:  # a broken keyring backend keeps nothing
        return None
    try:
        return json.loads(stored) if stored else None
    except ValueError:  # not ours: as good as nothing
        return None


def _save(client: OAuthClient, user: str, data: dict[str, Any]) -> None:
    import keyring

    try:
        keyring.set_password(_service(client), user, json.dumps(data))
    except Exception as e:  # noqa: BLE001 - every backend fails its own way
        raise SignInError(
            f"the sign-in could not be kept: the system keyring refused it ({type(e).__name__}: {e})",
            hint="mailer keeps sign-ins only in the system keyring; docs/oauth.md says how to "
            "set one up on a server.",
        ) from None


def forget(client: OAuthClient, user: str) -> bool:
    """Remove the saved sign-in of ``user``; False when there was none."""
    import keyring

    if _load(client, user) is None:
        return False
    try:
        keyring.delete_password(_service(client), user)
    except Exception as e:  # noqa: BLE001
        raise SignInError(f"the system keyring refused to remove the sign-in: {e}") from None
    return True


# -------------------------------------------------------------------- errors


def _first_sentence(text: str) -> str:
    """Microsoft's descriptions run on with trace and correlation IDs: keep the point."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    match = re.match(r"(.+?\.)(\s|$)", line)
    return (match.group(1) if match else line).strip()


def refused(client: OAuthClient, error: str, description: str, *, whose: str) -> SignInError:
    """One line: who refused what, the provider's own error, and what to do next."""
    detail = _first_sentence(description)
    shown = f"{error}: {detail}" if detail else error
    if error in _CLIENT_ERRORS:
        step = _WRONG_CLIENT[client.provider]
    else:
        step = _NEXT_STEP.get(error, "run `mailer login` to sign in again")
    return SignInError(f"{client.name} refused {whose} ({shown}); {step}")


def _unreachable(client: OAuthClient, error: BaseException) -> SignInError:
    reason = str(error) or type(error).__name__
    return SignInError(
        f"cannot reach the {client.name} sign-in service: {reason}",
        hint="Check the network connection; nothing was sent.",
    )


def _not_signed_in(client: OAuthClient, user: str) -> SignInError:
    return SignInError(
        f"{user} is not signed in with {client.name} (no saved sign-in in the system keyring); "
        "run `mailer login` first"
    )


# ------------------------------------------------------------------ Microsoft


class _Microsoft:
    """MSAL with its token cache kept in the keyring."""

    def __init__(self, client: OAuthClient, user: str, *, fresh: bool = False) -> None:
        import msal
        import requests

        self.client, self.user = client, user
        self.cache = msal.SerializableTokenCache()
        stored = None if fresh else _load(client, user)
        if stored and stored.get("msal_cache"):
            self.cache.deserialize(stored["msal_cache"])
        authority = f"{client.authority or MICROSOFT_AUTHORITY}/{client.tenant}"
        try:
            self.app = msal.PublicClientApplication(
                client.client_id,
                authority=authority,
                token_cache=self.cache,
                timeout=TIMEOUT,
                # A sign-in server other than Microsoft's is not in Microsoft's list.
                instance_discovery=False if client.authority else None,
            )
        except requests.RequestException as e:
            raise _unreachable(client, e) from None
        except ValueError:  # the tenant's configuration could not be had
            raise SignInError(
                f"Microsoft knows no tenant {client.tenant!r} ([oauth] tenant)",
                hint="Use your directory (tenant) ID or domain from the app registration's "
                "overview, or organizations.",
            ) from None

    def _keep(self) -> None:
        if self.cache.has_state_changed:
            _save(self.client, self.user, {"msal_cache": self.cache.serialize()})
            self.cache.has_state_changed = False

    def token(self, scopes: list[str], *, fresh: bool) -> str:
        import requests

        accounts = self.app.get_accounts()
        if not accounts:
            raise _not_signed_in(self.client, self.user)
        try:
            result = self.app.acquire_token_silent_with_error(
                scopes, accounts[0], force_refresh=fresh
            )
        except requests.RequestException as e:
            raise _unreachable(self.client, e) from None
        if not result:  # nothing in the cache can give these scopes
            raise _not_signed_in(self.client, self.user)
        if "access_token" not in result:
            raise refused(
                self.client,
                result.get("error", "error"),
                result.get("error_description", ""),
                whose=f"the saved sign-in of {self.user}",
            )
        self._keep()
        return str(result["access_token"])

    def login(self, scopes: list[str], show: Callable[[str], None]) -> str:
        """The device-code flow; returns the account that signed in."""
        import requests

        whose = f"the sign-in for {self.user}"
        try:
            flow = self.app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                raise refused(
                    self.client,
                    flow.get("error", "error"),
                    flow.get("error_description", ""),
                    whose=whose,
                )
            show(flow["message"])
            result = self.app.acquire_token_by_device_flow(flow)
        except requests.RequestException as e:
            raise _unreachable(self.client, e) from None
        if "access_token" not in result:
            error = result.get("error", "error")
            if error == "authorization_pending":  # MSAL stopped polling: the code expired
                error = "expired_token"
            raise refused(self.client, error, result.get("error_description", ""), whose=whose)
        self._keep()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or self.user)


# --------------------------------------------------------------------- Google


class _Google:
    """google-auth credentials from the refresh token kept in the keyring."""

    def __init__(self, client: OAuthClient, user: str) -> None:
        self.client, self.user = client, user
        self.credentials: Any = None

    @property
    def token_uri(self) -> str:
        return f"{self.client.authority}/token" if self.client.authority else GOOGLE_TOKEN_URI

    @property
    def auth_uri(self) -> str:
        base = self.client.authority
        return f"{base}/o/oauth2/auth" if base else GOOGLE_AUTH_URI

    def token(self, scopes: list[str], *, fresh: bool) -> str:
        from google.auth.exceptions import GoogleAuthError, RefreshError
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        if self.credentials is None:
            stored = _load(self.client, self.user)
            if not stored or not stored.get("refresh_token"):
                raise _not_signed_in(self.client, self.user)
            self.credentials = Credentials(
                None,
                refresh_token=stored["refresh_token"],
                token_uri=self.token_uri,
                client_id=self.client.client_id,
                client_secret=stored.get("client_secret"),
                scopes=scopes,
            )
        if fresh or not self.credentials.valid:
            try:
                self.credentials.refresh(Request())
            except RefreshError as e:
                data = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], dict) else {}
                raise refused(
                    self.client,
                    data.get("error") or "refresh_failed",
                    data.get("error_description") or (str(e.args[0]) if e.args else ""),
                    whose=f"the saved sign-in of {self.user}",
                ) from None
            except GoogleAuthError as e:  # the token service could not be reached
                raise _unreachable(self.client, e) from None
        return str(self.credentials.token)

    def login(self, scopes: list[str], client_secret: str, ask: Callable[[str], str]) -> str:
        """The installed-app flow: ``ask`` shows the address and returns the one pasted back."""
        import requests
        from google_auth_oauthlib.flow import Flow
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error

        config = {
            "installed": {
                "client_id": self.client.client_id,
                "client_secret": client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
            }
        }
        flow = Flow.from_client_config(config, scopes=scopes, redirect_uri=GOOGLE_REDIRECT)
        # prompt=consent: Google gives a refresh token only when consent is asked for.
        url, state = flow.authorization_url(prompt="consent", login_hint=self.user)
        code = self._code(ask(url), state)
        try:
            flow.fetch_token(code=code, timeout=TIMEOUT)
        except OAuth2Error as e:
            raise refused(
                self.client, e.error, e.description or "", whose=f"the sign-in for {self.user}"
            ) from None
        except requests.RequestException as e:
            raise _unreachable(self.client, e) from None
        refresh_token = flow.credentials.refresh_token
        if not refresh_token:
            raise SignInError("Google gave no refresh token; run `mailer login` again")
        _save(
            self.client,
            self.user,
            {"refresh_token": refresh_token, "client_secret": client_secret},
        )
        return self.user

    def _code(self, pasted: str, state: str) -> str:
        """The authorization code in the address the browser was sent to."""
        query = parse_qs(urlsplit(pasted.strip()).query)
        if "error" in query:
            raise refused(
                self.client,
                query["error"][0],
                "you did not allow access",
                whose=f"the sign-in for {self.user}",
            )
        if "code" not in query:
            raise SignInError(
                "that is not the address the browser went to after the sign-in (it starts "
                f"with {GOOGLE_REDIRECT} and holds code=…); if Google showed an error instead, "
                "such as “Error 401: invalid_client”, check [oauth] client_id; "
                "then run `mailer login` again"
            )
        if query.get("state", [""])[0] != state:
            raise SignInError(
                "that address belongs to another sign-in attempt; run `mailer login` again "
                "and paste the address from that sign-in"
            )
        return query["code"][0]


# --------------------------------------------------------------- entry points


class TokenSource:
    """Access tokens for one mailbox and protocol, renewed as they expire.

    The sign-in service is only asked when the library's token has expired (or
    ``fresh`` is asked for because a server refused one); MSAL and google-auth
    keep the token in between. ``get`` serves the event loop: one request at a
    time, off the loop's thread.
    """

    def __init__(self, client: OAuthClient, user: str, protocol: str) -> None:
        self.client, self.user = client, user
        self.scopes = client.scopes([protocol])
        self._provider: _Microsoft | _Google | None = None
        self._thread_lock = threading.Lock()
        self._lock: asyncio.Lock | None = None

    def token(self, *, fresh: bool = False) -> str:
        with self._thread_lock:
            if self._provider is None:
                self._provider = _provider(self.client, self.user)
            return self._provider.token(self.scopes, fresh=fresh)

    async def get(self, *, fresh: bool = False) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await asyncio.to_thread(self.token, fresh=fresh)


def _provider(client: OAuthClient, user: str) -> _Microsoft | _Google:
    if client.provider == "microsoft":
        return _Microsoft(client, user)
    return _Google(client, user)


def token_source(settings: Settings, protocol: str, user: str) -> TokenSource:
    """The token source for ``[smtp]`` or ``[imap]`` with ``auth = "xoauth2"``."""
    client = OAuthClient.from_settings(settings, f'[{protocol}] auth = "xoauth2"')
    return TokenSource(client, user, protocol)


@dataclass(frozen=True)
class Mailbox:
    """A mailbox that signs in with OAuth2, and the protocols it does so for."""

    user: str
    protocols: tuple[str, ...]


def mailboxes(settings: Settings) -> list[Mailbox]:
    """The users of the [smtp] and [imap] URLs that have ``auth = "xoauth2"``."""
    found: dict[str, list[str]] = {}
    servers = [
        ("smtp", settings["smtp.url"], settings["smtp.auth"]),
        ("imap", settings["imap.url"], settings["imap.auth"]),
    ]
    for protocol, url, auth in servers:
        if auth != "xoauth2" or not url:
            continue
        user = _url_user(url)
        if not user:
            raise ConfigError(
                f'[{protocol}] url names no user, which auth = "xoauth2" signs in as',
                hint=f"Write it as {protocol}…://mailbox%40example.org@host (%40 for the @).",
            )
        found.setdefault(user, []).append(protocol)
    return [Mailbox(user, tuple(protocols)) for user, protocols in found.items()]


def _url_user(url: str) -> str:
    from urllib.parse import unquote

    try:
        return unquote(urlsplit(url).username or "")
    except ValueError:  # checked when the settings loaded
        return ""


def pick_mailbox(settings: Settings, user: str | None) -> Mailbox:
    """The mailbox ``mailer login`` signs in: the only one, or the one named."""
    found = mailboxes(settings)
    if not found:
        raise ConfigError(
            'no mailbox signs in with OAuth2: neither [smtp] nor [imap] has a url and auth = "xoauth2"',
            hint='Set [smtp] auth = "xoauth2" (and [imap] auth, to read replies) in mailer.toml; '
            "docs/oauth.md walks through it.",
        )
    if user is not None:
        named = [m for m in found if m.user.lower() == user.strip().lower()]
        if not named:
            raise ConfigError(
                f'--user {user}: no [smtp] or [imap] url with auth = "xoauth2" names that '
                f"mailbox (they name {', '.join(m.user for m in found)})"
            )
        return named[0]
    if len(found) > 1:
        raise ConfigError(
            f"[smtp] and [imap] sign in as different mailboxes ({', '.join(m.user for m in found)}):"
            " name one with --user"
        )
    return found[0]


def client_secret(prompt: Callable[[str], str] | None) -> str:
    """Google's OAuth client secret, from MAILER_OAUTH_CLIENT_SECRET or a hidden prompt."""
    value = os.environ.get("MAILER_OAUTH_CLIENT_SECRET", "").strip()
    if value:
        return value
    if prompt is None:
        raise ConfigError(
            "Google needs the client secret of your OAuth client: set MAILER_OAUTH_CLIENT_SECRET "
            "or run `mailer login` in a terminal"
        )
    return prompt("Client secret of the Google OAuth client (shown with its client ID)").strip()


def login(
    settings: Settings,
    mailbox: Mailbox,
    *,
    show: Callable[[str], None],
    ask: Callable[[str], str],
    prompt: Callable[[str], str] | None,
) -> str:
    """Sign ``mailbox`` in and keep the sign-in in the keyring; returns who signed in.

    Microsoft: ``show`` gets the device-code instructions. Google: ``prompt``
    asks for the OAuth client's secret (unless MAILER_OAUTH_CLIENT_SECRET has
    it) and ``ask`` shows the consent address and returns the address pasted back.
    """
    client = OAuthClient.from_settings(settings, f'[{mailbox.protocols[0]}] auth = "xoauth2"')
    scopes = client.scopes(mailbox.protocols)
    if client.provider == "microsoft":
        # A new sign-in starts from an empty cache, so only its account is kept.
        return _Microsoft(client, mailbox.user, fresh=True).login(scopes, show)
    return _Google(client, mailbox.user).login(scopes, client_secret(prompt), ask)


def logout(settings: Settings, mailbox: Mailbox) -> bool:
    client = OAuthClient.from_settings(settings, f'[{mailbox.protocols[0]}] auth = "xoauth2"')
    return forget(client, mailbox.user)
