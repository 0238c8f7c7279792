"""Worker processes for the competition controls' concurrency tests (see tests/core/workers.py
for the protocol: one message per worker on the queue, a barrier before firing)."""

from __future__ import annotations

import asyncio

from tests.core.workers import BARRIER_TIMEOUT, _report


def raw_submission_worker(index: int, target: str, barrier, queue, isolation: str, rows: list[tuple]) -> None:
    """INSERT submission rows straight into the table, no Python rule in the way, each in a
    transaction of the given isolation level (PostgreSQL; SQLite has one). Reports ("ok",) or
    ("refused", message) per row."""
    from bot.core.store import IntegrityError, Store

    insert = ("INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, day_start, rows, accuracy, filename,"
              " sha256, raw, source) VALUES (?, ?, ?, ?, ?, 200, 0.5, 'raw.csv', ?, ?, 'raw')")

    async def main():
        store = await Store.open(target, migrate=False)
        try:
            async def one(tx, row):
                async with tx.transaction():
                    if tx.dialect == "postgres":
                        await tx.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                    await tx.execute(insert, (*row, "0" * 64, b"0\n"))

            async def attempt(row):
                try:
                    await store.run(one, row)
                    return ("ok",)
                except IntegrityError as exc:
                    return ("refused", exc.message)

            barrier.wait(BARRIER_TIMEOUT)
            return await asyncio.gather(*(attempt(row) for row in rows))
        finally:
            await store.close()

    _report(queue, index, lambda: asyncio.run(main()))
