import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Ranking, leaderboard
from scoring.ranking import leaderboard_python_loop

NAN = np.nan
POINTS = np.array([1.0, 2.0, 5.0])
DEFAULTS = np.array([0.8, 0.8, 0.5])


def test_totals_use_weights_and_defaults():
    acc = np.array([
        [0.9, 0.9, 0.9],   # 0.9 + 1.8 + 4.5 = 7.2
        [NAN, 1.0, NAN],   # 0.8 + 2.0 + 2.5 = 5.3
        [NAN, NAN, NAN],   # never submitted: 0.8 + 1.6 + 2.5 = 4.9
    ])
    result = leaderboard(acc, POINTS, DEFAULTS, [10.0, 20.0, np.inf])
    assert isinstance(result, Ranking)
    np.testing.assert_allclose(result.totals, [7.2, 5.3, 4.9])
    assert result.totals[2] == pytest.approx((POINTS * DEFAULTS).sum())
    assert result.order.tolist() == [0, 1, 2]
    assert result.ranks.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(result.scores[1], [0.8, 1.0, 0.5])


def test_submitting_below_default_counts_the_real_score():
    acc = np.array([[0.1, NAN, NAN], [NAN, NAN, NAN]])
    result = leaderboard(acc, POINTS, DEFAULTS, [5.0, np.inf])
    # The default is what a non-submission gets, not a floor.
    assert result.totals[0] < result.totals[1]
    assert result.ranks.tolist() == [2, 1]


def test_equal_total_broken_by_earlier_last_submission():
    acc = np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.6, 0.6, 0.6]])
    result = leaderboard(acc, POINTS, DEFAULTS, [300.0, 100.0, 500.0])
    assert result.order.tolist() == [2, 1, 0]
    assert result.ranks.tolist() == [3, 2, 1]


def test_never_submitted_counts_as_latest():
    acc = np.array([[NAN, NAN, NAN], [0.8, 0.8, 0.5]])  # same total as the defaults
    for never in (np.inf, np.nan):
        result = leaderboard(acc, POINTS, DEFAULTS, [never, 1e9])
        assert result.ranks.tolist() == [2, 1]


def test_teams_that_never_submitted_tie_with_each_other():
    acc = np.array([[0.9, 0.9, 0.9], [NAN, NAN, NAN], [NAN, NAN, NAN]])
    result = leaderboard(acc, POINTS, DEFAULTS, [1.0, np.nan, np.nan])
    assert result.ranks.tolist() == [1, 2, 2]


def test_exact_tie_shares_rank_competition_style():
    acc = np.array([[0.9, 0.9, 0.9], [0.7, 0.7, 0.7], [0.7, 0.7, 0.7], [0.1, 0.1, 0.1]])
    result = leaderboard(acc, POINTS, DEFAULTS, [1.0, 2.0, 2.0, 3.0])
    assert result.ranks.tolist() == [1, 2, 2, 4]
    assert result.order.tolist() == [0, 1, 2, 3]


def test_rounding_makes_mathematically_equal_totals_tie():
    # 0.1*1 + 0.2*1 != 0.3*1 in floating point, yet both totals are 0.3.
    acc = np.array([[0.1, 0.2], [0.3, 0.0]])
    result = leaderboard(acc, [1.0, 1.0], [0.0, 0.0], [7.0, 7.0])
    assert 0.1 + 0.2 != 0.3
    assert result.ranks.tolist() == [1, 1]


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError):
        leaderboard(np.zeros((2, 3)), [1.0, 1.0], [0.0, 0.0], [0.0, 0.0])


def assert_same(a: Ranking, b: Ranking):
    np.testing.assert_array_equal(a.totals, b.totals)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    np.testing.assert_array_equal(a.scores, b.scores)


@settings(max_examples=200)
@given(st.integers(1, 40), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_matches_python_loop_reference(n_teams, n_data, seed):
    rng = np.random.default_rng(seed)
    # Coarse accuracies and few submission times so that ties actually occur.
    acc = rng.integers(0, 5, (n_teams, n_data)) / 4
    acc[rng.random(acc.shape) < 0.4] = np.nan
    points = rng.integers(1, 4, n_data).astype(float)
    defaults = rng.integers(0, 3, n_data) / 4
    last = rng.integers(0, 3, n_teams).astype(float)
    last[np.isnan(acc).all(axis=1)] = np.inf
    fast = leaderboard(acc, points, defaults, last)
    assert_same(fast, leaderboard_python_loop(acc, points, defaults, last))
    # Ranks are consistent with order: non-decreasing along it, 1 for the best.
    assert fast.ranks[fast.order[0]] == 1
    assert np.all(np.diff(fast.ranks[fast.order]) >= 0)


def test_matches_python_loop_on_continuous_random_scores():
    rng = np.random.default_rng(0)
    acc = rng.random((500, 20))
    acc[rng.random(acc.shape) < 0.3] = np.nan
    points, defaults = rng.random(20) * 10, rng.random(20)
    last = rng.random(500) * 1e6
    assert_same(leaderboard(acc, points, defaults, last),
                leaderboard_python_loop(acc, points, defaults, last))
