"""Integrity checks for the organizers: teams whose predictions agree suspiciously often, and
each team's accuracy with the datums it revealed left out.

``similar_pairs`` looks at every pair of submissions at once.  The labels are split into two
halves of about equal frequency and each prediction becomes +1 or -1 by its half; then
``S @ S.T`` (a symmetric rank-k update in BLAS) gives, for every pair, agree - disagree on
the halves.  Two files that predict the same label predict the same half, so that count is
an upper bound on their true agreement (exact with two labels): only the pairs whose bound
reaches the threshold are compared row by row.  Honest files are far below the bound, so
one matrix product decides nearly every pair whatever the number of labels.  Columns go by
chunks (memory O(T x chunk)); the products are of +-1 in float32, exact while a chunk has
fewer than 2**24 rows, and are summed across chunks as int64.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil

import numpy as np

__all__ = ["SimilarPair", "accuracy_without_reveals", "half_agreement", "reveal_mask", "similar_pairs"]

_CHUNK_FLOATS = 1 << 23  # 32 MB of float32 signs per chunk
_PAIRS_PER_PASS = 1 << 10


def half_agreement(predictions, *, chunk_columns: int | None = None) -> np.ndarray:
    """(T, T) int64: for each pair, the rows where both predict a label of the same half (the
    labels split in two halves of about equal frequency; with two labels, one per half, this
    is exactly the rows where they agree).  Never below the true agreement."""
    preds = np.asarray(predictions)
    if preds.ndim != 2:
        raise ValueError(f"predictions must be (submissions, rows), got {preds.shape}")
    n_subs, n = preds.shape
    counts = np.zeros((n_subs, n_subs), dtype=np.int64)
    if n_subs == 0 or n == 0:
        return counts
    first_half = _first_half(preds)
    step = min(chunk_columns or max(1, _CHUNK_FLOATS // n_subs), 1 << 23)
    for start in range(0, n, step):
        block = preds[:, start:start + step]
        signs = np.where(np.isin(block, first_half), np.float32(1), np.float32(-1))
        dot = np.rint(signs @ signs.T).astype(np.int64)  # agree - disagree
        counts += (block.shape[1] + dot) // 2
    return counts


def _first_half(preds: np.ndarray) -> np.ndarray:
    """Labels taking about half of all predictions: the most frequent first, each to the
    lighter half (without sorting the matrix when the labels span a small range)."""
    lo, hi = int(preds.min()), int(preds.max())
    if hi - lo < 1 << 16:
        freq = np.bincount((preds - lo).ravel().astype(np.intp), minlength=hi - lo + 1)
        labels = np.flatnonzero(freq)
        labels, freq = labels + lo, freq[labels]
    else:
        labels, freq = np.unique(preds, return_counts=True)
    first: list[int] = []
    weights = [0, 0]
    for k in np.argsort(-freq, kind="stable"):
        side = 0 if weights[0] <= weights[1] else 1
        weights[side] += int(freq[k])
        if side == 0:
            first.append(int(labels[k]))
    return np.array(first, dtype=preds.dtype)


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions (row indices) that agree on at least the threshold of the rows."""

    a: int
    b: int
    agreement: float  # fraction of the rows where they predict the same label
    rows: int
    threshold: float
    # With the truth: the agreement their accuracies force on their own (two 99.9 % files
    # agree on >= 99.8 % of the rows however honest), and the rows both got wrong with the
    # same label (copies share their mistakes).
    implied: float | None = None
    shared_errors: int | None = None

    @property
    def explained_by_accuracy(self) -> bool:
        """Any two files this accurate would agree this often: not a sign of copying."""
        return self.implied is not None and self.implied >= self.threshold


def similar_pairs(predictions, *, threshold: float = 0.995, owners=None, truth=None) -> list[SimilarPair]:
    """Pairs of submissions agreeing on at least ``threshold`` of the rows given (pass the
    private rows, or every row when there is no private part), most similar first.
    ``owners``: the team of each submission; pairs of one team are skipped."""
    preds = np.asarray(predictions)
    n_subs, n = preds.shape
    if n == 0 or n_subs < 2:
        return []
    need = ceil(Fraction(str(threshold)) * n)  # exact: 99.5 % of 200 rows is 199 rows
    bound = half_agreement(preds)
    a, b = np.triu_indices(n_subs, 1)
    maybe = bound[a, b] >= need
    if owners is not None:
        owners = np.asarray(owners)
        maybe &= owners[a] != owners[b]
    a, b = a[maybe], b[maybe]
    agree = np.concatenate([np.count_nonzero(preds[a[k:k + _PAIRS_PER_PASS]] == preds[b[k:k + _PAIRS_PER_PASS]], axis=1)
                            for k in range(0, len(a), _PAIRS_PER_PASS)] or [np.zeros(0, dtype=np.int64)])
    hit = agree >= need
    a, b, agree = a[hit], b[hit], agree[hit]
    order = np.lexsort((b, a, -agree))
    accuracy = None if truth is None else np.count_nonzero(preds == np.asarray(truth), axis=1) / n
    pairs = []
    for i, j, count in zip(a[order].tolist(), b[order].tolist(), agree[order].tolist(), strict=True):
        if accuracy is None:
            pairs.append(SimilarPair(i, j, count / n, n, threshold))
            continue
        shared = int(np.count_nonzero((preds[i] == preds[j]) & (preds[i] != truth)))
        implied = max(0.0, float(accuracy[i] + accuracy[j] - 1))
        pairs.append(SimilarPair(i, j, count / n, n, threshold, implied, shared))
    return pairs


def reveal_mask(rows, datums, shape: tuple[int, int]) -> np.ndarray:
    """Bool (submissions, rows): True where submission ``rows[k]``'s team revealed ``datums[k]``."""
    mask = np.zeros(shape, dtype=bool)
    mask[np.asarray(rows, dtype=np.intp), np.asarray(datums, dtype=np.intp)] = True
    return mask


def accuracy_without_reveals(predictions, truth, revealed) -> np.ndarray:
    """Each submission's accuracy on the rows its team did not reveal (NaN if it revealed all):
    what a team's method scores without the labels it was given."""
    preds, truth, revealed = np.asarray(predictions), np.asarray(truth), np.asarray(revealed, dtype=bool)
    if revealed.shape != preds.shape or truth.shape != preds.shape[1:]:
        raise ValueError(f"predictions {preds.shape}, truth {truth.shape} and revealed {revealed.shape} do not match")
    kept = preds.shape[1] - np.count_nonzero(revealed, axis=1)
    hits = np.count_nonzero((preds == truth) & ~revealed, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, hits / np.maximum(kept, 1), np.nan)
