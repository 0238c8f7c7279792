"""The rules hold with real OS processes firing at the same moment at one database, SQLite file or
PostgreSQL server: through the services (the one-hop checks), and with the Python checks
bypassed altogether (raw INSERTs: what the database itself lets in, at each isolation level)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.config import load_event
from bot.core import invariants
from bot.core.services import Services
from tests.core.helpers import ROWS, csv_bytes, hidden_y, predictions_with_errors, write_event
from tests.core.workers import (
    join_worker,
    raw_join_worker,
    raw_reveal_worker,
    reveal_waves_worker,
    reveal_worker,
    run_processes,
    submit_worker,
)
from tests.databases import count

PROCESSES = 4
ISOLATION_LEVELS = ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]


@pytest.fixture
async def event(tmp_path, clock, db):
    """(config path, database, now, Services) with the database created by this process."""
    config_path = write_event(tmp_path / "event", max_size=3)
    services = await Services.open(load_event(config_path), db, clock=clock)
    yield str(config_path), db, clock.now.isoformat(), services
    assert await invariants.check(services.store) == []
    await services.close()


def split(items: list, parts: int) -> list[list]:
    return [items[k::parts] for k in range(parts)]


async def test_200_concurrent_reveals_spend_exactly_the_budget(event):
    config_path, db, now, services = event
    creds = await services.teams.create("Blue", validated=True)
    other = await services.teams.create("Red", validated=True)
    y = hidden_y(services.config, "mock", 3)
    datums = list(range(ROWS))  # 200 distinct datums, 50 per process
    reports = run_processes(reveal_worker, [
        ((config_path, db, now), ("blue", creds.password, 3, part)) for part in split(datums, PROCESSES)
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
    assert await count(db, "SELECT count(*) FROM reveals") == 5
    assert sorted(await services.reveals.revealed(creds.team, "mock", 3)) == sorted(d for _, d, _, _ in ok)
    # the other team's budget is untouched
    assert (await services.reveals.reveal(other.team, 3, 0)).remaining == 4


async def test_reveals_of_8_teams_in_waves_from_4_processes_spend_exactly_each_budget(event):
    """Each process sends waves of concurrent reveals (8 teams, 2 fresh datums each a wave), so
    they reach the database in groups, one after the other, from 4 processes at once: every team
    gets exactly its 5 labels, each refusal is its own (a spent budget), and every answer's
    `previously revealed` lists reveals the database holds before it (on SQLite, all of them)."""
    config_path, db, now, services = event
    logins = []
    for i in range(8):
        creds = await services.teams.create(f"Team {i}", validated=True)
        logins.append((creds.team.username, creds.password))
    y = hidden_y(services.config, "mock", 3)
    # process p, wave w, team t: datums 8w + 2p and 8w + 2p + 1 (distinct across processes)
    waves = [[[(t, 8 * w + 2 * p + k) for t in range(8) for k in range(2)] for w in range(5)] for p in range(PROCESSES)]
    reports = run_processes(reveal_waves_worker, [((config_path, db, now), (logins, 3, waves[p])) for p in range(PROCESSES)])
    results = [r for report in reports for r in report]
    assert len(results) == 8 * 2 * 5 * PROCESSES
    ok = [r for r in results if r[0] == "ok"]
    assert Counter(t for _, t, *_ in ok) == {t: 5 for t in range(8)}, Counter(r[0] for r in results)
    assert all(label == int(y[datum]) for _, _, datum, label, _ in ok)
    refused = [r for r in results if r[0] != "ok"]
    assert Counter(r[0] for r in refused) == {"NotAllowed": len(results) - 40}
    assert all("5 of 5 labels already revealed" in r[1] for r in refused)
    for t in range(8):
        team = await services.teams.get(logins[t][0])
        held = await services.reveals.revealed(team, "mock", 3)
        mine = {datum: prev for _, tt, datum, _, prev in ok if tt == t}
        assert sorted(mine) == sorted(held)
        for datum, prev in mine.items():  # reveals the database held before this one, in their order
            before = held[:held.index(datum)]
            assert prev == [d for d in before if d in prev]
            if services.store.dialect == "sqlite":  # writes are serialized: it saw all of them
                assert prev == before
    assert await count(db, "SELECT count(*) FROM reveals") == 40


async def test_50_concurrent_submissions_accept_exactly_one(event):
    config_path, db, now, services = event
    creds = await services.teams.create("Blue", validated=True)
    data = csv_bytes(predictions_with_errors(hidden_y(services.config, "mock", 0), 20))
    counts = [13, 13, 12, 12]
    reports = run_processes(submit_worker, [
        ((config_path, db, now), ("blue", creds.password, 0, data, n)) for n in counts
    ])
    results = [r for report in reports for r in report]
    assert len(results) == 50
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 1, Counter(r[0] for r in results)
    assert ok[0][1] == pytest.approx(0.9)
    assert Counter(r[0] for r in results if r[0] != "ok") == {"AlreadyDone": 49}
    rows = await services.store.fetchall("SELECT filename, accuracy FROM submissions")
    assert rows == [(ok[0][2], pytest.approx(0.9))]


async def test_30_users_joining_a_team_with_2_free_places(event):
    config_path, db, now, services = event  # max_size = 3
    creds = await services.teams.create("Blue", captain="captain")  # 2 free places
    users = [f"user{k}" for k in range(30)]
    reports = run_processes(join_worker, [
        ((config_path, db, now), (creds.team.id, part)) for part in split(users, PROCESSES)
    ])
    results = [r for report in reports for r in report]
    joined = [r[-1] for r in results if r[0] == "ok"]
    assert len(joined) == 2, results
    assert Counter(r[0] for r in results) == {"ok": 2, "NotAllowed": 28}
    assert all("this team is full (3 members)" in r[1] for r in results if r[0] == "NotAllowed")
    assert sorted(await services.teams.members(creds.team.id)) == sorted(["captain", *joined])
    assert await count(db, "SELECT count(*) FROM team_members WHERE team_id = ?", (creds.team.id,)) == 3


# --- no Python in the way: the database alone ------------------------------------------------

def isolation_levels(db: str) -> list[str]:
    return ISOLATION_LEVELS if db.startswith("postgresql://") else ["SERIALIZABLE"]  # SQLite has one


async def test_raw_inserts_from_4_processes_never_pass_the_reveal_budget(event):
    """200 INSERTs of distinct datums, straight into `reveals`, from 4 processes at once, at each
    isolation level: the trigger lets exactly the budget in (5 of 5), refusing the rest."""
    _, db, _, services = event
    for level in isolation_levels(db):
        team = (await services.teams.create(f"Raw {level}", validated=True)).team
        rows = [("mock", team.id, 3, datum) for datum in range(ROWS)]
        reports = run_processes(raw_reveal_worker, [((db,), (level, part)) for part in split(rows, PROCESSES)])
        results = [r for report in reports for r in report]
        assert Counter(r[0] for r in results) == {"ok": 5, "refused": 195}, level
        assert {r[2] for r in results if r[0] == "refused"} == {"reveal budget spent"}, level
        assert await count(db, "SELECT count(*) FROM reveals WHERE team_id = ?", (team.id,)) == 5, level


async def test_raw_inserts_from_4_processes_never_pass_the_team_size(event):
    """30 INSERTs of members straight into `team_members` of a team with 2 free places: the
    team-size trigger (the bound synced from [teams] max_size) lets exactly 2 in."""
    _, db, _, services = event  # max_size = 3
    for level in isolation_levels(db):
        team = (await services.teams.create(f"Raw {level}", captain=f"captain {level}")).team
        users = [f"{level} user{k}" for k in range(30)]
        reports = run_processes(raw_join_worker, [((db,), (level, team.id, part)) for part in split(users, PROCESSES)])
        results = [r for report in reports for r in report]
        assert Counter(r[0] for r in results) == {"ok": 2, "refused": 28}, level
        assert {r[2] for r in results if r[0] == "refused"} == {"team is full"}, level
        assert await count(db, "SELECT count(*) FROM team_members WHERE team_id = ?", (team.id,)) == 3, level
