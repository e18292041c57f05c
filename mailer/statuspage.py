"""The one-page HTML status report: the status document as tables and a chart.

Self-contained on purpose (inline CSS, inline SVG, no script, no external
URL) so it opens offline and can be mailed to comrades as one file.
"""

from __future__ import annotations

from datetime import date, datetime
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
table.waiting td { vertical-align: top; }
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
<h2>Not answered yet ({{ s.not_answered|length }})</h2>
{% if s.not_answered %}
<table class="waiting">
<tr><th>organization</th><th>country</th><th>addresses</th><th>so far</th><th>last contact</th><th class="n">waves</th></tr>
{% for o in s.not_answered %}<tr><td>{{ o.name }}</td><td>{{ o.country or "—" }}</td><td>{{ o.emails|join(", ") }}</td><td>{{ "an automatic reply" if o.state == "auto_replied" else "nothing" }}</td><td>{{ (o.last_contact or "")[:16].replace("T", " ") }}</td><td class="n">{{ o.waves|length }}</td></tr>
{% endfor %}</table>
{% else %}
<p>{{ "Every organization that was sent the campaign has answered." if s.messages.sent else "Nothing was sent yet." }}</p>
{% endif %}
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


def _chart(activity: dict[str, Any], width: int = 720, height: int = 260) -> str:
    """Answers so far (cumulative lines, one per kind) and messages sent (bars) per
    hour, day or week, with a legend of coloured swatches above."""
    buckets = activity["buckets"]
    if not buckets:
        return "<p>Nothing sent or answered yet.</p>"
    left, right, top, bottom = 44, 12, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(buckets)
    totals = {k: sum(b[k] for b in buckets) for k in (*KINDS, "sent")}
    peak = max(max(totals[k] for k in KINDS), 1)
    peak_sent = max(b["sent"] for b in buckets) or 1

    def x(i: int) -> float:
        return left + (i + 0.5) * slot

    def y(v: float) -> float:
        return top + plot_h - v / peak * plot_h

    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"'
        ' stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    bar = max(min(slot * 0.6, 24), 1)
    for i, b in enumerate(buckets):
        if b["sent"]:
            h = b["sent"] / peak_sent * plot_h * 0.5  # bars on their own scale, half height
            parts.append(
                f'<rect x="{x(i) - bar / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}"'
                f' height="{h:.1f}" fill="{COLORS["sent"]}"><title>{_label(b["start"], activity["unit"], True)}:'
                f" {b['sent']} sent</title></rect>"
            )
    for k in KINDS:
        if not totals[k]:
            continue
        so_far, points = 0, []
        for i, b in enumerate(buckets):
            so_far += b[k]
            points.append((x(i), y(so_far)))
        parts.append(
            f'<polyline fill="none" stroke="{COLORS[k]}" stroke-width="2" points="'
            + " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            + f'"><title>{k}: {totals[k]}</title></polyline>'
        )
        parts += [
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{COLORS[k]}"/>' for px, py in points
        ]
    every = -(-len(buckets) // 8)  # at most eight labels under the axis
    parts += [
        f'<text x="{x(i):.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
        f"{_label(b['start'], activity['unit'], i == 0)}</text>"
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    parts.append(
        f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{UNIT_WORDS[activity["unit"]]}'
        "</text>"
    )
    shown = [k for k in (*KINDS, "sent") if totals[k]]
    for n, k in enumerate(shown):  # the legend: a swatch of each colour, and what it is
        at = left + 130 * n
        parts.append(
            f'<g class="legend"><rect x="{at}" y="6" width="14" height="14" fill="{COLORS[k]}"/>'
            f'<text x="{at + 20}" y="18">{k} ({totals[k]})</text></g>'
        )
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="answers and messages sent by {activity["unit"]}">'
        + "".join(parts)
        + "</svg>"
    )


UNIT_WORDS = {
    "hour": "by hour (UTC); bars: messages sent, lines: answers so far",
    "day": "by day (UTC); bars: messages sent, lines: answers so far",
    "week": "by week (UTC, from Monday); bars: messages sent, lines: answers so far",
}


def _label(start: str, unit: str, first: bool) -> str:
    """A bucket under the axis: 09:00 (the date too on the first and at midnight), 03-01."""
    when = datetime.fromisoformat(start)
    if unit == "hour" and not first and when.hour:
        return when.strftime("%H:%M")
    if unit == "hour":
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d" if first else "%m-%d")


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
        chart=Markup(_chart(status["activity"])),
    )


def write_status_page(path: Path, status: dict[str, Any]) -> None:
    """``status --html``: the page for today, written to ``path``."""
    from mailer.clock import now
    from mailer.files import write_text_file

    write_text_file(path, status_page(status, today=now().date()), "the report")
