"""Failed logins are rate limited per client address and per team username.

After `limit` failures within `window` seconds, further attempts from that client, or on that
team, are refused until the oldest failure leaves the window. Counted in this process: two
processes each allow `limit`, which still turns a brute force of 192-bit tokens from hopeless
into more hopeless, while one database round trip per failure would hand attackers a lever.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.core.errors import TooManyAttempts


class LoginLimiter:
    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, client: str, username: str) -> None:
        """Raise TooManyAttempts if this client or this team has failed too often lately."""
        now = self.clock()
        for key in (f"client:{client}", f"team:{username}"):
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                retry = failures[0] + self.window - now
                raise TooManyAttempts(
                    f"too many failed logins; wait {max(1, round(retry))} s and check the username and password",
                    retry_after=retry,
                )

    def failed(self, client: str, username: str) -> None:
        now = self.clock()
        for key in (f"client:{client}", f"team:{username}"):
            self._recent(key, now).append(now)
        if len(self._failures) > 100_000:  # bounded memory against address spraying
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
