"""scoring.ties: the paired bootstrap of two points-weighted totals."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.ties import Side, compare_totals


def correct(n: int, wrong: int) -> np.ndarray:
    out = np.ones(n, dtype=bool)
    out[:wrong] = False
    return out


def test_a_few_rows_apart_is_a_tie_and_far_apart_is_not():
    close = compare_totals([(2.0, Side(correct(500, 50), 0.8), Side(correct(500, 53), 0.8))])
    assert close.tied and close.diff == pytest.approx(2 * 3 / 500)
    far = compare_totals([(2.0, Side(correct(500, 50), 0.8), Side(correct(500, 200), 0.8))])
    assert not far.tied and far.ci[0] > 0


def test_the_same_rows_wrong_pair_up():
    # paired by row: identical files differ on no row, so every resample agrees: a zero-width interval
    a = correct(1000, 10)
    same = compare_totals([(1.0, Side(a, 0.8), Side(a.copy(), 0.8))])
    assert same.tied and same.ci == (0.0, 0.0)


def test_defaults_are_constants_and_points_weigh():
    # A did not submit dataset 1 (default 0.5); B submitted it at 0.9 on 1000 rows: B is ahead by 0.4 x 3 points
    parts = [(3.0, Side(None, 0.5), Side(correct(1000, 100), 0.5)), (1.0, Side(None, 0.8), Side(None, 0.8))]
    result = compare_totals(parts)
    assert result.diff == pytest.approx(-1.2) and not result.tied and result.ci[1] < 0


def test_sides_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same rows"):
        compare_totals([(1.0, Side(correct(10, 1), 0.8), Side(correct(11, 1), 0.8))])
