"""The leaderboard people look at (issue 15): the Hackathon42 preset with 500 teams (one with a
64-character name) on a phone and on a projector in real headless Chromium, axe-core in light and
dark, the in-place update that keeps the scroll position, find my team, sorting by a dataset;
ETag, 304 and gzip on the page and the JSON; pagination; the change counter that refreshes every
process's cache; worst-group accuracy; the statistically tied mark on a final board; the hidden,
empty and dataset-less (NumHack) boards.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

import scoring
from bot.config import load_event
from bot.core.services import Services
from bot.core.synth import synthesize_event, synthetic_board
from bot.web.server import start_web
from tests.browser import SERIOUS, describe
from tests.core.helpers import Clock
from tests.web.conftest import CLOSES, valid_csv

REPO = Path(__file__).resolve().parents[2]
H42_OPEN = datetime(2022, 10, 16, 13, 0, tzinfo=UTC)  # the "real" phase, before the close (16:00 UTC)
LONG_NAME = "The Extraordinarily Long-Named Collective of Careful Labelers 42"
ROWS = 200


@pytest.fixture(scope="session")
def h42_folder(tmp_path_factory) -> Path:
    """The Hackathon42 preset with synthetic hidden labels for both phases (written once)."""
    folder = tmp_path_factory.mktemp("h42")
    shutil.copy(REPO / "config/hackathon42.toml", folder / "event.toml")
    synthesize_event(load_event(folder / "event.toml", check_data=False), rows=ROWS)
    return folder


@dataclass
class Site:
    services: Services
    url: str
    names: list[str]
    clock: Clock


@pytest.fixture
async def open_site(tmp_path):
    opened: list[tuple] = []

    async def open_(config_path: Path, db: str, clock: Clock, *, teams: int = 0, phase: str = "real") -> Site:
        services = await Services.open(load_event(config_path), db, clock=clock)
        names: list[str] = []
        if teams:
            names = await synthetic_board(services.store, services.config, services.registry, phase, teams=teams,
                                          now=clock().timestamp())
        runner = await start_web(services, "127.0.0.1", 0)
        opened.append((runner, services))
        return Site(services, f"http://127.0.0.1:{runner.addresses[0][1]}", names, clock)

    yield open_
    for runner, services in opened:
        await runner.cleanup()
        await services.close()


@pytest.fixture
async def h42_500(open_site, h42_folder, tmp_path) -> Site:
    """Hackathon42, 500 teams, SQLite (the page does not depend on the dialect; the cache tests
    below run on both)."""
    return await open_site(h42_folder / "event.toml", str(tmp_path / "h42.sqlite"), Clock(now=H42_OPEN), teams=500)


BOXES = """(() => {
  const row = document.querySelector('#leaderboard tbody tr');
  const box = (s) => { const r = row.querySelector(s).getBoundingClientRect();
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  return {rank: box('.rank'), team: box('.team'), total: box('.total'),
          head: document.querySelector('#leaderboard thead th.total').getBoundingClientRect().top,
          width: document.documentElement.scrollWidth};
})()"""


def inside(box: dict, width: int, height: int) -> bool:
    return box["left"] >= 0 and box["right"] <= width and box["top"] >= 0 and box["bottom"] <= height


@pytest.mark.parametrize(("width", "height", "mobile"), [(390, 844, True), (1920, 1080, False)])
async def test_rank_team_and_total_stay_in_the_first_screen(h42_500, browser, width, height, mobile, tmp_path):
    page = await browser.new_page(width, height, mobile=mobile)
    await page.goto(h42_500.url + "/")
    await page.screenshot(tmp_path / f"board-{width}.png")
    first = await page.evaluate(BOXES)
    assert first["width"] <= width, "the page is wider than the screen"
    for column in ("rank", "team", "total"):
        assert inside(first[column], width, height), (column, first[column])
    # the 64-character name is capped: its cell is no wider than any other team cell, full name on hover
    cell = await page.evaluate(f"""(() => {{
        const span = Array.from(document.querySelectorAll('#leaderboard td.team span[title]'))
            .find(s => s.title === {LONG_NAME!r});
        return {{width: span.parentElement.getBoundingClientRect().width, title: span.title}};
    }})()""")
    assert cell["title"] == LONG_NAME
    assert cell["width"] <= (150 if mobile else 230)
    # scrolled far right and down inside the table: rank, team and total and the header stay put
    await page.evaluate("(() => { const w = document.querySelector('.wrap'); w.scrollLeft = 5000; w.scrollTop = 3000; })()")
    await page.wait_for("document.querySelector('.wrap').scrollTop > 0")
    moved = await page.evaluate("""(() => {
      const w = document.querySelector('.wrap').getBoundingClientRect();
      const at = (x, y) => document.elementFromPoint(x, y).closest('td, th');
      const rank = at(w.left + 12, w.top + 80), total = document.querySelector('#leaderboard thead th.total');
      return {rankClass: rank && rank.className, headTop: total.getBoundingClientRect().top - w.top,
              left: document.querySelector('.wrap').scrollLeft};
    })()""")
    assert moved["left"] > 0
    assert moved["rankClass"] == "rank", "the rank column scrolled away"
    assert -1 <= moved["headTop"] <= 2, "the header scrolled away"


async def test_projector_view_is_full_width_large_type_top_n_with_a_countdown(h42_500, browser):
    page = await browser.new_page(1920, 1080)
    await page.goto(h42_500.url + "/?view=projector&top=12")
    got = await page.evaluate("""(() => ({
      rows: document.querySelectorAll('#leaderboard tbody tr').length,
      font: parseFloat(getComputedStyle(document.body).fontSize),
      table: document.querySelector('#leaderboard').getBoundingClientRect().width,
      scroll: document.documentElement.scrollWidth,
      countdown: document.getElementById('countdown').textContent,
      search: document.getElementById('q'),
    }))()""")
    assert got["rows"] == 12
    assert got["font"] >= 20
    assert got["table"] >= 1800 and got["scroll"] <= 1920
    # 3 hours before the close by the event's clock (the browser's own clock is years off)
    await page.wait_for("document.getElementById('countdown').textContent.startsWith('submissions close in 02:59')")
    assert got["search"] is None
    first = await page.evaluate(BOXES)
    for column in ("rank", "team", "total"):
        assert inside(first[column], 1920, 1080)


@pytest.fixture
async def h42_small(open_site, h42_folder, tmp_path) -> Site:
    """40 teams: axe-core reads every cell, and 500 rows x 18 columns take it minutes."""
    return await open_site(h42_folder / "event.toml", str(tmp_path / "small.sqlite"), Clock(now=H42_OPEN), teams=40)


@pytest.mark.usefixtures("axe_js")
@pytest.mark.parametrize("dark", [False, True])
async def test_axe_finds_nothing_serious_on_the_board_projector_and_schedule(h42_small, browser, dark):
    for path, (width, height, mobile) in [("/", (390, 844, True)), ("/", (1280, 800, False)),
                                          ("/?view=projector", (1920, 1080, False)), ("/schedule", (390, 844, True))]:
        page = await browser.new_page(width, height, mobile=mobile, dark=dark)
        await page.goto(h42_small.url + path)
        violations = await page.axe()
        serious = [v for v in violations if v["impact"] in SERIOUS]
        assert not serious, f"{path} at {width}px ({'dark' if dark else 'light'}):\n{describe(serious)}"
        head = await page.evaluate("""(() => ({main: !!document.querySelector('main'),
            icon: !!document.querySelector('link[rel=icon]'),
            description: (document.querySelector('meta[name=description]') || {}).content || ''}))()""")
        if path == "/":
            assert head == {"main": True, "icon": True, "description": head["description"]} and head["description"]
        await page.close()


async def test_the_scroller_is_reachable_by_keyboard_and_scrolls_with_the_arrows(h42_small, browser):
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(h42_small.url + "/")
    for _ in range(12):
        await page.press("Tab")
        if await page.evaluate("document.activeElement.classList.contains('wrap')"):
            break
    else:
        pytest.fail("Tab never reached the table's scroller")
    await page.press("ArrowRight")
    await page.press("ArrowRight")
    await page.wait_for("document.querySelector('.wrap').scrollLeft > 0")


async def test_the_update_in_place_keeps_the_scroll_position(h42_500, browser):
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(h42_500.url + "/")
    await page.evaluate("window.stayed = 'this page was not reloaded'")
    await page.evaluate("(() => { const w = document.querySelector('.wrap'); w.scrollLeft = 300; w.scrollTop = 2500; })()")
    await page.wait_for("document.querySelector('.wrap').scrollTop > 2000")
    before = await page.evaluate("[document.querySelector('.wrap').scrollLeft, document.querySelector('.wrap').scrollTop]")
    # nothing changed: the poll is answered 304 and draws nothing
    await page.evaluate("window.boardPoll()")
    assert await page.evaluate("document.body.dataset.updates || '0'") == "0"
    # a team that never submitted submits: the next poll redraws the rows where the reader is
    s = h42_500.services
    quiet = next(n for i, n in enumerate(h42_500.names) if i % 10 == 9)
    team = await s.teams.get(quiet)
    hidden = s.registry.get("real", 0)
    await s.submissions.submit(team, 0, "labels.csv", valid_csv(hidden.y), source="test")
    await page.evaluate("window.boardPoll()")
    await page.wait_for("document.body.dataset.updates === '1'")
    after = await page.evaluate("[document.querySelector('.wrap').scrollLeft, document.querySelector('.wrap').scrollTop]")
    assert after == before
    assert await page.evaluate("window.stayed") == "this page was not reloaded"
    row = await page.evaluate(f"""(() => {{ const r = Array.from(document.querySelectorAll('#leaderboard tbody tr'))
        .find(r => r.querySelector('.team span').title === {quiet!r}); return [r.className, r.cells[4].textContent]; }})()""")
    assert "nosub" not in row[0] and row[1].startswith("1.000")
    assert "<meta http-equiv" not in await page.content()


async def test_find_my_team_by_link_and_by_the_search_box(h42_500, browser):
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(h42_500.url + "/?team=" + LONG_NAME.replace(" ", "%20"))
    await page.wait_for("document.querySelector('tr.me') !== null")
    box = await page.evaluate("(() => { const r = document.querySelector('tr.me').getBoundingClientRect();"
                              " return [r.top, r.bottom, document.querySelectorAll('tr.me').length]; })()")
    assert box[0] >= 0 and box[1] <= 844 and box[2] == 1
    assert await page.evaluate("document.querySelector('tr.me .team span').title") == LONG_NAME
    status = await page.evaluate("document.getElementById('find-status').textContent")
    assert status.startswith(LONG_NAME + ": rank ")
    # every row has an anchor that stays with its team
    anchor = await page.evaluate("document.querySelector('tr.me').id")
    assert anchor.startswith("team-")
    # the search box: part of a name, Enter
    target = h42_500.names[123]
    await page.click("#q")
    await page.type("#q", target.split()[1])
    await page.press("Enter")
    await page.wait_for(f"document.querySelector('tr.me .team span').title === {target!r}")
    assert target.split()[1] in await page.evaluate("location.search")


async def test_sorting_by_a_dataset_and_back(h42_500, browser):
    page = await browser.new_page(1280, 800)
    await page.goto(h42_500.url + "/")
    await page.click('th[data-col="3"] button')
    values = await page.evaluate("Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
                                 ".map(r => parseFloat(r.cells[7].textContent))")
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    assert await page.evaluate("document.querySelector('th[data-col=\"3\"]').getAttribute('aria-sort')") == "descending"
    await page.click('th[data-col="3"] button')
    ranks = await page.evaluate("Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
                                ".map(r => parseInt(r.cells[0].textContent))")
    assert ranks == sorted(ranks)


# --- HTTP: ETag, 304, gzip, pagination, the change counter (both dialects) -----------------

@pytest.fixture
async def h42_db(open_site, h42_folder, db) -> Site:
    return await open_site(h42_folder / "event.toml", db, Clock(now=H42_OPEN), teams=60)


async def test_page_and_json_are_gzipped_with_an_etag_and_304(h42_db):
    s = h42_db
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        for path, kind in (("/", "text/html"), ("/api/leaderboard", "application/json")):
            async with http.get(s.url + path, headers={"Accept-Encoding": "gzip"}) as r:
                assert r.status == 200 and r.headers["Content-Encoding"] == "gzip"
                assert r.content_type == kind
                etag, body = r.headers["ETag"], gzip.decompress(await r.read())
            async with http.get(s.url + path, headers={"Accept-Encoding": "identity"}) as r:
                assert "Content-Encoding" not in r.headers and await r.read() == body and r.headers["ETag"] == etag
            async with http.get(s.url + path, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"}) as r:
                assert r.status == 304 and await r.read() == b""
        # a submission changes both
        team = await s.services.teams.get(s.names[9])
        await s.services.submissions.submit(team, 1, "l.csv", valid_csv(s.services.registry.get("real", 1).y),
                                            source="test")
        async with http.get(s.url + "/api/leaderboard", headers={"If-None-Match": etag}) as r:
            assert r.status == 200 and r.headers["ETag"] != etag


async def test_the_api_pages_and_finds_teams(h42_db):
    s = h42_db
    async with aiohttp.ClientSession() as http:
        async with http.get(s.url + "/api/leaderboard") as r:
            whole = await r.json()
        assert whole["total_teams"] == 60 == len(whole["teams"])
        async with http.get(s.url + "/api/leaderboard?limit=10&offset=20") as r:
            page = await r.json()
        assert [t["team"] for t in page["teams"]] == [t["team"] for t in whole["teams"][20:30]]
        assert page["matched"] == 60 and page["limit"] == 10 and page["offset"] == 20
        async with http.get(s.url + "/api/leaderboard", params={"team": s.names[7].upper()}) as r:
            found = await r.json()
        assert [t["team"] for t in found["teams"]] == [s.names[7]]
        assert found["teams"][0]["rank"] == next(t["rank"] for t in whole["teams"] if t["team"] == s.names[7])
        for bad in ("limit=0", "limit=x", "offset=-1"):
            async with http.get(s.url + "/api/leaderboard?" + bad) as r:
                assert r.status == 400
                assert "whole number" in (await r.json())["error"]


async def test_one_change_counter_refreshes_every_process_cache(h42_folder, db, open_site):
    """Two Services on one database (two processes of an event): a submission recorded by one is
    on the other's board at its next request; nothing else rebuilds it."""
    clock = Clock(now=H42_OPEN)
    a = await open_site(h42_folder / "event.toml", db, clock, teams=20)
    b = await open_site(h42_folder / "event.toml", db, clock)
    first = await b.services.board.board()
    assert await b.services.board.board() is first  # cached: the counter did not move
    team = await a.services.teams.get(a.names[9])  # one that never submitted
    await a.services.submissions.submit(team, 2, "l.csv", valid_csv(a.services.registry.get("real", 2).y), source="t")
    second = await b.services.board.board()
    assert second is not first and second.version > first.version
    row = next(r for r in second.rows if r.team == a.names[9])
    assert row.last_submitted is not None and row.cells[2].submitted
    # the phase set by hand moves the counter too
    await a.services.phases.set("mock", clock())
    third = await b.services.board.board()
    assert third.standings.phase is not None and third.standings.phase.id == "mock"


async def test_while_a_board_is_computed_other_requests_are_answered(open_site, h42_folder, tmp_path, monkeypatch):
    """A 2,000-team board being rebuilt after a submission keeps nobody waiting: its totals and
    ranks are computed off the event loop, so /healthz and a reveal are answered before the board
    is. The computation is held until they are (it would hold the whole server if it ran on the
    event loop: then the board comes first, after the hold's timeout)."""
    s = await open_site(h42_folder / "event.toml", str(tmp_path / "big.sqlite"), Clock(now=H42_OPEN), teams=2000)
    made = await s.services.teams.create("Asker", validated=True)
    form = {"username": made.team.username, "password": made.password, "exercise_id": "1", "datum_id": "3"}
    async with aiohttp.ClientSession() as http:
        async with http.get(s.url + "/api/leaderboard?limit=1") as r:
            assert r.status == 200 and (await r.json())["total_teams"] == 2001
        await s.services.submissions.submit(made.team, 2, "l.csv", valid_csv(s.services.registry.get("real", 2).y),
                                            source="test")  # the board must be computed again
        armed, entered, release = threading.Event(), threading.Event(), threading.Event()
        ranking = scoring.leaderboard

        def held(*args, **kwargs):
            if armed.is_set() and not entered.is_set():
                entered.set()
                release.wait(20)
            return ranking(*args, **kwargs)

        monkeypatch.setattr(scoring, "leaderboard", held)
        order: list[str] = []

        async def fetch(name: str, method: str, path: str, **kw) -> int:
            async with http.request(method, s.url + path, **kw) as r:
                await r.read()
                order.append(name)
                return r.status

        armed.set()
        board = asyncio.create_task(fetch("board", "GET", "/api/leaderboard?limit=5"))
        assert await asyncio.to_thread(entered.wait, 20), "the board was not rebuilt"
        try:
            health = await fetch("healthz", "GET", "/healthz")
            reveal = await fetch("reveal", "POST", "/reveal/", data=form)
        finally:
            release.set()
        assert await board == 200 and health == 200 and reveal == 200
    assert order == ["healthz", "reveal", "board"]


async def test_the_board_read_in_small_chunks_is_the_same_board(h42_db, monkeypatch):
    """The rows are read in chunks (other requests' hops run between two): any chunk size gives
    the same standings and worst groups, on both databases."""
    from bot.core import competition

    services = h42_db.services
    whole = await services.leaderboard.standings()
    assert sum(c.submitted for row in whole.rows for c in row.cells) > 7 * 3
    assert sum(w is not None for row in whole.rows for w in row.worst or []) > 7 * 3
    monkeypatch.setattr(competition, "CHUNK", 7)
    assert (await services.leaderboard.standings()).rows == whole.rows  # the worst groups with them


async def test_worst_group_accuracy_beside_the_accuracy(h42_db):
    board = await h42_db.services.board.board()
    assert all(board.has_groups)  # the synthetic datasets carry groups_val.npy
    shown = [(cell, board.worst[i][j]) for i, row in enumerate(board.rows) for j, cell in enumerate(row.cells)]
    assert all((w is not None) == cell.submitted for cell, w in shown)
    assert any(w is not None and cell.score is not None and w < cell.score for cell, w in shown)
    async with aiohttp.ClientSession() as http, http.get(h42_db.url + "/") as r:
        html = await r.text()
    assert "<small>wg 0." in html and "worst-group accuracy" in html


# --- the statistically tied mark (a final board) -------------------------------------------

async def test_teams_the_bootstrap_cannot_separate_are_marked_tied_once_final(start_server):
    server = await start_server()
    s = server.services
    y = server.y(3)  # 500 rows, 2 points
    teams = {}
    for name in ("Close A", "Close B", "Far C"):
        teams[name] = (await s.teams.create(name, validated=True)).team
    await s.submissions.submit(teams["Close A"], 3, "a.csv", valid_csv(y, wrong=50), source="t")
    await s.submissions.submit(teams["Close B"], 3, "b.csv", valid_csv(y, wrong=53), source="t")
    await s.submissions.submit(teams["Far C"], 3, "c.csv", valid_csv(y, wrong=200), source="t")
    live = await s.board.board()
    assert live.final is False and not any(live.tied_above)
    server.clock.now = CLOSES + timedelta(minutes=1)  # submissions closed; phase "real" is the current one
    final = await s.board.board("mock")
    assert final.final is True
    order = [row.team for row in final.rows]
    assert order == ["Close A", "Close B", "Far C"]
    assert final.tied_above == [False, True, False]
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/?phase=mock") as r:
            html = await r.text()
        async with http.get(server.url + "/api/leaderboard?phase=mock") as r:
            api = await r.json()
    assert html.split("<script")[0].count('<abbr class="tie"') == 1 and "statistically tied with the team above" in html
    assert [t["tied_above"] for t in api["teams"]] == [False, True, False]
    assert api["final"] is True and api["closed"] is True


# --- empty, hidden and dataset-less boards -------------------------------------------------

async def test_no_team_yet_is_said_in_the_first_screen(start_server, browser):
    server = await start_server()
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(server.url + "/")
    box = await page.evaluate("(() => { const e = document.querySelector('p.empty');"
                              " const r = e.getBoundingClientRect(); return [e.textContent, r.top, r.bottom]; })()")
    assert box[0].startswith("No team yet") and box[1] >= 0 and box[2] <= 844


async def test_a_hidden_board_has_no_score_columns_and_no_score_legend(start_server):
    server = await start_server(visibility="hidden")
    s = server.services
    alpha = (await s.teams.create("Alpha", validated=True)).team
    await s.teams.create("Beta", validated=True)
    await s.submissions.submit(alpha, 0, "a.csv", valid_csv(server.y(0)), source="t")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/") as r:
            html = (await r.text()).split("<script")[0]  # the markup, not the script that redraws it
        async with http.get(server.url + "/api/leaderboard") as r:
            api = await r.json()
    assert "Total</th>" not in html and 'class="rank"' not in html and "maximum" not in html
    assert "accuracy" not in html and "scores hidden until the organizers announce them" in html
    assert "✓" in html and "no submission yet" in html
    assert all(t["total"] is None and t["rank"] is None for t in api["teams"])
    assert all(cell["score"] is None and cell["worst_group"] is None for t in api["teams"] for cell in t["scores"].values())


async def test_numhack_shows_its_prizes_not_an_empty_scoreboard(open_site, tmp_path, browser):
    clock = Clock(now=datetime(2024, 11, 22, 12, tzinfo=UTC))
    site = await open_site(REPO / "config/numhack.toml", str(tmp_path / "numhack.sqlite"), clock)
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(site.url + "/")
    text = await page.evaluate("document.querySelector('main').innerText")
    assert "no scored datasets" in text and "Best Build project" in text
    assert "maximum 0 points" not in await page.content()
    assert await page.evaluate("document.querySelector('#leaderboard')") is None

