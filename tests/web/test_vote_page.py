"""The vote's web door over real loopback HTTP: a ballot code casts one ballot, results hidden
until the close on the page and in the API (and, for a vote deciding a prize, until the winners'
reveal), and the page axe-core clean in headless Chromium, light, dark and on a phone."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock
from tests.core.vote_helpers import CLOSES, DURING, OLD_MEMBER, add_projects, old_account, write_vote_event


@pytest.fixture
async def make_site(tmp_path, databases):
    made = []

    async def factory(**vote_options):
        clock = Clock(DURING)
        path = write_vote_event(tmp_path / f"event{len(made)}", **vote_options)
        services = await Services.open(load_event(path), databases.new(), clock=clock)
        projects = [p for p, _ in await add_projects(services, 3)]
        codes = [c.code for c in (await services.votes.import_codes(
            "fav", "name,email\n" + "".join(f"A{k},a{k}@example.org\n" for k in range(3)))).issued]
        runner = await start_web(services, "127.0.0.1", 0)
        made.append((runner, services))
        return f"http://127.0.0.1:{runner.addresses[0][1]}", services, clock, projects, codes

    yield factory
    for runner, services in made:
        await runner.cleanup()
        await services.close()


async def fetch(method: str, url: str, data=None) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.request(method, url, data=data) as res:
        return res.status, dict(res.headers), await res.text()


async def api(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        assert res.status == 200
        return await res.json()


async def test_a_code_casts_one_ballot_on_the_page(make_site):
    base, services, _, projects, codes = await make_site()
    status, headers, html = await fetch("GET", f"{base}/vote/fav")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert "Project 002" in html and 'name="code"' in html and "0 ballots cast" in html
    form = aiohttp.FormData([("code", codes[0].lower()), ("choice", str(projects[0])), ("choice", str(projects[2]))])
    status, _, html = await fetch("POST", f"{base}/vote/fav", form)
    assert status == 200
    assert "Your ballot is recorded: Project 000, Project 002." in html and "1 ballot cast" in html
    assert codes[0] not in html and codes[0].lower() not in html  # the code is never echoed
    status, _, html = await fetch("POST", f"{base}/vote/fav", aiohttp.FormData([("code", codes[0]),
                                                                                 ("choice", str(projects[1]))]))
    assert status == 403 and "is refused: this ballot code was already used at" in html and "1 ballot cast" in html
    status, _, html = await fetch("POST", f"{base}/vote/fav", aiohttp.FormData([("code", codes[1]),
                                                                                 ("choice", "x")]))
    assert status == 400 and "not a project of this ballot" in html
    report = await services.votes.report("fav")
    assert report.refused == {"code_used": 1}


async def test_results_are_hidden_until_the_close_on_the_page_and_in_the_api(make_site):
    base, services, clock, projects, codes = await make_site()
    await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [projects[1]])
    _, _, html = await fetch("GET", f"{base}/vote/fav")
    assert "Results stay hidden until the vote closes" in html and 'id="results"' not in html
    body = await api(f"{base}/api/votes/fav")
    assert body["phase"] == "open" and body["results"] is None and body["turnout"]["ballots"] == 1
    assert "hidden until the vote closes" in body["hidden"]
    clock.set(CLOSES + timedelta(minutes=1))
    # a vote deciding a prize stays hidden after the close: it is revealed with the winners
    _, _, html = await fetch("GET", f"{base}/vote/fav")
    assert "its result is revealed with the winners" in html and 'id="results"' not in html
    assert 'name="code"' not in html
    body = await api(f"{base}/api/votes/fav")
    assert body["phase"] == "closed" and body["results"] is None and body["closed_at"] is not None
    status, _, _ = await fetch("POST", f"{base}/vote/fav", aiohttp.FormData([("code", codes[0]),
                                                                              ("choice", str(projects[0]))]))
    assert status == 403


async def test_a_vote_deciding_no_prize_shows_its_results_once_closed(make_site, tmp_path):
    base, services, clock, projects, _ = await make_site()
    services.config.votes[0] = services.config.votes[0].model_copy(update={"prize": None})
    await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [projects[1]])
    assert (await api(f"{base}/api/votes/fav"))["results"] is None
    await services.votes.close("fav", by="organizer")
    body = await api(f"{base}/api/votes/fav")
    assert [(r["title"], r["rank"], r["points"]) for r in body["results"]][:1] == [("Project 001", 1, 1)]
    _, _, html = await fetch("GET", f"{base}/vote/fav")
    assert 'id="results"' in html


async def test_an_unknown_vote_is_a_404(make_site):
    base, *_ = await make_site()
    assert (await fetch("GET", f"{base}/vote/nope"))[0] == 404
    status, _, body = await fetch("GET", f"{base}/api/votes/nope")
    assert status == 404 and "no vote 'nope'" in body


@pytest.mark.usefixtures("axe_js")
async def test_the_vote_page_is_accessible(make_site, browser):
    base, *_ = await make_site(kind="approval", max_choices=3)
    base_ranked, *_ = await make_site(kind="ranked", max_choices=3)
    for url, dark in ((f"{base}/vote/fav", False), (f"{base}/vote/fav", True), (f"{base_ranked}/vote/fav", False)):
        page = await browser.new_page(dark=dark)
        assert await page.goto(url) == 200
        violations = await page.axe()
        assert violations == [], describe(violations)
    page = await browser.new_page(390, 844, mobile=True)
    assert await page.goto(f"{base}/vote/fav") == 200
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    violations = await page.axe()
    assert violations == [], describe(violations)
