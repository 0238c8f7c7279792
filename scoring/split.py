"""The public/private split of a dataset's target rows: stratified, fixed by a seed, secret.

``private_mask(y, groups, private_fraction=f, seed=s)`` marks about ``f * n`` rows private.
The strata are the (label, group) cells (the label alone when there are no groups), and the
counts are rounded *together* (controlled rounding, Cox 1987): every cell, every label,
every group and the total each get the floor or the ceiling of ``f`` times their size.  So
each stratum is within one row of its exact share, whichever way it is summed, and the
public and private boards see the same mix of labels and groups.

How: the exact shares ``f * size`` (as fractions: 0.3 means 3/10, not the nearest binary
float) are floored; the fractional remainders, bordered by the remainders of their row and
column sums, form a table whose rows and columns all sum to integers.  Moving mass around a
cycle of fractional entries (alternately + and -) keeps those sums and makes at least one
entry 0 or 1; repeating until none is fractional gives the extra row of each cell.  Which
way each cycle moves is a seeded coin weighted so that every cell's expected count is its
exact share.  Within a cell the rows with the smallest seeded keys are private.

Determinism: the keys and coins come from SplitMix64 (Steele, Lea and Flood 2014) computed
here, not from numpy's Generator, whose algorithms may change between numpy releases.  The
same seed, labels and groups give the same mask on any machine and any numpy.

Secrecy: anyone who knows the seed and the labels can recompute the mask, so the seed is as
secret as the labels.  The mask depends on the labels: a label fix must NOT recompute it
(rows would move between boards); keep the mask made from the first labels
(``mask_digest`` checks a stored copy).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from math import ceil, floor

import numpy as np

__all__ = ["mask_digest", "private_mask", "splitmix64"]

_GAMMA = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_MASK64 = (1 << 64) - 1
_COINS = 0xC0_1A_5E_ED  # separates the coins' stream from the row keys' stream


def splitmix64(seed: int, count: int, start: int = 0) -> np.ndarray:
    """Outputs ``start .. start + count - 1`` of SplitMix64 seeded with ``seed`` (uint64)."""
    z = np.arange(start + 1, start + count + 1, dtype=np.uint64) * np.uint64(_GAMMA)
    z += np.uint64(seed & _MASK64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _fraction(value: float | Fraction) -> Fraction:
    # str(): 0.3 is the 3/10 the organizer wrote, not 0.29999999999999998889776975...
    f = value if isinstance(value, Fraction) else Fraction(str(value))
    if not 0 <= f <= 1:
        raise ValueError(f"private_fraction must be between 0 and 1, got {value}")
    return f


def private_mask(y, groups=None, *, private_fraction: float | Fraction, seed: int) -> np.ndarray:
    """Boolean mask of the private rows (see the module docstring).

    ``y``: the hidden labels (n,); ``groups``: optional group ids (n,), e.g. groups_val;
    ``seed``: an integer 0 <= seed < 2**64, kept secret.
    """
    y = np.asarray(y).reshape(-1)
    if groups is not None:
        groups = np.asarray(groups).reshape(-1)
        if groups.shape != y.shape:
            raise ValueError(f"groups must have one entry per row: {groups.shape} against {y.shape}")
    if not isinstance(seed, int | np.integer) or not 0 <= int(seed) <= _MASK64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    seed = int(seed)
    f = _fraction(private_fraction)
    n = len(y)
    if n == 0 or f == 0:
        return np.zeros(n, dtype=bool)
    if f == 1:
        return np.ones(n, dtype=bool)

    labels, label_of = np.unique(y, return_inverse=True)
    if groups is None:
        n_groups, group_of = 1, np.zeros(n, dtype=np.intp)
    else:
        group_values, group_of = np.unique(groups, return_inverse=True)
        n_groups = len(group_values)
    cell_of = label_of * n_groups + group_of
    sizes = np.bincount(cell_of, minlength=len(labels) * n_groups).reshape(len(labels), n_groups)
    take = _controlled_round(sizes, f, seed)

    # Within each cell, the rows with the smallest keys are private: sort by (cell, key) and
    # compare each row's position in its cell with the cell's count.
    keys = splitmix64(seed, n)
    order = np.lexsort((keys, cell_of))
    starts = np.concatenate(([0], np.cumsum(sizes.reshape(-1))[:-1]))
    position = np.arange(n) - starts[cell_of[order]]
    mask = np.zeros(n, dtype=bool)
    mask[order] = position < take.reshape(-1)[cell_of[order]]
    return mask


def _controlled_round(sizes: np.ndarray, f: Fraction, seed: int) -> np.ndarray:
    """Integer counts, each the floor or ceiling of f * size, whose row sums, column sums and
    total are also the floor or ceiling of f times theirs."""
    n_rows, n_cols = sizes.shape
    base = np.zeros((n_rows, n_cols), dtype=np.int64)
    # The bordered table of remainders: (n_rows + 1) x (n_cols + 1), every line summing to an integer.
    table: dict[tuple[int, int], Fraction] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            exact = f * int(sizes[r, c])
            base[r, c] = floor(exact)
            table[r, c] = exact - floor(exact)
    for r in range(n_rows):
        row = sum((table[r, c] for c in range(n_cols)), Fraction(0))
        table[r, n_cols] = ceil(row) - row
    for c in range(n_cols):
        col = sum((table[r, c] for r in range(n_rows)), Fraction(0))
        table[n_rows, c] = ceil(col) - col
    corner = sum((table[r, n_cols] for r in range(n_rows)), Fraction(0))
    table[n_rows, n_cols] = ceil(corner) - corner

    coins = _Coins(seed)
    fractional = {cell for cell, v in table.items() if 0 < v < 1}
    while fractional:
        cycle = _find_cycle(fractional)
        plus, minus = cycle[0::2], cycle[1::2]
        up = min([1 - table[e] for e in plus] + [table[e] for e in minus])    # move +up on plus
        down = min([table[e] for e in plus] + [1 - table[e] for e in minus])  # move -down on plus
        step = up if coins.below(down / (up + down)) else -down  # expected move: 0
        for e in plus:
            table[e] += step
        for e in minus:
            table[e] -= step
        fractional = {e for e in fractional if 0 < table[e] < 1}
    for r in range(n_rows):
        for c in range(n_cols):
            base[r, c] += int(table[r, c])
    return base


def _find_cycle(edges: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """A cycle of the bipartite graph rows--columns whose edges are ``edges``, as its edges in
    order.  Every vertex that has an edge has at least two (its line sums to an integer and
    its other entries are 0 or 1), so a walk that never leaves by the edge it came in on
    always closes a cycle.  Deterministic: the smallest edge first, then the smallest way on."""
    by_row: dict[int, list[tuple[int, int]]] = {}
    by_col: dict[int, list[tuple[int, int]]] = {}
    for e in sorted(edges):
        by_row.setdefault(e[0], []).append(e)
        by_col.setdefault(e[1], []).append(e)
    first = min(edges)
    walk = [first]
    seen = {("r", first[0]): 0}  # vertex -> index in walk of the edge that left it
    vertex = ("c", first[1])
    while vertex not in seen:
        seen[vertex] = len(walk)
        options = by_col[vertex[1]] if vertex[0] == "c" else by_row[vertex[1]]
        edge = next(e for e in options if e != walk[-1])
        walk.append(edge)
        vertex = ("r", edge[0]) if vertex[0] == "c" else ("c", edge[1])
    return walk[seen[vertex]:]


class _Coins:
    """Seeded uniform draws in [0, 1) from SplitMix64, compared exactly with a Fraction."""

    def __init__(self, seed: int):
        self.seed, self.drawn = (seed ^ _COINS) & _MASK64, 0

    def below(self, p: Fraction) -> bool:
        draw = int(splitmix64(self.seed, 1, self.drawn)[0])
        self.drawn += 1
        return Fraction(draw, 1 << 64) < p


def mask_digest(mask) -> str:
    """SHA-256 of a mask (its length and bits): store it with the mask to detect any drift."""
    mask = np.asarray(mask, dtype=bool).reshape(-1)
    return hashlib.sha256(len(mask).to_bytes(8, "little") + np.packbits(mask).tobytes()).hexdigest()
