"""The send engine against a real aiosmtpd server: exactly once, whatever the server does."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from mailer import queue
from mailer.campaigns import audience, create_campaign
from mailer.config import Settings, load_settings
from mailer.db import open_db
from mailer.errors import Locked, TransportError
from mailer.render import build_factory
from mailer.send import SendEvent, SendOptions, SendSummary, Stop, run_wave
from tests.fixtures.smtp import SmtpServer, free_port

SENDER = "intl@party.example.org"


@dataclass
class Env:
    db: Any
    settings: Settings
    campaign: dict
    server: SmtpServer

    def emails(self) -> list[str]:
        return [r.email for r in audience(self.db, self.campaign)]

    def states(self) -> dict[str, str]:
        return {
            r["email"]: r["state"]
            for r in self.db.query("SELECT email, state FROM message WHERE is_test = 0")
        }

    def row(self, email: str) -> dict:
        return next(self.db.query("SELECT * FROM message WHERE email = ?", [email]))


def make_env(server: SmtpServer, monkeypatch: pytest.MonkeyPatch, **config: str) -> Env:
    values = {
        "sender.address": SENDER,
        "smtp.url": server.url(),
        "smtp.rate": "unlimited",
        "smtp.retry_for": "1.5",
        **config,
    }
    for key, value in values.items():
        monkeypatch.setenv("MAILER_" + key.replace(".", "_").upper(), value)
    settings = load_settings()
    db = open_db(settings.path("db.path"))
    campaign = create_campaign(db, settings, "call", Path("templates/example-call"))
    return Env(db, settings, campaign, server)


@pytest.fixture
def env(with_orgs: Path, smtpd: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(smtpd, monkeypatch)


async def send(
    env: Env,
    stop: Stop | None = None,
    concurrency: int | None = None,
    on_event: Callable[[SendEvent], None] | None = None,
    **options: Any,
) -> SendSummary:
    settings = env.settings
    if concurrency is not None:  # what --concurrency does: an override of the setting
        settings = replace(settings, values={**settings.values, "smtp.concurrency": concurrency})
    return await run_wave(
        env.db,
        settings,
        env.campaign,
        wave=0,
        recipients=None,
        options=SendOptions(**options),
        stop=stop,
        on_event=on_event,
    )


async def test_every_address_gets_the_message_once(env):
    summary = await send(env, concurrency=3)
    emails = env.emails()
    assert summary.counts["sent"] == len(emails) > 20
    assert env.server.received() == {e: 1 for e in emails}
    assert set(env.states().values()) == {"sent"}
    row = env.row(emails[0])
    assert row["last_reply"].startswith("250") and row["attempts"] == 1
    message = next(m for m in env.server.messages if m.rcpt_tos == [emails[0]])
    assert row["message_id"].encode() in message.data
    assert message.mail_from == "intl+bounce-" + row["token"] + "@party.example.org"  # VERP
    head = message.data.split(b"\r\n\r\n")[0]
    assert b"\r\nList-Unsubscribe: <mailto:intl+unsub-" + row["token"].encode() in head
    assert b"Auto-Submitted" not in head  # personal letters, not automatic replies
    # a re-run sends nothing and adds no rows
    again = await send(env)
    assert again.counts["sent"] == 0 and again.previously_sent == len(emails)
    assert env.db.execute("SELECT count(*) FROM message").fetchone()[0] == len(emails)
    assert len(env.server.messages) == len(emails)
    # every transition is in the event log
    actions = [
        r[0]
        for r in env.db.execute(
            "SELECT action FROM event WHERE entity = 'message' AND entity_id = ?", [row["id"]]
        )
    ]
    assert actions == ["sending", "sent"]


async def test_451_twice_then_accepted_is_delivered_once(env):
    target = env.emails()[3]
    env.server.fail(target, "451 4.7.1 greylisted", times=2)
    summary = await send(env)
    assert env.server.received()[target] == 1
    assert env.row(target)["state"] == "sent" and env.row(target)["attempts"] == 3
    assert summary.counts["sent"] == len(env.emails())


async def test_550_5_1_1_fails_marks_the_address_invalid_and_the_rest_continue(env):
    emails = env.emails()
    target = emails[2]
    env.server.fail(target, "550 5.1.1 no such user", times=None)
    summary = await send(env)
    assert env.row(target)["state"] == "failed"
    status = env.db.execute("SELECT status FROM address WHERE email = ?", [target]).fetchone()[0]
    assert status == "invalid"
    assert target not in env.emails()  # the audience lost it
    assert summary.counts["failed"] == 1
    assert summary.counts["sent"] == len(emails) - 1
    assert target not in env.server.received()


async def test_a_refused_recipient_among_many_leaves_the_others_delivered(env):
    refused = env.emails()[1]
    env.server.fail(refused, "554 5.7.1 policy", times=None)
    await send(env, concurrency=2)
    states = env.states()
    assert states.pop(refused) == "failed"
    assert set(states.values()) == {"sent"}


async def test_4xx_until_the_time_is_up_defers_and_the_next_run_delivers(env, monkeypatch):
    target = env.emails()[0]
    env.server.fail(target, "451 4.3.0 try later", times=None)
    summary = await send(env)
    assert summary.counts["deferred"] == 1
    row = env.row(target)
    assert row["state"] == "deferred" and row["first_deferred_at"]
    env.server.recorder.faults.clear()
    again = await send(env)
    assert again.counts["sent"] == 1 and env.row(target)["state"] == "sent"
    assert env.server.received()[target] == 1


async def test_deferred_too_long_becomes_failed(env, monkeypatch):
    target = env.emails()[0]
    env.server.fail(target, "451 4.3.0 try later", times=None)
    await send(env)
    monkeypatch.setenv("MAILER_NOW", "2099-01-01T00:00:00")
    await send(env)
    assert env.row(target)["state"] == "failed"
    assert "defer_days" in env.row(target)["last_reply"]
    assert last_event(env, target) == ("deferred", "failed", env.row(target)["last_reply"])


async def test_a_drop_at_data_is_retried_without_duplicate(env):
    target = env.emails()[4]
    env.server.hang_up(target, phase="data_command")
    await send(env, concurrency=2)
    assert env.server.received()[target] == 1
    assert env.row(target)["state"] == "sent"


async def test_a_drop_after_the_final_dot_is_uncertain_and_never_resent(env):
    emails = env.emails()
    target = emails[5]
    env.server.hang_up(target, phase="after_dot")
    summary = await send(env, concurrency=1)
    assert env.row(target)["state"] == "uncertain"
    assert summary.counts["uncertain"] == 1
    assert summary.counts["sent"] == len(emails) - 1  # the rest went on a new connection
    assert env.server.connections == 2
    await send(env)
    assert env.server.received()[target] == 1
    # --retry-uncertain sends it again, with the same Message-ID
    message_id = env.row(target)["message_id"]
    await send(env, retry_uncertain=True)
    copies = [m for m in env.server.messages if m.rcpt_tos == [target]]
    assert len(copies) == 2 and all(message_id.encode() in m.data for m in copies)
    assert env.row(target)["state"] == "sent"


async def test_server_down_at_start_is_an_error_and_nothing_is_marked_sent(
    with_orgs, smtpd, monkeypatch
):
    env = make_env(smtpd, monkeypatch, **{"smtp.url": f"smtp://127.0.0.1:{free_port()}"})
    with pytest.raises(TransportError, match="cannot connect"):
        await send(env)
    assert set(env.states().values()) == {"queued"}
    assert env.db.execute("SELECT count(*) FROM send_lock").fetchone()[0] == 0


@pytest.mark.slow
async def test_a_slow_reply_to_the_final_dot_is_waited_for_at_default_settings(env):
    target = env.emails()[0]
    env.server.delay(target, 5)
    await send(env, limit=2)
    assert env.row(target)["state"] == "sent"


async def test_rows_left_sending_by_a_dead_run_become_uncertain(env):
    await send(env, limit=3)
    first = env.emails()[0]
    env.db.execute("UPDATE message SET state = 'sending' WHERE email = ?", [first])
    summary = await send(env)
    assert summary.found_uncertain == 1
    assert env.row(first)["state"] == "uncertain"
    assert env.server.received()[first] == 1
    assert last_event(env, first) == ("sending", "uncertain", env.row(first)["last_reply"])


def last_event(env, email: str) -> tuple[str | None, str, str]:
    """The newest audit-log entry of ``email``'s message: (old state, new state, reply)."""
    old, new = env.db.execute(
        "SELECT old, new FROM event WHERE entity = 'message' AND entity_id = ?"
        " ORDER BY id DESC LIMIT 1",
        [env.row(email)["id"]],
    ).fetchone()
    change = json.loads(new)
    return (old and json.loads(old)), change["state"], change["reply"]


async def test_an_address_that_became_invalid_after_the_snapshot_is_skipped(env):
    await send(env, limit=1)
    blocked = env.emails()[1]
    env.db.execute("UPDATE address SET status = 'unsubscribed' WHERE email = ?", [blocked])
    summary = await send(env)
    assert blocked not in env.server.received()
    assert env.row(blocked)["state"] == "queued"
    assert {"email": blocked, "state": "skipped", "reply": "address is unsubscribed"} in (
        summary.problems
    )


async def test_do_not_contact_is_never_sent_to(env):
    await send(env, limit=1)
    org_id, email = env.db.execute(
        "SELECT org_id, email FROM message WHERE state = 'queued' LIMIT 1"
    ).fetchone()
    env.db.execute("UPDATE organization SET do_not_contact = 1 WHERE id = ?", [org_id])
    await send(env)
    assert email not in env.server.received()


async def test_limit_and_daily_cap(with_orgs, smtpd, monkeypatch):
    env = make_env(smtpd, monkeypatch, **{"smtp.daily_cap": "5"})
    first = await send(env, limit=2)
    assert first.counts["sent"] == 2
    second = await send(env)
    assert second.counts["sent"] == 3 and "daily cap" in second.note
    assert len(smtpd.messages) == 5


async def test_a_second_run_of_the_same_campaign_is_refused(env):
    queue_lock = queue.send_lock(env.db, env.campaign)
    with queue_lock, pytest.raises(Locked, match="is being sent by process"):
        await send(env)


async def test_a_lock_left_by_a_dead_process_is_taken_over(env):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    import socket

    env.db.execute(
        "INSERT INTO send_lock (campaign_id, pid, host, started_at) VALUES (?, ?, ?, 'x')",
        [env.campaign["id"], int(dead.stdout), socket.gethostname()],
    )
    summary = await send(env, limit=1)
    assert summary.counts["sent"] == 1


async def test_stop_claims_nothing_new_and_leaves_nothing_sending(with_orgs, smtpd, monkeypatch):
    env = make_env(smtpd, monkeypatch, **{"smtp.rate": "20/s"})
    stop = Stop()

    sent: list[str] = []

    def stop_after_the_second(event: SendEvent) -> None:
        if event.kind == "sent":
            sent.append(event.email)
            if len(sent) == 2:
                stop.request("SIGTERM")

    summary = await send(env, stop=stop, on_event=stop_after_the_second)
    assert summary.interrupted == "SIGTERM"
    states = env.states()
    assert "sending" not in states.values()
    assert 0 < list(states.values()).count("sent") < len(states)
    assert len(smtpd.messages) == list(states.values()).count("sent")
    # the rows never claimed (one built ahead among them) stay queued: not attempted
    assert summary.not_attempted == list(states.values()).count("queued") > 0


@pytest.mark.parametrize("first", [True, False])
async def test_a_template_error_for_one_organization_skips_only_its_rows(env, first):
    """Whether or not the broken organization comes first in its language, its rows
    are skipped (and a dry run says so) and every other row goes, once. Messages are
    built ahead of their turn; the error is still reported at the row's turn."""
    factory = build_factory(env.settings, env.campaign)
    rows = [r for r in audience(env.db, env.campaign) if factory.language_for(r.org) == "en"]
    country = rows[0].org.country if first else rows[-1].org.country
    statement = Path("templates/broken")
    shutil.copytree("templates/example-call", statement)
    text = statement / "en.md"
    text.write_text(
        text.read_text()
        + f"\n{{% if org.country == '{country}' %}}{{{{ missing }}}}{{% endif %}}\n"
    )
    env.campaign = create_campaign(env.db, env.settings, "broken", statement)
    broken = {r.email for r in rows if r.org.country == country}
    assert broken and len(broken) < len(env.emails())
    dry = await send(env, dry_run=True)
    assert {p["email"] for p in dry.problems} == broken
    summary = await send(env, concurrency=2)
    assert summary.counts["skipped"] == len(broken)
    assert {p["email"] for p in summary.problems} == broken
    assert all("en.md" in p["reply"] and "missing" in p["reply"] for p in summary.problems)
    assert env.server.received() == {e: 1 for e in env.emails() if e not in broken}


async def test_the_maildir_outbox_by_default(with_orgs, smtpd, monkeypatch):
    import mailbox

    env = make_env(smtpd, monkeypatch, **{"smtp.url": ""})
    monkeypatch.delenv("MAILER_SMTP_URL")
    env.settings = load_settings()
    summary = await send(env)
    box = mailbox.Maildir(env.settings.path("outbox.path"))
    assert summary.counts["sent"] == len(box) == len(env.emails())
    assert summary.transport.startswith("the outbox")


async def test_test_send_one_per_language_recorded_as_test(env):
    summary = await send(env, test_email="me@party.example.org")
    languages = sorted(r["language"] for r in env.db.query("SELECT language FROM message"))
    assert languages == ["en", "sr-Cyrl", "sr-Latn"]
    assert summary.counts["sent"] == 3
    assert env.server.received() == {"me@party.example.org": 3}
    assert env.db.execute("SELECT count(*) FROM message WHERE is_test = 0").fetchone()[0] == 0
    real = await send(env)
    assert real.counts["sent"] == len(env.emails())


async def test_dry_run_writes_nothing(env):
    summary = await send(env, dry_run=True)
    assert summary.dry_run and sum(summary.languages.values()) == len(env.emails())
    assert env.db.execute("SELECT count(*) FROM message").fetchone()[0] == 0
    assert env.server.messages == []


async def test_dkim_signature_verifies(with_orgs, smtpd, monkeypatch, tmp_path):
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    env = make_env(
        smtpd,
        monkeypatch,
        **{
            "dkim.domain": "party.example.org",
            "dkim.selector": "mail",
            "dkim.key_file": str(tmp_path / "dkim.pem"),
            "sender.unsubscribe_url": "https://party.example.org/u",
        },
    )
    await send(env, limit=1)
    [message] = smtpd.messages
    assert message.data.startswith(b"DKIM-Signature:")
    header = message.data.split(b"\r\n\r\n")[0].lower()
    assert b"list-unsubscribe:list-unsubscribe-post" in header.replace(b"\r\n", b"").replace(
        b" ", b""
    ).replace(b"\t", b"")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.party.example.org."
        return record

    assert dkim.verify(message.data, dnsfunc=dns)
    assert not dkim.verify(
        message.data.replace(b"List-Unsubscribe: <", b"List-Unsubscribe: <x"), dnsfunc=dns
    )


# ----------------------------------------- the exactly-once branches of a stop and an outage


async def stop_when_held(env: Env, stop: Stop, *signals: str) -> None:
    """Ctrl-C (each of ``signals``) once the server holds a message's final dot."""
    while env.server.held < 1:
        await asyncio.sleep(0.01)
    for name in signals:
        stop.request(name)


async def send_and_stop(env: Env, stop: Stop, *signals: str) -> SendSummary:
    """One connection; the 3rd message's final dot is held when the signals come.
    The guard only keeps a broken stop from hanging the suite."""
    env.server.hold_from(3)
    summary, _ = await asyncio.wait_for(
        asyncio.gather(send(env, stop=stop, concurrency=1), stop_when_held(env, stop, *signals)),
        timeout=60,
    )
    return summary


def after_the_stop(env: Env, summary: SendSummary, signal: str) -> None:
    """2 sent, the one in flight uncertain (in the database and the summary), the rest
    queued; the next run sends the rest and nothing twice."""
    states = env.states()
    in_flight = env.emails()[2]
    assert summary.interrupted == signal
    assert (summary.counts["sent"], summary.counts["uncertain"]) == (2, 1)
    assert summary.problems == [
        {
            "email": in_flight,
            "state": "uncertain",
            "reply": "interrupted while the message was in flight",
        }
    ]
    assert states[in_flight] == "uncertain"
    assert sorted(states.values()).count("sent") == 2
    assert set(states.values()) == {"sent", "uncertain", "queued"}
    env.server.release()


async def rerun_sends_the_rest_once(env: Env) -> None:
    summary = await send(env)
    assert summary.counts["sent"] == len(env.emails()) - 3 and not summary.interrupted
    received = env.server.received()
    assert max(received.values()) == 1  # nobody got it twice
    states = env.states()
    assert {e for e, s in states.items() if s == "sent"} <= set(received)
    assert list(states.values()).count("uncertain") == 1  # not sent again without asking


async def test_the_grace_period_ends_with_the_message_in_flight_left_uncertain(env):
    summary = await send_and_stop(env, Stop(grace=0.2), "SIGINT")
    after_the_stop(env, summary, "SIGINT")
    await rerun_sends_the_rest_once(env)


async def test_a_second_ctrl_c_cuts_the_message_in_flight_at_once(env):
    """A grace period of ten minutes: only the second Ctrl-C can end this run."""
    summary = await send_and_stop(env, Stop(grace=600), "SIGINT", "SIGINT")
    after_the_stop(env, summary, "SIGINT")
    await rerun_sends_the_rest_once(env)


async def test_a_ctrl_c_after_the_run_stopped_itself_is_still_a_first_one(env):
    """A fatal reply stops the run without a signal; a Ctrl-C then gets its grace."""
    stop = Stop(grace=600)
    stop.event.set()  # what a fatal reply or a refusing database does
    stop.cut = lambda: pytest.fail("the first Ctrl-C cut the messages in flight")
    stop.request("SIGINT")
    assert stop.signal == "SIGINT"


async def test_a_server_that_goes_away_and_comes_back_gets_every_message_once(
    with_orgs, smtpd, monkeypatch
):
    """The server drops everything at one message's DATA and refuses connections for a
    second: the message is retried (its dot never left) after reconnecting with backoff."""
    env = make_env(smtpd, monkeypatch, **{"smtp.retry_for": "30"})
    emails = env.emails()
    smtpd.outage(emails[4], 1.0)
    summary = await send(env, concurrency=1)
    assert summary.counts["sent"] == len(emails) and not summary.error, summary
    assert set(env.states().values()) == {"sent"}
    assert smtpd.received() == dict.fromkeys(emails, 1)  # each once, none lost
    assert len(smtpd.recorder.outages) == 1  # it did go away
