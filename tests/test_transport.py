"""Transports against real aiosmtpd servers on loopback: phases, TLS, refusals."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from mailer.config import load_settings
from mailer.errors import ConfigError, TransportError
from mailer.transport import (
    MaildirTransport,
    SmtpTransport,
    envelope_address,
    is_loopback,
    open_transport,
    reply_outcome,
)
from tests.fixtures.smtp import PASSWORD, USER

BODY = b"From: intl@party.example.org\r\nSubject: hello\r\n\r\nHello.\r\n.a line starting with a dot\r\n"
SENDER = "intl@party.example.org"


async def deliver(transport: SmtpTransport, *recipients: str, body: bytes = BODY) -> list:
    connection = transport.connection()
    outcomes = []
    for recipient in recipients:
        await connection.open()
        outcomes.append(await connection.deliver(SENDER, recipient, body))
    await connection.close()
    return outcomes


def test_reply_classification():
    assert reply_outcome(250, "2.0.0 OK").state == "sent"
    assert reply_outcome(451, "4.7.1 later").state == "queued"
    assert reply_outcome(421, "4.3.2 closing").reconnect
    failed = reply_outcome(550, "5.1.1 <x@y.org>: no such user")
    assert (failed.state, failed.invalid) == ("failed", True)
    assert reply_outcome(554, "5.7.1 spam").invalid is False
    assert reply_outcome(550, "mailbox unavailable").invalid is False


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.8.0.1", True),
        ("mail.example.org", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_plain_smtp_to_a_remote_host_needs_insecure():
    with pytest.raises(ConfigError, match="unencrypted"):
        SmtpTransport("smtp://mail.example.org:25")
    assert SmtpTransport("smtp://mail.example.org:25", insecure=True).port == 25
    with pytest.raises(ConfigError, match="password"):
        SmtpTransport("smtp://intl@mail.example.org:25", insecure=True)


def test_a_password_in_the_url_is_refused_and_not_echoed():
    with pytest.raises(ConfigError) as error:
        SmtpTransport("smtps://intl:hunter2@mail.example.org")
    assert "hunter2" not in str(error.value)


def test_default_ports():
    assert SmtpTransport("smtps://h.example.org").port == 465
    assert SmtpTransport("smtp+starttls://h.example.org").port == 587


def test_open_transport_without_login_asks_for_no_password(project, smtpd):
    transport = open_transport(load_settings(overrides={"smtp.url": smtpd.url(USER)}), login=False)
    assert transport.password is None and transport.description == smtpd.url(USER)


async def test_phases_of_failure(smtpd):
    smtpd.fail("later@x.org", "451 4.7.1 try later")
    smtpd.fail("nobody@x.org", "550 5.1.1 no such user")
    smtpd.hang_up("dropdata@x.org", phase="data_command")
    smtpd.hang_up("dropdot@x.org", phase="after_dot")
    smtpd.fail("full@x.org", "452 4.2.2 mailbox full", phase="after_dot")
    outcomes = await deliver(
        SmtpTransport(smtpd.url()),
        "ok@x.org",
        "later@x.org",
        "nobody@x.org",
        "dropdata@x.org",
        "dropdot@x.org",
        "full@x.org",
        "ok2@x.org",
    )
    assert [o.state for o in outcomes] == [
        "sent",
        "queued",
        "failed",
        "queued",
        "uncertain",
        "queued",
        "sent",
    ]
    assert outcomes[2].invalid
    # dot-stuffing survives the trip; the uncertain one did reach the server
    assert smtpd.messages[0].data.endswith(b".a line starting with a dot\r\n")
    assert set(smtpd.received()) == {"ok@x.org", "dropdot@x.org", "ok2@x.org"}


@pytest.mark.parametrize(
    "body",
    [
        b".A first line that starts with a dot\r\n\r\nbody\r\n",
        b"Subject: dots\r\n\r\n.\r\n..\r\n. x\r\nmid.dle\r\n.\r\nend\r\n",  # lone dots too
    ],
)
async def test_lines_starting_with_a_dot_arrive_as_written(smtpd, body):
    [outcome] = await deliver(SmtpTransport(smtpd.url()), "ok@x.org", body=body)
    assert outcome.state == "sent" and smtpd.messages[0].data == body


async def test_envelope_addresses_are_plain_and_idna(smtpd):
    transport = SmtpTransport(smtpd.url())
    outcomes = await deliver(transport, "intl@bücher.example", "a b@x.org", "x@y.org> NOTIFY=NEVER")
    assert [o.state for o in outcomes] == ["sent", "failed", "failed"]
    assert outcomes[1].invalid and "not a plain e-mail address" in outcomes[1].reply
    assert set(smtpd.received()) == {"intl@xn--bcher-kva.example"}
    assert envelope_address("o'brien+tag@x.org") == b"<o'brien+tag@x.org>"
    for bad in ["<a@x.org>", "a@x.org\r\nRSET", "a@x.org\x00", "äb@x.org", "a@[127.0.0.1]"]:
        with pytest.raises(ValueError):
            envelope_address(bad)
    # a sender that cannot go on the line stops the run instead of failing everyone
    connection = transport.connection()
    await connection.open()
    outcome = await connection.deliver("bad sender@x.org", "ok@x.org", BODY)
    await connection.close()
    assert outcome.fatal and outcome.state == "queued"


async def test_meanwhile_runs_once_after_the_message_is_written(smtpd):
    smtpd.delay("ok@x.org", 0.5)  # the server records the message only after this wait
    connection = SmtpTransport(smtpd.url()).connection()
    await connection.open()
    calls: list[int] = []
    outcome = await connection.deliver(
        SENDER, "ok@x.org", BODY, lambda: calls.append(len(smtpd.messages))
    )
    await connection.close()
    assert outcome.state == "sent" and calls == [0]  # before the server's reply came back


async def test_a_drop_while_the_content_is_still_going_out_is_retryable(smtpd):
    """The content is flushed before the dot, so a drop during it is known to be before the dot."""
    smtpd.hang_up("big@x.org", phase="mid_data")
    big = BODY + (b"x" * 998 + b"\r\n") * 24_000  # far more than the socket buffers hold
    [outcome] = await deliver(SmtpTransport(smtpd.url()), "big@x.org", body=big)
    assert outcome.state == "queued" and outcome.reconnect
    assert smtpd.received() == {}


async def test_the_final_dot_wait_uses_data_timeout_not_the_command_timeout(smtpd):
    smtpd.delay("slow@x.org", 1.5)
    [outcome] = await deliver(SmtpTransport(smtpd.url(), timeout=0.5), "slow@x.org")
    assert outcome.state == "sent"
    smtpd.delay("slower@x.org", 3)
    [outcome] = await deliver(SmtpTransport(smtpd.url(), data_timeout=0.5), "slower@x.org")
    assert outcome.state == "uncertain"


async def test_server_down_is_a_clear_error():
    from tests.fixtures.smtp import free_port

    connection = SmtpTransport(f"smtp://127.0.0.1:{free_port()}").connection()
    with pytest.raises(TransportError, match="cannot connect to the mail server 127.0.0.1"):
        await connection.open()


async def test_starttls_with_login(smtpd_starttls):
    transport = SmtpTransport(smtpd_starttls.url(USER), password=PASSWORD)
    assert [o.state for o in await deliver(transport, "a@x.org")] == ["sent"]
    assert smtpd_starttls.recorder.logins == [USER]


async def test_implicit_tls_with_login(smtpd_tls):
    transport = SmtpTransport(smtpd_tls.url(USER), password=PASSWORD)
    assert [o.state for o in await deliver(transport, "a@x.org")] == ["sent"]
    assert smtpd_tls.received() == {"a@x.org": 1}


async def test_no_starttls_offered_fails_before_any_login(smtpd_no_starttls):
    transport = SmtpTransport(smtpd_no_starttls.url(USER), password=PASSWORD)
    with pytest.raises(TransportError, match="does not offer STARTTLS"):
        await transport.connection().open()
    assert smtpd_no_starttls.recorder.logins == []


async def test_an_untrusted_certificate_is_a_clear_error(smtpd_tls, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    transport = SmtpTransport(smtpd_tls.url(), tls_context=ssl.create_default_context())
    with pytest.raises(TransportError, match="certificate .* could not be verified"):
        await transport.connection().open()


async def test_wrong_password_is_a_clear_error(smtpd_starttls):
    transport = SmtpTransport(smtpd_starttls.url(USER), password="wrong")
    with pytest.raises(TransportError, match="refused the login for intl"):
        await transport.connection().open()


def test_open_transport_reads_the_password_from_the_environment(project, smtpd, monkeypatch):
    monkeypatch.setenv("MAILER_SMTP_PASSWORD", "from-env")
    transport = open_transport(load_settings(overrides={"smtp.url": smtpd.url(USER)}))
    assert transport.password == "from-env"
    assert "from-env" not in transport.description


def test_open_transport_without_password_and_terminal_names_the_variable(project, smtpd):
    with pytest.raises(ConfigError, match="MAILER_SMTP_PASSWORD"):
        open_transport(load_settings(overrides={"smtp.url": smtpd.url(USER)}))


def test_no_url_means_the_maildir_outbox(project):
    transport = open_transport(load_settings())
    assert isinstance(transport, MaildirTransport)
    assert transport.path == Path(project / "outbox").resolve()


async def test_maildir_writes_real_messages(tmp_path):
    import mailbox

    connection = MaildirTransport(tmp_path / "outbox").connection()
    await connection.open()
    outcome = await connection.deliver(SENDER, "a@x.org", BODY)
    assert outcome.state == "sent"
    [message] = list(mailbox.Maildir(tmp_path / "outbox"))
    assert message["Delivered-To"] == "a@x.org" and message["Subject"] == "hello"
