"""`hackbot rehearse`: the whole event, compressed in time, against the Discord double.

The event file is copied with its timeline compressed N times (every time moved, every
duration divided: the bot itself runs on the real clock, unmodified), with synthetic data.
Then the double, the real bot (`hackbot run` in a subprocess) and K simulated teams play it:
teams form, reveal until their budgets are spent, submit, the reminders fall, the organizers
announce the winners. The transcript says what happened in event time; the problems found in
the event file come at the end.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from bot.config import (
    EventConfig,
    load_event,
    parse_duration,
    parse_event_time,
    parse_timezone,
)
from bot.core.synth import synthesize_event
from bot.sandbox.client import BotProcess, Sandbox, SandboxError, free_port, until

TIME_KEYS = {"starts", "opens", "closes", "at", "ends", "formation_opens", "formation_closes"}
DURATION_KEYS = {"remind_before", "grace"}
MIN_GRACE = timedelta(seconds=10)  # a compressed grace window shorter than a poll would skip everything
LEAD = timedelta(seconds=8)  # real time before the event's first moment: the bot starts meanwhile
TARGET = 35.0  # seconds of real time the timeline takes when --speed is not given


# --- the event file, compressed -----------------------------------------------------------

def event_times(config: EventConfig) -> list[datetime]:
    times = [p.starts for p in config.phases]
    times += [t for t in (config.teams.formation_opens, config.teams.formation_closes,
                          config.submissions.opens, config.submissions.closes) if t is not None]
    for item in config.schedule:
        times.append(item.at)
        times += [item.at - d for d in item.remind_before]
        if item.ends is not None:
            times.append(item.ends)
    return times


@dataclass
class Timeline:
    start: datetime  # the event's first moment (event time)
    end: datetime
    speed: float
    real_start: datetime  # when `start` happens in real time

    def real(self, when: datetime) -> datetime:
        return self.real_start + (when - self.start) / self.speed

    def event(self, real: datetime) -> datetime:
        return self.start + (real - self.real_start) * self.speed

    def now(self) -> datetime:
        return self.event(datetime.now(UTC))


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
                   rows: int = 300) -> tuple[Path, EventConfig, Timeline]:
    """The rehearsal's event file in `folder`, its timeline compressed; synthetic data beside it."""
    now = now or datetime.now(UTC)
    original = load_event(source, now=now, check_data=False)
    times = event_times(original)
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    speed = speed or max(1.0, span / TARGET)
    timeline = Timeline(start=start, end=end, speed=speed, real_start=now + LEAD)
    tz = parse_timezone(original.event.timezone)

    def convert(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(k, v) for k, v in value.items()}
        if isinstance(value, list) and key not in DURATION_KEYS:
            return [convert(key, v) for v in value]
        if key in TIME_KEYS and isinstance(value, (str, datetime, date)):
            return timeline.real(parse_event_time(value, tz, now)).isoformat()
        if key == "remind_before":
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
    config = load_event(path, now=now, check_data=False)
    synthesize_event(config, rows=rows)
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


@dataclass
class Rehearsal:
    sandbox: Sandbox
    config: EventConfig
    timeline: Timeline
    web_url: str
    say: Callable[[str], None]
    teams: list[SimTeam] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    interactions: int = 0

    def stamp(self) -> str:
        return self.timeline.now().astimezone(parse_timezone(self.config.event.timezone)).strftime("%a %d %b %H:%M")

    def log(self, text: str) -> None:
        self.say(f"[{self.stamp()}] {text}")

    async def ask(self, member, path: str, **options) -> str:
        self.interactions += 1
        interaction = await self.sandbox.invoke(member, path, **options)
        return await self.sandbox.reply_text(interaction, timeout=20)

    async def wait_until(self, when: datetime) -> None:
        delay = (self.timeline.real(when) - datetime.now(UTC)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

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

    async def form_teams(self, k: int, size: int) -> None:
        size = max(self.config.teams.min_size, min(size, self.config.teams.max_size))
        for n in range(k):
            members = [self.sandbox.user(f"team{n + 1}-{m + 1}") for m in range(size)]
            team = SimTeam(f"Rehearsal {n + 1}", members, skill=max(0.3, 0.95 - 0.12 * n))
            answer = await self.ask(team.captain, "team create", name=team.name)
            code = re.search(r"Join code: `([^`]+)`", answer)
            if code is None:
                self.log(f"{team.name}: /team create refused: {answer.splitlines()[0]}")
                continue
            for member in members[1:]:
                await self.ask(member, "team join", team=team.name, code=code.group(1))
            self.teams.append(team)
            self.log(f"team {team.name} formed ({len(members)} members)")

    async def reveal_all(self, phase) -> None:
        for team in self.teams:
            spent = 0
            for ds in self.config.datasets_in_phase(phase.id):
                for datum in range(ds.reveal_budget + 1):  # one more than the budget: refused
                    member = team.members[datum % len(team.members)]
                    answer = await self.ask(member, "reveal", exercise_id=ds.id, datum_id=datum)
                    spent += "label **" in answer
            self.log(f"{team.name} revealed {spent} labels in phase {phase.id} (budgets spent, one more refused)")

    def predictions(self, phase, ds, team: SimTeam) -> bytes:
        folder = next(f for f in self.config.resolve(phase.data_dir).iterdir()
                      if f.name.split("_", 1)[0].isdigit() and int(f.name.split("_", 1)[0]) == ds.id)
        y = np.load(folder / "y_val.npy")
        rng = random.Random(f"{team.name}{ds.id}{phase.id}")
        labels = sorted({int(v) for v in y})
        guesses = [int(v) if rng.random() < team.skill else rng.choice(labels) for v in y]
        return ("\n".join(map(str, guesses)) + "\n").encode()

    async def submit_all(self, phase) -> None:
        for team in self.teams:
            for ds in self.config.datasets_in_phase(phase.id):
                asked = await self.sandbox.invoke(team.captain, "submit", exercise_id=ds.id,
                                                  file=("predictions.csv", self.predictions(phase, ds, team)))
                self.interactions += 1
                question = await self.sandbox.answer(asked, timeout=20)
                if not question.buttons():
                    self.log(f"{team.name}: /submit {ds.id} refused: {question.text().splitlines()[0][:100]}")
                    continue
                await self.sandbox.answer(await self.sandbox.click(team.captain, question, "Submit"), timeout=20)
                text = question.text()
                accuracy = re.search(r"Accuracy \*\*([0-9.]+)\*\*", text)
                shown = f"accuracy {accuracy.group(1)}" if accuracy else text.splitlines()[0][:80]
                self.log(f"{team.name} submitted dataset {ds.id}: {shown}")

    async def announce(self, organizer) -> None:
        preview = await self.sandbox.answer(await self.sandbox.invoke(organizer, "winners announce", top=3), timeout=20)
        if not preview.buttons():
            self.log(f"/winners announce refused: {preview.text().splitlines()[0][:100]}")
            return
        await self.sandbox.answer(await self.sandbox.click(organizer, preview, "Post"), timeout=20)
        self.log("organizers posted the winners")


async def rehearse(source: Path, folder: Path, *, speed: float | None, teams: int, size: int = 2,
                   port: int | None = None, say: Callable[[str], None] = print,
                   progress: Callable[[float, str], None] | None = None, db: str | None = None) -> dict[str, Any]:
    """Play the event in `folder`; returns the final leaderboard, the problems, and counts. `db`: an
    empty database to play it on (a postgresql:// URL, say); by default a new file in `folder`."""
    problems = event_problems(source)
    path, config, timeline = compress_event(source, folder, speed=speed)
    span = timeline.end - timeline.start
    say(f"Rehearsing {config.event.name}: {span} of event time at {timeline.speed:,.0f}x "
        f"(~{span.total_seconds() / timeline.speed:.0f} s), {teams} simulated teams")
    port = port or free_port()
    async with Sandbox() as sandbox:
        organizer = sandbox.organizer("organizer", config.discord.organizer_role)
        bot = BotProcess(sandbox, path, db or folder / "rehearsal.sqlite3", folder / "bot.log", port=port)
        await bot.sync()
        await bot.start()
        web_url = f"http://127.0.0.1:{port}/"
        say(f"Leaderboard page while it runs: {web_url}   (Discord double: {sandbox.url}, bot log: {folder / 'bot.log'})")
        play = Rehearsal(sandbox, config, timeline, web_url, say)
        ticker = asyncio.create_task(_tick(play, progress))
        try:
            await play.wait_until(timeline.start)
            await play.form_teams(teams, size)
            closes = config.submissions.closes or timeline.end
            for n, phase in enumerate(config.phases):
                ends = config.phases[n + 1].starts if n + 1 < len(config.phases) else timeline.end
                ends = min(ends, closes) if closes > phase.starts else ends
                await play.wait_until(phase.starts)
                play.log(f"phase {phase.id} ({phase.name or phase.id}) starts")
                if not config.datasets_in_phase(phase.id):
                    continue
                await play.wait_until(phase.starts + (ends - phase.starts) * 0.1)
                await play.reveal_all(phase)
                await play.wait_until(phase.starts + (ends - phase.starts) * 0.5)
                await play.submit_all(phase)
            await play.wait_until(timeline.end)
            await play.announce(organizer)
            await asyncio.sleep(0.5)
            play.watch()
            async with aiohttp.ClientSession() as http, http.get(web_url + "api/leaderboard") as response:
                board = await response.json()
        finally:
            ticker.cancel()
            await bot.stop()
        failed = sandbox.state.failed_interactions()
        return {"leaderboard": board, "problems": problems, "interactions": play.interactions,
                "failed": [i.summary() for i in failed], "reminders": _count_reminders(sandbox, config)}


def _count_reminders(sandbox: Sandbox, config: EventConfig) -> int:
    titles = [item.title for item in config.schedule]
    return sum(1 for messages in sandbox.state.messages.values() for m in messages
               if m.interaction_id is None and any(t in m.text() for t in titles))


async def _tick(play: Rehearsal, progress: Callable[[float, str], None] | None) -> None:
    total = (play.timeline.end - play.timeline.start).total_seconds()
    while True:
        play.watch()
        if progress is not None:
            done = (play.timeline.now() - play.timeline.start).total_seconds()
            progress(min(max(done / total, 0.0), 1.0), play.stamp())
        await asyncio.sleep(0.1)


__all__ = ["SandboxError", "compress_event", "dump_toml", "event_problems", "rehearse", "until"]
