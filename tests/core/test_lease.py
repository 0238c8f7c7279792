"""The Discord gateway lease (bot/core/lease.py): at most one holder, taken over when the holder
dies (SIGKILL) or is paused past its expiry (SIGSTOP), and a holder that lost it cannot act on it
(fencing by epoch), on SQLite and PostgreSQL, with real OS processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core.lease import GatewayLease, LeaseLost, lease_status
from bot.core.store import Store
from tests.core.lease_workers import ACTS, ID, act
from tests.databases import query

ROOT = Path(__file__).resolve().parents[2]


async def test_one_holder_then_the_next_epoch_after_expiry(db):
    store = await Store.open(db)
    try:
        first = GatewayLease(store, holder="first", ttl=0.5)
        second = GatewayLease(store, holder="second", ttl=0.5)
        assert (await lease_status(store)).free
        assert await first.try_acquire() == 1 and first.valid()
        assert await second.try_acquire() is None  # held: the standby waits
        assert await first.renew()
        status = await lease_status(store)
        assert (status.holder, status.epoch) == ("first", 1) and 0 < status.expires_in <= 0.5
        await asyncio.sleep(0.6)  # first is "paused" past its expiry
        assert not first.valid()
        assert await second.try_acquire() == 2
        assert not await first.renew()  # the lost epoch is never renewed
        with pytest.raises(LeaseLost):
            first.fence_params()
        # the fence: a write under epoch 1 changes nothing now, one under epoch 2 does
        await store.execute(ACTS.format(id=ID[store.dialect]))
        assert await store.run(act, "first", 1, 0) == 0
        assert await store.run(act, *second.fence_params(), 0) == 1
        await second.release()
        assert (await lease_status(store)).free
        assert await first.try_acquire() == 3  # released: taken at once, under a new epoch
    finally:
        await store.close()


async def test_a_paused_holder_finds_its_renewal_refused_even_if_nobody_took_over(db):
    store = await Store.open(db)
    try:
        lease = GatewayLease(store, holder="sleeper", ttl=0.3)
        assert await lease.try_acquire() == 1
        await asyncio.sleep(0.4)
        lease._deadline = time.monotonic() + 10  # noqa: SLF001 (as if its local clock had not noticed)
        assert not await lease.renew()  # the database's clock says it expired: acquire again
        assert await lease.try_acquire() == 2
    finally:
        await store.close()


async def test_a_dead_holder_of_this_machine_is_replaced_at_once(db):
    store = await Store.open(db)
    try:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await proc.wait()
        dead = GatewayLease(store, ttl=60)
        dead.holder = dead.holder.replace(f"pid {os.getpid()} ", f"pid {proc.pid} ")
        assert await dead.try_acquire() == 1
        alive = GatewayLease(store, ttl=60)
        assert await alive.try_acquire() == 2  # the holder's process is gone: no 60 s wait
        other = GatewayLease(store, ttl=60)
        assert await other.try_acquire() is None  # a live holder keeps it
    finally:
        await store.close()


# --- real processes --------------------------------------------------------------------------

class Worker:
    def __init__(self, db: str, ttl: float, log: Path):
        self.log = log
        self.file, self.errors = log.open("w"), log.with_suffix(".err").open("w")  # stderr: the lease's log
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.core.lease_workers", db, str(ttl)],
                                     cwd=ROOT, stdout=self.file, stderr=self.errors)

    def lines(self) -> list[list[str]]:
        return [line.split() for line in self.log.read_text().splitlines() if line.strip()]

    def events(self, kind: str) -> list[list[str]]:
        return [line for line in self.lines() if line[0] == kind]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(10)
        self.file.close()
        self.errors.close()


async def until(predicate, seconds: float, what: str, workers: list[Worker]) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.log.name}\n{w.log.read_text()}" for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.05)


async def test_a_standby_takes_over_within_30_s_of_a_sigkill(db, tmp_path):
    """With the default ttl (15 s): the holder is killed, the standby holds the gateway before 30 s."""
    store = await Store.open(db)
    await store.execute(ACTS.format(id=ID[store.dialect]))
    await store.close()
    workers = [Worker(db, 15.0, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        await until(lambda: any(w.events("acquired") for w in workers), 30, "a holder", workers)
        holder = next(w for w in workers if w.events("acquired"))
        standby = next(w for w in workers if w is not holder)
        await until(lambda: len(holder.events("act")) >= 3 and standby.events("holder"), 30, "acts", workers)
        assert not standby.events("acquired")  # at most one holder
        holder.proc.send_signal(signal.SIGKILL)
        holder.proc.wait(10)
        await until(lambda: standby.events("acquired"), 30, "the standby to take over within 30 s", workers)
        await until(lambda: standby.events("act"), 10, "the standby to act", workers)
        assert standby.events("acquired")[0][1] == "2"
    finally:
        for w in workers:
            w.stop()
    rows = await query(db, "SELECT epoch, holder FROM lease_acts ORDER BY id")
    assert {e for e, _ in rows} == {1, 2} and [e for e, _ in rows] == sorted(e for e, _ in rows)


async def test_a_paused_holder_that_comes_back_cannot_act_on_the_lease_it_lost(db, tmp_path):
    store = await Store.open(db)
    await store.execute(ACTS.format(id=ID[store.dialect]))
    await store.close()
    workers = [Worker(db, 1.5, tmp_path / "w0.log")]
    try:
        await until(lambda: len(workers[0].events("act")) >= 3, 30, "the first holder to act", workers)
        workers.append(Worker(db, 1.5, tmp_path / "w1.log"))
        old, new = workers
        await until(lambda: bool(new.events("holder")), 30, "the standby to start", workers)
        old.proc.send_signal(signal.SIGSTOP)  # paused: a frozen VM, a long GC pause
        await until(lambda: new.events("acquired"), 30, "the standby to take over", workers)
        await until(lambda: len(new.events("act")) >= 5, 30, "the new holder to act", workers)
        old.proc.send_signal(signal.SIGCONT)
        await until(lambda: old.events("lost"), 30, "the paused holder to notice", workers)
        await until(lambda: len(new.events("act")) >= 15, 30, "the new holder to keep acting", workers)
        assert old.events("lost") == [["lost", "1"]]
        assert len(old.events("acquired")) == 1  # standing by again, not holding
        assert not new.events("lost")
    finally:
        for w in workers:
            w.stop()
    rows = await query(db, "SELECT epoch, holder FROM lease_acts ORDER BY id")
    epochs = [e for e, _ in rows]
    assert epochs == sorted(epochs) and set(epochs) == {1, 2}  # nothing of epoch 1 after epoch 2 began
    # every act the old holder tried after coming back was refused by its own deadline or the fence
    assert all(line[3] == "1" for line in old.events("act"))
