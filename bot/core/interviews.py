"""Interview slots of a judging round ([judging.rounds.interviews]; Hackathon42: "the jury
interviews the top 20 teams").

`book(round)` books every team of the round's pool (its shortlist, in order) into the next free
slot: slot k of room r starts at `starts + (k // rooms) * minutes`; the round's judges are split
among the rooms (a judge who signs in later joins the room with the fewest judges). Booking is
idempotent: a team booked keeps its slot, a team added to the pool later (a pitch request) gets
the next one. The database holds the rules (migration 0019): a team is booked once a round
(PRIMARY KEY), a room hears one team at a time (UNIQUE room and slot), a judge sits in one room
(PRIMARY KEY round and judge), so no team or judge is ever in two interviews at once, even when
two processes book together (the loser of a race books again from what the winner wrote).

Each member of a booked team is told the slot by a direct message: an outbox row written in the
booking's transaction, keyed by round, team and member (sent once). The bot books a round as soon
as its pool is final (`book_due`, from bot/winner_notices.py's loop); `/judge interviews` and
`hackbot judging interviews` book too.

Reminders: `remind_due` (the same loop) queues, [judging.rounds.interviews] remind_before ahead of
each slot, a direct message to each member of its team and each judge of its room. The outbox
row is the claim: its key names the round, the team, the lead time and the person, so two
processes or a second pass queue it once, and a crash after the commit loses nothing (the drainer
sends it). When the bot was down past a lead time, only the nearest one still ahead is sent.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import EventConfig, JudgingRound
from bot.core.clock import Clock
from bot.core.errors import NotAllowed, NotFound
from bot.core.judging import JudgingService
from bot.core.outbox import Outbox, enqueue
from bot.core.schedule import ScheduleEntry
from bot.core.store import IntegrityError, Store, Tx

NOTICE_PREFIX = "interview:"
REMINDER_PREFIX = "interview-reminder:"
ATTEMPTS = 5  # bookings racing in several processes: each retry starts from what the others wrote


@dataclass(frozen=True)
class Slot:
    round: str
    team_id: int
    team: str
    room: int
    slot: int
    starts: datetime
    ends: datetime
    judges: tuple[str, ...]  # the room's judges (Discord user ids)


@dataclass(frozen=True)
class Booking:
    slots: tuple[Slot, ...]  # in time order, then room
    booked_now: int  # teams booked by this call
    after_close: tuple[str, ...]  # teams whose slot ends after the round closes: add rooms or shorten slots


def notice_key(round_id: str, team_id: int, member: str) -> str:
    return f"{NOTICE_PREFIX}{round_id}:{team_id}:{member}"


def notice_text(event: str, rnd: JudgingRound, team: str, slot: Slot) -> str:
    title = rnd.title or rnd.id
    room = f" in room {slot.room}" if (rnd.interviews and rnd.interviews.rooms > 1) else ""
    return (f"{team}: your interview for {title} at {event} is <t:{int(slot.starts.timestamp())}:F>{room}, "
            f"{int((slot.ends - slot.starts).total_seconds() // 60)} minutes. Be ready a few minutes before.")


def reminder_key(round_id: str, team_id: int, before: timedelta, person: str) -> str:
    return f"{REMINDER_PREFIX}{round_id}:{team_id}:{int(before.total_seconds())}:{person}"


def reminder_text(event: str, rnd: JudgingRound, slot: Slot, *, judge: bool) -> str:
    title = rnd.title or rnd.id
    room = f" in room {slot.room}" if (rnd.interviews and rnd.interviews.rooms > 1) else ""
    at = f"<t:{int(slot.starts.timestamp())}:t> (<t:{int(slot.starts.timestamp())}:R>)"
    if judge:
        return f"Interview reminder ({title}, {event}): {slot.team} is heard at {at}{room}. /judge interviews lists your slots."
    return f"{slot.team}: reminder, your interview for {title} at {event} starts at {at}{room}. Be ready a few minutes before."


class InterviewService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, judging: JudgingService, outbox: Outbox):
        self.store, self.config, self.clock, self.judging, self.outbox = store, config, clock, judging, outbox

    def rounds(self) -> list[JudgingRound]:
        return [r for r in self.config.judging.rounds if r.interviews is not None]

    def _round(self, round_id: str | None) -> JudgingRound:
        rounds = self.rounds()
        if not rounds:
            raise NotFound("no judging round is heard in interviews: add [judging.rounds.interviews] to a round")
        if round_id is None:
            return rounds[0]
        found = next((r for r in rounds if r.id == round_id), None)
        if found is None:
            raise NotFound(f"round {round_id!r} has no interviews; rounds with interviews: "
                           + ", ".join(r.id for r in rounds))
        return found

    def pool_final(self, rnd: JudgingRound) -> bool:
        """Whether the round's pool can no longer change (bot/core/judging.py says when)."""
        return self.judging.pool_final(rnd)

    async def book_due(self) -> int:
        """Book every round with interviews whose pool is final (the bot's loop): teams booked now."""
        booked = 0
        now = self.clock()
        for rnd in self.rounds():
            if self.pool_final(rnd) and (rnd.closes is None or now < rnd.closes):
                with contextlib.suppress(NotAllowed):  # a pool not ready yet (no results): next pass
                    booked += (await self.book(rnd.id)).booked_now
        return booked

    async def book(self, round_id: str | None = None) -> Booking:
        """Book the pool's teams not booked yet, and seat the judges without a room."""
        rnd = self._round(round_id)
        assert rnd.interviews is not None
        try:
            pool = await self.judging.pool(rnd.id)
        except NotFound as exc:
            raise NotAllowed(f"the interviews of {rnd.title or rnd.id} cannot be booked yet: {exc}") from exc
        teams = [int(p.id) for p in pool]
        panels = set(self.judging._round_panels(rnd))
        judges = [j.user_id for j in await self.judging.judges() if panels & set(j.panels)]
        before = len(await self.slots(rnd.id))
        for attempt in range(ATTEMPTS):
            try:
                await self.store.run(self._book, rnd, teams, judges)
                break
            except IntegrityError:  # another process booked the same slot a moment ago: again, from its rows
                if attempt == ATTEMPTS - 1:
                    raise
        self.outbox.wake()
        slots = await self.slots(rnd.id)
        ends = rnd.closes
        late = tuple(s.team for s in slots if ends is not None and s.ends > ends)
        return Booking(tuple(slots), len(slots) - before, late)

    async def _book(self, tx: Tx, rnd: JudgingRound, teams: list[int], judges: list[str]) -> None:
        interviews = rnd.interviews
        assert interviews is not None
        starts = interviews.starts or rnd.opens
        assert starts is not None  # the event file's check
        minutes = interviews.minutes or rnd.minutes_per_review
        async with tx.transaction():
            seated = dict(await tx.fetchall("SELECT judge, room FROM interview_rooms WHERE round = ?", (rnd.id,)))
            load = {room: 0 for room in range(1, interviews.rooms + 1)}
            for room in seated.values():
                load[room] = load.get(room, 0) + 1
            for judge in sorted(set(judges) - set(seated)):
                room = min(load, key=lambda r: (load[r], r))
                await tx.execute("INSERT INTO interview_rooms(round, judge, room) VALUES (?, ?, ?)", (rnd.id, judge, room))
                load[room] += 1
            booked = {int(t) for (t,) in await tx.fetchall("SELECT team_id FROM interview_slots WHERE round = ?", (rnd.id,))}
            taken = {(int(r), int(s)) for r, s in await tx.fetchall(
                "SELECT room, slot FROM interview_slots WHERE round = ?", (rnd.id,))}
            index = 0
            event = self.config.event.name
            for team_id in teams:
                if team_id in booked:
                    continue
                while (index % interviews.rooms + 1, index // interviews.rooms) in taken:
                    index += 1
                room, slot = index % interviews.rooms + 1, index // interviews.rooms
                begins = starts + timedelta(minutes=minutes * slot)
                ends = begins + timedelta(minutes=minutes)
                await tx.execute("INSERT INTO interview_slots(round, team_id, room, slot, starts_at, ends_at)"
                                 " VALUES (?, ?, ?, ?, ?, ?)", (rnd.id, team_id, room, slot, begins.timestamp(),
                                                                 ends.timestamp()))
                taken.add((room, slot))
                name = await tx.fetchval("SELECT name FROM teams WHERE id = ?", (team_id,)) or str(team_id)
                text = notice_text(event, rnd, name, Slot(rnd.id, team_id, name, room, slot, begins, ends, ()))
                for (member,) in await tx.fetchall("SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id",
                                                   (team_id,)):
                    await enqueue(tx, "dm", notice_key(rnd.id, team_id, str(member)),
                                  {"user_id": str(member), "team_id": team_id, "content": text}, lane=f"interviews:{team_id}")

    async def remind_due(self) -> int:
        """Queue the reminders due now (see the module docstring): how many were queued."""
        now = self.clock()
        queued = 0
        for rnd in self.rounds():
            assert rnd.interviews is not None
            leads = sorted(rnd.interviews.remind_before)
            if not leads:
                continue
            soon = await self.store.fetchval(
                "SELECT count(*) FROM interview_slots WHERE round = ? AND starts_at > ? AND starts_at <= ?",
                (rnd.id, now.timestamp(), (now + leads[-1]).timestamp()))
            if soon:
                queued += await self.store.run(self._remind, rnd, leads, now)
        if queued:
            self.outbox.wake()
        return queued

    async def _remind(self, tx: Tx, rnd: JudgingRound, leads: list[timedelta], now: datetime) -> int:
        event = self.config.event.name
        rows = await tx.fetchall(
            "SELECT s.team_id, t.name, s.room, s.slot, s.starts_at, s.ends_at FROM interview_slots s"
            " JOIN teams t ON t.id = s.team_id WHERE s.round = ? AND s.starts_at > ? AND s.starts_at <= ?"
            " ORDER BY s.starts_at, s.room", (rnd.id, now.timestamp(), (now + leads[-1]).timestamp()))
        messages: list[tuple[str, str, dict[str, object]]] = []  # (key, lane, payload)
        for team_id, name, room, number, a, b in rows:
            slot = Slot(rnd.id, int(team_id), str(name), int(room), int(number), datetime.fromtimestamp(a, UTC),
                        datetime.fromtimestamp(b, UTC), ())
            before = next(lead for lead in leads if slot.starts - lead <= now)  # the nearest lead passed
            members = await tx.fetchall("SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id", (team_id,))
            judges = await tx.fetchall("SELECT i.judge FROM interview_rooms i JOIN judges j ON j.user_id = i.judge"
                                       " WHERE i.round = ? AND i.room = ? AND j.external = 0 ORDER BY i.judge",
                                       (rnd.id, room))
            text = reminder_text(event, rnd, slot, judge=False)
            messages += [(reminder_key(rnd.id, slot.team_id, before, str(m)), f"interviews:{team_id}",
                          {"user_id": str(m), "team_id": slot.team_id, "content": text}) for (m,) in members]
            text = reminder_text(event, rnd, slot, judge=True)
            messages += [(reminder_key(rnd.id, slot.team_id, before, str(j)), f"interviews-judge:{j}",
                          {"user_id": str(j), "content": text}) for (j,) in judges]
        keys = [key for key, _, _ in messages]
        queued = {str(k) for (k,) in await tx.fetchall(
            f"SELECT key FROM outbox WHERE key IN ({', '.join('?' for _ in keys)})", keys)} if keys else set()
        missing = [m for m in messages if m[0] not in queued]
        if not missing:  # the usual pass: everything already queued, no write
            return 0
        added = 0
        async with tx.transaction():
            for key, lane, payload in missing:
                added += await enqueue(tx, "dm", key, payload, lane=lane)
        return added

    async def slots(self, round_id: str | None = None) -> list[Slot]:
        rnd = self._round(round_id)
        rooms: dict[int, list[str]] = {}
        for judge, room in await self.store.fetchall(
                "SELECT judge, room FROM interview_rooms WHERE round = ? ORDER BY judge", (rnd.id,)):
            rooms.setdefault(int(room), []).append(str(judge))
        rows = await self.store.fetchall(
            "SELECT s.team_id, t.name, s.room, s.slot, s.starts_at, s.ends_at FROM interview_slots s"
            " JOIN teams t ON t.id = s.team_id WHERE s.round = ? ORDER BY s.slot, s.room", (rnd.id,))
        return [Slot(rnd.id, int(team_id), name, int(room), int(slot), datetime.fromtimestamp(a, UTC),
                     datetime.fromtimestamp(b, UTC), tuple(rooms.get(int(room), ())))
                for team_id, name, room, slot, a, b in rows]

    async def schedule_entries(self, user_id: str | None = None) -> list[ScheduleEntry]:
        """The interviews on the schedule: for everyone, each round's interview block (from its
        first slot to its last once booked, the round's window before), with how many teams and
        rooms but no team's name; for a member of a booked team (`user_id`), also its own slot.

        Which team is heard when stays private, as the notices are: the slots follow the
        shortlist's order, so a public list of them would give away the leaderboard's order of the
        final phase (hidden until the reveal) and which teams asked to pitch. Nothing here is stored
        in schedule_items: the block posts no public reminder (teams and judges are reminded
        privately, `remind_due`)."""
        out: list[ScheduleEntry] = []
        team = None
        if user_id is not None:
            row = await self.store.fetchone("SELECT team_id FROM team_members WHERE user_id = ?", (user_id,))
            team = None if row is None else int(row[0])
        for n, rnd in enumerate(self.rounds()):
            slots = await self.slots(rnd.id)
            rooms = rnd.interviews.rooms if rnd.interviews else 1
            title = f"Interviews: {rnd.title or rnd.id}"
            ends: datetime | None
            if slots:
                starts, ends = min(s.starts for s in slots), max(s.ends for s in slots)
                minutes = f", {rnd.interviews.minutes:g} min each" if rnd.interviews else ""
                text = (f"{len(slots)} team(s) heard by the jury{minutes}, in {rooms} room(s). "
                        "Each team is told its own slot privately.")
            elif rnd.opens is not None:
                starts, ends = rnd.opens, rnd.closes
                text = "The jury hears the shortlisted teams; each team is told its own slot privately once the list is final."
            else:
                continue
            # ids below zero: never a row of schedule_items (an .ics UID stays the same across refreshes)
            out.append(ScheduleEntry(-1 - 2 * n, title, starts, ends, text, None, [], None, [], "interviews"))
            mine = next((s for s in slots if s.team_id == team), None) if team is not None else None
            if mine is not None:
                where = f" in room {mine.room}" if rooms > 1 else ""
                out.append(ScheduleEntry(-2 - 2 * n, f"Your interview ({mine.team}): {rnd.title or rnd.id}", mine.starts,
                                         mine.ends, f"The jury hears {mine.team}{where}. Be ready a few minutes before.",
                                         None, [], None, [], "interviews"))
        return out

    async def for_judge(self, user_id: str, round_id: str | None = None) -> list[Slot]:
        """A judge's interviews: the slots of the judge's room (booking first, so that a judge who
        signed in after the booking is seated)."""
        return [s for s in (await self.book(round_id)).slots if user_id in s.judges]
