"""A process that runs the gateway lease loop as `hackbot run --role bot` does, without Discord:
`python -m tests.core.lease_workers DB TTL`. While it holds the lease it "acts" every 50 ms with a
fenced write (a row in `lease_acts`, which the test creates), and prints one line per event:
`acquired EPOCH`, `act EPOCH SEQ ROWS` (ROWS: 1 written, 0 refused by the fence), `lost EPOCH`.
The test reads the lines and the table."""

from __future__ import annotations

import asyncio
import sys

from bot.core.lease import GatewayLease, fence
from bot.core.store import Store, Tx

ACTS = "CREATE TABLE lease_acts (id {id}, holder TEXT NOT NULL, epoch BIGINT NOT NULL, seq INTEGER NOT NULL)"
ID = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}


async def act(tx: Tx, holder: str, epoch: int, seq: int) -> int:
    """The kind of write the outbox drainer makes under the lease: changes nothing once it is lost."""
    return await tx.execute(
        f"INSERT INTO lease_acts(holder, epoch, seq) SELECT ?, ?, ? WHERE {fence(tx.dialect)}",
        (holder, epoch, seq, holder, epoch),
    )


def say(*parts: object) -> None:
    print(*parts, flush=True)


async def main(db: str, ttl: float) -> None:
    store = await Store.open(db)
    lease = GatewayLease(store, ttl=ttl)
    say("holder", lease.holder)
    while True:
        epoch = await lease.acquire()
        say("acquired", epoch)
        keeper = asyncio.create_task(lease.keep())
        seq = 0
        while not keeper.done():
            if lease.valid():
                say("act", epoch, seq, await store.run(act, lease.holder, epoch, seq))
                seq += 1
            await asyncio.sleep(0.05)
        say("lost", keeper.result())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
