"""GET /organizers/mentoring?key=...: the organizers' page of the help queue and the perks.

It opens with a secret organizer link (`hackbot organizers link`; bot/core/organizer_links.py);
without a valid key it answers 403 and says how to get one. It shows, per tag, the median and
90th-percentile time to claim and to resolve, the tags no mentor on duty covers, the tickets
waiting now, the mentors by weighted rating, and each perk's stock and claim count: never a perk
code. The answer is no-store and no-referrer (the key stays out of caches and other sites' logs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from bot.core.mentoring import MentoringReport, Ticket
from bot.core.perks import PerkStock
from bot.web.api import SERVICES

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}

# Every organizers' page, in the order of the nav that links them with the same key.
ORGANIZER_PAGES = (
    ("/organizers/mentoring", "Help queue and perks"),
    ("/organizers/projects", "Projects to moderate"),
    ("/organizers/reminders", "Posted reminders"),
)

NAV_CSS = """
nav.organizers { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: 0 0 1rem; padding: .3rem 0;
  border-bottom: 1px solid var(--line, #d0d7de); }
nav.organizers a { color: #0550ae; }
@media (prefers-color-scheme: dark) { nav.organizers a { color: #6cb6ff; } }
nav.organizers a[aria-current="page"] { color: inherit; font-weight: 600; text-decoration: none; }
"""


def organizers_nav(key: str, current: str, *, projects: bool = True) -> str:
    """The links between the organizers' pages, each carrying the same organizer key; the page shown is marked.
    The projects page is left out of an event that takes no projects."""
    query = escape(urlencode({"key": key}))
    links = [
        f'<a href="{path}?{query}"' + (' aria-current="page"' if path == current else "") + f">{label}</a>"
        for path, label in ORGANIZER_PAGES if projects or path != "/organizers/projects"
    ]
    return f'<nav class="organizers" aria-label="Organizers\' pages">{"".join(links)}</nav>'


_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --line: #d0d7de; --muted: #57606a; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --line: #30363d; --muted: #9ea7b3; --warn: #d29922; }
}
html { background: var(--bg); color: var(--fg); }
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { margin: 0 0 .2rem; font-size: 1.6rem; }
h2 { margin: 1.8rem 0 .6rem; font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.sub, .note, .empty { color: var(--muted); }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding-bottom: .3rem; }
th, td { padding: .35rem .55rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; }
.warn { color: var(--warn); font-weight: 600; }
"""


def _table(caption: str, headers: list[str], rows: list[list[str]], table_id: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty" id="{table_id}-empty">{escape(empty)}</p>'
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return (f'<div class="wrap"><table id="{table_id}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def _td(value: object, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<td{klass}>{escape(str(value))}</td>"


def _th_row(value: object) -> str:
    return f'<th scope="row">{escape(str(value))}</th>'


def _age(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def render_organizers(event_name: str, report: MentoringReport, waiting: list[Ticket], claimed: list[Ticket],
                      stock: list[PerkStock], now: datetime, nav: str = "") -> str:
    tags = _table(
        "Times count from opening; a ticket still waiting counts as waiting at least that long.",
        ["Tag", "Opened", "Claimed", "Resolved", "Waiting", "Claim median", "Claim p90", "Resolve median",
         "Resolve p90"],
        [[_th_row(r.tag), _td(r.opened), _td(r.claimed), _td(r.resolved), _td(r.waiting), _td(r.claim_median),
          _td(r.claim_p90), _td(r.resolve_median), _td(r.resolve_p90)] for r in report.tags],
        "tags", "No help ticket yet.",
    )
    if report.uncovered:
        coverage = (f'<p class="warn" id="uncovered">No mentor on duty for: '
                    f'{escape(", ".join(report.uncovered))}.</p>')
    else:
        coverage = '<p id="uncovered">Every tag has a mentor on duty.</p>'
    duty = ", ".join(f"{m} ({', '.join(t) or 'no tag'})" for m, t in report.on_duty.items()) or "nobody"
    queue = _table(
        "Oldest first: the order mentors claim them in.",
        ["Ticket", "Team", "Tags", "Waiting for", "Status"],
        [[_th_row(f"#{t.number}"), _td(t.team, "text"), _td(", ".join(t.tags) or "-", "text"),
          _td(_age(t.opened_at, now)), _td("claimed" if t.status == "claimed" else "waiting")]
         for t in [*waiting, *claimed]],
        "queue", "No ticket is open.",
    )
    mentors = _table(
        "Weighted: a mentor's mean pulled toward the event's mean by 5 imaginary ratings, so one 5 does not top "
        "a long record.",
        ["Mentor (Discord id)", "Ratings", "Mean", "Weighted"],
        [[_th_row(m.mentor), _td(m.count), _td(f"{m.mean:.2f}"), _td(f"{m.score:.2f}")] for m in report.ratings],
        "ratings", "No rating yet.",
    )
    perks = _table(
        "Codes are never shown here; `hackbot perks claims PERK` lists who claimed.",
        ["Perk", "For", "Codes", "Claimed", "Left", "Warn at"],
        [[_th_row(p.perk.title), _td(p.perk.who.replace("_", " ")), _td(p.total), _td(p.claimed),
          _td(p.left, "warn" if p.low else ""), _td(p.perk.low_stock)] for p in stock],
        "perks", "This event hands out no perks.",
    )
    name = escape(event_name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{name}: help queue and perks (organizers)</title><style>{_CSS}{NAV_CSS}</style></head>
<body>{nav}<main>
<h1>{name}: help queue and perks</h1>
<p class="sub">For organizers only: do not share this page's address. {report.open} waiting, {report.claimed} \
claimed now · updated {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</p>
<h2>Help tickets by tag</h2>
{tags}
<h2>Mentors on duty</h2>
{coverage}
<p class="note" id="on-duty">On duty: {escape(duty)}.</p>
<h2>Open tickets</h2>
{queue}
<h2>Mentors' ratings</h2>
{mentors}
<h2>Perks</h2>
{perks}
</main></body></html>"""


_REFUSED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Organizers only</title></head>
<body><main><h1>Organizers only</h1>
<p>This page opens with an organizer link. An organizer makes one with
<code>hackbot organizers link</code>; a link stops working after <code>hackbot organizers revoke</code>.</p>
</main></body></html>"""


async def refused(request: web.Request) -> web.Response | None:
    """The 403 of every organizers' page when the request has no valid organizer link; None when it has one."""
    if await request.app[SERVICES].organizer_links.valid(request.query.get("key")):
        return None
    return web.Response(text=_REFUSED, status=403, content_type="text/html", headers=PRIVATE_HEADERS)


async def organizers_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if (no := await refused(request)) is not None:
        return no
    if services.mentoring.enabled:
        report = await services.mentoring.report()
        waiting, claimed = await services.mentoring.queue(), await services.mentoring.claimed()
    else:
        report = MentoringReport(services.clock(), [], [], {}, [], 0, 0)
        waiting, claimed = [], []
    stock = await services.perks.stock()
    nav = organizers_nav(request.query.get("key", ""), "/organizers/mentoring",
                         projects=services.config.projects is not None)
    html = render_organizers(services.config.event.name, report, waiting, claimed, stock, services.clock(), nav)
    return web.Response(text=html, content_type="text/html", headers=PRIVATE_HEADERS)
