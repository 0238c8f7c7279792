"""Calibration projects (issue 12): a round's `calibration` teams are reviewed by every judge of
the round, their scores measure each judge's generosity (the model's offsets), and they never
enter a shortlist nor win a prize. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import load_event
from bot.core.services import Services
from tests.core.helpers import write_event
from tests.core.judging_helpers import CLOSES, JUDGING, teams_with_projects

# Team 0 is the calibration team of the initial round, whose other projects get one review each:
# without Team 0, no two judges share a project and their scales could not be told apart.
CALIBRATED = JUDGING.replace('reviews_per_project = 2\npanels = ["jury"]',
                             'reviews_per_project = 1\npanels = ["jury"]\ncalibration = ["team  0"]')
TRUTH = {0: 4, 1: 2, 2: 3, 3: 4, 4: 2, 5: 3}  # Team i's true level; Team 0 would top the round
OFFSET = {"900": 1, "901": 0, "902": -1}  # generous, fair, harsh


@pytest.fixture
async def calibrated(tmp_path, db, clock):
    assert CALIBRATED != JUDGING
    path = write_event(tmp_path / "event")
    path.write_text(path.read_text(encoding="utf-8") + CALIBRATED, encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=clock)
    yield services
    await services.close()


async def score_all(services: Services, teams: list[int], *, calibration: bool) -> None:
    for judge, offset in OFFSET.items():
        for item in (await services.judging.work(judge))[0].items:
            if (item.team_id == teams[0]) != calibration:
                continue
            level = min(5, max(1, TRUTH[teams.index(item.team_id)] + offset))
            await services.judging.score(judge, item.team_id, f"{level} {level}", round_id="initial")


async def test_every_judge_reviews_the_calibration_project_whose_scores_set_the_offsets(calibrated):
    teams = await teams_with_projects(calibrated, 6)
    for judge in OFFSET:
        await calibrated.judging.register(judge, f"Judge {judge}", ["jury"])
    view = await calibrated.judging.plan("initial")
    assert view.plan.ok and view.plan.calibration == (str(teams[0]),)
    rows = await calibrated.store.fetchall(
        "SELECT judge, team_id, calibration FROM review_assignments WHERE round = 'initial' AND active = 1")
    assert sorted((j, c) for j, t, c in rows if t == teams[0]) == [(j, 1) for j in sorted(OFFSET)]
    assert all(sum(1 for _, t, _ in rows if t == team) == 1 for team in teams[1:])  # the others: one review each
    for judge in OFFSET:  # the calibration review is in each judge's list, like any other
        assert teams[0] in [i.team_id for i in (await calibrated.judging.work(judge))[0].items]

    await score_all(calibrated, teams, calibration=False)
    before = (await calibrated.judging.results("initial")).offsets
    assert max(abs(v) for v in before.values()) < 0.01  # no shared project: nothing tells the judges apart
    await score_all(calibrated, teams, calibration=True)
    results = await calibrated.judging.results("initial")
    offsets = results.offsets
    # the planted offsets are +1, 0, -1; with two reviews a judge the prior shrinks them about
    # halfway towards zero, keeping their order
    assert offsets["Judge 900"] > offsets["Judge 901"] > offsets["Judge 902"]
    assert offsets["Judge 900"] - offsets["Judge 902"] > 0.75
    flagged = {r.team: r.calibration for r in results.rows}
    assert flagged["Team 0"] and not any(v for team, v in flagged.items() if team != "Team 0")
    export = await calibrated.judging.export()
    assert [r["team"] for r in export["rounds"][0]["results"] if r["calibration"]] == ["Team 0"]


async def test_a_calibration_project_never_enters_a_shortlist_nor_wins(calibrated, clock):
    teams = await teams_with_projects(calibrated, 6)
    for judge in OFFSET:
        await calibrated.judging.register(judge, f"Judge {judge}", ["jury"])
    await calibrated.judging.plan("initial")
    await score_all(calibrated, teams, calibration=False)
    await score_all(calibrated, teams, calibration=True)
    initial = await calibrated.judging.results("initial")
    assert next(r for r in initial.rows if r.team == "Team 0").rank == 1  # the best scored project of the round...
    clock.set(CLOSES + timedelta(hours=1))
    pool = await calibrated.judging.pool("final")
    assert len(pool) == 2 and str(teams[0]) not in {p.id for p in pool}  # ...is not shortlisted
    preview = await calibrated.winners.preview()
    assert all("Team 0" not in p.winners for p in preview.prizes)
    build = next(p for p in preview.prizes if p.id == "build")  # Team 0 is a Build project
    assert build.winners and any(p.startswith("Team 0 (a calibration project") for p in build.passed_over)


async def test_check_names_a_calibration_team_that_does_not_exist(tmp_path, db, clock):
    path = write_event(tmp_path / "event")
    path.write_text(path.read_text(encoding="utf-8") + CALIBRATED.replace('"team  0"', '"Nobody"'), encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        await teams_with_projects(services, 2)
        await services.judging.register("900", "Judge 900", ["jury"])
        problems = await services.judging.check("initial")
        assert any("calibration team 'Nobody' is not a team" in p for p in problems)
    finally:
        await services.close()


async def test_places_and_too_close_marks_count_the_eligible_projects_only(calibrated):
    """Team 0, the calibration project, is the best of the round: it takes no place, so the
    first eligible project is 1st (its interval starts at 1) and the cut-offs (the shortlist's
    top 2, the Build prize's 1) are read against the eligible projects' ranks."""
    teams = await teams_with_projects(calibrated, 6)
    for judge in OFFSET:
        await calibrated.judging.register(judge, f"Judge {judge}", ["jury"])
    await calibrated.judging.plan("initial")
    truth = {0: 5, 1: 1, 2: 2, 3: 4, 4: 1, 5: 3}
    for judge, offset in OFFSET.items():
        for item in (await calibrated.judging.work(judge))[0].items:
            level = min(5, max(1, truth[teams.index(item.team_id)] + offset))
            await calibrated.judging.score(judge, item.team_id, f"{level} {level}", round_id="initial")
    results = await calibrated.judging.results("initial")
    eligible = [r for r in results.rows if not r.calibration]
    assert eligible[0].team == "Team 3"
    assert [r.rank for r in eligible] == sorted(r.rank for r in eligible) and eligible[0].rank == 1
    assert all(r.low is not None and r.low <= r.rank <= r.high for r in eligible)
    assert eligible[0].low == 1  # counting Team 0, no resample could rank it first
    calibration = next(r for r in results.rows if r.calibration)
    assert calibration.team == "Team 0" and calibration.rank == 1 and not calibration.too_close and calibration.low is None
    assert all(r.too_close == any(r.low <= cut < r.high for cut in results.cutoffs) for r in eligible)
