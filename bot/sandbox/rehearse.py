"""`hackbot rehearse`: the whole event, compressed in time, against the Discord double.

The event file is copied with its timeline compressed N times (every time moved, every
duration divided: the bot itself runs on the real clock, unmodified), with synthetic data.
Then the double, the real bot (`hackbot run` in a subprocess) and K simulated teams play it.

What the simulated people do lives in acts (bot/sandbox/acts/, a module each: teams form,
phases open, teams reveal until their budgets are spent, submit, the organizers announce the
winners). Each act decides from the event file whether it applies and when it plays; the core
loop here only runs every act's moments in time order, while the reminders fall by themselves.
The transcript says what happened in event time; the report (`hackbot rehearse --report`) has
the interactions, those that failed, the requests the strict double refused, the problems found
in the event file, the reminders posted, the final leaderboard, the outbox (Discord side
effects written, sent, failed, and the time to drain them), and a section per act.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import pkgutil
import re
import time
import tomllib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import (
    EventConfig,
    load_event,
    parse_duration,
    parse_event_time,
    parse_timezone,
)
from bot.core.synth import synthesize_event
from bot.sandbox.client import BotProcess, Sandbox, SandboxError, free_port, until
from bot.sandbox.github import GitHubDouble, GitHubState
from bot.sandbox.state import SandboxState

TIME_KEYS = {"starts", "opens", "closes", "at", "ends", "formation_opens", "formation_closes", "work_starts",
             "freeze", "final_pick_closes", "merges_close", "notify_at"}
DURATION_KEYS = {"remind_before", "grace", "remind_drafts_before"}
MIN_GRACE = timedelta(seconds=10)  # a compressed grace window shorter than a poll would skip everything
LEAD = timedelta(seconds=8)  # real time before the event's first moment: the bot starts meanwhile
TARGET = 35.0  # seconds of real time the timeline takes when --speed is not given
ASK_SECONDS = 0.15  # real seconds an interaction takes on a busy 2-core machine (30 ms idle): acts plan room with it
CLI_SECONDS = 3.0  # a `hackbot ...` command an act runs: a Python process starting
LATE = 3.0  # real seconds: a moment played later than this is reported (the acts before it overran their room)


# --- the event file, compressed -----------------------------------------------------------

def event_times(config: EventConfig) -> list[datetime]:
    times = [p.starts for p in config.phases]
    times += [t for t in (config.teams.formation_opens, config.teams.formation_closes,
                          config.submissions.opens, config.submissions.closes) if t is not None]
    if config.projects is not None:
        times += [t for t in (config.projects.opens, config.projects.closes) if t is not None]
    for item in config.schedule:
        times.append(item.at)
        times += [item.at - d for d in item.remind_before]
        if item.ends is not None:
            times.append(item.ends)
    for rnd in config.judging.rounds:  # the judges play each round's window; the winners come after
        times += [t for t in (rnd.opens, rnd.closes) if t is not None]
    if config.winners.notify_at is not None:
        times.append(config.winners.notify_at)
    return times


@dataclass
class Timeline:
    """Event time <-> real time. Uniform at `speed`, except where `knots` slow it down: (event
    time, real seconds after `real_start`) points, linear between them, so that an act gets the
    real seconds it needs (a judging round of 3 h compressed to 2 s leaves the judges no time)."""

    start: datetime  # the event's first moment (event time)
    end: datetime
    speed: float
    real_start: datetime  # when `start` happens in real time
    knots: tuple[tuple[datetime, float], ...] = ()

    def _offset(self, when: datetime) -> float:
        knots = self.knots
        if when <= knots[0][0]:
            return knots[0][1] + (when - knots[0][0]).total_seconds() / self.speed
        for (e0, r0), (e1, r1) in zip(knots, knots[1:], strict=False):
            if when <= e1:
                return r0 + (r1 - r0) * ((when - e0) / (e1 - e0))
        last, at = knots[-1]
        return at + (when - last).total_seconds() / self.speed

    def real(self, when: datetime) -> datetime:
        if not self.knots:
            return self.real_start + (when - self.start) / self.speed
        return self.real_start + timedelta(seconds=self._offset(when))

    def event(self, real: datetime) -> datetime:
        if not self.knots:
            return self.start + (real - self.real_start) * self.speed
        offset = (real - self.real_start).total_seconds()
        knots = self.knots
        if offset <= knots[0][1]:
            return knots[0][0] + timedelta(seconds=(offset - knots[0][1]) * self.speed)
        for (e0, r0), (e1, r1) in zip(knots, knots[1:], strict=False):
            if offset <= r1:
                return e0 + (e1 - e0) * ((offset - r0) / (r1 - r0))
        last, at = knots[-1]
        return last + timedelta(seconds=(offset - at) * self.speed)

    def now(self) -> datetime:
        return self.event(datetime.now(UTC))

    @property
    def real_seconds(self) -> float:
        """How long the timeline takes in real time, from its start to its end."""
        return (self.real(self.end) - self.real_start).total_seconds()


def stretch_knots(start: datetime, speed: float, boundaries: list[datetime],
                  needs: dict[datetime, float]) -> tuple[tuple[datetime, float], ...]:
    """Knots that give each time of `needs` its real seconds before the next boundary (the next
    moment or a time of the event file): the stretch after it is slowed down, the rest stays at
    `speed`. Empty when nothing needs more than the uniform compression gives."""
    points = sorted({start, *(t for t in boundaries if t >= start), *(t for t in needs if t >= start)})
    knots = [(points[0], 0.0)]
    slowed = False
    for a, b in zip(points, points[1:], strict=False):
        uniform = (b - a).total_seconds() / speed
        need = needs.get(a, 0.0)
        slowed |= need > uniform
        knots.append((b, knots[-1][1] + max(uniform, need)))
    return tuple(knots) if slowed else ()


def _duration_text(d: timedelta) -> str:
    return f"{max(1, math.ceil(d.total_seconds()))}s"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(data: dict[str, Any]) -> str:
    """Enough TOML for an event file: tables, arrays of tables, scalars, arrays, inline tables."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list)) or
               (isinstance(v, list) and not all(isinstance(x, dict) for x in v)) or v == []}
    lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    for key, value in data.items():
        if key in scalars:
            continue
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            lines.append(f"\n[[{key}]]" if isinstance(value, list) else f"\n[{key}]")
            for k, v in entry.items():
                lines.append(f"{json.dumps(k)} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def compress_event(source: Path, folder: Path, *, speed: float | None, now: datetime | None = None,
                   rows: int = 300, lead: timedelta | None = None, needs: dict[datetime, float] | None = None,
                   synthesize: bool = True) -> tuple[Path, EventConfig, Timeline]:
    """The rehearsal's event file in `folder`, its timeline compressed; synthetic data beside it.
    `needs`: real seconds some moments of the event need (Moment.takes), given room by slowing the
    stretch after each (stretch_knots); `lead`: real time before the event starts (LEAD)."""
    now = now or datetime.now(UTC)
    original = load_event(source, now=now, check_data=False)
    times = event_times(original)
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    speed = speed or max(1.0, span / TARGET)
    knots = stretch_knots(start, speed, times, needs) if needs else ()
    timeline = Timeline(start=start, end=end, speed=speed, real_start=now + (lead if lead is not None else LEAD),
                        knots=knots)
    tz = parse_timezone(original.event.timezone)

    def real_duration(anchor: Any, before: Any) -> str:
        """A duration before a time of the event file, as it lasts in real time there."""
        at = parse_event_time(anchor, tz, now)
        return _duration_text(timeline.real(at) - timeline.real(at - parse_duration(before)))

    def convert(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: convert(k, v) for k, v in value.items()}
            for durations, anchor in (("remind_before", "at"), ("remind_drafts_before", "closes")):
                if durations in value and anchor in value:
                    out[durations] = [real_duration(value[anchor], v) for v in value[durations]]
            if isinstance(value.get("interviews"), dict) and "opens" in value:  # a round's interview slots
                slots = value["interviews"]
                at = parse_event_time(slots.get("starts", value["opens"]), tz, now)
                minutes = timedelta(minutes=slots.get("minutes", value.get("minutes_per_review", 10.0)))
                out["interviews"]["minutes"] = (timeline.real(at + minutes) - timeline.real(at)).total_seconds() / 60
                # the slots' reminders, as long before the first slot as the event file says (10m by
                # default), at least MIN_GRACE: a lead shorter than the bot's poll would skip the reminder
                out["interviews"]["remind_before"] = [
                    _duration_text(max(timeline.real(at) - timeline.real(at - parse_duration(v)), MIN_GRACE))
                    for v in slots.get("remind_before", ["10m"])]
            return out
        if isinstance(value, list) and key not in DURATION_KEYS:
            return [convert(key, v) for v in value]
        if key in TIME_KEYS and isinstance(value, (str, datetime, date)):
            return timeline.real(parse_event_time(value, tz, now)).isoformat()
        if key in ("remind_before", "remind_drafts_before"):
            return [_duration_text(parse_duration(v) / speed) for v in value]
        if key == "grace":
            return _duration_text(max(parse_duration(value) / speed, MIN_GRACE))
        if key == "data_dir":
            return "data/" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))
        return value

    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    compressed = {k: convert(k, v) for k, v in raw.items()}
    compressed.setdefault("event", {}).setdefault("grace", _duration_text(max(timedelta(minutes=15) / speed, MIN_GRACE)))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(dump_toml(compressed), encoding="utf-8")
    if synthesize:
        synthesize_event(load_event(path, now=now, check_data=False), rows=rows)
    return path, load_event(path, now=now), timeline


# --- what is wrong with the event file ----------------------------------------------------

def _has_data(config: EventConfig, phase, dataset) -> bool:
    if phase.data_dir is None:
        return False
    folder = config.resolve(phase.data_dir)
    if not folder.is_dir():
        return False
    for sub in folder.iterdir():
        head = sub.name.split("_", 1)[0]
        if sub.is_dir() and head.isdigit() and int(head) == dataset.id:
            return (sub / "y_val.npy").exists() or (sub / "y_val.txt").exists()
    return False


def event_problems(source: Path, now: datetime | None = None) -> list[str]:
    config = load_event(source, now=now, check_data=False)
    problems = []
    first = min(p.starts for p in config.phases) if config.phases else None

    def t(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    for item in config.schedule:
        for before in item.remind_before:
            due = item.at - before
            if first is not None and due < first:
                problems.append(f"schedule {item.title!r}: the reminder {before} before is due {t(due)}, "
                                f"before the event starts ({t(first)})")
        if item.ends is not None and item.ends < item.at:
            problems.append(f"schedule {item.title!r}: ends ({t(item.ends)}) before it starts ({t(item.at)})")
    for ds in config.datasets:
        for phase in config.phases:
            if config.dataset_in_phase(ds, phase.id) and not _has_data(config, phase, ds):
                where = config.resolve(phase.data_dir) if phase.data_dir else "no data_dir"
                problems.append(f"dataset {ds.id} ({ds.name}) has no data in phase {phase.id!r} ({where}); "
                                f"rehearsed with synthetic data")
        if not any(config.dataset_in_phase(ds, p.id) for p in config.phases):
            problems.append(f"dataset {ds.id} ({ds.name}) belongs to no phase")
    closes = config.submissions.closes
    for phase in config.phases:
        if closes is not None and closes <= phase.starts and config.datasets_in_phase(phase.id):
            problems.append(f"submissions close ({t(closes)}) before phase {phase.id!r} starts ({t(phase.starts)})")
    opens = config.submissions.opens
    if opens is not None and closes is not None and closes <= opens:
        problems.append(f"submissions close ({t(closes)}) before they open ({t(opens)})")
    teams = config.teams
    if teams.formation_opens and teams.formation_closes and teams.formation_closes <= teams.formation_opens:
        problems.append("team formation closes before it opens")
    return problems


# --- the simulated event ------------------------------------------------------------------

@dataclass
class SimTeam:
    name: str
    members: list
    skill: float  # share of correct labels submitted

    @property
    def captain(self):
        return self.members[0]


@dataclass(frozen=True)
class Cast:
    """Who plays: `teams` simulated teams of `size`, or `participants` people spread over the teams
    as evenly as they go; only the first `active` reveal and submit (None: all of them), so that
    thousands of teams can be formed and ranked in a rehearsal."""

    teams: int
    size: int = 2
    active: int | None = None
    participants: int | None = None

    def sizes(self, min_size: int, max_size: int) -> list[int]:
        """Each team's number of members, within the event's bounds: `size` each, or `participants`
        shared out (the first teams one larger where it does not divide)."""
        if self.participants is None:
            return [max(min_size, min(self.size, max_size))] * self.teams
        each, more = divmod(self.participants, self.teams)
        sizes = [each + (n < more) for n in range(self.teams)]
        if not all(min_size <= k <= max_size for k in sizes):
            raise ValueError(f"{self.participants} participants in {self.teams} teams make teams of {min(sizes)} to "
                             f"{max(sizes)}; the event allows {min_size} to {max_size} a team")
        return sizes

    @property
    def people(self) -> int:
        return self.participants if self.participants is not None else self.teams * self.size


@dataclass
class Moment:
    """Something an act plays at a time of the event (`order` breaks ties between acts). `takes`:
    the real seconds it needs (about ASK_SECONDS an interaction): the timeline slows down after it,
    so that it is done before the next moment or the next time of the event file (a round's close)."""

    when: datetime
    order: int
    play: Callable[[], Awaitable[None]]
    takes: float = 0.0
    what: str = ""


class Act:
    """A part of the rehearsal: bot/sandbox/acts/ holds one a module, each an `ACT`. An act says
    whether the event file calls for it, what it plays when, and its section of the report. The
    core loop (`rehearse`) knows none of them by name: a new act is a new module."""

    name: str = "act"

    def applies(self, config: EventConfig) -> bool:
        return True

    def moments(self, play: Rehearsal) -> list[Moment]:
        return []

    async def settle(self, play: Rehearsal) -> None:
        """At the end of the timeline: finish what the act left running in the background."""

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {}

    def summary(self, play: Rehearsal) -> dict[str, Any]:
        """Keys of the report's top level this act owns (the winners act: `prizes`)."""
        return {}


def load_acts() -> list[Act]:
    """A fresh copy of every module of bot/sandbox/acts/ with an ACT, in module order: an act keeps what it
    saw during one rehearsal, so two rehearsals in one process must not share one."""
    import bot.sandbox.acts as package

    found = []
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        act = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "ACT", None)
        if isinstance(act, Act):
            found.append(type(act)())
    return found


@dataclass
class Rehearsal:
    """What the acts share: the double, the event, its timeline, the cast, the teams formed."""

    sandbox: Sandbox
    config: EventConfig
    timeline: Timeline
    web_urls: list[str]  # the web server of each process that serves HTTP; requests go round them
    say: Callable[[str], None]
    cast: Cast
    organizer: Any = None
    teams: list[SimTeam] = field(default_factory=list)
    db: str = ""  # the bot's database, for acts that play an organizer's CLI command (`hackbot perks import`)
    seen: set[int] = field(default_factory=set)
    interactions: int = 0
    github: GitHubState = field(default_factory=GitHubState)  # the GitHub double the bot checks repositories on
    answered: dict[str, int] = field(default_factory=dict)  # web server -> HTTP answers received from it
    _turn: int = 0

    @property
    def web_url(self) -> str:
        """The next web server, in turn: the rehearsal's HTTP traffic is spread over every web process,
        as a proxy in front of them spreads it."""
        url = self.web_urls[self._turn % len(self.web_urls)]
        self._turn += 1
        return url

    def served(self, url: str) -> None:
        """An HTTP answer came back from the web server at `url` (any URL under it)."""
        for base in self.web_urls:
            if url.startswith(base):
                self.answered[base] = self.answered.get(base, 0) + 1

    def stamp(self) -> str:
        return self.timeline.now().astimezone(parse_timezone(self.config.event.timezone)).strftime("%a %d %b %H:%M")

    def log(self, text: str) -> None:
        self.say(f"[{self.stamp()}] {text}")

    @property
    def active_teams(self) -> list[SimTeam]:
        return self.teams if self.cast.active is None else self.teams[: self.cast.active]

    async def ask(self, member, path: str, **options) -> str:
        self.interactions += 1
        interaction = await self.sandbox.invoke(member, path, **options)
        return await self.sandbox.reply_text(interaction, timeout=30)

    async def wait_until(self, when: datetime) -> None:
        delay = (self.timeline.real(when) - datetime.now(UTC)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    def phase_window(self, phase) -> tuple[datetime, datetime]:
        """When a phase's datasets can be played, in event time: from its start to the next phase, or
        to the submissions' close (or the end of the timeline). The event file's copy holds real
        times (compressed): they are turned back into event time, as every moment is."""
        event = self.timeline.event
        phases = self.config.phases
        n = phases.index(phase)
        starts = event(phase.starts)
        ends = event(phases[n + 1].starts) if n + 1 < len(phases) else self.timeline.end
        closes = event(self.config.submissions.closes) if self.config.submissions.closes else self.timeline.end
        if closes > starts:
            ends = min(ends, closes)
        return starts, ends

    def watch(self) -> None:
        """Print what the bot posted in the guild's channels since last time (reminders, ...)."""
        for channel_id, messages in self.sandbox.state.messages.items():
            channel = self.sandbox.state.channels.get(channel_id, {}).get("name", "DM")
            for message in messages:
                if message.id in self.seen or message.deleted or message.interaction_id is not None:
                    continue
                self.seen.add(message.id)
                first = message.text().strip().splitlines()[0] if message.text().strip() else ""
                self.log(f"#{channel}: {first[:110]}")


async def rehearse(source: Path, folder: Path, *, speed: float | None, teams: int, size: int = 2,
                   active: int | None = None, port: int | None = None, say: Callable[[str], None] = print,
                   progress: Callable[[float, str], None] | None = None, state: SandboxState | None = None,
                   acts: list[Act] | None = None, db: str | None = None, participants: int | None = None,
                   web: int = 0) -> dict[str, Any]:
    """Play the event in `folder`; returns the report: the final leaderboard, the problems, the
    interactions and those that failed, the requests the double refused, the reminders posted,
    the processes, and each act's section. `state` lets a caller start from a server of its own
    (one close to Discord's caps); `db`, an empty database to play it on (a postgresql:// URL,
    say), by default a new file in `folder`. `participants`: people shared out over the teams
    (default `size` a team). `web`: run the event as one `hackbot run --role bot` process and
    `web` `--role web` processes (the HTTP traffic spread over them), not one `--role all`."""
    started = time.monotonic()
    problems = event_problems(source)
    path, config, timeline = compress_event(source, folder, speed=speed)
    cast = Cast(teams, size, active, participants)
    cast.sizes(config.teams.min_size, config.teams.max_size)  # the bounds, said before anything starts
    port = port or free_port()
    acts = acts if acts is not None else load_acts()
    github = GitHubDouble(GitHubState())
    github_url = await github.start()
    broke: list[dict[str, Any]] = []  # moments that raised (a timeout, most often): in the report's `failed`
    async with Sandbox(state) as sandbox:
        organizer = sandbox.organizer("organizer", config.discord.organizer_role)
        database = str(db or folder / "rehearsal.sqlite3")
        # the links the bot posts (the vote's page and its QR code) point at its own web server
        # (with web processes, at the first: where a proxy would send them)
        env = {"HACKBOT_GITHUB_API": github_url, "HACKBOT_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        bot = BotProcess(sandbox, path, database, folder / "bot.log", port=free_port() if web else port, env=env,
                         role="bot" if web else None)
        webs = [BotProcess(sandbox, path, database, folder / f"web{n + 1}.log", port=port if n == 0 else free_port(),
                           env=env, role="web") for n in range(web)]
        synced = time.monotonic()
        await bot.sync()
        # `hackbot run` starts about as slowly as `hackbot sync` ran (imports, login): the event
        # starts once it is up, and each moment gets the real time its act needs (Moment.takes)
        sync_s = time.monotonic() - synced
        lead = max(LEAD, timedelta(seconds=2 * sync_s))
        plan = Rehearsal(sandbox, config, timeline, [""], say, cast, organizer, db=database)
        needs: dict[datetime, float] = {}
        for act in acts:
            if act.applies(config):
                for m in act.moments(plan):
                    needs[m.when] = needs.get(m.when, 0.0) + m.takes
        path, config, timeline = compress_event(source, folder, speed=timeline.speed, lead=lead, needs=needs,
                                                synthesize=False)
        playing = [act for act in acts if act.applies(config)]
        span = timeline.end - timeline.start
        people = f" of {cast.people} participants" if participants is not None else ""
        shape = f"; 1 bot process and {web} web processes" if web else ""
        say(f"Rehearsing {config.event.name}: {span} of event time at {timeline.speed:,.0f}x "
            f"(~{timeline.real_seconds:.0f} s, slowed where the acts need time), {teams} simulated teams{people}{shape}")
        starting = time.monotonic()
        await bot.start()
        try:
            for process in webs:
                await process.start()
        except BaseException:
            await _stop_all([bot, *webs])
            raise
        start_s = time.monotonic() - starting
        if datetime.now(UTC) > timeline.real_start:
            problems.append(f"rehearsal: the bot took {start_s:.0f} s to start (the sync {sync_s:.0f} s), longer than "
                            f"the {lead.total_seconds():.0f} s before the event's first moment: its first times passed "
                            "before it ran")
        web_urls = [f"http://127.0.0.1:{p.port}/" for p in webs or [bot]]
        web_url = web_urls[0]
        say(f"Leaderboard page while it runs: {web_url}   (Discord double: {sandbox.url}, bot log: {folder / 'bot.log'})")
        play = Rehearsal(sandbox, config, timeline, web_urls, say, cast, organizer, db=database,
                         github=github.state)
        ticker = asyncio.create_task(_tick(play, progress))
        stalls: list[float] = []
        lag = asyncio.create_task(_loop_lag(stalls))
        try:
            moments = sorted(((act, m) for act in playing for m in act.moments(play)),
                             key=lambda am: (am[1].when, am[1].order))
            horizon = timeline.real(timeline.end) + timedelta(minutes=2)
            for act, moment in moments:
                if timeline.real(moment.when) > horizon:  # an act's time read wrong: waiting would never end
                    broke.append({"kind": "act", "name": f"{act.name}: {moment.what or 'a moment'}",
                                  "errors": [f"due at {moment.when:%Y-%m-%d %H:%M} UTC in event time, after the "
                                             f"timeline's end ({timeline.end:%Y-%m-%d %H:%M}): not played"]})
                    continue
                await play.wait_until(moment.when)
                late = (datetime.now(UTC) - timeline.real(moment.when)).total_seconds()
                what = f"{act.name}{': ' + moment.what if moment.what else ''} at {play.stamp()}"
                if late > LATE and moment.when <= timeline.end:  # after the end, nothing of the event waits on it
                    problems.append(f"rehearsal: {what} played {late:.0f} s late (real time): the acts before it "
                                    "took longer than planned; the times that follow are late too")
                await _played(play, what, moment.play(), broke)
            await play.wait_until(timeline.end)
            for act in playing:
                await _played(play, f"{act.name}: finishing", act.settle(play), broke)
            outbox = await drained_outbox(database, within=max(120.0, cast.people * 0.1))
            outbox["duplicate_posts"] = _duplicate_posts(sandbox)
            await asyncio.sleep(0.5)
            play.watch()
            for url in web_urls:  # every web process answers the same board
                async with aiohttp.ClientSession() as http, http.get(url + "api/leaderboard") as response:
                    board = await response.json()
                    play.served(url)
            page = await _board_page(web_url)
        finally:
            ticker.cancel()
            lag.cancel()
            await _stop_all([*webs, bot])
            await github.stop()
        failed = sandbox.state.failed_interactions()
        report: dict[str, Any] = {
            "event": config.event.name, "teams": teams, "participants": cast.people,
            "wall_time_s": round(time.monotonic() - started, 1),
            "processes": [{"role": p.role or "all", "port": p.port,
                           "http_answers": play.answered.get(f"http://127.0.0.1:{p.port}/", 0)} for p in [bot, *webs]],
            "interactions": play.interactions, "failed": [i.summary() for i in failed] + broke,
            "refused_discord_requests": [
                {"route": r.route, "status": r.status, "code": r.code, "reason": r.reason}
                for r in sandbox.state.refusals()
            ],
            "problems": problems, "reminders": _count_reminders(sandbox, config), "leaderboard": board,
            "outbox": outbox,
            "bot_start": {"sync_s": round(sync_s, 1), "lead_s": round(lead.total_seconds(), 1), "start_s": round(start_s, 1)},
            "board_page": page,
            # the double's event loop is this process's: a long stall (a full garbage collection of the
            # simulated people's heap) bunches the handling of the bot's requests at its end; they count
            # against Discord's limits at their arrival all the same (bot/sandbox/arrival.py)
            "double_loop_stall_max_s": round(max(stalls, default=0.0), 3),
            "double_loop_stalls_over_100ms": sum(1 for s in stalls if s > 0.1),
        }
        for act in playing:
            report.setdefault("acts", {})[act.name] = act.report(play)
            report.update(act.summary(play))
        return report


async def _played(play: Rehearsal, what: str, step: Awaitable[None], broke: list[dict[str, Any]]) -> None:
    """Play one step of an act; one that fails (the double did not answer in time, an act's own
    error) is recorded for the report's `failed`, and the rehearsal goes on with the next."""
    try:
        await step
    except (SandboxError, TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError, AssertionError) as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
        broke.append({"kind": "act", "name": what, "errors": [error[:500]]})
        play.log(f"{what} did not finish: {error[:300]}")


async def _stop_all(processes: list[BotProcess]) -> None:
    for process in processes:
        await process.stop()


def _duplicate_posts(sandbox: Sandbox) -> int:
    """Messages the double holds twice for one outbox row (the same nonce): 0 when every row was sent once."""
    nonces = Counter(m.nonce for messages in sandbox.state.messages.values() for m in messages if m.nonce is not None)
    return sum(n - 1 for n in nonces.values() if n > 1)


async def drained_outbox(database: str, *, within: float = 120.0) -> dict[str, Any]:
    """The outbox once the bot has sent everything (or `within` seconds have passed): rows written,
    sent, failed (with the reasons) and left; the time from the first row written to the last one
    done (the rehearsal's span, rows being written all along), the time from the last row written
    to the last one done (the drain once the event stops writing), and each row's wait from written
    to sent, median and longest (bot/core/outbox.py)."""
    from bot.core.outbox import Outbox
    from bot.core.store import Store

    store = await Store.open(database, migrate=False)
    try:
        outbox = Outbox(store)
        deadline = time.monotonic() + within
        status = await outbox.status()
        while not status.drained and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status = await outbox.status()
        last_written = await store.fetchval("SELECT max(created_at) FROM outbox")
    finally:
        await store.close()
    counts = status.counts
    after_last = (None if not status.drained or last_written is None or status.last_finished is None
                  else round(max(0.0, status.last_finished - last_written), 2))
    return {
        "enqueued": sum(counts.values()), "sent": counts["sent"], "failed": counts["failed"],
        "left": counts["pending"] + counts["sending"],
        "time_to_drain_s": None if status.time_to_drain is None else round(status.time_to_drain, 2),
        "drain_after_last_write_s": after_last,
        "wait_p50_s": None if status.wait_p50 is None else round(status.wait_p50, 3),
        "wait_max_s": None if status.wait_max is None else round(status.wait_max, 3),
        "failures": [f"{f.kind} {f.key}: {f.error}" for f in status.failed],
    }


async def _board_page(web_url: str) -> dict[str, Any]:
    """The leaderboard page as a phone fetches it: its size gzipped, and whether asking again with
    its ETag is answered 304 (the board served from the cache while nothing changed)."""
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(web_url, headers={"Accept-Encoding": "gzip"}) as first:
            body, etag = await first.read(), first.headers.get("ETag", "")
            gzipped = first.headers.get("Content-Encoding") == "gzip"
        async with http.get(web_url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}) as again:
            revalidated = again.status == 304
    return {"status": first.status, "bytes": len(body), "gzip": gzipped, "etag_304": revalidated}


def _count_reminders(sandbox: Sandbox, config: EventConfig) -> int:
    titles = [item.title for item in config.schedule]
    return sum(1 for messages in sandbox.state.messages.values() for m in messages
               if m.interaction_id is None and any(t in m.text() for t in titles))


async def _loop_lag(stalls: list[float], every: float = 0.02) -> None:
    """How late this process's event loop wakes a task due every `every` seconds: its stalls."""
    while True:
        due = time.monotonic() + every
        await asyncio.sleep(every)
        stalls.append(max(0.0, time.monotonic() - due))


async def _tick(play: Rehearsal, progress: Callable[[float, str], None] | None) -> None:
    total = (play.timeline.end - play.timeline.start).total_seconds()
    while True:
        play.watch()
        if progress is not None:
            done = (play.timeline.now() - play.timeline.start).total_seconds()
            progress(min(max(done / total, 0.0), 1.0), play.stamp())
        await asyncio.sleep(0.1)


__all__ = ["Act", "Cast", "Moment", "Rehearsal", "SandboxError", "SimTeam", "Timeline", "compress_event", "dump_toml",
           "event_problems", "load_acts", "rehearse", "stretch_knots", "until"]
