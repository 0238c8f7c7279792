"""The vote's web door: GET/POST /vote/<id> (the page, with a ballot-code form for voters outside
the Discord server) and GET /api/votes/<id> (JSON).

While the vote is open the page and the API show turnout only; the ranking appears only where
bot/core/votes.py says it may (live results, or after the close of a vote that decides no prize:
a prize's vote is revealed with the winners). The ballot code is a credential: the form posts
it, the page never echoes it, and the answers are no-store.
"""

from __future__ import annotations

from datetime import UTC
from html import escape

from aiohttp import web

from bot.core.clock import fmt_utc
from bot.core.errors import BadInput, HackbotError, NotFound
from bot.core.votes import BallotRefused, Candidate, VoteStatus, hidden_text
from bot.web.api import SERVICES

MAX_FORM_BYTES = 64 * 1024
RANKED_FIELDS = 10  # a ranked ballot on the page names at most this many projects

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --line: #d0d7de; --muted: #57606a;
        --ok: #1a7f37; --bad: #b42318; --accent: #0550ae; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --line: #30363d; --muted: #9ea7b3; --ok: #3fb950; --bad: #ff7b72;
          --accent: #79c0ff; }
}
html { background: var(--bg); color: var(--fg); }
body { font: 17px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 760px; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
.sub, .hint { color: var(--muted); }
.turnout { font-size: 1.4rem; font-weight: 700; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0; padding: .6rem 1rem; }
legend { font-weight: 600; padding: 0 .3rem; }
label.choice { display: flex; gap: .6rem; align-items: flex-start; padding: .45rem 0; border-bottom: 1px solid var(--line); }
label.choice:last-child { border-bottom: 0; }
label.choice input { width: 1.3rem; height: 1.3rem; margin-top: .15rem; flex: none; }
.team { color: var(--muted); font-size: .92rem; }
input[type=text], select { font: inherit; padding: .45rem .6rem; width: 100%; box-sizing: border-box;
        border: 1px solid var(--muted); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 6px; border: 0;
         background: var(--accent); color: var(--bg); cursor: pointer; }
.notice { padding: .7rem 1rem; border-radius: 8px; border: 2px solid; margin: 1rem 0; }
.notice.ok { border-color: var(--ok); }
.notice.bad { border-color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--line); text-align: left; }
td.num, th.num { text-align: right; }
"""


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body><main>
{body}
</main></body></html>"""


def _ballot_form(status: VoteStatus, candidates: list[Candidate], vote_path: str) -> str:
    vote = status.state.vote
    if not candidates:
        return '<p class="hint">No project is on the ballot yet.</p>'
    if vote.kind == "ranked":
        width = min(vote.max_choices or len(candidates), len(candidates), RANKED_FIELDS)
        options = "".join(f'<option value="{c.id}">{escape(c.title)} ({escape(c.team)})</option>' for c in candidates)
        fields = "".join(
            f'<p><label for="rank{n}">Choice {n}{" (required)" if n == 1 else ""}</label>'
            f'<select id="rank{n}" name="rank{n}"><option value="">-</option>{options}</select></p>'
            for n in range(1, width + 1)
        )
        choices = f"<fieldset><legend>Rank up to {width} projects, best first</legend>{fields}</fieldset>"
    else:
        kind = "radio" if vote.kind == "single" else "checkbox"
        how = "Choose one project" if vote.kind == "single" else f"Choose up to {vote.max_choices} projects"
        rows = "".join(
            f'<label class="choice"><input type="{kind}" name="choice" value="{c.id}">'
            f'<span>{escape(c.title)}<br><span class="team">{escape(c.team)}</span></span></label>'
            for c in candidates
        )
        choices = f"<fieldset><legend>{how}</legend>{rows}</fieldset>"
    return f"""<form method="post" action="{escape(vote_path)}">
<p><label for="code">Your ballot code</label>
<input type="text" id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false"
 required aria-describedby="code-hint"></p>
<p class="hint" id="code-hint">The organizers gave one code per attendee; a code casts one ballot. In the Discord
server, vote with <code>/vote cast</code> instead.</p>
{choices}
<p><button type="submit">Cast my ballot</button></p>
</form>"""


def _results(status: VoteStatus) -> str:
    if status.results is None:
        return ""
    rows = "".join(f'<tr><td class="num">{r.rank}</td><td>{escape(r.title)}<br><span class="team">{escape(r.team)}'
                   f'</span></td><td class="num">{r.points}</td></tr>' for r in status.results)
    return ('<h2>Results</h2><table id="results"><thead><tr><th scope="col" class="num">Rank</th>'
            f'<th scope="col">Project</th><th scope="col" class="num">Points</th></tr></thead><tbody>{rows}</tbody>'
            "</table>")


def render_vote(event: str, status: VoteStatus, candidates: list[Candidate], vote_path: str,
                notice: tuple[str, str] | None = None) -> str:
    state = status.state
    vote = state.vote
    turnout = f'<p class="turnout" id="turnout">{status.turnout} ballot{"s" if status.turnout != 1 else ""} cast</p>'
    if state.phase == "not open":
        what = f"<p>Voting opens at {escape(fmt_utc(state.opens_at))} and closes at {escape(fmt_utc(state.closes_at))}.</p>"
    elif state.phase == "open":
        what = f"<p>Open until {escape(fmt_utc(state.closes_at))}.</p>"
    else:
        what = f"<p id=\"closed\">{escape(hidden_text(state)[0].upper() + hidden_text(state)[1:])}.</p>" \
            if status.results is None else f"<p id=\"closed\">Closed at {escape(fmt_utc(state.closes_at))}.</p>"
    hidden = ""
    if status.results is None and state.phase == "open":
        hidden = '<p class="hint" id="hidden">Results stay hidden until the vote closes.</p>'
    shown = ""
    if notice is not None:
        kind, text = notice
        role = "status" if kind == "ok" else "alert"
        shown = f'<div class="notice {kind}" role="{role}" id="notice">{escape(text)}</div>'
    form = _ballot_form(status, candidates, vote_path) if vote.codes and state.phase == "open" else ""
    if not vote.codes and state.phase == "open":
        form = '<p>This vote takes ballots in the Discord server: <code>/vote cast</code>.</p>'
    body = (f"<h1>{escape(vote.title)}</h1><p class=\"sub\">{escape(event)}</p>{shown}{what}{turnout}{hidden}"
            f"{form}{_results(status)}")
    return _page(f"{vote.title}: {event}", body)


async def _view(request: web.Request, notice: tuple[str, str] | None = None, status_code: int = 200) -> web.Response:
    services = request.app[SERVICES]
    vote = services.votes.vote(request.match_info["vote"])
    status = await services.votes.status(vote.id)
    candidates = await services.votes.candidates(vote.id) if status.state.phase == "open" else []
    html = render_vote(services.config.event.name, status, candidates, f"/vote/{vote.id}", notice)
    return web.Response(text=html, content_type="text/html", status=status_code, headers=HEADERS)


async def vote_page(request: web.Request) -> web.Response:
    try:
        return await _view(request)
    except NotFound as exc:
        return web.Response(text=_page("No such vote", f"<h1>No such vote</h1><p>{escape(exc.message)}</p>"),
                            content_type="text/html", status=404, headers=HEADERS)


def _choices(form, kind: str) -> list[int]:
    values = ([form.get(f"rank{n}", "") for n in range(1, RANKED_FIELDS + 1)] if kind == "ranked"
              else form.getall("choice", []))
    picked = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not text.isdigit():
            raise BadInput("a choice is not a project of this ballot; reload the page and choose again")
        picked.append(int(text))
    return picked


async def vote_post(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        vote = services.votes.vote(request.match_info["vote"])
    except NotFound as exc:
        return web.Response(text=_page("No such vote", f"<h1>No such vote</h1><p>{escape(exc.message)}</p>"),
                            content_type="text/html", status=404, headers=HEADERS)
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return await _view(request, ("bad", "the form is too large; choose projects and send your code only"), 413)
    address = request.remote or "unknown"
    limit_key = f"vote:{vote.id}"
    try:
        await services.logins.check(address, limit_key)  # unknown codes from one address: slowed down like logins
        form = await request.post()
        receipt = await services.votes.cast_code(vote.id, str(form.get("code", "")), _choices(form, vote.kind), address)
    except BallotRefused as exc:
        if any(r.code == "code_unknown" for r in exc.reasons):
            await services.logins.failed(address, limit_key)
        return await _view(request, ("bad", _capital(exc.message)), exc.status)
    except HackbotError as exc:
        return await _view(request, ("bad", _capital(exc.message)), exc.status)
    text = f"Your ballot is recorded: {', '.join(receipt.choices)}."
    if receipt.status == "unverified":
        text += f" {_capital(receipt.message)}."
    return await _view(request, ("ok", text))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


async def vote_json(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    vote = services.votes.vote(request.match_info["vote"])
    status = await services.votes.status(vote.id)
    state = status.state
    body = {
        "vote": vote.id, "title": vote.title, "kind": vote.kind, "phase": state.phase,
        "opens": state.opens_at.astimezone(UTC).isoformat(), "closes": state.closes_at.astimezone(UTC).isoformat(),
        "closed_at": state.closed_at.astimezone(UTC).isoformat() if state.closed_at else None,
        "turnout": {"ballots": status.turnout, "counted": status.counted, "unverified": status.unverified},
        "results": None if status.results is None else [
            {"rank": r.rank, "project": r.project, "title": r.title, "team": r.team, "points": r.points,
             "votes": r.votes} for r in status.results],
    }
    if status.results is None:
        body["hidden"] = hidden_text(state)
    return web.json_response(body, headers=HEADERS)
