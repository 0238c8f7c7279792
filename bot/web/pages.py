"""The leaderboard page (GET /): server-rendered HTML, kept up to date in place by a small script.

Rank, team and total stay in place (sticky) while the dataset columns scroll sideways under a
sticky header; long team names are capped with the full name on hover; a dataset's header is its
id and points with its full name on hover. `?view=projector` shows the top N (`top`, default 15)
full width in large type with the countdown; `?team=NAME` highlights that team's row and scrolls
to it; every row has an anchor (`#team-...`). A submitted score is bold on a tinted cell, a default
score (the team did not submit) grey and italic.

Every rendering comes from the board's cache (bot/core/board.py): built once per change in a
worker thread, gzipped once, answered 304 when the browser already has it. The script polls
GET /api/leaderboard with the ETag it holds and redraws the rows only when something changed,
keeping the scroll position, the sort, the search and the highlighted team.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape

from aiohttp import web

from bot.core.board import Board
from bot.core.errors import BadInput
from bot.web.api import SERVICES
from bot.web.boards import BOARDS, PageView
from bot.web.cached import send

TIE_MARK = '<abbr class="tie" title="statistically tied with the team above">≈</abbr>'
PROJECTOR_TOP = 15  # rows on the projector by default
POLL_SECONDS = 15  # how often an open page asks whether the board changed
PROJECTOR_POLL_SECONDS = 10

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5394"/>'
    '<path d="M7 25V15h5v10zm6.5 0V8h5v17zM20 25V12h5v13z" fill="#fff"/></svg>'
)

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --line: #d0d7de; --muted: #57606a;
  --good: #1a7f37; --link: #0550ae; --me: #fff1a8; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --line: #30363d;
  --muted: #9198a1; --good: #3fb950; --link: #6cb6ff; --me: #4d3b00; --head: #161b22; } }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 1rem auto; max-width: 1280px; padding: 0 1rem;
  background: var(--bg); color: var(--fg); }
a { color: var(--link); }
h1 { margin: 0 0 .2rem; font-size: 1.5rem; }
.sub { color: var(--muted); margin: 0 0 .5rem; }
.sub b { color: var(--fg); }
nav.phases a { margin-right: .8rem; }
nav.phases a[aria-current] { font-weight: 700; color: var(--fg); text-decoration: none; }
form.find { margin: .4rem 0 .6rem; display: flex; gap: .4rem; align-items: center; flex-wrap: wrap; }
form.find input { font: inherit; padding: .2rem .4rem; width: 14rem; max-width: 60vw;
  background: var(--bg); color: var(--fg); border: 1px solid var(--muted); border-radius: 4px; }
form.find button, th button { font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; }
form.find button { border: 1px solid var(--muted); border-radius: 4px; padding: .2rem .6rem; }
.wrap { overflow: auto; max-height: calc(100vh - 10rem); min-height: 12rem; border: 1px solid var(--line); }
.wrap:focus-visible { outline: 3px solid var(--link); }
table { border-collapse: separate; border-spacing: 0; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap;
  background: var(--bg); }
thead th { position: sticky; top: 0; z-index: 2; background: var(--head); font-weight: 600; vertical-align: bottom; }
th small, td small { display: block; font-weight: 400; font-style: normal; color: var(--muted); font-size: .8em; }
.rank { position: sticky; left: 0; z-index: 1; width: 3rem; min-width: 3rem; color: var(--muted); }
.team { position: sticky; left: 3rem; z-index: 1; text-align: left; width: 13rem; min-width: 13rem; max-width: 13rem; }
.team span { display: block; overflow: hidden; text-overflow: ellipsis; }
.team .ns { font-size: .8em; color: var(--muted); font-style: italic; }
.total { position: sticky; left: 16rem; z-index: 1; font-weight: 700; border-right: 1px solid var(--line); }
table.hidden .team { left: 0; }
thead .rank, thead .team, thead .total { z-index: 3; }
td.last { color: var(--muted); font-size: .9em; }
tr.podium td.rank { color: var(--fg); font-weight: 700; }
tr.nosub td { color: var(--muted); }
td.submitted { font-weight: 600; background: color-mix(in srgb, var(--good) 16%, var(--bg)); }
td.default { color: var(--muted); font-style: italic; }
tr.me td, tr:target td { background: var(--me); }
abbr.tie { text-decoration: none; margin-left: .2rem; color: var(--fg); }
.legend { margin-top: .6rem; color: var(--muted); font-size: .9rem; }
.empty { padding: 1.5rem 0; font-size: 1.1rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
#countdown { font-weight: 600; color: var(--fg); }
@media (max-width: 640px) {
  body { margin: .5rem auto; padding: 0 .5rem; font-size: 14px; }
  h1 { font-size: 1.2rem; }
  .rank { width: 2.4rem; min-width: 2.4rem; }
  .team { left: 2.4rem; width: 8.5rem; min-width: 8.5rem; max-width: 8.5rem; }
  .total { left: 10.9rem; }
  .wrap { max-height: calc(100vh - 12rem); }
}
body.projector { max-width: none; font-size: clamp(16px, 1.1vw, 30px); margin: .5rem 1.5rem; }
body.projector table { width: 100%; }
body.projector td small { display: none; }
body.projector h1 { font-size: 2em; }
body.projector #countdown { font-size: 1.4em; }
body.projector .wrap { max-height: none; }
body.projector .rank { width: 3.5em; min-width: 3.5em; }
body.projector .team { left: 3.5em; width: 12em; min-width: 12em; max-width: 12em; }
body.projector .total { left: 15.5em; }
body.projector td.last, body.projector th.last { display: none; }
"""

# The rows as the server draws them (rowHtml mirrors _row); the poll redraws them in place.
_JS = r"""
(() => {
const cfg = JSON.parse(document.getElementById("board-config").textContent);
const table = document.getElementById("leaderboard");
const wrap = document.querySelector(".wrap");
const search = document.getElementById("q");
const months = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#x27;"}[c]));
const two = (n) => String(n).padStart(2, "0");
const when = (iso) => {
  if (!iso) return "—";
  const d = new Date(iso);
  const day = `${two(d.getUTCDate())} ${months[d.getUTCMonth()]}`;
  return `<time datetime="${esc(iso)}">${day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}</time>`;
};
const fmt = (x) => Number(x).toFixed(3);
const teamOf = (r) => r.querySelector(".team span").title;
function rowHtml(t, data) {
  const visible = data.visibility === "live";
  const cls = [];
  if (visible && t.rank !== null && t.rank <= 3) cls.push("podium");
  if (!t.last_submitted) cls.push("nosub");
  let h = `<tr id="${t.anchor}"${cls.length ? ` class="${cls.join(" ")}"` : ""}>`;
  const tie = t.tied_above ? '<abbr class="tie" title="statistically tied with the team above">≈</abbr>' : "";
  if (visible) h += `<td class="rank">${t.rank}${tie}</td>`;
  const nosub = t.last_submitted ? "" : '<span class="ns">no submission yet</span>';
  h += `<td class="team"><span title="${esc(t.team)}">${esc(t.team)}</span>${nosub}</td>`;
  if (visible) h += `<td class="total">${fmt(t.total)}</td>`;
  h += `<td class="last">${when(t.last_submitted)}</td>`;
  for (const ds of data.datasets) {
    const c = t.scores[String(ds.id)];
    const kind = c.submitted ? "submitted" : "default";
    if (!visible) { h += `<td class="${kind}">${c.submitted ? "✓" : "—"}</td>`; continue; }
    const wg = c.worst_group === null || c.worst_group === undefined ? ""
      : `<small>wg ${fmt(c.worst_group)}</small>`;
    h += `<td class="${kind}">${fmt(c.score)}${wg}</td>`;
  }
  return h + "</tr>";
}
let sortCol = null;
function applySort() {
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const first = cfg.visible ? 4 : 2;
  rows.sort((a, b) => {
    if (sortCol === null) return Number(a.dataset.pos) - Number(b.dataset.pos);
    const va = parseFloat(a.cells[first + sortCol].textContent), vb = parseFloat(b.cells[first + sortCol].textContent);
    return (vb - va) || (Number(a.dataset.pos) - Number(b.dataset.pos));
  });
  for (const r of rows) body.appendChild(r);
  for (const th of table.querySelectorAll("th[data-col]")) {
    if (Number(th.dataset.col) === sortCol) th.setAttribute("aria-sort", "descending");
    else th.removeAttribute("aria-sort");
  }
}
function numberRows() { if (table) Array.from(table.tBodies[0].rows).forEach((r, i) => { r.dataset.pos = i; }); }
function filter() {
  if (!table || !search) return;
  const needle = search.value.trim().toLowerCase();
  for (const r of table.tBodies[0].rows) r.hidden = needle !== "" && !teamOf(r).toLowerCase().includes(needle);
}
let me = new URLSearchParams(location.search).get("team");
function highlight(scroll) {
  if (!table || !me) return;
  const needle = me.trim().toLowerCase();
  let found = null;
  for (const r of table.tBodies[0].rows) {
    const name = teamOf(r).toLowerCase();
    const hit = name === needle;
    r.classList.toggle("me", hit);
    if (hit) found = r;
  }
  if (!found) for (const r of table.tBodies[0].rows) {
    if (teamOf(r).toLowerCase().includes(needle)) { found = r; r.classList.add("me"); break; }
  }
  if (found && scroll) {
    found.scrollIntoView({block: "center"});
    if (wrap) wrap.scrollLeft = 0;
  }
  const status = document.getElementById("find-status");
  if (status) status.textContent = found ? `${teamOf(found)}: rank ${found.cells[0].textContent}`
    : `no team matches “${me}”`;
}
if (table) {
  numberRows();
  for (const th of table.querySelectorAll("th[data-col]")) {
    th.querySelector("button").addEventListener("click", () => {
      const col = Number(th.dataset.col);
      sortCol = sortCol === col ? null : col;
      applySort();
    });
  }
  highlight(true);
}
const form = document.querySelector("form.find");
if (form && search) {
  search.addEventListener("input", filter);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    me = search.value.trim();
    search.value = "";
    filter();
    const url = new URL(location.href);
    if (me) url.searchParams.set("team", me); else url.searchParams.delete("team");
    history.replaceState(null, "", url);
    highlight(true);
  });
}
let etag = cfg.etag;
let offset = 0;  // the server's clock minus this device's
async function poll() {
  try {
    const answer = await fetch(cfg.api, {cache: "no-store", headers: etag ? {"If-None-Match": etag} : {}});
    const server = Date.parse(answer.headers.get("X-Server-Time") || "");
    if (!Number.isNaN(server)) { offset = server - Date.now(); tick(); }
    if (answer.status !== 200) return;
    const data = await answer.json();
    const ids = data.datasets.map((d) => d.id).join(",");
    const same = ids === cfg.datasets.join(",") && (data.visibility === "live") === cfg.visible;
    if (!table || !same || data.final !== cfg.final) {
      location.reload();  // the columns changed: a new phase, a board revealed or final
      return;
    }
    etag = answer.headers.get("ETag");
    const keep = [wrap.scrollTop, wrap.scrollLeft, window.scrollX, window.scrollY];
    table.tBodies[0].innerHTML = data.teams.map((t) => rowHtml(t, data)).join("");
    numberRows(); applySort(); filter(); highlight(false);
    wrap.scrollTop = keep[0]; wrap.scrollLeft = keep[1]; window.scrollTo(keep[2], keep[3]);
    const count = document.getElementById("team-count");
    if (count) count.textContent = data.total_teams;
    const sub = document.getElementById("submitted-count");
    if (sub) sub.textContent = data.submitted_teams;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (e) { /* offline for a moment: the next poll tries again */ }
}
window.boardPoll = poll;
setInterval(poll, cfg.every * 1000);
poll();  // at once: a 304 that tells the server's time
const countdown = document.getElementById("countdown");
function tick() {
  if (!countdown || !countdown.dataset.deadline) return;
  const left = Math.floor((Date.parse(countdown.dataset.deadline) - Date.now() - offset) / 1000);
  if (left <= 0) { countdown.textContent = countdown.dataset.after; return; }
  const d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
  countdown.textContent = `${countdown.dataset.label} in ${d ? d + "d " : ""}${two(h)}:${two(m)}:${two(s)}`;
}
tick(); setInterval(tick, 1000);
})();
"""


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    at = datetime.fromtimestamp(timestamp, UTC)
    return f'<time datetime="{at:%Y-%m-%dT%H:%M:%SZ}">{at:%d %b %H:%M}</time>'


def _row(board: Board, i: int) -> str:
    row, visible = board.rows[i], board.visible
    classes = []
    if visible and row.rank is not None and row.rank <= 3:
        classes.append("podium")
    if row.last_submitted is None or row.kind != "team":  # baselines and disqualified teams: greyed
        classes.append("nosub")
    cls = f' class="{" ".join(classes)}"' if classes else ""
    name = escape(row.team)
    parts = [f'<tr id="{board.anchors[i]}"{cls}>']
    if visible:
        tie = TIE_MARK if board.tied_above[i] else ""
        parts.append(f'<td class="rank">{"" if row.rank is None else row.rank}{tie}</td>')
    nosub = "" if row.last_submitted is not None else '<span class="ns">no submission yet</span>'
    if row.kind != "team":  # issue 16: a badge instead of a rank
        nosub = f'<span class="ns">{row.kind}</span>'
    parts.append(f'<td class="team"><span title="{name}">{name}</span>{nosub}</td>')
    if visible:
        parts.append(f'<td class="total">{row.total:.3f}</td>')
    parts.append(f'<td class="last">{_when(row.last_submitted)}</td>')
    for j, cell in enumerate(row.cells):
        kind = "submitted" if cell.submitted else "default"
        if not visible:
            parts.append(f'<td class="{kind}">{"✓" if cell.submitted else "—"}</td>')
            continue
        worst = board.worst[i][j]
        wg = f"<small>wg {worst:.3f}</small>" if worst is not None else ""
        parts.append(f'<td class="{kind}">{cell.score:.3f}{wg}</td>')
    parts.append("</tr>")
    return "".join(parts)


def _countdown(board: Board, config_closes: datetime | None, phase_starts: dict[datetime, str]) -> str:
    if board.deadline is None:
        text = "submissions closed" if board.closed else "no deadline left"
        return f'<span id="countdown">{text}</span>'
    if config_closes is not None and board.deadline == config_closes:
        label, after = "submissions close", "submissions closed"
    else:
        label, after = f"phase {phase_starts.get(board.deadline, '')} starts", "the next phase has started"
    at = board.deadline.astimezone(UTC)
    return (f'<span id="countdown" data-deadline="{at.isoformat()}" data-label="{escape(label)}" '
            f'data-after="{escape(after)}">{escape(label)} {at:%d %b %H:%M} UTC</span>')


def render_leaderboard(board: Board, config, *, view: str = "", top: int = PROJECTOR_TOP, api: str = "/api/leaderboard",
                       etag: str = "") -> str:
    """The whole page for one board and view ("" or "projector")."""
    event = escape(config.event.name)
    phase = board.standings.phase
    projector = view == "projector"
    visible = board.visible
    shown = range(min(top, len(board.rows))) if projector else range(len(board.rows))
    phase_name = escape(phase.name or phase.id) if phase else "no phase"
    phase_starts = {p.starts: (p.name or p.id) for p in config.phases}
    countdown = _countdown(board, config.submissions.closes, phase_starts)
    description = f"Live leaderboard of {config.event.name}: ranks, totals and scores per dataset of every team."

    switch = ""
    if len(board.phases) > 1:
        links = []
        for p in board.phases:
            current = ' aria-current="page"' if phase and p.id == phase.id else ""
            view_q = "&amp;view=projector" if projector else ""
            links.append(f'<a href="/?phase={escape(p.id)}{view_q}"{current}>{escape(p.name or p.id)}</a>')
        switch = f'<nav class="phases" aria-label="Phases">Phase: {"".join(links)}</nav>'

    if not board.datasets:
        main = _no_datasets(config)
        table = ""
        heading = f"{phase_name}"
    else:
        heading = (f'{phase_name} · <b id="team-count">{len(board.rows)}</b> teams, '
                   f'<b id="submitted-count">{board.submitted_teams}</b> submitted')
        if visible:
            heading += f" · maximum {board.standings.max_total:g} points"
        else:
            heading += " · scores hidden until the organizers announce them"
        if board.final and visible:
            heading += " · final"
        main = ""
        table = _table(board, shown)
    find = "" if projector or not board.datasets or not board.rows else (
        '<form class="find" role="search" action="/" method="get">'
        + (f'<input type="hidden" name="phase" value="{escape(phase.id)}">' if phase else "")
        + '<label for="q">Find your team</label><input id="q" name="team" type="search" autocomplete="off">'
        '<button type="submit">Find</button><span id="find-status" role="status"></span></form>'
    )
    phase_q = f"?phase={phase.id}" if phase else ""
    limit_q = (("&" if phase_q else "?") + f"limit={top}") if projector else ""
    config_js = json.dumps({
        "api": api + phase_q + limit_q, "etag": etag, "visible": visible, "final": board.final,
        "every": PROJECTOR_POLL_SECONDS if projector else POLL_SECONDS,
        "datasets": [ds.id for ds in board.datasets],
    }).replace("</", "<\\/")
    script = f'<script id="board-config" type="application/json">{config_js}</script><script>{_JS}</script>' \
        if board.datasets else ""
    body_class = "projector" if projector else "board"
    projector_link = "" if projector else \
        ' · <a href="?view=projector' + ("&amp;phase=" + escape(phase.id) if phase else "") + '">projector</a>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{escape(description)}">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>{event} leaderboard</title><style>{_CSS}</style></head>
<body class="{body_class}">
<header>
<h1>{event} — leaderboard</h1>
<p class="sub">{heading} · {countdown} · <a href="/schedule">schedule</a>{projector_link}</p>
{switch}{find}
</header>
<main>{main}{table}</main>
{script}
</body></html>"""


def _table(board: Board, shown: range) -> str:
    visible = board.visible
    if not board.rows:
        return '<p class="empty">No team yet: teams appear here once they are registered.</p>'
    heads = []
    for j, ds in enumerate(board.datasets):
        groups = " · worst group shown" if board.has_groups[j] and visible else ""
        title = escape(f"{ds.name} ({ds.points:g} pt{'s' if ds.points != 1 else ''}){groups}")
        label = f"{ds.id}<small>{ds.points:g} pt</small>"
        inner = f'<button type="button" title="{title}">{label}</button>' if visible else f'<span title="{title}">{label}</span>'
        heads.append(f'<th scope="col" data-col="{j}" title="{title}">{inner}</th>')
    rank = '<th scope="col" class="rank">#</th>' if visible else ""
    total = '<th scope="col" class="total">Total</th>' if visible else ""
    rows = "".join(_row(board, i) for i in shown)
    if visible:
        legend = ('<p class="legend"><b>bold</b> on green: the submitted accuracy · <i>grey italic</i>: the dataset\'s '
                  "default score (not submitted) · wg: worst-group accuracy, where the dataset has groups · "
                  "ties rank the earlier last submission first"
                  + (" · ≈: statistically tied with the team above (paired bootstrap, 95%)" if board.final else "")
                  + " · click a dataset to sort by it</p>")
    else:
        legend = '<p class="legend">✓: the team submitted for this dataset · —: not yet</p>'
    cls = "" if visible else ' class="hidden"'
    return f"""<div class="wrap" tabindex="0" role="region" aria-label="Leaderboard table (scrolls sideways and down)">
<table id="leaderboard"{cls}><caption class="sr-only">Teams by rank, with their scores per dataset</caption>
<thead><tr>{rank}<th scope="col" class="team">Team</th>{total}<th scope="col" class="last">Last submission (UTC)</th>\
{"".join(heads)}</tr></thead>
<tbody>{rows}</tbody></table></div>{legend}"""


def _no_datasets(config) -> str:
    """An event judged on projects (NumHack): its prizes, not an empty scoreboard."""
    parts = [f'<p class="empty">{escape(config.event.name)} has no scored datasets: teams hand in projects, '
             "judged for the prizes below.</p>"]
    prizes = getattr(config, "prizes", [])
    if prizes:
        items = "".join(
            f"<li><b>{escape(p.title)}</b>" + (f" — {escape(', '.join(p.rewards))}" if p.rewards else "")
            + (f"<br><span>{escape(p.description)}</span>" if p.description else "") + "</li>"
            for p in prizes
        )
        parts.append(f"<h2>Prizes</h2><ul>{items}</ul>")
    return "".join(parts)


def _top(request: web.Request) -> int:
    raw = request.query.get("top", str(PROJECTOR_TOP))
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise BadInput(f"top={raw!r} is not a number of rows; use 1 to 500")
    return int(raw)


async def leaderboard_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    view = request.query.get("view", "")
    if view not in ("", "projector"):
        raise BadInput(f"view={view!r} is not a view; use view=projector or leave it out")
    top = _top(request)
    rendered = await request.app[BOARDS].rendered(request.query.get("phase"), PageView(view, top))
    return send(request, rendered, "text/html", services.clock())


async def favicon(request: web.Request) -> web.Response:
    return web.Response(text=FAVICON, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})
