"""Which submission counts and the limits' arithmetic: the pure rules the storage mirrors."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import AOE, SubmissionPolicy
from bot.core.errors import AlreadyDone, NotAllowed, TooManyAttempts
from bot.core.submission_rules import counted, counted_board, counts_against_limits, limit_day, quota

NAN = math.nan
PARIS = ZoneInfo("Europe/Paris")

# one team's submissions: (submitted_at, public score, picked)
SUBS = [(100.0, 0.80, False), (200.0, 0.91, False), (300.0, 0.91, False), (400.0, 0.70, True), (500.0, NAN, False)]


def which(rule, subs=SUBS, team=None):
    at, public, picked = (np.array(x) for x in zip(*subs, strict=True))
    team = np.zeros(len(subs), dtype=int) if team is None else np.asarray(team)
    return np.flatnonzero(counted(team, at, public, picked, rule)).tolist()


def test_best_public_takes_the_first_submission_that_reached_the_best_score():
    assert which("best_public") == [1]  # 0.91 at 200 and at 300: the earlier one


def test_last_takes_the_latest_even_when_it_scored_worse_or_nothing():
    assert which("last") == [4]
    same_instant = [(100.0, 0.5, False), (100.0, 0.4, False)]
    assert which("last", same_instant) == [1]  # the higher id


def test_final_pick_takes_the_pick_and_falls_back_to_best_public():
    assert which("final_pick") == [3]  # picked, though it scored lowest
    unpicked = [(at, score, False) for at, score, _ in SUBS]
    assert which("final_pick", unpicked) == which("best_public", unpicked) == [1]


def test_one_counted_submission_per_team_and_only_teams_that_submitted():
    subs = SUBS + [(50.0, 0.99, False), (60.0, 0.1, True)]
    teams = [7, 7, 7, 7, 7, 3, 3]
    assert which("best_public", subs, teams) == [1, 5]
    assert which("last", subs, teams) == [4, 6]
    assert which("final_pick", subs, teams) == [3, 6]
    assert counted(np.array([], dtype=int), [], [], [], "best_public").tolist() == []


def test_two_picks_for_one_team_are_refused():
    with pytest.raises(ValueError, match="more than one final pick"):
        which("final_pick", [(1.0, 0.5, True), (2.0, 0.6, True)])
    with pytest.raises(ValueError, match="one value per submission"):
        counted([0, 0], [1.0], [0.5, 0.5], [False, False], "last")


def reference(team, at, public, picked, rule):
    """Each team's counted submission by a plain sort, as the rules say."""
    chosen = set()
    for t in set(team):
        mine = [i for i in range(len(team)) if team[i] == t]
        def best(i):
            return (-public[i] if not math.isnan(public[i]) else math.inf, at[i], i)
        if rule == "last":
            chosen.add(max(mine, key=lambda i: (at[i], i)))
        elif rule == "final_pick" and any(picked[i] for i in mine):
            chosen.add(next(i for i in mine if picked[i]))
        else:
            chosen.add(min(mine, key=best))
    return sorted(chosen)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5).map(float),
                          st.one_of(st.sampled_from([0.5, 0.75, 1.0]), st.just(NAN))), max_size=20),
       st.sampled_from(["best_public", "last", "final_pick"]), st.data())
def test_the_vectorized_rule_is_the_plain_rule(subs, rule, data):
    team = [t for t, _, _ in subs]
    picked = [False] * len(subs)
    for t in set(team):  # at most one pick per team
        mine = [i for i in range(len(subs)) if team[i] == t]
        k = data.draw(st.sampled_from([None, *mine]))
        if k is not None:
            picked[k] = True
    at, public = [a for _, a, _ in subs], [p for _, _, p in subs]
    got = np.flatnonzero(counted(np.array(team, dtype=int), at, public, picked, rule)).tolist()
    assert got == reference(team, at, public, picked, rule)


def test_counted_board_puts_each_teams_counted_score_in_its_row():
    team = [2, 2, 0, 2]
    at = [10.0, 20.0, 15.0, 30.0]
    public = [0.6, 0.9, 0.7, 0.8]
    private = [0.65, 0.7, 0.75, 0.95]  # the final board shows the private score of the counted file
    score, when = counted_board(team, 4, at, public, private, [False] * 4, "best_public")
    np.testing.assert_array_equal(score, [0.75, NAN, 0.7, NAN])
    np.testing.assert_array_equal(when, [15.0, NAN, 20.0, NAN])
    worst = [0.3, 0.5, 0.4, 0.9]  # a second value per file (its worst group): from the same counted file
    both, _ = counted_board(team, 4, at, public, np.column_stack((private, worst)), [False] * 4, "best_public")
    np.testing.assert_array_equal(both, [[0.75, 0.4], [NAN, NAN], [0.7, 0.5], [NAN, NAN]])


def test_refused_files_count_only_when_the_dataset_says_so():
    assert counts_against_limits(SubmissionPolicy(per_day=3), refused=False)
    assert not counts_against_limits(SubmissionPolicy(per_day=3), refused=True)
    assert counts_against_limits(SubmissionPolicy(per_day=3, count_failed=True), refused=True)
    assert not counts_against_limits(SubmissionPolicy(total=1), refused=True)  # one_shot: Hackathon42's rule


def test_the_day_is_the_events_calendar_day():
    # 23:30 UTC on 22 November is already 23 November in Paris (UTC+1)
    start, end = limit_day(datetime(2024, 11, 22, 23, 30, tzinfo=UTC), PARIS)
    assert (start, end) == (datetime(2024, 11, 22, 23, tzinfo=UTC), datetime(2024, 11, 23, 23, tzinfo=UTC))
    # AoE (UTC-12): the day turns at 12:00 UTC
    start, end = limit_day(datetime(2024, 11, 22, 11, 59, tzinfo=UTC), AOE)
    assert (start, end) == (datetime(2024, 11, 21, 12, tzinfo=UTC), datetime(2024, 11, 22, 12, tzinfo=UTC))
    # DST in Paris: 31 March 2024 is 23 hours long, 27 October 25
    start, end = limit_day(datetime(2024, 3, 31, 12, tzinfo=UTC), PARIS)
    assert end - start == timedelta(hours=23)
    start, end = limit_day(datetime(2024, 10, 27, 12, tzinfo=UTC), PARIS)
    assert end - start == timedelta(hours=25)


ZONES = st.sampled_from([UTC, AOE, PARIS, ZoneInfo("America/Santiago"), ZoneInfo("Asia/Beirut"),
                         ZoneInfo("Pacific/Apia"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("America/Havana")])


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)), ZONES)
def test_the_window_holds_exactly_the_instants_of_that_local_date(now, tz):
    """Also in zones whose clocks skip or repeat midnight (Santiago, Beirut, Havana)."""
    start, end = limit_day(now, tz)
    day = now.astimezone(tz).date()
    tick = timedelta(microseconds=1)
    assert start <= now < end
    assert start.astimezone(tz).date() == day and (start - tick).astimezone(tz).date() < day
    assert (end - tick).astimezone(tz).date() == day and end.astimezone(tz).date() > day


NOW = datetime(2024, 11, 22, 15, 0, tzinfo=UTC)


def test_daily_and_total_limits():
    policy = SubmissionPolicy(per_day=3, total=5)
    fresh = quota(policy, 0, 0, NOW, PARIS)
    assert (fresh.left_today, fresh.left_total, fresh.left) == (3, 5, 3)
    assert fresh.error(3, "main", NOW) is None
    assert quota(policy, 1, 4, NOW, PARIS).left == 1

    today_spent = quota(policy, 3, 3, NOW, PARIS)
    err = today_spent.error(3, "main", NOW)
    assert isinstance(err, TooManyAttempts) and err.status == 429
    assert "used its 3 submissions for dataset 3 today" in err.message
    assert "2024-11-23 00:00 CET (2024-11-22 23:00 UTC)" in err.message
    assert err.retry_after == 8 * 3600

    all_spent = quota(policy, 1, 5, NOW, PARIS)
    err = all_spent.error(3, "main", NOW)
    assert isinstance(err, NotAllowed) and "used all 5 submissions for dataset 3 in phase 'main'" in err.message


def test_one_shot_refuses_with_the_words_it_always_had():
    one_shot = SubmissionPolicy.model_validate("one_shot")
    assert quota(one_shot, 0, 0, NOW, PARIS).error(3, "real", NOW) is None
    err = quota(one_shot, 1, 1, NOW, PARIS).error(3, "real", NOW)
    assert isinstance(err, AlreadyDone) and err.status == 409
    assert err.message == ("your team has already submitted for dataset 3 in phase 'real'; "
                           "only one submission per dataset is allowed")


def test_unlimited_never_refuses():
    q = quota(SubmissionPolicy.model_validate("unlimited"), 500, 10_000, NOW, UTC)
    assert q.left is None and q.error(1, "x", NOW) is None


def test_counts_must_be_consistent():
    with pytest.raises(ValueError, match="between 0"):
        quota(SubmissionPolicy(per_day=2), 3, 2, NOW, UTC)
