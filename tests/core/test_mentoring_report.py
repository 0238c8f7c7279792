"""The requester's estimated wait and the organizers' report, on a seeded history of tickets
played through the service (opened, claimed, resolved, rated at known times)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import load_event
from bot.core.services import Services
from tests.core.mentoring_workers import write_mentoring_event


@pytest.fixture
async def services(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    for i in range(14):
        await services.teams.create(f"T{i}", captain=f"{1000 + i}")
    yield services
    await services.close()


async def play(services, clock, team: int, tags: list[str], claim_after: int | None, resolve_after: int | None,
               mentor: str = "7001", rating: int | None = None) -> int:
    """A ticket opened now, claimed after `claim_after` minutes, resolved `resolve_after` minutes after
    opening; the clock is back where it was."""
    start = clock()
    user = f"{1000 + team}"
    n = (await services.mentoring.open_ticket(user, f"problem {team}", tags)).ticket.number
    if claim_after is not None:
        clock.set(start + timedelta(minutes=claim_after))
        await services.mentoring.claim(n, mentor)
        if resolve_after is not None:
            clock.set(start + timedelta(minutes=resolve_after))
            await services.mentoring.resolve(n, mentor)
            if rating is not None:
                await services.mentoring.rate(n, user, rating)
    clock.set(start)
    return n


async def test_estimated_wait_is_the_median_claim_time_of_recent_tickets_with_the_same_tags(services, clock):
    # Train tickets claimed after 4, 8 and 20 minutes; Build ones after 1 and 2
    for team, minutes in enumerate((4, 8, 20)):
        await play(services, clock, team, ["Train"], minutes, minutes + 10)
        clock.advance(minutes=30)
    for team, minutes in ((3, 1), (4, 2)):
        await play(services, clock, team, ["Build"], minutes, minutes + 5)
        clock.advance(minutes=30)
    spot = await services.mentoring.open_ticket("1010", "new one", ["Train"])
    assert (spot.wait.basis, spot.wait.samples, str(spot.wait.median)) == ("same tags", 3, "8 min")
    other = await services.mentoring.open_ticket("1011", "no tag", [])
    assert (other.wait.basis, other.wait.samples, str(other.wait.median)) == ("all tickets", 5, "4 min")
    assert (spot.position, other.position) == (1, 2)
    clock.advance(hours=7)  # the history is no longer recent
    later = await services.mentoring.spot(spot.ticket)
    assert later.wait.basis == "no history" and str(later.wait.median) == "no data"


async def test_report_per_tag_uncovered_tags_and_weighted_ratings(services, clock):
    # 7001: one 5; 7002: nine ratings of 4 and 5 (mean 4.56); 7003: 2, 2, 3. The event's mean is
    # 53 / 13 = 4.08: 7001 scores (5 x 4.08 + 5) / 6 = 4.23, 7002 (5 x 4.08 + 41) / 14 = 4.39
    await play(services, clock, 0, ["Train"], 10, 30, "7001", rating=5)
    clock.advance(minutes=60)
    for team in range(1, 10):
        await play(services, clock, team, ["Build"], 2, 12, "7002", rating=5 if team % 2 else 4)
        clock.advance(minutes=60)
    for team, rating in ((11, 2), (12, 2), (13, 3)):
        await play(services, clock, team, ["Analyse"], 5, 15, "7003", rating=rating)
        clock.advance(minutes=60)
    await play(services, clock, 10, ["Train"], None, None)  # still waiting: censored, not dropped
    clock.advance(minutes=50)
    await services.mentoring.set_mentor("7002", tags=["Build"], on_duty=True)
    report = await services.mentoring.report()
    rows = {row.tag: row for row in report.tags}
    train = rows["Train"]
    assert (train.opened, train.claimed, train.resolved, train.waiting) == (2, 1, 1, 1)
    # claim times: 10 min (claimed), 50 min (waiting, censored): the median is the claimed one
    assert str(train.claim_median) == "10 min" and str(train.claim_p90) == "more than 50 min"
    build = rows["Build"]
    assert (build.opened, build.resolved, str(build.claim_median), str(build.resolve_p90)) == (9, 9, "2 min", "12 min")
    assert rows["(all)"].opened == 14 and report.open == 1 and report.claimed == 0
    assert report.uncovered == ["Train", "Analyse", "Modal"]
    assert [r.mentor for r in report.ratings] == ["7002", "7001", "7003"]
    best, single, _ = report.ratings
    assert best.count == 9 and round(best.mean, 2) == 4.56
    assert single.count == 1 and single.mean == 5 and single.score < best.score
