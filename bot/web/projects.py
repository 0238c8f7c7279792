"""Projects over HTTP: the team's API (POST /api/projects, GET /api/projects/mine) with its API
credentials, and the public gallery (/projects, /projects/{id}), shown once the deadline passed;
before it, the gallery says when it opens and shows nothing.

Credentials: HTTP Basic (`curl -u username:password`), or the fields `username` and `password`
of the JSON body or form, as POST /reveal/ takes them. Never in a query string (logs keep URLs).
"""

from __future__ import annotations

import base64
import binascii
import json
from html import escape
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.core.clock import fmt_utc
from bot.core.errors import BadCredentials, BadInput, NotFound
from bot.core.projects import Project, ProjectInput, Saved
from bot.core.teams import Team
from bot.web.api import SERVICES, _with_login

_FIELDS = ("send JSON (or a form) with title, summary, repo, demo, category, opt_ins, answers, action "
           "(submit | draft | edit) and version (the version you read, to change a project)")
MAX_BODY = 64 * 1024


def _basic(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise BadCredentials("the Authorization header is not Basic base64(username:password)") from None
    return user, password


async def _login(request: web.Request, body: dict[str, Any]) -> Team:
    services = request.app[SERVICES]
    creds = _basic(request) or (str(body.get("username") or ""), str(body.get("password") or ""))
    if not creds[0] or not creds[1]:
        raise BadCredentials("give the team's API username and password (curl -u username:password)")
    team: Team = await _with_login(request, creds[0], services.teams.authenticate, creds[0], creds[1])
    return team


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadInput(f"the body is larger than {MAX_BODY:,} bytes; {_FIELDS}")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BadInput(f"the body is larger than {MAX_BODY:,} bytes; {_FIELDS}")
    if request.content_type == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadInput(f"the body is not valid JSON; {_FIELDS}") from None
        if not isinstance(data, dict):
            raise BadInput(f"the JSON body must be an object; {_FIELDS}")
        return data
    form = await request.post()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    if "opt_ins" in data:
        data["opt_ins"] = [x for x in (s.strip() for s in data["opt_ins"].split(",")) if x]
    return data


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{key} must be a string; {_FIELDS}")
    return value


def project_json(p: Project) -> dict[str, Any]:
    return {
        "id": p.id, "team": p.team_name, "version": p.version, "status": p.status, "title": p.title,
        "summary": p.summary, "repo_url": p.repo_url, "demo_url": p.demo_url, "category": p.category,
        "opt_ins": list(p.opt_ins), "answers": p.answers, "verified": p.verified,
        "warnings": [n.message for n in p.warnings], "moderation": p.moderation,
        "moderation_reason": p.moderation_reason, "deadline": p.deadline.isoformat() if p.deadline else None,
        "updated_by": p.updated_by, "updated_at": p.updated_at.isoformat(),
    }


async def post_project(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await _body(request)
    team = await _login(request, body)
    action = body.get("action", "submit")
    if action not in ("submit", "draft", "edit"):
        raise BadInput(f"action must be submit, draft or edit, got {str(action)[:20]!r}")
    version = body.get("version")
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise BadInput("version must be the project's version number you read (GET /api/projects/mine)")
    opt_ins = body.get("opt_ins") or []
    answers = body.get("answers") or {}
    if not isinstance(opt_ins, list) or not all(isinstance(x, str) for x in opt_ins):
        raise BadInput("opt_ins must be a list of prize ids")
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise BadInput("answers must be an object of question id to text")
    title = _text(body, "title")
    if title is None:
        raise BadInput(f"missing title; {_FIELDS}")
    data = ProjectInput(title=title, summary=_text(body, "summary") or "", repo=_text(body, "repo"),
                        demo=_text(body, "demo"), category=_text(body, "category"), opt_ins=tuple(opt_ins),
                        answers=tuple(answers.items()))
    submit = {"submit": True, "draft": False, "edit": None}[action]
    saved: Saved = await services.projects.save(team.id, f"api:{team.username}", data, submit=submit,
                                                expected_version=version)
    return web.json_response(project_json(saved.project), status=201 if saved.created else 200)


async def my_project(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    team = await _login(request, {})
    project = await services.projects.of_team(team.id)
    if project is None:
        raise NotFound("your team has no project yet; POST /api/projects creates it")
    return web.json_response(project_json(project))


# --- the gallery ---------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light dark; --line: #d0d7de; --muted: #596069; --bg: #ffffff; --fg: #1f2328;
        --link: #0550ae; }
body { background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, sans-serif; margin: 1.5rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
.sub { color: var(--muted); }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
nav a { display: inline-block; padding: .3rem .7rem; border: 1px solid var(--line); border-radius: 1rem; }
nav a[aria-current] { font-weight: 700; }
.grid { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
.card h2 { font-size: 1.15rem; margin: 0 0 .3rem; }
.meta { color: var(--muted); font-size: .95rem; }
.summary { white-space: pre-wrap; }
a { color: var(--link); }
@media (prefers-color-scheme: dark) {
  :root { --muted: #a0a8b0; --bg: #0d1117; --fg: #e6edf3; --link: #8cb4ff; --line: #30363d; }
}
"""


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><main>{body}</main></body></html>")


def render_gallery(event: str, projects: list[Project], categories: list[str], chosen: str | None,
                   opens: str | None) -> str:
    head = f"<h1>{escape(event)}: projects</h1>"
    if opens is not None:
        return _page(f"{event} projects", head + f'<p class="sub">The gallery opens at {escape(opens)}, after the '
                                                 "deadline. Teams see their own project with /project show.</p>")
    nav = ""
    if categories:
        links = [f'<li><a href="/projects"{" aria-current=page" if chosen is None else ""}>All</a></li>']
        for c in categories:
            current = " aria-current=page" if chosen and c.casefold() == chosen.casefold() else ""
            links.append(f'<li><a href="/projects?category={quote(c)}"{current}>{escape(c)}</a></li>')
        nav = f'<nav aria-label="Categories"><ul>{"".join(links)}</ul></nav>'
    cards = []
    for p in projects:
        meta = " · ".join(x for x in (escape(p.team_name), escape(p.category or "")) if x)
        cards.append(f'<li class="card"><h2><a href="/projects/{p.id}">{escape(p.title)}</a></h2>'
                     f'<p class="meta">{meta}</p><p>{escape(p.summary[:280])}</p></li>')
    listing = f'<ul class="grid">{"".join(cards)}</ul>' if cards else '<p class="sub">No project here.</p>'
    return _page(f"{event} projects", head + f'<p class="sub">{len(projects)} project(s)</p>' + nav + listing)


def render_project(event: str, p: Project) -> str:
    rows = [f"<h1>{escape(p.title)}</h1>", f'<p class="meta">by team {escape(p.team_name)}'
            + (f" · {escape(p.category)}" if p.category else "") + "</p>"]
    if p.summary:
        rows.append(f'<p class="summary">{escape(p.summary)}</p>')
    links = []
    if p.repo_url:
        at = f" (at commit {escape(p.deadline_commit[:7])})" if p.deadline_commit else ""
        links.append(f'<li>Repository: <a href="{escape(p.repo_url)}">{escape(p.repo_url)}</a>{at}</li>')
        if p.commits_after_deadline:
            links.append(f"<li>{p.commits_after_deadline} commit(s) after the deadline</li>")
    if p.demo_url:
        links.append(f'<li>Demo: <a href="{escape(p.demo_url)}">{escape(p.demo_url)}</a></li>')
    if links:
        rows.append(f"<ul>{''.join(links)}</ul>")
    rows.append('<p><a href="/projects">All projects</a></p>')
    return _page(f"{p.title} · {event}", "".join(rows))


async def gallery_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    service = services.projects
    section = services.config.projects
    if section is None:
        raise NotFound("this event takes no projects")
    chosen = request.query.get("category") or None
    opens = None if service.gallery_public() else (fmt_utc(section.closes) if section.closes else "the deadline")
    projects = await service.gallery(chosen) if opens is None else []
    html = render_gallery(services.config.event.name, projects, section.categories, chosen, opens)
    return web.Response(text=html, content_type="text/html")


async def project_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    service = services.projects
    if services.config.projects is None:
        raise NotFound("this event takes no projects")
    try:
        project_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    visible = {p.id: p for p in await service.gallery()}
    if project_id not in visible:
        raise web.HTTPNotFound()
    return web.Response(text=render_project(services.config.event.name, visible[project_id]), content_type="text/html")
