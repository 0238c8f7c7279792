"""Accuracy metrics and bootstrap uncertainty.

Both bootstraps use the fact that accuracy only depends on how many resampled
rows fall in each correctness category.  Resampling n rows with replacement
therefore has *exactly* the distribution of a binomial (one prediction
vector) or a 4-way multinomial (a pair: both right, only A, only B, neither)
with the observed frequencies.  Drawing those counts is O(n_boot) time and
memory whatever n is, and is the same statistical procedure as resampling
index matrices, not an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "accuracy", "group_accuracy", "worst_group_accuracy",
    "bootstrap_ci", "paired_bootstrap", "PairedBootstrap",
]


def _correct(pred, truth) -> np.ndarray:
    pred, truth = np.asarray(pred), np.asarray(truth)
    if pred.shape != truth.shape or pred.ndim != 1:
        raise ValueError(f"pred and truth must be 1-D of equal length, got {pred.shape} and {truth.shape}")
    if pred.size == 0:
        raise ValueError("accuracy of zero predictions is undefined")
    return pred == truth


def accuracy(pred, truth) -> float:
    """Fraction of positions where pred equals truth."""
    return float(np.count_nonzero(_correct(pred, truth)) / len(truth))


def group_accuracy(pred, truth, groups) -> dict[int, float]:
    """Accuracy within each group id present in ``groups``."""
    correct = _correct(pred, truth)
    groups = np.asarray(groups)
    if groups.shape != correct.shape:
        raise ValueError(f"groups must have shape {correct.shape}, got {groups.shape}")
    ids, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    hits = np.bincount(inverse, weights=correct, minlength=len(ids))
    return {int(g): float(h / s) for g, h, s in zip(ids, hits, sizes, strict=True)}


def worst_group_accuracy(pred, truth, groups) -> float:
    """Lowest per-group accuracy (the robustness score of group-shift datasets)."""
    return min(group_accuracy(pred, truth, groups).values())


def bootstrap_ci(pred, truth, *, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the accuracy."""
    correct = _correct(pred, truth)
    n = len(correct)
    rng = np.random.default_rng(seed)
    accs = rng.binomial(n, np.count_nonzero(correct) / n, size=n_boot) / n
    lo, hi = np.quantile(accs, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


@dataclass(frozen=True)
class PairedBootstrap:
    """Result of comparing two prediction vectors on the same rows.

    diff: accuracy(a) - accuracy(b).
    ci: percentile bootstrap interval of diff.
    p_value: two-sided bootstrap p-value for "no difference": twice the fraction
        of bootstrap diffs on the far side of 0 from the observed diff (diff <= 0
        when A is observed better, >= 0 when worse), capped at 1; 1.0 when diff == 0.
    """

    diff: float
    ci: tuple[float, float]
    p_value: float


def paired_bootstrap(pred_a, pred_b, truth, *, n_boot: int = 1000, level: float = 0.95,
                     seed: int = 0) -> PairedBootstrap:
    """Paired bootstrap of accuracy(a) - accuracy(b), resampling rows jointly."""
    a, b = _correct(pred_a, truth), _correct(pred_b, truth)
    n = len(a)
    only_a = np.count_nonzero(a & ~b)
    only_b = np.count_nonzero(~a & b)
    both = np.count_nonzero(a & b)
    probs = np.array([only_a, only_b, both, n - only_a - only_b - both]) / n
    counts = np.random.default_rng(seed).multinomial(n, probs, size=n_boot)
    diffs = (counts[:, 0] - counts[:, 1]) / n  # rows right in both cancel out
    diff = (only_a - only_b) / n
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    if diff == 0:
        p = 1.0
    else:
        far_side = np.mean(diffs <= 0) if diff > 0 else np.mean(diffs >= 0)
        p = min(1.0, 2 * float(far_side))
    return PairedBootstrap(diff=float(diff), ci=(float(lo), float(hi)), p_value=p)
