"""Code run in separate OS processes (multiprocessing, "spawn"): each process opens its own
connection to the same database file, waits at a barrier, then fires.

Every worker puts exactly one message on the queue: ("ok", worker_index, results) or
("crash", worker_index, traceback), so that the test never hangs on a dead worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import traceback
from collections.abc import Callable
from datetime import datetime

BARRIER_TIMEOUT = 60


def _report(queue, index: int, fn: Callable[[], object]) -> None:
    try:
        queue.put(("ok", index, fn()))
    except BaseException:  # noqa: BLE001 - everything goes back to the test
        queue.put(("crash", index, traceback.format_exc()))


def _outcome(exc: BaseException) -> tuple[str, str]:
    return (type(exc).__name__, getattr(exc, "message", str(exc)))


async def _open_services(config_path: str, db_path: str, now_iso: str):
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.helpers import Clock

    return await Services.open(load_event(config_path), db_path, clock=Clock(datetime.fromisoformat(now_iso)))


# --- the store ------------------------------------------------------------------------------

def migrate_worker(index: int, db_paths: list[str], barrier, queue) -> None:
    """For each fresh database file in turn: wait for the others, then configure and migrate
    a connection exactly as Store.open does. Reports the migrations each round applied."""
    from bot.core.store import _configure, _migrate

    def work():
        applied = []
        for path in db_paths:
            barrier.wait(BARRIER_TIMEOUT)
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                _configure(conn)
                applied.append(_migrate(conn))
            finally:
                conn.close()
        return applied

    _report(queue, index, work)


def open_services_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue) -> None:
    """Services.open on a fresh database file, all processes at once."""

    async def main():
        barrier.wait(BARRIER_TIMEOUT)
        services = await _open_services(config_path, db_path, now_iso)
        try:
            creds = await services.teams.create(f"Team {index}")
            return creds.team.username
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


# --- the rules under concurrency ------------------------------------------------------------

def reveal_worker(
    index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
    username: str, password: str, dataset_id: int, datums: list[int],
) -> None:
    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(datum: int):
                try:
                    r = await services.reveals.reveal_with_login(username, password, dataset_id, datum)
                    return ("ok", datum, r.label, r.new)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), datum)

            return await asyncio.gather(*(one(d) for d in datums))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


def submit_worker(
    index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
    username: str, password: str, dataset_id: int, data: bytes, count: int,
) -> None:
    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(k: int):
                try:
                    s = await services.submissions.submit_with_login(
                        username, password, dataset_id, f"p{index}_{k}.csv", data
                    )
                    return ("ok", s.accuracy, f"p{index}_{k}.csv")
                except Exception as exc:  # noqa: BLE001
                    return _outcome(exc)

            return await asyncio.gather(*(one(k) for k in range(count)))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


def join_worker(
    index: int, config_path: str, db_path: str, now_iso: str, barrier, queue, team_id: int, users: list[str],
) -> None:
    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(user: str):
                try:
                    await services.teams.add_member(team_id, user)
                    return ("ok", user)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), user)

            return await asyncio.gather(*(one(u) for u in users))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


# --- the parent's side ----------------------------------------------------------------------

def run_processes(target, args_per_process: list[tuple], *, timeout: float = 60) -> list:
    """Start one spawned process per args tuple (each gets index, *args[:k], barrier, queue,
    *args[k:] as the worker defines), wait for every report, return the results in order."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args_per_process))
    queue = ctx.Queue()
    processes = []
    for index, (before, after) in enumerate(args_per_process):
        p = ctx.Process(target=target, args=(index, *before, barrier, queue, *after), daemon=True)
        p.start()
        processes.append(p)
    reports = {}
    try:
        for _ in processes:
            status, index, result = queue.get(timeout=timeout)
            if status != "ok":
                barrier.abort()  # release the others at once
                raise AssertionError(f"worker {index} crashed:\n{result}")
            reports[index] = result
    finally:
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
    return [reports[i] for i in range(len(processes))]

