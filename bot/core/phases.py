"""Which phase is current and which datasets it offers: the rule reveals and submissions share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import fmt_utc
from bot.core.datasets import DatasetRegistry, HiddenLabels
from bot.core.errors import NotAllowed, NotFound
from bot.core.store import Store


@dataclass(frozen=True)
class OpenDataset:
    phase: Phase
    dataset: Dataset
    hidden: HiddenLabels


class PhaseClock:
    """The current phase: the last one whose start has passed, unless the organizers set one by
    hand (/admin phase set). The override is kept in the database and read at start; a second
    process on the same database sees a change after `refresh()` (called on each phase command)."""

    KEY = "phase_override"

    def __init__(self, store: Store, config: EventConfig):
        self.store, self.config = store, config
        self.override: str | None = None

    async def refresh(self) -> None:
        row = await self.store.fetchone("SELECT value FROM event_state WHERE key = ?", (self.KEY,))
        self.override = row[0] if row and self.config.phase(row[0]) else None

    def current(self, now: datetime) -> Phase | None:
        if self.override is not None:
            return self.config.phase(self.override)
        return self.config.phase_at(now)

    async def set(self, phase_id: str | None, now: datetime) -> Phase | None:
        """Force a phase (None: back to the schedule); returns the phase now current."""
        if phase_id is None:
            await self.store.execute("DELETE FROM event_state WHERE key = ?", (self.KEY,))
        else:
            if self.config.phase(phase_id) is None:
                known = ", ".join(p.id for p in self.config.phases) or "none"
                raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
            await self.store.execute(
                "INSERT INTO event_state(key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (self.KEY, phase_id, now.timestamp()),
            )
        self.override = phase_id
        return self.current(now)


def current_phase(config: EventConfig, phases: PhaseClock, now: datetime) -> Phase:
    phase = phases.current(now)
    if phase is None:
        if not config.phases:
            raise NotAllowed("this event has no competition phases")
        raise NotAllowed(f"the competition has not started; it opens at {fmt_utc(config.phases[0].starts)}")
    return phase


def open_dataset(
    config: EventConfig, registry: DatasetRegistry, phases: PhaseClock, now: datetime, dataset_id: int
) -> OpenDataset:
    """The dataset as the current phase offers it, or the reason it cannot be used now."""
    dataset = config.dataset(dataset_id)
    if dataset is None:
        known = ", ".join(str(ds.id) for ds in config.datasets) or "none"
        raise NotFound(f"there is no dataset {dataset_id}; the datasets are: {known}")
    phase = current_phase(config, phases, now)
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
