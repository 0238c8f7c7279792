"""The bot keeps under Discord's global rate limit itself.

"All bots can make up to 50 requests per second" (discord-api-docs topics/rate-limits.mdx:122),
interaction endpoints excepted (:128). discord.py follows each route's bucket from the
X-RateLimit headers, but only learns of the global limit from a 429, and every 429 counts
towards the 10,000 invalid requests in 10 minutes that get a bot banned by Cloudflare (:132).
Repairing hundreds of team spaces on start, or a burst of team creations, would cross it; so
every request that is not an interaction's own waits for a place among the last second's.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import discord

from bot.discord_limits import GLOBAL_REQUESTS_PER_SECOND

PER_SECOND = GLOBAL_REQUESTS_PER_SECOND - 5  # a margin for the clocks of two ends of a network
EXEMPT = ("/interactions/", "/webhooks/")  # interaction callbacks and follow-ups


class GlobalPace:
    def __init__(self, per_second: int = PER_SECOND, window: float = 1.0):
        self.per_second, self.window = per_second, window
        self.sent: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.sent and now - self.sent[0] >= self.window:
                    self.sent.popleft()
                if len(self.sent) < self.per_second:
                    self.sent.append(now)
                    return
                await asyncio.sleep(self.window - (now - self.sent[0]))


def pace(http: discord.http.HTTPClient, pacer: GlobalPace | None = None) -> GlobalPace:
    """Make `http` (a discord.py client's HTTPClient) wait its turn before each request."""
    pacer = pacer or GlobalPace()
    request = http.request

    async def paced(route: discord.http.Route, **kwargs: Any) -> Any:
        if not route.path.startswith(EXEMPT):
            await pacer.wait()
        return await request(route, **kwargs)

    http.request = paced  # type: ignore[method-assign]
    return pacer
