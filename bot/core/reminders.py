"""Posting the schedule's reminders: at most once, never forgotten, on APScheduler's clock.

The reminder rows in the database are the truth; the timer is only a way to call `tick()` at
the right moment, and is rebuilt from the rows on every start (STYLE.md point 8).

At most once. A row is claimed by one guarded statement (pending -> sending, WHERE
status = 'pending') before it is handed to the poster, then marked sent or late. Two bot
processes on one database race for the claim; exactly one wins. A process killed between the
claim and the mark leaves the row 'sending': nobody can know whether Discord got the message, so
it is NOT posted again; it is marked failed ("interrupted") and the organizers are told it may
not have been posted. This check runs on start and on every poll, for rows whose owner process
is gone (same host) or that were claimed more than SENDING_STALE ago.

Never forgotten. On start, a row whose time passed while no bot was running is posted late
(marked late, the text says so) if it is at most the event's grace (default 15 min) overdue,
otherwise marked skipped, and the skipped rows are listed to the organizers in one report. A
failed post is retried after 5 s, 30 s and 2 min (PostFailed(retryable=True): Discord 5xx, 429,
a channel not in the cache yet), then marked failed and reported; PostFailed(retryable=False)
(no such channel, no permission) is marked failed and reported at once.

The timer. One APScheduler job wakes at the next row's time (DateTrigger, re-armed after each
tick and after each change of the schedule), and one polls every POLL_SECONDS for rows another
process added. misfire_grace_time is the event's grace: a wake-up delayed by a busy loop still
runs; anything older is the skip rule's business.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import EventConfig
from bot.core.clock import Clock, fmt_utc, system_clock
from bot.core.outbox import Outbox, enqueue
from bot.core.owners import default_owner, owner_gone
from bot.core.schedule import ITEM_COLUMNS, ScheduleEntry, ScheduleService, entry_from_row, fmt_offset
from bot.core.store import Store, Tx

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=1)  # posted later than this after its time: marked and worded late
RETRY_BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2))  # then failed
SENDING_STALE = timedelta(minutes=5)  # a claim older than this whose post never finished: interrupted
POLL_SECONDS = 30
REPORT_CHARS = 1900  # a Discord message holds 2000
WAKE_JOB, POLL_JOB = "hackbot-reminders-wake", "hackbot-reminders-poll"


class PostFailed(Exception):
    """Raised by a poster. retryable: worth trying again later (5xx, 429, not connected yet);
    retry_after: at least this many seconds (Discord's 429 says how long)."""

    def __init__(self, retryable: bool, reason: str, *, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable, self.reason, self.retry_after = retryable, reason, retry_after


@dataclass(frozen=True)
class Reminder:
    """What a poster receives."""

    id: int
    item: ScheduleEntry
    due: datetime
    offset: timedelta
    late: bool  # posted more than LATE_AFTER after its time (the text says so)
    kind: str  # "reminder" | "start" (offset 0 of an item) | "phase" | "opens" | "deadline" | "countdown"

    def text(self, fmt: TimeFormat | None = None) -> str:
        """The message body, without mentions (the poster adds the item's roles). Times are
        written by `fmt` (the Discord layer passes Discord's timestamps); plain UTC by default."""
        fmt = fmt or plain_time
        item = self.item
        verb = "starts" if self.kind in ("reminder", "start") else "at"
        when = f"{verb} {fmt(item.at, 'F')}"
        relative = fmt(item.at, "R")
        if relative:
            when += f" ({relative})"
        if item.ends is not None:
            when += f", ends {fmt(item.ends, 'F')}"
        lines = [item.title, when]
        if item.description:
            lines.append(item.description)
        if item.link:
            lines.append(item.link)
        if self.late:
            lines.append(f"(posted late: this was due {fmt(self.due, 'f')})")
        return "\n".join(lines)


Poster = Callable[[Reminder], Awaitable[None]]
# How a time is written in a reminder: (moment, style) -> text, style as Discord's timestamp
# styles ("F" full, "f" short, "R" relative; "" leaves it out). Core writes plain UTC; the
# Discord layer (bot/posting.py) passes its own, so core never writes Discord markup.
TimeFormat = Callable[[datetime, str], str]


def plain_time(when: datetime, style: str) -> str:
    """A time for readers without Discord: UTC, and no relative form."""
    return "" if style == "R" else fmt_utc(when)
Report = Callable[[str], Awaitable[None]]


def reminder_kind(item_kind: str, offset_s: float) -> str:
    if offset_s > 0:
        return "countdown" if item_kind == "deadline" else "reminder"
    return "start" if item_kind == "event" else item_kind


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _describe(reminder: Reminder, fmt: TimeFormat) -> str:
    where = f" in #{reminder.item.channel}" if reminder.item.channel else ""
    return f"{reminder.item.title!r} ({fmt_offset(reminder.offset)}, due {fmt(reminder.due, 'f')}){where}"


def _fit(header: str, lines: list[str]) -> str:
    """One report message: the header and as many lines as fit, then how many were left out."""
    out = header
    for i, line in enumerate(lines):
        more = f"\n... and {len(lines) - i} more (see the schedule page)"
        if len(out) + 1 + len(line) + len(more) > REPORT_CHARS:
            return out + more
        out += "\n" + line
    return out


# --- in the database thread ------------------------------------------------------------------

_REMINDER_COLUMNS = "r.id, r.offset_s, r.due, r.attempts, i." + ", i.".join(ITEM_COLUMNS.split(", "))


def _build(row: tuple, now: float | None) -> tuple[Reminder, int]:
    """(reminder, attempts so far) from a row selected with _REMINDER_COLUMNS; `now`: when it is
    posted (None: it is not)."""
    id_, offset_s, due, attempts, *item = row
    reminder = Reminder(
        id=id_, item=entry_from_row(tuple(item)), due=_utc(due), offset=timedelta(seconds=offset_s),
        late=now is not None and now - due > LATE_AFTER.total_seconds(), kind=reminder_kind(item[-1], offset_s),
    )
    return reminder, attempts


# PostgreSQL: a row another runner is claiming is skipped (SKIP LOCKED) rather than waited for,
# so that two runners claim two different rows at once; SQLite has one writer at a time.
_CLAIM_LOCK = {"sqlite": "", "postgres": " FOR UPDATE SKIP LOCKED"}


async def _claim_next(tx: Tx, owner: str, now: float, grace: float) -> tuple[Reminder, int] | None:
    """Claim the earliest due row, in one guarded statement: of two processes, one gets it."""
    claimed = await tx.fetchall(
        "UPDATE reminders SET status = 'sending', claimed_by = ?, claimed_at = ?"
        " WHERE id = (SELECT id FROM reminders WHERE status = 'pending' AND next_try <= ? AND due >= ?"
        f"             ORDER BY due, id LIMIT 1{_CLAIM_LOCK[tx.dialect]})"
        " AND status = 'pending' RETURNING id",
        (owner, now, now, now - grace),
    )
    if not claimed:
        return None
    row = await tx.fetchone(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders r JOIN schedule_items i ON i.id = r.item_id WHERE r.id = ?",
        (claimed[0][0],),
    )
    assert row is not None  # reminder rows are never deleted
    return _build(row, now)


REMINDER_KIND = "reminder"


async def _hand_over(tx: Tx, owner: str, now: float, grace: float, fmt: TimeFormat) -> Reminder | None:
    """Claim the earliest due row and write its post to the outbox, in one transaction: the row is
    'sent' (or 'late') once its post is on its way, and the post's key is the row's, so it is
    posted at most once whoever drains it (bot/core/outbox.py)."""
    async with tx.transaction():
        claimed = await _claim_next(tx, owner, now, grace)
        if claimed is None:
            return None
        reminder, attempts = claimed
        text = reminder.text(fmt)  # the times as the poster writes them (Discord's timestamps in the bot)
        item = reminder.item
        await enqueue(tx, REMINDER_KIND, f"reminder:{reminder.id}", {
            "reminder_id": reminder.id, "channel": item.channel, "mention": list(item.mention), "text": text,
        }, lane=f"reminder:{item.channel or ''}")
        await _finish(tx, reminder.id, owner, "late" if reminder.late else "sent", now, attempts + 1, text, None)
        return reminder


async def _finish(tx: Tx, reminder_id: int, owner: str, status: str, now: float, attempts: int,
                  text: str, error: str | None) -> bool:
    sent_at = now if status in ("sent", "late") else None
    return bool(await tx.execute(
        "UPDATE reminders SET status = ?, finished_at = ?, sent_at = ?,"
        " attempts = ?, text = ?, error = ? WHERE id = ? AND status = 'sending' AND claimed_by = ?",
        (status, now, sent_at, attempts, text, error, reminder_id, owner),
    ))


async def _retry_later(tx: Tx, reminder_id: int, owner: str, attempts: int, next_try: float, error: str) -> bool:
    return bool(await tx.execute(
        "UPDATE reminders SET status = 'pending', attempts = ?, next_try = ?, error = ?, claimed_by = NULL,"
        " claimed_at = NULL WHERE id = ? AND status = 'sending' AND claimed_by = ?",
        (attempts, next_try, error, reminder_id, owner),
    ))


async def _skip_overdue(tx: Tx, now: float, grace: float, fmt: TimeFormat) -> list[Reminder]:
    """Mark skipped every pending row more than the grace overdue; return them (to report)."""
    reason = f"more than {fmt_offset(timedelta(seconds=grace)).removesuffix(' before')} overdue"
    if await tx.fetchone("SELECT 1 FROM reminders WHERE status = 'pending' AND due < ? LIMIT 1", (now - grace,)) is None:
        return []  # the usual case, without taking the write lock
    async with tx.transaction():
        await tx.lock("reminders")
        rows = await tx.fetchall(
            f"SELECT {_REMINDER_COLUMNS} FROM reminders r JOIN schedule_items i ON i.id = r.item_id"
            " WHERE r.status = 'pending' AND r.due < ? ORDER BY r.due, r.id",
            (now - grace,),
        )
        skipped = []
        for row in rows:
            reminder = _build(row, None)[0]
            # guarded: a row another process claimed meanwhile is not reported as skipped
            if await tx.execute(
                "UPDATE reminders SET status = 'skipped', finished_at = ?, text = ?, error = ?"
                " WHERE id = ? AND status = 'pending'",
                (now, reminder.text(fmt), reason, reminder.id),
            ):
                skipped.append(reminder)
    return skipped


async def _interrupted(tx: Tx, now: float, stale: float, own: str | None,
                       fmt: TimeFormat) -> list[tuple[Reminder, str]]:
    """Rows left 'sending' by a process that is gone (or by `own`, a previous life of this
    runner: in a container the bot restarts with the same host name and pid): failed, never
    posted again."""
    if await tx.fetchone("SELECT 1 FROM reminders WHERE status = 'sending' LIMIT 1") is None:
        return []  # the usual case, without taking the write lock
    async with tx.transaction():
        await tx.lock("reminders")
        rows = await tx.fetchall(
            f"SELECT {_REMINDER_COLUMNS}, r.claimed_by, r.claimed_at FROM reminders r"
            " JOIN schedule_items i ON i.id = r.item_id WHERE r.status = 'sending' ORDER BY r.due, r.id"
        )
        found = []
        for *row, claimed_by, claimed_at in rows:
            if claimed_at < now - stale or claimed_by == own or owner_gone(claimed_by):
                reminder = _build(tuple(row), claimed_at)[0]
                # claimed_by is set on every 'sending' row (the claim writes it)
                changed = await tx.execute(
                    "UPDATE reminders SET status = 'failed', finished_at = ?, text = ?, error = ?"
                    " WHERE id = ? AND status = 'sending' AND claimed_by = ?",
                    (now, reminder.text(fmt), f"interrupted: {claimed_by} stopped while posting it; it may not have"
                     " been posted and was not posted again", reminder.id, claimed_by),
                )
                if changed:
                    found.append((reminder, claimed_by or "?"))
    return found


async def _next_time(tx: Tx) -> float | None:
    return await tx.fetchval("SELECT min(next_try) FROM reminders WHERE status = 'pending'")


# --- the runner ------------------------------------------------------------------------------

class ReminderRunner:
    def __init__(
        self,
        store: Store,
        config: EventConfig,
        schedule: ScheduleService,
        poster: Poster,
        *,
        clock: Clock = system_clock,
        report: Report | None = None,
        owner: str | None = None,
        outbox: Outbox | None = None,
        time_format: TimeFormat = plain_time,
    ):
        """`outbox`: each due reminder is handed to the outbox in the transaction that claims it
        (the bot: the drainer posts it, retries and reports); without it, `poster` posts it here
        (the offline run: the log)."""
        self.store, self.config, self.schedule, self.poster = store, config, schedule, poster
        self.outbox = outbox
        self.time_format = time_format  # the times of the texts kept and reported: as the poster writes them
        self.clock, self._report_to = clock, report
        self.owner = owner or default_owner()
        self._lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopping = False

    @property
    def grace(self) -> float:
        return self.config.event.grace.total_seconds()

    async def start(self) -> None:
        """Catch up on what was missed (interrupted posts reported, late ones posted within the
        grace, older ones skipped and reported), then arm the timer."""
        if self._scheduler is not None:
            return
        self._stopping = False
        async with self._lock:  # nothing of ours is in flight: our own 'sending' rows are a past life's
            await self._recover(own=self.owner)
        await self.tick()
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()
        self._scheduler.add_job(
            self._poll, IntervalTrigger(seconds=POLL_SECONDS, timezone=UTC), id=POLL_JOB,
            misfire_grace_time=max(1, int(self.grace)), coalesce=True, max_instances=1,
        )
        self._unsubscribe = self.schedule.on_change(self.reschedule)
        await self._arm()

    async def stop(self) -> None:
        """Stop the timer; a post in progress finishes and is recorded first."""
        self._stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.pause()
        async with self._lock:  # the tick in progress (if any) ends after its current row
            pass
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # let the shutdown (scheduled on the loop) run

    def reschedule(self) -> None:
        """Wake at once to re-read the rows (new, moved or cancelled reminders), then sleep
        until the next one. Called by ScheduleService after add/edit/remove/sync."""
        self._wake_at(datetime.now(UTC))

    async def tick(self) -> int:
        """Post every row due at clock() now, in due order; returns how many were posted."""
        async with self._lock:
            if self._stopping:
                return 0
            now = self.clock().timestamp()
            skipped = await self.store.run(_skip_overdue, now, self.grace, self.time_format)
            if skipped:
                await self._report(_fit(
                    f"Skipped {len(skipped)} reminder(s) more than {fmt_offset(self.config.event.grace).removesuffix(' before')}"
                    " overdue (no bot was running at their time); they were not posted:",
                    [f"- {_describe(r, self.time_format)}" for r in skipped],
                ))
            posted = 0
            while not self._stopping:
                now = self.clock().timestamp()
                if self.outbox is not None:
                    handed = await self.store.run(_hand_over, self.owner, now, self.grace, self.time_format)
                    if handed is None:
                        break
                    self.outbox.wake()
                    posted += 1
                    continue
                claimed = await self.store.run(_claim_next, self.owner, now, self.grace)
                if claimed is None:
                    break
                posted += await self._post(*claimed)
            return posted

    async def recover_interrupted(self) -> int:
        """Rows left 'sending' by a process that died: marked failed (not posted again) and
        reported as possibly not posted; returns how many."""
        return await self._recover(own=None)

    async def _recover(self, *, own: str | None) -> int:
        found = await self.store.run(
            _interrupted, self.clock().timestamp(), SENDING_STALE.total_seconds(), own, self.time_format
        )
        if found:
            await self._report(_fit(
                f"{len(found)} reminder(s) may not have been posted: the bot process stopped while posting"
                " them. They were not posted again (to never post twice); check their channels:",
                [f"- {_describe(r, self.time_format)} (process {owner})" for r, owner in found],
            ))
        return len(found)

    # --- internals -------------------------------------------------------------------------

    async def _post(self, reminder: Reminder, attempts: int) -> int:
        text = reminder.text(self.time_format)
        try:
            await self.poster(reminder)
        except PostFailed as exc:
            failure = exc
        except asyncio.CancelledError:
            raise  # the row stays 'sending': reported as interrupted, never posted twice
        except Exception as exc:  # noqa: BLE001 - a poster bug must not stop the other reminders
            log.exception("posting reminder %s raised", reminder.id)
            failure = PostFailed(True, f"{type(exc).__name__}: {exc}")
        else:
            status = "late" if reminder.late else "sent"
            finished = await self.store.run(
                _finish, reminder.id, self.owner, status, self.clock().timestamp(), attempts + 1, text, None
            )
            if not finished:
                log.warning("reminder %s was posted but its claim was taken over meanwhile", reminder.id)
            return 1

        attempts += 1
        now = self.clock().timestamp()
        if failure.retryable and attempts <= len(RETRY_BACKOFF):
            delay = max(RETRY_BACKOFF[attempts - 1].total_seconds(), failure.retry_after or 0)
            log.warning("reminder %s not posted (%s); attempt %d, next in %.0f s",
                        reminder.id, failure.reason, attempts, delay)
            await self.store.run(_retry_later, reminder.id, self.owner, attempts, now + delay, failure.reason)
            return 0
        tries = f"after {attempts} attempts" if attempts > 1 else "(not retried: it cannot succeed as is)"
        await self.store.run(_finish, reminder.id, self.owner, "failed", now, attempts, text, failure.reason)
        await self._report(f"Reminder {_describe(reminder, self.time_format)} was NOT posted {tries}: {failure.reason}")
        return 0

    async def _report(self, message: str) -> None:
        log.warning("%s", message)
        if self._report_to is None:
            return
        try:
            await self._report_to(message)
        except Exception:  # noqa: BLE001 - the rows keep the truth; the log has the message
            log.exception("reporting to the organizers failed")

    async def _wake(self) -> None:
        await self.tick()
        await self._arm()

    async def _poll(self) -> None:
        await self.recover_interrupted()
        await self._wake()

    async def _arm(self) -> None:
        """Set the wake-up job at the next pending row's time."""
        if self._scheduler is None or self._stopping:
            return
        next_try = await self.store.run(_next_time)
        if next_try is None:
            return  # the poll still runs, for rows other processes add
        # the scheduler sleeps in real time; the clock may be offset (a rehearsal): wait the difference
        delay = max(next_try - self.clock().timestamp(), 0.0)
        self._wake_at(datetime.now(UTC) + timedelta(seconds=delay))

    def _wake_at(self, when: datetime) -> None:
        if self._scheduler is None or self._stopping:
            return
        # max_instances > 1: a wake-up re-arms the job while still running it; the tick lock
        # keeps the ticks themselves one at a time
        self._scheduler.add_job(
            self._wake, DateTrigger(run_date=when, timezone=UTC), id=WAKE_JOB, replace_existing=True,
            misfire_grace_time=max(1, int(self.grace)), coalesce=True, max_instances=4,
        )
