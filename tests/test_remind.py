"""Who gets a reminder: only organizations of the audience without an answer,
not opted out, with a working address, first sent to long enough ago; never
twice the same day; an interrupted reminder wave is finished, not restarted."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from mailer import responses
from mailer.contacts import optout
from mailer.db import open_db
from mailer.errors import MailerError
from mailer.remind import plan_reminders
from tests.conftest import Run
from tests.tracking import World, write_statement

DAY1 = "2026-03-01T09:00:00+00:00"
DAY4 = "2026-03-04T09:00:00+00:00"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAILER_NOW", "2026-03-05T10:00:00")
    db = open_db(tmp_path / "contacts.db")
    yield World(db, write_statement(tmp_path / "peace"))
    db.close()


def reminded(world: World, **kw: float) -> dict[str, list[str]]:
    plan = plan_reminders(world.db, world.campaign, **kw)
    found: dict[str, list[str]] = {}
    for r in plan.recipients:
        found.setdefault(r.org.name, []).append(r.email)
    return found


def test_only_non_responders_with_a_working_address_are_reminded(world: World) -> None:
    w = world
    orgs = {
        name: w.org(name, emails=2 if name == "Two Addresses" else 1)
        for name in (
            "Silent", "Signed", "Declined", "Auto Replied", "Said Something Else",
            "Awaiting Review", "Opted Out", "All Bounced", "Two Addresses", "Never Sent",
            "Sent Recently", "Withdrew", "Only Tested", "Unsubscribed",
        )
    }  # fmt: skip
    for name, org_id in orgs.items():
        if name == "Never Sent":
            continue
        w.send(
            org_id,
            at=DAY4 if name == "Sent Recently" else DAY1,
            test=name == "Only Tested",
        )
    w.answer(orgs["Signed"])
    w.answer(orgs["Declined"], "declined")
    w.answer(orgs["Unsubscribed"], "unsubscribed")
    w.answer(orgs["Withdrew"])
    responses.withdraw(w.db, w.campaign["id"], orgs["Withdrew"])
    w.reply(orgs["Auto Replied"], "auto_reply")
    w.reply(orgs["Said Something Else"], "other")
    w.reply(orgs["Awaiting Review"], "signon")
    optout(w.db, str(orgs["Opted Out"]))
    w.bounce_all(orgs["All Bounced"])
    second = w.addresses(orgs["Two Addresses"])[1]["email"]
    optout(w.db, second)

    plan = plan_reminders(w.db, w.campaign, after_days=3)
    assert plan.wave == 1 and not plan.resumed
    found = reminded(w, after_days=3)
    assert sorted(found) == [
        "Auto Replied",
        "Said Something Else",
        "Silent",
        "Two Addresses",
        "Withdrew",
    ]
    assert second not in found["Two Addresses"] and len(found["Two Addresses"]) == 1
    skipped = {name: reason for reason, names in plan.skipped.items() for name in names}
    assert skipped["Signed"] == skipped["Declined"] == skipped["Unsubscribed"] == "answered"
    assert "review" in skipped["Awaiting Review"]
    assert "not sent" in skipped["Never Sent"] and "not sent" in skipped["Only Tested"]
    assert "days" in skipped["Sent Recently"]
    # Out of reach of any mail, but in the campaign: accounted for as well.
    assert skipped["Opted Out"] == "opted out"
    assert skipped["All Bounced"].startswith("no address that takes mail")
    assert len(skipped) + len(found) == len(orgs)  # every organization, once


def test_after_days_is_honoured(world: World) -> None:
    org = world.org("Silent")
    world.send(org, at=DAY4)  # one day and one hour before MAILER_NOW
    assert reminded(world, after_days=3) == {}
    assert list(reminded(world, after_days=1)) == ["Silent"]
    assert list(reminded(world, after_days=0)) == ["Silent"]


def test_a_second_run_the_same_day_reminds_no_one(world: World) -> None:
    org = world.org("Silent")
    world.send(org, at=DAY1)
    plan = plan_reminders(world.db, world.campaign)
    assert plan.wave == 1 and plan.recipients
    world.send(org, wave=1, at="2026-03-05T10:00:00+00:00")  # what the engine records
    again = plan_reminders(world.db, world.campaign)
    assert again.wave == 2 and again.recipients == []


def test_an_unfinished_reminder_wave_is_resumed(world: World) -> None:
    done, left, answered = world.org("Done"), world.org("Left"), world.org("Answered Since")
    for org in (done, left, answered):
        world.send(org, at=DAY1)
    world.send(done, wave=1, at=DAY4)
    world.send(left, wave=1, state="queued", at=DAY4)
    world.send(answered, wave=1, state="deferred", at=DAY4)
    world.answer(answered)
    plan = plan_reminders(world.db, world.campaign)
    assert (plan.wave, plan.resumed) == (1, True)
    assert [r.org.name for r in plan.recipients] == ["Left"]


def test_nothing_sent_yet_is_an_error_naming_the_next_command(world: World) -> None:
    world.org("Silent")
    with pytest.raises(MailerError, match="has not been sent yet") as info:
        plan_reminders(world.db, world.campaign)
    assert info.value.hint == "Run `mailer send peace` first."


# ------------------------------------------------------------ through the CLI


@pytest.fixture
def sent(with_orgs: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> str:
    """Campaign `call`: its first message sent to 4 addresses on DAY1, to the outbox."""
    monkeypatch.setenv("MAILER_SENDER_ADDRESS", "intl@party.example.org")
    assert run("campaign", "new", "call", "--statement", "templates/example-call").exit_code == 0
    monkeypatch.setenv("MAILER_NOW", DAY1)
    assert run("send", "call", "--limit", "4").exit_code == 0
    return "call"


def remind_json(run: Run, *args: str) -> dict:
    result = run("remind", "call", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_after_days_and_limit(
    sent: str, run: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NOW", DAY4)
    assert remind_json(run, "--dry-run", "--after-days", "4")["send"] is None  # too early
    plan = remind_json(run, "--dry-run", "--after-days", "2")
    assert plan["wave"] == 1 and plan["addresses"] == 4 and plan["send"]["dry_run"]
    first = remind_json(run, "--after-days", "2", "--limit", "1")
    assert first["send"]["sent"] == 1
    rest = remind_json(run, "--after-days", "2")  # finishes the same wave
    assert (rest["wave"], rest["resumed"], rest["send"]["sent"]) == (1, True, 3)
    assert len(mailbox.Maildir(project / "outbox")) == 8
    assert remind_json(run, "--after-days", "2")["send"] is None  # no one twice the same day


def test_cli_a_resumed_wave_skips_who_signed_meanwhile(
    sent: str, run: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_NOW", DAY4)
    assert remind_json(run, "--after-days", "2", "--limit", "1")["send"]["sent"] == 1
    db = open_db(project / "contacts.db")
    waiting = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT org_id FROM message WHERE wave = 1 AND state = 'queued' ORDER BY 1"
        )
    ]
    db.close()
    assert run("sign", "call", str(waiting[0])).exit_code == 0
    rest = remind_json(run, "--after-days", "2")
    assert waiting[0] not in [o["org_id"] for o in rest["organizations"]]
    problems = rest["send"]["problems"]
    assert rest["send"]["sent"] == 3 - len(problems) and problems
    assert {p["reply"] for p in problems} == {"organization has answered"}
    assert len(mailbox.Maildir(project / "outbox")) == 4 + 1 + rest["send"]["sent"]


@pytest.mark.parametrize("days", ["-1", "abc", "nan", "inf", "1e9"])
def test_cli_bad_after_days_is_a_usage_error(sent: str, run: Run, days: str) -> None:
    result = run("remind", "call", "--after-days", days)
    assert result.exit_code == 2 and "--after-days" in result.stderr


def test_cli_unknown_campaign_and_bad_limit(sent: str, run: Run) -> None:
    unknown = run("remind", "nope")
    assert unknown.exit_code == 1 and "no campaign named 'nope'" in unknown.stderr
    zero = run("remind", "call", "--limit", "0")
    assert zero.exit_code == 2 and "--limit" in zero.stderr
