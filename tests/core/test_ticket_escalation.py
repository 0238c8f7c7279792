"""Escalation of waiting tickets from the database: the steps of the event file in turn until a
claim, across a restart, with two runners in two OS processes (never a double notice), and the
stale close and reopen."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.core.ticket_escalation import TicketNotice, TicketRunner, describe
from tests.core.mentoring_workers import escalation_tick_worker, write_mentoring_event
from tests.core.workers import run_processes


class Inbox:
    def __init__(self) -> None:
        self.notices: list[TicketNotice] = []

    async def __call__(self, notice: TicketNotice) -> None:
        self.notices.append(notice)

    def steps(self) -> list[tuple[int, str, str | None]]:
        return [(n.ticket.number, n.kind, n.notify) for n in self.notices]


@pytest.fixture
async def env(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "event")
    opened: list[Services] = []

    async def start() -> Services:  # a (re)started process over the same database
        services = await Services.open(load_event(path), db, clock=clock)
        opened.append(services)
        return services

    services = await start()
    await services.teams.create("Alpha", captain="1001")
    await services.teams.create("Beta", captain="2001")
    yield services, start, clock, path, db
    for s in opened:
        await s.close()


async def test_steps_in_turn_until_claimed(env):
    services, _, clock, _, _ = env
    m = services.mentoring
    await m.set_mentor("7001", tags=["Train"], on_duty=True)
    await m.set_mentor("7002", tags=["Build"], on_duty=True)
    await m.set_mentor("7003", tags=["Train"], on_duty=False)
    inbox = Inbox()
    runner = TicketRunner(m, inbox)
    n = (await m.open_ticket("1001", "help", ["Train"])).ticket.number
    assert await runner.tick() == 1
    [first] = inbox.notices
    assert (first.notify, first.mentors, first.role, first.position) == ("specialists", ("7001",), None, 1)
    assert await runner.tick() == 0  # sent once
    clock.advance(minutes=9)
    assert await runner.tick() == 0
    clock.advance(minutes=1)
    assert await runner.tick() == 1
    assert (inbox.notices[-1].notify, inbox.notices[-1].mentors, inbox.notices[-1].role) == (
        "mentors", ("7001", "7002"), "Mentors")
    clock.advance(minutes=20)
    assert await runner.tick() == 1
    assert (inbox.notices[-1].notify, inbox.notices[-1].role) == ("organizers", "Organizers")
    clock.advance(minutes=60)
    assert await runner.tick() == 0  # no step left before it goes stale
    await m.claim(n, "7002")
    clock.advance(hours=5)
    assert await runner.tick() == 0  # a claimed ticket neither escalates nor goes stale
    assert inbox.steps() == [(n, "escalation", "specialists"), (n, "escalation", "mentors"),
                             (n, "escalation", "organizers")]
    assert "step 3, organizers" in describe(inbox.notices[-1]) and "help" not in describe(inbox.notices[-1])


async def test_no_specialist_on_duty_goes_to_the_next_step_at_once(env):
    services, _, clock, _, _ = env
    await services.mentoring.set_mentor("7001", tags=["Build"], on_duty=True)
    inbox = Inbox()
    await services.mentoring.open_ticket("1001", "help", ["Modal"])
    await TicketRunner(services.mentoring, inbox).tick()
    [notice] = inbox.notices
    assert (notice.step, notice.notify, notice.mentors) == (1, "mentors", ("7001",))
    clock.advance(minutes=10)
    assert await TicketRunner(services.mentoring, inbox).tick() == 0  # the mentors step is done already


async def test_a_release_starts_the_steps_again_and_a_downtime_sends_only_the_latest(env):
    services, _, clock, _, _ = env
    m = services.mentoring
    await m.set_mentor("7001", tags=["Train"], on_duty=True)
    inbox = Inbox()
    runner = TicketRunner(m, inbox)
    n = (await m.open_ticket("1001", "help", ["Train"])).ticket.number
    await runner.tick()
    await m.claim(n, "7001")
    clock.advance(minutes=15)
    await m.release(n, "7001")
    await runner.tick()
    assert inbox.steps()[-1] == (n, "escalation", "specialists")
    clock.advance(minutes=45)  # nobody ticked for 45 minutes
    assert await runner.tick() == 1
    assert inbox.notices[-1].notify == "organizers" and inbox.notices[-1].late


async def test_stale_tickets_close_with_a_notice_and_can_be_reopened(env):
    services, _, clock, _, _ = env
    m = services.mentoring
    inbox = Inbox()
    runner = TicketRunner(m, inbox)
    n = (await m.open_ticket("1001", "help", [])).ticket.number
    await runner.tick()
    clock.advance(hours=3)
    await runner.tick()
    assert inbox.notices[-1].kind == "stale" and inbox.notices[-1].ticket.status == "stale"
    assert (await m.ticket(n)).status == "stale" and await m.my_ticket("1001") is None
    clock.advance(minutes=5)
    with pytest.raises(Exception, match="another team's"):
        await m.reopen(n, "2001")
    spot = await m.reopen(n, "1001")
    assert spot.ticket.status == "open" and spot.position == 1
    count = len(inbox.notices)
    await runner.tick()
    assert len(inbox.notices) == count + 1 and inbox.notices[-1].kind == "escalation"
    assert inbox.notices[-1].waited == timedelta(0)  # counts from the reopening


async def test_escalation_resumes_across_a_restart_without_a_second_ping(env):
    services, start, clock, _, _ = env
    first = Inbox()
    await services.mentoring.open_ticket("1001", "help", [])
    await TicketRunner(services.mentoring, first).tick()
    await services.close()
    clock.advance(minutes=10)
    restarted = await start()
    second = Inbox()
    runner = TicketRunner(restarted.mentoring, second)
    await runner.start()
    try:
        for _ in range(100):
            if second.notices:
                break
            await asyncio.sleep(0.02)
    finally:
        await runner.stop()
    # the first life sent step 2 (no specialist: mentors at once); the second life owes nothing until 30 min
    assert [n.step for n in first.notices] == [1] and second.notices == []
    clock.advance(minutes=20)
    await TicketRunner(restarted.mentoring, second).tick()
    assert [n.step for n in second.notices] == [2]


async def test_the_runner_wakes_when_a_ticket_is_opened(env):
    services, _, _, _, _ = env
    inbox = Inbox()
    runner = TicketRunner(services.mentoring, inbox, poll=60)
    await runner.start()
    try:
        await asyncio.sleep(0.05)
        await services.mentoring.open_ticket("1001", "help", [])
        for _ in range(100):
            if inbox.notices:
                break
            await asyncio.sleep(0.02)
    finally:
        await runner.stop()
    assert len(inbox.notices) == 1


async def test_two_runners_in_two_processes_never_send_a_step_twice(env):
    services, _, clock, path, db = env
    m = services.mentoring
    await m.set_mentor("7001", tags=["Train", "Build"], on_duty=True)
    for i in range(12):
        await services.teams.create(f"T{i}", captain=f"{3000 + i}")
        await m.open_ticket(f"{3000 + i}", f"problem {i}", ["Train"] if i % 2 else [])
        clock.advance(seconds=20)
    start = clock()
    times = [(start + timedelta(minutes=k)).isoformat() for k in (0, 0, 5, 11, 11, 12, 31, 32, 200, 240)]
    reports = run_processes(escalation_tick_worker, [((str(path), db), (times,)), ((str(path), db), (times,))])
    sent = [(ticket, kind, step) for report in reports for (_, ticket, kind, step) in report]
    assert max(Counter(sent).values()) == 1  # never twice
    # every ticket: its steps once each (a tagged one reaches its specialist first), then stale
    for i in range(12):
        number = i + 1
        expected = ([0] if i % 2 else []) + [1, 2]
        assert sorted(s for t, k, s in sent if t == number and k == "escalation") == expected
        assert [(t, k) for t, k, _ in sent if t == number and k == "stale"] == [(number, "stale")]
    assert await services.store.fetchval("SELECT count(*) FROM ticket_events WHERE kind = 'notify'") == 30
