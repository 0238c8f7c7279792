import numpy as np
import pytest

from scoring import (
    PairedBootstrap,
    accuracy,
    bootstrap_ci,
    group_accuracy,
    paired_bootstrap,
    worst_group_accuracy,
)


def test_accuracy_known_values():
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert accuracy(np.array([4, 5, 6]), np.array([4, 5, 6])) == 1.0
    assert accuracy([0, 0, 0], [1, 1, 1]) == 0.0


def test_accuracy_rejects_mismatched_or_empty_input():
    with pytest.raises(ValueError):
        accuracy([1, 0], [1, 0, 1])
    with pytest.raises(ValueError):
        accuracy([], [])


def test_group_accuracy_and_worst_group():
    truth = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    pred = np.array([1, 1, 0, 1, 0, 0, 0, 1])
    groups = np.array([0, 0, 0, 0, 7, 7, 3, 3])
    # group 0: 3/4 right, group 7: 0/2, group 3: 1/2
    assert group_accuracy(pred, truth, groups) == {0: 0.75, 3: 0.5, 7: 0.0}
    assert worst_group_accuracy(pred, truth, groups) == 0.0
    assert accuracy(pred, truth) == 0.5


def test_worst_group_differs_from_overall_accuracy():
    # 90% right on the majority group, 0% on a small minority group.
    truth = np.zeros(100, dtype=int)
    pred = np.r_[np.zeros(81, dtype=int), np.ones(9, dtype=int), np.ones(10, dtype=int)]
    groups = np.r_[np.zeros(90, dtype=int), np.ones(10, dtype=int)]
    assert accuracy(pred, truth) == pytest.approx(0.81)
    assert worst_group_accuracy(pred, truth, groups) == 0.0
    assert group_accuracy(pred, truth, groups)[0] == pytest.approx(0.9)


def make_preds(n, acc, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < acc, truth, 1 - truth)
    return pred, truth


def test_bootstrap_ci_contains_accuracy_and_narrows_with_n():
    widths = []
    for n in (200, 5_000, 200_000):
        pred, truth = make_preds(n, 0.8)
        lo, hi = bootstrap_ci(pred, truth)
        assert lo <= accuracy(pred, truth) <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]
    # The 95% interval of a proportion is about 2 * 1.96 * sqrt(p(1-p)/n).
    assert widths[1] == pytest.approx(2 * 1.96 * np.sqrt(0.8 * 0.2 / 5_000), rel=0.15)


def test_bootstrap_ci_is_deterministic_given_seed():
    pred, truth = make_preds(1_000, 0.7)
    assert bootstrap_ci(pred, truth, seed=3) == bootstrap_ci(pred, truth, seed=3)
    assert bootstrap_ci(pred, truth, seed=3) != bootstrap_ci(pred, truth, seed=4)


def test_bootstrap_ci_level_widens_interval():
    pred, truth = make_preds(2_000, 0.6)
    lo90, hi90 = bootstrap_ci(pred, truth, level=0.90)
    lo99, hi99 = bootstrap_ci(pred, truth, level=0.99)
    assert lo99 < lo90 and hi99 > hi90


def test_paired_bootstrap_identical_predictions():
    pred, truth = make_preds(1_000, 0.7)
    result = paired_bootstrap(pred, pred.copy(), truth)
    assert isinstance(result, PairedBootstrap)
    assert result.diff == 0.0
    assert result.ci == (0.0, 0.0)
    assert result.p_value == 1.0


def test_paired_bootstrap_clearly_better_team():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 5_000)
    good = np.where(rng.random(5_000) < 0.9, truth, 1 - truth)
    bad = np.where(rng.random(5_000) < 0.7, truth, 1 - truth)
    result = paired_bootstrap(good, bad, truth)
    assert result.diff == pytest.approx(accuracy(good, truth) - accuracy(bad, truth))
    assert 0 < result.ci[0] <= result.diff <= result.ci[1]
    assert result.p_value < 0.01
    # Swapping the teams mirrors the result.
    swapped = paired_bootstrap(bad, good, truth)
    assert swapped.diff == pytest.approx(-result.diff)
    assert swapped.ci[1] < 0 and swapped.p_value < 0.01


def test_paired_bootstrap_small_difference_is_not_significant():
    truth = np.zeros(1_000, dtype=int)
    a = truth.copy()
    a[:100] = 1            # A wrong on rows 0..99
    b = truth.copy()
    b[95:197] = 1          # B wrong on rows 95..196: only 2 more errors overall
    result = paired_bootstrap(a, b, truth)
    assert result.diff == pytest.approx(0.002)
    assert result.ci[0] < 0 < result.ci[1]
    assert result.p_value > 0.5


def test_paired_bootstrap_is_deterministic_given_seed():
    pred_a, truth = make_preds(800, 0.75, seed=5)
    pred_b = np.where(np.arange(800) % 4 == 0, 1 - truth, truth)
    assert paired_bootstrap(pred_a, pred_b, truth, seed=9) == \
        paired_bootstrap(pred_a, pred_b, truth, seed=9)
