"""Pairwise rounds (issue 12): a judge is shown two projects and says which is better. The pairs
are planned over each judge's reviews (coverage, balance, conflicts as for rubric reviews), every
choice is an event of the append-only score log (refused by the database for a team the judge has
no open review of, and after the close), and results come from a Bradley-Terry fit with the
bootstrap's rank intervals. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import kendalltau

from bot.config import load_event
from bot.core.errors import NotAllowed
from bot.core.judging import comparison_pairs
from bot.core.services import Services
from bot.core.store import IntegrityError
from tests.core.helpers import _iso, write_event
from tests.core.judging_helpers import CLOSES, JUDGING, OPENS, teams_with_projects

PAIRWISE = JUDGING + f"""
[[judging.panels]]
id = "demo"
role = "Demo judges"

[[judging.rounds]]
id = "demo"
mode = "pairwise"
opens = {_iso(OPENS)}
closes = {_iso(CLOSES)}
reviews_per_project = 4
panels = ["demo"]

[[prizes]]
id = "demo"
title = "Best demo"
source = "demo"
places = 2
"""
JUDGES = [f"70{n}" for n in range(4)]
PROJECTS = 8


@pytest.fixture
async def event(tmp_path, db, clock):
    path = write_event(tmp_path / "event")
    path.write_text(path.read_text(encoding="utf-8") + PAIRWISE, encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=clock)
    teams = await teams_with_projects(services, PROJECTS)
    for judge in JUDGES:
        await services.judging.register(judge, f"Judge {judge}", ["demo"])
    yield services, teams
    await services.close()


async def all_pairs(services: Services) -> dict[str, list[tuple[int, int]]]:
    out = {}
    for judge in JUDGES:
        work = next(w for w in await services.judging.work(judge) if w.round.id == "demo")
        out[judge] = [(p.first.team_id, p.second.team_id) for p in work.pairs]
    return out


async def test_each_project_meets_enough_others_loads_balanced_conflicts_never_paired(event):
    services, teams = event
    await services.judging.declare_conflict(JUDGES[0], teams[3], note="a former colleague")
    pairs = await all_pairs(services)
    comparisons = {t: 0 for t in teams}
    opponents: dict[int, set[int]] = {t: set() for t in teams}
    for a, b in (p for judge_pairs in pairs.values() for p in judge_pairs):
        comparisons[a] += 1
        comparisons[b] += 1
        opponents[a].add(b)
        opponents[b].add(a)
    assert min(comparisons.values()) >= 4  # reviews_per_project = 4 comparisons
    assert min(len(o) for o in opponents.values()) >= 3  # a project meets different opponents through each judge
    loads = [len(p) for p in pairs.values()]
    assert max(loads) - min(loads) <= 1, loads
    assert all(teams[3] not in pair for pair in pairs[JUDGES[0]])  # the conflict is never shown to that judge
    assert pairs == await all_pairs(services)  # the same plan, asked again
    assert comparison_pairs("demo", "x", [3, 1, 2]) == comparison_pairs("demo", "x", [2, 3, 1])


async def test_a_choice_is_an_event_of_the_log_changeable_until_the_close_and_held_by_the_database(event, clock):
    services, teams = event
    work = next(w for w in await services.judging.work(JUDGES[1]) if w.round.id == "demo")
    pair = work.next_pair
    assert pair is not None and work.done == 0 and work.total == len(work.pairs) >= 3
    a, b = pair.first.team_id, pair.second.team_id
    first = await services.judging.choose(JUDGES[1], a, b)
    assert not first.changed and first.done == 1 and first.of == work.total
    again = await services.judging.choose(JUDGES[1], b, a, note="on reflection")  # changes the choice
    assert again.changed and again.done == 1
    work = next(w for w in await services.judging.work(JUDGES[1]) if w.round.id == "demo")
    assert next(p for p in work.pairs if {p.first.team_id, p.second.team_id} == {a, b}).better == b
    log = await services.store.fetchall("SELECT kind, team_id, payload FROM score_events WHERE judge = ? ORDER BY id",
                                        (JUDGES[1],))
    assert [(k, t, json.loads(p)["worse"]) for k, t, p in log] == [("choice", a, b), ("choice", b, a)]

    mine = {i.team_id for i in work.items}
    stranger = next(t for t in teams if t not in mine)
    with pytest.raises(NotAllowed, match="not one of your projects"):
        await services.judging.choose(JUDGES[1], a, stranger)
    with pytest.raises(IntegrityError, match="no open review"):  # the database holds it too
        await services.store.execute("INSERT INTO score_events(round, judge, team_id, kind, payload, actor, at)"
                                     " VALUES ('demo', ?, ?, 'choice', ?, ?, ?)",
                                     (JUDGES[1], a, json.dumps({"worse": stranger}), JUDGES[1], clock().timestamp()))
    with pytest.raises(IntegrityError):  # a team against itself
        await services.store.execute("INSERT INTO score_events(round, judge, team_id, kind, payload, actor, at)"
                                     " VALUES ('demo', ?, ?, 'choice', ?, ?, ?)",
                                     (JUDGES[1], a, json.dumps({"worse": a}), JUDGES[1], clock().timestamp()))
    with pytest.raises(IntegrityError, match="append-only"):
        await services.store.execute("DELETE FROM score_events WHERE judge = ?", (JUDGES[1],))
    clock.set(CLOSES + timedelta(minutes=1))
    with pytest.raises(NotAllowed, match="open"):
        await services.judging.choose(JUDGES[1], a, b)


async def test_choices_aggregate_by_bradley_terry_with_rank_intervals_and_the_winners_follow(event, clock):
    services, teams = event
    truth = {t: float(n) for n, t in enumerate(reversed(teams))}  # Team 0 best, Team 7 worst
    rng = np.random.default_rng(5)
    for judge in JUDGES:
        work = next(w for w in await services.judging.work(judge) if w.round.id == "demo")
        for pair in work.pairs:
            a, b = pair.first.team_id, pair.second.team_id
            p_a = 1 / (1 + np.exp(truth[b] - truth[a]))  # Bradley-Terry judges
            better, worse = (a, b) if rng.random() < p_a else (b, a)
            await services.judging.choose(judge, better, worse)
        assert (await services.judging.work(judge))[-1].done == len(work.pairs)
    results = await services.judging.results("demo")
    assert results.mode == "pairwise" and results.judges == len(JUDGES)
    assert {r.team_id for r in results.rows} == set(teams) and all(r.reviews >= 4 for r in results.rows)
    assert all(r.low is not None and r.low <= r.rank <= r.high for r in results.rows)
    tau = kendalltau([truth[r.team_id] for r in results.rows], [-r.rank for r in results.rows]).statistic
    assert tau > 0.6, tau  # seeded; a random order has tau ~ 0
    assert results.cutoffs == (2,)
    assert all(r.too_close == (r.low <= 2 < r.high) for r in results.rows)
    clock.set(CLOSES + timedelta(minutes=1))
    demo = next(p for p in (await services.winners.preview()).prizes if p.id == "demo")
    assert demo.winners == [r.team for r in results.rows[:2]]
    export = await services.judging.export()
    round_out = next(r for r in export["rounds"] if r["id"] == "demo")
    assert sum(len(v["choices"]) for v in round_out["scores_by_judge"].values()) == sum(
        len(p) for p in (await all_pairs(services)).values())
    assert round_out["log"][0]["kind"] == "choice" and round_out["log"][0]["payload"]["worse_team"].startswith("Team ")


async def test_a_recusal_ends_the_judges_choices_of_that_team(event):
    services, teams = event
    work = next(w for w in await services.judging.work(JUDGES[2]) if w.round.id == "demo")
    for pair in work.pairs:
        await services.judging.choose(JUDGES[2], pair.first.team_id, pair.second.team_id)
    counted = (await services.judging.results("demo")).scores
    gone = work.pairs[0].first.team_id
    await services.judging.declare_conflict(JUDGES[2], gone, recuse=True)
    assert (await services.judging.results("demo")).scores == counted - sum(1 for p in work.pairs
                                                                             if gone in (p.first.team_id, p.second.team_id))
    assert all(gone not in (p.first.team_id, p.second.team_id)
               for p in next(w for w in await services.judging.work(JUDGES[2]) if w.round.id == "demo").pairs)


async def test_few_projects_a_judge_still_give_each_project_its_comparisons(tmp_path, db, clock):
    """Three judges, four projects, two comparisons each: half as many judges per project would
    leave a judge two projects or one (one comparison or none); each comparison gets its judge."""
    path = write_event(tmp_path / "event")
    path.write_text(path.read_text(encoding="utf-8") + PAIRWISE.replace("reviews_per_project = 4\npanels = [\"demo\"]",
                                                                        "reviews_per_project = 2\npanels = [\"demo\"]"),
                    encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        teams = await teams_with_projects(services, 4)
        for judge in JUDGES[:3]:
            await services.judging.register(judge, f"Judge {judge}", ["demo"])
        comparisons = dict.fromkeys(teams, 0)
        for judge in JUDGES[:3]:
            for pair in next(w for w in await services.judging.work(judge) if w.round.id == "demo").pairs:
                comparisons[pair.first.team_id] += 1
                comparisons[pair.second.team_id] += 1
        assert min(comparisons.values()) >= 2, comparisons
    finally:
        await services.close()
