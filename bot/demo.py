"""Demo content: a few teams that have revealed and submitted, so the first page view shows
a real leaderboard (submitted and default scores side by side)."""

from __future__ import annotations

import contextlib

import numpy as np

from bot.core.errors import HackbotError
from bot.core.services import Services
from bot.core.teams import NewCredentials

# team name -> fraction of labels it gets wrong per dataset (None: does not submit)
DEMO_TEAMS: dict[str, list[float | None]] = {
    "Shortcut Learners": [0.45, 0.50, 0.48],
    "Label Whisperers": [0.02, 0.08, None],
    "Careful Counters": [None, 0.04, 0.30],
    "Default Enjoyers": [None, None, None],
}


async def seed_demo(services: Services, *, seed: int = 0) -> NewCredentials | None:
    """Create the demo teams once; return fresh credentials for a team the user can play as."""
    if await services.teams.list():
        return None
    rng = np.random.default_rng(seed)
    phase = await services.phases.current(services.clock())
    for name, error_rates in DEMO_TEAMS.items():
        team = (await services.teams.create(name, validated=True)).team
        if phase is None:
            continue  # no phase open: the teams exist with nothing revealed or submitted
        # a phase with fewer datasets than the demo's rates uses the first ones
        for ds, error_rate in zip(services.config.datasets_in_phase(phase.id), error_rates, strict=False):
            if error_rate is None:
                continue
            hidden = services.registry.get(phase.id, ds.id)
            if hidden is None:
                raise RuntimeError(f"dataset {ds.id} of phase {phase.id!r} has no hidden labels: the demo needs its data_dir")
            for datum in rng.choice(hidden.n, size=min(ds.reveal_budget, 3), replace=False):
                await services.reveals.reveal(team, ds.id, int(datum), source="demo")
            wrong = rng.random(hidden.n) < error_rate
            others = hidden.labels[(np.searchsorted(hidden.labels, hidden.y) + 1) % len(hidden.labels)]
            predictions = np.where(wrong, others, hidden.y)
            data = ("\n".join(map(str, predictions)) + "\n").encode()
            with contextlib.suppress(HackbotError):  # refused: the team keeps its default score there
                await services.submissions.submit(team, ds.id, "predictions.csv", data, source="demo")
    return await services.teams.create("You", validated=True)
