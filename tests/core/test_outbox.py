"""The outbox (bot/core/outbox.py) on both databases: rows commit with their cause, a key is
enqueued once, failures are retried or given up with the reason, and two drainers in two OS
processes, or a drainer killed with SIGKILL and started again, deliver every row exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_event
from bot.core.errors import AlreadyDone
from bot.core.outbox import MAX_ATTEMPTS, DeliveryFailed, Outbox, OutboxDrainer, OutboxRow, enqueue, nonce
from bot.core.reminders import ReminderRunner
from bot.core.services import Services
from bot.core.store import Store, Tx
from bot.core.teams import team_lane
from tests.core.helpers import Clock, write_event
from tests.core.outbox_workers import drain_worker, killed_drainer
from tests.core.workers import run_processes


@pytest.fixture
async def store(db):
    opened = await Store.open(db)
    yield opened
    await opened.close()


class Recorder:
    """An executor that records what it ran; fails the first `failures` calls of a key."""

    def __init__(self, failures: int = 0, *, retryable: bool = True, retry_after: float | None = None):
        self.failures, self.retryable, self.retry_after = failures, retryable, retry_after
        self.runs: list[OutboxRow] = []

    async def __call__(self, row: OutboxRow) -> dict:
        self.runs.append(row)
        if sum(r.key == row.key for r in self.runs) <= self.failures:
            raise DeliveryFailed(self.retryable, "Discord answered 503" if self.retryable else "Missing Access",
                                 retry_after=self.retry_after)
        return {"message_id": 1000 + row.id}


async def rows(store: Store) -> list[tuple]:
    return await store.fetchall("SELECT key, kind, status, attempts, last_error, result FROM outbox ORDER BY id")


async def add(store: Store, n: int, *, lanes: int = 0) -> list[str]:
    keys = [f"post:{i}" for i in range(n)]

    async def hop(tx: Tx) -> None:
        async with tx.transaction():
            for i, key in enumerate(keys):
                await enqueue(tx, "message", key, {"content": f"hello {i}"}, lane=f"c{i % lanes}" if lanes else "")

    await store.run(hop)
    return keys


# --- enqueue ---------------------------------------------------------------------------------

async def test_a_row_commits_with_the_change_that_causes_it_or_not_at_all(store):
    async def refused(tx: Tx) -> None:
        async with tx.transaction():
            await enqueue(tx, "message", "post:refused", {"content": "never"})
            raise AlreadyDone("a team named 'Blue' exists already")

    with pytest.raises(AlreadyDone):
        await store.run(refused)
    assert await rows(store) == []
    assert await Outbox(store).enqueue("message", "post:kept", {"content": "hello"})
    assert [r[:4] for r in await rows(store)] == [("post:kept", "message", "pending", 0)]


async def test_the_same_key_twice_is_one_side_effect(store):
    outbox = Outbox(store)
    assert await outbox.enqueue("announcement", "winners:3..abc", {"parts": [{"content": "first"}]})
    assert not await outbox.enqueue("announcement", "winners:3..abc", {"parts": [{"content": "second"}]})
    recorder = Recorder()
    await OutboxDrainer(outbox, recorder).drain()
    assert [r.payload["parts"][0]["content"] for r in recorder.runs] == ["first"]


async def test_team_changes_enqueue_their_discord_side_effects_in_order(tmp_path, db):
    services = await Services.open(load_event(write_event(tmp_path / "event")), db, clock=Clock())
    try:
        team = (await services.teams.create("Blue", captain="1")).team
        await services.roster.set_open("1", True)
        await services.roster.join("2", "Blue", None)
        await services.roster.rename("1", "Navy")
        await services.roster.leave("2")
        await services.roster.leave("1")  # the last one out: disbanded
        await services.teams.create("Red", captain="3")
        with pytest.raises(AlreadyDone):
            await services.teams.create("red", captain="4")  # refused: its row is rolled back with it
        await services.teams.create("Green")  # no captain (the CLI): no space to make yet
        found = await services.store.fetchall("SELECT kind, lane, payload FROM outbox ORDER BY id")
    finally:
        await services.close()
    kinds = [k for k, _, _ in found]
    assert kinds == ["team.space", "team.join", "team.rename", "team.leave", "team.disband", "team.space"]
    assert {lane for _, lane, _ in found[:5]} == {team_lane(team.id)}
    assert '"captain":"1"' in found[0][2] and '"user_id":"2"' in found[1][2]


# --- draining ------------------------------------------------------------------------------------

async def test_a_drain_sends_every_row_once_and_records_the_result(store):
    keys = await add(store, 30, lanes=4)
    recorder = Recorder()
    stats = await OutboxDrainer(Outbox(store), recorder, batch=7, concurrency=3).drain()
    assert sorted(r.key for r in recorder.runs) == sorted(keys) and stats.sent == 30
    lanes: dict[str, list[int]] = {}
    for run in recorder.runs:
        lanes.setdefault(run.lane, []).append(run.id)
    assert all(ids == sorted(ids) for ids in lanes.values())  # a lane runs in order
    status = await Outbox(store).status()
    assert status.counts == {"pending": 0, "sending": 0, "sent": 30, "failed": 0}
    assert status.drained and status.time_to_drain is not None
    assert (await Outbox(store).delivery("post:3")).result == {"message_id": 1004}


async def test_a_retryable_failure_is_tried_again_after_a_backoff(store):
    await add(store, 1)
    recorder = Recorder(failures=1, retry_after=30)
    drainer = OutboxDrainer(Outbox(store), recorder)
    before = time.time()
    await drainer.drain()  # the first attempt fails; the row waits for its backoff
    key, _, status, attempts, error, _ = (await rows(store))[0]
    assert (status, attempts, error) == ("pending", 1, "Discord answered 503")
    next_at = await store.fetchval("SELECT next_attempt_at FROM outbox")
    assert next_at >= before + 30  # Discord's retry_after, over the first backoff
    await store.execute("UPDATE outbox SET next_attempt_at = 0")  # time passes
    await drainer.drain()
    assert [(r[2], r[3], r[4]) for r in await rows(store)] == [("sent", 2, None)]
    assert [r.key for r in recorder.runs] == [key, key]


async def test_a_permanent_refusal_is_not_retried_and_is_reported(store):
    await add(store, 2)
    reports: list[str] = []

    async def report(text: str) -> None:
        reports.append(text)

    recorder = Recorder(failures=1, retryable=False)
    await OutboxDrainer(Outbox(store), recorder, report=report).drain()
    assert [(r[2], r[3], r[4]) for r in await rows(store)] == [("failed", 1, "Missing Access")] * 2
    assert len(reports) == 2 and all("Missing Access" in r and "outbox status" in r for r in reports)
    assert sorted(r.split(", ")[1].split(")")[0] for r in reports) == ["post:0", "post:1"]
    status = await Outbox(store).status()
    assert status.counts["failed"] == 2 and {f.error for f in status.failed} == {"Missing Access"}
    assert await Outbox(store).retry_failed("post:1") == 1  # after the organizers fixed the permission
    await OutboxDrainer(Outbox(store), recorder).drain()
    assert [r[2] for r in await rows(store)] == ["failed", "sent"]


async def test_a_row_that_keeps_failing_gives_up_after_the_last_attempt(store):
    await add(store, 1)
    recorder = Recorder(failures=MAX_ATTEMPTS + 5)
    drainer = OutboxDrainer(Outbox(store), recorder)
    for _ in range(MAX_ATTEMPTS):
        await store.execute("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'")
        await drainer.drain()
    assert [(r[2], r[3]) for r in await rows(store)] == [("failed", MAX_ATTEMPTS)]
    assert len(recorder.runs) == MAX_ATTEMPTS


async def test_an_inactive_drainer_claims_nothing_until_it_holds_the_gateway(store):
    await add(store, 3)
    active = False
    recorder = Recorder()
    drainer = OutboxDrainer(Outbox(store), recorder, is_active=lambda: active, poll=0.02)
    await drainer.start()
    try:
        await asyncio.sleep(0.2)
        assert recorder.runs == [] and {r[2] for r in await rows(store)} == {"pending"}
        active = True
        await Outbox(store).wait("post:2", within=10)
    finally:
        await drainer.stop()
    assert len(recorder.runs) == 3 and {r[2] for r in await rows(store)} == {"sent"}


async def test_an_enqueue_in_this_process_wakes_the_drainer_at_once(store):
    recorder = Recorder()
    outbox = Outbox(store)
    drainer = OutboxDrainer(outbox, recorder, poll=30)  # it would not look again for 30 s by itself
    await drainer.start()
    try:
        await outbox.enqueue("message", "post:now", {"content": "hi"})
        done = await outbox.wait("post:now", within=10)
    finally:
        await drainer.stop()
    assert done is not None and done.status == "sent"


async def test_deliver_lane_runs_the_commands_own_rows_in_order(store):
    await add(store, 6, lanes=2)
    recorder = Recorder()
    drainer = OutboxDrainer(Outbox(store), recorder)
    done = await drainer.deliver_lane("c1")
    assert [d.key for d in done] == ["post:1", "post:3", "post:5"] and {d.status for d in done} == {"sent"}
    assert [r.key for r in recorder.runs] == ["post:1", "post:3", "post:5"]
    assert await drainer.deliver_lane("c1") == []


# --- reminders ----------------------------------------------------------------------------------

async def test_a_due_reminder_is_handed_to_the_outbox_once(tmp_path, db):
    clock = Clock()
    services = await Services.open(load_event(write_event(tmp_path / "event")), db, clock=clock)
    try:
        start = clock()
        await services.schedule.add("Keynote", start + timedelta(minutes=10), remind_before=["5m"], channel="talks")

        async def never(reminder) -> None:
            raise AssertionError("with an outbox, the runner posts nothing itself")

        runners = [ReminderRunner(services.store, services.config, services.schedule, never, clock=clock,
                                  outbox=services.outbox, owner=f"r{i}") for i in range(2)]
        clock.advance(minutes=6)
        assert [await r.tick() for r in runners] == [1, 0]
        found = await services.store.fetchall("SELECT kind, key, payload FROM outbox")
        statuses = dict(await services.store.fetchall("SELECT id, status FROM reminders"))
    finally:
        await services.close()
    assert len(found) == 1 and found[0][0] == "reminder" and "Keynote" in found[0][2] and '"talks"' in found[0][2]
    assert statuses[int(found[0][1].removeprefix("reminder:"))] == "sent"
    assert list(statuses.values()).count("sent") == 1  # the others are not due yet


# --- several processes, and a crash -----------------------------------------------------------

def delivered(out: Path) -> tuple[Counter, Counter]:
    """(executions per key, messages per key as Discord keeps them: one per distinct nonce)."""
    lines = [line.split() for line in out.read_text().splitlines()]
    runs = Counter(key for _, key, _ in lines)
    kept = Counter(key for key, _ in {(key, tag) for _, key, tag in lines})
    return runs, kept


async def test_two_drainer_processes_deliver_every_row_exactly_once(store, db, tmp_path):
    keys = await add(store, 400, lanes=16)
    out = tmp_path / "discord.txt"
    reports = run_processes(drain_worker, [((db, str(out)), (0.002,))] * 2, timeout=120)
    runs, _ = delivered(out)
    assert runs == Counter(dict.fromkeys(keys, 1))  # not even executed twice: one claim a row
    assert sum(sent for _, sent in reports) == 400 and all(claimed > 0 for claimed, _ in reports)
    assert (await Outbox(store).status()).counts["sent"] == 400


async def test_a_drainer_killed_mid_drain_loses_nothing_and_posts_nothing_twice(store, db, tmp_path):
    keys = await add(store, 300, lanes=10)
    out = tmp_path / "discord.txt"
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(target=killed_drainer, args=(db, str(out), 0.01), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and len(out.read_text().splitlines()) >= 60):
            assert process.is_alive() and time.monotonic() < deadline, "the drainer process did not drain"
            await asyncio.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.join(10)
    assert process.exitcode == -signal.SIGKILL
    status = await Outbox(store).status()
    assert status.counts["sending"] > 0 and status.counts["pending"] > 0  # killed with rows under way

    # started again (a new process: its predecessor's claims are a dead process's)
    with out.open("a", encoding="utf-8") as f:
        async def execute(row: OutboxRow) -> dict:
            f.write(f"{os.getpid()} {row.key} {row.nonce}\n")
            return {}

        stats = await OutboxDrainer(Outbox(store), execute).drain()
    assert stats.recovered == status.counts["sending"]
    runs, kept = delivered(out)
    assert kept == Counter(dict.fromkeys(keys, 1))  # every row delivered, each message once
    assert max(runs.values()) <= 2  # only the interrupted rows ran again, with the same nonce
    assert (await Outbox(store).status()).counts == {"pending": 0, "sending": 0, "sent": 300, "failed": 0}
    assert await store.fetchval("SELECT count(*) FROM outbox WHERE status != 'sent'") == 0


def test_a_nonce_fits_discord_and_is_the_same_in_every_process():
    assert len(nonce("team.space:12:1:1700000000.0")) == 25
    assert nonce("a") == nonce("a") != nonce("b")


async def test_a_drainer_starting_puts_back_its_past_lifes_claims_but_not_its_own(store):
    await add(store, 2)
    outbox = Outbox(store)
    recorder = Recorder()
    first = OutboxDrainer(outbox, recorder, owner="host:1")
    await store.execute("UPDATE outbox SET status = 'sending', claimed_by = 'host:1', claimed_at = ?",
                        (time.time(),))  # claimed by this drainer (the interaction's fast path, say)
    assert await first.recover(own="host:1") == 0  # its own claims, under way: never run twice
    again = OutboxDrainer(outbox, recorder, owner="host:1")  # the same name after a restart
    assert await again.recover(own="host:1") == 2
    await again.drain()
    assert sorted(r.key for r in recorder.runs) == ["post:0", "post:1"]
