"""Failed logins are rate limited per client and team, and per team; never per client alone.

At an in-person event every team's scripts reach the server from the venue's one address, so a
limit on an address as a whole would let one team's typos refuse every other team's correct
password. The limits are therefore keyed by team:

- a client (an address) that fails `pair_limit` logins on one team within `window` seconds is
  refused on that team until its oldest failure leaves the window; other teams, from the same
  address, are not affected;
- a team whose username collected `team_limit` failures within the window, from any number of
  addresses, is refused to the addresses that failed on it meanwhile. An address with no failure
  on it still gets in, so that nobody can lock a rival team out (team usernames follow from
  public team names) by failing on purpose from many addresses.

Neither limit protects the passwords, which are 192-bit random tokens no guessing reaches; they
keep a runaway script from hammering the server. Counted in this process's memory; the
interface (`check`, then `failed` after a refused login) is all the HTTP door needs.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from bot.core.errors import TooManyAttempts

K = TypeVar("K")

_MAX_KEYS = 100_000  # bounded memory against username spraying


class LoginLimiter:
    def __init__(
        self,
        pair_limit: int = 5,
        team_limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.pair_limit, self.team_limit, self.window, self.clock = pair_limit, team_limit, window, clock
        self._pairs: dict[tuple[str, str], deque[float]] = {}
        self._teams: dict[str, deque[float]] = {}

    def check(self, client: str, username: str) -> None:
        """Raise TooManyAttempts if this client may not try this team's login now."""
        now = self.clock()
        if (client, username) not in self._pairs:
            return  # this client never failed on this team lately: never refused
        mine = self._recent(self._pairs, (client, username), now)
        team = self._recent(self._teams, username, now)
        if len(mine) >= self.pair_limit:
            retry = mine[0] + self.window - now
        elif len(team) >= self.team_limit:
            retry = team[len(team) - self.team_limit] + self.window - now
        else:
            return
        raise TooManyAttempts(
            f"too many failed logins on {username[:40]!r} from your address; wait {max(1, round(retry))} s and "
            "check the username and password (other teams are not affected)",
            retry_after=retry,
        )

    def failed(self, client: str, username: str) -> None:
        """Count one refused login of this client on this team."""
        now = self.clock()
        self._recent(self._pairs, (client, username), now).append(now)
        self._recent(self._teams, username, now).append(now)
        if len(self._pairs) > _MAX_KEYS or len(self._teams) > _MAX_KEYS:
            self._pairs = {k: v for k, v in self._pairs.items() if v and v[-1] > now - self.window}
            self._teams = {k: v for k, v in self._teams.items() if v and v[-1] > now - self.window}

    def _recent(self, table: dict[K, deque[float]], key: K, now: float) -> deque[float]:
        failures = table.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
