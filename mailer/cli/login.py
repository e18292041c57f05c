"""``mailer login`` and ``mailer logout``: the mailbox's OAuth2 sign-in (XOAUTH2)."""

from __future__ import annotations

import click

from mailer.cli import AppContext, cli, pass_app, password_prompt

USER = click.option(
    "--user",
    metavar="EMAIL",
    help="The mailbox, when [smtp] and [imap] sign in as different ones.",
)


@cli.command()
@USER
@pass_app
def login(app: AppContext, user: str | None) -> None:
    """Sign the mailbox in with Microsoft or Google, for auth = "xoauth2".

    Microsoft: open https://microsoft.com/devicelogin on any phone or computer
    and type the code shown. Google: open the address shown in a browser
    anywhere and allow access; the browser then goes to an address starting
    with http://127.0.0.1 that does not load: copy it from the address bar and
    paste it here. The sign-in is kept in the system keyring, never in
    mailer.toml. Run this again when mailer says the sign-in was refused.
    docs/oauth.md says what to register with the provider first.

    \b
    Example:
      mailer login
    """
    from mailer.oauth import login as sign_in
    from mailer.oauth import pick_mailbox

    mailbox = pick_mailbox(app.settings, user)
    who = sign_in(app.settings, mailbox, show=click.echo, ask=_paste_back, prompt=password_prompt())
    used = " and ".join(p.upper() for p in mailbox.protocols)
    click.echo(f"Signed in as {who} for {mailbox.user} ({used}); the system keyring keeps it.")


def _paste_back(address: str) -> str:
    click.echo("1. Open this address in a browser, on this or any other computer:")
    click.echo(f"   {address}")
    click.echo("2. Sign in as the mailbox and allow access.")
    click.echo(
        "3. The browser then goes to an address starting with http://127.0.0.1 that does not"
        " load. Copy that whole address from the address bar and paste it here."
    )
    return str(click.prompt("Address", prompt_suffix=": "))


@cli.command()
@USER
@pass_app
def logout(app: AppContext, user: str | None) -> None:
    """Remove the mailbox's OAuth2 sign-in from the system keyring.

    \b
    Example:
      mailer logout
    """
    from mailer.oauth import logout as sign_out
    from mailer.oauth import pick_mailbox

    mailbox = pick_mailbox(app.settings, user)
    if sign_out(app.settings, mailbox):
        click.echo(f"Removed the sign-in of {mailbox.user} from the system keyring.")
    else:
        click.echo(f"{mailbox.user} was not signed in.")
