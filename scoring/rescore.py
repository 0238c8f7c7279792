"""Re-scoring after a label fix: every stored file against the old and the new labels, who
moves on the board and by how much, and which reveals answered a label since corrected.

``rescore`` parses each stored file once (``parse_many``: the live parser's decisions), stacks
them into a matrix and scores the matrix with a ``Scorer`` per label version: the code that
scored each file live.  The private mask is an input and the same for both versions: the
split is fixed when the event starts and a label fix never moves a row between boards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.metrics import Scorer, Scores
from scoring.parse import LabelFileError
from scoring.parse_batch import parse_many
from scoring.ranking import Ranking, leaderboard

__all__ = ["CorrectedReveals", "Move", "RankChanges", "Rescored", "corrected_reveals", "rank_changes", "rescore"]


@dataclass(frozen=True)
class Rescored:
    """Scores of S stored files of one dataset; NaN for a file that no longer parses."""

    old: Scores
    new: Scores
    ok: np.ndarray  # (S,) the file parsed
    errors: dict[int, LabelFileError]  # why file i no longer parses
    changed_rows: np.ndarray  # datum ids whose label changed

    def changed(self) -> np.ndarray:
        """Indices of the files whose public, private, full or worst-group score changed."""
        moved = np.zeros(len(self.ok), dtype=bool)
        for name in ("public", "private", "full", "worst_public", "worst_private", "worst_full"):
            a, b = getattr(self.old, name), getattr(self.new, name)
            if a is not None and b is not None:
                moved |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
        return np.flatnonzero(moved)


def rescore(files: Sequence[bytes], allowed, old_labels, new_labels, groups=None, private_mask=None) -> Rescored:
    """Re-parse and re-score every stored file of one dataset against both label versions.

    ``allowed``: the label set the files are parsed against; pass the union of the old and
    the new sets, so that a file accepted live is not refused because a label disappeared.
    """
    old_labels = np.asarray(old_labels).reshape(-1)
    new_labels = np.asarray(new_labels).reshape(-1)
    if old_labels.shape != new_labels.shape:
        raise ValueError(f"the new labels have {new_labels.size} rows, the old ones {old_labels.size}; "
                         "a label fix changes labels, not the number of rows")
    n = len(old_labels)
    parsed = parse_many(files, n, allowed)
    scores = []
    for labels in (old_labels, new_labels):
        scored = Scorer(labels, groups, private_mask).score_many(parsed.values)
        scores.append(_blank(scored, ~parsed.ok))
    return Rescored(scores[0], scores[1], parsed.ok, parsed.errors, np.flatnonzero(old_labels != new_labels))


def _blank(scores: Scores, refused: np.ndarray) -> Scores:
    """NaN for the refused files (their matrix rows are zeros, not predictions)."""
    if not refused.any():
        return scores

    def nan(a: np.ndarray) -> np.ndarray:
        return np.where(refused, np.nan, a)

    def opt(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else nan(a)
    return Scores(nan(scores.public), nan(scores.private), nan(scores.full),
                  opt(scores.worst_public), opt(scores.worst_private), opt(scores.worst_full))


@dataclass(frozen=True)
class Move:
    team: int  # the team's index in the matrices given
    old_rank: int
    new_rank: int
    old_total: float
    new_total: float


@dataclass(frozen=True)
class RankChanges:
    old: Ranking
    new: Ranking

    def moves(self) -> list[Move]:
        """Teams whose rank or total changed: the largest rank change first, then by new rank."""
        changed = np.flatnonzero((self.old.ranks != self.new.ranks) | (self.old.totals != self.new.totals))
        shift = np.abs(self.old.ranks[changed] - self.new.ranks[changed])
        changed = changed[np.lexsort((self.new.ranks[changed], -shift))]
        return [Move(int(t), int(self.old.ranks[t]), int(self.new.ranks[t]), float(self.old.totals[t]),
                     float(self.new.totals[t])) for t in changed]


def rank_changes(old_accuracy, new_accuracy, points, default_score, last_submitted,
                 new_last_submitted=None) -> RankChanges:
    """Both boards (``scoring.leaderboard``) from the counted accuracies (teams x datasets, NaN
    where a team has not submitted) before and after the fix.  ``new_last_submitted``: when
    the fix changes which submission counts (best public score), its time can change too."""
    old = leaderboard(old_accuracy, points, default_score, last_submitted)
    new = leaderboard(new_accuracy, points, default_score,
                      last_submitted if new_last_submitted is None else new_last_submitted)
    return RankChanges(old, new)


@dataclass(frozen=True)
class CorrectedReveals:
    """Reveals whose datum's label was corrected: the label answered and the corrected one."""

    team: np.ndarray
    datum: np.ndarray
    answered: np.ndarray
    corrected: np.ndarray

    @property
    def teams(self) -> np.ndarray:
        return np.unique(self.team)


def corrected_reveals(team, datum, old_labels, new_labels) -> CorrectedReveals:
    """Of the reveals (``team[i]`` revealed ``datum[i]``), those of a datum whose label changed."""
    team, datum = np.asarray(team).reshape(-1), np.asarray(datum, dtype=np.int64).reshape(-1)
    old_labels, new_labels = np.asarray(old_labels), np.asarray(new_labels)
    if team.shape != datum.shape:
        raise ValueError(f"one team per reveal: {team.shape} teams for {datum.shape} datums")
    if datum.size and (datum.min() < 0 or datum.max() >= len(old_labels)):
        raise ValueError(f"a revealed datum is outside 0..{len(old_labels) - 1}")
    hit = old_labels[datum] != new_labels[datum]
    return CorrectedReveals(team[hit], datum[hit], old_labels[datum[hit]], new_labels[datum[hit]])
