"""Discord side effects as durable rows: written in the same transaction as their cause, drained
once by the process that holds the Discord gateway.

A hop function that changes something Discord must show (a team created, a reminder claimed, a
ticket opened) calls `enqueue(tx, kind, key, payload)` inside its own transaction: the row and
the change commit together or not at all, so a crash between the commit and the Discord call
loses nothing. `key` is the idempotency key (UNIQUE): enqueueing the same key twice changes
nothing, so a double click or a retried request causes one side effect. Any process may enqueue
(a web process needs no gateway); the drainer runs where the gateway is.

Rows are claimed with one guarded UPDATE (pending -> sending, WHERE status = 'pending'; SKIP
LOCKED on PostgreSQL), so two drainers never take the same row. A drainer killed after its
claim leaves the row 'sending'; `recover` (on start, and every RECOVER_SECONDS for claims older
than SENDING_STALE) puts it back to 'pending', and it is executed again. The executors make that
safe: each looks up what it would make before making it (a team's stored channel id, a ticket's
stored post id), and a message is sent with a nonce derived from its key that Discord enforces
(`enforce_nonce`), so a message sent just before the crash is not sent a second time.

Failures: an executor raises DeliveryFailed. Retryable (429, 5xx, network) rows go back to
'pending' after a backoff (BACKOFF_BASE doubled each attempt, at least Discord's retry_after, at
most BACKOFF_MAX), until MAX_ATTEMPTS; permanent ones (401, 403, 404, DMs closed with no
fallback) are 'failed' at once with the reason, reported to the organizers and listed by
`hackbot outbox status`.

Nothing here imports discord: bot/outbox_executors.py turns rows into Discord calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.owners import default_owner, owner_gone
from bot.core.store import Store, Tx

log = logging.getLogger(__name__)

STATUSES = ("pending", "sending", "sent", "failed")
MAX_ATTEMPTS = 8
BACKOFF_BASE = 2.0  # seconds before the second attempt; doubled after each
BACKOFF_MAX = 300.0
SENDING_STALE = 120.0  # a claim this old belongs to a drainer that stopped (executions time out first)
EXECUTE_TIMEOUT = 90.0  # one row's Discord calls, rate-limit waits included
RECOVER_SECONDS = 30.0
POLL_SECONDS = 0.5  # how often an idle drainer looks for rows other processes wrote
NONCE_CHARS = 25  # Discord: a message nonce is at most 25 characters

REPORT_KIND, REPORT_LANE = "report", "reports"  # a line for the organizers' log channel

_LOCK = {"sqlite": "", "postgres": " FOR UPDATE SKIP LOCKED"}
_COLUMNS = "id, key, kind, lane, payload, attempts, created_at"


class DeliveryFailed(Exception):
    """Raised by an executor. retryable: worth trying again later (429, 5xx, the gateway not
    ready); retry_after: at least this many seconds (Discord's 429 says how long)."""

    def __init__(self, retryable: bool, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable, self.reason, self.retry_after = retryable, reason, retry_after


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    lane: str  # rows of one lane run one at a time, in id order (one channel, one team)
    payload: dict[str, Any]
    attempts: int  # including the one under way
    created_at: float

    @property
    def nonce(self) -> str:
        return nonce(self.key)


@dataclass(frozen=True)
class Delivery:
    """A row as it ended (or stands): what `deliver` and `wait` answer."""

    key: str
    status: str
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class FailedRow:
    key: str
    kind: str
    attempts: int
    error: str
    finished_at: float


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]  # every status, 0 included
    oldest_pending: float | None  # created_at of the oldest row not yet done
    failed: list[FailedRow]  # newest first
    first_created: float | None
    last_finished: float | None
    wait_p50: float | None = None  # seconds from written to sent, over the rows sent
    wait_max: float | None = None

    @property
    def drained(self) -> bool:
        return self.counts["pending"] == 0 and self.counts["sending"] == 0

    @property
    def time_to_drain(self) -> float | None:
        """From the first row written to the last one done, when nothing is left to do."""
        if not self.drained or self.first_created is None or self.last_finished is None:
            return None
        return max(0.0, self.last_finished - self.first_created)


Executor = Callable[[OutboxRow], Awaitable[dict[str, Any] | None]]
Report = Callable[[str], Awaitable[None]]


def nonce(key: str) -> str:
    """A message nonce for an idempotency key: stable across retries and processes, 25 characters."""
    return "hb" + hashlib.sha256(key.encode()).hexdigest()[: NONCE_CHARS - 2]


def backoff(attempts: int, retry_after: float | None = None) -> float:
    return max(min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX), retry_after or 0.0)


# --- in the database hop ----------------------------------------------------------------------

async def enqueue(tx: Tx, kind: str, key: str, payload: dict[str, Any], *, lane: str = "",
                  delay: float = 0.0) -> bool:
    """Write a side effect, inside the caller's transaction. False when `key` was enqueued
    before (the side effect is already on its way or done): nothing changes."""
    now = time.time()
    changed = await tx.execute(
        "INSERT INTO outbox(key, kind, lane, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING",
        (key, kind, lane, json.dumps(payload, separators=(",", ":"), sort_keys=True), now, now + delay),
    )
    return bool(changed)


def _row(row: tuple) -> OutboxRow:
    id_, key, kind, lane, payload, attempts, created_at = row
    return OutboxRow(id_, key, kind, lane, json.loads(payload), attempts, created_at)


async def _claim(tx: Tx, owner: str, now: float, limit: int) -> list[OutboxRow]:
    rows = await tx.fetchall(
        "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
        f"             ORDER BY id LIMIT ?{_LOCK[tx.dialect]})"
        f" AND status = 'pending' RETURNING {_COLUMNS}",
        (owner, now, now, limit),
    )
    return sorted((_row(r) for r in rows), key=lambda r: r.id)


async def _claim_key(tx: Tx, owner: str, now: float, key: str) -> OutboxRow | None:
    row = await tx.fetchone(
        "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
        f" WHERE key = ? AND status = 'pending' RETURNING {_COLUMNS}",
        (owner, now, key),
    )
    return _row(row) if row is not None else None


async def _claim_lane(tx: Tx, owner: str, now: float, lane: str) -> OutboxRow | str:
    """The lane's next due row, claimed, when none of the lane is under way; else what stops it:
    "busy" (a row of the lane is being executed), "later" (a row waits for its backoff) or "empty"."""
    row = await tx.fetchone(
        "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE id = (SELECT id FROM outbox WHERE lane = ? AND status = 'pending' AND next_attempt_at <= ?"
        f"            ORDER BY id LIMIT 1{_LOCK[tx.dialect]})"
        " AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox WHERE lane = ? AND status = 'sending')"
        f" RETURNING {_COLUMNS}",
        (owner, now, lane, now, lane),
    )
    if row is not None:
        return _row(row)
    states = {r[0] for r in await tx.fetchall(
        "SELECT DISTINCT status FROM outbox WHERE lane = ? AND status IN ('pending', 'sending')", (lane,))}
    return "busy" if "sending" in states else "later" if states else "empty"


async def _latest(tx: Tx, lane: str, kind: str) -> Delivery | None:
    key = await tx.fetchval("SELECT key FROM outbox WHERE lane = ? AND kind = ? ORDER BY id DESC LIMIT 1", (lane, kind))
    return await _delivery(tx, key) if key is not None else None


async def _sent(tx: Tx, row_id: int, owner: str, now: float, result: str | None) -> bool:
    return bool(await tx.execute(
        "UPDATE outbox SET status = 'sent', claimed_by = NULL, finished_at = ?, result = ?, last_error = NULL"
        " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
        (now, result, row_id, owner),
    ))


async def _retry(tx: Tx, row_id: int, owner: str, at: float, error: str) -> bool:
    return bool(await tx.execute(
        "UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, next_attempt_at = ?,"
        " last_error = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
        (at, error, row_id, owner),
    ))


async def _fail(tx: Tx, row_id: int, owner: str, now: float, error: str) -> bool:
    return bool(await tx.execute(
        "UPDATE outbox SET status = 'failed', claimed_by = NULL, finished_at = ?, last_error = ?"
        " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
        (now, error, row_id, owner),
    ))


async def _recover(tx: Tx, now: float, stale: float, own: str | None, born: float) -> int:
    """Claims whose drainer is gone (a dead process of this host, this drainer's past life: its
    name's claims from before `born`, or older than `stale`) go back to 'pending': the executors
    make a second run harmless."""
    rows = await tx.fetchall("SELECT id, claimed_by, claimed_at FROM outbox WHERE status = 'sending'")
    back = 0
    for row_id, claimed_by, claimed_at in rows:
        past_life = claimed_by == own and claimed_at < born  # a container restarted with the same pid
        if past_life or claimed_at < now - stale or owner_gone(claimed_by):
            back += await tx.execute(
                "UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_at = NULL, next_attempt_at = ?,"
                " last_error = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                (now, f"interrupted: {claimed_by} stopped while executing it", row_id, claimed_by),
            )
    return back


async def _delivery(tx: Tx, key: str) -> Delivery | None:
    row = await tx.fetchone("SELECT status, result, last_error FROM outbox WHERE key = ?", (key,))
    if row is None:
        return None
    status, result, error = row
    return Delivery(key, status, json.loads(result) if result else None, error)


async def _status(tx: Tx, failed_limit: int) -> OutboxStatus:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in await tx.fetchall("SELECT status, count(*) FROM outbox GROUP BY status"):
        counts[status] = n
    oldest = await tx.fetchval("SELECT min(created_at) FROM outbox WHERE status IN ('pending', 'sending')")
    span = await tx.fetchone("SELECT min(created_at), max(finished_at) FROM outbox")
    failed = [FailedRow(*r) for r in await tx.fetchall(
        "SELECT key, kind, attempts, coalesce(last_error, ''), finished_at FROM outbox WHERE status = 'failed'"
        " ORDER BY finished_at DESC, id DESC LIMIT ?", (failed_limit,))]
    first, last = span if span is not None else (None, None)
    waits = sorted(w for (w,) in await tx.fetchall(
        "SELECT finished_at - created_at FROM outbox WHERE status = 'sent'"))
    p50 = waits[len(waits) // 2] if waits else None
    return OutboxStatus(counts, oldest, failed, first, last, p50, waits[-1] if waits else None)


async def _retry_failed(tx: Tx, now: float, key: str | None) -> int:
    where, params = ("AND key = ?", (now, key)) if key else ("", (now,))
    return await tx.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL"
        f" WHERE status = 'failed' {where}", params)


async def _next_due(tx: Tx) -> float | None:
    return await tx.fetchval("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'")


# --- the service --------------------------------------------------------------------------------

class Outbox:
    """The outbox of one database: enqueue outside a hop, look rows up, report."""

    def __init__(self, store: Store):
        self.store = store
        self._listeners: list[Callable[[], None]] = []

    async def enqueue(self, kind: str, key: str, payload: dict[str, Any], *, lane: str = "") -> bool:
        """One side effect in a transaction of its own (a web process, the CLI): for a side effect
        with no other change to commit with it."""

        async def hop(tx: Tx) -> bool:
            async with tx.transaction():
                return await enqueue(tx, kind, key, payload, lane=lane)

        added = await self.store.run(hop)
        self.wake()
        return added

    def on_enqueue(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each enqueue of this process (the drainer wakes at once)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def wake(self) -> None:
        """Tell this process's drainer that rows were committed (services call it after a hop
        that enqueued); other processes' rows are found by polling."""
        for listener in list(self._listeners):
            listener()

    async def delivery(self, key: str) -> Delivery | None:
        return await self.store.run(_delivery, key)

    async def wait(self, key: str, within: float, poll: float = 0.1) -> Delivery | None:
        """The row once done (sent or failed), or as it stands when `within` seconds run out."""
        deadline = time.monotonic() + within
        while True:
            found = await self.delivery(key)
            if found is None or found.status in ("sent", "failed") or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(poll)

    async def latest(self, lane: str, kind: str) -> Delivery | None:
        """The newest row of `kind` in `lane`, as it stands."""
        return await self.store.run(_latest, lane, kind)

    async def status(self, failed_limit: int = 20) -> OutboxStatus:
        return await self.store.run(_status, failed_limit)

    async def retry_failed(self, key: str | None = None) -> int:
        """Failed rows (or the one of `key`) back to pending, from their first attempt: after the
        organizers fixed what refused them (a permission, a channel)."""
        changed = await self.store.run(_retry_failed, time.time(), key)
        self.wake()
        return changed


# --- the drainer ----------------------------------------------------------------------------------

@dataclass
class DrainStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # done, but the claim had been taken over meanwhile (a paused drainer)
    recovered: int = 0
    failures: list[str] = field(default_factory=list)


class OutboxDrainer:
    """Claims rows and runs them through `execute`, while `is_active()` (the gateway lease: the
    drainer of a standby process claims nothing). Rows of one lane run in order, one at a time;
    up to `concurrency` lanes at once, up to `batch` rows held. Many lanes at once is what keeps
    Discord's limits busy: a channel takes 5 posts every 5 s, so a drain of many channels waits
    on each bucket side by side (the global 45 a second is bot/pacing.py's). start()/stop() from the bot's
    setup_hook and close; `drain()` runs until nothing is due (tests, benchmarks, the CLI)."""

    def __init__(
        self,
        outbox: Outbox,
        execute: Executor,
        *,
        is_active: Callable[[], bool] = lambda: True,
        owner: str | None = None,
        batch: int = 200,
        concurrency: int = 50,
        poll: float = POLL_SECONDS,
        report: Report | None = None,
    ):
        self.outbox, self.execute, self.is_active = outbox, execute, is_active
        self.owner = owner or default_owner()
        self.batch, self.poll, self._report_to = batch, poll, report
        self.stats = DrainStats()
        self.born = time.time()  # claims of this name made before are a past life's; after, ours
        self._lanes: dict[str, deque[OutboxRow]] = {}
        self._held = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopping = False
        self._recovered_at = 0.0

    @property
    def store(self) -> Store:
        return self.outbox.store

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        """Put back this drainer's past life's claims, then drain in the background."""
        if self._loop_task is not None:
            return
        self._stopping = False
        await self.recover(own=self.owner)
        self._unsubscribe = self.outbox.on_enqueue(self.wake)
        self._loop_task = asyncio.create_task(self._loop(), name="hackbot-outbox")

    async def stop(self) -> None:
        """Stop claiming; the rows under way finish and are recorded (rows claimed but not
        started go back to pending)."""
        self._stopping = True
        self.wake()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._loop_task = self._loop_task, None
        if task is not None:
            await task
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def recover(self, *, own: str | None = None) -> int:
        self._recovered_at = time.monotonic()
        back = await self.store.run(_recover, time.time(), SENDING_STALE, own, self.born)
        if back:
            log.warning("outbox: %d side effect(s) interrupted by a stopped drainer are due again", back)
            self.stats.recovered += back
        return back

    async def drain(self, *, within: float | None = None) -> DrainStats:
        """Run until no row is due and none is under way (rows waiting for a backoff are left).
        Without start(); not while the background loop runs."""
        deadline = None if within is None else time.monotonic() + within
        await self.recover(own=self.owner)
        while deadline is None or time.monotonic() < deadline:
            claimed = await self._claim_more()
            if not claimed and not self._tasks:
                break
            if not claimed:
                self._wakeup.clear()
                await self._sleep(self.poll)
        return self.stats

    async def deliver(self, key: str, execute: Executor | None = None, *, within: float = 10.0) -> Delivery | None:
        """Run the row of `key` now, in this task (the interaction that caused it shows its
        result), with `execute` when given (one that knows the interaction's guild); when another
        drainer has it, wait for it up to `within` seconds."""
        row = await self.store.run(_claim_key, self.owner, time.time(), key)
        if row is None:
            return await self.outbox.wait(key, within)
        self.stats.claimed += 1
        await self._run(row, execute or self.execute, report=False)  # the caller shows failures
        return await self.outbox.delivery(key)

    async def deliver_lane(self, lane: str, execute: Executor | None = None, *, within: float = 10.0) -> list[Delivery]:
        """Run the lane's due rows now, in order, in this task: an interaction shows the result of
        the side effects it caused (its guild at hand in `execute`). Rows another drainer holds are
        waited for, up to `within` seconds. Returns what this call ran."""
        done: list[Delivery] = []
        deadline = time.monotonic() + within
        while True:
            row = await self.store.run(_claim_lane, self.owner, time.time(), lane)
            if isinstance(row, OutboxRow):
                self.stats.claimed += 1
                await self._run(row, execute or self.execute, report=False)  # the caller shows failures
                found = await self.outbox.delivery(row.key)
                if found is not None:
                    done.append(found)
                continue
            if row != "busy" or time.monotonic() >= deadline:
                return done
            await asyncio.sleep(0.05)

    # --- internals ------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                if not self.is_active():
                    await self._sleep(self.poll)
                    continue
                if time.monotonic() - self._recovered_at >= RECOVER_SECONDS:
                    await self.recover()
                self._wakeup.clear()
                if not await self._claim_more():
                    await self._sleep(self.poll)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the drainer for good
                log.exception("outbox drainer: a round failed; trying again")
                await self._sleep(max(self.poll, 1.0))

    async def _claim_more(self) -> int:
        room = self.batch - self._held
        if room <= 0 or self._stopping:
            return 0
        rows = await self.store.run(_claim, self.owner, time.time(), room)
        for row in rows:
            lane = row.lane or f"#{row.id}"
            queue = self._lanes.get(lane)
            self._held += 1
            if queue is not None:
                queue.append(row)
                continue
            self._lanes[lane] = deque([row])
            task = asyncio.create_task(self._run_lane(lane), name=f"hackbot-outbox-{lane}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.stats.claimed += len(rows)
        return len(rows)

    async def _run_lane(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                row = queue[0]
                if self._stopping:  # not started: back to pending for whoever drains next
                    await self.store.run(_retry, row.id, self.owner, time.time(), "the drainer stopped")
                else:
                    async with self._slots:
                        await self._run(row, self.execute)
                queue.popleft()
                self._held -= 1
                self.wake()
        finally:
            self._held -= len(queue)
            del self._lanes[lane]

    async def _run(self, row: OutboxRow, execute: Executor, *, report: bool = True) -> None:
        try:
            result = await asyncio.wait_for(execute(row), EXECUTE_TIMEOUT)
        except DeliveryFailed as exc:
            failure = exc
        except TimeoutError:
            failure = DeliveryFailed(True, f"no answer from Discord within {EXECUTE_TIMEOUT:.0f} s")
        except asyncio.CancelledError:
            raise  # the row stays 'sending': recovered and run again
        except Exception as exc:  # noqa: BLE001 - an executor bug must not stop the other rows
            log.exception("outbox: %s %s raised", row.kind, row.key)
            failure = DeliveryFailed(True, f"{type(exc).__name__}: {exc}")
        else:
            text = json.dumps(result, separators=(",", ":"), sort_keys=True) if result else None
            if await self.store.run(_sent, row.id, self.owner, time.time(), text):
                self.stats.sent += 1
            else:
                self.stats.lost += 1
                log.warning("outbox: %s was done but its claim was taken over meanwhile", row.key)
            return
        now = time.time()
        if failure.retryable and row.attempts < MAX_ATTEMPTS:
            delay = backoff(row.attempts, failure.retry_after)
            log.warning("outbox: %s (%s) not done: %s; attempt %d, next in %.1f s",
                        row.key, row.kind, failure.reason, row.attempts, delay)
            await self.store.run(_retry, row.id, self.owner, now + delay, failure.reason)
            self.stats.retried += 1
            return
        tries = f"after {row.attempts} attempts" if row.attempts > 1 else "(not retried: it cannot succeed as is)"
        if await self.store.run(_fail, row.id, self.owner, now, failure.reason):
            self.stats.failed += 1
            self.stats.failures.append(f"{row.key}: {failure.reason}")
            if not report:
                log.warning("outbox: %s (%s) failed %s: %s", row.key, row.kind, tries, failure.reason)
                return
            await self._report(f"A Discord side effect ({row.kind}, {row.key}) was NOT done {tries}: {failure.reason}."
                               " `hackbot outbox status` lists it; `hackbot outbox retry` tries it again.")

    async def _report(self, message: str) -> None:
        log.warning("%s", message)
        if self._report_to is None:
            return
        try:
            await self._report_to(message)
        except Exception:  # noqa: BLE001 - the row keeps the truth; the log has the message
            log.exception("reporting to the organizers failed")

    async def _sleep(self, seconds: float) -> None:
        """Until woken (an enqueue here, a lane done) or `seconds`, or the next row's backoff."""
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
