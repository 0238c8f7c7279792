"""A database that cannot be written (a full disk): every write answers 503 "nothing was
recorded, try again", the organizers hear of it once a minute, and nothing is lost when space
comes back. The database is a real SQLite file made full with `PRAGMA max_page_count` on the
server's own connection (SQLite then answers SQLITE_FULL, as on a full disk); the test with a
real full file system is in tests/web/test_cli_faults.py."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.web.faults import FaultReport
from tests.web.conftest import MAX_BYTES, ROWS
from tests.web.test_api import assert_error, post, reveal_form, submit_form


def padded_csv(y) -> bytes:
    """A valid file of nearly max_bytes (spaces around labels are allowed): its row needs new pages."""
    pad = (MAX_BYTES - 500) // ROWS - 2
    return b"".join(b" " * pad + str(int(v)).encode() + b"\n" for v in y)


async def fill_the_disk(server) -> None:
    def limit(conn):
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    await server.services.store.run(limit)


async def free_the_disk(server) -> None:
    await server.services.store.run(lambda conn: conn.execute("PRAGMA max_page_count = 1073741823"))


async def test_full_disk_answers_503_reports_once_and_loses_nothing(server, caplog):
    username, password = await server.team("Full Disk")
    y = server.y(3)
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 7))
    assert status == 200
    await fill_the_disk(server)
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            status, body, headers = await post(f"{server.url}/submit/", submit_form(username, password, 3, padded_csv(y)))
            assert_error(status, body, 503, "nothing was recorded", "disk", "full", "try again")
            assert headers["Retry-After"] == "60"
        # reading still works: the leaderboard, a free re-reveal
        status, again, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 7))
        assert status == 200 and again["label"] == int(y[7])
        async with aiohttp.ClientSession() as s, s.get(f"{server.url}/api/leaderboard") as res:
            assert res.status == 200 and (await res.json())["teams"][0]["team"] == "Full Disk"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].name == "bot.web.faults" and "disk holding the database is full" in errors[0].getMessage()
    assert errors[0].exc_info is None
    await free_the_disk(server)
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, padded_csv(y)))
    assert status == 200 and body["accuracy"] == 1.0, body  # the refused attempts spent nothing
    team = await server.services.teams.authenticate(username, password)
    assert await server.services.reveals.revealed(team, "mock", 3) == [7]


async def test_fault_report_once_a_minute_with_the_count(caplog):
    now = [0.0]
    delivered: list[str] = []

    async def to_discord(text: str) -> None:
        delivered.append(text)

    report = FaultReport(to_discord, clock=lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="bot.web.faults"):
        for second in range(120):
            now[0] = float(second)
            report.refused("the disk holding the database is full (db.sqlite3)", "POST", "/submit/")
            report.refused("the disk holding the database is full (db.sqlite3)", "POST", "/reveal/")
        await asyncio.sleep(0)  # the Discord reports run as tasks
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.web.faults"]
    assert len(logged) == 2  # at 0 s and at 60 s, for 240 refusals
    assert "1 request(s) refused" in logged[0] and "120 request(s) refused" in logged[1]
    assert delivered == logged
