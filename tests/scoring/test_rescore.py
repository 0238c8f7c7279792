"""Re-scoring after a label fix: the live code path, who moves, which reveals were corrected."""

import numpy as np
import pytest

from scoring import Scorer, parse_labels
from scoring.rescore import Move, corrected_reveals, rank_changes, rescore


def as_file(labels, end=b"\n") -> bytes:
    return end.join(str(v).encode() for v in labels) + end


@pytest.fixture
def dataset():
    rng = np.random.default_rng(3)
    n = 400
    y = rng.choice([4, 5, 6], n)
    groups = rng.integers(0, 2, n)
    private = rng.random(n) < 0.5
    preds = [np.where(rng.random(n) < q, y, rng.choice([4, 5, 6], n)) for q in np.linspace(0.3, 0.95, 12)]
    files = [as_file(p, b"\r\n" if i % 3 == 0 else b"\n") for i, p in enumerate(preds)]
    return y, groups, private, preds, files


def test_rescoring_gives_what_the_live_path_gives_for_each_file(dataset):
    y, groups, private, _, files = dataset
    new_y = y.copy()
    new_y[[3, 77, 200]] = [4 if v != 4 else 5 for v in y[[3, 77, 200]]]
    got = rescore(files, [4, 5, 6], y, new_y, groups, private)
    live_old, live_new = Scorer(y, groups, private), Scorer(new_y, groups, private)
    for i, data in enumerate(files):
        pred = parse_labels(data, len(y), [4, 5, 6])  # what the live path does, file by file
        assert got.old.row(i) == live_old.score_one(pred)
        assert got.new.row(i) == live_new.score_one(pred)
    assert got.changed_rows.tolist() == [3, 77, 200]
    assert got.ok.all() and got.errors == {}


def test_flipping_one_label_changes_exactly_the_teams_that_predicted_either_label(dataset):
    y, groups, private, preds, files = dataset
    row = int(np.flatnonzero(private)[0])  # a private row: the public scores must not move
    new_y = y.copy()
    new_y[row] = 6 if y[row] != 6 else 4
    got = rescore(files, [4, 5, 6], y, new_y, groups, private)
    affected = {i for i, p in enumerate(preds) if p[row] in (y[row], new_y[row])}
    assert affected and len(affected) < len(preds)
    assert set(got.changed().tolist()) == affected
    np.testing.assert_array_equal(got.old.public, got.new.public)
    for i in affected:
        sign = 1 if preds[i][row] == new_y[row] else -1  # right now, or wrong now
        assert got.new.private[i] - got.old.private[i] == pytest.approx(sign / private.sum())
        assert got.new.full[i] - got.old.full[i] == pytest.approx(sign / len(y))


def test_a_file_that_no_longer_parses_is_reported_and_scores_nan(dataset):
    y, groups, private, _, files = dataset
    files = [*files, b"label\n" + files[0], files[1]]
    got = rescore(files, [4, 5, 6], y, y, groups, private)
    assert got.ok.tolist() == [True] * 12 + [False, True]
    assert got.errors[12].line == 1 and "header" in str(got.errors[12])
    assert np.isnan(got.old.full[12]) and np.isnan(got.new.worst_full[12])
    assert got.new.row(13) == got.new.row(1)
    assert got.changed().size == 0 and got.changed_rows.size == 0


def test_label_fix_with_a_different_row_count_is_refused(dataset):
    y, _, _, _, files = dataset
    with pytest.raises(ValueError, match="changes labels, not the number of rows"):
        rescore(files, [4, 5, 6], y, y[:-1])


def test_who_moves_and_by_how_much():
    points, defaults = np.array([1.0, 2.0]), np.array([0.8, 0.5])
    nan = np.nan
    old = np.array([[0.9, 0.6], [0.85, 0.6], [nan, 0.9], [0.5, nan]])
    new = old.copy()
    new[0, 1] = 0.5   # team 0 loses 0.2 points on dataset 1: 2.1 -> 1.9
    new[2, 1] = 0.95  # team 2 gains 0.1: 2.6 -> 2.7
    last = np.array([10.0, 20.0, 30.0, 40.0])
    changes = rank_changes(old, new, points, defaults, last)
    # old totals: 2.1, 2.05, 2.6, 1.5 -> ranks 2, 3, 1, 4; new: 1.9, 2.05, 2.7, 1.5 -> 3, 2, 1, 4
    assert changes.old.ranks.tolist() == [2, 3, 1, 4]
    assert changes.new.ranks.tolist() == [3, 2, 1, 4]
    moves = changes.moves()
    assert [(m.team, m.old_rank, m.new_rank) for m in moves] == [(1, 3, 2), (0, 2, 3), (2, 1, 1)]
    assert moves[1] == Move(0, 2, 3, pytest.approx(2.1), pytest.approx(1.9))
    assert all(m.team != 3 for m in moves)  # neither rank nor total changed


def test_a_new_counted_submission_time_breaks_ties_after_the_fix():
    acc = np.array([[0.5], [0.5]])
    changes = rank_changes(acc, acc, [1.0], [0.8], [10.0, 20.0], new_last_submitted=[30.0, 20.0])
    assert changes.old.ranks.tolist() == [1, 2] and changes.new.ranks.tolist() == [2, 1]


def test_teams_that_revealed_a_corrected_datum():
    old = np.array([0, 1, 1, 0, 1])
    new = np.array([0, 0, 1, 0, 0])  # datums 1 and 4 corrected
    got = corrected_reveals([7, 7, 8, 9, 9], [1, 2, 2, 4, 0], old, new)
    assert got.team.tolist() == [7, 9] and got.datum.tolist() == [1, 4]
    assert got.answered.tolist() == [1, 1] and got.corrected.tolist() == [0, 0]
    assert got.teams.tolist() == [7, 9]
    assert corrected_reveals([], [], old, new).teams.size == 0
    with pytest.raises(ValueError, match="outside"):
        corrected_reveals([1], [5], old, new)
