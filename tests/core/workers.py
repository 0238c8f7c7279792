"""Code run in separate OS processes (multiprocessing, "spawn"): each process opens its own
connections to the same database (a SQLite file or a PostgreSQL URL), waits at a barrier, then
fires.

Every worker puts exactly one message on the queue: ("ok", worker_index, results) or
("crash", worker_index, traceback), so that the test never hangs on a dead worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing
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

def migrate_worker(index: int, targets: list[str], barrier, queue) -> None:
    """For each fresh database in turn (a file not yet created, or an empty PostgreSQL database):
    connect, wait for the others, then migrate. Reports the migrations each round applied."""
    from bot.core.store import Store

    async def round_(target: str) -> list[str]:
        store = await Store.open(target, migrate=False)
        try:
            barrier.wait(BARRIER_TIMEOUT)
            return [m.name for m in await store.migrate()]
        finally:
            await store.close()

    def work():
        return [asyncio.run(round_(target)) for target in targets]

    _report(queue, index, work)


def raw_reveal_worker(index: int, target: str, barrier, queue, isolation: str, rows: list[tuple]) -> None:
    """INSERT reveal rows straight into the table, no Python rule in the way, each in a
    transaction of the given isolation level (PostgreSQL; SQLite has one): what the database
    itself lets in. Reports ("ok", datum) or ("refused", datum, message) per row."""
    from bot.core.store import IntegrityError, Store

    insert = "INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source) VALUES (?, ?, ?, ?, 0, 'raw')"

    async def main():
        store = await Store.open(target, migrate=False)
        try:
            async def one(tx, row):
                async with tx.transaction():
                    if tx.dialect == "postgres":
                        await tx.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                    await tx.execute(insert, row)

            async def attempt(row):
                try:
                    await store.run(one, row)
                    return ("ok", row[3])
                except IntegrityError as exc:
                    return ("refused", row[3], exc.message)

            barrier.wait(BARRIER_TIMEOUT)
            return await asyncio.gather(*(attempt(row) for row in rows))
        finally:
            await store.close()

    _report(queue, index, lambda: asyncio.run(main()))


def raw_join_worker(index: int, target: str, barrier, queue, isolation: str, team_id: int, users: list[str]) -> None:
    """INSERT team members straight into the table (see raw_reveal_worker)."""
    from bot.core.store import IntegrityError, Store

    async def main():
        store = await Store.open(target, migrate=False)
        try:
            async def one(tx, user):
                async with tx.transaction():
                    if tx.dialect == "postgres":
                        await tx.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                    await tx.execute(
                        "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, 0, 0)",
                        (team_id, user),
                    )

            async def attempt(user):
                try:
                    await store.run(one, user)
                    return ("ok", user)
                except IntegrityError as exc:
                    return ("refused", user, exc.message)

            barrier.wait(BARRIER_TIMEOUT)
            return await asyncio.gather(*(attempt(u) for u in users))
        finally:
            await store.close()

    _report(queue, index, lambda: asyncio.run(main()))


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


def reveal_waves_worker(
    index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
    logins: list[tuple[str, str]], dataset_id: int, waves: list[list[tuple[int, int]]],
) -> None:
    """Waves of concurrent reveals (team index, datum), a short pause between waves: each wave's
    calls wait together, so they reach the database in groups of several, group after group (on
    PostgreSQL, with the HTTP API's gate: their logins read in one statement, their INSERTs
    written in one statement per group of distinct teams)."""
    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(team: int, datum: int):
                try:
                    gate = services.logins.gate("127.0.0.1")  # as the HTTP API calls it
                    r = await services.reveals.reveal_with_login(*logins[team], dataset_id, datum, gate=gate)
                    return ("ok", team, datum, r.label, r.previously_revealed)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), team, datum)

            results = []
            for wave in waves:
                results += await asyncio.gather(*(one(t, d) for t, d in wave))
                await asyncio.sleep(0.005)
            return results
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

