"""Counting a vote: approval, single choice, and ranked ballots by Borda count. Pure numpy.

Ballots are rows of candidate indices (0 .. n_candidates-1), padded with -1, as made by
`ballot_matrix`: an approval or single ballot lists what it approves in any order; a ranked
ballot lists its choices best first.

The rules:
  * **approval** (`max_choices` = m): each candidate on a ballot gets 1 point;
  * **single**: approval with m = 1;
  * **ranked** (Borda, `max_choices` = m, default n): the choice in position i (0-based) gets
    m - i points, an unranked candidate 0. With full rankings (m = n) this is the classic Borda
    count n-1-i plus one point for every candidate on every ballot, so the order is the same.
    A voter who ranks fewer than m candidates gives them the same points as if they had ranked
    more: truncating neither helps nor hurts the ones they ranked.

Points decide. Candidates with equal points are tied, and ties are reported as ties: a group of
several candidates at one rank. Only the ranked count has a tie-break, stated here and applied
when `tie_break="countback"` (the default): among equal points, more first choices win, then more
second choices, and so on to position m; candidates equal on all of them stay tied. Nothing is
ever decided by chance or by the order of the ballots or of the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Tally", "ballot_matrix", "count", "count_approval", "count_borda", "count_single"]

Kind = Literal["approval", "single", "ranked"]


@dataclass(frozen=True)
class Tally:
    kind: Kind
    points: np.ndarray  # (n,) points of each candidate index (approvals, votes, Borda points)
    ballots: int  # ballots counted
    groups: tuple[tuple[int, ...], ...]  # candidates best first; a group of several is a tie
    tie_break: str  # the rule applied within equal points, in words

    @property
    def ranks(self) -> np.ndarray:
        """(n,) 1-based competition rank ('1, 2, 2, 4') of each candidate index."""
        out = np.empty(len(self.points), dtype=np.int64)
        rank = 1
        for group in self.groups:
            out[list(group)] = rank
            rank += len(group)
        return out

    @property
    def winners(self) -> tuple[int, ...]:
        """The first group: one candidate, or a tie of several (empty when there are no candidates)."""
        return self.groups[0] if self.groups else ()

    @property
    def tied(self) -> bool:
        return len(self.winners) > 1


def ballot_matrix(ballots: Sequence[Sequence[int]], n_candidates: int, max_choices: int | None = None) -> np.ndarray:
    """Ballots as lists of candidate indices -> an (B, m) int64 matrix padded with -1.

    Raises ValueError naming the first bad ballot: an unknown candidate, a candidate twice, or
    more than `max_choices` choices. An empty ballot is allowed (it counts as cast, for nobody).
    """
    width = max((len(b) for b in ballots), default=0) if max_choices is None else max_choices
    out = np.full((len(ballots), max(width, 0)), -1, dtype=np.int64)
    for i, ballot in enumerate(ballots):
        if len(ballot) > width:
            raise ValueError(f"ballot {i} has {len(ballot)} choices; at most {width}")
        row = np.asarray(ballot, dtype=np.int64)
        if row.size and (row.min() < 0 or row.max() >= n_candidates):
            raise ValueError(f"ballot {i} names a candidate outside 0..{n_candidates - 1}")
        if len(np.unique(row)) != row.size:
            raise ValueError(f"ballot {i} names a candidate twice")
        out[i, : row.size] = row
    return out


def _check(matrix: np.ndarray, n_candidates: int, max_choices: int) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2:
        raise ValueError(f"ballots must be a (B, m) matrix; got shape {m.shape}")
    if n_candidates < 0 or max_choices < 1:
        raise ValueError("need n_candidates >= 0 and max_choices >= 1")
    valid = m >= 0
    if m.size and (m.max(initial=-1) >= n_candidates or (m < -1).any()):
        raise ValueError(f"ballots name candidates outside 0..{n_candidates - 1}")
    if (valid.sum(axis=1) > max_choices).any():
        raise ValueError(f"a ballot has more than {max_choices} choices")
    # padding only at the end of a row, and no candidate twice on a row
    if (valid[:, 1:] & ~valid[:, :-1]).any():
        raise ValueError("a ballot has a gap (-1 before a choice); pad at the end")
    ordered = np.sort(np.where(valid, m, -1 - np.arange(m.shape[1])), axis=1)
    if m.shape[1] > 1 and (np.diff(ordered, axis=1) == 0).any():
        raise ValueError("a ballot names a candidate twice")
    return m


def _groups(keys: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """keys: (n, k), compared lexicographically, higher first -> groups of equal rows, best first."""
    n = keys.shape[0]
    if n == 0:
        return ()
    # np.lexsort's last key is the primary one: keys[:, 0] descending, then keys[:, 1], ...; the
    # candidate index (first, least significant) orders candidates inside a group of equals.
    order = np.lexsort((np.arange(n),) + tuple(-keys[:, j] for j in reversed(range(keys.shape[1]))))
    sorted_keys = keys[order]
    breaks = np.flatnonzero((np.diff(sorted_keys, axis=0) != 0).any(axis=1)) + 1
    return tuple(tuple(int(c) for c in part) for part in np.split(order, breaks))


def count_approval(ballots: np.ndarray, n_candidates: int, max_choices: int) -> Tally:
    m = _check(ballots, n_candidates, max_choices)
    points = np.bincount(m[m >= 0], minlength=n_candidates).astype(np.int64)
    return Tally("approval", points, m.shape[0], _groups(points[:, None]), "none: equal approvals are a tie")


def count_single(ballots: np.ndarray, n_candidates: int) -> Tally:
    m = _check(ballots, n_candidates, 1)
    points = np.bincount(m[m >= 0], minlength=n_candidates).astype(np.int64)
    return Tally("single", points, m.shape[0], _groups(points[:, None]), "none: equal votes are a tie")


def position_counts(ballots: np.ndarray, n_candidates: int, max_choices: int) -> np.ndarray:
    """(n, m): how many ballots put each candidate in each position."""
    m = _check(ballots, n_candidates, max_choices)
    width = max_choices
    rows, cols = np.nonzero(m >= 0)
    flat = m[rows, cols] * width + cols
    return np.bincount(flat, minlength=n_candidates * width).reshape(n_candidates, width).astype(np.int64)


def count_borda(
    ballots: np.ndarray,
    n_candidates: int,
    max_choices: int | None = None,
    tie_break: Literal["countback", "none"] = "countback",
) -> Tally:
    width = n_candidates if max_choices is None else max_choices
    m = _check(ballots, n_candidates, max(1, width))
    counts = position_counts(m, n_candidates, max(1, width))
    weights = width - np.arange(counts.shape[1], dtype=np.int64)  # m, m-1, ..., 1
    points = counts @ weights
    if tie_break == "countback":
        keys = np.column_stack([points, counts])
        rule = "equal points: more first choices, then more second choices, ... ; equal on all: a tie"
    else:
        keys = points[:, None]
        rule = "none: equal points are a tie"
    return Tally("ranked", points.astype(np.int64), m.shape[0], _groups(keys), rule)


def count(kind: Kind, ballots: np.ndarray, n_candidates: int, max_choices: int | None = None) -> Tally:
    """The count a vote's `kind` names (the event file's [[votes]] kind)."""
    if kind == "single":
        return count_single(ballots, n_candidates)
    if kind == "approval":
        if max_choices is None:
            raise ValueError("an approval vote needs max_choices")
        return count_approval(ballots, n_candidates, max_choices)
    if kind == "ranked":
        return count_borda(ballots, n_candidates, max_choices)
    raise ValueError(f"unknown kind of vote {kind!r}; use approval, single or ranked")
