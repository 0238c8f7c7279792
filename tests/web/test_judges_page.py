"""The judges' page over real loopback HTTP, for a judge outside the server: the single-use link
signs a browser in once (a second use is refused), scores and rankings go through the same
service as /judge score, private headers, never the token in the page; axe-core clean in
headless Chromium, light, dark and on a phone."""

from __future__ import annotations

import aiohttp
import pytest

from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock
from tests.core.judging_helpers import open_judged, teams_with_projects


@pytest.fixture
async def site(tmp_path, db):
    clock = Clock()
    services = await open_judged(tmp_path / "event", db, clock)
    await teams_with_projects(services, 3)
    invitation = await services.judging.invite("Dr. <Ada>", ["jury"], ["Acme"])
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base, invitation, services
    await runner.cleanup()
    await services.close()


async def test_the_link_works_once_and_the_judge_scores_on_the_page(site):
    base, invitation, services = site
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # unsafe: an IP host
        async with session.get(f"{base}/judge/") as res:
            assert res.status == 403 and "link" in await res.text()
        async with session.get(f"{base}/judge/{invitation.token}") as res:
            body = await res.text()
            assert res.status == 200 and res.url.path == "/judge/"
            assert res.headers["Cache-Control"] == "no-store" and res.headers["Referrer-Policy"] == "no-referrer"
        assert "Dr. &lt;Ada&gt;" in body and invitation.token not in body
        assert "0 of 3 done" in body and "Impact" in body
        team_id = (await services.store.fetchall("SELECT team_id FROM review_assignments WHERE judge = ?"
                                                 " ORDER BY team_id", (invitation.judge.user_id,)))[0][0]
        form = {"round": "initial", "team": str(team_id), "c_impact": "4", "c_execution": "2", "k_open-licence": "fail",
                "note": "no licence file"}
        async with session.post(f"{base}/judge/score", data=form) as res:
            body = await res.text()
            assert res.status == 200 and "1 of 3 done" in body and "Saved your score" in body
        async with session.post(f"{base}/judge/score", data={**form, "c_impact": "9"}) as res:
            assert res.status == 400 and "outside the scale" in await res.text()
    results = await services.judging.results("initial")
    assert [r.reviews for r in results.rows] == [1] and "open-licence" in results.rows[0].flags[0]
    async with aiohttp.ClientSession() as other, other.get(f"{base}/judge/{invitation.token}") as res:
        assert res.status == 403 and "used already" in await res.text()  # single use


@pytest.mark.usefixtures("axe_js")
async def test_the_judges_page_is_accessible(site, browser):
    base, invitation, _ = site
    page = await browser.new_page()
    await page.goto(f"{base}/judge/{invitation.token}")
    violations = await page.axe()
    assert violations == [], describe(violations)
    for dark, size in ((True, None), (False, (390, 844))):
        page = await browser.new_page(*(size or ()), **({"mobile": True} if size else {"dark": dark}))
        await page.goto(f"{base}/judge/")
        violations = await page.axe()
        assert violations == [], describe(violations)


async def test_a_judge_of_a_pairwise_round_picks_the_better_of_two_on_the_page(tmp_path, db):
    """The pair /judge next would show, a button for each project; the choice goes through the same
    service as /judge choose and can be changed."""
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.helpers import write_event
    from tests.core.test_judging_pairwise import PAIRWISE

    path = write_event(tmp_path / "event")
    path.write_text(path.read_text(encoding="utf-8") + PAIRWISE, encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=Clock())
    await teams_with_projects(services, 4)
    invitation = await services.judging.invite("Grace", ["demo"])
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(f"{base}/judge/{invitation.token}") as res:
                body = await res.text()
            work = next(w for w in await services.judging.work(invitation.judge.user_id) if w.round.id == "demo")
            pair = work.pairs[0]
            assert "Which is better?" in body and f"0 of {work.total} done" in body
            assert f'<button name="better" value="{pair.first.team_id}">{pair.first.team} is better</button>' in body
            form = {"round": "demo", "a": str(pair.first.team_id), "b": str(pair.second.team_id)}
            async with session.post(f"{base}/judge/choose", data={**form, "better": str(pair.second.team_id)}) as res:
                body = await res.text()
                assert res.status == 200 and f"1 of {work.total} comparisons done" in body
                assert f"you chose {pair.second.team}" in body
            async with session.post(f"{base}/judge/choose", data={**form, "better": "999999"}) as res:
                assert res.status == 400 and "choose one of the two projects" in await res.text()
        log = await services.store.fetchall("SELECT kind, team_id FROM score_events WHERE judge = ?",
                                            (invitation.judge.user_id,))
        assert log == [("choice", pair.second.team_id)]
    finally:
        await runner.cleanup()
        await services.close()
