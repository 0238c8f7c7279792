"""Outbox drainers in separate OS processes (multiprocessing, "spawn"), each over its own
connection to the same database. Plain functions (no pytest) so that spawned processes can
import them.

The "Discord" of these drainers is a file: each execution appends `pid key nonce` (flushed and
fsynced before the executor returns, so a line is on disk when Discord would have answered).
Discord's enforce_nonce makes a second send of one nonce return the first message; the tests
read the file as Discord would keep it: one message per distinct nonce.
"""

from __future__ import annotations

import asyncio
import os

from tests.core.workers import BARRIER_TIMEOUT, _report


def _file_executor(out, pause: float):
    async def execute(row):
        out.write(f"{os.getpid()} {row.key} {row.nonce}\n")
        out.flush()
        os.fsync(out.fileno())
        await asyncio.sleep(pause)  # Discord's answer takes a while: a kill lands mid-drain
        return {"message_id": row.id}

    return execute


def drain_worker(index: int, target: str, out_path: str, barrier, queue, pause: float) -> None:
    """Wait for the others, then drain until nothing is due; report (claimed, sent)."""
    from bot.core.outbox import Outbox, OutboxDrainer
    from bot.core.store import Store

    async def main(out):
        store = await Store.open(target)
        try:
            drainer = OutboxDrainer(Outbox(store), _file_executor(out, pause), owner=f"worker-{index}",
                                    batch=10, concurrency=4, poll=0.05)
            barrier.wait(BARRIER_TIMEOUT)
            stats = await drainer.drain(within=120)
            return stats.claimed, stats.sent
        finally:
            await store.close()

    def work():
        with open(out_path, "a", encoding="utf-8") as out:
            return asyncio.run(main(out))

    _report(queue, index, work)


def killed_drainer(target: str, out_path: str, pause: float) -> None:
    """Drain in the background loop (as the bot does) until killed."""
    from bot.core.outbox import Outbox, OutboxDrainer
    from bot.core.store import Store

    out = open(out_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open until killed

    async def main():
        store = await Store.open(target)
        drainer = OutboxDrainer(Outbox(store), _file_executor(out, pause), batch=20, concurrency=4, poll=0.05)
        await drainer.start()
        await asyncio.sleep(120)  # the test kills us long before; never outlive a dead test

    asyncio.run(main())
