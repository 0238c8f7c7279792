"""The rules hold with real OS processes firing at the same moment at one database file."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from bot.config import load_event
from bot.core.services import Services
from tests.core.helpers import ROWS, csv_bytes, hidden_y, predictions_with_errors, write_event
from tests.core.workers import join_worker, reveal_worker, run_processes, submit_worker

PROCESSES = 4


@pytest.fixture
async def event(tmp_path, clock):
    """(config path, db path, now, Services) with the database created by this process."""
    config_path = write_event(tmp_path / "event", max_size=3)
    db_path = tmp_path / "db.sqlite3"
    services = await Services.open(load_event(config_path), db_path, clock=clock)
    yield str(config_path), str(db_path), clock.now.isoformat(), services
    await services.close()


def split(items: list, parts: int) -> list[list]:
    return [items[k::parts] for k in range(parts)]


def count(db_path: str, sql: str, params=()) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


async def test_200_concurrent_reveals_spend_exactly_the_budget(event):
    config_path, db_path, now, services = event
    creds = await services.teams.create("Blue", validated=True)
    other = await services.teams.create("Red", validated=True)
    y = hidden_y(services.config, "mock", 3)
    datums = list(range(ROWS))  # 200 distinct datums, 50 per process
    reports = run_processes(reveal_worker, [
        ((config_path, db_path, now), ("blue", creds.password, 3, part)) for part in split(datums, PROCESSES)
    ])
    results = [r for report in reports for r in report]
    assert len(results) == 200
    ok = [r for r in results if r[0] == "ok"]
    refused = [r for r in results if r[0] != "ok"]
    assert len(ok) == 5, Counter(r[0] for r in results)
    assert all(new for *_, new in ok)
    assert all(label == int(y[datum]) for _, datum, label, _ in ok)
    assert Counter(kind for kind, *_ in refused) == {"NotAllowed": 195}
    assert all("5 of 5 labels already revealed" in message for _, message, _ in refused)
    assert count(db_path, "SELECT count(*) FROM reveals") == 5
    assert sorted(await services.reveals.revealed(creds.team, "mock", 3)) == sorted(d for _, d, _, _ in ok)
    # the other team's budget is untouched
    assert (await services.reveals.reveal(other.team, 3, 0)).remaining == 4


async def test_50_concurrent_submissions_accept_exactly_one(event):
    config_path, db_path, now, services = event
    creds = await services.teams.create("Blue", validated=True)
    data = csv_bytes(predictions_with_errors(hidden_y(services.config, "mock", 0), 20))
    counts = [13, 13, 12, 12]
    reports = run_processes(submit_worker, [
        ((config_path, db_path, now), ("blue", creds.password, 0, data, n)) for n in counts
    ])
    results = [r for report in reports for r in report]
    assert len(results) == 50
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 1, Counter(r[0] for r in results)
    assert ok[0][1] == pytest.approx(0.9)
    assert Counter(r[0] for r in results if r[0] != "ok") == {"AlreadyDone": 49}
    rows = await services.store.fetchall("SELECT filename, accuracy FROM submissions")
    assert rows == [(ok[0][2], pytest.approx(0.9))]


async def test_20_users_joining_a_team_with_2_free_places(event):
    config_path, db_path, now, services = event  # max_size = 3
    creds = await services.teams.create("Blue", captain="captain")  # 2 free places
    users = [f"user{k}" for k in range(20)]
    reports = run_processes(join_worker, [
        ((config_path, db_path, now), (creds.team.id, part)) for part in split(users, PROCESSES)
    ])
    results = [r for report in reports for r in report]
    joined = [r[-1] for r in results if r[0] == "ok"]
    assert len(joined) == 2, results
    assert Counter(r[0] for r in results) == {"ok": 2, "NotAllowed": 18}
    assert all("full" in r[1] for r in results if r[0] == "NotAllowed")
    assert sorted(await services.teams.members(creds.team.id)) == sorted(["captain", *joined])
    assert count(db_path, "SELECT count(*) FROM team_members WHERE team_id = ?", (creds.team.id,)) == 3
