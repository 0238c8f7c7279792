"""Looking for a team: the profiles of people without a team, teams that recruit, and applying
what the matcher (bot/core/matchmaking.py) proposes.

A person in a team is never in the pool: the pool is read with the members left out, and
`apply` checks each person again inside the transaction that places them, so a person who
joined a team by hand between the preview and the confirmation is skipped, never placed twice
(team_members.user_id is UNIQUE as well). Each proposed team is one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config import EventConfig
from bot.core.clock import Clock
from bot.core.errors import BadInput, NotAllowed
from bot.core.matchmaking import LEVELS, MatchResult, Person, ProposedTeam, RecruitingTeam, match
from bot.core.outbox import enqueue
from bot.core.store import IntegrityError, Store, Tx
from bot.core.teams import (
    Team,
    TeamService,
    insert_team,
    lock_teams,
    member_order,
    new_password,
    size_bound,
    team_lane,
)

MATCH_PLACED = "match.placed"  # the outbox kind of a placed team's Discord side (bot/outbox_executors.py)

MAX_SKILLS = 20
MAX_TAG = 40  # a skill, as typed
MAX_TOPIC = 100  # a topic: the event file allows 100 characters (config.MatchmakingSection)
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
CSV_COLUMNS = ("discord_id", "name", "topics", "experience", "timezone", "skills")


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str
    topics: list[str]
    skills: list[str]
    experience: str
    tz_offset_minutes: int | None
    tz_name: str | None
    open_to_existing: bool

    def person(self) -> Person:
        return Person(self.user_id, tuple(self.topics), self.experience, self.tz_offset_minutes,
                      self.open_to_existing, self.name, tuple(self.skills))

    @property
    def tz_label(self) -> str:
        if self.tz_name:
            return self.tz_name
        return "unknown" if self.tz_offset_minutes is None else fmt_offset(self.tz_offset_minutes)


@dataclass(frozen=True)
class PlacedTeam:
    team: Team
    members: list[str]  # everyone in the team now, the captain first
    newcomers: list[str]  # the people the matcher placed in it
    shared_topics: list[str]
    levels: dict[str, str]  # user id -> experience, for those with a profile
    existing: bool  # a recruiting team that took people
    outbox_key: str = ""  # its Discord side (space, direct messages, ice-breaker): written with it

    def payload(self) -> dict:
        return {"team_id": self.team.id, "members": self.members, "newcomers": self.newcomers,
                "shared_topics": self.shared_topics, "levels": self.levels, "existing": self.existing}


@dataclass(frozen=True)
class MatchNote:
    """Why a proposal was not (fully) placed: Discord user ids, never mentions. Each door renders a
    person its own way (`text(person)`: the cog as a mention, the CLI as the id)."""

    kind: Literal["skipped", "full", "joined", "team_gone", "filled_up", "too_few", "empty"]
    users: tuple[str, ...] = ()
    team_name: str | None = None
    team_id: int | None = None
    still: int = 0  # too_few: how many of them are still looking

    def text(self, person: Callable[[str], str] = str) -> str:
        who = ", ".join(person(u) for u in self.users)
        match self.kind:
            case "skipped":
                return f"{who} joined a team meanwhile or left the pool: not placed again"
            case "full":
                return f"a proposed team ({who}) was not placed: the team is full; they stay in the pool"
            case "joined":
                return f"a proposed team ({who}) was not placed: someone in it joined a team meanwhile; they stay in the pool"
            case "team_gone":
                return f"a recruiting team (id {self.team_id}) no longer exists; its people stay in the pool"
            case "filled_up":
                return f"team {self.team_name!r} filled up meanwhile; its proposed people stay in the pool"
            case "too_few":
                return (f"a proposed team ({who}) is not formed: only {self.still} of them are still looking; "
                        "they stay in the pool")
            case _:
                return "a proposed team is empty now; nobody in it is still looking"


@dataclass
class AppliedMatch:
    teams: list[PlacedTeam] = field(default_factory=list)
    notes: list[MatchNote] = field(default_factory=list)  # people skipped, teams not formed, and why


def fmt_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def parse_tz(text: str | None, when: datetime) -> tuple[int | None, str | None]:
    """"Europe/Paris" or "UTC+5:30" or "-8" -> (offset in minutes at `when`, IANA name or None)."""
    text = (text or "").strip()
    if not text:
        return None, None
    if text.upper() in ("UTC", "GMT", "Z"):
        return 0, "UTC"
    found = _OFFSET.match(text.replace(" ", ""))
    if found:
        sign, hours, mins = found.groups()
        minutes = int(hours) * 60 + int(mins or 0)
        minutes = -minutes if sign == "-" else minutes
        if not -720 <= minutes <= 840:
            raise BadInput(f"{text!r} is not a UTC offset; offsets run from UTC-12 to UTC+14")
        return minutes, None
    if "/" in text:
        try:
            zone = ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is not None:
            offset = when.astimezone(zone).utcoffset()
            if offset is not None:  # always, for a time in a ZoneInfo zone
                return int(offset.total_seconds() // 60), text
    raise BadInput(f"{text!r} is not a time zone; write an IANA name such as 'Europe/Paris' or an offset such as 'UTC+5:30'")


def timezone_names(current: str, limit: int = 25) -> list[str]:
    needle = current.casefold().strip()
    names = sorted(n for n in available_timezones() if "/" in n and needle in n.casefold())
    names.sort(key=lambda n: not n.casefold().startswith(needle))
    return names[:limit]


def _tags(values: Sequence[str] | str, limit: int = MAX_TAG) -> list[str]:
    if isinstance(values, str):
        values = re.split(r"[;,]", values)
    out: list[str] = []
    for value in values:
        tag = " ".join(value.split())[:limit]
        if tag and tag.casefold() not in {t.casefold() for t in out}:
            out.append(tag)
    return out[:MAX_SKILLS]


def _profile(row: tuple) -> Profile:
    return Profile(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5], row[6], bool(row[7]))


PROFILE_COLUMNS = "p.user_id, p.name, p.topics, p.skills, p.experience, p.tz_offset_minutes, p.tz_name, p.open_to_existing"


class LfgService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, teams: TeamService):
        self.store, self.config, self.clock, self.teams = store, config, clock, teams

    @property
    def topics(self) -> list[str]:
        return list(self.config.matchmaking.topics)

    def check_topics(self, topics: list[str] | str) -> list[str]:
        """The topics in their configured spelling; an unknown one is refused with the list."""
        wanted = _tags(topics, MAX_TOPIC)
        if not self.topics:
            return wanted
        known = {t.casefold(): t for t in self.topics}
        unknown = [t for t in wanted if t.casefold() not in known]
        if unknown:
            raise BadInput(f"unknown topic {unknown[0]!r}; the topics are: {', '.join(self.topics)}")
        return [known[t.casefold()] for t in wanted]

    async def set_profile(
        self,
        user_id: str,
        *,
        name: str = "",
        topics: Sequence[str] | str = (),
        skills: Sequence[str] | str = (),
        experience: str = "some",
        timezone: str | None = None,
        open_to_existing: bool = True,
    ) -> Profile:
        if experience not in LEVELS:
            raise BadInput(f"experience is one of {', '.join(LEVELS)}; got {experience!r}")
        topics = self.check_topics(list(topics) if not isinstance(topics, str) else topics)
        offset, tz_name = parse_tz(timezone, self.clock())
        profile = Profile(user_id, name[:100], topics, _tags(skills), experience, offset, tz_name, open_to_existing)

        async def save(tx: Tx) -> None:
            async with tx.transaction():
                if await tx.fetchone("SELECT 1 FROM team_members WHERE user_id = ?", (user_id,)):
                    raise NotAllowed(
                        "you are in a team already; your captain can say the team is looking for people with /team recruit"
                    )
                await _upsert(tx, profile, self.clock().timestamp())

        await self.store.run(save)
        return profile

    async def leave(self, user_id: str) -> bool:
        return bool(await self.store.execute("DELETE FROM lfg_profiles WHERE user_id = ?", (user_id,)))

    async def profile(self, user_id: str) -> Profile | None:
        row = await self.store.fetchone(f"SELECT {PROFILE_COLUMNS} FROM lfg_profiles p WHERE p.user_id = ?", (user_id,))
        return _profile(row) if row else None

    async def looking(self) -> list[Profile]:
        """Everyone looking for a team and not in one, oldest profile first."""
        rows = await self.store.fetchall(
            f"SELECT {PROFILE_COLUMNS} FROM lfg_profiles p"
            " WHERE NOT EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = p.user_id)"
            " ORDER BY p.updated_at, p.user_id"
        )
        return [_profile(r) for r in rows]

    async def by_topic(self) -> dict[str, list[Profile]]:
        """/team lfg list: who is looking, by topic (a person with no topic under "any topic")."""
        grouped: dict[str, list[Profile]] = {t: [] for t in self.topics}
        for profile in await self.looking():
            for topic in profile.topics or ["any topic"]:
                grouped.setdefault(topic, []).append(profile)
        return {t: people for t, people in grouped.items() if people}

    async def set_recruiting(self, captain: str, on: bool) -> Team:
        team = await self.teams.team_of(captain)
        if team is None:
            raise NotAllowed("you are not in a team; /team lfg join puts you in the matchmaking pool instead")
        row = await self.store.fetchone(
            "SELECT is_captain FROM team_members WHERE user_id = ?", (captain,)
        )
        if not row or not row[0]:
            raise NotAllowed("only the team's captain can do this; ask them")
        await self.store.execute("UPDATE teams SET recruiting = ? WHERE id = ?", (int(on), team.id))
        return team

    async def recruiting_teams(self) -> list[RecruitingTeam]:
        """Recruiting teams with free places, with their members' profiles where they have one."""
        max_size = self.config.teams.max_size

        async def read(tx: Tx) -> list[RecruitingTeam]:
            teams = await tx.fetchall(
                "SELECT t.id, t.name FROM teams t WHERE t.recruiting = 1"
                " AND (SELECT count(*) FROM team_members m WHERE m.team_id = t.id) BETWEEN 1 AND ?",
                (max_size - 1,),
            )
            result = []
            for team_id, name in teams:
                members = []
                for (user_id,) in await tx.fetchall(
                    f"SELECT user_id FROM team_members WHERE team_id = ? ORDER BY {member_order(tx.dialect)}", (team_id,)
                ):
                    row = await tx.fetchone(
                        f"SELECT {PROFILE_COLUMNS} FROM lfg_profiles p WHERE p.user_id = ?", (user_id,)
                    )
                    members.append(_profile(row).person() if row else Person(user_id))
                result.append(RecruitingTeam(team_id, name, tuple(members)))
            return result

        return await self.store.run(read)

    async def propose(self, *, seed: int = 0) -> MatchResult:
        section, teams = self.config.matchmaking, self.config.teams
        pool = [p.person() for p in await self.looking()]
        return match(
            pool, await self.recruiting_teams(), min_size=teams.min_size, max_size=teams.max_size,
            target_size=self.config.match_target_size, topics=section.topics,
            max_tz_spread_hours=section.max_tz_spread_hours, seed=seed,
        )

    async def run_scheduled(self, *, seed: int = 0) -> tuple[MatchResult, AppliedMatch] | None:
        """The event file's `[matchmaking] at`, once it has passed: claimed in the database first
        (one run per planned time, whatever the number of bot processes or restarts; a run
        interrupted after its claim is not retried: organizers run /match run). None when not
        due or already run."""
        at = self.config.matchmaking.at
        now = self.clock()
        if at is None or now < at:
            return None
        key = f"matchmaking:scheduled:{int(at.timestamp())}"
        claimed = await self.store.execute(
            "INSERT INTO event_state(key, value, updated_at) VALUES (?, 'running', ?) ON CONFLICT (key) DO NOTHING",
            (key, now.timestamp()),
        )
        if not claimed:
            return None
        result = await self.propose(seed=seed)
        applied = await self.apply(result)
        await self.store.execute("UPDATE event_state SET value = 'done', updated_at = ? WHERE key = ?",
                                 (self.clock().timestamp(), key))
        return result, applied

    async def apply(self, result: MatchResult) -> AppliedMatch:
        """Create the proposed teams and fill the recruiting ones, one transaction per team."""
        applied = AppliedMatch()
        for proposed in result.teams:
            placed = await self.store.run(self._place, proposed)
            if isinstance(placed, MatchNote):
                applied.notes.append(placed)
            else:
                applied.teams.append(placed)
                if len(placed.newcomers) < len(proposed.members):
                    skipped = tuple(u for u in proposed.members if u not in placed.newcomers)
                    applied.notes.append(MatchNote("skipped", skipped))
        if applied.teams:
            self.teams.outbox.wake()
        return applied

    async def _place(self, tx: Tx, proposed: ProposedTeam) -> PlacedTeam | MatchNote:
        try:
            async with tx.transaction():
                return await self._place_in(tx, proposed)
        except IntegrityError as exc:
            # the database refused a member: the team filled up, or someone joined a team, meanwhile
            return MatchNote("full" if exc.kind == "refused" else "joined", tuple(proposed.members))

    async def _place_in(self, tx: Tx, proposed: ProposedTeam) -> PlacedTeam | MatchNote:
        now = self.clock().timestamp()
        teams = self.config.teams
        if proposed.existing_team is not None:
            await tx.lock("team", proposed.existing_team)  # /team join waits for this placement
        still = [
            u for u in proposed.members
            if await tx.fetchone("SELECT 1 FROM lfg_profiles WHERE user_id = ?", (u,))
            and not await tx.fetchone("SELECT 1 FROM team_members WHERE user_id = ?", (u,))
        ]
        everyone = proposed.members + proposed.existing_members
        levels = {
            u: e for u, e in await tx.fetchall(
                f"SELECT user_id, experience FROM lfg_profiles WHERE user_id IN ({_marks(everyone)})", everyone,
            )
        }
        if proposed.existing_team is not None:
            row = await tx.fetchone(
                "SELECT id, name, username, validated FROM teams WHERE id = ?", (proposed.existing_team,)
            )
            if row is None:
                return MatchNote("team_gone", team_id=proposed.existing_team)
            size = await tx.fetchval("SELECT count(*) FROM team_members WHERE team_id = ?", (row[0],))
            max_size = await size_bound(tx, self.config)
            still = still[: max(0, max_size - size)]
            if not still:
                return MatchNote("filled_up", team_name=row[1], team_id=row[0])
            for user_id in still:
                await tx.execute(
                    "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, 0, ?)",
                    (row[0], user_id, now),
                )
            if size + len(still) >= max_size:
                await tx.execute("UPDATE teams SET recruiting = 0 WHERE id = ?", (row[0],))
            team, existing = Team(row[0], row[1], row[2], bool(row[3])), True
        else:
            # a team of one is no match: two people at least, unless the proposal was smaller
            if len(still) < min(max(teams.min_size, 2), len(proposed.members)):
                return MatchNote("too_few", tuple(proposed.members), still=len(still))
            if not still:
                return MatchNote("empty")
            # the most experienced member captains the team
            still.sort(key=lambda u: -LEVELS.index(levels.get(u, "some")))
            team = await _insert_team(tx, proposed.shared_topics, now)
            for rank, user_id in enumerate(still):
                await tx.execute(
                    "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, ?, ?)",
                    (team.id, user_id, int(rank == 0), now + rank * 1e-6),
                )
            existing = False
        await tx.execute(f"DELETE FROM lfg_profiles WHERE user_id IN ({_marks(still)})", still)
        members = [r[0] for r in await tx.fetchall(
            f"SELECT user_id FROM team_members WHERE team_id = ? ORDER BY {member_order(tx.dialect)}", (team.id,)
        )]
        placed = PlacedTeam(team, members, still, proposed.shared_topics, levels, existing,
                            f"{MATCH_PLACED}:{team.id}:{now!r}")
        # its space, the newcomers' direct messages and the ice-breaker, with the placement
        await enqueue(tx, MATCH_PLACED, placed.outbox_key, placed.payload(), lane=team_lane(team.id))
        return placed

    async def import_csv(self, text: str) -> tuple[int, list[tuple[int, str]]]:
        """Rows `discord_id,name,topics,experience,timezone,skills` (topics and skills separated by
        ';'). Good rows are saved, bad ones returned as (line, reason); people in a team skipped."""
        reader = csv.reader(io.StringIO(text))
        errors: list[tuple[int, str]] = []
        profiles: list[Profile] = []
        header_seen = False
        when = self.clock()
        for row in reader:
            line = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if not header_seen:
                header_seen = True
                if [c.strip().lower() for c in row] == list(CSV_COLUMNS):
                    continue
            if len(row) != len(CSV_COLUMNS):
                errors.append((line, f"{len(row)} columns; expected {len(CSV_COLUMNS)}: {','.join(CSV_COLUMNS)}"))
                continue
            discord_id, name, topics, experience, tz, skills = (c.strip() for c in row)
            try:
                if not discord_id.isdigit():
                    raise BadInput(f"discord_id {discord_id!r} is not a Discord user id (digits only)")
                experience = experience.lower() or "some"
                if experience not in LEVELS:
                    raise BadInput(f"experience {experience!r} is not one of {', '.join(LEVELS)}")
                offset, tz_name = parse_tz(tz, when)
                profiles.append(Profile(discord_id, name[:100], self.check_topics(topics), _tags(skills),
                                        experience, offset, tz_name, True))
            except BadInput as exc:
                errors.append((line, exc.message))

        async def save(tx: Tx) -> int:
            saved = 0
            now = self.clock().timestamp()
            async with tx.transaction():
                for profile in profiles:
                    if await tx.fetchone("SELECT 1 FROM team_members WHERE user_id = ?", (profile.user_id,)):
                        continue
                    await _upsert(tx, profile, now)
                    saved += 1
            return saved

        return await self.store.run(save), errors


def _marks(values: Sequence[object]) -> str:
    """`?, ?, ?` for an IN list of these values (never empty: `IN ()` is SQLite's only)."""
    if not values:
        raise ValueError("an IN list needs one value at least")
    return ", ".join("?" * len(values))


async def _upsert(tx: Tx, profile: Profile, now: float) -> None:
    await tx.execute(
        "INSERT INTO lfg_profiles(user_id, name, topics, skills, experience, tz_offset_minutes, tz_name,"
        " open_to_existing, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, topics = excluded.topics,"
        " skills = excluded.skills, experience = excluded.experience,"
        " tz_offset_minutes = excluded.tz_offset_minutes, tz_name = excluded.tz_name,"
        " open_to_existing = excluded.open_to_existing, updated_at = excluded.updated_at",
        (profile.user_id, profile.name, json.dumps(profile.topics), json.dumps(profile.skills), profile.experience,
         profile.tz_offset_minutes, profile.tz_name, int(profile.open_to_existing), now),
    )


async def _insert_team(tx: Tx, shared_topics: list[str], now: float) -> Team:
    """A new team named after its first shared topic ("Anomaly detection 3"), with the same
    columns TeamService.create writes; its API password is made again with /token."""
    await lock_teams(tx)
    stem = (shared_topics[0] if shared_topics else "Matched team")[:50]
    n = 1
    while True:
        name = f"{stem} {n}"
        if not await tx.fetchone("SELECT 1 FROM teams WHERE name_key = ?", (name.casefold(),)):
            break
        n += 1
    return await insert_team(tx, name, new_password(), validated=False, now=now)
