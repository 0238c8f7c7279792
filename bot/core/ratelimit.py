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
keep a runaway script from hammering the server. The failures are rows in the database
(`login_failures`), so every web process in front of one database enforces the same limit: a
script spreading its attempts over 3 processes behind a proxy meets the limit as it would with
one. `check` is one statement; `failed` records a failure and deletes those that left the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from bot.core.errors import TooManyAttempts
from bot.core.store import Store, Tx

_KEY_CHARS = 200  # a hostile username or address is stored cut to this length

_CHECK = (
    "SELECT (SELECT count(*) FROM login_failures WHERE username = ? AND client = ? AND failed_at > ?),"
    " (SELECT min(failed_at) FROM login_failures WHERE username = ? AND client = ? AND failed_at > ?),"
    " (SELECT count(*) FROM login_failures WHERE username = ? AND failed_at > ?)"
)
# the team limit's retry: when the team's team_limit-th newest failure leaves the window
_NTH_NEWEST = "SELECT failed_at FROM login_failures WHERE username = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT 1 OFFSET ?"


@dataclass(frozen=True)
class LoginGate:
    """The limiter's fast path, read inside the login's own statement: how many logins this
    client failed on a username within the window. Zero (the common case) means `check` could
    not refuse, so the login goes on without a hop of its own; otherwise the caller stops and
    asks `check` (LoginGated)."""

    client: str
    since: float

    @staticmethod
    def sql(username: str, client: str, since: str) -> str:
        """The gate's count, over these SQL expressions (placeholders, or the columns of a batch)."""
        return f"(SELECT count(*) FROM login_failures WHERE username = {username} AND client = {client} AND failed_at > {since})"

    SQL: ClassVar[str] = sql("?", "?", "?")  # with the placeholders of `params`

    def params(self, username: str) -> tuple[str, str, float]:
        client, username = _keys(self.client, username)
        return (username, client, self.since)


class LoginGated(Exception):
    """A login stopped by the gate: this client failed on this username lately; `check` decides."""


def _keys(client: str, username: str) -> tuple[str, str]:
    """A NUL byte, which PostgreSQL's text cannot hold (and no username has), is kept as U+FFFD."""
    return client[:_KEY_CHARS].replace("\x00", "\ufffd"), username[:_KEY_CHARS].replace("\x00", "\ufffd")


async def _check(tx: Tx, client: str, username: str, since: float,
                 team_limit: int) -> tuple[int, float | None, int, float | None]:
    mine, oldest, team = await tx.fetchone(_CHECK, (username, client, since, username, client, since, username, since)
                                           ) or (0, None, 0)
    nth = None
    if mine and team >= team_limit:
        nth = await tx.fetchval(_NTH_NEWEST, (username, since, team_limit - 1))
    return int(mine), oldest, int(team), nth


async def _failed(tx: Tx, client: str, username: str, now: float, since: float) -> None:
    async with tx.transaction():
        await tx.execute("DELETE FROM login_failures WHERE failed_at <= ?", (since,))
        await tx.execute("INSERT INTO login_failures(client, username, failed_at) VALUES (?, ?, ?)",
                         (client, username, now))


class LoginLimiter:
    def __init__(
        self,
        store: Store,
        pair_limit: int = 5,
        team_limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,  # wall time: several processes, several machines
    ):
        self.store = store
        self.pair_limit, self.team_limit, self.window, self.clock = pair_limit, team_limit, window, clock

    def gate(self, client: str) -> LoginGate:
        return LoginGate(client, self.clock() - self.window)

    async def check(self, client: str, username: str) -> None:
        """Raise TooManyAttempts if this client may not try this team's login now."""
        client, username = _keys(client, username)
        now = self.clock()
        mine, oldest, team, nth = await self.store.run(_check, client, username, now - self.window, self.team_limit)
        if not mine:
            return  # this client never failed on this team lately: never refused
        if mine >= self.pair_limit and oldest is not None:
            retry = oldest + self.window - now
        elif team >= self.team_limit and nth is not None:
            retry = nth + self.window - now
        else:
            return
        raise TooManyAttempts(
            f"too many failed logins on {username[:40]!r} from your address; wait {max(1, round(retry))} s and "
            "check the username and password (other teams are not affected)",
            retry_after=retry,
        )

    async def failed(self, client: str, username: str) -> None:
        """Count one refused login of this client on this team (and forget the failures that
        left the window, whoever made them: the table stays as small as the last minute)."""
        client, username = _keys(client, username)
        now = self.clock()
        await self.store.run(_failed, client, username, now, now - self.window)
