"""Draining the outbox through the real bot, against the rate limits of the local Discord double.

Run: .venv/bin/python benchmarks/bench_outbox.py [--rows 600] [--channels 60] [--runs 2] [--db URL]

N posts are written to the outbox in one transaction (as a burst of web requests or team
changes would), spread evenly over C channels, while the bot (`hackbot run` in a subprocess,
unmodified discord.py) is connected to the double, which answers with Discord's X-RateLimit
headers and refuses what goes past them: 5 posts per channel every 5 s, 50 requests a second
for the bot. The time from the commit to the last row marked sent is compared with the least
time those limits allow: the drain of an ideal client that knows every bucket and sends each post
the moment both limits allow it (simulated: `minimum`). Reported: the ratio drain / minimum
(1.0 is the limits themselves; the bot paces itself at 45 requests a second, 10% under the
global limit, so ~1.1 is its own floor where that limit binds), rows a second, and the requests
the double refused (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_event
from bot.core.outbox import enqueue
from bot.core.services import Services
from bot.core.store import Tx
from bot.discord_limits import GLOBAL_REQUESTS_PER_SECOND
from bot.sandbox.client import BotProcess, Sandbox
from bot.sandbox.events import write_e2e_event
from bot.sandbox.ratelimit import ROUTE_LIMITS

PER_CHANNEL, WINDOW = ROUTE_LIMITS["POST /channels/{channel}/messages"]


def minimum(rows: int, channels: int) -> float:
    """The drain time of an ideal client that knows every limit and sends each post the moment
    both allow it (earliest-ready channel first): the channel buckets as the double keeps them
    (a window of WINDOW s from its first post), the global limit as a sliding second."""
    left = [rows // channels + (1 if c < rows % channels else 0) for c in range(channels)]
    bucket = [(0, 0.0)] * channels  # (posts left in the window, when the window ends)
    sent: list[float] = []
    heap = [(0.0, c) for c in range(channels) if left[c]]
    heapq.heapify(heap)
    while heap:
        at, c = heapq.heappop(heap)
        if len(sent) >= GLOBAL_REQUESTS_PER_SECOND:
            at = max(at, sent[-GLOBAL_REQUESTS_PER_SECOND] + 1.0)
        remaining, ends = bucket[c]
        if at >= ends:
            remaining, ends = PER_CHANNEL, at + WINDOW
        sent.append(at)
        bucket[c] = (remaining - 1, ends)
        left[c] -= 1
        if left[c]:
            heapq.heappush(heap, (at if remaining > 1 else ends, c))
    return max(sent) - min(sent) + 1 / GLOBAL_REQUESTS_PER_SECOND  # the last post's own slot


async def one_run(folder: Path, rows: int, channels: int, db: str | None) -> tuple[float, int, int]:
    config = write_e2e_event(folder / "event", reminder_in="now+30d", before="1h")
    target = db or str(folder / "hackbot.sqlite3")
    async with Sandbox() as sandbox:
        names = [f"room-{n}" for n in range(channels)]
        for name in names:
            sandbox.state.add_channel(name)
        process = BotProcess(sandbox, config, target, folder / "bot.log")
        await process.sync()
        await process.start()
        try:
            await asyncio.sleep(3)  # the start-up reconcile is done: the drain has the limits to itself
            services = await Services.open(load_event(config), target)
            try:
                async def write(tx: Tx) -> None:
                    async with tx.transaction():
                        for i in range(rows):
                            channel = names[i % channels]
                            await enqueue(tx, "message", f"bench:{i}", {"channel": channel, "content": f"post {i}"},
                                          lane=f"channel:{channel}")

                started = time.monotonic()
                await services.store.run(write)
                while True:
                    status = await services.outbox.status()
                    if status.drained:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.monotonic() - started
            finally:
                await services.close()
        finally:
            await process.stop()
        posted = sum(1 for messages in sandbox.state.messages.values() for m in messages
                     if m.content.startswith("post "))
        return elapsed, posted, len(sandbox.state.refusals())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--channels", type=int, default=60)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", default=None, help="an empty postgresql:// database (default: a SQLite file)")
    args = parser.parse_args()
    floor = minimum(args.rows, args.channels)
    print(f"{args.rows} posts over {args.channels} channels; limits: {PER_CHANNEL} posts / {WINDOW:.0f} s a channel, "
          f"{GLOBAL_REQUESTS_PER_SECOND} requests / s; least time they allow: {floor:.2f} s")
    print("| run | drain s | drain / minimum | rows / s | posted | refused |")
    print("|---|---|---|---|---|---|")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, posted, refused = asyncio.run(one_run(Path(tmp), args.rows, args.channels, args.db))
        print(f"| {run} | {elapsed:.2f} | {elapsed / floor:.2f} | {args.rows / elapsed:.1f} | {posted} | {refused} |")


if __name__ == "__main__":
    main()
