"""GET and POST /organizers/projects over real loopback HTTP: refused without an organizer link,
the submitted projects with their checks (repository, licence, required fields, flags), approve
and reject-with-reason through the same rule as /admin moderate (the team's notice queued once in
the outbox with the verdict), and axe-core clean in headless Chromium, light and dark."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest

from bot.config import load_event
from bot.core.projects import ProjectInput
from bot.core.services import Services
from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock, write_event
from tests.core.project_helpers import OPENS, WORK, write_project_event

# the checks as the repository checker stored them (bot/core/projects.py notes_of)
CHECKS = [{"kind": "warning", "code": "licence_not_allowed",
           "message": "https://github.com/other/p is under BSD-3-Clause, which this event does not accept"},
          {"kind": "flag", "code": "created_before_start", "message": "repository created 2030-02-01, before the work"}]


@pytest.fixture
async def site(tmp_path, db):
    clock = Clock(WORK)
    path = write_project_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    crew = (await services.teams.create("Crew <1>", captain="100")).team
    other = (await services.teams.create("Other", captain="200")).team
    await services.projects.save(crew.id, "100", ProjectInput(
        "Galaxy <sorter>", "Sorts galaxies.", "https://github.com/crew/p", "https://youtu.be/abc", "Build"),
        submit=True, expected_version=None)
    p = (await services.projects.save(other.id, "200", ProjectInput(
        "Star finder", "Finds stars.", "https://github.com/other/p", "https://youtu.be/def", "Train"),
        submit=True, expected_version=None)).project
    await services.store.execute("UPDATE projects SET checks = ?, verified = 0 WHERE id = ?", (json.dumps(CHECKS), p.id))
    link = await services.organizer_links.create("tests")
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base, link.token, services, clock
    await runner.cleanup()
    await services.close()


async def get(url: str) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        return res.status, dict(res.headers), await res.text()


async def post(url: str, data: dict) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=data, allow_redirects=False) as res:
        return res.status, dict(res.headers), await res.text()


async def notices(services: Services) -> list[dict]:
    rows = await services.store.fetchall("SELECT payload FROM outbox WHERE kind = 'team.notice' ORDER BY id")
    return [json.loads(r[0]) for r in rows]


async def test_the_page_needs_an_organizer_link(site):
    base, token, services, _ = site
    for url in (f"{base}/organizers/projects", f"{base}/organizers/projects?key=nope"):
        status, headers, body = await get(url)
        assert status == 403 and "hackbot organizers link" in body and "Galaxy" not in body
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    status, _, _ = await post(f"{base}/organizers/projects", {"key": "nope", "team": "Other", "verdict": "eligible"})
    assert status == 403
    assert (await services.projects.of_team_named("Other")).moderation == "pending" and await notices(services) == []
    await services.organizer_links.revoke_all()
    status, _, _ = await get(f"{base}/organizers/projects?key={token}")
    assert status == 403


async def test_the_page_lists_the_projects_with_their_checks(site):
    base, token, _, _ = site
    status, headers, body = await get(f"{base}/organizers/projects?key={token}")
    assert status == 200 and headers["Cache-Control"] == "no-store" and headers["X-Robots-Tag"].startswith("noindex")
    assert "2 submitted, 2 awaiting a verdict" in body
    assert "Crew &lt;1&gt;: Galaxy &lt;sorter&gt;" in body and "Galaxy <sorter>" not in body  # escaped
    other = body[body.index("Other: Star finder"):]
    assert "is under BSD-3-Clause, which this event does not accept" in other.split("</dd>")[3]  # the licence row
    assert "repository created 2030-02-01, before the work" in other and "1 problem(s) for the team to fix" in other
    crew = body[body.index("Galaxy &lt;sorter&gt;"):body.index("Other: Star finder")]
    assert "not checked yet" in crew and '<dd class="required"><span class="ok">all given</span>' in crew


async def test_approve_and_reject_with_reason_call_the_moderation_rule_and_queue_the_notice(site):
    base, token, services, _ = site
    url = f"{base}/organizers/projects"
    status, _, body = await post(url, {"key": token, "team": "Other", "verdict": "ineligible", "reason": " "})
    assert status == 400 and "say why the project is ineligible" in body and 'role="alert"' in body
    assert (await services.projects.of_team_named("Other")).moderation == "pending" and await notices(services) == []

    status, headers, _ = await post(url, {"key": token, "team": "Other", "verdict": "ineligible",
                                          "reason": "the licence is not open"})
    assert status == 303 and headers["Location"].startswith("/organizers/projects?key=")
    p = await services.projects.of_team_named("Other")
    assert (p.moderation, p.moderation_reason, p.moderated_by) == ("ineligible", "the licence is not open",
                                                                  "organizers' page")
    status, _, page = await get(base + headers["Location"])
    assert status == 200 and "Other is now ineligible; the bot tells the team in its channel." in page
    assert "ineligible (rejected) (by organizers&#x27; page). Reason given: the licence is not open" in page

    status, _, _ = await post(url, {"key": token, "team": "Crew <1>", "verdict": "eligible", "reason": ""})
    assert status == 303 and (await services.projects.of_team_named("Crew <1>")).moderation == "eligible"
    again_status, again, _ = await post(url, {"key": token, "team": "Crew <1>", "verdict": "eligible", "reason": ""})
    assert again_status == 303 and "already" in again["Location"]  # a resent form: nothing new
    sent = await notices(services)
    assert [n["content"] for n in sent] == [
        "Your project 'Star finder' is not eligible: it does not enter judging nor the votes. Reason: the licence is "
        "not open",
        "Your project 'Galaxy <sorter>' is eligible: it enters judging and the votes."]
    status, _, body = await post(url, {"key": token, "team": "Nobody", "verdict": "eligible"})
    assert status == 400 and "Nobody" in body and "has no project" in body


@pytest.mark.usefixtures("axe_js")
async def test_the_page_is_accessible_light_and_dark(site, browser):
    base, token, _, clock = site
    clock.set(OPENS + timedelta(days=1))
    for dark in (False, True):
        page = await browser.new_page(dark=dark)
        await page.goto(f"{base}/organizers/projects?key={token}&message=Other+is+now+eligible")
        violations = await page.axe()
        assert violations == [], describe(violations)
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(f"{base}/organizers/projects?key={token}")
    violations = await page.axe()
    assert violations == [], describe(violations)


async def test_an_event_without_projects_says_so(tmp_path, db):
    services = await Services.open(load_event(write_event(tmp_path / "event")), db, clock=Clock(WORK))
    link = await services.organizer_links.create("tests")
    runner = await start_web(services, "127.0.0.1", 0)
    try:
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        status, headers, body = await get(f"{base}/organizers/projects?key={link.token}")
        assert status == 404 and "this event takes no projects" in body and headers["Cache-Control"] == "no-store"
        status, _, body = await post(f"{base}/organizers/projects", {"key": link.token, "team": "A", "verdict": "eligible"})
        assert status == 404 and "this event takes no projects" in body
    finally:
        await runner.cleanup()
        await services.close()


async def test_the_organizers_pages_link_to_each_other_with_the_same_key(site):
    import re
    from html import unescape

    base, token, _, _ = site
    pages = ["/organizers/mentoring", "/organizers/projects", "/organizers/reminders"]
    for page in pages:
        status, _, body = await get(f"{base}{page}?key={token}")
        assert status == 200, (page, body[:300])
        nav = re.search(r'<nav class="organizers"[^>]*>(.*?)</nav>', body, re.S)
        assert nav, f"{page} has no link to the other organizers' pages"
        links = [(unescape(href), current) for href, current in re.findall(r'<a href="([^"]+)"( aria-current="page")?', nav[1])]
        assert [href for href, _ in links] == [f"{p}?key={token}" for p in pages]
        assert [href for href, current in links if current] == [f"{page}?key={token}"]  # the page shown is marked
