"""Hackathon42's code bundles on the judges' page, over real loopback HTTP: a judge sees and
downloads the bundle of each team they review, never another team's (403), nor anyone without a
judge's session; the page stays axe-core clean with the bundles on it."""

from __future__ import annotations

import io
import zipfile

import aiohttp
import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock
from tests.core.judging_helpers import teams_with_projects, write_judged_event

BUNDLES = """
[projects.bundles]
explanations = "one"
"""


def a_zip(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("src/main.py", date_time=(2031, 5, 1, 12, 0, 0)), text)
    return out.getvalue()


@pytest.fixture
async def site(tmp_path, db):
    clock = Clock()
    services = await Services.open(load_event(write_judged_event(tmp_path / "event", BUNDLES)), db, clock=clock)
    reviewed = await teams_with_projects(services, 2)
    outsider = (await services.teams.create("Outsider <x>", captain="3000")).team  # no project: nobody reviews it
    code = a_zip("print('reviewed')")
    await services.bundles.save(reviewed[0], "1000", file=("code.zip", code), explanation="kNN <on> pixels")
    await services.bundles.save(outsider.id, "3000", file=("secret.zip", a_zip("print('not yours')")))
    invitation = await services.judging.invite("Ada", ["jury"])
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base, invitation, services, reviewed, outsider.id, code
    await runner.cleanup()
    await services.close()


async def test_a_judge_downloads_the_bundles_of_the_teams_they_review_only(site):
    base, invitation, services, reviewed, outsider, code = site
    async with aiohttp.ClientSession() as stranger, stranger.get(f"{base}/judge/bundle/{reviewed[0]}") as res:
        assert res.status == 403 and res.headers["Cache-Control"] == "no-store"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # unsafe: an IP host
        async with session.get(f"{base}/judge/{invitation.token}") as res:
            body = await res.text()
            assert res.status == 200
        section = body[body.index("<h2>Code bundles</h2>"):]
        assert f'href="/judge/bundle/{reviewed[0]}"' in section and "kNN &lt;on&gt; pixels" in section
        assert "Outsider" not in section and "secret.zip" not in body
        async with session.get(f"{base}/judge/bundle/{reviewed[0]}") as res:
            assert res.status == 200 and res.headers["Content-Type"] == "application/zip"
            assert res.headers["Content-Disposition"] == 'attachment; filename="Team_0-code.zip"'
            assert res.headers["Cache-Control"] == "no-store" and await res.read() == code
        async with session.get(f"{base}/judge/bundle/{outsider}") as res:
            assert res.status == 403 and "you review no project of this team" in await res.text()
        async with session.get(f"{base}/judge/bundle/{reviewed[1]}") as res:  # reviewed, but handed in no bundle
            assert res.status == 404 and "no bundle" in await res.text()
        async with session.get(f"{base}/judge/bundle/abc") as res:
            assert res.status == 404


@pytest.mark.usefixtures("axe_js")
async def test_the_judges_page_with_bundles_is_accessible(site, browser):
    base, invitation, *_ = site
    page = await browser.new_page()
    await page.goto(f"{base}/judge/{invitation.token}")
    violations = await page.axe()
    assert violations == [], describe(violations)
    page = await browser.new_page(dark=True)
    await page.goto(f"{base}/judge/")
    violations = await page.axe()
    assert violations == [], describe(violations)
