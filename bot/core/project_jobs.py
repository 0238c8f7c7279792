"""The projects' scheduled work, from the database: repositories left unverified are checked
again, each repository's latest commit is recorded at its project's deadline (and the commits
pushed after it counted), and drafts are reminded before the deadline.

Every step reads what is due from the rows and writes with a guarded statement, so a restart
loses nothing (what was due while no bot ran is done at the next tick) and several runners on
one database do each thing once: a reminder is claimed by an INSERT its primary key lets through
once before it is sent (ProjectService.draft_reminders_due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.projects import DraftReminder, ProjectService

log = logging.getLogger(__name__)

POLL_SECONDS = 60
Notify = Callable[[DraftReminder], Awaitable[None]]


@dataclass(frozen=True)
class TickResult:
    rechecked: int
    snapshots: int
    counted: int
    reminded: int


class ProjectRunner:
    def __init__(self, service: ProjectService, notify: Notify, *, poll: float = POLL_SECONDS):
        self.service, self.notify, self.poll = service, notify, poll
        self.clock = service.clock
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def tick(self) -> TickResult:
        """Do everything due now."""
        async with self._lock:
            rechecked = await self.service.recheck_due()
            snapshots = await self.service.snapshot_due()
            counted = await self.service.count_after_due()
            reminded = 0
            for reminder in await self.service.draft_reminders_due():
                try:
                    await self.notify(reminder)
                    reminded += 1
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - claimed: not sent again; the log says which
                    log.exception("the draft reminder of team %s could not be sent", reminder.project.team_name)
            return TickResult(rechecked, snapshots, counted, reminded)

    async def start(self) -> None:
        if self._task is None and self.service.config.projects is not None:
            self._task = asyncio.create_task(self._loop(), name="hackbot-projects")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            async with self._lock:  # a step in progress finishes first
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            delay = self.poll
            try:
                await self.tick()
                due = await self.service.next_due()
                if due is not None:  # wake at the next deadline or reminder, not a poll later
                    delay = min(self.poll, max(0.05, (due - self.clock()).total_seconds() + 0.05))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database or GitHub may be back at the next poll
                log.exception("the projects' scheduled work failed; trying again in %.0f s", self.poll)
            await asyncio.sleep(delay)


def log_notify(logger: logging.Logger | None = None) -> Notify:
    """The reminders claimed, in the log (each is an outbox row the bot's drainer posts in the
    team's channel, whichever process claimed it)."""
    out = logger or log

    async def notify(reminder: DraftReminder) -> None:
        out.info("projects: team %s reminded (queued for its channel): %s", reminder.project.team_name, reminder.text())

    return notify
