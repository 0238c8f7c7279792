"""GET /organizers/projects?key=...: the organizers' moderation page of the handed-in projects.

It opens with the same secret organizer link as /organizers/mentoring (`hackbot organizers
link`); without a valid key it answers 403 and says how to get one. It lists the submitted
projects, those awaiting a verdict first, each with its checks: the repository (verified, not
checked yet, or what the team must fix), its licence, the required fields, and the flags for
organizers. Each has a form: approve (eligible), "maybe", or reject with the reason the team is
told. POST /organizers/projects calls the same rule as `/admin moderate` and `hackbot projects
moderate` (ProjectService.moderate): the verdict commits with the notice the bot posts in the
team's channel. The key travels in the form's body, never in a page this one links to; answers
are no-store and no-referrer.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from aiohttp import web

from bot.core.errors import HackbotError
from bot.core.projects import Project, ProjectService
from bot.web.api import SERVICES
from bot.web.organizers import _CSS, _REFUSED, NAV_CSS, PRIVATE_HEADERS, organizers_nav

BY = "organizers' page"
LICENCE_CODES = ("no_licence", "licence_unknown", "licence_not_allowed")
_MORE_CSS = """
.project { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; }
.project h3 { margin: .1rem 0 .4rem; font-size: 1.1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .9rem; margin: .4rem 0; }
dt { font-weight: 600; }
dd { margin: 0; }
ul { margin: .2rem 0; padding-left: 1.2rem; }
a { color: inherit; }
.ok { color: var(--fg); }
textarea { font: inherit; width: 100%; max-width: 40rem; }
button { font: inherit; padding: .35rem .9rem; margin: .3rem .4rem 0 0; }
.message { border-left: 4px solid var(--line); padding: .3rem .8rem; }
.alert { border-left: 4px solid var(--warn); padding: .3rem .8rem; }
"""
VERDICT_WORDS = {"pending": "awaiting a verdict", "eligible": "eligible (approved)", "maybe": "maybe (a closer look)",
                 "ineligible": "ineligible (rejected)"}


def _licence(service: ProjectService, p: Project) -> str:
    if not service.section.licences:
        return "not checked: the event has no licence allow-list"
    notes = [n.message for n in p.warnings if n.code in LICENCE_CODES]
    if notes:
        return "; ".join(notes)
    if p.repo_url is None:
        return "no repository"
    if p.verified is None:
        return "not checked yet (the repository is checked again by itself)"
    if any(n.code in ("not_found", "private") for n in p.warnings):
        return "unknown: the repository cannot be read"
    return "on the allow-list"


def _repository(p: Project) -> str:
    if p.repo_url is None:
        return "none given"
    link = f'<a href="{escape(p.repo_url)}" rel="noreferrer">{escape(p.repo_url)}</a>'
    if p.verified is None:
        state = "not checked yet"
    elif p.verified:
        state = "checks passed"
    else:
        state = f"{len([n for n in p.warnings if n.kind == 'warning'])} problem(s) for the team to fix"
    commit = f", commit {escape(p.deadline_commit[:7])} at the deadline" if p.deadline_commit else ""
    after = f", {p.commits_after_deadline} commit(s) after it" if p.commits_after_deadline else ""
    return f"{link} ({state}{commit}{after})"


def _list(items: list[str], empty: str) -> str:
    if not items:
        return f'<span class="ok">{escape(empty)}</span>'
    return "<ul>" + "".join(f'<li class="warn">{escape(i)}</li>' for i in items) + "</ul>"


def render_project(service: ProjectService, p: Project, key: str, n: int) -> str:
    warnings = [n.message for n in p.warnings if n.code not in LICENCE_CODES]
    flags = [n.message for n in p.flags]
    demo = (f'<a href="{escape(p.demo_url)}" rel="noreferrer">{escape(p.demo_url)}</a>' if p.demo_url
            else "none given")
    reason = f" Reason given: {escape(p.moderation_reason)}" if p.moderation_reason else ""
    by = f" (by {escape(p.moderated_by)})" if p.moderated_by and p.moderation != "pending" else ""
    reason_id = f"reason-{n}"
    return f"""<section class="project" id="project-{p.id}" aria-labelledby="title-{p.id}">
<h3 id="title-{p.id}">{escape(p.team_name)}: {escape(p.title)}</h3>
<dl>
<dt>Verdict</dt><dd class="verdict">{escape(VERDICT_WORDS.get(p.moderation, p.moderation))}{by}.{reason}</dd>
<dt>Category</dt><dd>{escape(p.category or "none")}</dd>
<dt>Repository</dt><dd>{_repository(p)}</dd>
<dt>Licence</dt><dd class="licence">{escape(_licence(service, p))}</dd>
<dt>Demo</dt><dd>{demo}</dd>
<dt>Required fields</dt><dd class="required">{_list(["missing " + m for m in service.missing_fields(p)], "all given")}</dd>
<dt>Repository problems</dt><dd class="warnings">{_list(warnings, "none")}</dd>
<dt>Flags</dt><dd class="flags">{_list(flags, "none")}</dd>
</dl>
<form method="post" action="/organizers/projects">
<input type="hidden" name="key" value="{escape(key)}"><input type="hidden" name="team" value="{escape(p.team_name)}">
<label for="{reason_id}">Reason the team is told (required to reject)</label><br>
<textarea id="{reason_id}" name="reason" rows="2" maxlength="1000"></textarea><br>
<button name="verdict" value="eligible">Approve {escape(p.team_name)}</button>
<button name="verdict" value="maybe">Maybe: look again later</button>
<button name="verdict" value="ineligible">Reject {escape(p.team_name)}</button>
</form>
</section>"""


def render_moderation(event_name: str, service: ProjectService, queue: list[Project], key: str, *,
                      message: str = "", alert: str = "") -> str:
    name = escape(event_name)
    pending = sum(1 for p in queue if p.moderation == "pending")
    notes = ""
    if message:
        notes += f'<p class="message" role="status" id="message">{escape(message)}</p>'
    if alert:
        notes += f'<p class="alert" role="alert" id="alert">Not saved: {escape(alert)}</p>'
    body = "\n".join(render_project(service, p, key, n) for n, p in enumerate(queue)) or \
        '<p class="empty" id="empty">No submitted project yet.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{name}: projects to moderate (organizers)</title><style>{_CSS}{_MORE_CSS}{NAV_CSS}</style></head>
<body>{organizers_nav(key, "/organizers/projects")}<main>
<h1>{name}: projects to moderate</h1>
<p class="sub">For organizers only: do not share this page's address. {len(queue)} submitted, \
{pending} awaiting a verdict. Only eligible projects enter judging and the votes; the team is told each verdict \
in its channel.</p>
{notes}
<h2>Submitted projects</h2>
{body}
</main></body></html>"""


def _refused() -> web.Response:
    return web.Response(text=_REFUSED, status=403, content_type="text/html", headers=PRIVATE_HEADERS)


async def _page(request: web.Request, key: str, *, message: str = "", alert: str = "",
                status: int = 200) -> web.Response:
    services = request.app[SERVICES]
    try:
        service = services.projects
        service.section  # noqa: B018 - refuses when the event takes no projects
    except HackbotError as exc:
        return web.Response(text=f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Projects"
                                 f"</title></head><body><main><h1>Projects</h1><p>{escape(str(exc))}</p></main></body>"
                                 "</html>", status=404, content_type="text/html", headers=PRIVATE_HEADERS)
    html = render_moderation(services.config.event.name, service, await service.queue(), key, message=message,
                             alert=alert)
    return web.Response(text=html, status=status, content_type="text/html", headers=PRIVATE_HEADERS)


async def moderation_page(request: web.Request) -> web.Response:
    key = request.query.get("key", "")
    if not await request.app[SERVICES].organizer_links.valid(key):
        return _refused()
    return await _page(request, key, message=request.query.get("message", "")[:300])


async def moderate(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await request.post()
    key = str(form.get("key", ""))
    if not await services.organizer_links.valid(key):
        return _refused()
    team, verdict, reason = (str(form.get(f, "")) for f in ("team", "verdict", "reason"))
    try:
        ruled = await services.projects.moderate(team, verdict, reason, BY)
    except HackbotError as exc:
        return await _page(request, key, alert=f"{team}: {exc}", status=400)
    if ruled.notice_key is None:
        message = f"{ruled.project.team_name} was already {verdict} with this reason: nothing changed."
    else:
        message = f"{ruled.project.team_name} is now {verdict}; the bot tells the team in its channel."
    location = "/organizers/projects?" + urlencode({"key": key, "message": message})
    raise web.HTTPSeeOther(location, headers=PRIVATE_HEADERS)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/organizers/projects", moderation_page)
    app.router.add_post("/organizers/projects", moderate)
