"""A database that cannot be written (a full disk): every write answers 503 "nothing was
recorded, try again" (never the cause: that is for the organizers), the organizers hear why once a
minute, and nothing is lost when space comes back. On SQLite, a real file made full with `PRAGMA
max_page_count` on the server's own connection (SQLite then answers SQLITE_FULL, as on a full
disk); on PostgreSQL, every write raising SQLSTATE 53100 disk_full (what the server answers on a
full disk) from a trigger. The test with a real full file system is in tests/web/test_cli_faults.py."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.core.store import Tx
from bot.web.faults import FaultReport
from tests.web.conftest import MAX_BYTES, ROWS
from tests.web.test_api import assert_error, post, reveal_form, submit_form


def padded_csv(y) -> bytes:
    """A valid file of nearly max_bytes (spaces around labels are allowed): its row needs new pages."""
    pad = (MAX_BYTES - 500) // ROWS - 2
    return b"".join(b" " * pad + str(int(v)).encode() + b"\n" for v in y)


_PG_DISK_FULL = """
CREATE FUNCTION hb_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END
$$;
"""


async def _fill(tx: Tx) -> None:
    if tx.dialect == "sqlite":
        pages = await tx.fetchval("PRAGMA page_count")
        await tx.execute(f"PRAGMA max_page_count = {pages}")
        return
    async with tx.transaction():
        await tx.execute(_PG_DISK_FULL)
        for (table,) in await tx.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"):
            await tx.execute(f'CREATE TRIGGER hb_test_disk_full BEFORE INSERT OR UPDATE OR DELETE ON "{table}"'
                             " FOR EACH STATEMENT EXECUTE FUNCTION hb_test_disk_full()")


async def _free(tx: Tx) -> None:
    if tx.dialect == "sqlite":
        await tx.execute("PRAGMA max_page_count = 1073741823")
    else:
        await tx.execute("DROP FUNCTION hb_test_disk_full() CASCADE")  # and its triggers


async def fill_the_disk(server) -> None:
    await server.services.store.run(_fill)


async def free_the_disk(server) -> None:
    await server.services.store.run(_free)


async def test_full_disk_answers_503_reports_once_and_loses_nothing(server, caplog):
    username, password = await server.team("Full Disk")
    y = server.y(3)
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 7))
    assert status == 200
    await fill_the_disk(server)
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            status, body, headers = await post(f"{server.url}/submit/", submit_form(username, password, 3, padded_csv(y)))
            message = assert_error(status, body, 503, "nothing was recorded", "try again in a minute",
                                   "the organizers have been told")
            assert "disk" not in message and "full" not in message  # the cause is for the organizers
            assert server.services.store.target not in message and "sqlite" not in message.lower()
            assert headers["Retry-After"] == "60"
        # reading still works: the leaderboard, a free re-reveal
        status, again, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 7))
        assert status == 200 and again["label"] == int(y[7])
        async with aiohttp.ClientSession() as s, s.get(f"{server.url}/api/leaderboard") as res:
            assert res.status == 200 and (await res.json())["teams"][0]["team"] == "Full Disk"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    reason = {"sqlite": "the disk holding the database is full", "postgres": "the disk of the PostgreSQL server is full"}
    assert errors[0].name == "bot.web.faults" and reason[server.services.store.dialect] in errors[0].getMessage()
    assert server.services.store.target in errors[0].getMessage()  # which database: the organizers' to know
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
