"""Projects over real loopback HTTP: POST /api/projects and GET /api/projects/mine with the team's
API credentials (Basic or fields), the version an edit read, clear refusals; the gallery hidden
before the deadline, then public, filterable by category, one page per project, axe-core clean;
`hackbot projects export|moderate|extend` on the same database."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_event
from bot.core.projects import ProjectInput
from bot.core.services import Services
from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock
from tests.core.project_helpers import CLOSES, WORK, write_project_event

PROJECT = {"title": "Galaxy <sorter>", "summary": "Sorts galaxies.", "repo": "github.com/crew/project.git",
           "demo": "https://youtu.be/abc", "category": "Build", "opt_ins": ["modal"]}


@pytest.fixture
async def site(tmp_path, db):
    clock = Clock(WORK)
    path = write_project_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    crew = await services.teams.create("Crew", captain="100")
    other = await services.teams.create("Other", captain="200")
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base, services, clock, crew, other, path
    await runner.cleanup()
    await services.close()


async def call(method: str, url: str, *, auth=None, **kwargs) -> tuple[int, dict | str]:
    async with aiohttp.ClientSession() as session, session.request(method, url, auth=auth, **kwargs) as res:
        text = await res.text()
        try:
            return res.status, json.loads(text)
        except ValueError:
            return res.status, text


def basic(creds) -> aiohttp.BasicAuth:
    return aiohttp.BasicAuth(creds.team.username, creds.password)


async def test_a_team_submits_reads_and_edits_its_project_over_http(site):
    base, services, _, crew, *_ = site
    status, body = await call("GET", f"{base}/api/projects/mine", auth=basic(crew))
    assert status == 404 and "POST /api/projects" in body["error"]
    status, body = await call("POST", f"{base}/api/projects", auth=basic(crew), json=PROJECT)
    assert status == 201, body
    assert body["repo_url"] == "https://github.com/crew/project" and body["status"] == "submitted" and body["version"] == 1
    # the repository could not be checked (no checker here): accepted, unverified
    assert body["verified"] is None and body["warnings"]
    status, mine = await call("GET", f"{base}/api/projects/mine", auth=basic(crew))
    assert status == 200 and mine["title"] == "Galaxy <sorter>"
    # an edit names the version it read; a stale one is refused and changes nothing
    status, body = await call("POST", f"{base}/api/projects", auth=basic(crew),
                              json={**PROJECT, "title": "v2", "action": "edit", "version": 1})
    assert status == 200 and body["version"] == 2
    status, body = await call("POST", f"{base}/api/projects", auth=basic(crew),
                              json={**PROJECT, "title": "stale", "action": "edit", "version": 1})
    assert status == 409 and "saved version 2" in body["error"]
    # the form fields work too (as POST /reveal/ takes them)
    form = {"username": crew.team.username, "password": crew.password, "title": "v3", "action": "edit", "version": "2",
            "repo": PROJECT["repo"], "demo": PROJECT["demo"], "category": "Train", "opt_ins": ""}
    status, body = await call("POST", f"{base}/api/projects", data=form)
    assert status == 200 and body["category"] == "Train" and body["opt_ins"] == []
    assert [v.author for v in await services.projects.history(body["id"])] == ["api:crew"] * 3


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({**PROJECT, "category": "Cooking"}, 400, "not a category"),
    ({**PROJECT, "repo": "https://gist.github.com/crew/1"}, 400, "gist"),
    ({k: v for k, v in PROJECT.items() if k != "title"}, 400, "missing title"),
    ({**PROJECT, "action": "publish"}, 400, "submit, draft or edit"),
    ({**PROJECT, "opt_ins": "modal"}, 400, "list of prize ids"),
    ({**PROJECT, "demo": None}, 400, "add a demo URL"),
])
async def test_refusals_say_what_to_send(site, payload, status, message):
    base, _, _, crew, *_ = site
    got, body = await call("POST", f"{base}/api/projects", auth=basic(crew), json=payload)
    assert got == status and message in body["error"]
    got, _ = await call("GET", f"{base}/api/projects/mine", auth=basic(crew))
    assert got == 404  # nothing was written


async def test_bad_credentials_are_401(site):
    base, *_ = site
    status, body = await call("GET", f"{base}/api/projects/mine", auth=aiohttp.BasicAuth("crew", "wrong"))
    assert status == 401
    status, body = await call("POST", f"{base}/api/projects", json=PROJECT)
    assert status == 401 and "username and password" in body["error"]


async def test_the_gallery_is_hidden_before_the_deadline_then_public_and_filtered(site):
    base, services, clock, crew, other, _ = site
    await call("POST", f"{base}/api/projects", auth=basic(crew), json=PROJECT)
    await call("POST", f"{base}/api/projects", auth=basic(other), json={**PROJECT, "title": "Trainer", "category": "Train"})
    status, html = await call("GET", f"{base}/projects")
    assert status == 200 and "The gallery opens at 2030-03-04 11:59 UTC" in html and "Galaxy" not in html
    p = await services.projects.of_team(crew.team.id)
    status, _ = await call("GET", f"{base}/projects/{p.id}")
    assert status == 404
    clock.set(CLOSES + timedelta(minutes=1))
    status, html = await call("GET", f"{base}/projects")
    assert "Galaxy &lt;sorter&gt;" in html and "Trainer" in html
    status, html = await call("GET", f"{base}/projects?category=Train")
    assert "Trainer" in html and "Galaxy" not in html
    status, html = await call("GET", f"{base}/projects/{p.id}")
    assert status == 200 and "https://github.com/crew/project" in html
    await services.projects.moderate("Crew", "ineligible", "not open source", "orga")
    status, _ = await call("GET", f"{base}/projects/{p.id}")
    assert status == 404


@pytest.mark.usefixtures("axe_js")
async def test_the_gallery_and_a_project_page_are_accessible(site, browser):
    base, services, clock, crew, *_ = site
    await call("POST", f"{base}/api/projects", auth=basic(crew), json=PROJECT)
    clock.set(CLOSES + timedelta(minutes=1))
    p = await services.projects.of_team(crew.team.id)
    for url, dark, mobile in ((f"{base}/projects", False, False), (f"{base}/projects?category=Build", True, False),
                              (f"{base}/projects/{p.id}", False, True)):
        page = await (browser.new_page(390, 844, mobile=True) if mobile else browser.new_page(dark=dark))
        await page.goto(url)
        violations = await page.axe()
        assert violations == [], describe(violations)


def test_the_cli_exports_moderates_and_extends(tmp_path, db):
    path = write_project_event(tmp_path / "event")

    async def prepare() -> None:
        services = await Services.open(load_event(path), db, clock=Clock(WORK))
        crew = await services.teams.create("Crew", captain="100")
        await services.projects.save(crew.team.id, "100", ProjectInput(
            "Galaxy sorter", repo=PROJECT["repo"], demo=PROJECT["demo"], category="Build"), submit=True,
            expected_version=None)
        await services.close()

    async def read():
        services = await Services.open(load_event(path), db, clock=Clock(WORK))
        try:
            rows = await services.store.fetchall("SELECT kind, status, payload FROM outbox WHERE kind = 'team.notice'")
            return (await services.projects.of_team_named("Crew"),
                    [(k, status, json.loads(payload)["content"]) for k, status, payload in rows])
        finally:
            await services.close()

    asyncio.run(prepare())
    runner = CliRunner()
    args = ["--config", str(path), "--db", db]
    result = runner.invoke(main, ["projects", "export", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("["):])
    assert [(r["team"], r["category"]) for r in data] == [("Crew", "Build")]
    result = runner.invoke(main, ["projects", "export", "--format", "devpost-csv", *args])
    rows = list(csv.DictReader(io.StringIO(result.output[result.output.index("Project Title"):])))
    assert rows[0]["Team Name"] == "Crew"
    result = runner.invoke(main, ["projects", "moderate", "Crew", "ineligible", *args])
    assert result.exit_code != 0 and "say why" in result.output
    result = runner.invoke(main, ["projects", "moderate", "Crew", "eligible", *args])
    assert result.exit_code == 0 and "The bot tells the team in its channel" in " ".join(result.output.split())
    result = runner.invoke(main, ["projects", "moderate", "Crew", "eligible", *args])
    assert result.exit_code == 0 and "already eligible with this reason; nothing changed, the team is not told again" \
        in " ".join(result.output.split())
    result = runner.invoke(main, ["projects", "moderate", *args])
    assert "Crew" in result.output and "eligible" in result.output
    result = runner.invoke(main, ["projects", "extend", "Crew", "--until", "2030-03-04 18:00 AoE", "--reason", "flood", *args])
    assert result.exit_code == 0, result.output
    p, queued = asyncio.run(read())
    assert queued == [("team.notice", "pending", f"Your project {p.title!r} is eligible: it enters judging and the votes.")]
    assert p.extended and "flood" in p.extension_reason and p.deadline == datetime(2030, 3, 5, 6, 0, tzinfo=UTC)
