"""A judged event for the judging and winners tests: the core test event plus two rounds (a
rubric round over every eligible project, then a ranking of its top 2) and prizes from each
source. Plain functions, so that worker processes can import them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.config import load_event
from bot.core.services import Services
from tests.core.helpers import T0, _iso, write_event

OPENS = T0
CLOSES = T0 + timedelta(days=3)
FINAL_CLOSES = T0 + timedelta(days=5)

JUDGING = f"""
[projects]
closes = {_iso(T0 + timedelta(days=1))}
categories = ["Build", "Train"]

[[judging.panels]]
id = "jury"
role = "Judges"

[[judging.panels]]
id = "final"
role = "Final panel"

[[judging.rounds]]
id = "initial"
mode = "rubric"
opens = {_iso(OPENS)}
closes = {_iso(CLOSES)}
reviews_per_project = 2
panels = ["jury"]

[[judging.rounds.criteria]]
id = "impact"
title = "Impact"
weight = 2

[[judging.rounds.criteria]]
id = "execution"
title = "Execution"

[[judging.rounds.checklist]]
id = "open-licence"
text = "The repository has an open licence"

[[judging.rounds]]
id = "final"
mode = "ranking"
opens = {_iso(CLOSES)}
closes = {_iso(FINAL_CLOSES)}
reviews_per_project = "all"
panels = ["final"]

[judging.rounds.shortlist]
source = "initial"
top = 2
ties = false

[[prizes]]
id = "build"
title = "Best Build"
source = "initial"
category = "Build"
excludes = ["grand"]

[[prizes]]
id = "picked"
title = "Organizers' pick"
source = "manual"

[[prizes]]
id = "grand"
title = "Grand prize"
source = "final"
rewards = ["$1000"]

[[prizes]]
id = "board"
title = "Leaderboard"
source = "leaderboard"
places = 2
"""


def write_judged_event(folder: Path, extra: str = "") -> Path:
    path = write_event(folder)
    path.write_text(path.read_text(encoding="utf-8") + JUDGING + extra, encoding="utf-8")
    return path


async def open_judged(folder: Path, db: str, clock) -> Services:
    return await Services.open(load_event(write_judged_event(folder)), db, clock=clock)


async def add_project(services: Services, team_id: int, title: str, category: str | None = None,
                      opt_ins: tuple[str, ...] = ()) -> None:
    """An eligible project row (the projects feature's own service writes these in the bot)."""
    await services.store.execute(
        "INSERT INTO projects(team_id, status, title, category, opt_ins, moderation, "
        "created_by, created_at, updated_by, updated_at) VALUES (?, 'submitted', ?, ?, ?, 'eligible', 'u', 0, 'u', 0)",
        (team_id, title, category, json.dumps(list(opt_ins))),
    )


async def teams_with_projects(services: Services, n: int, categories=("Build", "Train")) -> list[int]:
    ids = []
    for i in range(n):
        team = (await services.teams.create(f"Team {i}", captain=f"{1000 + i}")).team
        await add_project(services, team.id, f"Project {i}", categories[i % len(categories)])
        ids.append(team.id)
    return ids
