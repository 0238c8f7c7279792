"""Reminders are posted once each, in order, late within the grace after a downtime, skipped and
reported beyond it, retried on failure, and never twice: across a restart, a SIGKILL, and two
processes on one database."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import fmt_utc
from bot.core.reminders import SENDING_STALE, PostFailed, Reminder, ReminderRunner, default_owner
from bot.posting import discord_time
from tests.core.helpers import Clock
from tests.core.reminder_workers import (
    iso,
    open_schedule,
    tick_worker,
    timer_runner_worker,
    write_schedule_event,
)
from tests.core.workers import run_processes

START = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass
class Env:
    store: object
    config: object
    schedule: object
    clock: Clock
    config_path: Path
    db: str  # a SQLite path or a PostgreSQL URL
    reports: list[str] = field(default_factory=list)

    async def report(self, message: str) -> None:
        self.reports.append(message)

    def runner(self, poster, **options) -> ReminderRunner:
        return ReminderRunner(self.store, self.config, self.schedule, poster, clock=self.clock,
                              report=self.report, **options)

    async def statuses(self) -> Counter:
        return Counter(dict(await self.store.fetchall("SELECT status, count(*) FROM reminders GROUP BY status")))

    async def due_of(self) -> dict[int, float]:
        return dict(await self.store.fetchall("SELECT id, due FROM reminders"))


@pytest.fixture
async def env(tmp_path, db):
    clock = Clock(START)
    config_path = write_schedule_event(tmp_path / "event")
    store, config, schedule = await open_schedule(config_path, db, clock)
    yield Env(store, config, schedule, clock, config_path, db)
    await store.close()


class Recorder:
    """A poster that remembers what it posted and when (on the test's clock)."""

    def __init__(self, clock):
        self.clock = clock
        self.posts: list[tuple[Reminder, datetime]] = []

    async def __call__(self, reminder: Reminder) -> None:
        self.posts.append((reminder, self.clock()))

    @property
    def ids(self) -> list[int]:
        return [r.id for r, _ in self.posts]


async def add_minutely(env: Env, count: int, *, first: int = 1) -> None:
    """`count` items at minutes first.. after START, each announced at its time."""
    for i in range(first, first + count):
        await env.schedule.add(f"Item {i:03d}", START + i * MINUTE, remind_before=["0m"])


async def tick_through(env: Env, runner: ReminderRunner, until: datetime, step: timedelta = MINUTE) -> None:
    while env.clock() < until:
        env.clock.advance(seconds=step.total_seconds())
        await runner.tick()


# --- order and once ----------------------------------------------------------------------

async def test_200_reminders_fire_once_each_in_order(env):
    talks = list(range(100))
    random.Random(7).shuffle(talks)  # created out of order: the order is the time's, not the ids'
    for i in talks:
        await env.schedule.add(f"Talk {i}", START + timedelta(minutes=20 + 3 * i), remind_before=["10m", "0m"])
    due = await env.due_of()
    assert len(due) == 200
    poster = Recorder(env.clock)
    runner = env.runner(poster)
    await tick_through(env, runner, START + timedelta(hours=6))

    assert sorted(poster.ids) == sorted(due) and len(set(poster.ids)) == 200  # each once
    posted_due = [r.due.timestamp() for r, _ in poster.posts]
    assert posted_due == sorted(due.values())  # in order
    assert all(when == r.due and not r.late for r, when in poster.posts)  # at its minute
    kinds = Counter(r.kind for r, _ in poster.posts)
    assert kinds == {"reminder": 100, "start": 100}
    assert await env.statuses() == {"sent": 200}
    assert await runner.tick() == 0 and len(poster.posts) == 200
    assert env.reports == []


async def test_a_backlog_is_posted_in_due_order_in_one_tick(env):
    await add_minutely(env, 12)
    poster = Recorder(env.clock)
    env.clock.set(START + 13 * MINUTE)
    assert await env.runner(poster).tick() == 12
    assert [r.item.title for r, _ in poster.posts] == [f"Item {i:03d}" for i in range(1, 13)]


async def test_the_message_names_the_item_its_time_and_link_without_mentions(env):
    item = await env.schedule.add(
        "Keynote", START + timedelta(hours=2), ends=START + timedelta(hours=3), description="Room A",
        link="https://example.org/live", mention=["@Participants"], channel="#talks", remind_before=["1h"],
    )
    poster = Recorder(env.clock)
    env.clock.set(START + timedelta(hours=1))
    await env.runner(poster).tick()
    [(reminder, _)] = poster.posts
    unix = int(item.at.timestamp())
    assert reminder.kind == "reminder" and reminder.offset == timedelta(hours=1) and not reminder.late
    assert reminder.item.mention == ["Participants"] and reminder.item.channel == "talks"
    text = reminder.text()
    assert text.splitlines()[0] == "Keynote"
    assert f"starts {fmt_utc(item.at)}" in text and "<t:" not in text  # core writes no Discord markup
    assert f"starts <t:{unix}:F> (<t:{unix}:R>)" in reminder.text(discord_time)  # the Discord layer's times
    assert "Room A" in text and "https://example.org/live" in text
    assert "Participants" not in text and "<@" not in text
    [posted] = await env.schedule.posted()
    assert (posted.status, posted.text, posted.title, posted.sent_at) == ("sent", text, "Keynote", START + timedelta(hours=1))


# --- restarts ----------------------------------------------------------------------------

async def test_restart_posts_missed_reminders_late_within_grace_and_reports_the_rest(env):
    await add_minutely(env, 60)
    first = Recorder(env.clock)
    runner = env.runner(first)
    await tick_through(env, runner, START + 20 * MINUTE)
    await runner.stop()
    assert [r.item.title for r, _ in first.posts] == [f"Item {i:03d}" for i in range(1, 21)]

    env.clock.set(START + timedelta(minutes=45, seconds=30))  # down 25 min; the grace is 15
    second = Recorder(env.clock)
    runner = env.runner(second)
    await runner.start()  # the catch-up
    try:
        caught_up = [(r.item.title, r.late) for r, _ in second.posts]
        assert caught_up == [(f"Item {i:03d}", i < 45) for i in range(31, 46)]  # due 30.5+ min: within grace
        assert all("posted late" in r.text() for r, _ in second.posts if r.late)
        [report] = env.reports
        assert report.startswith("Skipped 10 reminder(s) more than 15m overdue")
        assert all(f"'Item {i:03d}'" in report for i in range(21, 31))
        assert "'Item 031'" not in report

        await tick_through(env, runner, START + 61 * MINUTE)
    finally:
        await runner.stop()
    posted = first.ids + second.ids
    assert len(posted) == len(set(posted)) == 50  # nothing twice
    assert await env.statuses() == {"sent": 50 - 14, "late": 14, "skipped": 10}  # nothing lost
    skipped = [p for p in await env.schedule.posted(100) if p.status == "skipped"]
    assert len(skipped) == 10 and all(p.sent_at is None and "overdue" in p.reason for p in skipped)


async def test_stop_in_the_middle_of_a_backlog_finishes_the_current_post_only(env):
    await add_minutely(env, 12)
    entered, release = asyncio.Event(), asyncio.Event()
    first: list[int] = []

    async def slow(reminder: Reminder) -> None:
        first.append(reminder.id)
        if len(first) == 5:
            entered.set()
            await release.wait()

    env.clock.set(START + 13 * MINUTE)
    runner = env.runner(slow)
    ticking = asyncio.create_task(runner.tick())
    await entered.wait()
    stopping = asyncio.create_task(runner.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # waits for the post in progress
    release.set()
    await stopping
    assert await ticking == 5
    assert await env.statuses() == {"late": 5, "pending": 7}  # a backlog: posted late

    second = Recorder(env.clock)
    runner = env.runner(second)
    await runner.start()
    await runner.stop()
    assert len(second.ids) == 7 and not set(first) & set(second.ids)
    assert await env.statuses() == {"late": 12 - 1, "sent": 1}


async def test_a_sigkilled_runner_never_causes_a_second_post(env, tmp_path):
    count = 150
    env.clock.set(START - MINUTE)
    for i in range(count):  # due every 20 ms from START
        await env.schedule.add(f"R{i}", START + timedelta(milliseconds=20 * i), remind_before=["0s"])
    out = tmp_path / "posted.txt"
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(
        target=timer_runner_worker, daemon=True,
        args=(str(env.config_path), env.db, str(out), iso(START - timedelta(seconds=0.3)), 0.01),
    )
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and len(out.read_text().split()) >= 40):
            assert process.is_alive() and time.monotonic() < deadline, "the runner process did not post"
            await asyncio.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.join(10)
    assert process.exitcode == -signal.SIGKILL
    before = out.read_text().split()
    assert 0 < len(before) < count  # killed mid-way

    env.clock.set(START + timedelta(seconds=10))

    async def append(reminder: Reminder) -> None:
        with out.open("a") as f:
            f.write(f"{reminder.id}\n")

    runner = env.runner(append)
    await runner.start()
    await runner.stop()
    lines = [int(x) for x in out.read_text().split()]
    assert max(Counter(lines).values()) == 1  # no reminder posted twice
    statuses = dict(await env.store.fetchall("SELECT id, status FROM reminders"))
    interrupted = {i for i, s in statuses.items() if s == "failed"}
    assert len(interrupted) <= 1  # at most the one being posted when killed
    assert set(lines) | interrupted == set(statuses)  # nothing lost silently
    assert set(statuses.values()) <= {"sent", "failed"}
    if interrupted:
        [report] = env.reports
        assert "may not have been posted" in report
        [failed] = [p for p in await env.schedule.posted(count) if p.status == "failed"]
        assert failed.reason.startswith("interrupted")
    else:
        assert env.reports == []


async def test_a_claim_left_by_a_dead_process_is_reported_not_reposted(env):
    await add_minutely(env, 4)
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()  # exited and reaped: its pid names no process
    host = default_owner().rpartition(":")[0]
    env.clock.set(START + 4 * MINUTE)
    claims = {
        1: f"{host}:{dead.pid}",  # a process of this host that is gone
        2: "other-host:1",  # a process elsewhere, just claimed: may still be posting it
        3: "bot-1",  # this runner's own name: a previous life (a container restarts as the same pid)
    }
    for reminder_id, owner in claims.items():
        await env.store.execute(
            "UPDATE reminders SET status = 'sending', claimed_by = ?, claimed_at = ? WHERE id = ?",
            (owner, env.clock().timestamp() - 30, reminder_id),
        )
    poster = Recorder(env.clock)
    runner = env.runner(poster, owner="bot-1")
    await runner.start()
    await runner.stop()
    assert poster.ids == [4]
    [report] = env.reports
    assert "2 reminder(s) may not have been posted" in report
    assert "'Item 001'" in report and "'Item 003'" in report and "'Item 002'" not in report
    assert await env.statuses() == {"failed": 2, "sending": 1, "sent": 1}

    env.clock.advance(seconds=SENDING_STALE.total_seconds())  # that claim never finished
    assert await runner.recover_interrupted() == 1
    assert "'Item 002'" in env.reports[-1] and poster.ids == [4]


async def test_two_processes_post_every_reminder_exactly_once(env):
    for i in range(100):
        await env.schedule.add(f"T{i}", START + timedelta(seconds=30 + 20 * i), remind_before=["30s", "0s"])
    assert len(await env.due_of()) == 200
    # every 150 s of shared fake time, both processes tick at once and race for ~15 rows
    times = [iso(START + timedelta(seconds=150 * k)) for k in range(1, 15)]
    reports = run_processes(tick_worker, [((str(env.config_path), env.db), (times,))] * 2)
    posted = [i for report in reports for i in report]
    assert sorted(posted) == sorted(await env.due_of())  # every one, once in total
    assert sum((await env.statuses()).values()) == 200 and set(await env.statuses()) == {"sent", "late"}


# --- failures ----------------------------------------------------------------------------

class Flaky:
    def __init__(self, failures: int, *, retryable: bool = True, error: Exception | None = None):
        self.failures, self.retryable, self.error = failures, retryable, error
        self.calls = 0
        self.posted: list[Reminder] = []

    async def __call__(self, reminder: Reminder) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error or PostFailed(self.retryable, "Discord answered 503")
        self.posted.append(reminder)


async def one_reminder(env: Env) -> None:
    await env.schedule.add("Keynote", START + timedelta(hours=1), remind_before=["10m"], channel="talks")
    env.clock.set(START + timedelta(minutes=50))


async def row(env: Env) -> tuple:
    return await env.store.fetchone("SELECT status, attempts, next_try, error FROM reminders")


async def test_a_failed_post_is_retried_with_backoff_then_posted(env):
    await one_reminder(env)
    due = env.clock()
    poster = Flaky(2)
    runner = env.runner(poster)
    assert await runner.tick() == 0
    assert await row(env) == ("pending", 1, (due + timedelta(seconds=5)).timestamp(), "Discord answered 503")
    env.clock.advance(seconds=4)
    assert await runner.tick() == 0 and poster.calls == 1  # not before its backoff
    env.clock.advance(seconds=1)
    assert await runner.tick() == 0 and poster.calls == 2
    assert (await row(env))[:3] == ("pending", 2, (due + timedelta(seconds=35)).timestamp())
    env.clock.set(due + timedelta(seconds=35))
    assert await runner.tick() == 1 and poster.calls == 3
    assert (await row(env))[0] == "sent" and env.reports == []


async def test_a_post_that_keeps_failing_is_marked_failed_and_reported(env):
    await one_reminder(env)
    poster = Flaky(99)
    runner = env.runner(poster)
    for _ in range(10):
        await runner.tick()
        env.clock.advance(minutes=1)
    assert poster.calls == 4  # one try and three retries (5 s, 30 s, 2 min)
    assert (await row(env))[:2] == ("failed", 4)
    [report] = env.reports
    assert "'Keynote' (10m before" in report and "in #talks" in report
    assert "NOT posted after 4 attempts: Discord answered 503" in report
    [failed] = await env.schedule.posted()
    assert failed.status == "failed" and failed.sent_at is None and failed.reason == "Discord answered 503"


async def test_a_post_that_cannot_succeed_fails_at_once(env):
    await one_reminder(env)
    poster = Flaky(99, error=PostFailed(False, "no channel #talks in the server"))
    runner = env.runner(poster)
    await runner.tick()
    env.clock.advance(minutes=5)
    await runner.tick()
    assert poster.calls == 1 and (await row(env))[:2] == ("failed", 1)
    [report] = env.reports
    assert "not retried" in report and "no channel #talks in the server" in report


async def test_an_unexpected_poster_error_is_retried_and_429_waits_as_told(env, caplog):
    await one_reminder(env)
    due = env.clock()
    poster = Flaky(1, error=RuntimeError("boom"))
    runner = env.runner(poster)
    await runner.tick()
    assert (await row(env))[:2] == ("pending", 1) and "RuntimeError: boom" in (await row(env))[3]
    poster.failures, poster.error = 2, PostFailed(True, "429", retry_after=42)
    env.clock.advance(seconds=5)
    await runner.tick()
    assert (await row(env))[2] == (due + timedelta(seconds=5 + 42)).timestamp()


async def test_a_failing_organizers_report_does_not_stop_the_reminders(env):
    await add_minutely(env, 3)
    env.clock.set(START + timedelta(hours=1))  # all three are skipped

    async def broken(message: str) -> None:
        raise RuntimeError("log channel gone")

    poster = Recorder(env.clock)
    runner = ReminderRunner(env.store, env.config, env.schedule, poster, clock=env.clock, report=broken)
    await runner.tick()
    await env.schedule.add("Later", START + timedelta(hours=2), remind_before=["0m"])
    env.clock.set(START + timedelta(hours=2))
    assert await runner.tick() == 1
    assert await env.statuses() == {"skipped": 3, "sent": 1}


# --- the real timer ----------------------------------------------------------------------

async def test_the_timer_fires_rows_and_follows_live_changes(tmp_path, db):
    """Real clock and APScheduler: reminders fire without anyone calling tick(), and one added
    after start gets a timer (the runner follows the schedule's changes)."""
    now = datetime.now(UTC)
    store, config, schedule = await open_schedule(
        write_schedule_event(tmp_path / "e"), db, lambda: datetime.now(UTC)
    )
    got: list[str] = []
    done = asyncio.Event()

    async def poster(reminder: Reminder) -> None:
        got.append(reminder.item.title)
        if len(got) == 4:
            done.set()

    for k in range(3):
        await schedule.add(f"Soon {k}", now + timedelta(seconds=0.2 + 0.1 * k), remind_before=["0s"])
    moved = await schedule.add("Moved", now + timedelta(hours=1), remind_before=["0s"])
    runner = ReminderRunner(store, config, schedule, poster)
    await runner.start()
    try:
        await schedule.edit(moved.id, at=datetime.now(UTC) + timedelta(seconds=0.3))
        await asyncio.wait_for(done.wait(), 20)
    finally:
        await runner.stop()
        await store.close()
    assert sorted(got) == ["Moved", "Soon 0", "Soon 1", "Soon 2"]

