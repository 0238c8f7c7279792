"""Which phase is current and which datasets it offers: the rule reveals and submissions share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import fmt_utc
from bot.core.datasets import DatasetRegistry, HiddenLabels
from bot.core.errors import NotAllowed, NotFound


@dataclass(frozen=True)
class OpenDataset:
    phase: Phase
    dataset: Dataset
    hidden: HiddenLabels


def current_phase(config: EventConfig, now: datetime) -> Phase:
    phase = config.phase_at(now)
    if phase is None:
        if not config.phases:
            raise NotAllowed("this event has no competition phases")
        raise NotAllowed(f"the competition has not started; it opens at {fmt_utc(config.phases[0].starts)}")
    return phase


def open_dataset(config: EventConfig, registry: DatasetRegistry, now: datetime, dataset_id: int) -> OpenDataset:
    """The dataset as the current phase offers it, or the reason it cannot be used now."""
    dataset = config.dataset(dataset_id)
    if dataset is None:
        known = ", ".join(str(ds.id) for ds in config.datasets) or "none"
        raise NotFound(f"there is no dataset {dataset_id}; the datasets are: {known}")
    phase = current_phase(config, now)
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
