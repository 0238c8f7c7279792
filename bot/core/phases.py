"""Which phase is current and which datasets it offers: the rule reveals and submissions share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import fmt_utc
from bot.core.datasets import DatasetRegistry, HiddenLabels
from bot.core.errors import NotAllowed, NotFound
from bot.core.outbox import enqueue
from bot.core.store import Store, Tx

PHASE_OPEN = "phase.open"  # the outbox kind of a phase's announcement (bot/outbox_executors.py)
PHASE_LANE = "phases"


@dataclass(frozen=True)
class OpenDataset:
    phase: Phase
    dataset: Dataset
    hidden: HiddenLabels


@dataclass(frozen=True)
class PhaseChange:
    """What /admin phase set and `hackbot phase set` did."""

    before: Phase | None
    current: Phase | None
    override: Phase | None  # the phase set by hand; None: the schedule decides

    @property
    def changed(self) -> bool:
        return self.current is not None and (self.before is None or self.before.id != self.current.id)


@dataclass(frozen=True)
class PhaseStatus:
    """What /admin phase show and `hackbot phase show` print."""

    current: Phase | None
    override: Phase | None  # the phase set by hand; None: the schedule decides
    phases: list[Phase]


class PhaseClock:
    """The current phase: the last one whose start has passed, unless the organizers set one by
    hand (/admin phase set, `hackbot phase set`). The override lives in the database only and is
    read on every use, inside the hop that needs it: a phase set in one process holds for the
    very next request in every other process on the same database."""

    KEY = "phase_override"
    # the override as a scalar subquery, for a hop that reads it along with its own row
    OVERRIDE = f"(SELECT value FROM event_state WHERE key = '{KEY}')"

    def __init__(self, store: Store, config: EventConfig):
        self.store, self.config = store, config

    async def override_in(self, tx: Tx) -> Phase | None:
        """The phase set by hand, read in the caller's hop (an id no longer in the event file: none)."""
        return self.override_of(await tx.fetchval(f"SELECT {self.OVERRIDE}"))

    def override_of(self, value: str | None) -> Phase | None:
        """The phase of a value read with OVERRIDE."""
        return None if value is None else self.config.phase(value)

    def resolve(self, value: str | None, now: datetime) -> Phase | None:
        """The current phase, from a value read with OVERRIDE."""
        return self.override_of(value) or self.config.phase_at(now)

    async def current_in(self, tx: Tx, now: datetime) -> Phase | None:
        """The current phase, read in the caller's hop."""
        return await self.override_in(tx) or self.config.phase_at(now)

    async def current(self, now: datetime) -> Phase | None:
        return await self.store.run(self.current_in, now)

    async def status(self, now: datetime) -> PhaseStatus:
        override = await self.store.run(self.override_in)
        return PhaseStatus(override or self.config.phase_at(now), override, list(self.config.phases))

    async def set(self, phase_id: str | None, now: datetime, *, announce: bool = False) -> PhaseChange:
        """Force a phase (None: back to the schedule). `announce`: a phase that changed is
        announced in Discord (an outbox row written with the change, kind phase.open)."""
        if phase_id is not None and self.config.phase(phase_id) is None:
            known = ", ".join(p.id for p in self.config.phases) or "none"
            raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
        return await self.store.run(self._set, phase_id, now, announce)

    async def _set(self, tx: Tx, phase_id: str | None, now: datetime, announce: bool = False) -> PhaseChange:
        override = None if phase_id is None else self.config.phase(phase_id)
        async with tx.transaction():
            await tx.lock(self.KEY)  # two sets at once: the second sees the first's phase, one announcement
            before = await self.current_in(tx, now)
            if phase_id is None:
                await tx.execute("DELETE FROM event_state WHERE key = ?", (self.KEY,))
            else:
                # not an upsert: on SQLite the board_version trigger's INSERT OR IGNORE would take
                # the outer ON CONFLICT policy and fail a second set (migration 0014); the lock
                # above makes update-else-insert safe
                params = (phase_id, now.timestamp(), self.KEY)
                if not await tx.execute("UPDATE event_state SET value = ?, updated_at = ? WHERE key = ?", params):
                    await tx.execute("INSERT INTO event_state(value, updated_at, key) VALUES (?, ?, ?)", params)
            change = PhaseChange(before, override or self.config.phase_at(now), override)
            if announce and change.changed:
                assert change.current is not None
                await enqueue(tx, PHASE_OPEN, f"{PHASE_OPEN}:{change.current.id}:{now.timestamp()!r}",
                              {"phase": change.current.id}, lane=PHASE_LANE)
        return change


def current_phase(config: EventConfig, phase: Phase | None, now: datetime) -> Phase:
    """The current phase (`phase`, as PhaseClock read it), or why there is none."""
    if phase is None:
        if not config.phases:
            raise NotAllowed("this event has no competition phases")
        raise NotAllowed(f"the competition has not started; it opens at {fmt_utc(config.phases[0].starts)}")
    return phase


def open_dataset(
    config: EventConfig, registry: DatasetRegistry, current: Phase | None, now: datetime, dataset_id: int
) -> OpenDataset:
    """The dataset as the current phase (`current`, as PhaseClock read it) offers it, or the
    reason it cannot be used now."""
    dataset = config.dataset(dataset_id)
    if dataset is None:
        known = ", ".join(str(ds.id) for ds in config.datasets) or "none"
        raise NotFound(f"there is no dataset {dataset_id}; the datasets are: {known}")
    phase = current_phase(config, current, now)
    closes = config.submissions.closes
    if closes is not None and now >= closes:
        raise NotAllowed(f"the competition closed at {fmt_utc(closes)}")
    if not config.dataset_in_phase(dataset, phase.id):
        later = [p for p in config.phases if config.dataset_in_phase(dataset, p.id) and p.starts > now]
        when = f"; it opens with phase {later[0].id!r} at {fmt_utc(later[0].starts)}" if later else ""
        raise NotAllowed(f"dataset {dataset_id} is not part of the current phase {phase.id!r}{when}")
    hidden = registry.get(phase.id, dataset_id)
    if hidden is None:
        raise NotAllowed(f"dataset {dataset_id} has no data loaded for phase {phase.id!r}; tell an organizer")
    return OpenDataset(phase, dataset, hidden)
