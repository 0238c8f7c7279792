"""The judges' page, for judges who are not in the Discord server (`hackbot judging invite`).

GET /judge/{token} spends the judge's single-use link (only its SHA-256 is stored) and signs the
browser in with a session cookie (random, stored as its SHA-256, HttpOnly, SameSite=Strict,
scoped to /judge), then redirects to GET /judge/, which lists the judge's rounds ("7 of 12 done,
closes in 3 h") with a form per project: one 1-5 choice per criterion with its level
descriptions, the rules to check, a note; in a pairwise round, the next two projects and a button
for the better one. POST /judge/score, /judge/rank and /judge/choose call the same service methods
as /judge score, /judge rank and /judge choose. Answers are no-store and no-referrer.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from aiohttp import web

from bot.core.errors import HackbotError
from bot.core.judging import JudgeInfo, ReviewItem, RoundWork
from bot.web.api import SERVICES
from bot.web.judge_bundles import bundle_download, render_bundles
from bot.web.organizers import PRIVATE_HEADERS

COOKIE = "hackbot_judge"

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --line: #d0d7de; --muted: #57606a; --accent: #0550ae; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --line: #30363d; --muted: #9ea7b3; --accent: #79c0ff; }
}
html { background: var(--bg); color: var(--fg); }
body { font: 16px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 900px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
.sub, .level { color: var(--muted); }
a { color: var(--accent); }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .6rem 0; padding: .5rem .8rem; }
legend { font-weight: 600; }
label { display: inline-block; margin: .15rem .8rem .15rem 0; }
textarea, input[type=number] { font: inherit; max-width: 100%; }
button { font: inherit; padding: .4rem 1.1rem; margin-top: .4rem; }
.done { color: #1a7f37; font-weight: 600; }
.message { border-left: 4px solid var(--accent); padding: .3rem .8rem; }
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body><main>{body}</main></body></html>"""
    return web.Response(text=html, content_type="text/html", status=status, headers=PRIVATE_HEADERS)


def _hours(work: RoundWork, now) -> str:
    if work.closes is None:
        return "no close set"
    seconds = (work.closes - now).total_seconds()
    if seconds <= 0:
        return "closed"
    if seconds < 3600:
        return f"closes in {max(1, int(seconds // 60))} min"
    return f"closes in {int(seconds // 3600)} h" if seconds < 48 * 3600 else f"closes in {int(seconds // 86400)} days"


def render_work(event: str, judge: JudgeInfo, rounds: list[RoundWork], now, message: str = "") -> str:
    parts = [f"<h1>{escape(event)}: judging</h1>",
             f'<p class="sub">Signed in as {escape(judge.name)}. Keep this page to yourself.</p>']
    if message:
        parts.append(f'<p class="message" role="status">{escape(message)}</p>')
    if not rounds:
        parts.append("<p>You judge no round of this event.</p>")
    for n, work in enumerate(rounds):
        rnd = work.round
        parts.append(f"<h2>{escape(rnd.title or rnd.id)}</h2>"
                     f'<p>{work.done} of {work.total} done, {escape(_hours(work, now))}.</p>')
        if not work.open:
            continue
        if rnd.mode == "rubric":
            for item in work.items:
                last = (item.last or {}).get("criteria", {})
                head, links = _head_and_links(item)
                done = ' <span class="done">scored</span>' if item.done else ""
                fields = []
                for c in rnd.criteria:
                    options = "".join(
                        f'<label><input type="radio" name="c_{escape(c.id)}" value="{v}" required'
                        f'{" checked" if last.get(c.id) == v else ""}> {v}'
                        + (f' <span class="level">{escape(c.levels[v - 1])}</span>' if c.levels else "") + "</label>"
                        for v in range(1, 6))
                    fields.append(f"<fieldset><legend>{escape(c.title)}</legend>{options}</fieldset>")
                for k in rnd.checklist:
                    fields.append(f'<fieldset><legend>{escape(k.text)}</legend>'
                                  f'<label><input type="radio" name="k_{escape(k.id)}" value="pass"> pass</label>'
                                  f'<label><input type="radio" name="k_{escape(k.id)}" value="fail"> fail</label></fieldset>')
                note_id = f"note-{n}-{item.team_id}"
                parts.append(
                    f"<h3>{escape(head)}{done}</h3><p>{links}</p>"
                    f'<form method="post" action="/judge/score"><input type="hidden" name="round" value="{escape(rnd.id)}">'
                    f'<input type="hidden" name="team" value="{item.team_id}">{"".join(fields)}'
                    f'<label for="{note_id}">Note for the organizers (optional)</label><br>'
                    f'<textarea id="{note_id}" name="note" rows="2" cols="60" maxlength="1000"></textarea><br>'
                    f"<button>Save the score of {escape(item.team)}</button></form>")
        elif rnd.mode == "pairwise":
            parts.append(_pairs_html(rnd.id, work))
        else:
            rows = "".join(
                f'<p><label for="rank-{n}-{i.number}">{escape(i.team)}'
                + (f": {escape(i.project.title)}" if i.project else "")
                + f'</label> <input id="rank-{n}-{i.number}" type="number" name="r_{i.number}" min="1" max="{work.total}" '
                f'required value="{i.number}"></p>' for i in work.items)
            parts.append(f'<form method="post" action="/judge/rank"><input type="hidden" name="round" value="{escape(rnd.id)}">'
                         f"<p>Give each project its place, 1 for the best.</p>{rows}<button>Save the ranking</button></form>")
    return "\n".join(parts)


def _head_and_links(item: ReviewItem) -> tuple[str, str]:
    """A reviewed project's heading (team: title) and the links to its repository and demo."""
    project = item.project
    head = f"{item.team}: {project.title}" if project else item.team
    links = ""
    if project and project.repo_url:
        links += f' <a href="{escape(project.repo_url)}" rel="noreferrer">repository</a>'
    if project and project.demo_url:
        links += f' <a href="{escape(project.demo_url)}" rel="noreferrer">demo</a>'
    return head, links


def _item_html(item: ReviewItem) -> str:
    project = item.project
    head, links = _head_and_links(item)
    summary = f"<p>{escape(project.summary)}</p>" if project and project.summary else ""
    return f"<strong>{escape(head)}</strong>{links}{summary}"


def _pairs_html(round_id: str, work: RoundWork) -> str:
    """A pairwise round: the next pair, two buttons (which is better), then the pairs already
    compared, each changeable until the close."""
    out = []
    pending = [p for p in work.pairs if not p.done]
    done = [p for p in work.pairs if p.done]
    for pair in pending[:1] + done:
        a, b = pair.first, pair.second
        chosen = ""
        if pair.done:
            better = a.team if pair.better == a.team_id else b.team
            chosen = f' <span class="done">you chose {escape(better)}</span>'
        buttons = "".join(
            f'<button name="better" value="{x.team_id}">{escape(x.team)} is better</button> ' for x in (a, b))
        out.append(
            f"<h3>Which is better?{chosen}</h3><ul><li>A. {_item_html(a)}</li><li>B. {_item_html(b)}</li></ul>"
            f'<form method="post" action="/judge/choose"><input type="hidden" name="round" value="{escape(round_id)}">'
            f'<input type="hidden" name="a" value="{a.team_id}"><input type="hidden" name="b" value="{b.team_id}">'
            f"{buttons}</form>")
    if not pending:
        out.insert(0, "<p>Every comparison is done; you can change a choice until the round closes.</p>")
    return "\n".join(out)


async def _judge(request: web.Request) -> JudgeInfo | None:
    return await request.app[SERVICES].judging.judge_of_session(request.cookies.get(COOKIE))


async def open_link(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        _, session = await services.judging.open_link(request.match_info["token"])
    except HackbotError as exc:
        return _page("Judging link", f"<h1>Judging link</h1><p>{escape(str(exc))}</p>", status=403)
    response = web.Response(status=303, headers={"Location": "/judge/", **PRIVATE_HEADERS})
    response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", path="/judge",
                        secure=request.secure, max_age=60 * 60 * 24 * 30)
    return response


async def judge_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    judge = await _judge(request)
    if judge is None:
        return _page("Judging", "<h1>Judging</h1><p>Open the link the organizers sent you; it signs this browser in. "
                     "A link works once: ask them for a new one if it was used.</p>", status=403)
    rounds = await services.judging.work(judge.user_id)
    bundles = render_bundles(await services.bundles.for_judge(judge.user_id))  # bot/web/judge_bundles.py
    return _page(f"{services.config.event.name}: judging",
                 render_work(services.config.event.name, judge, rounds, services.clock(), request.query.get("message", ""))
                 + bundles)


def _session_ended() -> web.Response:
    return _page("Judging", "<h1>Judging</h1><p>Your session ended; open your link again.</p>", status=403)


def _not_saved(exc: Exception) -> web.Response:
    return _page("Judging", f"<h1>Not saved</h1><p>{escape(str(exc))}</p><p><a href=\"/judge/\">Back</a></p>",
                 status=400)


async def score(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    judge = await _judge(request)
    if judge is None:
        return _session_ended()
    form = await request.post()
    rnd = services.config.judging.round(str(form.get("round", "")))
    try:
        if rnd is None:
            raise HackbotError("unknown round; reload the page")
        levels = {c.id: str(form.get(f"c_{c.id}", "")) for c in rnd.criteria}
        checks = " ".join(f"{k.id}={form.get(f'k_{k.id}')!s}" for k in rnd.checklist if form.get(f"k_{k.id}"))
        text = " ".join(f"{cid}={value}" for cid, value in levels.items())
        scored = await services.judging.score(judge.user_id, int(str(form.get("team", "0")) or 0), text, round_id=rnd.id,
                                              checklist=checks, note=str(form.get("note", "")))
    except (HackbotError, ValueError) as exc:
        return _not_saved(exc)
    message = f"Saved your score of {scored.team}: {scored.done} of {scored.of} done."
    raise web.HTTPSeeOther(f"/judge/?message={quote(message)}", headers=PRIVATE_HEADERS)


async def rank(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    judge = await _judge(request)
    if judge is None:
        return _session_ended()
    form = await request.post()
    try:
        places = sorted(((int(str(v)), int(k[2:])) for k, v in form.items() if k.startswith("r_")))
        if len({p for p, _ in places}) != len(places):
            raise HackbotError("give each project a different place (1 for the best)")
        ranked = await services.judging.rank(judge.user_id, [n for _, n in places], round_id=str(form.get("round", "")))
    except (HackbotError, ValueError) as exc:
        return _not_saved(exc)
    raise web.HTTPSeeOther(f"/judge/?message={quote('Saved your ranking of ' + str(ranked.of) + ' projects.')}",
                           headers=PRIVATE_HEADERS)


async def choose(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    judge = await _judge(request)
    if judge is None:
        return _session_ended()
    form = await request.post()
    try:
        a, b, better = (int(str(form.get(k, "0")) or 0) for k in ("a", "b", "better"))
        if better not in (a, b):
            raise HackbotError("choose one of the two projects shown; reload the page")
        chosen = await services.judging.choose(judge.user_id, better, b if better == a else a,
                                               round_id=str(form.get("round", "")))
    except (HackbotError, ValueError) as exc:
        return _not_saved(exc)
    message = f"Saved: {chosen.team}. {chosen.done} of {chosen.of} comparisons done."
    raise web.HTTPSeeOther(f"/judge/?message={quote(message)}", headers=PRIVATE_HEADERS)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/judge/", judge_page)
    app.router.add_post("/judge/score", score)
    app.router.add_post("/judge/rank", rank)
    app.router.add_post("/judge/choose", choose)
    app.router.add_get("/judge/bundle/{team_id}", bundle_download)
    app.router.add_get("/judge/{token}", open_link)
