"""Reminder runners in separate OS processes (multiprocessing, "spawn"), each over its own
connection to the same database file; and the small event the reminder tests share. Plain
functions (no pytest) so that spawned processes can import them."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.core.workers import BARRIER_TIMEOUT, _report


def write_schedule_event(folder: Path, *, timezone: str = "UTC", grace: str = "15m", extra: str = "") -> Path:
    """An event with no competition: only its schedule matters."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(
        f'[event]\nname = "Schedule test"\ntimezone = "{timezone}"\ngrace = "{grace}"\n\n{extra}', encoding="utf-8"
    )
    return path


async def open_schedule(config_path: str | Path, db_path: str | Path, clock):
    """(store, config, ScheduleService) as Services.open builds them."""
    from bot.config import load_event
    from bot.core.schedule import ScheduleService
    from bot.core.store import Store

    config = load_event(config_path, check_data=False)
    store = await Store.open(db_path)
    schedule = ScheduleService(store, config, clock)
    await schedule.sync_from_config()
    return store, config, schedule


class OffsetClock:
    """Real time shifted so that it reads `start` now: the real timer, at a chosen moment."""

    def __init__(self, start: datetime):
        self.start, self.t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


# --- a runner killed with SIGKILL -----------------------------------------------------------

def timer_runner_worker(config_path: str, db_path: str, out_path: str, start_iso: str, post_seconds: float) -> None:
    """Run a ReminderRunner on the real APScheduler timer (its clock reads `start_iso` when it
    starts) until killed. The poster appends the reminder id to `out_path` (flush + fsync: the
    line is on disk before the post returns), then takes `post_seconds`, as Discord's answer
    would: a kill then finds the row claimed and posted but not yet marked."""
    from bot.core.reminders import ReminderRunner

    out = open(out_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open until killed

    async def main():
        clock = OffsetClock(datetime.fromisoformat(start_iso))
        store, config, schedule = await open_schedule(config_path, db_path, clock)

        async def poster(reminder) -> None:
            out.write(f"{reminder.id}\n")
            out.flush()
            os.fsync(out.fileno())
            await asyncio.sleep(post_seconds)

        runner = ReminderRunner(store, config, schedule, poster, clock=clock)
        await runner.start()
        await asyncio.sleep(120)  # the test kills us long before; never outlive a dead test

    asyncio.run(main())


# --- runners ticking together on a shared fake time -----------------------------------------

def tick_worker(index: int, config_path: str, db_path: str, barrier, queue, times_iso: list[str]) -> None:
    """At each shared fake time: wait for the others, then tick. Returns the ids it posted."""
    from bot.core.reminders import ReminderRunner
    from tests.core.helpers import Clock

    async def main():
        clock = Clock(datetime.fromisoformat(times_iso[0]))
        store, config, schedule = await open_schedule(config_path, db_path, clock)
        posted: list[int] = []

        async def poster(reminder) -> None:
            posted.append(reminder.id)
            await asyncio.sleep(0)  # let the loop breathe, as a real post would

        runner = ReminderRunner(store, config, schedule, poster, clock=clock, owner=f"worker-{index}")
        try:
            for when in times_iso:
                clock.set(datetime.fromisoformat(when))
                barrier.wait(BARRIER_TIMEOUT)
                await runner.tick()
        finally:
            await store.close()
        return posted

    _report(queue, index, lambda: asyncio.run(main()))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()
