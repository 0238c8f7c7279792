"""Interview slots: the round's pool booked into slots and rooms, the judges split among the
rooms, each team told its slot once (an outbox row), and the database refusing a team or a
judge in two interviews at once, also when two processes book together."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.config import load_event
from bot.core.errors import NotFound
from bot.core.interviews import notice_key, reminder_key
from bot.core.services import Services
from bot.core.store import IntegrityError
from tests.core.helpers import T0, _iso
from tests.core.judging_helpers import CLOSES, teams_with_projects, write_judged_event

INTERVIEWS = f"""
[[judging.rounds]]
id = "interview"
title = "Interviews"
mode = "rubric"
opens = {_iso(CLOSES)}
closes = {_iso(CLOSES + timedelta(hours=1))}
reviews_per_project = "all"
panels = ["jury"]

[[judging.rounds.criteria]]
id = "pitch"
title = "Pitch"

[judging.rounds.interviews]
minutes = 10
rooms = 2
"""


@pytest.fixture
async def event(tmp_path):
    return load_event(write_judged_event(tmp_path / "event", INTERVIEWS))


@pytest.fixture
async def services(event, db, clock):
    services = await Services.open(event, db, clock=clock)
    yield services
    await services.close()


async def test_the_pool_is_booked_in_rooms_once_and_each_team_told_once(services, clock):
    teams = await teams_with_projects(services, 5)
    for judge in ("900", "901", "902"):
        await services.judging.register(judge, f"Judge {judge}", ["jury"])
    booking = await services.interviews.book("interview")
    slots = booking.slots
    assert booking.booked_now == 5 and booking.after_close == ()
    assert sorted(s.team_id for s in slots) == sorted(teams)
    assert [(s.room, s.slot) for s in slots] == [(1, 0), (2, 0), (1, 1), (2, 1), (1, 2)]
    assert [s.starts - CLOSES for s in slots] == [timedelta(0), timedelta(0), timedelta(minutes=10),
                                                  timedelta(minutes=10), timedelta(minutes=20)]
    rooms = {s.room: set(s.judges) for s in slots}
    assert rooms[1] | rooms[2] == {"900", "901", "902"} and not rooms[1] & rooms[2]  # each judge in one room
    assert [s.team_id for s in await services.interviews.for_judge("900")] == [s.team_id for s in slots if "900" in s.judges]
    again = await services.interviews.book("interview")
    assert again.booked_now == 0 and again.slots == slots  # booking again changes nothing
    keys = [k for (k,) in await services.store.fetchall("SELECT key FROM outbox WHERE key LIKE 'interview:%' ORDER BY key")]
    assert sorted(keys) == sorted(notice_key("interview", t, str(1000 + n)) for n, t in enumerate(teams))
    text = (await services.outbox.delivery(keys[0]))
    assert text is not None and text.status == "pending"


async def test_the_database_refuses_a_team_or_a_judge_in_two_interviews(services):
    teams = await teams_with_projects(services, 2)
    await services.judging.register("900", "Judge", ["jury"])
    await services.interviews.book("interview")
    with pytest.raises(IntegrityError):  # a room hears one team at a time
        await services.store.execute("UPDATE interview_slots SET room = 1, slot = 0 WHERE team_id = ?", (teams[1],))
    with pytest.raises(IntegrityError):  # a team is booked once a round
        await services.store.execute("INSERT INTO interview_slots(round, team_id, room, slot, starts_at, ends_at)"
                                     " VALUES ('interview', ?, 2, 5, 1, 2)", (teams[0],))
    with pytest.raises(IntegrityError):  # a judge sits in one room
        await services.store.execute("INSERT INTO interview_rooms(round, judge, room) VALUES ('interview', '900', 2)")
    with pytest.raises(NotFound, match="no interviews"):
        await services.interviews.book("initial")


async def test_two_processes_booking_together_book_each_team_once(services, event, db, clock):
    teams = await teams_with_projects(services, 6)
    other = await Services.open(event, db, clock=clock)
    try:
        await asyncio.gather(services.interviews.book("interview"), other.interviews.book("interview"))
    finally:
        await other.close()
    slots = await services.interviews.slots("interview")
    assert sorted(s.team_id for s in slots) == sorted(teams)
    assert len({(s.room, s.slot) for s in slots}) == 6
    assert await services.store.fetchval("SELECT count(*) FROM outbox WHERE key LIKE 'interview:%'") == 6


async def test_the_bot_books_a_round_once_its_pool_is_final(services, clock):
    teams = await teams_with_projects(services, 2)
    clock.set(T0)  # projects still open: the pool may change
    assert await services.interviews.book_due() == 0 and await services.interviews.slots("interview") == []
    clock.set(T0 + timedelta(days=1, minutes=1))  # the projects' deadline passed: booked, the teams told
    assert await services.interviews.book_due() == 2
    assert await services.interviews.book_due() == 0
    assert sorted(s.team_id for s in await services.interviews.slots("interview")) == sorted(teams)


async def test_each_slot_is_reminded_once_to_its_team_and_its_judges(services, event, db, clock):
    teams = await teams_with_projects(services, 3)
    for judge in ("900", "901"):
        await services.judging.register(judge, f"Judge {judge}", ["jury"])
    outside = await services.judging.invite("Ada", ["jury"])  # no Discord account to message
    slots = (await services.interviews.book("interview")).slots
    judges_of = {s.team_id: [j for j in s.judges if not j.startswith("ext-")] for s in slots}
    assert outside.judge.user_id in {j for s in slots for j in s.judges}
    ten = timedelta(minutes=10)

    def keys_for(team_index: int) -> set[str]:
        team = teams[team_index]
        return {reminder_key("interview", team, ten, person) for person in [str(1000 + team_index), *judges_of[team]]}

    clock.set(CLOSES - ten - timedelta(seconds=1))
    assert await services.interviews.remind_due() == 0
    clock.set(CLOSES - ten)  # the first two slots (one per room) are due; two processes at once queue each once
    other = await Services.open(event, db, clock=clock)
    try:
        counts = await asyncio.gather(services.interviews.remind_due(), other.interviews.remind_due())
    finally:
        await other.close()
    starts = {s.team_id: s.starts for s in slots}
    first = [i for i, t in enumerate(teams) if starts[t] == CLOSES]
    expected = set().union(*(keys_for(i) for i in first))
    queued = {k for (k,) in await services.store.fetchall("SELECT key FROM outbox WHERE key LIKE 'interview-reminder:%'")}
    assert sum(counts) == len(expected) == 4 and queued == expected
    assert await services.interviews.remind_due() == 0  # the next pass queues nothing more
    row = await services.store.fetchone("SELECT status, payload FROM outbox WHERE key = ?",
                                        (reminder_key("interview", teams[first[0]], ten, str(1000 + first[0])),))
    assert row[0] == "pending" and "Team " in row[1] and "reminder" in row[1]  # committed: a crash now loses nothing
    clock.set(CLOSES)  # slot 0 began; the third team's slot (10 minutes later) is due now
    assert await services.interviews.remind_due() == 2
    queued = {k for (k,) in await services.store.fetchall("SELECT key FROM outbox WHERE key LIKE 'interview-reminder:%'")}
    assert queued == expected | keys_for(next(i for i in range(3) if i not in first))
    assert not any(outside.judge.user_id in k for k in queued)


async def test_the_schedule_shows_the_interview_block_to_all_and_its_slot_to_a_team_only(services):
    teams = await teams_with_projects(services, 3)
    await services.judging.register("900", "Judge 900", ["jury"])
    before = await services.interviews.schedule_entries()
    assert [(e.title, e.at, e.ends) for e in before] == [("Interviews: Interviews", CLOSES, CLOSES + timedelta(hours=1))]
    assert "Team" not in before[0].description  # the window, before the booking: no team
    slots = (await services.interviews.book("interview")).slots
    public = await services.interviews.schedule_entries()
    assert [(e.title, e.at, e.ends) for e in public] == [("Interviews: Interviews", CLOSES, CLOSES + timedelta(minutes=20))]
    assert public[0].description.startswith("3 team(s) heard by the jury, 10 min each, in 2 room(s)")
    assert not any(f"Team {n}" in e.title + e.description for e in public for n in range(3))
    assert public[0].remind_before == [] and public[0].id < 0  # never a row of schedule_items: no public reminder
    assert await services.interviews.schedule_entries("999") == public  # not in a team: the block only
    mine = next(s for s in slots if s.team_id == teams[2])
    own = await services.interviews.schedule_entries("1002")  # Team 2's captain
    assert own[0] == public[0] and len(own) == 2
    assert (own[1].title, own[1].at, own[1].ends) == ("Your interview (Team 2): Interviews", mine.starts, mine.ends)
    assert f"room {mine.room}" in own[1].description
    assert not any(f"Team {n}" in e.title + e.description for e in own for n in (0, 1))  # nobody else's slot
