"""The help queue: tickets opened by teams, claimed by mentors; mentors' tags and duty.

Every rule is held by the database (migration 0010) and checked in one hop:
- a team has at most one open ticket (`tickets_one_open_per_team`, a partial unique index): a
  second /help is told "you already have ticket #12, position 3";
- ticket numbers are the database's ids, never reused;
- a claim is one guarded UPDATE (`WHERE status = 'open'`): of any number of simultaneous clicks
  from any number of processes exactly one changes the row, the others are told who holds it;
- a mentor holds at most one claimed ticket (`tickets_one_claim_per_mentor`).

A ticket waits in the queue at its place (`opened_at`): a release puts it back there. Its
escalation counts from `queued_at`, when it last entered the queue (opened, released, reopened):
bot/core/ticket_escalation.py notifies the event file's steps in turn until it is claimed, and
closes it as stale after `[mentoring] stale_after`; the team can reopen it.

The requester sees the queue position and an estimated wait (bot/core/mentoring_metrics.py: the
median time to claim of recent tickets sharing a tag); organizers see per-tag times, tags with
no mentor on duty and mentors' ratings (`report`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.config import EventConfig, MentoringSection
from bot.core.clock import Clock
from bot.core.errors import AlreadyDone, BadInput, NotAllowed, NotFound
from bot.core.mentoring_metrics import (
    Outcome,
    TagMetrics,
    TicketRecord,
    WaitEstimate,
    estimated_wait,
    mentor_ratings,
    tag_metrics,
    uncovered_tags,
)
from bot.core.outbox import enqueue
from bot.core.store import IntegrityError, Store, Tx

MAX_PROBLEM = 1000  # characters: a Discord text input holds 4000; a mentor reads this at a glance
MAX_PLACE = 200
MAX_COMMENT = 1000
RECENT = timedelta(hours=6)  # the tickets the estimated wait rests on
OPEN_STATES = ("open", "claimed")


# the outbox kinds of the help queue's Discord side (bot/outbox_executors.py), each row in its
# ticket's lane: they run in the order the ticket changed
TICKET_POST = "ticket.post"  # its post in the mentors' queue channel, with the Claim button
TICKET_EDIT = "ticket.edit"  # the post shown as the ticket is now (claimed, back in the queue, closed)
TICKET_THREAD = "ticket.thread"  # {mentor}: the private thread opened (first claim) or joined
TICKET_NOTE = "ticket.note"  # {note: released|resolved|cancelled}: a line in its thread
TICKET_NOTICE = "ticket.notice"  # an escalation or stale notice (bot/core/ticket_escalation.py)


def ticket_lane(number: int) -> str:
    return f"ticket:{number}"


@dataclass(frozen=True)
class Ticket:
    number: int
    team_id: int
    team: str  # the team's name
    requester: str  # Discord user id
    problem: str
    tags: tuple[str, ...]
    place: str  # where to meet: a table, a room, a voice channel
    status: str  # open | claimed | resolved | cancelled | stale
    opened_at: datetime
    claimed_by: str | None
    first_claimed_at: datetime | None
    closed_at: datetime | None
    mentor: str | None  # who helped (the claimer when it was resolved)
    rating: int | None
    thread_id: int | None
    post_channel_id: int | None
    post_message_id: int | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


@dataclass(frozen=True)
class QueueSpot:
    """A team's ticket as its requester sees it."""

    ticket: Ticket
    position: int | None  # 1: next in the queue; None: claimed or closed
    waiting: int  # tickets waiting in the queue now
    wait: WaitEstimate  # the median time to claim of recent tickets with the same tags


@dataclass(frozen=True)
class Claim:
    """A ticket claimed (or joined) by a mentor: what the Discord side needs for the thread."""

    ticket: Ticket
    mentor: str
    members: tuple[str, ...]  # the team's members now (the thread's people besides the mentors)
    helpers: tuple[str, ...]  # mentors who joined, besides the claimer
    first: bool  # the ticket's first claim: no thread exists yet


@dataclass(frozen=True)
class Mentor:
    user_id: str
    tags: tuple[str, ...]
    on_duty: bool
    holding: int | None  # the ticket they hold now


@dataclass(frozen=True)
class MentoredRating:
    mentor: str  # Discord user id
    count: int
    mean: float
    score: float  # the Bayesian average that ranks mentors (bot/core/mentoring_metrics.py)


@dataclass(frozen=True)
class MentoringReport:
    now: datetime
    tags: list[TagMetrics]  # per event tag, then "(all)"
    uncovered: list[str]  # event tags no mentor on duty covers now
    on_duty: dict[str, tuple[str, ...]]  # mentor -> tags
    ratings: list[MentoredRating]  # best first (Bayesian average)
    open: int
    claimed: int


class TicketTaken(AlreadyDone):
    """Someone else holds the ticket: `holder` is their Discord user id (the door renders it)."""

    def __init__(self, number: int, holder: str):
        super().__init__(f"ticket #{number} is claimed already, by another mentor")
        self.number, self.holder = number, holder


class AlreadyOpen(AlreadyDone):
    """The team has an open ticket already: its number and position (None: a mentor has it)."""

    def __init__(self, number: int, position: int | None):
        where = f"position {position} in the queue" if position is not None else "a mentor is on it"
        super().__init__(f"you already have ticket #{number}, {where}; /help status shows it, "
                         "or cancel it before opening another")
        self.number, self.position = number, position


_TICKET = (
    "t.id, t.team_id, tm.name, t.requester, t.problem, t.tags, t.place, t.status, t.opened_at, t.claimed_by,"
    " t.first_claimed_at, t.closed_at, t.mentor, t.rating, t.thread_id, t.post_channel_id, t.post_message_id"
)
_FROM = "FROM tickets t JOIN teams tm ON tm.id = t.team_id"


def _utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def ticket_from_row(row: Sequence) -> Ticket:
    opened = _utc(row[8])
    assert opened is not None
    return Ticket(
        number=row[0], team_id=row[1], team=row[2], requester=row[3], problem=row[4], tags=tuple(json.loads(row[5])),
        place=row[6], status=row[7], opened_at=opened, claimed_by=row[9], first_claimed_at=_utc(row[10]),
        closed_at=_utc(row[11]), mentor=row[12], rating=row[13], thread_id=row[14], post_channel_id=row[15],
        post_message_id=row[16],
    )


async def read_ticket(tx: Tx, number: int) -> Ticket:
    row = await tx.fetchone(f"SELECT {_TICKET} {_FROM} WHERE t.id = ?", (number,))
    if row is None:
        raise NotFound(f"there is no ticket #{number}; /mentor queue lists the open ones")
    return ticket_from_row(row)


async def position_of(tx: Tx, ticket: Ticket) -> int | None:
    """1 for the next ticket to be claimed; None when it is not waiting."""
    if ticket.status != "open":
        return None
    ts = ticket.opened_at.timestamp()
    return int(await tx.fetchval(
        "SELECT count(*) FROM tickets WHERE status = 'open' AND (opened_at < ? OR (opened_at = ? AND id <= ?))",
        (ts, ts, ticket.number),
    ))


async def team_of(tx: Tx, user_id: str) -> tuple[int, str] | None:
    row = await tx.fetchone(
        "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?", (user_id,)
    )
    return (row[0], row[1]) if row else None


async def _event(tx: Tx, number: int, kind: str, actor: str | None, now: float, detail: str = "") -> int:
    return await tx.fetchval(
        "INSERT INTO ticket_events(ticket_id, kind, actor, at, detail) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (number, kind, actor, now, detail),
    )


async def show(tx: Tx, number: int, event: int, kind: str, payload: dict[str, Any] | None = None) -> None:
    """The Discord side of a ticket's change, in the change's transaction: keyed by the change's
    event, so a retried hop or a second drainer shows it once."""
    await enqueue(tx, kind, f"{kind}:{number}:{event}", {"number": number, **(payload or {})}, lane=ticket_lane(number))


def first_notify_at(section: MentoringSection, queued_at: float) -> float | None:
    """When the first escalation step of a ticket that entered the queue at `queued_at` is due."""
    steps = section.escalation
    return queued_at + steps[0].after.total_seconds() if steps else None


class MentoringService:
    """Tickets and mentors. Methods raise NotAllowed when the event has no [mentoring] section."""

    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock
        self._listeners: list[Callable[[], None]] = []

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def section(self) -> MentoringSection:
        if self.config.mentoring is None:
            raise NotAllowed("this event has no help queue; organizers add a [mentoring] section to the event file")
        return self.config.mentoring

    @property
    def enabled(self) -> bool:
        return self.config.mentoring is not None

    @property
    def tags(self) -> list[str]:
        return list(self.config.mentoring.tags) if self.config.mentoring else []

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` when a ticket enters the queue (opened, released, reopened): the
        escalation runner wakes to notify its first step."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    def check_tags(self, tags: Iterable[str] | str) -> tuple[str, ...]:
        """The event's spelling of each tag (case-insensitive), in the event's order; unknown ones refused."""
        values = [t for t in (tags.split(",") if isinstance(tags, str) else tags)]
        known = {t.casefold(): t for t in self.section.tags}
        wanted, unknown = set(), []
        for value in values:
            name = " ".join(value.split())
            if not name:
                continue
            if name.casefold() in known:
                wanted.add(known[name.casefold()])
            else:
                unknown.append(name)
        if unknown:
            raise BadInput(f"unknown tag(s): {', '.join(repr(u) for u in unknown)}; the event's tags are: "
                           f"{', '.join(self.section.tags) or 'none'}")
        return tuple(t for t in self.section.tags if t in wanted)

    # --- the requester's side ---------------------------------------------------------------

    async def open_ticket(self, user_id: str, problem: str, tags: Iterable[str] | str = (), place: str = "") -> QueueSpot:
        """Open a ticket for the user's team. AlreadyOpen when the team has one."""
        section = self.section
        problem = problem.strip()
        place = " ".join(place.split())
        if not 1 <= len(problem) <= MAX_PROBLEM:
            raise BadInput(f"describe the problem in 1 to {MAX_PROBLEM} characters")
        if len(place) > MAX_PLACE:
            raise BadInput(f"say where to meet in at most {MAX_PLACE} characters")
        chosen = self.check_tags(tags)
        now = self.clock().timestamp()
        notify_at = first_notify_at(section, now)

        async def hop(tx: Tx) -> Ticket:
            team = await team_of(tx, user_id)
            if team is None:
                raise NotAllowed("help tickets are opened by teams: /team create or /team join first")
            try:
                async with tx.transaction():
                    number = await tx.fetchval(
                        "INSERT INTO tickets(team_id, requester, problem, tags, place, opened_at, queued_at, notify_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (team[0], user_id, problem, json.dumps(list(chosen)), place, now, now, notify_at),
                    )
                    await _event(tx, number, "open", user_id, now)
                    # its post in the mentors' queue channel, with the Claim button
                    await enqueue(tx, TICKET_POST, f"{TICKET_POST}:{number}", {"number": number},
                                  lane=ticket_lane(number))
            except IntegrityError as exc:
                if exc.kind != "unique":
                    raise
                await self._already_open(tx, team[0])
            return await read_ticket(tx, number)

        ticket = await self.store.run(hop)
        self._changed()
        return await self.spot(ticket)

    async def _already_open(self, tx: Tx, team_id: int) -> None:
        row = await tx.fetchone(f"SELECT {_TICKET} {_FROM} WHERE t.team_id = ? AND t.status IN ('open', 'claimed')",
                                (team_id,))
        if row is None:  # closed meanwhile: rare; the team may try again
            raise AlreadyDone("your team's other ticket was closed a moment ago; open yours again")
        ticket = ticket_from_row(row)
        raise AlreadyOpen(ticket.number, await position_of(tx, ticket))

    async def spot(self, ticket: Ticket) -> QueueSpot:
        """The ticket's position, the queue's length and the estimated wait, as of now."""
        now = self.clock()

        async def hop(tx: Tx) -> tuple[Ticket, int | None, int, list[TicketRecord]]:
            fresh = await read_ticket(tx, ticket.number)
            waiting = int(await tx.fetchval("SELECT count(*) FROM tickets WHERE status = 'open'"))
            recent = await _records(tx, since=(now - RECENT).timestamp())
            return fresh, await position_of(tx, fresh), waiting, recent

        fresh, position, waiting, recent = await self.store.run(hop)
        return QueueSpot(fresh, position, waiting, estimated_wait(recent, fresh.tags, now, recent=RECENT))

    async def my_ticket(self, user_id: str) -> QueueSpot | None:
        """The open ticket of the user's team, or None."""
        async def hop(tx: Tx) -> Ticket | None:
            team = await team_of(tx, user_id)
            if team is None:
                return None
            row = await tx.fetchone(
                f"SELECT {_TICKET} {_FROM} WHERE t.team_id = ? AND t.status IN ('open', 'claimed')", (team[0],)
            )
            return ticket_from_row(row) if row else None

        ticket = await self.store.run(hop)
        return await self.spot(ticket) if ticket is not None else None

    async def ticket(self, number: int) -> Ticket:
        return await self.store.run(read_ticket, number)

    # --- mentors ------------------------------------------------------------------------------

    async def set_mentor(self, user_id: str, *, tags: Iterable[str] | str | None = None,
                         on_duty: bool | None = None) -> Mentor:
        """/mentor tags and /mentor on|off: create the mentor on first use; each change is logged."""
        self.section  # noqa: B018 - refuses when there is no help queue
        chosen = self.check_tags(tags) if tags is not None else None
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Mentor:
            async with tx.transaction():
                await tx.execute(
                    "INSERT INTO mentors(user_id, tags, on_duty, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (user_id) DO NOTHING",
                    (user_id, json.dumps(list(chosen or ())), int(bool(on_duty)), now),
                )
                if chosen is not None:
                    await tx.execute("UPDATE mentors SET tags = ?, updated_at = ? WHERE user_id = ?",
                                     (json.dumps(list(chosen)), now, user_id))
                if on_duty is not None:
                    await tx.execute("UPDATE mentors SET on_duty = ?, updated_at = ? WHERE user_id = ?",
                                     (int(on_duty), now, user_id))
                row = await tx.fetchone("SELECT tags, on_duty FROM mentors WHERE user_id = ?", (user_id,))
                assert row is not None
                await tx.execute("INSERT INTO mentor_duty(user_id, on_duty, tags, at) VALUES (?, ?, ?, ?)",
                                 (user_id, row[1], row[0], now))
                return await _mentor(tx, user_id, row)

        return await self.store.run(hop)

    async def mentor(self, user_id: str) -> Mentor | None:
        async def hop(tx: Tx) -> Mentor | None:
            row = await tx.fetchone("SELECT tags, on_duty FROM mentors WHERE user_id = ?", (user_id,))
            return await _mentor(tx, user_id, row) if row else None

        return await self.store.run(hop)

    async def mentors(self) -> list[Mentor]:
        async def hop(tx: Tx) -> list[Mentor]:
            rows = await tx.fetchall("SELECT user_id, tags, on_duty FROM mentors ORDER BY user_id")
            return [await _mentor(tx, r[0], r[1:]) for r in rows]

        return await self.store.run(hop)

    async def queue(self, tag: str | None = None) -> list[Ticket]:
        """The tickets waiting, oldest first (their place in the queue); with `tag`, those asking for it."""
        wanted = self.check_tags([tag])[0] if tag else None
        rows = await self.store.fetchall(f"SELECT {_TICKET} {_FROM} WHERE t.status = 'open' ORDER BY t.opened_at, t.id")
        tickets = [ticket_from_row(r) for r in rows]
        return [t for t in tickets if wanted is None or wanted in t.tags]

    async def claimed(self) -> list[Ticket]:
        rows = await self.store.fetchall(f"SELECT {_TICKET} {_FROM} WHERE t.status = 'claimed' ORDER BY t.opened_at, t.id")
        return [ticket_from_row(r) for r in rows]

    async def claim(self, number: int, mentor: str) -> Claim:
        """One guarded write: exactly one of simultaneous claims wins; the others get TicketTaken."""
        self.section  # noqa: B018
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Claim:
            try:
                async with tx.transaction():
                    row = await tx.fetchone(
                        "UPDATE tickets SET status = 'claimed', claimed_by = ?, claimed_at = ?,"
                        " first_claimed_at = coalesce(first_claimed_at, ?), notify_at = NULL"
                        " WHERE id = ? AND status = 'open'"
                        " AND NOT EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = tickets.team_id AND m.user_id = ?)"
                        " RETURNING first_claimed_at",
                        (mentor, now, now, number, mentor),
                    )
                    if row is not None:
                        event = await _event(tx, number, "claim", mentor, now)
                        await show(tx, number, event, TICKET_THREAD, {"mentor": mentor})
                        await show(tx, number, event, TICKET_EDIT)
            except IntegrityError as exc:
                if exc.kind != "unique":
                    raise
                held = await tx.fetchval("SELECT id FROM tickets WHERE claimed_by = ? AND status = 'claimed'", (mentor,))
                raise NotAllowed(f"you hold ticket #{held} already; resolve or release it before claiming another"
                                 ) from None
            ticket = await read_ticket(tx, number)
            if row is None:
                _refuse_claim(ticket, mentor)
                raise NotAllowed(f"you are in team {ticket.team}: another mentor must take its ticket")
            return await _claim_of(tx, ticket, mentor, first=ticket.thread_id is None)

        return await self.store.run(hop)

    async def join(self, number: int, mentor: str) -> Claim:
        """Another mentor joins a claimed ticket (its thread)."""
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Claim:
            ticket = await read_ticket(tx, number)
            if ticket.status != "claimed":
                raise NotAllowed(f"ticket #{number} is {_state(ticket)}: only a claimed ticket can be joined"
                                 + ("; claim it instead" if ticket.status == "open" else ""))
            if ticket.claimed_by == mentor:
                raise AlreadyDone(f"you hold ticket #{number} already")
            try:
                async with tx.transaction():
                    event = await _event(tx, number, "join", mentor, now)
                    await show(tx, number, event, TICKET_THREAD, {"mentor": mentor})
            except IntegrityError:
                raise AlreadyDone(f"you joined ticket #{number} already") from None
            return await _claim_of(tx, ticket, mentor, first=False)

        return await self.store.run(hop)

    async def release(self, number: int, user_id: str, *, organizer: bool = False) -> Ticket:
        """The claimer (or an organizer) puts the ticket back at its place in the queue."""
        section = self.section
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Ticket:
            async with tx.transaction():
                ticket = await read_ticket(tx, number)
                if ticket.status != "claimed":
                    raise NotAllowed(f"ticket #{number} is {_state(ticket)}: only a claimed ticket can be released")
                if ticket.claimed_by != user_id and not organizer:
                    raise NotAllowed(f"ticket #{number} is held by another mentor; only they or an organizer can release it")
                changed = await tx.execute(
                    "UPDATE tickets SET status = 'open', claimed_by = NULL, claimed_at = NULL, queued_at = ?,"
                    " next_step = 0, notify_at = ? WHERE id = ? AND status = 'claimed' AND claimed_by = ?",
                    (now, first_notify_at(section, now), number, ticket.claimed_by),
                )
                if not changed:
                    raise NotAllowed(f"ticket #{number} changed meanwhile; look at it again")
                event = await _event(tx, number, "release", user_id, now)
                await show(tx, number, event, TICKET_EDIT)
                await show(tx, number, event, TICKET_NOTE, {"note": "released"})
                return await read_ticket(tx, number)

        ticket = await self.store.run(hop)
        self._changed()
        return ticket

    async def resolve(self, number: int, user_id: str, *, organizer: bool = False) -> Ticket:
        """The claimer, a mentor who joined, a member of the team or an organizer closes it as solved."""
        return await self._close(number, user_id, "resolved", organizer)

    async def cancel(self, number: int, user_id: str, *, organizer: bool = False) -> Ticket:
        """A member of the team (or an organizer) withdraws the ticket."""
        return await self._close(number, user_id, "cancelled", organizer)

    async def _close(self, number: int, user_id: str, status: str, organizer: bool) -> Ticket:
        now = self.clock().timestamp()
        kind = "resolve" if status == "resolved" else "cancel"

        async def hop(tx: Tx) -> Ticket:
            async with tx.transaction():
                ticket = await read_ticket(tx, number)
                if not ticket.is_open:
                    raise AlreadyDone(f"ticket #{number} is {_state(ticket)} already")
                member = await tx.fetchone("SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?",
                                           (ticket.team_id, user_id))
                helper = ticket.claimed_by == user_id or await tx.fetchone(
                    "SELECT 1 FROM ticket_events WHERE ticket_id = ? AND kind = 'join' AND actor = ?", (number, user_id)
                )
                allowed = organizer or member or (helper and status == "resolved")
                if not allowed:
                    who = "its team, its mentors or an organizer" if status == "resolved" else "its team or an organizer"
                    raise NotAllowed(f"only {who} can {kind} ticket #{number}")
                if status == "resolved" and ticket.status != "claimed":
                    raise NotAllowed(f"ticket #{number} was not claimed by a mentor: cancel it instead if it is solved")
                changed = await tx.execute(
                    "UPDATE tickets SET status = ?, closed_at = ?, closed_by = ?, mentor = claimed_by, claimed_by = NULL,"
                    " claimed_at = NULL, notify_at = NULL WHERE id = ? AND status = ?",
                    (status, now, user_id, number, ticket.status),
                )
                if not changed:
                    raise NotAllowed(f"ticket #{number} changed meanwhile; look at it again")
                event = await _event(tx, number, kind, user_id, now)
                await show(tx, number, event, TICKET_EDIT)
                await show(tx, number, event, TICKET_NOTE, {"note": status})
                return await read_ticket(tx, number)

        return await self.store.run(hop)

    async def reopen(self, number: int, user_id: str) -> QueueSpot:
        """A member of the team puts a stale ticket back at its place in the queue."""
        section = self.section
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Ticket:
            ticket = await read_ticket(tx, number)
            if not await tx.fetchone("SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?",
                                     (ticket.team_id, user_id)):
                raise NotAllowed(f"ticket #{number} is another team's")
            if ticket.status != "stale":
                raise NotAllowed(f"ticket #{number} is {_state(ticket)}: only a ticket closed as stale can be reopened")
            try:
                async with tx.transaction():
                    changed = await tx.execute(
                        "UPDATE tickets SET status = 'open', closed_at = NULL, closed_by = NULL, queued_at = ?,"
                        " next_step = 0, notify_at = ? WHERE id = ? AND status = 'stale'",
                        (now, first_notify_at(section, now), number),
                    )
                    if changed:
                        event = await _event(tx, number, "reopen", user_id, now)
                        await show(tx, number, event, TICKET_EDIT)
            except IntegrityError as exc:
                if exc.kind != "unique":
                    raise
                await self._already_open(tx, ticket.team_id)
            if not changed:
                raise NotAllowed(f"ticket #{number} changed meanwhile; look at it again")
            return await read_ticket(tx, number)

        ticket = await self.store.run(hop)
        self._changed()
        return await self.spot(ticket)

    async def rate(self, number: int, user_id: str, rating: int, comment: str = "") -> Ticket:
        """A member of the team rates the help of a resolved ticket, once: 1 to 5, and a comment."""
        if not 1 <= rating <= 5:
            raise BadInput("a rating is 1 (no help) to 5 (great help)")
        comment = comment.strip()
        if len(comment) > MAX_COMMENT:
            raise BadInput(f"a comment has at most {MAX_COMMENT} characters")
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> Ticket:
            async with tx.transaction():
                ticket = await read_ticket(tx, number)
                if not await tx.fetchone("SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?",
                                         (ticket.team_id, user_id)):
                    raise NotAllowed(f"only the team of ticket #{number} can rate its help")
                if ticket.status != "resolved":
                    raise NotAllowed(f"ticket #{number} is {_state(ticket)}: only resolved tickets are rated")
                changed = await tx.execute(
                    "UPDATE tickets SET rating = ?, comment = ?, rated_by = ?, rated_at = ?"
                    " WHERE id = ? AND status = 'resolved' AND rating IS NULL",
                    (rating, comment or None, user_id, now, number),
                )
                if not changed:
                    raise AlreadyDone(f"ticket #{number} was rated already; thank you")
                await _event(tx, number, "rate", user_id, now, str(rating))
                return await read_ticket(tx, number)

        return await self.store.run(hop)

    async def set_thread(self, number: int, thread_id: int) -> None:
        await self.store.execute("UPDATE tickets SET thread_id = ? WHERE id = ?", (thread_id, number))

    async def set_post(self, number: int, channel_id: int, message_id: int) -> None:
        await self.store.execute("UPDATE tickets SET post_channel_id = ?, post_message_id = ? WHERE id = ?",
                                 (channel_id, message_id, number))

    # --- organizers ---------------------------------------------------------------------------

    async def records(self) -> list[TicketRecord]:
        return await self.store.run(_records, None)

    async def report(self) -> MentoringReport:
        """Per tag: tickets, median and 90th percentile time to claim and to resolve; tags no mentor
        on duty covers; mentors ranked by their weighted rating."""
        now = self.clock()

        async def hop(tx: Tx) -> tuple[list[TicketRecord], list[tuple], list[tuple], dict[str, int]]:
            records = await _records(tx, None)
            duty = await tx.fetchall("SELECT user_id, tags FROM mentors WHERE on_duty = 1 ORDER BY user_id")
            rated = await tx.fetchall(
                "SELECT mentor, rating FROM tickets WHERE rating IS NOT NULL AND mentor IS NOT NULL ORDER BY id"
            )
            counts = dict(await tx.fetchall(
                "SELECT status, count(*) FROM tickets WHERE status IN ('open', 'claimed') GROUP BY status"
            ))
            return records, duty, rated, counts

        records, duty, rated, counts = await self.store.run(hop)
        on_duty = {user: tuple(json.loads(tags)) for user, tags in duty}
        by_mentor: dict[str, list[int]] = {}
        for mentor, rating in rated:
            by_mentor.setdefault(mentor, []).append(int(rating))
        names = list(by_mentor)  # the metrics number mentors; Discord ids are text here
        ratings = [
            MentoredRating(names[r.mentor], r.count, r.mean, r.score)
            for r in mentor_ratings({i: by_mentor[name] for i, name in enumerate(names)})
        ]
        return MentoringReport(
            now=now, tags=tag_metrics(records, self.tags, now), uncovered=uncovered_tags(self.tags, on_duty),
            on_duty=on_duty, ratings=ratings, open=counts.get("open", 0), claimed=counts.get("claimed", 0),
        )


def _state(ticket: Ticket) -> str:
    return {"open": "waiting in the queue", "claimed": "claimed", "resolved": "resolved", "cancelled": "cancelled",
            "stale": "closed as stale"}[ticket.status]


def _refuse_claim(ticket: Ticket, mentor: str) -> None:
    """Why a claim that changed nothing was refused (the ticket as it is now)."""
    if ticket.status == "claimed":
        if ticket.claimed_by == mentor:
            raise AlreadyDone(f"you hold ticket #{ticket.number} already")
        assert ticket.claimed_by is not None
        raise TicketTaken(ticket.number, ticket.claimed_by)
    if ticket.status != "open":
        raise AlreadyDone(f"ticket #{ticket.number} is {_state(ticket)}; nothing to claim")


async def _claim_of(tx: Tx, ticket: Ticket, mentor: str, *, first: bool) -> Claim:
    members = tuple(r[0] for r in await tx.fetchall(
        "SELECT user_id FROM team_members WHERE team_id = ? ORDER BY joined_at", (ticket.team_id,)
    ))
    helpers = tuple(r[0] for r in await tx.fetchall(
        "SELECT actor FROM ticket_events WHERE ticket_id = ? AND kind = 'join' ORDER BY id", (ticket.number,)
    ))
    fresh = await read_ticket(tx, ticket.number)
    return Claim(fresh, mentor, members, helpers, first)


async def _mentor(tx: Tx, user_id: str, row: Sequence) -> Mentor:
    holding = await tx.fetchval("SELECT id FROM tickets WHERE claimed_by = ? AND status = 'claimed'", (user_id,))
    return Mentor(user_id, tuple(json.loads(row[0])), bool(row[1]), holding)


async def _records(tx: Tx, since: float | None) -> list[TicketRecord]:
    """Every ticket (opened since `since`) as the metrics read it."""
    where = "" if since is None else " WHERE opened_at >= ?"
    rows = await tx.fetchall(
        "SELECT id, tags, opened_at, first_claimed_at, closed_at, status, rating FROM tickets"
        f"{where} ORDER BY id", () if since is None else (since,),
    )
    out = []
    for id_, tags, opened, claimed, closed, status, rating in rows:
        opened_at = _utc(opened)
        assert opened_at is not None
        outcome = cast(Outcome, "open" if status in OPEN_STATES else status)
        out.append(TicketRecord(id_, tuple(json.loads(tags)), opened_at, _utc(claimed), _utc(closed), outcome,
                                None, rating))
    return out
