"""The leaderboard of a phase: points-weighted totals with defaults, ranks, visibility.

Total = sum over the phase's datasets of points x (accuracy if submitted else default_score).
Ties rank the team whose last submission came first higher. While the event's visibility is
"hidden", participants see who submitted where, but no score and no rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import numpy as np

import scoring
from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import Clock
from bot.core.errors import NotFound
from bot.core.phases import PhaseClock
from bot.core.store import Store, Tx
from bot.core.visibility import scores_visible
from scoring.ranking import DECIMALS

T = TypeVar("T")


def _shown(value: T | None) -> T:
    """A rank or score of standings shown with their scores (a visible board, or the organizers')."""
    if value is None:
        raise RuntimeError("standings shown with their scores lack a rank or a score")
    return value


@dataclass(frozen=True)
class Cell:
    submitted: bool
    score: float | None  # the counted score (accuracy or default); None while hidden


@dataclass(frozen=True)
class Row:
    team: str
    rank: int | None
    total: float | None
    cells: list[Cell]
    last_submitted: float | None


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
        for position, row in enumerate(sorted(self.rows, key=lambda r: -score(r)), start=1):
            if score(row) != previous:
                previous, rank = score(row), position
            cell = row.cells[index]
            rows.append(DatasetRow(row.team, rank, cell.submitted, cell.score))
        return dataset, rows

    def to_api(self) -> dict:
        return {
            "phase": self.phase.id if self.phase else None,
            "visibility": "live" if self.visible else "hidden",
            "datasets": [
                {"id": ds.id, "name": ds.name, "points": ds.points, "default_score": ds.default_score}
                for ds in self.datasets
            ],
            "teams": [
                {
                    "rank": row.rank,
                    "team": row.team,
                    "total": row.total,
                    "scores": {
                        str(ds.id): {"submitted": cell.submitted, "score": cell.score}
                        for ds, cell in zip(self.datasets, row.cells, strict=True)
                    },
                }
                for row in self.rows
            ],
        }


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
        """The phase's leaderboard; `organizer` sees scores even while the board is hidden."""
        phase, teams, subs = await self.store.run(self._read, phase_id, self.clock())
        visible = scores_visible(self.config, organizer=organizer)
        datasets = self.config.datasets_in_phase(phase.id) if phase else []
        t_index = {team_id: i for i, (team_id, _) in enumerate(teams)}
        d_index = {ds.id: j for j, ds in enumerate(datasets)}
        acc = np.full((len(teams), len(datasets)), np.nan)
        last = np.full(len(teams), np.inf)
        for team_id, dataset_id, accuracy, at in subs:
            i, j = t_index.get(team_id), d_index.get(dataset_id)
            if i is None or j is None:
                continue
            acc[i, j] = accuracy
            last[i] = at if np.isinf(last[i]) else max(last[i], at)
        ranking = scoring.leaderboard(
            acc,
            np.array([ds.points for ds in datasets], dtype=float),
            np.array([ds.default_score for ds in datasets], dtype=float),
            last,
        )
        submitted = ~np.isnan(acc)
        rows = []
        order = ranking.order if visible else range(len(teams))  # hidden: alphabetical
        flags, scores = submitted.tolist(), ranking.scores.tolist()  # Python values: 30x faster per cell
        for i in order:
            cells = [
                Cell(flags[i][j], scores[i][j] if visible else None)
                for j in range(len(datasets))
            ]
            rows.append(Row(
                team=teams[i][1],
                rank=int(ranking.ranks[i]) if visible else None,
                total=float(ranking.totals[i]) if visible else None,
                cells=cells,
                last_submitted=None if np.isinf(last[i]) else float(last[i]),
            ))
        return Standings(phase, datasets, rows, visible)

    async def _read(self, tx: Tx, phase_id: str | None, now: datetime) -> tuple[Phase | None, list[tuple], list[tuple]]:
        """The phase, its teams and its submissions, in one hop."""
        phase = self._phase(await self.phases.current_in(tx, now) if phase_id is None else None, phase_id)
        only_validated = " WHERE validated = 1" if self.config.teams.require_validation else ""
        teams = await tx.fetchall(f"SELECT id, name FROM teams{only_validated} ORDER BY name_key")
        subs = await tx.fetchall(
            "SELECT team_id, dataset_id, accuracy, submitted_at FROM submissions WHERE phase = ?",
            (phase.id if phase else "",),
        )
        return phase, teams, subs

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
