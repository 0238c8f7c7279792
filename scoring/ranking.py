"""Leaderboard: weighted totals over datasets, ranks with tie-breaking.

Rules:
  * a team's score on a dataset is its accuracy there, or the dataset's
    default score when it has not submitted (NaN accuracy);
  * total = sum over datasets of points[d] * score[d];
  * higher total ranks first; equal totals are broken by the earlier
    last submission; a team that never submitted counts as latest;
  * teams equal on both get the same rank ("1, 2, 2, 4" competition ranking).

Totals are rounded to 12 decimals before comparing.  Totals that are
mathematically equal can differ in their last bits in floating point, e.g.
0.1*1 + 0.2*1 vs 0.3*1, and teams must not be split by that noise.
12 decimals keeps every difference anyone could care about (accuracies are
k/n over test sets of at most millions of rows) while sitting ~100x above
float64 noise at leaderboard magnitudes.  Caveat: rounding is a
grid, so two noisy copies of one total that fall on either side of a grid
boundary stay apart; with noise of a few ulps (~1e-14 at totals near 100) that
happens to roughly 1 in 100 such pairs.  Identical score rows always give
bit-identical totals, because every row is summed in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Ranking", "leaderboard", "leaderboard_python_loop"]

DECIMALS = 12


@dataclass(frozen=True)
class Ranking:
    totals: np.ndarray  # (T,) float64, rounded to DECIMALS
    order: np.ndarray   # (T,) team indices, best first
    ranks: np.ndarray   # (T,) 1-based rank of each team index
    scores: np.ndarray  # (T, D) effective per-dataset score (accuracy or default)


def _check(accuracy, points, default_score, last_submitted):
    acc = np.asarray(accuracy, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    default = np.asarray(default_score, dtype=np.float64)
    last = np.asarray(last_submitted, dtype=np.float64)
    if acc.ndim != 2 or points.shape != (acc.shape[1],) or default.shape != points.shape \
            or last.shape != (acc.shape[0],):
        raise ValueError(
            f"expected accuracy (T, D), points (D,), default_score (D,), last_submitted (T,); "
            f"got {acc.shape}, {points.shape}, {default.shape}, {last.shape}")
    return acc, points, default, np.where(np.isnan(last), np.inf, last)


def leaderboard(accuracy, points, default_score, last_submitted) -> Ranking:
    """Vectorized leaderboard; see the module docstring for the rules."""
    acc, points, default, last = _check(accuracy, points, default_score, last_submitted)
    scores = np.where(np.isnan(acc), default, acc)
    # Add the datasets up in order, each step vectorized over all teams: unlike
    # a BLAS matmul, the result does not depend on the BLAS build or thread
    # count, and it matches the per-team loop bit for bit.
    totals = np.zeros(len(acc))
    for d in range(acc.shape[1]):
        totals += points[d] * scores[:, d]
    totals = np.round(totals, DECIMALS)
    # lexsort: last key is primary. Stable, so full ties keep team-index order.
    order = np.lexsort((last, -totals))
    t, s = totals[order], last[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    # Each team's rank is the 1-based position of the first team of its tie group.
    first_pos = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = first_pos + 1
    return Ranking(totals=totals, order=order, ranks=ranks, scores=scores)


def leaderboard_python_loop(accuracy, points, default_score, last_submitted) -> Ranking:
    """Naive per-team reference implementation (tests and benchmark baseline)."""
    acc, points, default, last = _check(accuracy, points, default_score, last_submitted)
    n_teams, n_data = acc.shape
    scores = np.empty_like(acc)
    totals = np.empty(n_teams)
    for team in range(n_teams):
        total = 0.0
        for d in range(n_data):
            a = acc[team, d]
            score = default[d] if np.isnan(a) else a
            scores[team, d] = score
            total += points[d] * score
        totals[team] = np.round(total, DECIMALS)
    order = sorted(range(n_teams), key=lambda i: (-totals[i], last[i]))
    ranks = np.empty(n_teams, dtype=np.int64)
    for pos, team in enumerate(order):
        prev = order[pos - 1] if pos else None
        same = prev is not None and (totals[prev], last[prev]) == (totals[team], last[team])
        ranks[team] = ranks[prev] if same else pos + 1
    return Ranking(totals=totals, order=np.array(order, dtype=np.int64), ranks=ranks,
                   scores=scores)
