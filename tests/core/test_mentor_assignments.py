"""Mentors assigned to teams: the proposal from the teams' matchmaking topics and the mentors'
tags, the organizer's confirmation of what they saw, and the rows judging reads."""

from __future__ import annotations

import json

import pytest

from bot.config import load_event
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.services import Services
from tests.core.mentoring_workers import write_mentoring_event


@pytest.fixture
async def services(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    yield services
    await services.close()


async def profile(services, user: str, topics: list[str]) -> None:
    await services.store.execute(
        "INSERT INTO lfg_profiles(user_id, topics, updated_at) VALUES (?, ?, 0)", (user, json.dumps(topics))
    )


async def test_proposal_matches_topics_balances_loads_and_is_confirmed_as_seen(services):
    teams = {}
    for i, topic in enumerate(["Train", "Train", "Build", "Analyse"]):
        user = f"{1000 + i}"
        await profile(services, user, [topic])
        teams[topic + str(i)] = (await services.teams.create(f"T{i}", captain=user)).team
    await services.mentoring.set_mentor("7001", tags=["Train"])
    await services.mentoring.set_mentor("7002", tags=["Build", "Analyse"])
    proposal = await services.assignments.propose()
    by_team = {p.team: (p.mentor, p.shared) for p in proposal.pairs}
    assert by_team == {"T0": ("7001", ("Train",)), "T1": ("7001", ("Train",)),
                       "T2": ("7002", ("Build",)), "T3": ("7002", ("Analyse",))}
    assert proposal.loads == {"7001": 2, "7002": 2} and proposal.unassigned == ()
    with pytest.raises(AlreadyDone, match="fingerprint is now"):
        await services.assignments.confirm("0000000000", "9000")
    written = await services.assignments.confirm(proposal.fingerprint, "9000")
    assert len(written) == 4
    assert await services.assignments.teams_of("7001") == sorted([teams["Train0"].id, teams["Train1"].id])
    rows = await services.store.fetchall("SELECT mentor_user_id, team_id FROM mentor_assignments ORDER BY team_id")
    assert len(rows) == 4
    again = await services.assignments.propose()  # every team has its mentor now
    assert again.pairs == () and again.mentored == 4


async def test_a_mentor_is_never_proposed_for_their_own_team(services):
    await profile(services, "7001", ["Train"])
    await services.teams.create("Mine", captain="7001")
    await services.teams.create("Other", captain="1001")
    await services.mentoring.set_mentor("7001", tags=["Train"])
    await services.mentoring.set_mentor("7002", tags=[])
    proposal = await services.assignments.propose()
    assert {p.team: p.mentor for p in proposal.pairs} == {"Mine": "7002", "Other": "7001"}


async def test_assignment_needs_the_event_to_ask_for_it(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "e", assign=False)
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        with pytest.raises(NotAllowed, match="assign_to_teams = true"):
            await services.assignments.propose()
    finally:
        await services.close()
