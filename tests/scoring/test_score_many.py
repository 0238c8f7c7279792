"""score_many: the one scoring function of live submissions and of re-scoring."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Score, Scorer, accuracy, score_many, score_one, worst_group_accuracy


def random_case(rng, s=7, n=503, labels=(4, 5, 6), n_groups=3):
    y = rng.choice(labels, n)
    preds = np.where(rng.random((s, n)) < rng.random((s, 1)), y, rng.choice(labels, (s, n)))
    return preds, y, rng.integers(0, n_groups, n), rng.random(n) < 0.6


def test_public_private_full_and_worst_group_of_a_known_case():
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    pred = np.array([1, 1, 0, 1, 0, 0, 0, 1])
    groups = np.array([0, 0, 0, 0, 7, 7, 3, 3])
    private = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
    got = score_one(pred, y, groups, private)
    # public rows 0,2,4,6: right, right, wrong, right; private rows 1,3,5,7: right, wrong, wrong, wrong
    assert got == Score(public=0.75, private=0.25, full=0.5,
                        worst_public=0.0, worst_private=0.0, worst_full=0.0)
    # group 0: public 2/2, private 1/2; group 3: public 1/1, private 0/1; group 7: public 0/1, private 0/1
    other = score_one(np.where(groups == 7, y, pred), y, groups, private)
    assert (other.worst_public, other.worst_private, other.worst_full) == (1.0, 0.0, 0.5)


def test_full_and_worst_group_are_bit_identical_to_the_existing_metrics():
    rng = np.random.default_rng(0)
    preds, y, groups, private = random_case(rng)
    got = score_many(preds, y, groups, private)
    for i, pred in enumerate(preds):
        assert got.full[i] == accuracy(pred, y)
        assert got.worst_full[i] == worst_group_accuracy(pred, y, groups)
        assert got.public[i] == accuracy(pred[~private], y[~private])
        assert got.private[i] == accuracy(pred[private], y[private])
        assert got.worst_public[i] == worst_group_accuracy(pred[~private], y[~private], groups[~private])
        assert got.worst_private[i] == worst_group_accuracy(pred[private], y[private], groups[private])


def test_score_one_is_score_many_on_one_row():
    rng = np.random.default_rng(1)
    preds, y, groups, private = random_case(rng)
    many = score_many(preds, y, groups, private)
    assert [score_one(p, y, groups, private) for p in preds] == [many.row(i) for i in range(len(preds))]


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 300), st.integers(1, 9), st.booleans())
def test_agrees_with_the_metrics_in_any_chunking(data, n, s, with_groups):
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    preds, y, groups, private = random_case(rng, s=s, n=n, labels=(0, 1), n_groups=2)
    groups = groups if with_groups else None
    chunk = data.draw(st.integers(1, s))
    got = score_many(preds, y, groups, private, chunk_rows=chunk)
    whole = score_many(preds, y, groups, private)
    np.testing.assert_array_equal(got.full, whole.full)
    np.testing.assert_array_equal(got.public, whole.public)
    for i, pred in enumerate(preds):
        assert got.full[i] == accuracy(pred, y)
        if private.any():
            assert got.private[i] == accuracy(pred[private], y[private])
        if with_groups:
            assert got.worst_full[i] == worst_group_accuracy(pred, y, groups)
        else:
            assert got.worst_full is None


def test_an_empty_part_scores_nan_not_zero():
    y = np.array([0, 1, 1])
    everything_public = score_one([0, 1, 0], y)
    assert everything_public.public == everything_public.full == pytest.approx(2 / 3)
    assert np.isnan(everything_public.private)
    everything_private = score_one([0, 1, 0], y, [0, 0, 1], np.ones(3, dtype=bool))
    assert np.isnan(everything_private.public) and np.isnan(everything_private.worst_public)
    assert everything_private.private == everything_private.full
    assert everything_private.worst_private == 0.0


def test_narrow_predictions_against_labels_they_cannot_hold():
    """Predictions parsed as uint8 are never equal to a label of 300: no wrap-around."""
    y = np.array([300, 44, 44, 7])  # 300 % 256 == 44
    pred = np.array([44, 44, 44, 7], dtype=np.uint8)
    assert score_one(pred, y).full == 0.75


def test_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="predictions must be"):
        score_many(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="predictions must be"):
        score_many(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="private_mask"):
        score_many(np.zeros((2, 4)), np.zeros(4), private_mask=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="groups"):
        score_many(np.zeros((2, 4)), np.zeros(4), groups=np.zeros(5))
    with pytest.raises(ValueError, match="undefined"):
        score_many(np.zeros((2, 0)), np.zeros(0))


def test_a_scorer_prepared_once_scores_files_of_any_integer_dtype():
    rng = np.random.default_rng(2)
    preds, y, groups, private = random_case(rng, labels=(0, 1, 2))
    scorer = Scorer(y, groups, private)
    as_int64 = scorer.score_many(preds.astype(np.int64))
    as_uint8 = scorer.score_many(preds.astype(np.uint8))
    np.testing.assert_array_equal(as_int64.full, as_uint8.full)
    np.testing.assert_array_equal(as_int64.worst_private, as_uint8.worst_private)
    assert scorer.score_one(preds[3]) == as_int64.row(3)
