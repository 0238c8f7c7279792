"""GET /organizers/mentoring over real loopback HTTP: refused without an organizer link, private
headers, the help queue's numbers and the perks' stock (never a code), and axe-core clean in
headless Chromium, light and dark."""

from __future__ import annotations

import aiohttp
import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.web.server import start_web
from tests.browser import describe
from tests.core.helpers import Clock
from tests.core.mentoring_workers import write_mentoring_event

PERKS = """
[[perks]]
id = "modal-credits"
title = "$500 of Modal credits"
who = "team"
low_stock = 2
"""
CODES = [f"SECRET-{i:02d}" for i in range(4)]


@pytest.fixture
async def site(tmp_path, db):
    clock = Clock()
    path = write_mentoring_event(tmp_path / "event", perks=PERKS)
    services = await Services.open(load_event(path), db, clock=clock)
    m = services.mentoring
    for i in range(4):
        await services.teams.create(f"Team <{i}>", captain=f"{100 + i}")
    await m.set_mentor("7001", tags=["Train"], on_duty=True)
    n = (await m.open_ticket("100", "GPU memory", ["Train"])).ticket.number
    clock.advance(minutes=6)
    await m.claim(n, "7001")
    clock.advance(minutes=10)
    await m.resolve(n, "7001")
    await m.rate(n, "100", 5)
    await m.open_ticket("101", "plots", ["Analyse"])
    clock.advance(minutes=3)
    await m.open_ticket("102", "modal deploy", ["Modal"])
    await services.perks.import_codes("modal-credits", "\n".join(CODES))
    claim = await services.perks.claim("modal-credits", "103")
    link = await services.organizer_links.create("tests")
    runner = await start_web(services, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base, link.token, claim.code, services
    await runner.cleanup()
    await services.close()


async def get(url: str) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        return res.status, dict(res.headers), await res.text()


async def test_the_page_needs_an_organizer_link(site):
    base, token, _, services = site
    for url in (f"{base}/organizers/mentoring", f"{base}/organizers/mentoring?key=nope", f"{base}/organizers/mentoring?key="):
        status, headers, body = await get(url)
        assert status == 403 and "hackbot organizers link" in body and "Team" not in body
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    await services.organizer_links.revoke_all()
    status, _, _ = await get(f"{base}/organizers/mentoring?key={token}")
    assert status == 403


async def test_the_page_shows_the_queue_metrics_and_stock_never_a_code(site):
    base, token, code, _ = site
    status, headers, body = await get(f"{base}/organizers/mentoring?key={token}")
    assert status == 200 and headers["Cache-Control"] == "no-store" and headers["X-Robots-Tag"].startswith("noindex")
    assert '<th scope="row">Train</th><td>1</td><td>1</td><td>1</td><td>0</td><td>6 min</td>' in body
    assert "No mentor on duty for: Build, Analyse, Modal." in body
    assert "Team &lt;1&gt;" in body and "Team <1>" not in body  # escaped
    assert '<th scope="row">7001</th><td>1</td>' in body
    assert '<th scope="row">$500 of Modal credits</th><td>team</td><td>4</td><td>1</td><td class="warn">3</td>' \
        not in body  # 3 left is above the warning threshold of 2
    assert "<td>4</td><td>1</td><td>3</td><td>2</td>" in body
    assert code not in body and not any(c in body for c in CODES)


@pytest.mark.usefixtures("axe_js")
async def test_the_page_is_accessible_light_and_dark(site, browser):
    base, token, _, _ = site
    for dark in (False, True):
        page = await browser.new_page(dark=dark)
        await page.goto(f"{base}/organizers/mentoring?key={token}")
        violations = await page.axe()
        assert violations == [], describe(violations)
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(f"{base}/organizers/mentoring")
    violations = await page.axe()
    assert violations == [], describe(violations)


async def test_an_event_without_projects_links_no_moderation_page(site):
    base, token, _, _ = site
    status, _, body = await get(f"{base}/organizers/mentoring?key={token}")
    assert status == 200 and f'href="/organizers/reminders?key={token}"' in body
    assert "/organizers/projects" not in body
