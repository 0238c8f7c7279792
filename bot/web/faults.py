"""Telling the organizers that the server refuses requests it cannot record (a full disk, a
read-only or locked database): at error level in the log, and to Discord's log channel when the
bot runs, at most once a minute however many requests are refused meanwhile."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

Report = Callable[[str], Awaitable[None]]

log = logging.getLogger("bot.web.faults")


class FaultReport:
    def __init__(self, report: Report | None = None, *, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.report, self.interval, self.clock = report, interval, clock
        self._last: float | None = None
        self._refused = 0
        self._tasks: set[asyncio.Future[None]] = set()

    def refused(self, reason: str, method: str, path: str) -> None:
        """One request answered 503; report it unless a report went out less than `interval` ago."""
        self._refused += 1
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return
        text = (
            f"the HTTP API cannot record anything: {reason}. {self._refused} request(s) refused with 503 "
            f"since the last report (the latest: {method} {path[:80]}); nothing was recorded for them and "
            "the teams were told to try again. Free disk space or fix the database's permissions: "
            "requests succeed again by themselves."
        )
        log.error("%s", text)
        self._last, self._refused = now, 0
        if self.report is not None:
            task = asyncio.ensure_future(self.report(text))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
