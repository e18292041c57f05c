"""The one-page HTML status report: the status document as tables and a chart.

Self-contained on purpose (inline CSS, inline SVG, no script, no external
URL) so it opens offline and can be mailed to comrades as one file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment

from mailer.responses import KINDS

COLORS = {
    "signed": "#2e7d32",
    "declined": "#c62828",
    "acted": "#1565c0",
    "unsubscribed": "#6d4c41",
    "sent": "#b0bec5",
}

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ s.title }} — status</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
.sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: .4rem; padding: .5rem .8rem; min-width: 6.5rem; }
.card b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .25rem .5rem; text-align: left; }
td.n, th.n { text-align: right; }
.state { padding: 0 .4rem; border-radius: .3rem; background: #eee; }
.signed { background: #c8e6c9; } .declined { background: #ffcdd2; } .acted { background: #bbdefb; }
.bounced, .unsubscribed { background: #d7ccc8; } .replied { background: #fff9c4; }
svg text { font-size: 11px; fill: #444; }
</style>
</head>
<body>
<h1>{{ s.title }}</h1>
<p class="sub">{{ s.campaign }} · {{ s.kind }}{% if s.deadline %} · deadline {{ s.deadline }}{% endif %} · report of {{ today }}</p>
<div class="cards">
<div class="card"><b>{{ s.organizations }}</b>organizations</div>
{% for k in kinds %}<div class="card"><b>{{ s.responses[k] }}</b>{{ k }}</div>
{% endfor %}<div class="card"><b>{{ s.replied }}</b>replied</div>
<div class="card"><b>{{ s.auto_replied }}</b>auto-replied</div>
<div class="card"><b>{{ s.bounced }}</b>bounced</div>
<div class="card"><b>{{ s.no_answer }}</b>no answer</div>
<div class="card"><b>{{ s.not_sent }}</b>not sent</div>
</div>
<h2>Answers over time</h2>
{{ chart }}
<h2>Waves</h2>
<table>
<tr><th>wave</th><th class="n">organizations</th>{% for m in s.messages %}<th class="n">{{ m }}</th>{% endfor %}
<th class="n">bounced</th><th class="n">auto-replied</th><th class="n">replied</th>{% for k in kinds %}<th class="n">{{ k }}</th>{% endfor %}<th class="n">no answer</th></tr>
{% for w in s.by_wave %}<tr><td>{{ "first send" if w.wave == 0 else "reminder " ~ w.wave }}</td><td class="n">{{ w.organizations }}</td>
{% for m in s.messages %}<td class="n">{{ w.messages[m] }}</td>{% endfor %}
<td class="n">{{ w.bounced }}</td><td class="n">{{ w.auto_replied }}</td><td class="n">{{ w.replied }}</td>{% for k in kinds %}<td class="n">{{ w[k] }}</td>{% endfor %}<td class="n">{{ w.no_answer }}</td></tr>
{% endfor %}</table>
<h2>By country</h2>
<table>
<tr><th>country</th><th class="n">organizations</th>{% for st in states %}<th class="n">{{ st.replace("_", " ") }}</th>{% endfor %}</tr>
{% for c in s.by_country %}<tr><td>{{ c.country or "—" }}</td><td class="n">{{ c.organizations }}</td>{% for st in states %}<td class="n">{{ c[st] }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Organizations</h2>
<table>
<tr><th>organization</th><th>country</th><th>state</th><th class="n">messages</th><th>last contact</th></tr>
{% for o in s.by_org %}<tr><td>{{ o.name }}</td><td>{{ o.country or "" }}</td><td><span class="state {{ o.state }}">{{ o.state.replace("_", " ") }}</span></td><td class="n">{{ o.messages }}</td><td>{{ (o.last_contact or "")[:16].replace("T", " ") }}</td></tr>
{% endfor %}</table>
</body>
</html>
"""


def _chart(timeline: list[dict[str, Any]], width: int = 720, height: int = 220) -> str:
    """Cumulative answers per kind as lines, messages sent per day as bars."""
    if not timeline:
        return "<p>Nothing sent or answered yet.</p>"
    left, bottom, top = 40, 30, 10
    days = [date.fromisoformat(t["date"]) for t in timeline]
    span = max((days[-1] - days[0]).days, 1)
    totals = dict.fromkeys(KINDS, 0)
    series: dict[str, list[tuple[float, int]]] = {k: [] for k in KINDS}
    peak_sent = max(t["sent"] for t in timeline) or 1

    def x(day: date) -> float:
        return left + (day - days[0]).days / span * (width - left - 10)

    bars = []
    for day, t in zip(days, timeline, strict=True):
        if t["sent"]:
            h = t["sent"] / peak_sent * (height - bottom - top) * 0.5
            bars.append(
                f'<rect x="{x(day) - 3:.1f}" y="{height - bottom - h:.1f}" width="6" '
                f'height="{h:.1f}" fill="{COLORS["sent"]}"><title>{t["date"]}: {t["sent"]} sent'
                "</title></rect>"
            )
        for k in KINDS:
            totals[k] += t[k]
            series[k].append((x(day), totals[k]))
    peak = max(max(totals.values()), 1)

    def y(v: int) -> float:
        return height - bottom - v / peak * (height - bottom - top)

    lines = [
        f'<polyline fill="none" stroke="{COLORS[k]}" stroke-width="2" points="'
        + " ".join(f"{px:.1f},{y(v):.1f}" for px, v in points)
        + f'"><title>{k}: {totals[k]}</title></polyline>'
        for k, points in series.items()
        if totals[k]
    ]
    totals["sent"] = sum(t["sent"] for t in timeline)
    shown = [k for k in (*KINDS, "sent") if totals[k]]
    legend = [
        f'<text x="{left + 110 * i}" y="{height - 5}" fill="{COLORS[k]}">■ {k} ({totals[k]})</text>'
        for i, k in enumerate(shown)
    ]
    axis = (
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        f'stroke="#999"/><text x="{left - 5}" y="{top + 8}" text-anchor="end">{peak}</text>'
        f'<text x="{left - 5}" y="{height - bottom}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - bottom + 13}">{days[0]}</text>'
        f'<text x="{width - 10}" y="{height - bottom + 13}" text-anchor="end">{days[-1]}</text>'
    )
    return (
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="answers over time">'
        + axis
        + "".join(bars)
        + "".join(lines)
        + "".join(legend)
        + "</svg>"
    )


def status_page(status: dict[str, Any], *, today: date) -> str:
    """The whole page for one campaign's status document."""
    from markupsafe import Markup

    from mailer.report import STATES

    env = Environment(autoescape=True)
    return env.from_string(TEMPLATE).render(
        s=status,
        kinds=KINDS,
        states=STATES,
        today=today.isoformat(),
        chart=Markup(_chart(status["timeline"])),
    )


def write_status_page(path: Path, status: dict[str, Any]) -> None:
    """``status --html``: the page for today, written to ``path``."""
    from mailer.clock import now
    from mailer.files import write_text_file

    write_text_file(path, status_page(status, today=now().date()), "the report")
