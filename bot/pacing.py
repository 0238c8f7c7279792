"""The bot keeps under Discord's global rate limit itself.

"All bots can make up to 50 requests per second" (discord-api-docs topics/rate-limits.mdx:122),
interaction endpoints excepted (:128). discord.py follows each route's bucket from the
X-RateLimit headers, but only learns of the global limit from a 429, and every 429 counts
towards the 10,000 invalid requests in 10 minutes that get a bot banned by Cloudflare (:132).
Repairing hundreds of team spaces on start, a burst of team creations, or the outbox draining
posts to many channels would cross it; so every request that is not an interaction's own waits
for a place among the last second's, at the moment it leaves.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from typing import Any

import aiohttp
import discord

from bot.discord_limits import GLOBAL_REQUESTS_PER_SECOND

PER_SECOND = GLOBAL_REQUESTS_PER_SECOND - 5  # a margin for the clocks of two ends of a network
CHANNEL_POSTS, CHANNEL_WINDOW = 5, 5.0  # Discord's bucket of a channel's messages: 5 every 5 s
CHANNEL_MARGIN = 0.25  # seconds: a request's way to Discord may be slower than the next one's
_CHANNEL_POST = re.compile(r"/channels/([0-9]+)/messages$")
EXEMPT = ("/interactions/", "/webhooks/")  # interaction callbacks and follow-ups


class GlobalPace:
    """At most `per_second` requests in any `window`, and at least `spacing` apart: a burst of 45
    let out at once, its last requests delayed on the way by a busy machine, would land in the
    same second as the next 45 at Discord; spaced out, a delay shifts them without piling them up.
    The spacing costs a lone request nothing, and a queue 1/45 s a request, which the window
    costs anyway."""

    def __init__(self, per_second: int = PER_SECOND, window: float = 1.0, spacing: float | None = None):
        self.per_second, self.window = per_second, window
        self.spacing = window / per_second if spacing is None else spacing
        self.sent: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.sent and now - self.sent[0] >= self.window:
                    self.sent.popleft()
                gap = self.spacing - (now - self.sent[-1]) if self.sent else 0.0
                if len(self.sent) < self.per_second and gap <= 0:
                    self.sent.append(now)
                    return
                full = self.window - (now - self.sent[0]) if len(self.sent) >= self.per_second else 0.0
                await asyncio.sleep(max(gap, full))


class ChannelPace:
    """At most `limit` posts in one channel in any `window` (sliding): discord.py learns a
    channel's bucket from the first answer, and several outbox lanes posting in one channel at
    once (the help queue's tickets in the mentors' queue) otherwise met a 429 when the bucket
    reset. Each channel waits on its own; other channels pass.

    A post's turn is taken before the global pace's wait, and its time is set again when it
    leaves (`left`): a post held a while by the global pace reaches Discord later than its turn
    said, and a window counted from the turn let the channel's sixth post arrive less than 5 s
    after the first (a 429 with "retry after 0.03 s" in the failover-burst test)."""

    def __init__(self, limit: int = CHANNEL_POSTS, window: float = CHANNEL_WINDOW, margin: float = CHANNEL_MARGIN):
        self.limit, self.window, self.margin = limit, window, margin
        self.sent: dict[str, list[list[float]]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> list[float]:
        """Wait for the channel's turn; the slot returned is the post's, for `left`."""
        async with self.locks.setdefault(channel, asyncio.Lock()):
            sent = self.sent.setdefault(channel, [])
            while True:
                now = time.monotonic()
                sent[:] = [slot for slot in sent if now - slot[0] < self.window + self.margin]
                if len(sent) < self.limit:
                    slot = [now]
                    sent.append(slot)
                    return slot
                await asyncio.sleep(self.window + self.margin - (now - min(slot[0] for slot in sent)))

    @staticmethod
    def left(slot: list[float]) -> None:
        """The post leaves now: the channel's window counts from here."""
        slot[0] = time.monotonic()


def pace(http: discord.http.HTTPClient, pacer: GlobalPace | None = None) -> GlobalPace:
    """Make `http` (a discord.py client's HTTPClient, before its login) wait its turn before each
    request leaves. The wait is in aiohttp's request-start hook, after discord.py's own wait for
    the route's bucket: a request held by its bucket (5 posts a channel every 5 s) and released
    with a dozen others when the buckets reset takes its turn then, not before it queued. (Waiting
    before discord.py's bucket wait, requests granted a turn over several seconds all left in the
    same instant: the outbox draining many channels met the global limit.)"""
    pacer = pacer or GlobalPace()
    channels = ChannelPace()
    trace = http.http_trace or aiohttp.TraceConfig()

    async def on_request_start(session: aiohttp.ClientSession, context: Any,
                               params: aiohttp.TraceRequestStartParams) -> None:
        path = params.url.path
        if "/api/" in path and not any(part in path for part in EXEMPT):
            post = _CHANNEL_POST.search(path) if params.method == "POST" else None
            slot = await channels.wait(post.group(1)) if post is not None else None  # its channel's turn first
            await pacer.wait()  # then the global one
            if slot is not None:
                channels.left(slot)

    trace.on_request_start.append(on_request_start)
    http.http_trace = trace  # the session is made at login with it
    return pacer
