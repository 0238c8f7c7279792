"""The leaderboard page: rank, team, total, one column per dataset.

A submitted score is shown bold on a tinted cell; a default score (the team did not submit) is
shown grey and italic, so the risk each team took is visible at a glance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiohttp import web

from bot.core.leaderboard import Standings
from bot.web.api import SERVICES

_CSS = """
:root { color-scheme: light dark; --line: #d0d7de; --muted: #6e7781; --good: #1a7f37; --bad: #cf222e; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { margin: 0 0 .2rem; font-size: 1.6rem; }
.sub { color: var(--muted); margin-bottom: 1.2rem; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .55rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { font-weight: 600; position: sticky; top: 0; background: Canvas; }
th small { display: block; font-weight: 400; color: var(--muted); }
td.team, th.team { text-align: left; }
td.rank { width: 2.5rem; color: var(--muted); }
td.total { font-weight: 700; }
tr.podium td.rank { color: inherit; font-weight: 700; }
td.submitted { font-weight: 600; background: color-mix(in srgb, var(--good) calc(var(--s) * 30%), transparent); }
td.default { color: var(--muted); font-style: italic; }
.legend { margin-top: .8rem; color: var(--muted); font-size: .9rem; }
.legend span { padding: 0 .4rem; }
.empty { padding: 2rem; text-align: center; color: var(--muted); }
"""


def _cell(cell, visible: bool) -> str:
    if not visible:
        mark = "submitted" if cell.submitted else "—"
        return f'<td class="{"submitted" if cell.submitted else "default"}" style="--s:1">{mark}</td>'
    kind = "submitted" if cell.submitted else "default"
    title = "submitted" if cell.submitted else "not submitted: default score"
    return f'<td class="{kind}" style="--s:{cell.score:.3f}" title="{title}">{cell.score:.3f}</td>'


def render_leaderboard(standings: Standings, event_name: str, now: datetime) -> str:
    phase = standings.phase
    head = "".join(
        f'<th title="{escape(ds.name)}">{ds.id}<small>{escape(ds.name)} · {ds.points:g} pt</small></th>'
        for ds in standings.datasets
    )
    rows = []
    for row in standings.rows:
        rank = row.rank if row.rank is not None else ""
        total = f"{row.total:.3f}" if row.total is not None else ""
        podium = ' class="podium"' if row.rank is not None and row.rank <= 3 else ""
        cells = "".join(_cell(c, standings.visible) for c in row.cells)
        rows.append(
            f'<tr{podium}><td class="rank">{rank}</td><td class="team">{escape(row.team)}</td>'
            f'<td class="total">{total}</td>{cells}</tr>'
        )
    colspan = 3 + len(standings.datasets)
    body = "".join(rows) or f'<tr><td class="empty" colspan="{colspan}">No team yet.</td></tr>'
    phase_text = f"phase {escape(phase.name or phase.id)}" if phase else "no phase"
    hidden = "" if standings.visible else " · scores hidden until the organizers announce them"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>{escape(event_name)} leaderboard</title><style>{_CSS}</style></head>
<body>
<h1>{escape(event_name)} — leaderboard</h1>
<div class="sub">{phase_text} · maximum {standings.max_total:g} points{hidden} · <a href="/schedule">schedule</a> · \
updated {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</div>
<div class="wrap"><table id="leaderboard">
<thead><tr><th>#</th><th class="team">Team</th><th>Total</th>{head}</tr></thead>
<tbody>{body}</tbody></table></div>
<div class="legend"><b>bold</b><span>submitted accuracy</span> <i>grey italic</i><span>default score (not submitted)</span></div>
</body></html>"""


async def leaderboard_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    standings = await services.leaderboard.standings(request.query.get("phase"))
    html = render_leaderboard(standings, services.config.event.name, services.clock())
    return web.Response(text=html, content_type="text/html")
