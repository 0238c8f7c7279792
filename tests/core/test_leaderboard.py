"""The leaderboard: points-weighted totals with defaults, ranks, phases, visibility."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.errors import NotFound
from tests.core.helpers import REAL, T0, csv_bytes, hidden_y, new_team, predictions_with_errors

# the mock phase: dataset -> (points, default score)
MOCK = {0: (1, 0.8), 3: (2, 0.6), 5: (3, 0.2), 888: (1, 0.5)}
MOCK_DEFAULTS = 1 * 0.8 + 2 * 0.6 + 3 * 0.2 + 1 * 0.5  # 3.1
REAL_DEFAULTS = MOCK_DEFAULTS + 1 * 0.7  # dataset 12 joins: 3.8


async def submit(services, team, dataset_id: int, wrong: int) -> float:
    phase = services.config.phase_at(services.clock()).id
    y = hidden_y(services.config, phase, dataset_id)
    pred = predictions_with_errors(y, wrong, services.registry.get(phase, dataset_id).labels)
    result = await services.submissions.submit(team, dataset_id, "p.csv", csv_bytes(pred), source="http")
    return result.accuracy


def by_team(standings):
    return {row.team: row for row in standings.rows}


async def test_totals_are_points_times_accuracy_or_default(services):
    blue, _ = await new_team(services, "Blue")
    await new_team(services, "Red")
    assert await submit(services, blue, 0, wrong=20) == pytest.approx(0.9)
    assert await submit(services, blue, 3, wrong=50) == pytest.approx(0.75)
    standings = await services.leaderboard.standings()
    assert standings.phase.id == "mock" and standings.visible
    assert [ds.id for ds in standings.datasets] == [0, 3, 5, 888]
    assert standings.max_total == 7
    rows = by_team(standings)
    assert rows["Blue"].total == pytest.approx(1 * 0.9 + 2 * 0.75 + 3 * 0.2 + 1 * 0.5)  # 3.5
    assert [c.score for c in rows["Blue"].cells] == pytest.approx([0.9, 0.75, 0.2, 0.5])
    assert [c.submitted for c in rows["Blue"].cells] == [True, True, False, False]
    # a team that submitted nothing gets every default
    assert rows["Red"].total == pytest.approx(MOCK_DEFAULTS)
    assert [c.score for c in rows["Red"].cells] == pytest.approx([d for _, d in MOCK.values()])
    assert not any(c.submitted for c in rows["Red"].cells) and rows["Red"].last_submitted is None
    assert [(r.team, r.rank) for r in standings.rows] == [("Blue", 1), ("Red", 2)]
    api = standings.to_api()
    assert api["teams"][0]["total"] == pytest.approx(3.5)
    assert api["teams"][0]["scores"]["3"] == {"submitted": True, "score": pytest.approx(0.75)}


async def test_ranks_and_ties_broken_by_the_earlier_last_submission(services, clock):
    teams = {name: (await new_team(services, name))[0] for name in ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]}
    clock.set(T0 + timedelta(hours=1))
    await submit(services, teams["Gamma"], 0, wrong=20)  # 0.9
    clock.set(T0 + timedelta(hours=2))
    await submit(services, teams["Alpha"], 0, wrong=20)  # 0.9
    await submit(services, teams["Epsilon"], 0, wrong=60)  # 0.7, below the default 0.8
    clock.set(T0 + timedelta(hours=3))
    # exactly the default score: the total stays equal to Alpha's, but Gamma's LAST
    # submission now comes after Alpha's, so Alpha ranks first
    assert await submit(services, teams["Gamma"], 888, wrong=100) == 0.5
    standings = await services.leaderboard.standings()
    top = MOCK_DEFAULTS + 0.1
    assert [(r.team, r.rank, r.total) for r in standings.rows] == [
        ("Alpha", 1, pytest.approx(top)),
        ("Gamma", 2, pytest.approx(top)),
        ("Beta", 3, pytest.approx(MOCK_DEFAULTS)),  # no submission: tied, same rank
        ("Delta", 3, pytest.approx(MOCK_DEFAULTS)),
        ("Epsilon", 5, pytest.approx(MOCK_DEFAULTS - 0.1)),
    ]
    rows = by_team(standings)
    assert rows["Gamma"].last_submitted == (T0 + timedelta(hours=3)).timestamp()
    assert rows["Alpha"].last_submitted == (T0 + timedelta(hours=2)).timestamp()


async def test_the_next_phase_starts_an_empty_board(services, clock):
    blue, _ = await new_team(services, "Blue")
    await new_team(services, "Red")
    await submit(services, blue, 0, wrong=0)
    await submit(services, blue, 5, wrong=0)
    assert by_team(await services.leaderboard.standings())["Blue"].total == pytest.approx(1 + 1.2 + 3 + 0.5)

    clock.set(REAL)
    standings = await services.leaderboard.standings()
    assert standings.phase.id == "real" and [ds.id for ds in standings.datasets] == [0, 3, 5, 12, 888]
    for row in standings.rows:
        assert row.total == pytest.approx(REAL_DEFAULTS) and row.rank == 1 and row.last_submitted is None
        assert not any(c.submitted for c in row.cells)
    # the mock board is still there when asked for
    mock = await services.leaderboard.standings("mock")
    assert by_team(mock)["Blue"].total == pytest.approx(5.7) and mock.rows[0].team == "Blue"
    with pytest.raises(NotFound, match="no phase 'final'"):
        await services.leaderboard.standings("final")


async def test_before_the_event_the_first_phase_shows_defaults(services, clock):
    await new_team(services, "Blue")
    clock.set(T0 - timedelta(days=1))
    standings = await services.leaderboard.standings()
    assert standings.phase.id == "mock"
    assert standings.rows[0].total == pytest.approx(MOCK_DEFAULTS)


async def test_hidden_board_shows_no_scores_but_organizers_see_them(open_services):
    services = await open_services(visibility="hidden")
    zeta, _ = await new_team(services, "Zeta")
    await new_team(services, "Alpha")
    await submit(services, zeta, 0, wrong=0)
    await submit(services, zeta, 5, wrong=0)

    public = await services.leaderboard.standings()
    assert not public.visible
    # alphabetical, so that the order itself gives no ranking away
    assert [r.team for r in public.rows] == ["Alpha", "Zeta"]
    for row in public.rows:
        assert row.rank is None and row.total is None
        assert all(c.score is None for c in row.cells)
    assert [c.submitted for c in by_team(public)["Zeta"].cells] == [True, False, True, False]
    api = public.to_api()
    assert api["visibility"] == "hidden"
    assert all(t["rank"] is None and t["total"] is None for t in api["teams"])
    assert all(s["score"] is None for t in api["teams"] for s in t["scores"].values())
    dumped = json.dumps(api["teams"])
    assert "5.7" not in dumped and "3.1" not in dumped

    organizer = await services.leaderboard.standings(organizer=True)
    assert organizer.visible
    assert [(r.team, r.rank, r.total) for r in organizer.rows] == [
        ("Zeta", 1, pytest.approx(1 + 1.2 + 3 + 0.5)), ("Alpha", 2, pytest.approx(MOCK_DEFAULTS)),
    ]


async def test_unvalidated_teams_absent_when_validation_is_required(open_services):
    services = await open_services(require_validation=True)
    await new_team(services, "Blue", validated=True)
    await new_team(services, "Red", validated=False)
    assert [r.team for r in (await services.leaderboard.standings()).rows] == ["Blue"]
    await services.teams.validate("Red")
    assert [r.team for r in (await services.leaderboard.standings()).rows] == ["Blue", "Red"]


async def test_unvalidated_teams_listed_when_validation_is_not_required(services):
    await new_team(services, "Blue", validated=False)
    assert [r.team for r in (await services.leaderboard.standings()).rows] == ["Blue"]
