"""Revealing hidden labels, one datum at a time, within a budget per team, dataset and phase.

Re-revealing a datum already revealed answers the same label and costs nothing. The budget is
held by the database (a trigger on `reveals`); the check and the insert run in one hop, under
the write lock, so 200 concurrent requests from several processes still spend exactly the
budget.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.config import Dataset, EventConfig
from bot.core.clock import Clock
from bot.core.datasets import DatasetRegistry
from bot.core.errors import BadInput, HackbotError, NotAllowed
from bot.core.phases import PhaseClock, open_dataset
from bot.core.store import Store, immediate
from bot.core.teams import Team, bad_login, check_credentials, digest


@dataclass(frozen=True)
class Reveal:
    dataset_id: int
    datum_id: int
    label: int
    previously_revealed: list[int]  # this team's other revealed datums, in reveal order
    budget: int
    new: bool  # False when the datum had been revealed before (free)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.previously_revealed) - 1

    def to_api(self) -> dict:
        """The Hackathon42 leaderboard server's answer, key for key."""
        return {
            "exercise_id": self.dataset_id,
            "datum_id": self.datum_id,
            "label": self.label,
            "previously revealed": self.previously_revealed,
        }


@dataclass(frozen=True)
class Budget:
    """What is left of a team's reveal budget on one dataset of the current phase."""

    dataset: Dataset
    revealed: int

    @property
    def remaining(self) -> int:
        return max(0, self.dataset.reveal_budget - self.revealed)


# Outcomes of the one-hop function, turned into errors on the event loop side.
_BAD_LOGIN, _NOT_VALIDATED, _SPENT = "bad login", "not validated", "spent"


def _reveal_hop(
    conn: sqlite3.Connection,
    team: Team | None,
    login: tuple[str, bytes] | None,
    require_validation: bool,
    phase: str,
    dataset_id: int,
    datum_id: int,
    budget: int,
    now: float,
    source: str,
) -> tuple[str, Team | None, list[int]]:
    if login is not None:
        team = check_credentials(conn, *login)
        if team is None:
            return _BAD_LOGIN, None, []
    assert team is not None
    if require_validation:
        # a fresh login already read the flag; a Team held by Discord may be stale: re-read it
        row = (team.validated,) if login is not None else conn.execute(
            "SELECT validated FROM teams WHERE id = ?", (team.id,)
        ).fetchone()
        if not (row and row[0]):
            return _NOT_VALIDATED, team, []
    query = "SELECT datum_id FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? ORDER BY id"
    key = (phase, team.id, dataset_id)
    revealed = [r[0] for r in conn.execute(query, key)]
    if datum_id in revealed:  # re-reading: no write, no lock
        return "again", team, revealed
    if len(revealed) >= budget:
        return _SPENT, team, revealed
    with immediate(conn):
        revealed = [r[0] for r in conn.execute(query, key)]  # another process may have written
        if datum_id in revealed:
            return "again", team, revealed
        if len(revealed) >= budget:
            return _SPENT, team, revealed
        conn.execute(
            "INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source) VALUES (?, ?, ?, ?, ?, ?)",
            (*key, datum_id, now, source),
        )
    return "new", team, revealed


class RevealService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock, clock: Clock):
        self.store, self.config, self.registry, self.phases, self.clock = store, config, registry, phases, clock

    async def reveal(self, team: Team, dataset_id: int, datum_id: int, *, source: str = "discord") -> Reveal:
        return await self._reveal(team, None, dataset_id, datum_id, source)

    async def reveal_with_login(
        self, username: str, password: str, dataset_id: int, datum_id: int, *, source: str = "http"
    ) -> Reveal:
        """The HTTP API's reveal: the login check, the budget check and the write in one hop."""
        return await self._reveal(None, (username, digest(password)), dataset_id, datum_id, source)

    async def revealed(self, team: Team, phase: str, dataset_id: int) -> list[int]:
        rows = await self.store.fetchall(
            "SELECT datum_id FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? ORDER BY id",
            (phase, team.id, dataset_id),
        )
        return [r[0] for r in rows]

    async def budgets(self, team: Team | None) -> list[Budget]:
        """The current phase's datasets with the team's remaining budget on each (the whole budget
        for someone without a team); empty before the first phase."""
        phase = self.phases.current(self.clock())
        if phase is None:
            return []
        counts: dict[int, int] = {}
        if team is not None:
            rows = await self.store.fetchall(
                "SELECT dataset_id, count(*) FROM reveals WHERE phase = ? AND team_id = ? GROUP BY dataset_id",
                (phase.id, team.id),
            )
            counts = dict(rows)
        return [Budget(ds, counts.get(ds.id, 0)) for ds in self.config.datasets_in_phase(phase.id)]

    async def _reveal(self, team, login, dataset_id: int, datum_id: int, source: str) -> Reveal:
        now = self.clock()
        try:
            opened = open_dataset(self.config, self.registry, self.phases, now, dataset_id)
            n = opened.hidden.n
            if not 0 <= datum_id < n:
                raise BadInput(
                    f"datum_id {datum_id} is out of range: dataset {dataset_id} has {n} rows, ids 0 to {n - 1}"
                )
        except HackbotError:
            # a stranger learns nothing about the event: a bad login is refused as such first
            if login is not None and await self.store.run(check_credentials, *login) is None:
                raise bad_login() from None
            raise
        budget = opened.dataset.reveal_budget
        outcome, team, revealed = await self.store.run(
            _reveal_hop, team, login, self.config.teams.require_validation, opened.phase.id,
            dataset_id, datum_id, budget, now.timestamp(), source,
        )
        if outcome == _BAD_LOGIN:
            raise bad_login()
        if outcome == _NOT_VALIDATED:
            raise NotAllowed("your team is not validated yet; an organizer must validate it before you can reveal labels")
        if outcome == _SPENT:
            raise NotAllowed(
                f"{len(revealed)} of {budget} labels already revealed for dataset {dataset_id}: "
                f"{', '.join(map(str, revealed))}; re-revealing one of those is free"
            )
        previous = [d for d in revealed if d != datum_id]
        return Reveal(dataset_id, datum_id, int(opened.hidden.y[datum_id]), previous, budget, outcome == "new")
