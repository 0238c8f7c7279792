"""Judging on a real database (SQLite and PostgreSQL): the plan persisted without conflicts,
the database refusing a conflicting review and a score after the close, the append-only log,
changed scores, voids, recusals, results with rank intervals, `check` and the export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.errors import BadInput, NotAllowed
from bot.core.store import IntegrityError
from tests.core.judging_helpers import CLOSES, open_judged, teams_with_projects


@pytest.fixture
async def judged(tmp_path, db, clock):
    services = await open_judged(tmp_path / "event", db, clock)
    yield services
    await services.close()


async def judges(services, n: int, panel: str = "jury") -> list[str]:
    ids = [f"{900 + i}" if panel == "jury" else f"{800 + i}" for i in range(n)]
    for user_id in ids:
        await services.judging.register(user_id, f"Judge {user_id}", [panel])
    return ids


async def test_every_project_gets_its_reviews_loads_balanced_and_no_conflict(judged):
    teams = await teams_with_projects(judged, 7)
    jury = await judges(judged, 4)
    await judged.judging.declare_conflict(jury[0], teams[0], note="my student")
    await judged.judging.add_affiliation(jury[1], "  EPFL ")
    await judged.judging.add_team_affiliation(teams[1], "epfl")
    view = await judged.judging.plan("initial")
    assert view.written == 14 and view.plan.ok
    rows = await judged.store.fetchall("SELECT judge, team_id FROM review_assignments WHERE round = 'initial' AND active = 1")
    per_team = {t: sum(1 for _, x in rows if x == t) for t in teams}
    assert set(per_team.values()) == {2}
    loads = sorted(sum(1 for j, _ in rows if j == judge) for judge in jury)
    assert loads[-1] - loads[0] <= 1
    assert (jury[0], teams[0]) not in rows and (jury[1], teams[1]) not in rows
    # planning again writes nothing new: the same plan
    assert (await judged.judging.plan("initial")).written == 0


async def test_the_database_refuses_a_review_against_a_conflict(judged):
    teams = await teams_with_projects(judged, 2)
    jury = await judges(judged, 1)
    await judged.judging.declare_conflict(jury[0], teams[0])
    with pytest.raises(IntegrityError):
        await judged.store.execute("INSERT INTO review_assignments(round, judge, team_id, assigned_at)"
                                   " VALUES ('initial', ?, ?, 0)", (jury[0], teams[0]))
    # a mentor of a team cannot be assigned it either, and a later mentoring ends the review
    await judged.store.execute("INSERT INTO review_assignments(round, judge, team_id, assigned_at)"
                               " VALUES ('initial', ?, ?, 0)", (jury[0], teams[1]))
    await judged.store.execute("INSERT INTO mentor_assignments(mentor_user_id, team_id, assigned_at) VALUES (?, ?, 0)",
                               (jury[0], teams[1]))
    assert await judged.store.fetchval("SELECT active FROM review_assignments WHERE judge = ? AND team_id = ?",
                                       (jury[0], teams[1])) == 0
    with pytest.raises(IntegrityError):
        await judged.store.execute("UPDATE review_assignments SET active = 1 WHERE judge = ? AND team_id = ?",
                                   (jury[0], teams[1]))


async def test_scores_change_until_the_close_and_the_log_keeps_every_one(judged, clock):
    teams = await teams_with_projects(judged, 2)
    jury = await judges(judged, 2)
    work = await judged.judging.work(jury[0])
    assert [w.total for w in work if w.round.id == "initial"] == [2]
    first = await judged.judging.score(jury[0], teams[0], "2 3")
    assert not first.changed and (first.done, first.of) == (1, 2)
    assert first.total == pytest.approx((2 * 2 + 3) / 3)
    second = await judged.judging.score(jury[0], teams[0], "impact=5 execution=5")
    assert second.changed and second.done == 1
    with pytest.raises(IntegrityError):
        await judged.store.execute("UPDATE score_events SET payload = '{}'")
    with pytest.raises(IntegrityError):
        await judged.store.execute("DELETE FROM score_events")
    assert await judged.store.fetchval("SELECT count(*) FROM score_events") == 2
    export = await judged.judging.export()
    initial = export["rounds"][0]
    assert initial["scores_by_judge"][f"Judge {jury[0]}"]["Team 0"]["criteria"] == {"impact": 5, "execution": 5}
    assert len(initial["log"]) == 2
    clock.set(CLOSES + timedelta(minutes=1))
    with pytest.raises(NotAllowed, match="not open"):
        await judged.judging.score(jury[0], teams[1], "3 3", round_id="initial")
    with pytest.raises(IntegrityError, match="closed"):  # the database holds the close too
        await judged.store.execute("INSERT INTO score_events(round, judge, team_id, kind, payload, actor, at)"
                                   " VALUES ('initial', ?, ?, 'score', '{}', ?, ?)",
                                   (jury[0], teams[1], jury[0], clock().timestamp()))


async def test_bad_scores_are_refused_with_what_to_write(judged):
    teams = await teams_with_projects(judged, 1)
    jury = await judges(judged, 1)
    await judged.judging.work(jury[0])
    with pytest.raises(BadInput, match="give 2 scores"):
        await judged.judging.score(jury[0], teams[0], "4")
    with pytest.raises(BadInput, match="outside the scale"):
        await judged.judging.score(jury[0], teams[0], "4 7")
    with pytest.raises(BadInput, match="not a criterion"):
        await judged.judging.score(jury[0], teams[0], "beauty=4 impact=3")
    assert await judged.store.fetchval("SELECT count(*) FROM score_events") == 0


async def test_recusal_and_void_take_scores_out_of_the_results(judged):
    teams = await teams_with_projects(judged, 3)
    jury = await judges(judged, 2)
    for judge in jury:
        await judged.judging.work(judge)
        for team in teams:
            if await judged.store.fetchval("SELECT active FROM review_assignments WHERE judge = ? AND team_id = ?",
                                           (judge, team)):
                await judged.judging.score(judge, team, "5 5" if team == teams[0] else "2 2", checklist="fail")
    results = await judged.judging.results("initial")
    assert results.rows[0].team == "Team 0" and results.rows[0].reviews == 2
    assert any("open-licence" in f for f in results.rows[0].flags)
    ended = await judged.judging.declare_conflict(jury[0], teams[0], recuse=True, note="friend")
    assert ended == 1
    counted = next(r for r in (await judged.judging.results("initial")).rows if r.team == "Team 0").reviews
    assert counted == 1
    voided = await judged.judging.void("initial", jury[1], "scored without opening the projects", by="org")
    assert voided >= 1
    after = await judged.judging.results("initial")
    assert all(r.team != "Team 0" for r in after.rows)  # nobody's counted score of it remains
    log = json.dumps((await judged.judging.export())["rounds"][0]["log"])
    assert "scored without opening the projects" in log


async def test_ranking_round_on_the_shortlist_and_check_names_projects_without_review(judged, clock):
    teams = await teams_with_projects(judged, 4)
    jury = await judges(judged, 2)
    for judge in jury:
        await judged.judging.work(judge)
    for judge in jury:
        for item in (await judged.judging.work(judge))[0].items:
            await judged.judging.score(judge, item.team_id, f"{5 - teams.index(item.team_id)} 3")
    problems = await judged.judging.check("final")
    assert problems and "no judge" in problems[0]
    clock.set(CLOSES + timedelta(hours=1))
    final = await judges(judged, 2, panel="final")
    work = [w for w in await judged.judging.work(final[0]) if w.round.id == "final"][0]
    assert {i.team for i in work.items} == {"Team 0", "Team 1"}
    with pytest.raises(BadInput, match="exactly once"):
        await judged.judging.rank(final[0], "1 1")
    first = {i.number: i.team for i in work.items}
    await judged.judging.rank(final[0], "2 1")
    await judged.judging.work(final[1])
    await judged.judging.rank(final[1], "2 1")
    results = await judged.judging.results("final")
    assert [r.team for r in results.rows] == [first[2], first[1]]
    assert await judged.judging.check("final") == []



async def test_conflicts_and_reviews_written_at_once_from_two_processes_never_meet(tmp_path, db, clock):
    """One process declares the judge's conflicts with 12 teams while another writes the judge's
    reviews of them: whichever comes first, no review stays active against a conflict."""
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.judging_helpers import write_judged_event
    from tests.core.judging_workers import conflict_or_review_worker
    from tests.core.workers import run_processes

    path = write_judged_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        teams = await teams_with_projects(services, 12)
        await judges(services, 1)
        args = (str(path), db, clock().isoformat())
        conflicts, reviews = run_processes(conflict_or_review_worker, [(args, ("conflict", "900", teams)),
                                                                       (args, ("review", "900", teams))])
        assert await services.store.fetchval("SELECT count(*) FROM judge_conflicts WHERE user_id = '900'") == 12
        active = await services.store.fetchval(
            "SELECT count(*) FROM review_assignments a WHERE a.active = 1 AND EXISTS (SELECT 1 FROM judge_team_conflicts c"
            " WHERE c.judge = a.judge AND c.team_id = a.team_id)")
        assert active == 0, (conflicts, reviews)
        written = [t for outcome, t in reviews if outcome == "ok"]
        ended = await services.store.fetchval("SELECT count(*) FROM review_assignments WHERE active = 0")
        assert ended == len(written)  # each review written before its conflict was ended by it
    finally:
        await services.close()


async def test_judges_with_open_reviews_are_reminded_once_before_the_close(judged, clock):
    teams = await teams_with_projects(judged, 2)
    jury = await judges(judged, 2)
    for judge in jury:
        await judged.judging.work(judge)
    for team in teams:  # the first judge finishes; the second does not
        await judged.judging.score(jury[0], team, "3 3")
    assert await judged.judging.claim_reminders() == []  # too early
    clock.set(CLOSES - timedelta(hours=2))
    due = await judged.judging.claim_reminders()
    assert [(j.user_id, w.done, w.total) for j, w in due] == [(jury[1], 0, 2)]
    assert await judged.judging.claim_reminders() == []  # once


SPONSOR = """
[[judging.panels]]
id = "sponsor"
role = "Sponsor judges"
opt_in = "sponsor"

[[judging.rounds]]
id = "sponsor"
mode = "rubric"
reviews_per_project = "all"
panels = ["sponsor"]
opt_in = "sponsor"

[[judging.rounds.criteria]]
id = "use"
title = "Use of the sponsor's product"

[[prizes]]
id = "sponsor"
title = "Sponsor award"
source = "sponsor"
opt_in = true
"""


async def test_a_sponsor_judge_scores_in_their_round_while_the_jury_round_is_open_too(tmp_path, db, clock):
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.judging_helpers import add_project, write_judged_event

    path = write_judged_event(tmp_path / "event", SPONSOR)
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        opted = (await services.teams.create("Opted", captain="1000")).team
        await add_project(services, opted.id, "Uses the product", "Build", opt_ins=("sponsor",))
        other = (await services.teams.create("Other", captain="1001")).team
        await add_project(services, other.id, "Does not", "Train")
        jury = await judges(services, 2)
        await services.judging.register("800", "Sponsor judge", ["sponsor"])
        assert {w.round.id: w.total for w in await services.judging.work("800")} == {"sponsor": 1}
        # two rubric rounds are open: the sponsor judge's one criterion is read against their round
        scored = await services.judging.score("800", opted.id, "4")
        assert (scored.round, scored.done, scored.of) == ("sponsor", 1, 1)
        await services.judging.work(jury[0])  # the jury's round is planned when a jury judge looks
        jury_scored = await services.judging.score(jury[0], opted.id, "3 4")
        assert jury_scored.round == "initial"
    finally:
        await services.close()
