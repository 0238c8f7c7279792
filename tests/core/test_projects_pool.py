"""The pool that judging and voting read: submitted projects the organizers marked eligible,
filtered by category or opt-in; the database refuses an ineligible mark without a reason."""

from __future__ import annotations

import json

import pytest

from bot.core.projects import eligible_projects
from bot.core.store import IntegrityError


async def add_project(services, team_id: int, title: str, *, status: str, moderation: str, category: str | None = None,
                      opt_ins: tuple[str, ...] = (), reason: str = "") -> None:
    await services.store.execute(
        "INSERT INTO projects(team_id, status, title, category, opt_ins, moderation, moderation_reason, "
        "created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'u', 0, 'u', 0)",
        (team_id, status, title, category, json.dumps(list(opt_ins)), moderation, reason),
    )


async def test_only_submitted_and_eligible_projects_enter_the_pool(services):
    teams = [(await services.teams.create(f"T{i}", captain=f"{100 + i}")).team for i in range(5)]
    await add_project(services, teams[0].id, "Eligible build", status="submitted", moderation="eligible",
                      category="Build", opt_ins=("modal",))
    await add_project(services, teams[1].id, "Eligible train", status="submitted", moderation="eligible", category="Train")
    await add_project(services, teams[2].id, "Draft", status="draft", moderation="eligible", category="Build")
    await add_project(services, teams[3].id, "Pending", status="submitted", moderation="pending", category="Build")
    await add_project(services, teams[4].id, "Out", status="submitted", moderation="ineligible", reason="no licence")

    pool = await services.store.run(eligible_projects)
    assert [(p.title, p.team_name) for p in pool] == [("Eligible build", "T0"), ("Eligible train", "T1")]
    assert [p.title for p in await services.store.run(lambda tx: eligible_projects(tx, category="Train"))] == ["Eligible train"]
    assert [p.opt_ins for p in await services.store.run(lambda tx: eligible_projects(tx, opt_in="modal"))] == [("modal",)]


async def test_an_ineligible_mark_needs_a_reason_and_a_team_has_one_project(services):
    team = (await services.teams.create("T", captain="100")).team
    with pytest.raises(IntegrityError):
        await add_project(services, team.id, "Out", status="submitted", moderation="ineligible")
    await add_project(services, team.id, "First", status="draft", moderation="pending")
    with pytest.raises(IntegrityError):
        await add_project(services, team.id, "Second", status="draft", moderation="pending")
