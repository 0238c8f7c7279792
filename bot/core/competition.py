"""The competition controls on the board: which submission counts, which score the board shows
(public during the event, private on the final board), the freeze, per-dataset visibility,
baselines and disqualified teams. The leaderboard (bot/core/leaderboard.py) reads its columns
from `board_rows` and `columns_of`; the doors never choose a score themselves.

- The counted submission per team and dataset follows the dataset's `counts`
  (bot/core/submission_rules.counted: best public score, last, or the team's /final-pick).
  Its worst-group accuracy is what the board shows beside its score (never the latest file's).
- During the event the board shows the public score of the counted submission (the full
  accuracy for a dataset without a private part: Hackathon42's board, unchanged). Once
  submissions close, the final board shows the private score of the same submission, and says
  so (`Board.kind == "private"`).
- After a dataset's freeze, participants see the board as it stood at the freeze (submissions
  sent later do not move it); organizers see it live.
- Baselines are scored like teams and shown, never ranked; a disqualified team is shown greyed
  with its reason, out of the ranks and the prizes, until it is requalified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.config import Dataset, EventConfig, Phase
from bot.core.store import Store, Tx
from bot.core.submission_rules import counted_board
from bot.core.visibility import board_visibility, final, frozen, scores_visible


@dataclass(frozen=True)
class Board:
    """Which board the standings are: "public" (during the event), "private" (the final board,
    after submissions close) or "live" (the organizers' view during a freeze)."""

    kind: str
    visible: bool  # scores may be shown to whoever asked
    frozen: bool  # participants see the board as it stood at the freeze
    label_versions: dict[int, int] = field(default_factory=dict)  # dataset id -> version in force

    @property
    def note(self) -> str | None:
        """A sentence the doors print under the board."""
        if self.kind == "private":
            return "final board: ranked by the private scores (rows never shown during the event)"
        if self.frozen:
            return "the board is frozen: submissions after the freeze do not move it"
        if self.kind == "live":
            return "organizers' live board (participants see it as it stood at the freeze)"
        return None


def which_board(config: EventConfig, phase: Phase | None, datasets: list[Dataset], now: datetime, *,
                organizer: bool) -> Board:
    is_final = final(config, now)
    any_frozen = any(frozen(ds, now) for ds in datasets)
    visible = scores_visible(config, organizer=organizer)
    if not organizer and phase is not None:
        visible = visible and all(board_visibility(config, ds, phase.id) == "live" for ds in datasets)
    if is_final:
        kind = "private" if any(ds.private_fraction > 0 for ds in datasets) else "public"
        return Board(kind, visible, False)
    if organizer and any_frozen:
        return Board("live", visible, False)
    return Board("public", visible, any_frozen)


@dataclass(frozen=True)
class Columns:
    """The board's per-team, per-dataset scores (NaN: not submitted) and last counted times."""

    score: np.ndarray  # (T, D)
    last: np.ndarray  # (T,)
    worst: np.ndarray  # (T, D): the worst-group accuracy of the same counted submission (NaN: none)
    baselines: list[tuple[str, np.ndarray]]  # (name, (D,) scores)


@dataclass(frozen=True)
class BoardRows:
    """What the board's columns are computed from, read in the database hop: the phase's
    submissions and baselines, as rows (the computation then runs off the event loop)."""

    submissions: list[tuple]  # (id, team_id, dataset_id, submitted_at, accuracy, public, private, picked, worst)
    baselines: list[tuple]  # (name, dataset_id, accuracy, public, private)


CHUNK = 4_000  # submission rows per database hop: other requests' hops run between two chunks


async def submission_rows(tx: Tx, phase_id: str, after: int) -> list[tuple]:
    """One chunk of the phase's submissions, by id, after the id `after`."""
    return await tx.fetchall(
        "SELECT s.id, s.team_id, s.dataset_id, s.submitted_at, s.accuracy, s.public, s.private,"
        " CASE WHEN f.submission_id IS NULL THEN 0 ELSE 1 END,"
        # the public rows' worst group (all rows without a private part), never the private rows'
        " coalesce(s.worst_public, s.worst_group) FROM submissions s"
        " LEFT JOIN final_picks f ON f.submission_id = s.id WHERE s.phase = ? AND s.id > ? ORDER BY s.id"
        f" LIMIT {CHUNK}",
        (phase_id, after),
    )


async def board_rows(store: Store, phase_id: str) -> BoardRows:
    """The phase's submissions and baselines, read in chunks of CHUNK rows, one hop each: at
    5,000 teams one read held SQLite's one database thread for 100 ms, and every reveal waited.
    Chunks are not one snapshot: a change between two of them moves the change counter (read
    before them), so the board built from them is rebuilt at the next request."""
    subs: list[tuple] = []
    while True:
        chunk = await store.run(submission_rows, phase_id, subs[-1][0] if subs else 0)
        subs += chunk
        if len(chunk) < CHUNK:
            break
    baselines = await store.fetchall(
        "SELECT name, dataset_id, accuracy, public, private FROM baselines WHERE phase = ? ORDER BY name", (phase_id,)
    )
    return BoardRows(subs, baselines)


def columns_of(read: BoardRows, datasets: list[Dataset], team_ids: list[int], board: Board) -> Columns:
    """The counted score of every team on every dataset, as `board` shows it, from the rows
    `board_rows` read: pure computation (the board's builder runs it in a worker thread)."""
    score = np.full((len(team_ids), len(datasets)), np.nan)
    worst = np.full((len(team_ids), len(datasets)), np.nan)
    last = np.full(len(team_ids), np.nan)
    # the rows as columns, once (None: NaN), not lists per dataset: 38,000 rows at 5,000 teams x 14 datasets
    subs = read.submissions
    column = list(zip(*subs, strict=True)) if subs else [()] * 9
    sub_team = np.array(column[1], dtype=np.int64)
    sub_dataset = np.array(column[2], dtype=np.int64)
    at_all = np.array(column[3], dtype=np.float64)
    full_all = np.array(column[4], dtype=np.float64)
    public_all = np.array(column[5], dtype=np.float64)
    private_all = np.array(column[6], dtype=np.float64)
    picked_all = np.array(column[7], dtype=bool)
    worst_all = np.array(column[8], dtype=np.float64)
    # each row's team as its row on the board; rows of teams not on it (not validated) are left out
    ids = np.array(team_ids, dtype=np.int64)
    by_id = np.argsort(ids)
    found = np.searchsorted(ids[by_id], sub_team)
    on_board = found < len(ids)
    on_board[on_board] = ids[by_id][found[on_board]] == sub_team[on_board]
    team_all = np.zeros(len(sub_team), dtype=np.intp)
    team_all[on_board] = by_id[found[on_board]]
    for j, ds in enumerate(datasets):
        keep = on_board & (sub_dataset == ds.id)
        if board.frozen and ds.freeze is not None:
            keep &= at_all < ds.freeze.timestamp()
        if not keep.any():
            continue
        team, at, full = team_all[keep], at_all[keep], full_all[keep]
        public = public_all[keep]
        public = np.where(np.isnan(public), full, public) if ds.private_fraction == 0 else public
        private = private_all[keep]
        picked = picked_all[keep]
        # the final board shows the private score; a submission without public rows (a tiny
        # dataset) shows its full accuracy on the public one
        private_board = board.kind == "private" and ds.private_fraction > 0
        shown = private if private_board else np.where(np.isnan(public), full, public)
        # the worst group of the submission that counts (the final pick, the best public...), not the latest
        both, when = counted_board(team, len(team_ids), at, public, np.column_stack((shown, worst_all[keep])),
                                   picked, ds.counts)
        score[:, j], worst[:, j] = both[:, 0], both[:, 1]
        last = np.fmax(last, when)
    baselines: dict[str, np.ndarray] = {}
    for name, dataset_id, full_score, public_score, private_score in read.baselines:
        at_column = next((k for k, ds in enumerate(datasets) if ds.id == dataset_id), None)
        if at_column is None:
            continue
        ds = datasets[at_column]
        if board.kind == "private" and ds.private_fraction > 0:
            value = private_score
        else:
            value = public_score if (public_score is not None and ds.private_fraction > 0) else full_score
        baselines.setdefault(name, np.full(len(datasets), np.nan))[at_column] = value
    return Columns(score, last, worst, sorted(baselines.items()))


async def label_versions(tx: Tx, phase_id: str) -> dict[int, int]:
    rows = await tx.fetchall(
        "SELECT dataset_id, max(version) FROM label_versions WHERE phase = ? AND confirmed_at IS NOT NULL"
        " GROUP BY dataset_id", (phase_id,),
    )
    return {int(d): int(v) for d, v in rows}
