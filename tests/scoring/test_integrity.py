"""Integrity: copied predictions are flagged, honest ones are not; accuracy without reveals."""

import numpy as np
import pytest

from scoring.integrity import accuracy_without_reveals, half_agreement, reveal_mask, similar_pairs


def brute_force(preds):
    return np.array([[np.count_nonzero(a == b) for b in preds] for a in preds])


@pytest.mark.parametrize("labels", [[0, 1], [1], [-7, 10**12]])
@pytest.mark.parametrize("chunk", [None, 7])
def test_with_two_labels_half_agreement_is_the_agreement(labels, chunk):
    rng = np.random.default_rng(len(labels))
    preds = rng.choice(labels, (9, 101))
    preds[3] = preds[5]  # an exact copy
    got = half_agreement(preds, chunk_columns=chunk)
    np.testing.assert_array_equal(got, brute_force(preds))
    assert got[3, 5] == 101 and got.dtype == np.int64


@pytest.mark.parametrize("labels", [[4, 5, 6], list(range(17)), [3, 10**9, 7, 8]])
def test_with_more_labels_half_agreement_bounds_the_agreement(labels):
    rng = np.random.default_rng(len(labels))
    preds = rng.choice(labels, (12, 301), p=np.linspace(1, 3, len(labels)) / np.linspace(1, 3, len(labels)).sum())
    bound, exact = half_agreement(preds, chunk_columns=50), brute_force(preds)
    assert (bound >= exact).all()
    assert (bound < 301).any()  # the halves tell files apart


@pytest.mark.parametrize("labels", [[0, 1], [4, 5, 6], list(range(20))])
def test_similar_pairs_are_exactly_the_pairs_at_the_threshold(labels):
    rng = np.random.default_rng(5)
    n = 400
    base = rng.choice(labels, n)
    preds = []
    for changed in [0, 1, 2, 3, 150, 1, 0, 300]:  # copies of base with a few rows changed
        p = base.copy()
        rows = rng.choice(n, changed, replace=False)
        p[rows] = rng.choice(labels, changed)
        preds.append(p)
    preds = np.array(preds)
    exact = brute_force(preds)
    expected = {(i, j) for i in range(8) for j in range(i + 1, 8) if exact[i, j] >= 398}  # 99.5 % of 400
    got = similar_pairs(preds)
    assert {(p.a, p.b) for p in got} == expected and expected
    assert [p.agreement for p in got] == sorted((p.agreement for p in got), reverse=True)
    assert all(p.agreement == exact[p.a, p.b] / n for p in got)


def honest_and_copied(rng, n=10_000, teams=30):
    """Teams with their own models at 80-92 % accuracy; team 7 copied team 2 and changed 20
    rows; team 11 handed in team 4's file as it is."""
    y = rng.integers(0, 2, n)
    preds = np.array([np.where(rng.random(n) < q, y, 1 - y) for q in rng.uniform(0.8, 0.92, teams)])
    preds[7] = preds[2]
    flip = rng.choice(n, 20, replace=False)
    preds[7, flip] = 1 - preds[7, flip]
    preds[11] = preds[4]
    return y, preds


def test_copied_files_are_flagged_and_honest_ones_are_not():
    y, preds = honest_and_copied(np.random.default_rng(0))
    pairs = similar_pairs(preds, truth=y)
    assert [(p.a, p.b) for p in pairs] == [(4, 11), (2, 7)]  # the most similar first
    assert pairs[0].agreement == 1.0 and pairs[1].agreement == pytest.approx(0.998)
    assert pairs[1].rows == 10_000
    # copies share their mistakes, and their accuracies do not explain the agreement
    assert pairs[1].shared_errors > 500
    assert not any(p.explained_by_accuracy for p in pairs)


def test_two_near_perfect_honest_files_are_flagged_but_explained_by_their_accuracy():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    a, b = y.copy(), y.copy()
    a[rng.choice(2000, 2, replace=False)] ^= 1  # 99.9 % each, different mistakes
    b[rng.choice(2000, 2, replace=False)] ^= 1
    (pair,) = similar_pairs(np.array([a, b]), truth=y)
    assert pair.agreement >= 0.995 and pair.implied == pytest.approx(0.998)
    assert pair.explained_by_accuracy and pair.shared_errors == 0


def test_threshold_is_exact_and_pairs_of_one_team_are_skipped():
    base = np.zeros(200, dtype=int)
    one_off = base.copy()
    one_off[0] = 1  # 199 / 200 = 99.5 %: flagged
    two_off = one_off.copy()
    two_off[1] = 1  # 198 / 200 with base
    preds = np.array([base, one_off, two_off])
    assert [(p.a, p.b) for p in similar_pairs(preds)] == [(0, 1), (1, 2)]
    assert [(p.a, p.b) for p in similar_pairs(preds, owners=["x", "x", "y"])] == [(1, 2)]
    assert similar_pairs(preds[:, :0]) == [] and similar_pairs(preds[:1]) == []


def test_accuracy_with_own_reveals_left_out():
    y = np.array([0, 1, 1, 0, 1])
    preds = np.array([[0, 1, 1, 0, 1],   # right everywhere
                      [1, 0, 1, 0, 1],   # wrong on 0 and 1
                      [0, 1, 0, 1, 0]])  # right only on 0 and 1, which it revealed
    revealed = reveal_mask([1, 1, 2, 2], [0, 1, 0, 1], preds.shape)
    np.testing.assert_array_equal(accuracy_without_reveals(preds, y, revealed), [1.0, 1.0, 0.0])
    everything = np.ones(preds.shape, dtype=bool)
    assert np.isnan(accuracy_without_reveals(preds, y, everything)).all()
    with pytest.raises(ValueError, match="do not match"):
        accuracy_without_reveals(preds, y, revealed[:, :3])
