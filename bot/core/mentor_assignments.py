"""Mentors assigned to teams ([mentoring] assign_to_teams): `/mentor assign` or `hackbot mentoring
assign` proposes one mentor per team, an organizer confirms, the team's channel gets an
introduction. The confirmed pairs are rows of `mentor_assignments(mentor_user_id, team_id)`:
judging reads them as conflicts of interest (a mentor never judges their own teams).

A team's topics are its members' matchmaking topics (lfg_profiles, for members who still have a
profile) and its project's category (when the projects table exists); a mentor's tags are those
of /mentor tags. The proposal itself is bot/core/mentoring_metrics.py's `propose_assignments`
(topic matches first, loads balanced, the seed breaking ties), over the teams that have members
and no mentor yet; a mentor is never proposed for a team they are in.

Confirming is stateless: the organizer confirms the proposal's fingerprint; the proposal is made
again from the database as it is then, and written only if it is the same (otherwise the new one
is shown). Each pair is written unless the team got a mentor meanwhile.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from bot.config import EventConfig
from bot.core.clock import Clock
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.mentoring_metrics import MentorTags, TeamTopics, propose_assignments
from bot.core.outbox import Outbox, enqueue
from bot.core.store import Store, Tx
from bot.core.teams import team_lane

MENTOR_INTRO = "mentor.intro"  # the outbox kind of a mentor's introduction in a team's channel


@dataclass(frozen=True)
class Pair:
    team_id: int
    team: str
    mentor: str  # Discord user id
    shared: tuple[str, ...]  # the team's topics the mentor covers (empty: none)
    channel_id: int | None = None  # the team's channel, for the introduction


@dataclass(frozen=True)
class Proposal:
    pairs: tuple[Pair, ...]
    unassigned: tuple[str, ...]  # teams left without a mentor (too few mentors)
    loads: dict[str, int]  # mentor -> teams proposed
    mentored: int  # teams that have a mentor already (not in the proposal)
    fingerprint: str  # what the organizer confirms


@dataclass(frozen=True)
class _Inputs:
    teams: list[tuple[int, str, tuple[str, ...], int | None]]  # id, name, topics, channel
    mentors: list[tuple[str, tuple[str, ...]]]
    members: dict[int, set[str]]
    mentored: int


async def _has_columns(tx: Tx, table: str, columns: set[str]) -> bool:
    if tx.dialect == "postgres":
        rows = await tx.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
    else:
        rows = [(r[1],) for r in await tx.fetchall(f'PRAGMA table_info("{table}")')]
    return columns <= {r[0] for r in rows}


async def _inputs(tx: Tx) -> _Inputs:
    members: dict[int, set[str]] = {}
    for team_id, user_id in await tx.fetchall("SELECT team_id, user_id FROM team_members"):
        members.setdefault(team_id, set()).add(user_id)
    topics: dict[int, list[str]] = {}
    for team_id, profile_topics in await tx.fetchall(
        "SELECT m.team_id, p.topics FROM team_members m JOIN lfg_profiles p ON p.user_id = m.user_id ORDER BY m.team_id"
    ):
        topics.setdefault(team_id, []).extend(json.loads(profile_topics))
    if await _has_columns(tx, "projects", {"team_id", "category"}):  # issue 11's projects, where present
        for team_id, category in await tx.fetchall("SELECT team_id, category FROM projects WHERE category IS NOT NULL"):
            topics.setdefault(team_id, []).append(category)
    mentored = {r[0] for r in await tx.fetchall("SELECT DISTINCT team_id FROM mentor_assignments")}
    teams = []
    for team_id, name, channel in await tx.fetchall("SELECT id, name, discord_channel_id FROM teams ORDER BY id"):
        if team_id in members and team_id not in mentored:
            unique = tuple(dict.fromkeys(t for t in topics.get(team_id, []) if t))
            teams.append((team_id, name, unique, channel))
    mentors = [(user, tuple(json.loads(tags))) for user, tags in await tx.fetchall(
        "SELECT user_id, tags FROM mentors ORDER BY user_id"
    )]
    return _Inputs(teams, mentors, members, len(mentored & set(members)))


def _propose(inputs: _Inputs, seed: int) -> Proposal:
    mentor_ids = [m for m, _ in inputs.mentors]
    index = {m: i for i, m in enumerate(mentor_ids)}
    conflicts = [(team_id, index[user]) for team_id, users in inputs.members.items() for user in users if user in index]
    result = propose_assignments(
        [TeamTopics(team_id, topics) for team_id, _, topics, _ in inputs.teams],
        [MentorTags(i, tags) for i, (_, tags) in enumerate(inputs.mentors)],
        seed=seed, conflicts=conflicts,
    )
    by_id = {team_id: (name, channel) for team_id, name, _, channel in inputs.teams}
    pairs = tuple(Pair(p.team, by_id[p.team][0], mentor_ids[p.mentor], p.shared, by_id[p.team][1]) for p in result.pairs)
    text = json.dumps(sorted((p.team_id, p.mentor) for p in pairs))
    return Proposal(
        pairs=pairs,
        unassigned=tuple(by_id[t][0] for t in result.unassigned),
        loads={mentor_ids[m]: n for m, n in result.loads.items()},
        mentored=inputs.mentored,
        fingerprint=hashlib.sha256(text.encode()).hexdigest()[:10],
    )


class AssignmentService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, outbox: Outbox | None = None):
        self.store, self.config, self.clock, self.outbox = store, config, clock, outbox

    def _check(self) -> None:
        if self.config.mentoring is None or not self.config.mentoring.assign_to_teams:
            raise NotAllowed("this event does not assign mentors to teams; set [mentoring] assign_to_teams = true "
                             "in the event file")

    async def propose(self, *, seed: int = 0) -> Proposal:
        self._check()
        return _propose(await self.store.run(_inputs), seed)

    async def confirm(self, fingerprint: str, by: str | None = None, *, seed: int = 0) -> list[Pair]:
        """Write the proposal the organizer saw (its fingerprint); the pairs written, each with the
        team's channel for the introduction. AlreadyDone when the proposal changed meanwhile."""
        proposal = await self.propose(seed=seed)
        if proposal.fingerprint != fingerprint.strip():
            raise AlreadyDone(f"the proposal changed since (teams or mentors changed): its fingerprint is now "
                              f"{proposal.fingerprint}; look at it again before confirming")
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> list[Pair]:
            written = []
            async with tx.transaction():
                await tx.lock("mentor_assignments")
                for pair in proposal.pairs:
                    assignment = await tx.fetchval(
                        "INSERT INTO mentor_assignments(mentor_user_id, team_id, shared_tags, assigned_at, assigned_by)"
                        " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM mentor_assignments WHERE team_id = ?)"
                        " AND EXISTS (SELECT 1 FROM teams WHERE id = ?) RETURNING team_id",
                        (pair.mentor, pair.team_id, json.dumps(list(pair.shared)), now, by, pair.team_id, pair.team_id),
                    )
                    if assignment is not None:
                        written.append(pair)
                        # the introduction in the team's channel, with the assignment (bot/outbox_executors.py)
                        await enqueue(tx, MENTOR_INTRO, f"{MENTOR_INTRO}:{pair.team_id}:{pair.mentor}:{now!r}",
                                      {"team_id": pair.team_id, "mentor": pair.mentor, "shared": list(pair.shared)},
                                      lane=team_lane(pair.team_id))
            return written

        written = await self.store.run(hop)
        if written and self.outbox is not None:
            self.outbox.wake()
        return written

    async def assignments(self) -> list[Pair]:
        rows = await self.store.fetchall(
            "SELECT a.team_id, t.name, a.mentor_user_id, a.shared_tags, t.discord_channel_id FROM mentor_assignments a"
            " JOIN teams t ON t.id = a.team_id ORDER BY t.name_key, a.mentor_user_id"
        )
        return [Pair(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4]) for r in rows]

    async def teams_of(self, mentor: str) -> list[int]:
        """The teams a mentor is assigned to: their conflicts of interest in judging."""
        rows = await self.store.fetchall(
            "SELECT team_id FROM mentor_assignments WHERE mentor_user_id = ? ORDER BY team_id", (mentor,)
        )
        return [r[0] for r in rows]
