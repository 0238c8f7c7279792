"""Judging: judges, their conflicts, the reviews assigned, the score log and each round's results.

Judges are a role: a member with a panel's role (or [discord] judge_role when the event defines
no panel) is a judge of that panel; a judge outside the server is invited by an organizer and
scores on a page reached through a single-use link (the token is stored as its SHA-256 only).

The reviews of a round are planned by bot/core/assignment.py and persisted in
`review_assignments`; the database refuses a review against a conflict of interest (a trigger
over `judge_team_conflicts`: a declared conflict, a recusal, a team the judge mentored or is in,
a shared affiliation), and a conflict declared later ends the reviews it forbids. Planning again
(late projects, late judges) keeps every review already made.

Every score is an event in the append-only `score_events`: changing a score until the round
closes writes a new event, and results are recomputed from the log (a judge's last score of a
team, or last ranking, counts; an organizer's void ends the judge's scores of the round made
before it). The database refuses a score after the round's close and a score of a team the judge
has no open review of. Results come from scoring/jury.py: rubric scores through the additive
model, rankings through Bradley-Terry (Copeland breaks its ties), each with a rank interval from
a bootstrap over judges, and a mark where an interval straddles a prize's cut-off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot.config import LEADERBOARD_SOURCE, EventConfig, JudgingRound
from bot.core import assignment
from bot.core.assignment import Conflict, Judge, Plan, Project, Review, extend_plan
from bot.core.clock import Clock
from bot.core.errors import BadCredentials, BadInput, NotAllowed, NotFound
from bot.core.leaderboard import LeaderboardService
from bot.core.prizes import Standing, rank_standings
from bot.core.projects import EligibleProject, eligible_projects
from bot.core.store import IntegrityError, Store, Tx
from scoring import jury

IMPLICIT_PANEL = "judges"
BOOTSTRAPS = 200
_LEVELS = range(1, 6)


def norm_affiliation(text: str) -> str:
    return " ".join(text.split()).casefold()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def round_seed(round_id: str) -> int:
    """The seed of a round's plan: the same round gives the same plan, in every process."""
    return int.from_bytes(hashlib.sha256(round_id.encode()).digest()[:4], "big")


def judges_per_project(rnd: JudgingRound, projects: int, judges: int) -> int | str:
    """The reviews (judge, project) a round plans per project. A pairwise round's number is the
    comparisons each project is in: a judge with three projects or more compares each with two
    others (`comparison_pairs`), so half as many judges, rounded up, give it that many; when that
    would leave the judges fewer than three projects each (two projects make one comparison), every
    comparison needs its own judge."""
    per = rnd.reviews_per_project
    if rnd.mode == "pairwise" and isinstance(per, int):
        half = max(1, -(-per // 2))
        return half if judges and projects * half >= 3 * judges else per
    return per


def comparison_pairs(round_id: str, judge: str, team_ids: Sequence[int]) -> list[tuple[int, int]]:
    """The comparisons a judge makes in a pairwise round: their projects on a ring, each compared
    with its two neighbours (two projects: one comparison). The ring's order is a hash of the round,
    the judge and the team, so each judge's ring differs (a project meets different opponents
    through each judge) and a project added later enters the ring at one place: one comparison
    becomes two, the others stay."""
    def key(team: int) -> bytes:
        return hashlib.sha256(f"{round_id}\x00{judge}\x00{team}".encode()).digest()

    ring = sorted(set(team_ids), key=key)
    if len(ring) < 2:
        return []
    if len(ring) == 2:
        return [(ring[0], ring[1])]
    return [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]


def pool_final_at(config: EventConfig, rnd: JudgingRound) -> datetime | None:
    """When a round's pool is final (its slots can be booked, requests to pitch close): its source
    closed (the leaderboard: submissions closed; a round: its close; else the projects' deadline),
    at the latest when the round opens."""
    source = rnd.shortlist.source if rnd.shortlist else None
    if source == LEADERBOARD_SOURCE:
        closes = config.submissions.closes
    elif source is not None:
        closes = next((r.closes for r in config.judging.rounds if r.id == source), None)
    else:
        closes = config.projects.closes if config.projects else None
    if rnd.opens is not None:
        return min(rnd.opens, closes or rnd.opens)
    return closes


@dataclass(frozen=True)
class JudgeInfo:
    user_id: str
    name: str
    panels: tuple[str, ...]
    external: bool = False


@dataclass(frozen=True)
class Invitation:
    judge: JudgeInfo
    token: str  # shown once, in the organizer's terminal

    def __repr__(self) -> str:
        return f"Invitation(judge={self.judge!r}, token=<hidden>)"


@dataclass(frozen=True)
class ReviewItem:
    """One team a judge reviews, with what they need to judge it."""

    team_id: int
    team: str
    number: int  # its place in the judge's list of the round (what /judge rank takes)
    project: EligibleProject | None  # None: a team heard without a project (a round from the leaderboard)
    done: bool
    last: dict[str, Any] | None = None  # the judge's last score of it (criteria, checklist), to change it


@dataclass(frozen=True)
class Pair:
    """Two projects a judge of a pairwise round compares: which is better?"""

    first: ReviewItem
    second: ReviewItem
    better: int | None  # the team id the judge chose (their last choice between the two), None: not yet

    @property
    def done(self) -> bool:
        return self.better is not None


@dataclass(frozen=True)
class RoundWork:
    """A judge's work in one round: what /judge next and /judge progress show. In a pairwise
    round the work is the comparisons (`pairs`), not the projects."""

    round: JudgingRound
    items: tuple[ReviewItem, ...]
    closes: datetime | None
    open: bool
    pairs: tuple[Pair, ...] = ()

    @property
    def done(self) -> int:
        if self.round.mode == "pairwise":
            return sum(1 for p in self.pairs if p.done)
        return sum(1 for i in self.items if i.done)

    @property
    def total(self) -> int:
        return len(self.pairs) if self.round.mode == "pairwise" else len(self.items)

    @property
    def next_item(self) -> ReviewItem | None:
        return next((i for i in self.items if not i.done), None)

    @property
    def next_pair(self) -> Pair | None:
        return next((p for p in self.pairs if not p.done), None)


@dataclass(frozen=True)
class Scored:
    round: str
    team: str
    total: float | None  # rubric: the weighted mean of the criteria
    changed: bool  # a score of this team by this judge existed before: this one replaces it
    done: int
    of: int


@dataclass(frozen=True)
class ResultRow:
    team_id: int
    team: str
    rank: int
    estimate: float
    raw_mean: float | None  # rubric: the plain mean of the reviews (for comparison)
    reviews: int
    low: int | None
    high: int | None
    too_close: bool  # its rank interval straddles a cut-off of a prize or a shortlist
    flags: tuple[str, ...] = ()  # checklist items a reviewer marked failed ("no-pretrained: ...")
    calibration: bool = False  # a calibration project: it measures the judges, never wins


@dataclass(frozen=True)
class RoundResults:
    round: str
    mode: str
    rows: tuple[ResultRow, ...]
    cutoffs: tuple[int, ...]
    judges: int
    scores: int
    closed: bool
    offsets: dict[str, float] = field(default_factory=dict)  # rubric: judge name -> generosity

    def standings(self) -> list[Standing]:
        """In order; a calibration project shares the place of the eligible project it equals or
        follows (it takes no place; prizes and shortlists pass it over)."""
        return [Standing(str(r.team_id), r.rank, r.estimate, r.low, r.high) for r in self.rows]


@dataclass(frozen=True)
class CheckFailure:
    """A code-review checklist item a judge marked failed for a team, and the organizers' decision."""

    round: str
    team_id: int
    team: str
    item: str
    text: str  # the rule, as the event file words it
    judges: tuple[str, ...]  # who marked it failed (their last score of the team)
    upheld: bool | None  # None: the organizers have not decided
    reason: str = ""
    decided_by: str = ""

    def describe(self) -> str:
        """One line for the organizers (results, the winners' preview)."""
        head = f"{self.item} failed for {', '.join(self.judges)}"
        if self.upheld is None:
            return f"{head}: awaiting the organizers' decision"
        return f"{head}: {'upheld' if self.upheld else 'dismissed'} by {self.decided_by} ({self.reason})"


@dataclass(frozen=True)
class PitchRequest:
    round: JudgingRound
    team: str
    new: bool  # False: the team had asked already (once a round)
    final_at: datetime | None  # when the round's pool is final (requests close)


@dataclass(frozen=True)
class RoundPlanView:
    round: str
    plan: Plan
    judges: dict[str, str]  # id -> name
    teams: dict[str, str]  # id -> name
    written: int  # reviews added to the database by this call


class JudgingService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, leaderboard: LeaderboardService):
        self.store, self.config, self.clock, self.leaderboard = store, config, clock, leaderboard

    # --- rounds and panels ----------------------------------------------------------------

    def _round(self, round_id: str) -> JudgingRound:
        rnd = self.config.judging.round(round_id)
        if rnd is None:
            known = ", ".join(r.id for r in self.config.judging.rounds) or "none"
            raise NotFound(f"there is no judging round {round_id!r}; the rounds are: {known}")
        return rnd

    def is_open(self, rnd: JudgingRound, now: datetime | None = None) -> bool:
        now = now or self.clock()
        return (rnd.opens is None or rnd.opens <= now) and (rnd.closes is None or now < rnd.closes)

    def panel_roles(self) -> dict[str, str]:
        """Discord role name -> panel id."""
        if not self.config.judging.panels:
            return {self.config.discord.judge_role: IMPLICIT_PANEL}
        return {p.role or self.config.discord.judge_role: p.id for p in self.config.judging.panels}

    def panels_for_roles(self, role_names: Sequence[str]) -> list[str]:
        roles = self.panel_roles()
        return sorted({roles[name] for name in role_names if name in roles})

    def _round_panels(self, rnd: JudgingRound) -> list[str]:
        return [p.id for p in self.config.judging.panels_of(rnd)]

    async def sync_rounds(self) -> None:
        """Give the database the rounds' closes its score-log trigger holds (on every start)."""
        rows = [(r.id, r.mode, r.closes.timestamp() if r.closes else None) for r in self.config.judging.rounds]

        async def hop(tx: Tx) -> None:
            async with tx.transaction():
                await tx.executemany(
                    "INSERT INTO judging_rounds(id, mode, closes) VALUES (?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, closes = excluded.closes", rows)

        if rows:
            await self.store.run(hop)

    # --- judges ---------------------------------------------------------------------------

    async def register(self, user_id: str, name: str, panels: Sequence[str]) -> JudgeInfo:
        """A member with a judge's role, as their roles say now (each /judge command refreshes it)."""
        if not panels:
            roles = ", ".join(repr(r) for r in self.panel_roles()) or "none"
            raise NotAllowed(f"only judges can do this; the organizers give judges one of these roles: {roles}")
        await self.store.execute(
            "INSERT INTO judges(user_id, name, panels, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, panels = excluded.panels",
            (user_id, name.strip()[:100] or user_id, json.dumps(sorted(panels)), self.clock().timestamp()),
        )
        return JudgeInfo(user_id, name, tuple(sorted(panels)))

    async def judge(self, user_id: str) -> JudgeInfo:
        row = await self.store.fetchone("SELECT user_id, name, panels, external FROM judges WHERE user_id = ?", (user_id,))
        if row is None:
            raise NotFound("you are not a judge of this event; the organizers give judges their role")
        return JudgeInfo(row[0], row[1], tuple(json.loads(row[2])), bool(row[3]))

    async def judges(self) -> list[JudgeInfo]:
        rows = await self.store.fetchall("SELECT user_id, name, panels, external FROM judges ORDER BY name, user_id")
        return [JudgeInfo(r[0], r[1], tuple(json.loads(r[2])), bool(r[3])) for r in rows]

    async def invite(self, name: str, panels: Sequence[str], affiliations: Sequence[str] = ()) -> Invitation:
        """A judge outside the server: a single-use link to the judges' page (its token shown once)."""
        known = [p.id for p in self.config.judging.panels] or [IMPLICIT_PANEL]
        unknown = [p for p in panels if p not in known]
        if unknown or not panels:
            raise BadInput(f"name the judge's panels among: {', '.join(known)}")
        if not name.strip():
            raise BadInput("give the judge's name")
        token = secrets.token_urlsafe(24)
        user_id = "ext-" + secrets.token_hex(6)
        await self.store.execute(
            "INSERT INTO judges(user_id, name, panels, external, link_digest, created_at) VALUES (?, ?, ?, 1, ?, ?)",
            (user_id, name.strip()[:100], json.dumps(sorted(panels)), _digest(token), self.clock().timestamp()),
        )
        for affiliation in affiliations:
            await self.add_affiliation(user_id, affiliation)
        return Invitation(JudgeInfo(user_id, name.strip()[:100], tuple(sorted(panels)), True), token)

    async def open_link(self, token: str) -> tuple[JudgeInfo, str]:
        """Spend a judge's single-use link: a session token for the page's cookie, and the judge."""
        if not token or len(token) > 100:
            raise BadCredentials("this judging link is not valid; ask the organizers for a new one")
        session = secrets.token_urlsafe(24)
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> str | None:
            async with tx.transaction():
                row = await tx.fetchone(
                    "UPDATE judges SET link_used_at = ?, session_digest = ? WHERE link_digest = ? AND link_used_at IS NULL"
                    " RETURNING user_id", (now, _digest(session), _digest(token)))
                return None if row is None else str(row[0])

        user_id = await self.store.run(hop)
        if user_id is None:
            raise BadCredentials("this judging link was used already or is not valid; links work once; "
                                 "ask the organizers for a new one")
        return await self.judge(user_id), session

    async def judge_of_session(self, session: str | None) -> JudgeInfo | None:
        if not session or len(session) > 100:
            return None
        user_id = await self.store.fetchval("SELECT user_id FROM judges WHERE session_digest = ?", (_digest(session),))
        return None if user_id is None else await self.judge(user_id)

    async def add_affiliation(self, user_id: str, affiliation: str) -> None:
        key = norm_affiliation(affiliation)
        if not key or len(key) > 100:
            raise BadInput("an affiliation has 1 to 100 characters (a school, an employer, ...)")
        await self.store.execute("INSERT INTO judge_affiliations(user_id, key, name) VALUES (?, ?, ?)"
                                 " ON CONFLICT (user_id, key) DO NOTHING", (user_id, key, affiliation.strip()))

    async def add_team_affiliation(self, team_id: int, affiliation: str) -> None:
        key = norm_affiliation(affiliation)
        if not key or len(key) > 100:
            raise BadInput("an affiliation has 1 to 100 characters (a school, an employer, ...)")
        await self.store.execute("INSERT INTO team_affiliations(team_id, key, name) VALUES (?, ?, ?)"
                                 " ON CONFLICT (team_id, key) DO NOTHING", (team_id, key, affiliation.strip()))

    async def declare_conflict(self, user_id: str, team_id: int, *, recuse: bool = False, note: str = "") -> int:
        """A conflict of interest (or a recusal): the judge's open reviews of that team end (the
        database's trigger); their scores of it stop counting. The reviews ended."""
        reason = "recused" if recuse else "declared"

        async def hop(tx: Tx) -> int:
            async with tx.transaction():
                before = await tx.fetchval("SELECT count(*) FROM review_assignments WHERE judge = ? AND team_id = ?"
                                           " AND active = 1", (user_id, team_id))
                await tx.execute("INSERT INTO judge_conflicts(user_id, team_id, reason, note, at) VALUES (?, ?, ?, ?, ?)"
                                 " ON CONFLICT (user_id, team_id, reason) DO NOTHING",
                                 (user_id, team_id, reason, note.strip()[:500], self.clock().timestamp()))
                return int(before or 0)

        return await self.store.run(hop)

    # --- the pool and the plan ------------------------------------------------------------

    def pool_final(self, rnd: JudgingRound, now: datetime | None = None) -> bool:
        """Whether the round's pool can no longer change (`pool_final_at` passed)."""
        now = now or self.clock()
        final = self.pool_final_at(rnd)
        return final is not None and now >= final

    def pool_final_at(self, rnd: JudgingRound) -> datetime | None:
        return pool_final_at(self.config, rnd)

    async def ask_to_pitch(self, user_id: str, round_id: str | None = None, note: str = "") -> PitchRequest:
        """A team asks to be heard in a round whose shortlist takes requests (`/project pitch`):
        once a round, until the round's pool is final; the pool is then its shortlist plus them."""
        rounds = [r for r in self.config.judging.rounds if r.shortlist is not None and r.shortlist.requests]
        if not rounds:
            raise NotAllowed("no judging round of this event hears teams who ask to pitch")
        if round_id is not None:
            rnd = self._round(round_id)
            if rnd not in rounds:
                raise NotAllowed(f"round {rnd.id} does not take requests to pitch; rounds that do: "
                                 + ", ".join(r.id for r in rounds))
        else:
            rnd = next((r for r in rounds if not self.pool_final(r)), rounds[-1])
        final_at = self.pool_final_at(rnd)
        if self.pool_final(rnd):
            raise NotAllowed(f"the teams heard in {rnd.title or rnd.id} are final since {final_at:%Y-%m-%d %H:%M} UTC; "
                             "requests to pitch are closed" if final_at else "requests to pitch are closed")
        row = await self.store.fetchone("SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id"
                                        " WHERE m.user_id = ?", (user_id,))
        if row is None:
            raise NotAllowed("only a team can ask to pitch; join one (/team join) or create one (/team create) first")
        team_id, team = int(row[0]), str(row[1])
        assert rnd.shortlist is not None
        if rnd.shortlist.source != LEADERBOARD_SOURCE and \
                team_id not in {p.team_id for p in await self.store.run(eligible_projects)}:
            raise NotAllowed("your team has no project in judging; hand one in with /project submit first")
        added = await self.store.execute(
            "INSERT INTO pitch_requests(round, team_id, asked_by, note, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (round, team_id) DO NOTHING",
            (rnd.id, team_id, user_id, note.strip()[:500], self.clock().timestamp()))
        return PitchRequest(rnd, team, bool(added), final_at)

    async def pitch_requests(self, round_id: str) -> dict[int, str]:
        """The teams that asked to be heard in a round: id -> name."""
        rows = await self.store.fetchall("SELECT p.team_id, t.name FROM pitch_requests p JOIN teams t ON t.id = p.team_id"
                                         " WHERE p.round = ? ORDER BY p.team_id", (round_id,))
        return {int(t): str(n) for t, n in rows}

    async def calibration(self, round_id: str | None = None) -> tuple[dict[int, str], list[str]]:
        """The calibration teams of a round (of every round: None), id -> name, and the names in
        the event file that match no team (`hackbot judging check` reports them)."""
        wanted = {" ".join(name.split()).casefold(): name for rnd in self.config.judging.rounds
                  if round_id is None or rnd.id == round_id for name in rnd.calibration}
        if not wanted:
            return {}, []
        rows = await self.store.fetchall("SELECT id, name, name_key FROM teams")
        found = {int(t): str(n) for t, n, key in rows if key in wanted}
        known = {key for _, _, key in rows}
        return found, [name for key, name in sorted(wanted.items()) if key not in known]

    async def pool(self, round_id: str) -> list[Project]:
        """The teams a round judges, as assignment.Project (id: the team id): its calibration
        teams (reviewed by every judge, whatever the pool) and the pool proper."""
        rnd = self._round(round_id)
        eligible = await self.store.run(eligible_projects)
        affiliations = await self._team_affiliations()
        by_team = {p.team_id: p for p in eligible}
        calibration, _ = await self.calibration(round_id)
        # a calibration team of any round competes in no round's pool (nor in any shortlist)
        measuring_anywhere = set((await self.calibration())[0])

        def project(team_id: int, team: str, p: EligibleProject | None) -> Project:
            return Project(str(team_id), f"{team}: {p.title}" if p else team, str(team_id),
                           category=p.category if p else None, opt_ins=frozenset(p.opt_ins) if p else frozenset(),
                           affiliations=frozenset(affiliations.get(team_id, ())), calibration=team_id in measuring_anywhere)

        measuring = [project(t, name, by_team.get(t)) for t, name in sorted(calibration.items())]
        if rnd.shortlist is None:
            chosen = [p for p in eligible if (not rnd.categories or p.category in rnd.categories)
                      and (rnd.opt_in is None or rnd.opt_in in p.opt_ins) and p.team_id not in measuring_anywhere]
            return measuring + [project(p.team_id, p.team_name, p) for p in chosen]
        if rnd.shortlist.source == LEADERBOARD_SOURCE:
            standings = await self.leaderboard.standings(None, organizer=True)
            teams = dict((name, team_id) for team_id, name in await self.store.fetchall("SELECT id, name FROM teams"))
            ranked = [Standing(str(teams[r.team]), r.rank) for r in standings.rows if r.rank is not None and r.team in teams]
            candidates = {str(teams[r.team]): project(teams[r.team], r.team, by_team.get(teams[r.team]))
                          for r in standings.rows if r.team in teams}
        else:
            ranked = (await self.results(rnd.shortlist.source)).standings()
            candidates = {str(p.team_id): project(p.team_id, p.team_name, p) for p in eligible}
        asked = await self.pitch_requests(rnd.id) if rnd.shortlist.requests else {}
        if rnd.shortlist.source == LEADERBOARD_SOURCE:  # a team without a row on the leaderboard may ask too
            for team_id, name in asked.items():
                candidates.setdefault(str(team_id), project(team_id, name, by_team.get(team_id)))
        entries = assignment.shortlist(ranked, candidates, top=rnd.shortlist.top, per_category=rnd.shortlist.per_category,
                                       ties=rnd.shortlist.ties, requests={str(t) for t in asked})
        return measuring + [candidates[e.project] for e in entries]

    async def _team_affiliations(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for team_id, name in await self.store.fetchall("SELECT team_id, name FROM team_affiliations ORDER BY team_id, key"):
            out.setdefault(team_id, []).append(name)
        return out

    async def plan(self, round_id: str, *, write: bool = True) -> RoundPlanView:
        """The round's plan over its pool and judges now, keeping every review already made;
        `write` adds the new reviews to the database (the trigger refuses any conflict)."""
        rnd = self._round(round_id)
        projects = await self.pool(round_id)
        round_panels = self._round_panels(rnd)
        panels = {p.id: p for p in self.config.judging.panels}
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> RoundPlanView:
            async with tx.transaction():
                await tx.lock("judging plan", round_id)
                judges: list[Judge] = []
                names: dict[str, str] = {}
                affiliations: dict[str, set[str]] = {}
                for user_id, name in await tx.fetchall("SELECT user_id, name FROM judge_affiliations"
                                                       " ORDER BY user_id"):
                    affiliations.setdefault(user_id, set()).add(name)
                for user_id, name, panel_json in await tx.fetchall("SELECT user_id, name, panels FROM judges ORDER BY user_id"):
                    theirs = [p for p in round_panels if p in json.loads(panel_json)]
                    if not theirs:
                        continue
                    panel = panels.get(theirs[0])
                    judges.append(Judge(user_id, name, theirs[0],
                                        categories=frozenset(panel.categories) if panel else frozenset(),
                                        opt_in=panel.opt_in if panel else None,
                                        affiliations=frozenset(affiliations.get(user_id, set()))))
                    names[user_id] = name
                conflicts = [Conflict(j, str(t), r) for j, t, r in await tx.fetchall(
                    "SELECT user_id, team_id, reason FROM judge_conflicts")]
                conflicts += [Conflict(j, str(t), "mentored") for j, t in await tx.fetchall(
                    "SELECT mentor_user_id, team_id FROM mentor_assignments")]
                conflicts += [Conflict(j, str(t), "member") for j, t in await tx.fetchall(
                    "SELECT m.user_id, m.team_id FROM team_members m JOIN judges j ON j.user_id = m.user_id")]
                existing_rows = await tx.fetchall("SELECT judge, team_id, calibration FROM review_assignments"
                                                  " WHERE round = ? AND active = 1", (round_id,))
                existing = Plan(tuple(Review(j, str(t), bool(c)) for j, t, c in existing_rows), {}, {}, (), ())
                per = judges_per_project(rnd, len([p for p in projects if not p.calibration]), len(judges))
                plan = extend_plan(existing, projects, judges, per, conflicts, round_seed(round_id))
                have = {(j, str(t)) for j, t, _ in existing_rows}
                new = [r for r in plan.reviews if (r.judge, r.project) not in have]
                if write:
                    for review in new:
                        await tx.execute(
                            "INSERT INTO review_assignments(round, judge, team_id, calibration, active, ended, assigned_at)"
                            " VALUES (?, ?, ?, ?, 1, '', ?) ON CONFLICT (round, judge, team_id)"
                            " DO UPDATE SET active = 1, ended = ''",
                            (round_id, review.judge, int(review.project), int(review.calibration), now))
                return RoundPlanView(round_id, plan, names, {p.id: p.name for p in projects}, len(new) if write else 0)

        return await self.store.run(hop)

    async def check(self, round_id: str | None = None) -> list[str]:
        """`hackbot judging check`: each project that would end a round with fewer reviews than it
        needs (no judge without a conflict, too few judges), named with the reason."""
        problems: list[str] = []
        for rnd in self.config.judging.rounds:
            if round_id is not None and rnd.id != round_id:
                continue
            try:
                view = await self.plan(rnd.id, write=False)
            except NotFound as exc:  # an earlier round without results yet
                problems.append(f"round {rnd.id}: {exc}")
                continue
            if not view.plan.panels and view.teams:
                problems.append(f"round {rnd.id}: no judge yet for {len(view.teams)} project(s); give judges the role of "
                                f"panel(s) {', '.join(self._round_panels(rnd))}")
                continue
            problems += [f"round {rnd.id}: {line}" for line in view.plan.problems()]
            _, unknown = await self.calibration(rnd.id)
            problems += [f"round {rnd.id}: calibration team {name!r} is not a team of the event; create it (with its "
                         "project) or fix the name in the event file" for name in unknown]
        return problems

    # --- a judge's work ---------------------------------------------------------------------

    async def work(self, user_id: str, *, plan: bool = True) -> list[RoundWork]:
        """The judge's reviews in each round of their panels, in the event file's order; open
        rounds are planned first, so that late judges and late projects are balanced in."""
        judge = await self.judge(user_id)
        now = self.clock()
        out = []
        for rnd in self.config.judging.rounds:
            if not set(judge.panels) & set(self._round_panels(rnd)):
                continue
            is_open = self.is_open(rnd, now)
            if plan and is_open:
                with contextlib.suppress(NotFound):  # its shortlist's round has no results yet: nothing to review
                    await self.plan(rnd.id)
            out.append(await self.store.run(self._work, rnd, user_id, is_open))
        return out

    async def _work(self, tx: Tx, rnd: JudgingRound, user_id: str, is_open: bool) -> RoundWork:
        rows = await tx.fetchall("SELECT a.team_id, t.name FROM review_assignments a JOIN teams t ON t.id = a.team_id"
                                 " WHERE a.round = ? AND a.judge = ? AND a.active = 1 ORDER BY a.team_id", (rnd.id, user_id))
        events = await self._events(tx, rnd.id, user_id)
        latest: dict[int, dict[str, Any]] = {}
        ranking: list[int] | None = None
        chosen: dict[frozenset[int], int] = {}
        for _, _, team_id, kind, payload in events:
            if kind == "score":
                latest[team_id] = json.loads(payload)
            elif kind == "ranking":
                ranking = json.loads(payload)["order"]
            elif kind == "choice":
                chosen[frozenset((team_id, json.loads(payload)["worse"]))] = team_id
        projects = {p.team_id: p for p in await eligible_projects(tx)}
        pairs = comparison_pairs(rnd.id, user_id, [t for t, _ in rows]) if rnd.mode == "pairwise" else []
        items = []
        for n, (team_id, name) in enumerate(rows, start=1):
            if rnd.mode == "rubric":
                done = team_id in latest
            elif rnd.mode == "pairwise":
                done = all(frozenset(p) in chosen for p in pairs if team_id in p)
            else:
                done = ranking is not None and team_id in ranking
            items.append(ReviewItem(team_id, name, n, projects.get(team_id), done, latest.get(team_id)))
        by_team = {i.team_id: i for i in items}
        return RoundWork(rnd, tuple(items), rnd.closes, is_open,
                         tuple(Pair(by_team[a], by_team[b], chosen.get(frozenset((a, b)))) for a, b in pairs))

    async def _events(self, tx: Tx, round_id: str, judge: str | None = None) -> list[tuple]:
        """The round's score events that count: those after each judge's last void."""
        where, params = ("round = ? AND judge = ?", (round_id, judge)) if judge else ("round = ?", (round_id,))
        rows = await tx.fetchall(f"SELECT id, judge, team_id, kind, payload FROM score_events WHERE {where} ORDER BY id", params)
        last_void: dict[str, int] = {}
        for event_id, who, _, kind, _ in rows:
            if kind == "void":
                last_void[who] = event_id
        return [r for r in rows if r[3] != "void" and r[0] > last_void.get(r[1], 0)]

    async def _judges_round(self, user_id: str, round_id: str | None, mode: tuple[str, ...],
                            team_id: int | None = None) -> JudgingRound:
        """The open round a judge acts in: the one named, else, when several rounds of this kind are
        open at once (NumHack's initial review and the Modal award), the one holding this judge's
        review (of this team, when given)."""
        if round_id is None:
            candidates = [r for r in self.config.judging.rounds if r.mode in mode and self.is_open(r)]
            if len(candidates) > 1:
                sql = "SELECT DISTINCT round FROM review_assignments WHERE judge = ? AND active = 1"
                params: list[object] = [user_id]
                if team_id is not None:
                    sql += " AND team_id = ?"
                    params.append(team_id)
                mine = {row[0] for row in await self.store.fetchall(sql, params)}
                theirs = [r for r in candidates if r.id in mine]
                if theirs:
                    round_id = theirs[0].id
        return self._open_round(round_id, mode)

    def _open_round(self, round_id: str | None, mode: tuple[str, ...]) -> JudgingRound:
        if round_id:
            rnd = self._round(round_id)
        else:
            candidates = [r for r in self.config.judging.rounds if r.mode in mode and self.is_open(r)]
            if not candidates:
                raise NotAllowed("no judging round of this kind is open now; /judge progress shows your rounds")
            rnd = candidates[0]
        if rnd.mode not in mode:
            how = {"rubric": "score it with /judge score", "ranking": "rank its projects with /judge rank",
                   "pairwise": "compare its projects two by two with /judge choose"}[rnd.mode]
            raise BadInput(f"round {rnd.id} is a {rnd.mode} round; {how}")
        if not self.is_open(rnd):
            when = rnd.opens if rnd.opens and self.clock() < rnd.opens else rnd.closes
            state = "opens" if rnd.opens and self.clock() < rnd.opens else "closed"
            raise NotAllowed(f"round {rnd.id} is not open: it {state} {when:%Y-%m-%d %H:%M} UTC" if when
                             else f"round {rnd.id} is not open")
        return rnd

    def parse_criteria(self, rnd: JudgingRound, text: str) -> dict[str, int]:
        """'4 3 5 2 4' (the criteria in the form's order) or 'innovation=4 impact=3 ...'."""
        ids = [c.id for c in rnd.criteria]
        form = ", ".join(f"{c.id} ({c.title})" for c in rnd.criteria)
        parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
        out: dict[str, int] = {}
        if parts and all("=" in p or ":" in p for p in parts):
            for part in parts:
                key, _, value = part.replace(":", "=").partition("=")
                if key.strip().lower() not in ids:
                    raise BadInput(f"{key!r} is not a criterion of round {rnd.id}; its criteria: {form}")
                out[key.strip().lower()] = self._level(value, key)
        else:
            if len(parts) != len(ids):
                raise BadInput(f"give {len(ids)} scores from 1 to 5, one per criterion in this order: {form} "
                               f"(e.g. {' '.join('4' for _ in ids)}); you gave {len(parts)}")
            out = {cid: self._level(value, cid) for cid, value in zip(ids, parts, strict=True)}
        missing = [c for c in ids if c not in out]
        if missing:
            raise BadInput(f"score every criterion: {', '.join(missing)} missing (1 to 5 each)")
        return out

    @staticmethod
    def _level(value: str, criterion: str) -> int:
        try:
            level = int(value.strip())
        except ValueError:
            raise BadInput(f"{criterion}: {value!r} is not a score; write a whole number from 1 to 5") from None
        if level not in _LEVELS:
            raise BadInput(f"{criterion}: {level} is outside the scale; write a whole number from 1 to 5")
        return level

    def parse_checklist(self, rnd: JudgingRound, text: str) -> dict[str, bool]:
        """'pass pass fail' (the checklist's order) or 'no-pretrained=fail ...'; empty: not given."""
        if not rnd.checklist or not text.strip():
            return {}
        ids = [c.id for c in rnd.checklist]
        words = {"pass": True, "ok": True, "yes": True, "p": True, "fail": False, "no": False, "f": False}
        parts = [p for p in re.split(r"[\s,;]+", text.strip().lower()) if p]
        pairs = [p.replace(":", "=").partition("=") for p in parts]
        if all(sep for _, sep, _ in pairs):
            named = {k: v for k, _, v in pairs}
        elif len(parts) == len(ids):
            named = dict(zip(ids, parts, strict=True))
        else:
            raise BadInput(f"give pass or fail for each rule in this order: {', '.join(ids)}")
        out = {}
        for key, value in named.items():
            if key not in ids or value not in words:
                raise BadInput(f"{key}={value}: write pass or fail for the rules {', '.join(ids)}")
            out[key] = words[value]
        return out

    async def score(self, user_id: str, team: str | int, criteria: str | dict[str, int], *, round_id: str | None = None,
                    checklist: str | dict[str, bool] = "", note: str = "") -> Scored:
        """Score a team in a rubric round (a new event; an earlier score of it stops counting)."""
        team_id, team_name = await self._team(team)
        rnd = await self._judges_round(user_id, round_id, ("rubric",), team_id)
        levels = criteria if isinstance(criteria, dict) else self.parse_criteria(rnd, criteria)
        for cid, level in levels.items():
            self._level(str(level), cid)
        checks = checklist if isinstance(checklist, dict) else self.parse_checklist(rnd, checklist)
        payload = json.dumps({"criteria": levels, "checklist": checks}, sort_keys=True)
        total = float(jury.review_scores([[levels[c.id] for c in rnd.criteria]], rnd.weights)[0])

        async def hop(tx: Tx) -> tuple[bool, int, int]:
            async with tx.transaction():
                before = await self._events(tx, rnd.id, user_id)
                try:
                    await tx.execute("INSERT INTO score_events(round, judge, team_id, kind, payload, note, actor, at)"
                                     " VALUES (?, ?, ?, 'score', ?, ?, ?, ?)",
                                     (rnd.id, user_id, team_id, payload, note.strip()[:1000], user_id,
                                      self.clock().timestamp()))
                except IntegrityError as exc:
                    raise self._refusal(exc, rnd, team_name) from None
                scored = {t for _, _, t, kind, _ in before if kind == "score"} | {team_id}
                assigned = {r[0] for r in await tx.fetchall(
                    "SELECT team_id FROM review_assignments WHERE round = ? AND judge = ? AND active = 1", (rnd.id, user_id))}
                return team_id in {t for _, _, t, _, _ in before}, len(scored & assigned), len(assigned)

        changed, done, of = await self.store.run(hop)
        return Scored(rnd.id, team_name, total, changed, done, of)

    async def rank(self, user_id: str, order: str | Sequence[int], *, round_id: str | None = None, note: str = "") -> Scored:
        """Rank the judge's teams of a ranking round, best first: '3 1 2' names them by their numbers
        in /judge next's list. A new ranking replaces the judge's last."""
        rnd = await self._judges_round(user_id, round_id, ("ranking",))
        work = await self.store.run(self._work, rnd, user_id, True)
        by_number = {i.number: i for i in work.items}
        if isinstance(order, str):
            try:
                numbers = [int(p) for p in re.split(r"[\s,;>]+", order.strip()) if p]
            except ValueError:
                raise BadInput("list the numbers of your projects, best first, e.g. 3 1 2 (/judge next lists them)") from None
        else:
            numbers = list(order)
        if sorted(numbers) != sorted(by_number) or not numbers:
            raise BadInput(f"rank every one of your {len(by_number)} projects exactly once, best first, by their numbers "
                           f"(1 to {len(by_number)}); /judge next lists them")
        teams = [by_number[n].team_id for n in numbers]

        async def hop(tx: Tx) -> None:
            try:
                await tx.execute("INSERT INTO score_events(round, judge, kind, payload, note, actor, at)"
                                 " VALUES (?, ?, 'ranking', ?, ?, ?, ?)",
                                 (rnd.id, user_id, json.dumps({"order": teams}), note.strip()[:1000], user_id,
                                  self.clock().timestamp()))
            except IntegrityError as exc:
                raise self._refusal(exc, rnd, "") from None

        await self.store.run(hop)
        return Scored(rnd.id, ", ".join(by_number[n].team for n in numbers), None, work.done > 0, len(teams), len(teams))

    async def choose(self, user_id: str, better: str | int, worse: str | int, *, round_id: str | None = None,
                     note: str = "") -> Scored:
        """A judge of a pairwise round says which of two of their projects is better (a new event of
        the log; their last choice between the same two counts, until the round closes)."""
        better_id, better_name = await self._team(better)
        worse_id, worse_name = await self._team(worse)
        if better_id == worse_id:
            raise BadInput("compare two different projects: /judge next shows your next pair")
        rnd = await self._judges_round(user_id, round_id, ("pairwise",), better_id)
        work = await self.store.run(self._work, rnd, user_id, True)
        mine = {i.team_id for i in work.items}
        for team_id, name in ((better_id, better_name), (worse_id, worse_name)):
            if team_id not in mine:
                raise NotAllowed(f"{name} is not one of your projects in round {rnd.id} (or you recused yourself); "
                                 "/judge next shows your next pair")
        pair = frozenset((better_id, worse_id))
        changed = any(frozenset((p.first.team_id, p.second.team_id)) == pair and p.done for p in work.pairs)

        async def hop(tx: Tx) -> None:
            try:
                await tx.execute("INSERT INTO score_events(round, judge, team_id, kind, payload, note, actor, at)"
                                 " VALUES (?, ?, ?, 'choice', ?, ?, ?, ?)",
                                 (rnd.id, user_id, better_id, json.dumps({"worse": worse_id}), note.strip()[:1000],
                                  user_id, self.clock().timestamp()))
            except IntegrityError as exc:
                raise self._refusal(exc, rnd, f"{better_name} or {worse_name}") from None

        await self.store.run(hop)
        after = await self.store.run(self._work, rnd, user_id, True)
        return Scored(rnd.id, f"{better_name} over {worse_name}", None, changed, after.done, after.total)

    @staticmethod
    def _refusal(exc: IntegrityError, rnd: JudgingRound, team: str) -> Exception:
        if "closed" in exc.message:
            return NotAllowed(f"round {rnd.id} is closed: scores can no longer change")
        if "no open review" in exc.message:
            return NotAllowed(f"{team} is not one of your reviews in round {rnd.id} (or you recused yourself); "
                              "/judge next shows yours")
        return NotAllowed(f"the score was refused: {exc.message}")

    async def _team(self, team: str | int) -> tuple[int, str]:
        if isinstance(team, int) or str(team).isdigit():
            row = await self.store.fetchone("SELECT id, name FROM teams WHERE id = ?", (int(team),))
        else:
            row = await self.store.fetchone("SELECT id, name FROM teams WHERE name_key = ?",
                                            (" ".join(str(team).split()).casefold(),))
        if row is None:
            raise NotFound(f"no team {team!r}; /judge next shows the teams you review")
        return int(row[0]), str(row[1])

    async def void(self, round_id: str, judge: str, reason: str, by: str) -> int:
        """An organizer voids a judge's scores of a round so far (an event of the log); the number voided."""
        self._round(round_id)
        if not reason.strip():
            raise BadInput("say why the scores are voided (the reason is kept in the log)")
        await self.judge(judge)

        async def hop(tx: Tx) -> int:
            async with tx.transaction():
                counted = await self._events(tx, round_id, judge)
                await tx.execute("INSERT INTO score_events(round, judge, kind, note, actor, at) VALUES (?, ?, 'void', ?, ?, ?)",
                                 (round_id, judge, reason.strip()[:1000], by, self.clock().timestamp()))
                return len(counted)

        return await self.store.run(hop)

    # --- reminders before the close -------------------------------------------------------

    def remind_at(self, rnd: JudgingRound) -> datetime | None:
        """When judges with open reviews are reminded: a fifth of the window before the close, at
        most a day before."""
        if rnd.closes is None:
            return None
        lead = timedelta(days=1)
        if rnd.opens is not None:
            lead = min(lead, (rnd.closes - rnd.opens) / 5)
        return rnd.closes - lead

    async def claim_reminders(self) -> list[tuple[JudgeInfo, RoundWork]]:
        """The judges to remind now (open reviews, the round closing soon), each claimed once per round."""
        now = self.clock()
        due = []
        for rnd in self.config.judging.rounds:
            at = self.remind_at(rnd)
            if at is None or now < at or not self.is_open(rnd, now):
                continue
            panels = set(self._round_panels(rnd))
            for judge in await self.judges():
                if judge.external or not panels & set(judge.panels):
                    continue
                work = await self.store.run(self._work, rnd, judge.user_id, True)
                if work.done >= work.total:
                    continue
                claimed = await self.store.execute(
                    "INSERT INTO judge_reminders(round, judge, sent_at) VALUES (?, ?, ?) ON CONFLICT (round, judge) DO NOTHING",
                    (rnd.id, judge.user_id, now.timestamp()))
                if claimed:
                    due.append((judge, work))
        return due

    # --- results ----------------------------------------------------------------------------

    def cutoffs(self, round_id: str) -> tuple[int, ...]:
        """The places that decide something from this round: its prizes' and its shortlists'."""
        cuts = {p.places for p in self.config.prizes if p.source == round_id}
        cuts |= {r.shortlist.top for r in self.config.judging.rounds if r.shortlist and r.shortlist.source == round_id}
        return tuple(sorted(cuts))

    async def results(self, round_id: str) -> RoundResults:
        """The round's ranked results, recomputed from the score log."""
        rnd = self._round(round_id)
        events, names, judges, flags = await self.store.run(self._results_inputs, round_id)
        measuring = set((await self.calibration())[0])
        cutoffs = self.cutoffs(round_id)
        closed = rnd.closes is not None and self.clock() >= rnd.closes
        team_ids = sorted(names)
        t_index = {t: i for i, t in enumerate(team_ids)}
        judge_ids = sorted({e[0] for e in events})
        j_index = {j: i for i, j in enumerate(judge_ids)}
        rows: list[ResultRow] = []
        offsets: dict[str, float] = {}
        if rnd.mode == "rubric":
            scored = [(j, t, p) for j, t, p in events if t in t_index]
            if scored:
                matrix = [[p["criteria"].get(c.id, np.nan) for c in rnd.criteria] for _, _, p in scored]
                y = jury.review_scores(matrix, rnd.weights)
                proj = np.array([t_index[t] for _, t, _ in scored])
                jud = np.array([j_index[j] for j, _, _ in scored])
                fit, intervals = jury.rank_intervals_additive(proj, jud, y, len(team_ids), len(judge_ids),
                                                              n_boot=BOOTSTRAPS, seed=round_seed(round_id))
                raw = jury.raw_mean(proj, y, len(team_ids))
                offsets = {judges.get(j, j): float(fit.offset[k]) for j, k in j_index.items()}
                rows = self._rows(team_ids, names, fit.quality, raw, intervals, cutoffs, fit.reviews, flags, measuring)
        elif rnd.mode == "pairwise":
            choices = [(j, better, worse) for j, better, worse in events if better in t_index and worse in t_index]
            if choices:
                winner = np.array([t_index[b] for _, b, _ in choices], dtype=np.int64)
                loser = np.array([t_index[w] for _, _, w in choices], dtype=np.int64)
                jud = np.array([j_index[j] for j, _, _ in choices], dtype=np.int64)
                intervals = jury.rank_intervals_pairwise(winner, loser, jud, len(team_ids), len(judge_ids),
                                                         n_boot=BOOTSTRAPS, seed=round_seed(round_id))
                cope = jury.copeland(winner, loser, len(team_ids))
                counts = np.bincount(np.concatenate([winner, loser]), minlength=len(team_ids))
                rows = self._rows(team_ids, names, intervals.estimate, cope, intervals, cutoffs, counts, flags,
                                  measuring, raw_is_mean=False)
        else:
            rankings = [[t_index[t] for t in order if t in t_index] for _, order in events]
            if rankings:
                winner, loser, jud = jury.rankings_to_pairs(rankings, [j_index[j] for j, _ in events], n_projects=len(team_ids))
                intervals = jury.rank_intervals_pairwise(winner, loser, jud, len(team_ids), len(judge_ids),
                                                         n_boot=BOOTSTRAPS, seed=round_seed(round_id))
                cope = jury.copeland(winner, loser, len(team_ids))
                counts = np.zeros(len(team_ids), dtype=np.int64)
                for ranking in rankings:
                    counts[ranking] += 1
                rows = self._rows(team_ids, names, intervals.estimate, cope, intervals, cutoffs, counts, flags,
                                  measuring, raw_is_mean=False)
        return RoundResults(round_id, rnd.mode, tuple(rows), cutoffs, len(judge_ids), len(events), closed, offsets)

    def _rows(self, team_ids: list[int], names: dict[int, str], estimate: np.ndarray, secondary: np.ndarray,
              intervals: jury.RankIntervals, cutoffs: tuple[int, ...], reviews: np.ndarray, flags: dict[int, list[str]],
              measuring: set[int], *, raw_is_mean: bool = True) -> list[ResultRow]:
        # places, intervals and cut-offs count the projects that can win only: a calibration project
        # takes no place (the k-th rank is the k-th eligible project), and is shown where it would fall
        eligible = np.array([t not in measuring for t in team_ids], dtype=bool)
        intervals = jury.ranks_among(intervals, eligible)
        close = np.zeros(len(team_ids), dtype=bool)
        for cut in cutoffs:
            close |= jury.too_close_to_call(intervals, cut)
        kept = [i for i in range(len(team_ids)) if eligible[i]]
        standings = rank_standings([str(team_ids[i]) for i in kept], estimate[kept], secondary[kept],
                                   low=intervals.low[kept], high=intervals.high[kept])
        index = {str(t): i for i, t in enumerate(team_ids)}
        rows = []
        for s in standings:
            i = index[s.project]
            rows.append(ResultRow(team_ids[i], names[team_ids[i]], s.rank, float(estimate[i]),
                                  float(secondary[i]) if raw_is_mean and not np.isnan(secondary[i]) else None,
                                  int(reviews[i]), s.low, s.high, bool(close[i]), tuple(flags.get(team_ids[i], ()))))
        better = np.round(estimate[kept], jury.RANK_DECIMALS)
        for i in range(len(team_ids)):
            if eligible[i] or np.isnan(estimate[i]):
                continue
            rank = 1 + int(np.sum(better > round(float(estimate[i]), jury.RANK_DECIMALS)))
            rows.append(ResultRow(team_ids[i], names[team_ids[i]], rank, float(estimate[i]),
                                  float(secondary[i]) if raw_is_mean and not np.isnan(secondary[i]) else None,
                                  int(reviews[i]), None, None, False, tuple(flags.get(team_ids[i], ())), True))
        rows.sort(key=lambda r: (r.rank, -round(r.estimate, jury.RANK_DECIMALS), r.calibration, r.team))
        return rows

    async def _results_inputs(self, tx: Tx, round_id: str) -> tuple[list[tuple], dict[int, str], dict[str, str], dict]:
        events = await self._events(tx, round_id)
        active = {(j, t) for j, t in await tx.fetchall(
            "SELECT judge, team_id FROM review_assignments WHERE round = ? AND active = 1", (round_id,))}
        names = {int(t): n for t, n in await tx.fetchall(
            "SELECT DISTINCT t.id, t.name FROM review_assignments a JOIN teams t ON t.id = a.team_id WHERE a.round = ?",
            (round_id,))}
        judges = dict(await tx.fetchall("SELECT user_id, name FROM judges"))
        latest_score: dict[tuple[str, int], dict] = {}
        latest_rank: dict[str, list[int]] = {}
        latest_choice: dict[tuple[str, frozenset[int]], tuple[int, int]] = {}
        for _, judge, team_id, kind, payload in events:
            if kind == "score" and (judge, team_id) in active:
                latest_score[(judge, team_id)] = json.loads(payload)
            elif kind == "ranking":
                latest_rank[judge] = [t for t in json.loads(payload)["order"] if (judge, t) in active]
            elif kind == "choice":
                worse = int(json.loads(payload)["worse"])
                if (judge, team_id) in active and (judge, worse) in active:  # a recusal ends both sides' choices
                    latest_choice[(judge, frozenset((team_id, worse)))] = (team_id, worse)
        flags: dict[int, list[str]] = {}
        for failure in self._failures(round_id, latest_score, names, judges,
                                      await tx.fetchall("SELECT team_id, item, upheld, reason, decided_by"
                                                        " FROM checklist_rulings WHERE round = ?", (round_id,))):
            flags.setdefault(failure.team_id, []).append(failure.describe())
        if latest_score:
            return [(j, t, p) for (j, t), p in sorted(latest_score.items())], names, judges, flags
        if latest_choice:
            return [(j, b, w) for (j, _), (b, w) in sorted(latest_choice.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1])))], \
                names, judges, flags
        return [(j, order) for j, order in sorted(latest_rank.items()) if len(order) >= 1], names, judges, flags

    # --- the code review: checklist failures and the organizers' decisions -------------------

    def _failures(self, round_id: str, latest_score: dict[tuple[str, int], dict], names: dict[int, str],
                  judges: dict[str, str], rulings: Sequence[tuple]) -> list[CheckFailure]:
        rnd = self._round(round_id)
        texts = {c.id: c.text for c in rnd.checklist}
        failed: dict[tuple[int, str], list[str]] = {}
        for (judge, team_id), payload in sorted(latest_score.items()):
            for item, passed in sorted(payload.get("checklist", {}).items()):
                if not passed:
                    failed.setdefault((team_id, item), []).append(judges.get(judge, judge))
        decided = {(int(t), str(i)): (bool(u), str(r), str(b)) for t, i, u, r, b in rulings}
        out = []
        for (team_id, item), who in sorted(failed.items()):
            upheld, reason, by = decided.get((team_id, item), (None, "", ""))
            out.append(CheckFailure(round_id, team_id, names.get(team_id, str(team_id)), item, texts.get(item, item),
                                    tuple(who), upheld, reason, judges.get(by, by)))
        return out

    async def check_failures(self, round_id: str | None = None) -> list[CheckFailure]:
        """Every checklist item a judge marked failed (their last score of the team counts), with the
        organizers' decision, in the rounds with a checklist."""
        out: list[CheckFailure] = []
        for rnd in self.config.judging.rounds:
            if not rnd.checklist or (round_id is not None and rnd.id != round_id):
                continue

            async def hop(tx: Tx, rid: str = rnd.id) -> list[CheckFailure]:
                events = await self._events(tx, rid)
                active = {(j, t) for j, t in await tx.fetchall(
                    "SELECT judge, team_id FROM review_assignments WHERE round = ? AND active = 1", (rid,))}
                latest = {(j, t): json.loads(p) for _, j, t, kind, p in events if kind == "score" and (j, t) in active}
                names = {int(t): str(n) for t, n in await tx.fetchall("SELECT id, name FROM teams")}
                judges = dict(await tx.fetchall("SELECT user_id, name FROM judges"))
                rulings = await tx.fetchall("SELECT team_id, item, upheld, reason, decided_by FROM checklist_rulings"
                                            " WHERE round = ?", (rid,))
                return self._failures(rid, latest, names, judges, rulings)

            out += await self.store.run(hop)
        return out

    async def rule(self, round_id: str, team: str | int, item: str, *, upheld: bool, reason: str, by: str) -> CheckFailure:
        """The organizers decide on a checklist item judges marked failed: upheld, the team wins no
        prize (the reason shown in the winners' preview); dismissed, no consequence. Changeable
        until the prizes are frozen."""
        rnd = self._round(round_id)
        items = [c.id for c in rnd.checklist]
        if item not in items:
            raise BadInput(f"{item!r} is not a rule of round {rnd.id}'s checklist; its rules: {', '.join(items) or 'none'}")
        if not reason.strip():
            raise BadInput("say why (the reason is shown to the organizers with the prizes)")
        team_id, name = await self._team(team)
        failure = next((f for f in await self.check_failures(round_id) if f.team_id == team_id and f.item == item), None)
        if failure is None:
            raise NotAllowed(f"no judge marked {item} failed for {name} in round {rnd.id}; nothing to decide")
        await self.store.execute(
            "INSERT INTO checklist_rulings(round, team_id, item, upheld, reason, decided_by, decided_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (round, team_id, item) DO UPDATE SET upheld = excluded.upheld,"
            " reason = excluded.reason, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            (round_id, team_id, item, int(upheld), reason.strip()[:500], by, self.clock().timestamp()))
        return next(f for f in await self.check_failures(round_id) if f.team_id == team_id and f.item == item)

    async def code_review(self) -> tuple[dict[int, str], dict[int, str]]:
        """What the code review means for the prizes: the teams excluded (an upheld failure) and the
        teams awaiting a decision, each with the reason (team id -> text)."""
        excluded: dict[int, str] = {}
        pending: dict[int, str] = {}
        for f in await self.check_failures():
            if f.upheld:
                excluded.setdefault(f.team_id, f"code review, {f.item} ({f.text}): {f.reason}")
            elif f.upheld is None:
                pending.setdefault(f.team_id, f"{f.team}: {f.item} marked failed by {', '.join(f.judges)}; "
                                              f"decide it with `hackbot judging rule {f.round} {f.team!r} {f.item} "
                                              "--uphold|--dismiss --reason ...`")
        return excluded, pending

    # --- export -----------------------------------------------------------------------------

    async def export(self) -> dict[str, Any]:
        """Scores by judge and by project, the model's estimates, ranks with intervals, and the
        raw log. Never a judge's link or session."""
        out: dict[str, Any] = {"rounds": []}
        judges = {j.user_id: j.name for j in await self.judges()}
        team_names = {int(t): str(n) for t, n in await self.store.fetchall("SELECT id, name FROM teams")}
        for rnd in self.config.judging.rounds:
            results = await self.results(rnd.id)
            log = await self.store.fetchall(
                "SELECT e.id, e.judge, e.team_id, t.name, e.kind, e.payload, e.note, e.actor, e.at FROM score_events e"
                " LEFT JOIN teams t ON t.id = e.team_id WHERE e.round = ? ORDER BY e.id", (rnd.id,))
            by_judge: dict[str, dict[str, Any]] = {}
            by_project: dict[str, dict[str, Any]] = {}
            async def counted(tx: Tx, round_id: str = rnd.id) -> list[tuple]:
                return await self._events(tx, round_id)
            for _, judge, team_id, kind, payload in await self.store.run(counted):
                name = judges.get(judge, judge)
                if kind == "score":
                    team = next((r[3] for r in log if r[2] == team_id), str(team_id))
                    by_judge.setdefault(name, {})[team] = json.loads(payload)
                    by_project.setdefault(team, {})[name] = json.loads(payload)
                elif kind == "choice":  # every choice, in the log's order (a later one between the same two counts)
                    better, worse = team_names.get(team_id, str(team_id)), team_names.get(json.loads(payload)["worse"], "")
                    by_judge.setdefault(name, {}).setdefault("choices", []).append({"better": better, "worse": worse})
                    for team in (better, worse):
                        by_project.setdefault(team, {}).setdefault(name, []).append({"better": better, "worse": worse})
                else:
                    by_judge.setdefault(name, {})["ranking"] = json.loads(payload)["order"]
            out["rounds"].append({
                "id": rnd.id, "mode": rnd.mode, "closed": results.closed,
                "results": [{"team": r.team, "rank": r.rank, "estimate": r.estimate, "raw_mean": r.raw_mean,
                             "reviews": r.reviews, "rank_interval": [r.low, r.high], "too_close_to_call": r.too_close,
                             "flags": list(r.flags), "calibration": r.calibration} for r in results.rows],
                "judge_offsets": results.offsets, "scores_by_judge": by_judge, "scores_by_project": by_project,
                "log": [{"id": r[0], "judge": judges.get(r[1], r[1]), "team": r[3], "kind": r[4],
                         "payload": _named(json.loads(r[5]), team_names), "note": r[6], "actor": judges.get(r[7], r[7]),
                         "at": datetime.fromtimestamp(r[8], UTC).isoformat()} for r in log],
            })
        return out


def _named(payload: dict[str, Any], teams: dict[int, str]) -> dict[str, Any]:
    """A log payload for the export: a choice's other team by name, beside its id."""
    if "worse" in payload:
        return {**payload, "worse_team": teams.get(int(payload["worse"]), str(payload["worse"]))}
    return payload
