"""Escalation of waiting help tickets, from the database: each unclaimed ticket notifies the
event file's `[mentoring] escalation` steps in turn (specialists, then every mentor, then the
organizers, by default at 0, 10 and 30 minutes after it entered the queue) until a mentor claims
it, and closes as stale after `stale_after` (the team is told, and may reopen it).

The rows are the truth; a runner's timer only decides when to look. A step is claimed by one
guarded UPDATE of the ticket's (next_step, notify_at) before its notice is handed out, inside a
transaction that skips rows another runner holds (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has
one writer at a time): of two processes, one claims each step, and a restart resumes at the step
the database holds. The notice is an outbox row written in the claim's transaction (kind
ticket.notice, keyed by the step's event): a process killed after the commit loses nothing, and
the notice is posted once whoever drains it (bot/core/outbox.py).

Rules of the steps:
- a step is due at queued_at + after (queued_at: when the ticket last entered the queue: opened,
  released, reopened);
- after a downtime, only the latest due step is sent (a ticket 40 minutes old is escalated to
  the organizers once, not to specialists, mentors and organizers in a burst);
- "specialists" are the mentors on duty who offer one of the ticket's tags; when there are none,
  the next step is notified at once instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from bot.config import EventConfig, MentoringSection
from bot.core.clock import Clock
from bot.core.mentoring import TICKET_NOTICE, MentoringService, Ticket, _event, position_of, read_ticket, show
from bot.core.store import Tx

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # the longest the runner sleeps: rows other processes add are seen within it
LATE_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class TicketNotice:
    """What the Discord side posts (structured: it renders mentions and times)."""

    ticket: Ticket
    kind: Literal["escalation", "stale"]
    step: int | None  # the escalation step's index in the event file
    notify: Literal["specialists", "mentors", "organizers"] | None
    mentors: tuple[str, ...]  # mentors on duty to ping: with a matching tag (specialists), or all of them
    role: str | None  # a role to mention: the mentors' role, or the organizers'
    position: int | None  # the ticket's place in the queue (None when stale)
    waited: timedelta  # since it entered the queue
    late: bool  # sent more than a minute after the step was due (a downtime)


Notify = Callable[[TicketNotice], Awaitable[None]]
Report = Callable[[str], Awaitable[None]]

_SKIP_LOCKED = {"sqlite": "", "postgres": " FOR UPDATE SKIP LOCKED"}


async def claim_due(tx: Tx, config: EventConfig, now: float) -> TicketNotice | None | Literal["again"]:
    """Claim the next due notice, in one transaction: a stale ticket closed, or an escalation
    step advanced. None when nothing is due; "again" when a row changed without a notice (its
    remaining steps had nobody to notify)."""
    section = config.mentoring
    assert section is not None
    lock = _SKIP_LOCKED[tx.dialect]
    async with tx.transaction():
        stale = await tx.fetchone(
            f"SELECT id, queued_at FROM tickets WHERE status = 'open' AND queued_at <= ? ORDER BY queued_at, id LIMIT 1{lock}",
            (now - section.stale_after.total_seconds(),),
        )
        if stale is not None and await tx.execute(
            "UPDATE tickets SET status = 'stale', closed_at = ?, notify_at = NULL WHERE id = ? AND status = 'open'",
            (now, stale[0]),
        ):
            event = await _event(tx, stale[0], "stale", None, now)
            ticket = await read_ticket(tx, stale[0])
            due = stale[1] + section.stale_after.total_seconds()
            notice = TicketNotice(ticket, "stale", None, None, (), None, None, timedelta(seconds=now - stale[1]),
                                  now - due > LATE_AFTER.total_seconds())
            await show(tx, ticket.number, event, TICKET_NOTICE, notice_payload(notice))
            return notice
        row = await tx.fetchone(
            "SELECT id, next_step, notify_at, queued_at, tags FROM tickets WHERE status = 'open' AND notify_at <= ?"
            f" ORDER BY notify_at, id LIMIT 1{lock}",
            (now,),
        )
        if row is None:
            return None
        number, next_step, notify_at, queued_at, tags = row
        on_duty = [(user, set(json.loads(t))) for user, t in await tx.fetchall(
            "SELECT user_id, tags FROM mentors WHERE on_duty = 1 ORDER BY user_id"
        )]
        step, mentors, role = _choose(section, config, next_step, queued_at, now, set(json.loads(tags)), on_duty)
        steps = section.escalation
        following = step + 1
        next_at = queued_at + steps[following].after.total_seconds() if following < len(steps) else None
        changed = await tx.execute(
            "UPDATE tickets SET next_step = ?, notify_at = ? WHERE id = ? AND status = 'open' AND next_step = ?",
            (min(following, len(steps)), next_at, number, next_step),
        )
        if not changed or step >= len(steps):
            return "again"
        notify = steps[step].notify
        event = await _event(tx, number, "notify", None, now, f"step {step + 1}: {notify}")
        ticket = await read_ticket(tx, number)
        notice = TicketNotice(
            ticket, "escalation", step, notify, mentors, role, await position_of(tx, ticket),
            timedelta(seconds=now - queued_at), now - notify_at > LATE_AFTER.total_seconds(),
        )
        await show(tx, number, event, TICKET_NOTICE, notice_payload(notice))
        return notice


def notice_payload(notice: TicketNotice) -> dict[str, Any]:
    """A notice as its outbox row holds it (the ticket is read again when it is posted)."""
    return {"kind": notice.kind, "step": notice.step, "notify": notice.notify, "mentors": list(notice.mentors),
            "role": notice.role, "position": notice.position, "waited": notice.waited.total_seconds(),
            "late": notice.late}


def notice_from(ticket: Ticket, payload: dict[str, Any]) -> TicketNotice:
    return TicketNotice(ticket, payload["kind"], payload["step"], payload["notify"], tuple(payload["mentors"]),
                        payload["role"], payload["position"], timedelta(seconds=payload["waited"]), payload["late"])


def _choose(section: MentoringSection, config: EventConfig, step: int, queued_at: float, now: float, tags: set[str],
            on_duty: list[tuple[str, set[str]]]) -> tuple[int, tuple[str, ...], str | None]:
    """(the step to notify now, mentors to ping, role to mention); step == len(steps): none."""
    steps = section.escalation
    # after a downtime: the latest step that is due, not each one in a burst
    while step + 1 < len(steps) and queued_at + steps[step + 1].after.total_seconds() <= now:
        step += 1
    while step < len(steps):
        notify = steps[step].notify
        if notify == "specialists":
            wanted = {t.casefold() for t in tags}
            specialists = tuple(u for u, offered in on_duty if wanted & {t.casefold() for t in offered})
            if specialists:
                return step, specialists, None
            step += 1  # nobody on duty covers its tags: the next step, at once
            continue
        if notify == "mentors":
            return step, tuple(u for u, _ in on_duty), section.mentor_role
        return step, (), config.discord.organizer_role
    return step, (), None


async def _next_wake(tx: Tx, stale_after: float) -> float | None:
    row = await tx.fetchone("SELECT min(notify_at), min(queued_at) FROM tickets WHERE status = 'open'")
    if row is None:
        return None
    times = [t for t in (row[0], None if row[1] is None else row[1] + stale_after) if t is not None]
    return min(times) if times else None


class TicketRunner:
    """Sends the due notices of every process's tickets; any number of runners may share a database."""

    def __init__(self, service: MentoringService, notify: Notify, *, clock: Clock | None = None,
                 report: Report | None = None, poll: float = POLL_SECONDS):
        self.service, self.notify = service, notify
        self.clock = clock or service.clock
        self._report_to, self.poll = report, poll
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def tick(self) -> int:
        """Send every notice due now; returns how many were sent."""
        if self.service.config.mentoring is None:
            return 0
        sent = 0
        async with self._lock:
            while True:
                claimed = await self.service.store.run(claim_due, self.service.config, self.clock().timestamp())
                if claimed is None:
                    return sent
                if claimed == "again":
                    continue
                sent += await self._send(claimed)

    async def _send(self, notice: TicketNotice) -> int:
        try:
            await self.notify(notice)
            return 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one failed notice must not stop the others
            log.exception("notice of ticket #%s failed", notice.ticket.number)
            what = "stale notice" if notice.kind == "stale" else f"escalation step {(notice.step or 0) + 1} ({notice.notify})"
            await self._report(f"The {what} of ticket #{notice.ticket.number} could not be sent ({type(exc).__name__}:"
                               f" {exc}); it is not sent again. /mentor queue shows the ticket.")
            return 0

    async def _report(self, message: str) -> None:
        log.warning("%s", message)
        if self._report_to is None:
            return
        try:
            await self._report_to(message)
        except Exception:  # noqa: BLE001 - the log has it
            log.exception("reporting to the organizers failed")

    def wake(self) -> None:
        """Look at the rows now (a ticket entered the queue)."""
        self._wake.set()

    async def start(self) -> None:
        if self._task is not None or self.service.config.mentoring is None:
            return
        self._unsubscribe = self.service.on_change(self.wake)
        self._task = asyncio.create_task(self._loop(), name="hackbot-ticket-escalation")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            async with self._lock:  # a notice being sent finishes first
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        section = self.service.config.mentoring
        assert section is not None
        while True:
            self._wake.clear()
            try:
                await self.tick()
                wake_at = await self.service.store.run(_next_wake, section.stale_after.total_seconds())
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be back at the next poll
                log.exception("ticket escalation failed; trying again in %.0f s", self.poll)
                wake_at = None
            delay = self.poll if wake_at is None else min(self.poll, max(0.0, wake_at - self.clock().timestamp()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))


def describe(notice: TicketNotice) -> str:
    """A plain-text line for logs and the offline run (no Discord): never the problem's text."""
    ticket = notice.ticket
    if notice.kind == "stale":
        return f"ticket #{ticket.number} of team {ticket.team} closed as stale after {_minutes(notice.waited)} unclaimed"
    who = ", ".join(notice.mentors) or "nobody on duty"
    role = f" and role {notice.role}" if notice.role else ""
    return (f"ticket #{ticket.number} of team {ticket.team} ({', '.join(ticket.tags) or 'no tag'}) waits for "
            f"{_minutes(notice.waited)}: step {(notice.step or 0) + 1}, {notice.notify}: {who}{role}")


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:.0f} min"
