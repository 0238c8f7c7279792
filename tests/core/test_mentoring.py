"""The help queue over a real database (SQLite and PostgreSQL): tickets, claims, releases, the
rules the database holds, and claims and openings from several OS processes at once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import load_event
from bot.core.errors import AlreadyDone, BadInput, NotAllowed, NotFound
from bot.core.mentoring import AlreadyOpen, TicketTaken
from bot.core.services import Services
from bot.core.store import IntegrityError
from tests.core.helpers import Clock
from tests.core.mentoring_workers import claim_worker, open_ticket_worker, write_mentoring_event
from tests.core.workers import run_processes


@dataclass
class Env:
    services: Services
    config_path: Path
    db: str
    clock: Clock

    @property
    def m(self):
        return self.services.mentoring

    async def team(self, name: str, *members: str):
        creds = await self.services.teams.create(name, captain=members[0])
        for user in members[1:]:
            await self.services.teams.add_member(creds.team.id, user)
        return creds.team


@pytest.fixture
async def env(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    yield Env(services, path, db, clock)
    await services.close()


async def test_tickets_queue_by_age_and_tell_their_position(env):
    await env.team("Alpha", "1001", "1002")
    await env.team("Beta", "2001")
    first = await env.m.open_ticket("1001", "CUDA out of memory", ["train", "Modal"], "table 4")
    env.clock.advance(minutes=1)
    second = await env.m.open_ticket("2001", "plotting", "Analyse")
    assert (first.ticket.number, first.position, first.ticket.tags) == (1, 1, ("Train", "Modal"))
    assert (second.ticket.number, second.position, second.waiting) == (2, 2, 2)
    assert first.ticket.team == "Alpha" and first.ticket.place == "table 4"
    assert [t.number for t in await env.m.queue()] == [1, 2]
    assert [t.number for t in await env.m.queue("analyse")] == [2]


async def test_a_team_has_one_open_ticket_and_is_told_its_number_and_place(env):
    await env.team("Alpha", "1001", "1002")
    await env.team("Beta", "2001")
    await env.m.open_ticket("2001", "first in line", [])
    mine = await env.m.open_ticket("1001", "a problem", [])
    with pytest.raises(AlreadyOpen) as refused:
        await env.m.open_ticket("1002", "the same problem, from a teammate", [])
    assert (refused.value.number, refused.value.position) == (mine.ticket.number, 2)
    assert f"you already have ticket #{mine.ticket.number}, position 2" in refused.value.message
    await env.m.cancel(mine.ticket.number, "1002")
    again = await env.m.open_ticket("1002", "another problem", [])
    assert again.ticket.number > mine.ticket.number  # never given twice (PostgreSQL may skip one)


async def test_bad_requests_are_refused_with_what_to_do(env):
    await env.team("Alpha", "1001")
    with pytest.raises(NotAllowed, match="/team create or /team join"):
        await env.m.open_ticket("9999", "no team", [])
    with pytest.raises(BadInput, match="unknown tag.*'Rust'.*Build, Train, Analyse, Modal"):
        await env.m.open_ticket("1001", "help", ["Rust"])
    with pytest.raises(BadInput, match="1 to 1000 characters"):
        await env.m.open_ticket("1001", "   ", [])
    with pytest.raises(NotFound, match="no ticket #42"):
        await env.m.claim(42, "7001")
    assert await env.m.queue() == []


async def test_a_claim_is_won_once_and_the_others_are_told_who_holds_it(env):
    await env.team("Alpha", "1001", "1002")
    spot = await env.m.open_ticket("1001", "help", ["Train"])
    claim = await env.m.claim(spot.ticket.number, "7001")
    assert claim.first and claim.members == ("1001", "1002") and claim.ticket.status == "claimed"
    with pytest.raises(TicketTaken) as taken:
        await env.m.claim(spot.ticket.number, "7002")
    assert taken.value.holder == "7001"
    with pytest.raises(AlreadyDone, match="you hold ticket #1 already"):
        await env.m.claim(spot.ticket.number, "7001")
    mine = await env.m.my_ticket("1002")
    assert mine is not None and mine.position is None and mine.ticket.claimed_by == "7001"


async def test_a_mentor_holds_one_ticket_and_never_claims_their_own_teams(env):
    await env.team("Alpha", "1001")
    await env.team("Beta", "2001", "7009")  # 7009 mentors and is in team Beta
    a = await env.m.open_ticket("1001", "a", [])
    b = await env.m.open_ticket("2001", "b", [])
    await env.m.claim(a.ticket.number, "7001")
    with pytest.raises(NotAllowed, match="you hold ticket #1 already; resolve or release it"):
        await env.m.claim(b.ticket.number, "7001")
    with pytest.raises(NotAllowed, match="you are in team Beta"):
        await env.m.claim(b.ticket.number, "7009")
    assert (await env.m.ticket(b.ticket.number)).status == "open"


async def test_release_puts_the_ticket_back_at_its_place(env):
    for i, name in enumerate(("A", "B", "C")):
        await env.team(name, f"{i}001")
        await env.m.open_ticket(f"{i}001", name, [])
        env.clock.advance(minutes=1)
    assert (await env.m.claim(1, "7001")).first
    await env.m.set_thread(1, 555)
    assert [t.number for t in await env.m.queue()] == [2, 3]
    with pytest.raises(NotAllowed, match="held by another mentor"):
        await env.m.release(1, "7002")
    env.clock.advance(minutes=5)
    released = await env.m.release(1, "7001")
    assert released.status == "open" and released.claimed_by is None
    assert [t.number for t in await env.m.queue()] == [1, 2, 3]
    assert (await env.m.my_ticket("0001")).position == 1
    again = await env.m.claim(1, "7002")
    assert not again.first and again.ticket.thread_id == 555  # the thread made at the first claim is reused
    # the time to claim counts from opening to the FIRST claim
    [record] = [r for r in await env.m.records() if r.id == 1]
    assert (record.claimed_at - record.opened_at).total_seconds() == 3 * 60


async def test_join_resolve_and_rate_once(env):
    await env.team("Alpha", "1001", "1002")
    n = (await env.m.open_ticket("1001", "help", ["Build"])).ticket.number
    await env.m.claim(n, "7001")
    await env.m.set_thread(n, 555)
    joined = await env.m.join(n, "7002")
    assert joined.helpers == ("7002",) and not joined.first and joined.ticket.thread_id == 555
    with pytest.raises(AlreadyDone):
        await env.m.join(n, "7002")
    with pytest.raises(NotAllowed, match="only its team, its mentors or an organizer"):
        await env.m.resolve(n, "7003")
    with pytest.raises(NotAllowed, match="only resolved tickets are rated"):
        await env.m.rate(n, "1001", 5)
    done = await env.m.resolve(n, "7002")  # a mentor who joined may resolve it
    assert done.status == "resolved" and done.mentor == "7001" and done.claimed_by is None
    assert (await env.m.mentor("7001")) is None or (await env.m.mentor("7001")).holding is None
    with pytest.raises(NotAllowed, match="only the team"):
        await env.m.rate(n, "7001", 5)
    with pytest.raises(BadInput):
        await env.m.rate(n, "1001", 6)
    rated = await env.m.rate(n, "1002", 4, "quick and clear")
    assert rated.rating == 4
    with pytest.raises(AlreadyDone, match="rated already"):
        await env.m.rate(n, "1001", 1)
    with pytest.raises(AlreadyDone, match="resolved already"):
        await env.m.cancel(n, "1001")
    # the mentor is free again
    await env.team("Beta", "2001")
    m = (await env.m.open_ticket("2001", "next", [])).ticket.number
    assert (await env.m.claim(m, "7001")).ticket.status == "claimed"


async def test_cancel_frees_the_mentor_and_an_unclaimed_ticket_is_not_resolved(env):
    await env.team("Alpha", "1001")
    n = (await env.m.open_ticket("1001", "help", [])).ticket.number
    with pytest.raises(NotAllowed, match="was not claimed"):
        await env.m.resolve(n, "1001")
    with pytest.raises(NotAllowed, match="only its team or an organizer"):
        await env.m.cancel(n, "7001")
    await env.m.claim(n, "7001")
    cancelled = await env.m.cancel(n, "1001")
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    assert (await env.m.mentors()) == [] and await env.m.claimed() == []


async def test_mentors_set_tags_and_duty(env):
    mentor = await env.m.set_mentor("7001", tags=["modal", "Train"])
    assert mentor.tags == ("Train", "Modal") and not mentor.on_duty
    mentor = await env.m.set_mentor("7001", on_duty=True)
    assert mentor.tags == ("Train", "Modal") and mentor.on_duty
    with pytest.raises(BadInput, match="unknown tag"):
        await env.m.set_mentor("7001", tags=["Cobol"])
    report = await env.m.report()
    assert report.uncovered == ["Build", "Analyse"] and report.on_duty == {"7001": ("Train", "Modal")}
    assert await env.services.store.fetchval("SELECT count(*) FROM mentor_duty WHERE user_id = '7001'") == 2


async def test_the_database_refuses_a_second_open_ticket_and_a_second_claim_whoever_writes(env):
    alpha = await env.team("Alpha", "1001")
    await env.team("Beta", "2001")
    await env.m.open_ticket("1001", "help", [])
    await env.m.open_ticket("2001", "help", [])
    insert = ("INSERT INTO tickets(team_id, requester, problem, opened_at, queued_at) VALUES (?, '1001', 'raw', 0, 0)")
    with pytest.raises(IntegrityError) as refused:
        await env.services.store.execute(insert, (alpha.id,))
    assert refused.value.kind == "unique"
    await env.m.claim(1, "7001")
    with pytest.raises(IntegrityError):
        await env.services.store.execute(
            "UPDATE tickets SET status = 'claimed', claimed_by = '7001', claimed_at = 0 WHERE id = 2"
        )
    with pytest.raises(IntegrityError):  # claimed without a claimer
        await env.services.store.execute("UPDATE tickets SET status = 'claimed', claimed_by = NULL WHERE id = 2")


async def test_twenty_simultaneous_claims_from_two_processes_one_wins(env):
    await env.team("Alpha", "1001")
    n = (await env.m.open_ticket("1001", "help", ["Train"])).ticket.number
    mentors = [f"{7000 + i}" for i in range(20)]
    reports = run_processes(claim_worker, [
        ((str(env.config_path), env.db, env.clock().isoformat()), (n, mentors[:10])),
        ((str(env.config_path), env.db, env.clock().isoformat()), (n, mentors[10:])),
    ])
    outcomes = [o for report in reports for o in report]
    winners = [o[1] for o in outcomes if o[0] == "ok"]
    assert len(winners) == 1
    losers = [o for o in outcomes if o[0] != "ok"]
    assert len(losers) == 19 and {o[0] for o in losers} == {"TicketTaken"}
    assert {o[3] for o in losers} == {winners[0]}  # each is told who holds it
    ticket = await env.m.ticket(n)
    assert ticket.claimed_by == winners[0]
    assert await env.services.store.fetchval("SELECT count(*) FROM ticket_events WHERE kind = 'claim'") == 1


async def test_one_open_ticket_per_team_under_concurrency(env):
    members = [f"{1000 + i}" for i in range(5)]
    await env.team("Alpha", *members)
    await env.team("Beta", "2001")
    await env.m.open_ticket("2001", "ahead", [])
    args = (str(env.config_path), env.db, env.clock().isoformat())
    reports = run_processes(open_ticket_worker, [(args, (members[:3],)), (args, (members[3:],))])
    outcomes = [o for report in reports for o in report]
    opened = [o[1] for o in outcomes if o[0] == "ok"]
    assert len(opened) == 1
    assert Counter(o[0] for o in outcomes if o[0] != "ok") == {"AlreadyOpen": 4}
    assert {o[2] for o in outcomes if o[0] != "ok"} == set(opened)
    assert all("position 2" in o[1] for o in outcomes if o[0] != "ok")
    assert await env.services.store.fetchval(
        "SELECT count(*) FROM tickets t JOIN teams tm ON tm.id = t.team_id WHERE tm.name = 'Alpha'"
    ) == 1
