"""The leaderboard of a phase: points-weighted totals with defaults, ranks, visibility.

Total = sum over the phase's datasets of points x (accuracy if submitted else default_score).
Ties rank the team whose last submission came first higher. While the event's visibility is
"hidden", participants see who submitted where, but no score and no rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import scoring
from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import Clock
from bot.core.errors import NotFound
from bot.core.phases import PhaseClock
from bot.core.store import Store


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
class Standings:
    phase: Phase | None
    datasets: list[Dataset]
    rows: list[Row]
    visible: bool

    @property
    def max_total(self) -> float:
        return float(sum(ds.points for ds in self.datasets))

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
                        for ds, cell in zip(self.datasets, row.cells)
                    },
                }
                for row in self.rows
            ],
        }


class LeaderboardService:
    def __init__(self, store: Store, config: EventConfig, phases: PhaseClock, clock: Clock):
        self.store, self.config, self.phases, self.clock = store, config, phases, clock

    def phase(self, phase_id: str | None = None) -> Phase | None:
        if phase_id is None:
            return self.phases.current(self.clock()) or (self.config.phases[0] if self.config.phases else None)
        phase = self.config.phase(phase_id)
        if phase is None:
            known = ", ".join(p.id for p in self.config.phases) or "none"
            raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
        return phase

    async def standings(self, phase_id: str | None = None, *, organizer: bool = False) -> Standings:
        """The phase's leaderboard; `organizer` sees scores even while the board is hidden."""
        phase = self.phase(phase_id)
        visible = organizer or self.config.leaderboard.visibility == "live"
        datasets = self.config.datasets_in_phase(phase.id) if phase else []
        only_validated = " WHERE validated = 1" if self.config.teams.require_validation else ""
        teams = await self.store.fetchall(f"SELECT id, name FROM teams{only_validated} ORDER BY name_key")
        subs = await self.store.fetchall(
            "SELECT team_id, dataset_id, accuracy, submitted_at FROM submissions WHERE phase = ?",
            (phase.id if phase else "",),
        )
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
        for i in order:
            cells = [
                Cell(bool(submitted[i, j]), float(ranking.scores[i, j]) if visible else None)
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
