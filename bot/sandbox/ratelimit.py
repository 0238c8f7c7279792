"""Rate limits as the double applies them: a bucket per route and top-level resource, and the
bot's global 50 requests a second, answered with Discord's headers and 429 bodies.

From discord/discord-api-docs `developers/topics/rate-limits.mdx`: the headers
X-RateLimit-Limit / -Remaining / -Reset / -Reset-After / -Bucket (:31-45), and on a 429
X-RateLimit-Scope (user | global | shared) and X-RateLimit-Global (:41-45), with the body
{message, retry_after (float seconds), global, code} (:54-59; `code` is required by the spec's
RatelimitedResponse). Buckets are per route and per top-level resource: channel_id, guild_id,
webhook_id + token (:16). "All bots can make up to 50 requests per second" (:122);
interaction endpoints are exempt (:128).

Discord publishes no per-route numbers ("should not be hard coded"). The double uses 5 messages
per 5 seconds in one channel (the bucket client libraries commonly report for
POST /channels/{id}/messages) and 50 per second on other routes, so that the global limit is
the one a busy bot meets, and a bot that ignores X-RateLimit-Remaining is refused.

A request counts at the time it arrived (`check(..., now=)`: bot/sandbox/arrival.py's kernel
stamp), as at Discord, not when the double's loop got round to it: after a stall the double
handles a backlog in a bunch, and in an order close to, but not exactly, that of arrival.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.discord_limits import GLOBAL_REQUESTS_PER_SECOND

ROUTE_LIMITS = {"POST /channels/{channel}/messages": (5, 5.0)}
DEFAULT_LIMIT = (50, 1.0)
MAJOR = ("channel", "guild", "webhook", "app", "token", "id")
# interaction callbacks and interaction webhooks: not bound to the global limit
EXEMPT_PREFIXES = ("POST /interactions/", "POST /webhooks/", "GET /webhooks/", "PATCH /webhooks/", "DELETE /webhooks/")


@dataclass
class Bucket:
    name: str
    limit: int
    per: float
    remaining: int
    resets: float  # monotonic time at which the window ends


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    global_: bool = False


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[tuple[str, str], Bucket] = {}
        # arrival times of the bot's global-bound requests, sorted: a backlog is handled nearly in order
        self.recent: list[float] = []

    def check(self, route: str, major: str, now: float | None = None) -> Verdict:
        """Count a request that arrived at `now` (by default: the clock's now)."""
        if now is None:
            now = self.clock()
        limit, per = ROUTE_LIMITS.get(route, DEFAULT_LIMIT)
        key = (route, major)
        bucket = self.buckets.get(key)
        if bucket is None or now >= bucket.resets:
            name = hashlib.sha1(route.encode()).hexdigest()[:16]
            bucket = self.buckets[key] = Bucket(name, limit, per, limit, now + per)
        if not route.startswith(EXEMPT_PREFIXES):
            recent = self.recent
            # forget what no request handled from now on can meet: stamps more than 1 s before the
            # latest one, with 4 s more for a request handled late (a stall) with an earlier stamp
            if recent and recent[0] < recent[-1] - 5.0:
                del recent[:bisect.bisect_left(recent, recent[-1] - 5.0)]
            retry = self._global_retry(now)
            if retry is not None:
                return Verdict(False, self._limited(retry, scope="global") | {"X-RateLimit-Global": "true"},
                               retry, global_=True)
        if bucket.remaining <= 0:
            retry = max(0.001, bucket.resets - now)
            return Verdict(False, self._headers(bucket, now) | self._limited(retry, scope="user"), retry)
        bucket.remaining -= 1
        if not route.startswith(EXEMPT_PREFIXES):
            bisect.insort(self.recent, now)
        return Verdict(True, self._headers(bucket, now))

    def _global_retry(self, now: float) -> float | None:
        """None if a request arriving at `now` keeps every second that holds it within the global
        limit, counting the requests already let through, those that arrived after it included
        (handled first); else how long to wait."""
        recent = self.recent
        ends = [now, *recent[bisect.bisect_right(recent, now):bisect.bisect_left(recent, now + 1.0)]]
        for end in ends:  # the windows (end - 1 s, end] that would hold it
            first = bisect.bisect_right(recent, end - 1.0)
            if bisect.bisect_right(recent, end) - first >= GLOBAL_REQUESTS_PER_SECOND:
                return max(0.001, 1.0 - (now - recent[first]))
        return None

    @staticmethod
    def _headers(bucket: Bucket, now: float) -> dict[str, str]:
        after = max(0.0, bucket.resets - now)
        return {
            "X-RateLimit-Limit": str(bucket.limit), "X-RateLimit-Remaining": str(bucket.remaining),
            "X-RateLimit-Reset": f"{time.time() + after:.3f}", "X-RateLimit-Reset-After": f"{after:.3f}",
            "X-RateLimit-Bucket": bucket.name,
        }

    @staticmethod
    def _limited(retry: float, *, scope: str) -> dict[str, str]:
        # discord.py treats a 429 without Via as a Cloudflare ban; Discord's own answers carry it
        return {"Retry-After": str(math.ceil(retry)), "X-RateLimit-Scope": scope, "Via": "1.1 google"}


def body(retry_after: float, global_: bool) -> dict:
    return {"message": "You are being rate limited.", "retry_after": round(retry_after, 3), "global": global_, "code": 0}
