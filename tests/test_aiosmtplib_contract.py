"""What mailer/transport.py relies on inside aiosmtplib, checked against a real server.

The DATA phase is written through ``SMTP.protocol`` (an ``SMTPProtocol``) rather
than ``SMTP.data()``, so that mailer knows whether the final dot left: that is
the line between "retry" and "uncertain". None of this is aiosmtplib's documented
API, which is why pyproject.toml pins ``aiosmtplib~=5.1.2``. Each test here
exercises one thing transport.py uses, the way it uses it; a release that changes
one of them fails here before it can send a message twice or lose one.
"""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest
from aiosmtplib import SMTP, SMTPResponse
from aiosmtplib.protocol import SMTPProtocol

from mailer.transport import _flushed

SENDER, RECIPIENT = "intl@party.example.org", "info@kke.example.gr"
CONTENT = b"From: intl@party.example.org\r\nSubject: call\r\n\r\nWe call on you.\r\n"


async def connected(smtpd) -> SMTP:
    smtp = SMTP(hostname=smtpd.host, port=smtpd.port, timeout=5, start_tls=False)
    await smtp.connect()
    assert smtp.is_ehlo_or_helo_needed  # transport.py greets itself after connect()
    await smtp.ehlo()
    return smtp


async def up_to_data(smtp: SMTP) -> None:
    """MAIL, RCPT and DATA as transport.py issues them: execute_command, one by one."""
    assert (await smtp.execute_command(b"MAIL", f"FROM:<{SENDER}>".encode())).code == 250
    assert (await smtp.execute_command(b"RCPT", f"TO:<{RECIPIENT}>".encode())).code == 250
    assert (await smtp.execute_command(b"DATA")).code == 354


def protocol_of(smtp: SMTP) -> tuple[SMTPProtocol, asyncio.WriteTransport]:
    protocol = smtp.protocol
    assert isinstance(protocol, SMTPProtocol)
    transport = protocol.transport
    assert isinstance(transport, asyncio.WriteTransport)
    return protocol, transport


async def test_a_message_written_through_the_protocol_gets_its_reply_and_the_session_goes_on(
    smtpd,
):
    """write() then read_response() with nothing awaited between them (as transport.py
    does): the reply to the dot must reach read_response, not be dropped as unsolicited
    data, and the next command must get its own reply, not that one."""
    smtp = await connected(smtpd)
    assert smtp.get_transport_info("sslcontext") is None  # plain: no login allowed remotely
    protocol, transport = protocol_of(smtp)
    for _ in range(2):
        await up_to_data(smtp)
        protocol.write(CONTENT + b".\r\n")
        assert not transport.is_closing()
        reply = await protocol.read_response(timeout=5)
        assert isinstance(reply, SMTPResponse)
        assert (reply.code, reply.message) == (250, "2.0.0 OK queued")
    assert (await smtp.rset()).code == 250
    assert [m.data for m in smtpd.messages] == [CONTENT, CONTENT]
    await smtp.quit(timeout=5)
    assert not smtp.is_connected


async def test_a_large_message_drains_through_the_transport_before_the_dot(smtpd):
    """get_write_buffer_size() counts what the kernel has not taken yet; _flushed waits
    for it to reach zero, then the dot goes out on its own."""
    smtp = await connected(smtpd)
    protocol, transport = protocol_of(smtp)
    await up_to_data(smtp)
    line = b"x" * 998 + b"\r\n"
    content = CONTENT + line * (8 * 1024 * 1024 // len(line))  # 8 MB
    protocol.write(content)
    assert transport.get_write_buffer_size() > 0  # more than one write can hand over
    await _flushed(transport, 5)
    assert transport.get_write_buffer_size() == 0
    protocol.write(b".\r\n")
    assert (await protocol.read_response(timeout=5)).code == 250
    assert smtpd.messages[0].data == content
    await smtp.quit(timeout=5)


async def test_no_reply_to_the_dot_in_time_is_an_smtp_timeout(smtpd):
    smtpd.delay(RECIPIENT, 2)
    smtp = await connected(smtpd)
    protocol, _ = protocol_of(smtp)
    await up_to_data(smtp)
    protocol.write(CONTENT + b".\r\n")
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        await protocol.read_response(timeout=0.2)
    smtp.close()
    assert not smtp.is_connected


async def test_a_hang_up_after_the_dot_is_an_smtp_exception_and_writes_then_fail(smtpd):
    """transport.py catches SMTPException/OSError around read_response and write, and
    checks is_connected before each message."""
    smtpd.hang_up(RECIPIENT, phase="after_dot")
    smtp = await connected(smtpd)
    protocol, transport = protocol_of(smtp)
    await up_to_data(smtp)
    protocol.write(CONTENT + b".\r\n")
    with pytest.raises(aiosmtplib.SMTPServerDisconnected) as lost:
        await protocol.read_response(timeout=5)
    assert isinstance(lost.value, aiosmtplib.SMTPException)
    assert transport.is_closing() and not smtp.is_connected
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        protocol.write(b"NOOP\r\n")
    smtp.close()


async def test_a_hang_up_at_a_command_raises_an_smtp_exception(smtpd):
    smtpd.hang_up(RECIPIENT, phase="data_command")
    smtp = await connected(smtpd)
    assert (await smtp.execute_command(b"MAIL", f"FROM:<{SENDER}>".encode())).code == 250
    assert (await smtp.execute_command(b"RCPT", f"TO:<{RECIPIENT}>".encode())).code == 250
    with pytest.raises(aiosmtplib.SMTPException):
        await smtp.execute_command(b"DATA")
    assert not smtp.is_connected
    smtp.close()


async def test_the_tls_state_is_read_from_the_transport_info(smtpd_tls, tls_ca):
    """transport.py refuses to log in unless get_transport_info("sslcontext") is set."""
    import ssl

    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    smtp = SMTP(hostname="localhost", port=smtpd_tls.port, use_tls=True, tls_context=context)
    await smtp.connect()
    assert smtp.get_transport_info("sslcontext") is not None
    await smtp.quit(timeout=5)
