"""Firing precision of the reminder runner: reminders due within one minute, real clock, real
APScheduler, two runner processes racing on one SQLite file (or one PostgreSQL database).

Run: .venv/bin/python benchmarks/bench_reminders.py [--quick] [--processes N] [--db postgresql://.../empty_db]
(--quick: 200 reminders within 10 s instead of 500 within 60 s.)

The reminders are live schedule items written by this process before the runners start (each
announced at its time, remind_before = 0); then N spawned processes each run a ReminderRunner
(`start()`, then only its APScheduler timer) whose poster records time.time() when it is called.
The baseline, in its own process over the same window, is a bare asyncio timer: loop.call_at at
each due time, recording time.time() when it fires; that is the best a timer on this machine and
this load can do. Reported: p50 / p99 / max of (posted - due) in ms for both, and how many
reminders were posted twice (must be 0), never, or not on time (late / skipped / failed rows).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LEAD_SECONDS = 5.0  # the first reminder is due this long after the rows are written
BARRIER_TIMEOUT = 60
EVENT = '[event]\nname = "Reminder benchmark"\ntimezone = "UTC"\n'


def runner_worker(index: int, config_path: str, db_path: str, until: float, barrier, queue) -> None:
    """A ReminderRunner on the real clock; returns [(reminder id, time.time() at the post)]."""

    async def main():
        from bot.config import load_event
        from bot.core.reminders import ReminderRunner
        from bot.core.schedule import ScheduleService
        from bot.core.store import Store

        config = load_event(config_path, check_data=False)
        store = await Store.open(db_path)
        schedule = ScheduleService(store, config)
        posts: list[tuple[int, float]] = []

        async def poster(reminder) -> None:
            posts.append((reminder.id, time.time()))

        runner = ReminderRunner(store, config, schedule, poster, owner=f"bench-{index}")
        barrier.wait(BARRIER_TIMEOUT)
        ready = time.time()
        await runner.start()
        await asyncio.sleep(max(0.0, until - time.time()))
        await runner.stop()
        await store.close()
        return ready, posts

    try:
        queue.put(("ok", index, asyncio.run(main())))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        queue.put(("crash", index, repr(exc)))


def baseline_worker(index: int, dues: list[float], until: float, barrier, queue) -> None:
    """loop.call_at at each due time; returns [(index, time.time() when it fired)]."""

    async def main():
        loop = asyncio.get_running_loop()
        fired: list[tuple[int, float]] = []
        barrier.wait(BARRIER_TIMEOUT)
        ready = time.time()
        for k, due in enumerate(dues):
            loop.call_at(loop.time() + (due - time.time()), lambda k=k: fired.append((k, time.time())))
        await asyncio.sleep(max(0.0, until - time.time()))
        return ready, fired

    try:
        queue.put(("ok", index, asyncio.run(main())))
    except BaseException as exc:  # noqa: BLE001
        queue.put(("crash", index, repr(exc)))


async def status_counts(db_path: str) -> list[tuple]:
    from bot.core.store import Store

    store = await Store.open(db_path, migrate=False)
    try:
        return await store.fetchall("SELECT status, count(*) FROM reminders GROUP BY status")
    finally:
        await store.close()


async def write_reminders(config_path: Path, db_path: str, count: int, window: float) -> dict[int, float]:
    """`count` live items due uniformly within `window` seconds from LEAD_SECONDS from now."""
    from bot.config import load_event
    from bot.core.schedule import ScheduleService
    from bot.core.store import Store

    store = await Store.open(db_path)
    try:
        schedule = ScheduleService(store, load_event(config_path, check_data=False))
        start = time.time() + LEAD_SECONDS
        rng = random.Random(0)
        for k in range(count):
            at = datetime.fromtimestamp(start + rng.uniform(0, window), UTC)
            await schedule.add(f"Reminder {k}", at, remind_before=["0s"])
        return dict(await store.fetchall("SELECT id, due FROM reminders"))
    finally:
        await store.close()


def percentiles(late_ms: list[float]) -> tuple[float, float, float]:
    a = np.asarray(late_ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 reminders within 10 s")
    parser.add_argument("--processes", type=int, default=2, help="runner processes on the one database")
    parser.add_argument("--db", metavar="URL", help="an empty PostgreSQL database to run on (default: a SQLite file)")
    args = parser.parse_args()
    count, window = (200, 10.0) if args.quick else (500, 60.0)
    console = Console()

    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        config_path, db_path = Path(tmp) / "event.toml", args.db or str(Path(tmp) / "db.sqlite3")
        config_path.write_text(EVENT, encoding="utf-8")
        due = asyncio.run(write_reminders(config_path, db_path, count, window))
        first_due, until = min(due.values()), max(due.values()) + 2.0

        ctx = multiprocessing.get_context("spawn")
        barrier, queue = ctx.Barrier(args.processes + 1), ctx.Queue()
        baseline_dues = sorted(due.values())
        processes = [
            ctx.Process(target=runner_worker, args=(i, str(config_path), str(db_path), until, barrier, queue))
            for i in range(args.processes)
        ]
        processes.append(ctx.Process(target=baseline_worker, args=(args.processes, baseline_dues, until, barrier, queue)))
        where = "PostgreSQL database" if args.db else "SQLite file"
        console.print(f"{count} reminders due within {window:.0f} s; {args.processes} runner process(es) on one "
                      f"{where}; waiting {until - time.time():.0f} s ...")
        for p in processes:
            p.start()
        results = {}
        for _ in processes:
            status, index, result = queue.get(timeout=until - time.time() + 120)
            if status != "ok":
                raise SystemExit(f"process {index} crashed: {result}")
            results[index] = result
        for p in processes:
            p.join(10)

        posts = [post for i in range(args.processes) for post in results[i][1]]
        ready = max(results[i][0] for i in range(len(processes)))
        times_posted = Counter(rid for rid, _ in posts)
        twice = sum(1 for n in times_posted.values() if n > 1)
        never = len(set(due) - set(times_posted))
        ours = [(t - due[rid]) * 1e3 for rid, t in posts]
        base_ready, fired = results[args.processes]
        base = [(t - baseline_dues[k]) * 1e3 for k, t in fired]
        statuses = Counter(dict(asyncio.run(status_counts(db_path))))
        per_process = [len(results[i][1]) for i in range(args.processes)]

    table = Table(title=f"posted - due, {count} reminders within {window:.0f} s (real clock, APScheduler)")
    for col in ("", "p50 ms", "p99 ms", "max ms"):
        table.add_column(col, justify="right")
    o, b = percentiles(ours), percentiles(base)
    table.add_row(f"hackbot ReminderRunner x{args.processes}", *(f"{v:.2f}" for v in o))
    table.add_row("baseline: bare asyncio call_at", *(f"{v:.2f}" for v in b))
    table.add_row("difference (runner - baseline)", *(f"{x - y:.2f}" for x, y in zip(o, b, strict=True)))
    console.print(table)
    console.print(f"posted twice: [bold]{twice}[/bold] (must be 0)   never posted: {never}   "
                  f"rows: {dict(statuses)}   posts per process: {per_process}")
    console.print(f"runners ready {first_due - ready:.1f} s before the first due time")
    if twice or never:
        raise SystemExit("FAILED: a reminder was posted twice or never")


if __name__ == "__main__":
    main()
