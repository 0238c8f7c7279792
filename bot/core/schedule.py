"""The event's schedule: items of the event file, items the organizers add live, and the event's
own automations (phase starts, deadlines, the team formation window), each with the reminder
rows that ReminderRunner posts.

The database is the source of truth. `sync_from_config` upserts the event file's items under a
stable key (so running it twice changes nothing) and re-plans their pending reminders; a
reminder already sent, being sent, skipped or failed is never planned again, even if its item
moves: one reminder per item and offset, at most once.

Times. Every time is stored in UTC. A reminder's due time keeps the wall-clock time the
organizer wrote across a daylight-saving change: the whole days of the offset are taken off the
item's time as written in the event's timezone (then re-localized, zoneinfo fold=0), the hours,
minutes and seconds are exact (as iCalendar's nominal days and exact hours, RFC 5545 3.3.6). So
"1d" before 2024-10-27 10:00 Europe/Paris is 2024-10-26 10:00 Paris (08:00 UTC, 25 hours
earlier), and "1h" before a time just after the spring change is one real hour before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlparse

from bot.config import EventConfig, parse_duration, parse_event_time
from bot.core.clock import Clock, fmt_utc, system_clock
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.store import Store, Tx

# Countdown reminders before each automated deadline (submissions close, formation closes).
DEADLINE_COUNTDOWN = (timedelta(hours=1), timedelta(minutes=10))
MAX_TITLE = 200
MAX_DESCRIPTION = 1000  # a Discord embed field holds 1024 characters
EDITABLE = frozenset({"title", "at", "ends", "description", "channel", "mention", "link", "remind_before"})
FINISHED = ("sent", "late", "skipped", "failed")



def web_link(link: str | None) -> str | None:
    """An item's link as every door takes it (the /agenda form, the web page, the calendar): an
    http(s) address with a host, or None when empty; anything else (javascript:, a bare word) is
    refused with what to write."""
    link = (link or "").strip()
    if not link:
        return None
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BadInput(f"link: {link[:100]!r} is not a web address; write it with https://")
    return link

@dataclass(frozen=True)
class ScheduleEntry:
    id: int
    title: str
    at: datetime  # aware, UTC
    ends: datetime | None
    description: str
    channel: str | None  # channel name; None = the event's announcements channel
    mention: list[str]  # role names to mention
    link: str | None
    remind_before: list[timedelta]  # longest first; automation items also announce at `at`
    source: str  # "config" | "live" | "automation"
    kind: str = "event"  # "event" | "phase" | "opens" | "deadline"
    also: tuple[str, ...] = ()  # titles of automations merged into this item (same moment)

    @property
    def moment(self) -> bool:
        """An instant (a deadline, a window opening, a phase start), not a session with a length."""
        return self.kind in MOMENTS


@dataclass(frozen=True)
class PostedReminder:
    id: int
    item_id: int
    title: str
    due: datetime
    sent_at: datetime | None
    status: str  # "sent" | "late" | "skipped" | "failed"
    text: str
    reason: str | None = None  # why it was skipped or failed


def due_time(at: datetime, offset: timedelta, tz: tzinfo) -> datetime:
    """When the reminder `offset` before `at` is due, in UTC (see the module doc)."""
    days = timedelta(days=offset.days)
    wall = at.astimezone(tz).replace(tzinfo=None) - days
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC) - (offset - days)


def fmt_offset(offset: timedelta) -> str:
    """timedelta(hours=1, minutes=30) -> "1h30m before"; zero -> "at its time"."""
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "at its time"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) + " before"


# --- rows <-> entries ------------------------------------------------------------------------

ITEM_COLUMNS = "id, title, at, ends, description, channel, mention, link, remind_before, source, kind"


def _when(ts: float) -> datetime:
    """A NOT NULL time column."""
    return datetime.fromtimestamp(ts, UTC)


def _utc(ts: float | None) -> datetime | None:
    return None if ts is None else _when(ts)


def entry_from_row(row: tuple) -> ScheduleEntry:
    """A schedule_items row selected with ITEM_COLUMNS -> ScheduleEntry."""
    id_, title, at, ends, description, channel, mention, link, remind_before, source, kind = row
    return ScheduleEntry(
        id=id_, title=title, at=_when(at), ends=_utc(ends), description=description, channel=channel,
        mention=list(json.loads(mention)), link=link,
        remind_before=[timedelta(seconds=s) for s in json.loads(remind_before)], source=source, kind=kind or "event",
    )


MOMENTS = frozenset({"phase", "opens", "deadline"})
# How long a session lasts when its item gives no end: the first word of the title that names a
# kind of session decides; any other organizer item lasts DEFAULT_LENGTH. Moments last no time.
SESSION_LENGTHS = (
    ("hackathon", timedelta(hours=2)), ("workshop", timedelta(minutes=90)), ("tutorial", timedelta(minutes=90)),
    ("keynote", timedelta(minutes=45)), ("panel", timedelta(minutes=45)), ("ceremony", timedelta(minutes=45)),
    ("talk", timedelta(minutes=30)), ("demo", timedelta(minutes=15)), ("break", timedelta(minutes=15)),
)
DEFAULT_LENGTH = timedelta(hours=1)
MOMENT_WORDS = frozenset({"closes", "due", "deadline", "opens"})  # "Registration closes", "Projects due"


def default_length(entry: ScheduleEntry) -> timedelta:
    """How long an item lasts when it gives no end time (see SESSION_LENGTHS)."""
    words = entry.title.casefold().replace(":", " ").split()
    if entry.moment or MOMENT_WORDS & set(words):
        return timedelta(0)
    for word in words:
        for name, length in SESSION_LENGTHS:
            if word.startswith(name):
                return length
    return DEFAULT_LENGTH


def with_end(entry: ScheduleEntry) -> ScheduleEntry:
    """The item with its end: its own, else its start plus its kind's default length."""
    if entry.ends is not None:
        return entry
    return replace(entry, ends=entry.at + default_length(entry))


def merged(entries: Iterable[ScheduleEntry]) -> list[ScheduleEntry]:
    """The schedule as people read it: an automation (a deadline, a phase start, a window opening)
    at the same moment as an organizer's item is folded into that item (its title kept in `also`,
    its description added), so that "Registration closes" and "Team formation closes" at 23:59
    show once. Sorted by time; each item has an end (`with_end`)."""
    entries = sorted(entries, key=lambda e: (e.at, e.source == "automation", e.id))
    organizer_at: dict[datetime, int] = {}
    out: list[ScheduleEntry] = []
    for entry in entries:
        if entry.source != "automation":
            organizer_at.setdefault(entry.at, len(out))
            out.append(entry)
            continue
        host = organizer_at.get(entry.at)
        if host is None:
            out.append(entry)
            continue
        item = out[host]
        description = item.description
        if entry.description and entry.description not in description:
            description = (description + "\n" if description else "") + entry.description
        out[host] = replace(item, description=description, also=(*item.also, entry.title))
    return [with_end(e) for e in out]


@dataclass(frozen=True)
class _Planned:
    """An item as the event file (or the automation) wants it."""

    key: str
    source: str
    kind: str  # "event" | "phase" | "opens" | "deadline"
    title: str
    at: datetime
    ends: datetime | None = None
    description: str = ""
    channel: str | None = None
    mention: tuple[str, ...] = ()
    link: str | None = None
    remind_before: tuple[timedelta, ...] = ()

    def values(self) -> tuple:
        return (
            self.title, self.at.timestamp(), None if self.ends is None else self.ends.timestamp(),
            self.description, self.channel, json.dumps(list(self.mention)), self.link,
            _offsets_json(self.remind_before), self.source, self.kind,
        )


def _offsets_json(offsets: Iterable[timedelta]) -> str:
    return json.dumps(sorted({o.total_seconds() for o in offsets}, reverse=True))


def planned_offsets(source: str, remind_before: Iterable[float]) -> set[float]:
    """The offsets (seconds) that get a reminder row: automation items announce at their time too."""
    offsets = set(remind_before)
    if source == "automation":
        offsets.add(0.0)
    return offsets


# --- what the event file plans ---------------------------------------------------------------

def config_items(config: EventConfig) -> list[_Planned]:
    """[[schedule]] items, keyed by title (and rank among equal titles) so that an edited time
    or text updates the same item."""
    seen: dict[str, int] = {}
    items = []
    for item in config.schedule:
        name = item.title.strip().casefold()
        seen[name] = seen.get(name, 0) + 1
        items.append(_Planned(
            key=f"config:{name}#{seen[name]}", source="config", kind="event", title=item.title.strip(),
            at=item.at, ends=item.ends, description=item.description, channel=_channel(item.channel),
            mention=tuple(_roles(item.mention)), link=item.link, remind_before=tuple(item.remind_before),
        ))
    return items


def automation_items(config: EventConfig) -> list[_Planned]:
    """The event's own clock: phase starts, the submission window, the team formation window.
    Each is announced at its time; deadlines also get a countdown. The services enforce the
    deadlines themselves; these are the announcements.

    An automation is left out where the event file already has an item of the same title at the
    same time, and a countdown offset where an event-file item at the deadline already reminds
    at that offset: the same message is not posted twice."""
    auto: list[_Planned] = []
    has_datasets = bool(config.datasets)
    for i, phase in enumerate(config.phases):
        datasets = config.datasets_in_phase(phase.id)
        if i == 0:
            title = f"Phase {phase.id!r} starts: the competition is open"
        else:
            title = f"Phase {phase.id!r} starts: new datasets, the leaderboard starts from zero"
        description = phase.name
        if datasets:
            listed = ", ".join(f"{ds.id} ({ds.name})" for ds in datasets)
            description = (description + "\n" if description else "") + f"Datasets: {listed}"
        auto.append(_Planned(key=f"auto:phase:{phase.id}", source="automation", kind="phase",
                             title=title, at=phase.starts, description=description))
    subs = config.submissions
    what = "submissions and label reveals" if has_datasets else "submissions"
    if subs.opens is not None:
        auto.append(_Planned(key="auto:submissions:opens", source="automation", kind="opens",
                             title="Submissions open", at=subs.opens))
    if subs.closes is not None:
        auto.append(_Planned(
            key="auto:submissions:closes", source="automation", kind="deadline", title="Submissions close",
            at=subs.closes, description=f"From then on, {what} are refused.", remind_before=DEADLINE_COUNTDOWN,
        ))
    teams = config.teams
    if teams.formation_opens is not None:
        auto.append(_Planned(
            key="auto:formation:opens", source="automation", kind="opens", title="Team formation opens",
            at=teams.formation_opens, description="Teams can now be created and joined.",
        ))
    if teams.formation_closes is not None:
        auto.append(_Planned(
            key="auto:formation:closes", source="automation", kind="deadline", title="Team formation closes",
            at=teams.formation_closes,
            description="From then on, teams can no longer be created or joined; ask an organizer for a change.",
            remind_before=DEADLINE_COUNTDOWN,
        ))

    from_file = config_items(config)
    kept = []
    for item in auto:
        same_time = [c for c in from_file if c.at == item.at]
        if any(c.title.casefold() == item.title.casefold() for c in same_time):
            continue
        covered = {o for c in same_time for o in c.remind_before}
        kept.append(_replace_offsets(item, tuple(o for o in item.remind_before if o not in covered)))
    return kept


def _replace_offsets(item: _Planned, offsets: tuple[timedelta, ...]) -> _Planned:
    return replace(item, remind_before=offsets)


# --- validation of live items ----------------------------------------------------------------

def _channel(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lstrip("#").strip()
    return value or None


def _roles(values: Iterable[str]) -> list[str]:
    roles: list[str] = []
    for value in values:
        role = value.strip().lstrip("@").strip()
        if role.casefold() in ("everyone", "here"):
            raise BadInput(f"reminders cannot mention @{role}; mention a role such as 'Participants'")
        if role and role not in roles:
            roles.append(role)
    return roles


def _durations(values: Iterable[timedelta | str]) -> list[timedelta]:
    if isinstance(values, str | timedelta):
        values = [values]
    out = []
    for value in values:
        try:
            offset = parse_duration(value.strip() if isinstance(value, str) else value)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if offset < timedelta(0):
            raise BadInput(f"remind_before must not be negative (got {value!r})")
        if offset not in out:
            out.append(offset)
    return sorted(out, reverse=True)


@dataclass(frozen=True)
class _Fields:
    title: str
    at: datetime
    ends: datetime | None
    description: str
    channel: str | None
    mention: list[str]
    link: str | None
    remind_before: list[timedelta]


# --- the service -----------------------------------------------------------------------------

class ScheduleService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock = system_clock):
        self.store, self.config, self.clock = store, config, clock
        self._listeners: list[Callable[[], None]] = []

    @property
    def tz(self) -> tzinfo:
        return self.config.event.tz

    @property
    def grace(self) -> timedelta:
        return self.config.event.grace

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after each change of the reminder rows (ReminderRunner.reschedule
        subscribes itself); returns the function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    def parse_time(self, value: datetime | str) -> datetime:
        """An organizer's time -> aware UTC: naive times are in the event's timezone, "AoE" and
        other zone suffixes are accepted ("2024-11-24 23:59 AoE"), as in the event file."""
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=self.tz)).astimezone(UTC)
        try:
            return parse_event_time(value, self.tz, self.clock())
        except ValueError as exc:
            raise BadInput(str(exc)) from None

    # --- reading ---------------------------------------------------------------------------

    async def items(self) -> list[ScheduleEntry]:
        rows = await self.store.fetchall(
            f"SELECT {ITEM_COLUMNS} FROM schedule_items WHERE removed_at IS NULL ORDER BY at, id"
        )
        return [entry_from_row(r) for r in rows]

    async def upcoming(self, limit: int = 10) -> list[ScheduleEntry]:
        rows = await self.store.fetchall(
            f"SELECT {ITEM_COLUMNS} FROM schedule_items WHERE removed_at IS NULL AND coalesce(ends, at) >= ?"
            " ORDER BY at, id LIMIT ?",
            (self.clock().timestamp(), limit),
        )
        return [entry_from_row(r) for r in rows]

    async def get(self, item_id: int) -> ScheduleEntry:
        row = await self.store.fetchone(
            f"SELECT {ITEM_COLUMNS} FROM schedule_items WHERE id = ? AND removed_at IS NULL", (item_id,)
        )
        if row is None:
            raise NotFound(f"there is no schedule item {item_id}; /schedule lists them with their numbers")
        return entry_from_row(row)

    async def posted(self, limit: int = 50) -> list[PostedReminder]:
        rows = await self.store.fetchall(
            "SELECT r.id, r.item_id, i.title, r.due, r.sent_at, r.status, coalesce(r.text, i.title), r.error"
            " FROM reminders r JOIN schedule_items i ON i.id = r.item_id"
            f" WHERE r.status IN {FINISHED} ORDER BY r.finished_at DESC, r.id DESC LIMIT ?",
            (limit,),
        )
        return [
            PostedReminder(id=r[0], item_id=r[1], title=r[2], due=_when(r[3]), sent_at=_utc(r[4]),
                           status=r[5], text=r[6], reason=r[7] if r[5] in ("skipped", "failed") else None)
            for r in rows
        ]

    # --- the event file --------------------------------------------------------------------

    async def sync_from_config(self) -> None:
        planned = config_items(self.config) + automation_items(self.config)
        await self.store.run(_sync, planned, self.tz, self.clock().timestamp(), self.grace.total_seconds())
        self._changed()

    # --- live items ------------------------------------------------------------------------

    async def add(
        self,
        title: str,
        at: datetime | str,
        *,
        ends: datetime | str | None = None,
        description: str = "",
        channel: str | None = None,
        mention: Iterable[str] = (),
        link: str | None = None,
        remind_before: Iterable[timedelta | str] = (),
    ) -> ScheduleEntry:
        fields = self._validate(dict(
            title=title, at=at, ends=ends, description=description, channel=channel,
            mention=mention, link=link, remind_before=remind_before,
        ), check_past=True)
        now, grace = self.clock().timestamp(), self.grace.total_seconds()

        async def add(tx: Tx) -> int:
            async with tx.transaction():
                item_id = await tx.fetchval(
                    "INSERT INTO schedule_items(source, kind, title, at, ends, description, channel, mention, link,"
                    " remind_before, created_at, updated_at) VALUES ('live', 'event', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (*_field_values(fields), now, now),
                )
                await _plan(tx, item_id, "live", fields.at, fields.remind_before, self.tz, now, grace)
                return item_id

        item_id = await self.store.run(add)
        self._changed()
        return await self.get(item_id)

    async def edit(self, item_id: int, **changes: Any) -> ScheduleEntry:
        """Change a live item; its pending reminders follow. Items of the event file are changed
        in the file (and the bot restarted), so that the file stays the truth."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise BadInput(f"cannot change {', '.join(sorted(unknown))}; the fields are: {', '.join(sorted(EDITABLE))}")
        current = await self.get(item_id)
        check_live(current)
        merged = {name: getattr(current, name) for name in EDITABLE} | changes
        fields = self._validate(merged, check_past="at" in changes or "ends" in changes)
        now, grace = self.clock().timestamp(), self.grace.total_seconds()

        async def edit(tx: Tx) -> None:
            async with tx.transaction():
                changed = await tx.execute(
                    "UPDATE schedule_items SET title = ?, at = ?, ends = ?, description = ?, channel = ?, mention = ?,"
                    " link = ?, remind_before = ?, updated_at = ? WHERE id = ? AND source = 'live' AND removed_at IS NULL",
                    (*_field_values(fields), now, item_id),
                )
                if not changed:
                    raise NotFound(f"schedule item {item_id} was removed meanwhile")
                await _plan(tx, item_id, "live", fields.at, fields.remind_before, self.tz, now, grace)

        await self.store.run(edit)
        self._changed()
        return await self.get(item_id)

    async def remove(self, item_id: int) -> ScheduleEntry:
        current = await self.get(item_id)
        check_live(current)
        now = self.clock().timestamp()

        async def remove(tx: Tx) -> None:
            async with tx.transaction():
                changed = await tx.execute(
                    "UPDATE schedule_items SET removed_at = ?, updated_at = ? WHERE id = ? AND removed_at IS NULL",
                    (now, now, item_id),
                )
                if not changed:
                    raise NotFound(f"schedule item {item_id} was removed already")
                await _cancel_pending(tx, item_id)

        await self.store.run(remove)
        self._changed()
        return current

    def _validate(self, raw: dict[str, Any], *, check_past: bool) -> _Fields:
        title = " ".join(str(raw["title"] or "").split())
        if not 1 <= len(title) <= MAX_TITLE:
            raise BadInput(f"a schedule item's title has 1 to {MAX_TITLE} characters")
        at = self.parse_time(raw["at"])
        ends = None if raw["ends"] in (None, "") else self.parse_time(raw["ends"])
        if ends is not None and ends < at:
            raise BadInput(f"the item ends ({fmt_utc(ends)}) before it starts ({fmt_utc(at)}); fix the end time")
        if check_past and (ends or at) < self.clock():
            raise BadInput(
                f"{fmt_utc(ends or at)} is in the past; times without a zone are in the event's timezone "
                f"({self.config.event.timezone})"
            )
        description = (raw["description"] or "").strip()
        if len(description) > MAX_DESCRIPTION:
            raise BadInput(f"the description has {len(description)} characters; keep it under {MAX_DESCRIPTION}")
        link = web_link(raw["link"])
        mention = raw["mention"]
        if isinstance(mention, str):
            mention = mention.replace(",", " ").split()
        return _Fields(
            title=title, at=at, ends=ends, description=description, channel=_channel(raw["channel"]),
            mention=_roles(mention), link=link, remind_before=_durations(raw["remind_before"]),
        )


def check_live(entry: ScheduleEntry) -> None:
    if entry.source == "config":
        raise NotAllowed(f"{entry.title!r} comes from the event file; edit the event file and restart the bot")
    if entry.source == "automation":
        raise NotAllowed(
            f"{entry.title!r} follows the event's phases and deadlines; change them in the event file and restart the bot"
        )


def _field_values(f: _Fields) -> tuple:
    return (
        f.title, f.at.timestamp(), None if f.ends is None else f.ends.timestamp(), f.description, f.channel,
        json.dumps(f.mention), f.link, _offsets_json(f.remind_before),
    )


# --- in the database thread ------------------------------------------------------------------

async def _sync(tx: Tx, planned: list[_Planned], tz: tzinfo, now: float, grace: float) -> None:
    async with tx.transaction():
        await tx.lock("schedule sync")  # processes starting together: one plans, the next finds it done
        existing = {
            key: (id_, values)
            for key, id_, *values in await tx.fetchall(
                "SELECT key, id, title, at, ends, description, channel, mention, link, remind_before, source, kind,"
                " removed_at FROM schedule_items WHERE key IS NOT NULL"
            )
        }
        for item in planned:
            values = item.values()
            found = existing.get(item.key)
            if found is None:
                item_id = await tx.fetchval(
                    "INSERT INTO schedule_items(title, at, ends, description, channel, mention, link, remind_before,"
                    " source, kind, key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (*values, item.key, now, now),
                )
            else:
                item_id, old = found
                if tuple(old) != (*values, None):  # changed, or back in the file
                    await tx.execute(
                        "UPDATE schedule_items SET title = ?, at = ?, ends = ?, description = ?, channel = ?,"
                        " mention = ?, link = ?, remind_before = ?, source = ?, kind = ?, removed_at = NULL,"
                        " updated_at = ? WHERE id = ?",
                        (*values, now, item_id),
                    )
            await _plan(tx, item_id, item.source, item.at, item.remind_before, tz, now, grace)
        wanted = {item.key for item in planned}
        for key, (item_id, old) in existing.items():
            if key not in wanted and old[-1] is None:
                await tx.execute("UPDATE schedule_items SET removed_at = ?, updated_at = ? WHERE id = ?", (now, now, item_id))
                await _cancel_pending(tx, item_id)


async def _plan(
    tx: Tx, item_id: int, source: str, at: datetime, remind_before: Iterable[timedelta],
    tz: tzinfo, now: float, grace: float,
) -> None:
    """Make the item's reminder rows match its offsets. Only pending (or cancelled) rows change:
    what was sent, is being sent, was skipped or failed stays as it is and is never planned
    again. A reminder whose time is already past the grace when it is planned is not planned
    (nobody missed it: the item was added or moved after its time)."""
    offsets = planned_offsets(source, (o.total_seconds() for o in remind_before))
    wanted = {s: due_time(at, timedelta(seconds=s), tz).timestamp() for s in offsets}
    rows = {
        offset: (id_, status, due)
        for id_, offset, status, due in await tx.fetchall(
            "SELECT id, offset_s, status, due FROM reminders WHERE item_id = ?", (item_id,)
        )
    }
    too_late = now - grace
    for offset, due in wanted.items():
        row = rows.get(offset)
        if row is None:
            if due >= too_late:
                await tx.execute(
                    "INSERT INTO reminders(item_id, offset_s, due, next_try) VALUES (?, ?, ?, ?)",
                    (item_id, offset, due, due),
                )
            continue
        row_id, status, old_due = row
        if status == "pending" and old_due != due:
            if due >= too_late:
                await tx.execute(
                    "UPDATE reminders SET due = ?, next_try = ?, attempts = 0, error = NULL"
                    " WHERE id = ? AND status = 'pending'",
                    (due, due, row_id),
                )
            else:
                await tx.execute("UPDATE reminders SET status = 'cancelled' WHERE id = ? AND status = 'pending'", (row_id,))
        elif status == "cancelled" and due >= too_late:
            await tx.execute(
                "UPDATE reminders SET status = 'pending', due = ?, next_try = ?, attempts = 0, error = NULL,"
                " claimed_by = NULL, claimed_at = NULL WHERE id = ? AND status = 'cancelled'",
                (due, due, row_id),
            )
    for offset, (row_id, status, _) in rows.items():
        if offset not in wanted and status == "pending":
            await tx.execute("UPDATE reminders SET status = 'cancelled' WHERE id = ? AND status = 'pending'", (row_id,))


async def _cancel_pending(tx: Tx, item_id: int) -> None:
    await tx.execute("UPDATE reminders SET status = 'cancelled' WHERE item_id = ? AND status = 'pending'", (item_id,))
