"""Accuracy metrics, the public/private/full scores of many submissions at once, and
bootstrap uncertainty.

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
    "Score", "Scorer", "Scores", "score_many", "score_one",
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


@dataclass(frozen=True)
class Score:
    """One submission's scores; NaN where a part has no rows (public when everything is
    private, private when nothing is); worst_* are None for a dataset without groups."""

    public: float
    private: float
    full: float
    worst_public: float | None
    worst_private: float | None
    worst_full: float | None


@dataclass(frozen=True)
class Scores:
    """The scores of S submissions on one dataset, each an array of shape (S,)."""

    public: np.ndarray
    private: np.ndarray
    full: np.ndarray
    worst_public: np.ndarray | None
    worst_private: np.ndarray | None
    worst_full: np.ndarray | None

    def __len__(self) -> int:
        return len(self.full)

    def row(self, i: int) -> Score:
        def opt(a: np.ndarray | None) -> float | None:
            return None if a is None else float(a[i])
        return Score(float(self.public[i]), float(self.private[i]), float(self.full[i]),
                     opt(self.worst_public), opt(self.worst_private), opt(self.worst_full))


class Scorer:
    """Scores submissions on one dataset: public, private and full accuracy and worst-group
    accuracy, in one vectorized pass over a matrix of predictions.

    Built once per dataset and label version (what does not depend on a submission: the
    truth, the cells, their bit masks), then used for every file: the live path scores one
    file with ``score_one``, re-scoring scores every stored file with ``score_many``.  Both
    run the same code, so a board re-scored after a label fix is computed exactly as it was
    live.  Values are bit-identical to ``accuracy`` and ``worst_group_accuracy``
    (count / size).

    How: the rows fall into cells (public or private) x group.  Each chunk of submissions is
    compared with the truth, packed to bits, and every cell's hits are counted with one
    popcount of the bits under the cell's bit mask: no per-submission Python work.
    """

    def __init__(self, truth, groups=None, private_mask=None) -> None:
        truth = np.asarray(truth).reshape(-1)
        n = len(truth)
        if n == 0:
            raise ValueError("accuracy of zero predictions is undefined")
        mask = np.zeros(n, dtype=bool) if private_mask is None else np.asarray(private_mask, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"private_mask must have shape {(n,)}, got {mask.shape}")
        if groups is None:
            n_groups, group_of = 1, np.zeros(n, dtype=np.intp)
        else:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise ValueError(f"groups must have shape {(n,)}, got {groups.shape}")
            group_values, group_of = np.unique(groups, return_inverse=True)
            n_groups = len(group_values)
        cell_of = mask * n_groups + group_of  # public cells first, then private
        self.truth, self.n, self.n_groups, self.has_groups = truth, n, n_groups, groups is not None
        self.sizes = np.bincount(cell_of, minlength=2 * n_groups)
        self.words = -(-n // 64)
        self.cell_bits = _packed(cell_of[None, :] == np.arange(2 * n_groups)[:, None], self.words)
        self._truth_as: dict[np.dtype, np.ndarray] = {}

    def score_many(self, predictions, *, chunk_rows: int | None = None) -> Scores:
        """Scores of every row of ``predictions`` (S, n)."""
        preds = np.asarray(predictions)
        if preds.ndim != 2 or preds.shape[1] != self.n:
            raise ValueError(f"predictions must be (submissions, {self.n}), got {preds.shape}")
        truth = self._truth_in(preds.dtype)
        hits = np.empty((len(preds), len(self.sizes)), dtype=np.int64)
        step = chunk_rows or max(1, (1 << 21) // self.n)
        for start in range(0, len(preds), step):
            bits = _packed(preds[start:start + step] == truth, self.words)  # (chunk, words)
            np.sum(np.bitwise_count(bits[:, None, :] & self.cell_bits[None, :, :]), axis=2,
                   dtype=np.int64, out=hits[start:start + step])

        g = self.n_groups
        public, private = hits[:, :g], hits[:, g:]
        pub_size, priv_size = self.sizes[:g], self.sizes[g:]
        accuracies = dict(public=_ratio(public.sum(axis=1), pub_size.sum()),
                          private=_ratio(private.sum(axis=1), priv_size.sum()),
                          full=_ratio(hits.sum(axis=1), self.n))
        if not self.has_groups:
            return Scores(**accuracies, worst_public=None, worst_private=None, worst_full=None)
        return Scores(**accuracies, worst_public=_worst(public, pub_size), worst_private=_worst(private, priv_size),
                      worst_full=_worst(public + private, pub_size + priv_size))

    def score_one(self, prediction) -> Score:
        """One submission's scores: ``score_many`` on a single row (the live path)."""
        return self.score_many(np.asarray(prediction)[None, :]).row(0)

    def _truth_in(self, dtype: np.dtype) -> np.ndarray:
        """The truth in the predictions' integer dtype when that is lossless (a narrow
        comparison is several times faster); otherwise as it is, and numpy compares in a
        common type."""
        if dtype not in self._truth_as:
            truth = self.truth
            if np.issubdtype(dtype, np.integer) and truth.dtype != dtype:
                info = np.iinfo(dtype)
                if info.min <= truth.min() and truth.max() <= info.max:
                    truth = truth.astype(dtype)
            self._truth_as[dtype] = truth
        return self._truth_as[dtype]


def score_many(predictions, truth, groups=None, private_mask=None, *,
               chunk_rows: int | None = None) -> Scores:
    """``Scorer(truth, groups, private_mask).score_many(predictions)``."""
    return Scorer(truth, groups, private_mask).score_many(predictions, chunk_rows=chunk_rows)


def score_one(prediction, truth, groups=None, private_mask=None) -> Score:
    """``Scorer(truth, groups, private_mask).score_one(prediction)``."""
    return Scorer(truth, groups, private_mask).score_one(prediction)


def _packed(rows: np.ndarray, words: int) -> np.ndarray:
    """Bool rows -> uint64 words, bit j of the row at bit j % 64 of word j // 64, zero-padded."""
    packed = np.packbits(rows, axis=1, bitorder="little")
    if packed.shape[1] != words * 8:
        padded = np.zeros((len(rows), words * 8), dtype=np.uint8)
        padded[:, :packed.shape[1]] = packed
        packed = padded
    return packed.view(np.uint64)


def _ratio(hits: np.ndarray, size) -> np.ndarray:
    if size == 0:
        return np.full(len(hits), np.nan)
    return hits / size


def _worst(hits: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Lowest accuracy over the groups that have rows; NaN when none has."""
    present = sizes > 0
    if not present.any():
        return np.full(len(hits), np.nan)
    return (hits[:, present] / sizes[present]).min(axis=1)


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
