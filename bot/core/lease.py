"""The Discord gateway lease: at most one process holds the gateway at a time.

One row in the database (`gateway_lease`: holder, epoch, expires_at), taken and renewed by guarded
single statements, timed by the database's clock (one clock for every machine):

- acquire: `UPDATE ... SET holder = me, epoch = epoch + 1, expires_at = now + ttl WHERE the lease
  is free or expired` (or held by a process of this machine that no longer exists);
- renew: `UPDATE ... SET expires_at = now + ttl WHERE holder = me AND epoch = mine AND
  expires_at >= now`: the epoch is the fencing token. A holder that was paused (SIGSTOP, a VM
  frozen, a long GC) past its expiry finds its renewal refused even when nobody took the lease
  meanwhile, and must acquire again, under a new epoch;
- release: a clean stop frees the lease at once, so a standby takes over without waiting.

The holder also keeps a local deadline (the time it sent its last successful renewal plus the
ttl, on the monotonic clock): `valid()` turns False the moment that passes, before any renewal
is tried, so a process that wakes from a pause stops acting before it even asks the database.
Work done under the lease (the outbox drainer) shows the epoch in its writes with `FENCE`: a
write of a holder that lost the lease changes nothing.

With the defaults (ttl 15 s, renewal every 5 s, a standby trying every 3 s), a standby takes over
within 18 s of the holder's death by SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.errors import Unavailable
from bot.core.store import Store, Tx

log = logging.getLogger(__name__)

TTL = 15.0
RENEW_EVERY = 5.0
POLL_EVERY = 3.0

# the database's clock, in seconds since the epoch (SQLite: julianday has millisecond precision)
NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgres": "extract(epoch FROM clock_timestamp())::float8",
}


def fence(dialect: str) -> str:
    """A condition for a write made under the lease: true only while (holder, epoch), given as
    two `?` parameters, still hold it. `INSERT ... SELECT ... WHERE {fence}`, `UPDATE ... AND {fence}`."""
    return (f"EXISTS (SELECT 1 FROM gateway_lease WHERE id = 1 AND holder = ? AND epoch = ?"
            f" AND expires_at >= {NOW[dialect]})")


@dataclass(frozen=True)
class LeaseStatus:
    """What `hackbot db lease` shows: who holds the gateway, under which epoch, for how long."""

    holder: str | None
    epoch: int
    expires_in: float  # seconds from now by the database's clock; <= 0: expired (free to take)
    held_for: float | None  # seconds since it was acquired

    @property
    def free(self) -> bool:
        return self.holder is None or self.expires_in <= 0


def holder_name() -> str:
    """This process's name in the lease: machine, pid namespace and pid (to recognize a dead holder
    of this machine), and a random tag (a reused pid is another holder)."""
    return f"{socket.gethostname()} ns {_pid_namespace()} pid {os.getpid()} #{secrets.token_hex(4)}"


def _pid_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


_HOLDER = re.compile(r"^(?P<host>.+) ns (?P<ns>\d+) pid (?P<pid>\d+) #[0-9a-f]+$")


def dead_local_holder(holder: str | None) -> bool:
    """True when the holder was a process of this machine (same host and pid namespace) that no
    longer exists: a bot restarted after a crash takes its lease back at once instead of waiting
    for it to expire."""
    match = _HOLDER.match(holder or "")
    if match is None or match["host"] != socket.gethostname():
        return False
    namespace = int(match["ns"])
    if namespace == 0 or namespace != _pid_namespace():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False  # this very process under another tag: it knows its own state
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


async def _status(tx: Tx) -> LeaseStatus:
    row = await tx.fetchone(
        f"SELECT holder, epoch, expires_at - {NOW[tx.dialect]}, {NOW[tx.dialect]} - acquired_at"
        " FROM gateway_lease WHERE id = 1"
    )
    if row is None:  # the migration inserts the row; a database without it has no holder
        return LeaseStatus(None, 0, 0.0, None)
    return LeaseStatus(row[0], int(row[1]), float(row[2]), None if row[3] is None else float(row[3]))


async def _acquire(tx: Tx, holder: str, ttl: float, dead: str | None) -> int | None:
    now = NOW[tx.dialect]
    # an upsert: the row is written by the first acquisition (a database copied or emptied has none)
    rows = await tx.fetchall(  # fetchall: the statement runs to its end (and commits) before the row is read
        f"INSERT INTO gateway_lease AS l (id, holder, epoch, expires_at, acquired_at) VALUES (1, ?, 1, {now} + ?, {now})"
        f" ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = l.epoch + 1,"
        f" expires_at = excluded.expires_at, acquired_at = excluded.acquired_at"
        f" WHERE l.holder IS NULL OR l.expires_at < {now} OR l.holder = ? RETURNING epoch",
        (holder, float(ttl), dead),
    )
    return int(rows[0][0]) if rows else None


async def _renew(tx: Tx, holder: str, epoch: int, ttl: float) -> int:
    now = NOW[tx.dialect]
    return await tx.execute(
        f"UPDATE gateway_lease SET expires_at = {now} + ?"
        f" WHERE id = 1 AND holder = ? AND epoch = ? AND expires_at >= {now}",
        (float(ttl), holder, epoch),
    )


async def _release(tx: Tx, holder: str, epoch: int) -> int:
    return await tx.execute(
        "UPDATE gateway_lease SET holder = NULL, expires_at = 0 WHERE id = 1 AND holder = ? AND epoch = ?",
        (holder, epoch),
    )


async def lease_status(store: Store) -> LeaseStatus:
    return await store.run(_status)


class GatewayLease:
    """This process's side of the lease. `await acquire()` waits until it holds it (and returns the
    epoch); `await keep()` renews it and returns when it is lost; `release()` frees it."""

    def __init__(self, store: Store, *, holder: str | None = None, ttl: float = TTL,
                 renew_every: float | None = None, poll_every: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if ttl <= 0:
            raise ValueError("the lease's ttl must be positive")
        self.store = store
        self.holder = holder or holder_name()
        self.ttl = ttl
        self.renew_every = renew_every if renew_every is not None else ttl / 3
        self.poll_every = poll_every if poll_every is not None else min(POLL_EVERY, ttl / 5)
        self.clock = clock
        self.epoch: int | None = None
        self._deadline = 0.0

    def valid(self) -> bool:
        """Whether this process may act as the gateway holder now (its local deadline not passed)."""
        return self.epoch is not None and self.clock() < self._deadline

    def fence_params(self) -> tuple[str, int]:
        """The two parameters of `fence(dialect)`; raises LeaseLost when the lease is not held."""
        if self.epoch is None or not self.valid():
            raise LeaseLost(self.epoch)
        return (self.holder, self.epoch)

    async def status(self) -> LeaseStatus:
        return await lease_status(self.store)

    async def try_acquire(self) -> int | None:
        """One attempt: the new epoch, or None when another live process holds the lease."""
        current = await self.store.run(_status)
        dead = current.holder if not current.free and dead_local_holder(current.holder) else None
        sent = self.clock()
        epoch = await self.store.run(_acquire, self.holder, self.ttl, dead)
        if epoch is None:
            return None
        self.epoch, self._deadline = int(epoch), sent + self.ttl
        if dead is not None:
            log.info("took the gateway lease of %s, a process of this machine that no longer runs", dead)
        return self.epoch

    async def acquire(self) -> int:
        """Wait until this process holds the lease; its epoch."""
        announced = False
        while True:
            try:
                epoch = await self.try_acquire()
            except Unavailable as exc:
                log.warning("cannot reach the database to take the gateway lease: %s", exc.reason)
                epoch = None
            if epoch is not None:
                log.info("holding the gateway lease (epoch %d)", epoch)
                return epoch
            if not announced:
                held = await self._status_or_none()
                log.info("standing by: the gateway lease is held by %s; taking over when it expires",
                         held.holder if held else "another process")
                announced = True
            await asyncio.sleep(self.poll_every)

    async def renew(self) -> bool:
        """One renewal: False when the lease is lost (taken over, or expired unrenewed)."""
        if self.epoch is None:
            return False
        sent = self.clock()
        if sent >= self._deadline:
            return False  # expired here already: never renew a lease another process may hold
        if await self.store.run(_renew, self.holder, self.epoch, self.ttl) != 1:
            return False
        self._deadline = sent + self.ttl
        return True

    async def keep(self) -> int:
        """Renew the lease until it is lost; the epoch lost. A database that cannot be reached is
        retried until the local deadline passes."""
        epoch = self.epoch
        if epoch is None:
            raise LeaseLost(None)
        while True:
            wait = min(self.renew_every, max(0.0, self._deadline - self.clock() - self.renew_every / 2))
            await asyncio.sleep(wait)
            try:
                kept = await self.renew()
            except Unavailable as exc:
                if self.valid():
                    log.warning("cannot renew the gateway lease (epoch %d) now: %s", epoch, exc.reason)
                    await asyncio.sleep(min(1.0, self.renew_every / 5))
                    continue
                kept = False
            if not kept:
                self.epoch = None
                log.warning("lost the gateway lease (epoch %d): another process holds it, or it expired "
                            "unrenewed; this process stops acting on it", epoch)
                return epoch

    async def release(self) -> None:
        """Free the lease now (a clean stop): a standby takes over at its next attempt."""
        epoch, self.epoch = self.epoch, None
        if epoch is None:
            return
        try:
            await self.store.run(_release, self.holder, epoch)
            log.info("released the gateway lease (epoch %d)", epoch)
        except Unavailable as exc:
            log.warning("cannot release the gateway lease (epoch %d); it expires by itself: %s", epoch, exc.reason)

    async def _status_or_none(self) -> LeaseStatus | None:
        try:
            return await self.store.run(_status)
        except Unavailable:
            return None


class LeaseLost(Exception):
    """This process no longer holds the gateway lease (or never did)."""

    def __init__(self, epoch: int | None):
        super().__init__(f"the gateway lease (epoch {epoch}) is not held by this process")
        self.epoch = epoch
