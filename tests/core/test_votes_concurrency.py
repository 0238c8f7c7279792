"""One ballot per person, and a code casts one ballot, with real OS processes casting at the same
moment at one database (SQLite file or PostgreSQL server)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.config import load_event
from bot.core import invariants
from bot.core.services import Services
from tests.core.vote_helpers import DURING, add_projects, old_account, write_vote_event
from tests.core.vote_workers import ballot_worker
from tests.core.workers import run_processes

PROCESSES = 4


@pytest.fixture
async def event(tmp_path, clock, db):
    clock.set(DURING)
    config_path = write_vote_event(tmp_path / "event", kind="approval", max_choices=3)
    services = await Services.open(load_event(config_path), db, clock=clock)
    yield str(config_path), db, clock.now.isoformat(), services
    assert await invariants.check(services.store) == []
    await services.close()


def split(items: list, parts: int) -> list[list]:
    return [items[k::parts] for k in range(parts)]


async def test_50_concurrent_ballots_of_one_person_through_both_doors_leave_one_ballot(event):
    config_path, db, now, services = event
    projects = [p for p, _ in await add_projects(services, 6)]
    person = old_account(77)
    code = (await services.votes.import_codes("fav", f"email,discord_id\np@example.org,{person}\n")).issued[0].code
    ballots: list[tuple] = []
    for k in range(50):
        choice = [projects[k % 6], projects[(k + 1) % 6]]
        ballots.append(("code", code, choice, f"10.0.0.{k}") if k % 5 == 0 else ("discord", person, choice))
    reports = run_processes(ballot_worker, [((config_path, db, now), (part,)) for part in split(ballots, PROCESSES)])
    results = [r for report in reports for r in report]
    assert len(results) == 50
    outcomes = Counter((r[0], r[-1] if r[0] != "ok" else r[1]) for r in results)
    # 40 Discord ballots all recorded (each replacing the one before), 1 of the 10 code ballots spends the code
    assert outcomes == {("ok", "discord"): 40, ("ok", "code"): 1, ("BallotRefused", "code"): 9}, outcomes
    assert sum(1 for r in results if r[0] == "ok" and not r[3]) == 1  # exactly one ballot was not a replacement
    standing = await services.store.fetchall("SELECT voter, log_id, choices FROM ballots")
    assert len(standing) == 1 and standing[0][0] == f"discord:{person}"
    logged = await services.store.fetchone("SELECT voter, choices, status FROM ballot_log WHERE id = ?", (standing[0][1],))
    assert logged == (f"discord:{person}", standing[0][2], "counted")
    log = Counter(await services.store.fetchall("SELECT status, reasons FROM ballot_log"))
    assert log[("refused", json.dumps([["code_used", next(r[1] for r in results if r[0] == "BallotRefused")
                                                             .split("refused: ", 1)[1]]]))] >= 1
    assert sum(n for (status, _), n in log.items() if status == "counted") == 41
    assert sum(n for (status, _), n in log.items() if status == "refused") == 9
    assert await services.store.fetchval("SELECT count(*) FROM vote_codes WHERE used_at IS NOT NULL") == 1


async def test_codes_are_single_use_under_concurrency(event):
    config_path, db, now, services = event
    projects = [p for p, _ in await add_projects(services, 3)]
    made = await services.votes.import_codes(
        "fav", "email\n" + "".join(f"a{k}@example.org\n" for k in range(10)))
    codes = [c.code for c in made.issued]
    ballots = [("code", codes[k % 10], [projects[k % 3]], f"192.0.2.{k}") for k in range(50)]  # each code 5 times
    reports = run_processes(ballot_worker, [((config_path, db, now), (part,)) for part in split(ballots, PROCESSES)])
    results = [r for report in reports for r in report]
    assert Counter(r[0] for r in results) == {"ok": 10, "BallotRefused": 40}
    assert all("already used" in r[1] for r in results if r[0] == "BallotRefused")
    assert await services.store.fetchval("SELECT count(*) FROM ballots") == 10
    assert await services.store.fetchval("SELECT count(DISTINCT voter) FROM ballots") == 10
    assert await services.store.fetchval("SELECT count(*) FROM vote_codes WHERE used_at IS NOT NULL") == 10
    report = await services.votes.report("fav")
    assert report.refused == {"code_used": 40}
    assert report.standing == 10 and report.ballots_cast == 50
