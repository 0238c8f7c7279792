"""Failed logins are rate limited per client, and per client and team.

A client (an address) that fails `limit` logins within `window` seconds, on whatever teams, is
refused until its oldest failure leaves the window; so is a client that fails `per_team_limit`
times on one team. There is deliberately no lock on a team as a whole: team usernames follow
from public team names, so such a lock would let anyone shut a rival out before the deadline,
and it would protect nothing, the passwords being 192-bit random tokens. Counted in this process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.core.errors import TooManyAttempts


class LoginLimiter:
    def __init__(
        self,
        limit: int = 10,
        window: float = 60.0,
        per_team_limit: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit, self.window, self.per_team_limit, self.clock = limit, window, per_team_limit, clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, client: str, username: str) -> None:
        """Raise TooManyAttempts if this client has failed too often lately, overall or on this team."""
        now = self.clock()
        for key, limit in ((f"client:{client}", self.limit), (f"pair:{client}\0{username}", self.per_team_limit)):
            failures = self._recent(key, now)
            if len(failures) >= limit:
                retry = failures[0] + self.window - now
                raise TooManyAttempts(
                    f"too many failed logins; wait {max(1, round(retry))} s and check the username and password",
                    retry_after=retry,
                )

    def failed(self, client: str, username: str) -> None:
        now = self.clock()
        for key in (f"client:{client}", f"pair:{client}\0{username}"):
            self._recent(key, now).append(now)
        if len(self._failures) > 100_000:  # bounded memory against address spraying
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
