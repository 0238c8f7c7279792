"""Teams who ask to pitch (Hackathon42: "the top 20 of the leaderboard plus teams who ask to
pitch"): a team asks once a round, until the round's pool is final, and the pool is the shortlist
plus those teams. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_event
from bot.core.errors import NotAllowed
from bot.core.services import Services
from tests.core.helpers import Clock, _iso
from tests.core.judging_helpers import CLOSES, teams_with_projects, write_judged_event

PITCH = f"""
[[judging.rounds]]
id = "pitch"
title = "Pitches"
mode = "rubric"
opens = {_iso(CLOSES + timedelta(hours=1))}
closes = {_iso(CLOSES + timedelta(hours=3))}
reviews_per_project = "all"
panels = ["jury"]

[judging.rounds.shortlist]
source = "initial"
top = 1
ties = false
requests = true

[[judging.rounds.criteria]]
id = "pitch"
title = "Pitch"

[judging.rounds.interviews]
minutes = 10
"""


@pytest.fixture
async def event(tmp_path):
    return load_event(write_judged_event(tmp_path / "event", PITCH))


@pytest.fixture
async def services(event, db, clock):
    services = await Services.open(event, db, clock=clock)
    yield services
    await services.close()


async def test_a_team_asks_once_until_the_pool_is_final_and_is_heard_with_the_shortlist(services, event, db, clock):
    teams = await teams_with_projects(services, 4)  # Team i's captain is user 1000 + i
    for judge in ("900", "901"):
        await services.judging.register(judge, f"Judge {judge}", ["jury"])
    other = await Services.open(event, db, clock=clock)
    try:  # two asks at once, from two processes: one request
        first, second = await asyncio.gather(services.judging.ask_to_pitch("1003", note="a new method"),
                                             other.judging.ask_to_pitch("1003"))
    finally:
        await other.close()
    assert {first.new, second.new} == {True, False} and first.round.id == "pitch" and first.final_at == CLOSES
    assert not (await services.judging.ask_to_pitch("1003")).new  # asking again changes nothing
    assert await services.judging.pitch_requests("pitch") == {teams[3]: "Team 3"}
    with pytest.raises(NotAllowed, match="only a team can ask"):
        await services.judging.ask_to_pitch("4242")
    with pytest.raises(NotAllowed, match="does not take requests"):
        await services.judging.ask_to_pitch("1002", round_id="final")

    for judge in ("900", "901"):  # the initial round ranks Team 0 first
        for item in (await services.judging.work(judge))[0].items:
            level = 5 - teams.index(item.team_id)
            await services.judging.score(judge, item.team_id, f"{level} {level}", round_id="initial")
    clock.set(CLOSES)  # the initial round closed: the pitch round's pool is final
    with pytest.raises(NotAllowed, match="requests to pitch are closed"):
        await services.judging.ask_to_pitch("1002")
    assert await services.judging.pitch_requests("pitch") == {teams[3]: "Team 3"}
    pool = await services.judging.pool("pitch")
    assert [p.id for p in pool] == [str(teams[0]), str(teams[3])]  # the top 1, then the team that asked
    booked = await services.interviews.book("pitch")
    assert [s.team for s in booked.slots] == ["Team 0", "Team 3"]


async def test_a_team_without_a_project_in_judging_cannot_ask(services):
    await teams_with_projects(services, 1)
    await services.teams.create("No project", captain="2000")
    with pytest.raises(NotAllowed, match="/project submit"):
        await services.judging.ask_to_pitch("2000")


def test_hackbot_judging_interviews_marks_the_teams_that_asked(tmp_path, db):
    path = write_judged_event(tmp_path / "event", PITCH)

    async def prepare() -> None:
        services = await Services.open(load_event(path), db, clock=Clock(CLOSES - timedelta(hours=1)))
        try:
            teams = await teams_with_projects(services, 3)
            await services.judging.register("900", "Judge 900", ["jury"])
            await services.judging.ask_to_pitch("1002")
            for item in (await services.judging.work("900"))[0].items:
                level = 5 - teams.index(item.team_id)
                await services.judging.score("900", item.team_id, f"{level} {level}", round_id="initial")
        finally:
            await services.close()

    asyncio.run(prepare())
    result = CliRunner().invoke(main, ["judging", "interviews", "pitch", "--config", str(path), "--db", db])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if "Team " in line]
    assert [(" ".join(r[4:6]), r[-1]) for r in rows] == [("Team 0", "1"), ("Team 2", "yes")], result.output
