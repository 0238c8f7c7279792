"""Submission limits (issue 16) with real OS processes firing at once at one database, SQLite
file or PostgreSQL server: through the services, and with raw INSERTs (what the database itself
lets in, at each isolation level)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.config import load_event
from bot.core import invariants
from bot.core.services import Services
from tests.core.controls_workers import raw_submission_worker
from tests.core.helpers import csv_bytes, hidden_y, predictions_with_errors, write_event
from tests.core.workers import run_processes, submit_worker
from tests.databases import count

PROCESSES = 4
LIMITS = {0: "submissions = { per_day = 5, total = 8 }", 3: "submissions = { total = 3 }\ncounts = \"last\""}


@pytest.fixture
async def event(tmp_path, clock, db):
    config_path = write_event(tmp_path / "event", controls=LIMITS)
    services = await Services.open(load_event(config_path), db, clock=clock)
    yield str(config_path), db, clock.now.isoformat(), services
    assert await invariants.check(services.store) == []
    await services.close()


def split(items: list, parts: int) -> list[list]:
    return [items[k::parts] for k in range(parts)]


@pytest.mark.parametrize(("dataset_id", "accepted", "refusal", "words"), [
    (0, 5, "TooManyAttempts", "used its 5 submissions for dataset 0 today"),
    (3, 3, "NotAllowed", "used all 3 submissions for dataset 3"),
])
async def test_50_concurrent_submissions_from_4_processes_stop_at_the_limit(event, dataset_id, accepted, refusal,
                                                                             words):
    config_path, db, now, services = event
    creds = await services.teams.create("Blue", validated=True)
    data = csv_bytes(predictions_with_errors(hidden_y(services.config, "mock", dataset_id), 20))
    reports = run_processes(submit_worker, [
        ((config_path, db, now), ("blue", creds.password, dataset_id, data, n)) for n in (13, 13, 12, 12)
    ])
    results = [r for report in reports for r in report]
    assert len(results) == 50
    assert Counter(r[0] for r in results) == {"ok": accepted, refusal: 50 - accepted}
    assert all(words in r[1] for r in results if r[0] == refusal)
    assert await count(db, "SELECT count(*) FROM submissions WHERE dataset_id = ?", (dataset_id,)) == accepted


def isolation_levels(db: str) -> list[str]:
    return ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"] if db.startswith("postgresql://") else ["SERIALIZABLE"]


async def test_raw_inserts_from_4_processes_never_pass_the_daily_limit(event):
    """40 INSERTs of one team's submissions on one day, straight into `submissions`: the
    triggers let exactly per_day (5) in, and a later day takes more up to the total (8)."""
    _, db, _, services = event
    for level in isolation_levels(db):
        team = (await services.teams.create(f"Raw {level}", validated=True)).team
        rows = [("mock", team.id, 0, 1000.0 + k, 0.0) for k in range(40)]
        reports = run_processes(raw_submission_worker, [((db,), (level, part)) for part in split(rows, PROCESSES)])
        results = [r for report in reports for r in report]
        assert Counter(r[0] for r in results) == {"ok": 5, "refused": 35}, level
        assert {r[1] for r in results if r[0] == "refused"} == {"daily submission limit reached"}, level
        rows = [("mock", team.id, 0, 90000.0 + k, 86400.0) for k in range(20)]
        reports = run_processes(raw_submission_worker, [((db,), (level, part)) for part in split(rows, PROCESSES)])
        results = [r for report in reports for r in report]
        assert Counter(r[0] for r in results) == {"ok": 3, "refused": 17}, level  # 8 in total
        assert {r[1] for r in results if r[0] == "refused"} == {"submission limit reached"}, level
        assert await count(db, "SELECT count(*) FROM submissions WHERE team_id = ?", (team.id,)) == 8, level
