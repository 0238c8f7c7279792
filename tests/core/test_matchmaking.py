"""The matcher as plain code: every person placed once or reported, teams within bounds, the
same seed giving the same teams, and teams better than random and greedy ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.matchmaking import LEVELS, Person, RecruitingTeam, match, team_sizes
from bot.core.synth import synthetic_pool

TOPICS = ["Build", "Train", "Analyse", "Vision", "Audio"]

people_st = st.lists(
    st.builds(
        Person,
        id=st.integers(0, 10_000).map(lambda i: f"{i}"),
        topics=st.lists(st.sampled_from(TOPICS), max_size=3, unique=True).map(tuple),
        experience=st.sampled_from(LEVELS),
        tz_offset_minutes=st.one_of(st.none(), st.integers(-720, 840)),
        open_to_existing=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda p: p.id,
)
bounds_st = st.tuples(st.integers(1, 4), st.integers(0, 3)).map(lambda b: (b[0], b[0] + b[1]))


def recruiting(n: int, max_size: int) -> list[RecruitingTeam]:
    return [
        RecruitingTeam(
            900 + i, f"R{i}", tuple(Person(f"r{i}-{k}", ("Build",), "expert") for k in range(1 + i % max(1, max_size - 1)))
        )
        for i in range(n)
    ]


def pool(n: int, topics: int = 8, seed: int = 0) -> list[Person]:
    """A realistic pool: skewed topic popularity, more newcomers than experts, a few regions."""
    return synthetic_pool(np.random.default_rng(seed), [f"u{i:05d}" for i in range(n)], [f"t{i}" for i in range(topics)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=people_st, bounds=bounds_st, n_recruiting=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_everyone_is_placed_once_or_reported_and_teams_are_within_bounds(people, bounds, n_recruiting, seed):
    min_size, max_size = bounds
    teams = recruiting(n_recruiting, max_size)
    result = match(people, teams, min_size=min_size, max_size=max_size, topics=TOPICS, seed=seed)
    placed = [u for t in result.teams for u in t.members]
    assert sorted(placed + result.unplaced) == sorted(p.id for p in people)
    assert len(set(placed)) == len(placed)
    for team in result.teams:
        size = len(team.members) + len(team.existing_members)
        assert size <= max_size
        if team.existing_team is None:
            assert size >= min_size
        else:
            joined = {p.id for p in people if p.id in team.members}
            assert all(next(p for p in people if p.id == u).open_to_existing for u in joined), "only the willing"
    if result.unplaced:
        assert result.warnings, "unplaced people are explained"


@settings(max_examples=30, deadline=None)
@given(people=people_st, bounds=bounds_st, seed=st.integers(0, 2**16))
def test_same_input_and_seed_give_the_same_teams(people, bounds, seed):
    kwargs = {"min_size": bounds[0], "max_size": bounds[1], "topics": TOPICS, "seed": seed}
    first = match(people, recruiting(1, bounds[1]), **kwargs)
    again = match(list(reversed(people)), recruiting(1, bounds[1]), **kwargs)
    assert first == again


@settings(max_examples=30, deadline=None)
@given(people=people_st, data=st.data())
def test_a_person_who_left_the_pool_is_never_placed(people, data):
    if not people:
        return
    gone = data.draw(st.sampled_from(people))
    rest = [p for p in people if p.id != gone.id]
    result = match(rest, min_size=2, max_size=4, topics=TOPICS, seed=1)
    assert gone.id not in {u for t in result.teams for u in t.members} | set(result.unplaced)


def test_sizes_within_bounds_or_the_rest_reported():
    assert team_sizes(10, 2, 5, 4) == ([4, 3, 3], 0)
    assert team_sizes(4, 3, 3, 3) == ([3], 1)
    assert team_sizes(1, 2, 5, 4) == ([], 1)
    result = match([Person("a", ("Build",)), Person("b", ("Build",))], min_size=3, max_size=4, seed=0)
    assert result.teams == [] and sorted(result.unplaced) == ["a", "b"]
    assert "could not be placed" in result.warnings[0]


def test_nobody_who_came_alone_stays_alone_when_solo_teams_are_allowed():
    people = [Person(str(i), ("Build",)) for i in range(5)]
    result = match(people, min_size=1, max_size=5, target_size=1, seed=0)
    assert all(len(t.members) >= 2 for t in result.teams)


@pytest.mark.parametrize("seed", range(3))
def test_teams_share_a_topic_whenever_the_pool_allows_it(seed):
    # 4 topics x 12 people with one topic each: a split where every team shares its topic exists
    rng = np.random.default_rng(seed)
    people = [
        Person(f"{topic}-{i}", (topic,), LEVELS[i % 3], int(rng.integers(-2, 3)) * 60)
        for topic in TOPICS[:4] for i in range(12)
    ]
    rng.shuffle(people)
    result = match(people, min_size=2, max_size=5, target_size=4, topics=TOPICS, seed=seed)
    assert not result.unplaced
    assert all(team.shared_topics for team in result.teams), [t.members for t in result.teams if not t.shared_topics]


def test_no_team_of_only_newcomers_when_experts_are_available():
    people = [Person(f"n{i}", ("Build",), "newcomer") for i in range(8)] + [
        Person(f"e{i}", ("Build",), "expert") for i in range(2)
    ]
    result = match(people, min_size=2, max_size=5, target_size=5, topics=TOPICS, seed=0)
    assert all("expert" in team.levels for team in result.teams)


def test_time_zones_stay_within_the_spread_when_possible():
    people = [Person(f"eu{i}", ("Build",), LEVELS[i % 3], 60) for i in range(6)] + [
        Person(f"us{i}", ("Build",), LEVELS[i % 3], -8 * 60) for i in range(6)
    ]
    result = match(people, min_size=2, max_size=3, topics=TOPICS, max_tz_spread_hours=3, seed=2)
    for team in result.teams:
        assert len({u[:2] for u in team.members}) == 1, team.members


def test_recruiting_teams_are_filled_first_with_willing_people():
    team = RecruitingTeam(7, "Rockets", (Person("cap", ("Train",), "expert", 0),))
    people = [Person("a", ("Train",), "newcomer", 0, True), Person("b", ("Train",), "newcomer", 0, False)] + [
        Person(f"x{i}", ("Analyse",), LEVELS[i % 3], 0) for i in range(4)
    ]
    result = match(people, [team], min_size=2, max_size=4, target_size=4, topics=TOPICS, seed=0)
    filled = next(t for t in result.teams if t.existing_team == 7)
    assert "a" in filled.members and "b" not in filled.members
    assert filled.shared_topics == ["Train"]


def test_quality_beats_random_and_greedy_on_generated_pools():
    """Margins this test holds the matcher to: >= 1.5x a random assignment and >= 1.1x a
    greedy one (people sorted by first topic, cut into teams), on 600 people and 8 topics."""
    for seed in range(2):
        result = match(pool(600, seed=seed), min_size=2, max_size=5, target_size=4,
                       topics=[f"t{i}" for i in range(8)], seed=seed)
        assert result.random_objective > 0
        assert result.objective >= 1.5 * result.random_objective
        assert result.objective >= 1.1 * result.greedy_objective
        with_topic = sum(1 for t in result.teams if t.shared_topics) / len(result.teams)
        assert with_topic >= 0.97
