"""The leaderboard of a phase: points-weighted totals with defaults, ranks, visibility.

Total = sum over the phase's datasets of points x (accuracy if submitted else default_score).
Ties rank the team whose last submission came first higher. While the event's visibility is
"hidden", participants see who submitted where, but no score and no rank.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple, TypeVar

import numpy as np

import scoring
from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import Clock
from bot.core.competition import Board, BoardRows, board_rows, columns_of, label_versions, which_board
from bot.core.errors import NotFound
from bot.core.phases import PhaseClock
from bot.core.store import Store, Tx
from scoring.ranking import DECIMALS

T = TypeVar("T")


def _shown(value: T | None) -> T:
    """A rank or score of standings shown with their scores (a visible board, or the organizers')."""
    if value is None:
        raise RuntimeError("standings shown with their scores lack a rank or a score")
    return value


class Cell(NamedTuple):
    """A NamedTuple, not a frozen dataclass: a 5,000-team board makes 70,000 of them, and a frozen
    dataclass's __init__ costs ten times as much (half a second of the board's build)."""

    submitted: bool
    score: float | None  # the counted score (accuracy or default); None while hidden


@dataclass(frozen=True)
class Row:
    team: str
    rank: int | None
    total: float | None
    cells: list[Cell]
    last_submitted: float | None
    kind: str = "team"  # "team", "baseline" (shown greyed, never ranked) or "disqualified" (greyed, unranked)
    note: str | None = None  # a disqualified team's reason (organizers' views only)
    # per dataset: the worst-group accuracy of the counted submission (its public rows); None while
    # hidden, for a team with none, or (as a whole) when no submission of the board has one
    worst: list[float | None] | None = None


@dataclass(frozen=True)
class DatasetRow:
    team: str
    rank: int | None  # None while hidden
    submitted: bool
    score: float | None  # accuracy if submitted, else the dataset's default; None while hidden


@dataclass(frozen=True)
class Winner:
    rank: int
    team: str
    total: float
    discord_role_id: int | None  # the team's role, to mention it in the announcement


@dataclass(frozen=True)
class Podium:
    standings: Standings  # the organizers' view: scores shown even while the board is hidden
    winners: list[Winner]  # every team ranked `top` or better (a tie can make it longer)


@dataclass(frozen=True)
class Standings:
    phase: Phase | None
    datasets: list[Dataset]
    rows: list[Row]
    visible: bool
    board: Board | None = None  # issue 16: public/private/live, frozen, label versions

    @property
    def max_total(self) -> float:
        return float(sum(ds.points for ds in self.datasets))

    def dataset(self, dataset_id: int) -> tuple[Dataset, list[DatasetRow]]:
        """One dataset's ranking in this phase: the counted score (accuracy, or the default when
        the team did not submit), best first, equal scores sharing a rank ("1, 2, 2, 4") and
        keeping the overall order. While hidden: who submitted, alphabetical, no score, no rank."""
        index = next((j for j, ds in enumerate(self.datasets) if ds.id == dataset_id), None)
        if index is None:
            phase = self.phase.id if self.phase else "none"
            known = ", ".join(str(ds.id) for ds in self.datasets) or "none"
            raise NotFound(f"dataset {dataset_id} is not part of phase {phase!r}; its datasets are: {known}")
        dataset = self.datasets[index]
        if not self.visible:
            return dataset, [DatasetRow(row.team, None, row.cells[index].submitted, None) for row in self.rows]
        def score(row: Row) -> float:  # rounded as the totals are, so float noise splits no tie
            return round(_shown(row.cells[index].score), DECIMALS)

        rows: list[DatasetRow] = []
        previous, rank = None, 0
        position = 0
        for row in sorted(self.rows, key=lambda r: -score(r)):
            cell = row.cells[index]
            if row.kind != "team":  # baselines and disqualified teams: shown, never ranked
                rows.append(DatasetRow(row.team, None, cell.submitted, cell.score))
                continue
            position += 1
            if score(row) != previous:
                previous, rank = score(row), position
            rows.append(DatasetRow(row.team, rank, cell.submitted, cell.score))
        return dataset, rows

    def to_api(self) -> dict:
        return {
            "phase": self.phase.id if self.phase else None,
            "visibility": "live" if self.visible else "hidden",
            "board": self.board.kind if self.board else "public",
            "frozen": bool(self.board and self.board.frozen),
            "label_versions": {str(k): v for k, v in (self.board.label_versions if self.board else {}).items()},
            "datasets": [
                {"id": ds.id, "name": ds.name, "points": ds.points, "default_score": ds.default_score}
                for ds in self.datasets
            ],
            "teams": [
                {
                    "rank": row.rank,
                    "team": row.team,
                    "total": row.total,
                    "kind": row.kind,
                    "scores": {
                        str(ds.id): {"submitted": cell.submitted, "score": cell.score}
                        for ds, cell in zip(self.datasets, row.cells, strict=True)
                    },
                }
                for row in self.rows
            ],
        }


@dataclass(frozen=True)
class Read:
    """What one hop reads for the standings: the phase, its teams (id, name, disqualified), the
    rows of its submissions and baselines, and which board is shown."""

    phase: Phase | None
    teams: list[tuple]
    rows: BoardRows
    board: Board


class LeaderboardService:
    def __init__(self, store: Store, config: EventConfig, phases: PhaseClock, clock: Clock):
        self.store, self.config, self.phases, self.clock = store, config, phases, clock

    def _phase(self, current: Phase | None, phase_id: str | None) -> Phase | None:
        """The asked phase; by default the current one (`current`, as PhaseClock read it), else the first."""
        if phase_id is None:
            return current or (self.config.phases[0] if self.config.phases else None)
        phase = self.config.phase(phase_id)
        if phase is None:
            known = ", ".join(p.id for p in self.config.phases) or "none"
            raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
        return phase

    async def standings(self, phase_id: str | None = None, *, organizer: bool = False) -> Standings:
        """The phase's leaderboard; `organizer` sees scores even while the board is hidden, and the
        live board during a freeze. After submissions close, the private board (bot/core/competition).
        One hop reads the rows; the totals, ranks and rows are computed in a worker thread, never on
        the event loop (about a second at 5,000 teams x 14 datasets)."""
        now = self.clock()
        phase, teams, board = await self.store.run(self._read, phase_id, now, organizer)
        rows = await board_rows(self.store, phase.id) if phase is not None else BoardRows([], [])
        return await asyncio.to_thread(self.assemble, Read(phase, teams, rows, board), organizer)

    def assemble(self, read: Read, organizer: bool) -> Standings:
        """The standings from what `_read` read: pure computation, run off the event loop."""
        phase, teams, board = read.phase, read.teams, read.board
        visible = board.visible
        datasets = self.config.datasets_in_phase(phase.id) if phase else []
        columns = columns_of(read.rows, datasets, [t[0] for t in teams], board)
        acc, last = columns.score, columns.last
        points = np.array([ds.points for ds in datasets], dtype=float)
        defaults = np.array([ds.default_score for ds in datasets], dtype=float)
        ranked = [i for i, team in enumerate(teams) if team[2] is None]  # disqualified teams are not ranked
        ranking = scoring.leaderboard(acc[ranked], points, defaults, last[ranked])
        everyone = scoring.leaderboard(acc, points, defaults, last)  # every total, ranked or not
        rank_of = {ranked[k]: int(ranking.ranks[k]) for k in range(len(ranked))}
        submitted = ~np.isnan(acc)
        n = len(datasets)
        # plain Python lists: indexing numpy scalars 70,000 times costs more than the ranking
        scores_of, sent_of = everyone.scores.tolist(), submitted.tolist()
        totals, lasts = everyone.totals.tolist(), last.tolist()
        worst_of = None
        if visible and not np.isnan(columns.worst).all():
            shown_worst = columns.worst.astype(object)
            shown_worst[np.isnan(columns.worst)] = None
            worst_of = shown_worst.tolist()

        hidden = [None] * n

        def cells(scores: list[float], sent: list[bool]) -> list[Cell]:
            return list(map(Cell, sent, scores if visible else hidden))  # a third faster than a comprehension

        rows = []
        for i in (everyone.order.tolist() if visible else range(len(teams))):  # hidden: alphabetical
            disqualified = teams[i][2]
            rows.append(Row(
                team=teams[i][1],
                rank=rank_of.get(i) if visible else None,
                total=totals[i] if visible else None,
                cells=cells(scores_of[i], sent_of[i]),
                last_submitted=None if lasts[i] != lasts[i] else lasts[i],  # NaN: never submitted
                kind="team" if disqualified is None else "disqualified",
                note=disqualified if organizer else None,
                worst=worst_of[i] if worst_of is not None else None,
            ))
        if columns.baselines:
            base = np.array([scores for _, scores in columns.baselines])
            base_board = scoring.leaderboard(base, points, defaults, np.full(len(base), np.nan))
            for k, (name, _) in enumerate(columns.baselines):
                rows.append(Row(name, None, float(base_board.totals[k]) if visible else None,
                                cells(base_board.scores[k].tolist(), (~np.isnan(base[k])).tolist()), None,
                                kind="baseline"))
            if visible:  # in place by total, greyed by the doors
                rows.sort(key=lambda r: -_shown(r.total))
        return Standings(phase, datasets, rows, visible, board)

    async def _read(self, tx: Tx, phase_id: str | None, now: datetime,
                    organizer: bool) -> tuple[Phase | None, list[tuple], Board]:
        """The phase, its teams and which board is shown, in one hop (the scores' rows follow in chunks)."""
        phase = self._phase(await self.phases.current_in(tx, now) if phase_id is None else None, phase_id)
        only_validated = " WHERE validated = 1" if self.config.teams.require_validation else ""
        teams = await tx.fetchall(f"SELECT id, name, disqualified FROM teams{only_validated} ORDER BY name_key")
        datasets = self.config.datasets_in_phase(phase.id) if phase else []
        board = which_board(self.config, phase, datasets, now, organizer=organizer)
        if phase is None:
            return phase, teams, board
        return phase, teams, replace(board, label_versions=await label_versions(tx, phase.id))

    async def podium(self, top: int, phase_id: str | None = None) -> Podium:
        """The teams ranked `top` or better in the phase, with their Discord roles."""
        standings = await self.standings(phase_id, organizer=True)
        rows = [row for row in standings.rows if row.rank is not None and row.rank <= top]
        roles: dict[str, int | None] = {}
        if rows:
            marks = ", ".join("?" * len(rows))
            found = await self.store.fetchall(
                f"SELECT name, discord_role_id FROM teams WHERE name IN ({marks})", tuple(r.team for r in rows)
            )
            roles = dict(found)
        winners = [Winner(_shown(row.rank), row.team, _shown(row.total), roles.get(row.team)) for row in rows]
        return Podium(standings, winners)
