"""Statistical ties on a points-weighted board: can a paired bootstrap tell two totals apart?

A total is sum_d points[d] * score[d], where score[d] is the accuracy on dataset d's rows when
the team submitted there, else the dataset's default (a constant: no sampling noise). Two
adjacent teams are compared by resampling each dataset's rows jointly for both teams (a paired
bootstrap, as ``scoring.paired_bootstrap`` does for one dataset) and adding the weighted
differences; the teams are tied when the interval of the difference of totals contains 0.

Per dataset, only the counts of rows right for A only and for B only matter, so one bootstrap
draw is a multinomial over four cells: no per-row Python work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Side", "TotalComparison", "compare_totals"]


@dataclass(frozen=True)
class Side:
    """One team's part of a dataset: its per-row correctness, or its constant default score."""

    correct: np.ndarray | None  # bool (rows,), None when the team did not submit
    default: float

    def mean(self) -> float:
        return float(np.count_nonzero(self.correct) / len(self.correct)) if self.correct is not None else self.default


@dataclass(frozen=True)
class TotalComparison:
    diff: float  # total(A) - total(B)
    ci: tuple[float, float]  # percentile bootstrap interval of diff

    @property
    def tied(self) -> bool:
        """The interval holds 0: the bootstrap cannot separate the two totals."""
        return self.ci[0] <= 0.0 <= self.ci[1]


def compare_totals(parts: list[tuple[float, Side, Side]], *, n_boot: int = 1000, level: float = 0.95,
                   seed: int = 0) -> TotalComparison:
    """Paired bootstrap of total(A) - total(B); `parts` holds (points, side A, side B) per dataset."""
    rng = np.random.default_rng(seed)
    diffs = np.zeros(n_boot)
    observed = 0.0
    for points, a, b in parts:
        observed += points * (a.mean() - b.mean())
        if a.correct is None and b.correct is None:
            diffs += points * (a.default - b.default)
            continue
        n = len(a.correct if a.correct is not None else b.correct)  # type: ignore[arg-type]
        if a.correct is not None and b.correct is not None:
            if len(a.correct) != len(b.correct):
                raise ValueError(f"both sides must cover the same rows, got {len(a.correct)} and {len(b.correct)}")
            only_a = np.count_nonzero(a.correct & ~b.correct)
            only_b = np.count_nonzero(~a.correct & b.correct)
            both = np.count_nonzero(a.correct & b.correct)
            probs = np.array([only_a, only_b, both, n - only_a - only_b - both]) / n
            counts = rng.multinomial(n, probs, size=n_boot)
            diffs += points * (counts[:, 0] - counts[:, 1]) / n
        else:  # one side submitted: its accuracy varies, the other's default does not
            sub, sign = (a, 1.0) if a.correct is not None else (b, -1.0)
            other = b if sign > 0 else a
            hits = rng.binomial(n, sub.mean(), size=n_boot) / n
            diffs += points * sign * (hits - other.default)
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return TotalComparison(float(observed), (float(lo), float(hi)))
