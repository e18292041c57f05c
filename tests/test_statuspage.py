"""The HTML status report: who has not answered comes first, the chart reads for a
campaign of a day (hours) and of a month (days), and a real browser shows it all."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from mailer.db import open_db
from mailer.report import campaign_status
from mailer.statuspage import COLORS, status_page
from tests.fixtures.browser import Browser
from tests.tracking import World, write_statement


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAILER_NOW", "2026-03-31T18:00:00")
    db = open_db(tmp_path / "contacts.db")
    yield World(db, write_statement(tmp_path / "templates" / "peace"))
    db.close()


def _answer(world: World, org_id: int, kind: str, at: str) -> None:
    world.answer(org_id, kind)
    world.db.execute("UPDATE response SET at = ? WHERE org_id = ?", [at, org_id])


def one_day(world: World) -> dict:  # type: ignore[type-arg]
    """Sent at 09:00, answers until 14:30 the same day; one never answers, one only
    auto-replies, one has no country."""
    orgs = {name: world.org(name, country) for name, country in [
        ("Workers' League", "US"), ("Harbour Dockers", "GB"), ("Partido del Valle", "ES"),
        ("Quiet Party", "GR"), ("Away Union", "FR"), ("Stateless Front", None),
    ]}  # fmt: skip
    for org_id in orgs.values():
        world.send(org_id, at="2026-03-01T09:00:00+00:00")
    _answer(world, orgs["Workers' League"], "signed", "2026-03-01T10:15:00+00:00")
    _answer(world, orgs["Harbour Dockers"], "signed", "2026-03-01T14:30:00+00:00")
    _answer(world, orgs["Partido del Valle"], "declined", "2026-03-01T11:05:00+00:00")
    world.reply(orgs["Away Union"], "auto_reply", at="2026-03-01T09:01:00+00:00")
    return campaign_status(world.db, world.campaign)


def one_month(world: World) -> dict:  # type: ignore[type-arg]
    """Sent on the 1st, reminded on the 8th, answers through the month."""
    for day in range(1, 13):
        org_id = world.org(f"Party {day:02d}", "RS")
        world.send(org_id, at="2026-03-01T09:00:00+00:00")
        if day > 6:
            world.send(org_id, wave=1, at="2026-03-08T09:00:00+00:00")
        _answer(world, org_id, "signed", f"2026-03-{day * 2 + 4:02d}T12:00:00+00:00")
    world.send(world.org("Silent Party", "RS"), at="2026-03-01T09:00:00+00:00")
    return campaign_status(world.db, world.campaign)


def test_a_campaign_of_one_day_is_charted_by_hour(world: World) -> None:
    s = one_day(world)
    assert s["activity"]["unit"] == "hour"
    assert [b["start"][11:16] for b in s["activity"]["buckets"]] == [
        "09:00", "10:00", "11:00", "12:00", "13:00", "14:00",
    ]  # fmt: skip
    assert [b["signed"] for b in s["activity"]["buckets"]] == [0, 1, 0, 0, 0, 1]
    assert s["activity"]["buckets"][0]["sent"] == 6
    page = status_page(s, today=date(2026, 3, 2))
    labels = re.findall(r'text-anchor="middle">([^<]+)<', page)
    assert labels == ["03-01 09:00", "10:00", "11:00", "12:00", "13:00", "14:00"]
    assert "by hour (UTC)" in page


def test_a_campaign_of_a_month_is_charted_by_day(world: World) -> None:
    s = one_month(world)
    buckets = s["activity"]["buckets"]
    assert s["activity"]["unit"] == "day"
    assert (buckets[0]["start"], buckets[-1]["start"]) == (
        "2026-03-01T00:00:00+00:00",
        "2026-03-28T00:00:00+00:00",
    )
    assert len(buckets) == 28 and sum(b["signed"] for b in buckets) == 12
    assert [b["sent"] for b in buckets if b["sent"]] == [13, 6]
    labels = re.findall(r'text-anchor="middle">([^<]+)<', status_page(s, today=date(2026, 4, 1)))
    assert labels[0] == "2026-03-01" and len(labels) <= 8


def test_who_has_not_answered_comes_first(world: World) -> None:
    s = one_day(world)
    assert [(o["name"], o["state"], o["emails"]) for o in s["not_answered"]] == [
        ("Away Union", "auto_replied", ["awayunion0@awayunion.example.org"]),
        ("Quiet Party", "no_answer", ["quietparty0@quietparty.example.org"]),
        ("Stateless Front", "no_answer", ["statelessfront0@statelessfront.example.org"]),
    ]  # by country, the one without a country last
    assert [c["country"] for c in s["by_country"]][-1] is None
    page = status_page(s, today=date(2026, 3, 2))
    assert page.index("Not answered yet (3)") < page.index("Answers over time")
    assert (
        "<tr><td>Away Union</td><td>FR</td><td>awayunion0@awayunion.example.org</td>"
        "<td>an automatic reply</td><td>2026-03-01 09:01</td>"
    ) in page


def _shot(browser: Browser, page: str, tmp_path: Path) -> Image.Image:
    path = tmp_path / "status.html"
    path.write_text(page, encoding="utf-8")
    browser.open(path, width=1000, height=900)
    assert browser.problems() == []
    return Image.open(io.BytesIO(browser.screenshot())).convert("RGB")


def _rgb(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


@pytest.mark.parametrize("story", [one_day, one_month])
def test_the_report_in_a_real_browser_shows_the_chart_and_its_legend(
    world: World, browser: Browser, tmp_path: Path, story
) -> None:
    s = story(world)
    image = _shot(browser, status_page(s, today=date(2026, 4, 1)), tmp_path)
    swatches = browser.evaluate(
        "[...document.querySelectorAll('svg .legend rect')].map(r => {"
        " const b = r.getBoundingClientRect();"
        " return [r.getAttribute('fill'), b.x + b.width / 2, b.y + b.height / 2, b.width]; })"
    )
    kinds = ["signed", "declined", "sent"] if story is one_day else ["signed", "sent"]
    assert [fill for fill, *_ in swatches] == [COLORS[k] for k in kinds]
    for fill, x, y, width in swatches:
        assert width >= 10  # big enough to see
        assert image.getpixel((round(x), round(y))) == _rgb(fill), fill
    box = browser.evaluate(
        "(() => { const b = document.querySelector('svg').getBoundingClientRect();"
        " return [b.x, b.y + 30, b.right, b.bottom]; })()"
    )  # the plot, below the legend
    plot = image.crop(tuple(round(v) for v in box))
    seen = {color for _, color in plot.getcolors(maxcolors=1 << 20)}
    assert _rgb(COLORS["sent"]) in seen and _rgb(COLORS["signed"]) in seen  # bars and a line
    table = browser.evaluate(
        "[...document.querySelectorAll('table.waiting tr')].map(r => r.innerText)"
    )
    assert len(table) == 1 + len(s["not_answered"])
