"""Public votes ([[votes]]): one ballot per person, cast in Discord (/vote) or on the web page
with a single-use ballot code, counted once the vote is closed (issue 13).

The rules of who may vote and which ballots look stuffed are in bot/core/vote_rules.py; the
counting is in scoring/vote.py. This module holds the ballots (migration 0011):

- **One ballot per person.** A voter is `discord:<id>` in Discord; a code holder is the attendee
  the code was made for: `discord:<id>` when the attendee list gives their Discord id (then both
  doors hold ONE ballot between them), else `email:<digest>`. `ballots` has one row per (vote,
  voter): a new ballot replaces it until the close.
- **Nothing is dropped.** Every ballot cast goes to `ballot_log` with its outcome: counted,
  unverified (a check could not run: counted apart and shown) or refused with its reasons
  (a new account, joined after the vote opened, the voter's own team, an unknown or used code).
  The refusal is written before the voter is told.
- **Codes.** `import_codes` makes one random code per attendee (60 bits), returns it once, and
  stores only its SHA-256. A code casts one ballot: it is spent by a guarded UPDATE in the
  ballot's transaction, and a trigger refuses to spend it twice.
- **The close** freezes the vote: `closed_at` and the ballot's projects (`pool`) are written once,
  by `/vote close`, `hackbot vote close`, or the first use after the close time, whichever comes
  first; after it the database refuses to write, change or delete a ballot.
- **Results** (`vote_standings`) exist only once the vote is closed; before, the page, the API
  and Discord show turnout only (unless the vote's `results = "live"`).

Ties (bot/core/prizes.py): projects rank by points (approvals, votes, or Borda points), then by
the number of ballots that name them; equal on both, they share the rank.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from bot.config import EventConfig, Vote
from bot.core.clock import Clock, fmt_utc
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.outbox import enqueue
from bot.core.prizes import Standing
from bot.core.projects import EligibleProject, eligible_projects
from bot.core.store import Store, Tx
from bot.core.vote_rules import (
    BallotEvent,
    BallotFlag,
    DiscordVoter,
    Eligibility,
    Refusal,
    account_created,
    check_choices,
    check_open,
    check_voter,
    flag_ballots,
    flags_by_ballot,
)
from scoring import vote as counting

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or off a badge
CODE_LENGTH = 12  # 60 bits
MAX_ATTENDEES = 100_000

Status = Literal["counted", "unverified", "refused"]


# --- values the doors render ------------------------------------------------------------------

@dataclass(frozen=True)
class BallotReceipt:
    """A ballot recorded (counted, or unverified: counted apart)."""

    vote: Vote
    status: Literal["counted", "unverified"]
    choices: tuple[str, ...]  # the projects' titles, in the voter's order
    replaced: bool  # it replaced the voter's earlier ballot
    cast_at: datetime
    closes_at: datetime
    message: str  # for an unverified ballot: why it is counted apart

    def __repr__(self) -> str:
        return f"BallotReceipt(vote={self.vote.id!r}, status={self.status!r}, replaced={self.replaced})"


class BallotRefused(NotAllowed):
    """A ballot refused for a reason the voter is told; it is stored in the log with the reason."""

    def __init__(self, message: str, reasons: Sequence[Refusal]):
        super().__init__(message)
        self.reasons = tuple(reasons)


@dataclass(frozen=True)
class VoteState:
    vote: Vote
    opens_at: datetime  # the effective opening (earlier when an organizer opened it early)
    closes_at: datetime  # the effective close (earlier when an organizer closed it early)
    opened_at: datetime | None  # when /vote open posted it
    closed_at: datetime | None  # frozen at
    now: datetime

    @property
    def phase(self) -> Literal["not open", "open", "closed"]:
        if self.closed_at is not None or self.now >= self.closes_at:
            return "closed"
        return "open" if self.now >= self.opens_at else "not open"

    @property
    def results_public(self) -> bool:
        """Whether anyone may see the ranking: live results; after the close, a vote that decides no
        prize. A prize's vote is revealed with the winners (no winner is public before its reveal)."""
        if self.vote.results == "live" and self.phase != "not open":
            return True
        return self.closed_at is not None and self.vote.prize is None


@dataclass(frozen=True)
class Result:
    project: int
    title: str
    team: str
    rank: int
    points: int
    votes: int  # ballots naming it


@dataclass(frozen=True)
class VoteStatus:
    state: VoteState
    counted: int  # standing ballots counted
    unverified: int  # standing ballots counted apart
    results: tuple[Result, ...] | None  # None while hidden

    @property
    def turnout(self) -> int:
        return self.counted + self.unverified


@dataclass(frozen=True)
class Candidate:
    id: int
    title: str
    team: str


@dataclass(frozen=True)
class ProjectReport:
    project: int
    title: str
    team: str
    counted: int
    unverified: int
    flagged: int  # standing ballots naming it that carry a flag (they still count)
    refused: dict[str, int]  # reason code -> distinct voters refused while naming it


@dataclass(frozen=True)
class VoteReport:
    state: VoteState
    projects: tuple[ProjectReport, ...]
    refused: dict[str, int]  # reason code -> ballots refused (all, including those naming no project)
    flags: tuple[BallotFlag, ...]
    ballots_cast: int  # every entry of the log
    standing: int  # one per voter
    replaced: int  # ballots replaced by a later one

    def as_dict(self) -> dict[str, Any]:
        return {
            "vote": self.state.vote.id, "phase": self.state.phase, "ballots_cast": self.ballots_cast,
            "standing": self.standing, "replaced": self.replaced, "refused": dict(self.refused),
            "flags": [{"kind": f.code, "message": f.message, "ballots": len(f.ballot_ids)} for f in self.flags],
            "projects": [{"id": p.project, "title": p.title, "team": p.team, "counted": p.counted,
                          "unverified": p.unverified, "flagged": p.flagged, "refused": dict(p.refused)}
                         for p in self.projects],
        }


@dataclass(frozen=True)
class IssuedCode:
    line: int
    name: str
    email: str
    discord_id: str
    code: str  # secret: written once to the organizers' file, never logged

    def __repr__(self) -> str:
        return f"IssuedCode(line={self.line}, name={self.name!r}, code=<hidden>)"


@dataclass(frozen=True)
class CodeImport:
    vote: Vote
    issued: list[IssuedCode]
    already: int  # attendees who hold a code from an earlier import (not shown again)
    errors: list[tuple[int, str]]  # (line, reason)
    total: int  # codes of this vote now


@dataclass
class _Attempt:
    """What a ballot hop decided, returned to the service (which raises after the commit)."""

    status: Status | Literal["closed", "not open"]
    message: str = ""
    reasons: tuple[Refusal, ...] = ()
    replaced: bool = False
    choices: tuple[str, ...] = ()
    state: VoteState | None = None


# --- small helpers ----------------------------------------------------------------------------

def _ts(when: datetime) -> float:
    return when.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def normalize_code(code: str) -> str:
    """A code as typed ("k7qm 3xpa-9wzd") -> as issued ("K7QM3XPA9WZD")."""
    return "".join(c for c in code.upper() if c.isalnum())


def code_digest(code: str) -> bytes:
    return hashlib.sha256(normalize_code(code).encode("ascii", "replace")).digest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def address_digest(address: str | None) -> str | None:
    """What the log keeps of a client's address: enough to see one code used from many places."""
    if not address:
        return None
    return hashlib.sha256(("hackbot-vote-address:" + address).encode()).hexdigest()[:16]


def _email_key(email: str) -> str:
    return "email:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]


async def ballot_pool(tx: Tx, vote: Vote) -> list[EligibleProject]:
    """The projects on a vote's ballot: the eligible projects of its categories (all when none)."""
    categories = vote.categories
    if not categories:
        return await eligible_projects(tx)
    pool: list[EligibleProject] = []
    for category in categories:
        pool += await eligible_projects(tx, category=category)
    return sorted(pool, key=lambda p: p.id)


VOTE_OPEN = "vote.open"  # outbox kinds of the votes' posts in the announcements channel
VOTE_CLOSE = "vote.close"


def vote_lane(vote_id: str) -> str:
    return f"vote:{vote_id}"


async def _state_row(tx: Tx, vote_id: str, *, share: bool = False) -> tuple | None:
    sql = "SELECT opens_at, closes_at, opened_at, closed_at, kind, max_choices, pool FROM vote_state WHERE id = ?"
    if share and tx.dialect == "postgres":
        sql += " FOR SHARE"  # a close (an UPDATE of this row) waits for the ballots in flight, and they for it
    return await tx.fetchone(sql, (vote_id,))


def _state(vote: Vote, row: tuple, now: datetime) -> VoteState:
    opens_at, closes_at, opened_at, closed_at = row[0], row[1], row[2], row[3]
    effective_open = min(opens_at, opened_at) if opened_at is not None else opens_at
    effective_close = closed_at if closed_at is not None else closes_at
    return VoteState(vote, _dt(effective_open), _dt(effective_close), _dt(opened_at), _dt(closed_at),  # type: ignore[arg-type]
                     now)


async def _freeze(tx: Tx, vote: Vote, row: tuple, now: datetime, by: str) -> None:
    """Close the vote (inside the caller's transaction): its time and its ballot, written once."""
    if row[3] is not None:
        return
    closed_at = min(_ts(now), float(row[1]))
    pool = [p.id for p in await ballot_pool(tx, vote)]
    await tx.execute("UPDATE vote_state SET closed_at = ?, closed_by = ?, pool = ? WHERE id = ? AND closed_at IS NULL",
                     (closed_at, by, json.dumps(pool), vote.id))


async def sync_votes(tx: Tx, config: EventConfig) -> None:
    """Give the database each vote's kind and times (not once it is closed: its result is frozen)."""
    async with tx.transaction():
        for vote in config.votes:
            await tx.execute(
                "INSERT INTO vote_state(id, kind, max_choices, opens_at, closes_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, max_choices = excluded.max_choices,"
                " opens_at = excluded.opens_at, closes_at = excluded.closes_at WHERE vote_state.closed_at IS NULL",
                (vote.id, vote.kind, vote.max_choices, _ts(vote.opens), _ts(vote.closes)),
            )


# --- counting -----------------------------------------------------------------------------------

def standings_of(kind: str, max_choices: int | None, pool: Sequence[int],
                 ballots: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """(project, rank, points, votes) for every project of the pool, best first: points, then
    the number of ballots naming it; equal on both, a shared (competition) rank."""
    index = {project: i for i, project in enumerate(pool)}
    rows = [[index[c] for c in ballot if c in index] for ballot in ballots]  # a project off the ballot is skipped
    n = len(pool)
    width = max([len(r) for r in rows] + [max_choices or 1, 1])
    matrix = counting.ballot_matrix(rows, n, width)
    tally = counting.count_borda(matrix, n, width) if kind == "ranked" else counting.count_approval(matrix, n, width)
    points = tally.points
    votes = np.bincount(matrix[matrix >= 0], minlength=n).astype(np.int64) if n else np.zeros(0, np.int64)
    order = sorted(range(n), key=lambda i: (-int(points[i]), -int(votes[i]), pool[i]))
    out: list[tuple[int, int, int, int]] = []
    for pos, i in enumerate(order, start=1):
        rank = out[-1][1] if out and out[-1][2] == int(points[i]) and out[-1][3] == int(votes[i]) else pos
        out.append((pool[i], rank, int(points[i]), int(votes[i])))
    return out


async def _counted_standings(tx: Tx, vote_id: str) -> tuple[tuple, list[tuple[int, int, int, int]]] | None:
    row = await tx.fetchone("SELECT closed_at, kind, max_choices, pool FROM vote_state WHERE id = ?", (vote_id,))
    if row is None or row[0] is None:
        return None
    ballots = [json.loads(r[0]) for r in await tx.fetchall(
        "SELECT choices FROM ballots WHERE vote = ? AND status = 'counted' ORDER BY log_id", (vote_id,))]
    return row, standings_of(row[1], row[2], json.loads(row[3]), ballots)


async def vote_standings(tx: Tx, vote_id: str) -> list[Standing] | None:
    """The result of a closed vote from its counted ballots (unverified and refused ones apart),
    best first: Standing(project=str(project id), rank, score=points); None while it is not closed."""
    counted = await _counted_standings(tx, vote_id)
    if counted is None:
        return None
    return [Standing(project=str(p), rank=rank, score=float(points)) for p, rank, points, _ in counted[1]]


# --- the attendee list --------------------------------------------------------------------------

_EMAIL = ("email", "e-mail", "mail", "email address")
_DISCORD = ("discord_id", "discord id", "discord", "discord user id")
_NAME = ("name", "full name", "attendee", "attendee name")


def parse_attendees(text: str) -> tuple[list[tuple[int, str, str, str]], list[tuple[int, str]]]:
    """(line, name, email, discord id) per attendee of a CSV with a header naming an email and/or
    a Discord id column; bad lines as (line, reason)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise BadInput("the attendee file is empty; give a CSV with a header line (name, email, discord_id)")
    header = [h.strip().casefold() for h in rows[0]]

    def column(names: tuple[str, ...]) -> int | None:
        return next((i for i, h in enumerate(header) if h in names), None)

    email_col, discord_col, name_col = column(_EMAIL), column(_DISCORD), column(_NAME)
    if email_col is None and discord_col is None:
        raise BadInput(f"the attendee file's header ({', '.join(rows[0]) or 'empty'}) names no `email` and no "
                       "`discord_id` column; a code is made for an attendee known by one of them")
    if len(rows) - 1 > MAX_ATTENDEES:
        raise BadInput(f"{len(rows) - 1} attendees: more than {MAX_ATTENDEES}; split the file")
    out: list[tuple[int, str, str, str]] = []
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(col: int | None, row: list[str] = row) -> str:
            return row[col].strip() if col is not None and col < len(row) else ""

        email, discord_id, name = cell(email_col), cell(discord_col), cell(name_col)[:100]
        if discord_id and not discord_id.isdigit():
            errors.append((line, "the Discord id is not a number (a user id, from Developer Mode's Copy User ID)"))
            continue
        if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
            errors.append((line, "the email address is not one"))
            continue
        if not email and not discord_id:
            errors.append((line, "neither an email nor a Discord id"))
            continue
        key = f"discord:{discord_id}" if discord_id else _email_key(email)
        if key in seen:
            errors.append((line, "the same attendee twice in the file"))
            continue
        seen.add(key)
        out.append((line, name, email, discord_id))
    return out, errors


# --- the service ------------------------------------------------------------------------------

class VoteService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock

    def vote(self, vote_id: str) -> Vote:
        for vote in self.config.votes:
            if vote.id.casefold() == vote_id.strip().casefold():
                return vote
        known = ", ".join(v.id for v in self.config.votes) or "none (add [[votes]] to the event file)"
        raise NotFound(f"no vote {vote_id!r}; the event's votes: {known}")

    def default_vote(self, vote_id: str | None = None) -> Vote:
        """The vote named, else the only one, else the one open now (by the event file's times)."""
        if vote_id:
            return self.vote(vote_id)
        votes = self.config.votes
        if not votes:
            raise NotFound("this event holds no vote")
        if len(votes) == 1:
            return votes[0]
        now = self.clock()
        open_now = [v for v in votes if v.opens <= now < v.closes]
        if len(open_now) == 1:
            return open_now[0]
        raise BadInput(f"name the vote: {', '.join(v.id for v in votes)}")

    # --- reading ---

    async def state(self, vote_id: str) -> VoteState:
        vote = self.vote(vote_id)
        now = self.clock()
        if now >= vote.closes:
            await self.close(vote.id, by="the close time")  # frozen by the first use after the close time
        row = await self.store.run(_state_row, vote.id)
        if row is None:
            raise NotFound(f"the vote {vote.id!r} is not in the database yet; restart the bot to load the event file")
        return _state(vote, row, now)

    async def candidates(self, vote_id: str) -> list[Candidate]:
        """The ballot: the projects one may vote for (the frozen ballot once closed)."""
        vote = self.vote(vote_id)

        async def hop(tx: Tx) -> list[Candidate]:
            pool = await ballot_pool(tx, vote)
            frozen = await tx.fetchval("SELECT pool FROM vote_state WHERE id = ?", (vote.id,))
            if frozen is not None:
                keep = set(json.loads(frozen))
                pool = [p for p in pool if p.id in keep]
            return [Candidate(p.id, p.title, p.team_name) for p in pool]

        return await self.store.run(hop)

    async def status(self, vote_id: str, *, organizer: bool = False) -> VoteStatus:
        """Turnout, and the ranking when it may be shown: to organizers once the vote is closed; to
        everyone when `results_public`."""
        state = await self.state(vote_id)
        visible = state.results_public or (organizer and state.closed_at is not None)

        async def hop(tx: Tx) -> tuple[dict[str, int], tuple[Result, ...] | None]:
            turnout = dict(await tx.fetchall("SELECT status, count(*) FROM ballots WHERE vote = ? GROUP BY status",
                                             (state.vote.id,)))
            if not visible:
                return turnout, None
            names = {p.id: (p.title, p.team_name) for p in await ballot_pool(tx, state.vote)}
            if state.closed_at is not None:
                counted = await _counted_standings(tx, state.vote.id)
                assert counted is not None
                rows = counted[1]
            else:
                ballots = [json.loads(r[0]) for r in await tx.fetchall(
                    "SELECT choices FROM ballots WHERE vote = ? AND status = 'counted'", (state.vote.id,))]
                rows = standings_of(state.vote.kind, state.vote.max_choices, sorted(names), ballots)
            return turnout, tuple(Result(p, *names.get(p, (f"project {p}", "")), rank, points, votes)
                                  for p, rank, points, votes in rows)

        turnout, results = await self.store.run(hop)
        return VoteStatus(state, int(turnout.get("counted", 0)), int(turnout.get("unverified", 0)), results)

    async def results(self, vote_id: str, *, organizer: bool = False) -> tuple[Result, ...]:
        status = await self.status(vote_id, organizer=organizer)
        if status.results is None:
            raise NotAllowed(hidden_text(status.state))
        return status.results

    # --- opening and closing ---

    async def open(self, vote_id: str, by: str) -> VoteState:
        """Open the vote now if its time has not come (an organizer opens it early); an open vote
        stays as it is. Its announcement (link, QR code, button) is an outbox row written with it,
        once per opening (kind vote.open, in the vote's lane)."""
        vote = self.vote(vote_id)
        now = self.clock()

        async def hop(tx: Tx) -> tuple:
            async with tx.transaction():
                row = await _state_row(tx, vote.id)
                if row is None:
                    raise NotFound(f"the vote {vote.id!r} is not in the database yet; restart the bot")
                if row[3] is not None or now.timestamp() >= row[1]:
                    raise NotAllowed(f"{vote.title} closed at {fmt_utc(_dt(row[3] if row[3] is not None else row[1]))}"  # type: ignore[arg-type]
                                     "; a closed vote does not open again")
                if row[2] is None:
                    await tx.execute("UPDATE vote_state SET opened_at = ?, opened_by = ? WHERE id = ?",
                                     (now.timestamp(), by, vote.id))
                row = await _state_row(tx, vote.id)
                assert row is not None
                await enqueue(tx, VOTE_OPEN, f"{VOTE_OPEN}:{vote.id}:{row[2]!r}",
                              {"vote_id": vote.id, "closes_at": row[1]}, lane=vote_lane(vote.id))
                return row

        return _state(vote, await self.store.run(hop), now)

    async def close(self, vote_id: str, by: str) -> VoteState:
        """Freeze the vote: its close time and its ballot, once; no ballot is written after."""
        vote = self.vote(vote_id)
        now = self.clock()

        async def hop(tx: Tx) -> tuple:
            async with tx.transaction():
                await tx.lock("vote", vote.id)
                row = await _state_row(tx, vote.id)
                if row is None:
                    raise NotFound(f"the vote {vote.id!r} is not in the database yet; restart the bot")
                if row[3] is None:
                    if now.timestamp() < row[0] and (row[2] is None or now.timestamp() < row[2]):
                        raise NotAllowed(f"{vote.title} has not opened yet (it opens at {fmt_utc(vote.opens)})")
                    await _freeze(tx, vote, row, now, by)
                    # the public turnout (results when they may be shown), posted once (kind vote.close)
                    await enqueue(tx, VOTE_CLOSE, f"{VOTE_CLOSE}:{vote.id}", {"vote_id": vote.id},
                                  lane=vote_lane(vote.id))
                return await _state_row(tx, vote.id)  # type: ignore[return-value]

        return _state(vote, await self.store.run(hop), now)

    # --- casting ---

    async def cast_discord(self, vote_id: str | None, user_id: int, joined_at: datetime | None,
                           choices: Sequence[int]) -> BallotReceipt:
        """A ballot from Discord: the member's id (its account age), when they joined the server
        (None when Discord did not say), and their choices (project ids, best first when ranked)."""
        vote = self.default_vote(vote_id)
        now = self.clock()
        voter = f"discord:{user_id}"

        async def hop(tx: Tx) -> _Attempt:
            async with tx.transaction():
                opened = await self._opened(tx, vote, now)
                if isinstance(opened, _Attempt):
                    return opened
                state, pool = opened
                names = {p.id: p.title for p in pool}
                picked = check_choices(list(choices), list(names), vote.kind, vote.max_choices, names)
                own = await _own_projects(tx, str(user_id))
                eligibility = check_voter(
                    DiscordVoter(user_id, joined_at, own), picked, vote.voter_rules(),
                    opens_at=state.opens_at, closes_at=state.closes_at, now=now, names=names, code_door=vote.codes,
                )
                return await _record(tx, vote, voter, "discord", picked, eligibility, now, names,
                                     account=account_created(user_id))

        return self._outcome(vote, await self.store.run(hop))

    async def cast_code(self, vote_id: str, code: str, choices: Sequence[int], address: str | None) -> BallotReceipt:
        """A ballot from the web page with a ballot code; `address` is the client's (kept as a digest)."""
        vote = self.vote(vote_id)
        if not vote.codes:
            raise NotAllowed(f"{vote.title} takes ballots in Discord only (/vote cast)")
        if not normalize_code(code):
            raise BadInput("type your ballot code (it is on your badge or in the organizers' email)")
        digest = code_digest(code)
        where = address_digest(address)
        now = self.clock()

        async def hop(tx: Tx) -> _Attempt:
            async with tx.transaction():
                opened = await self._opened(tx, vote, now)
                if isinstance(opened, _Attempt):
                    return opened
                state, pool = opened
                names = {p.id: p.title for p in pool}
                picked = check_choices(list(choices), list(names), vote.kind, vote.max_choices, names)
                row = await tx.fetchone("SELECT id, voter, used_at FROM vote_codes WHERE vote = ? AND digest = ?",
                                        (vote.id, digest))
                code_key = digest.hex()[:16]
                if row is None:
                    refusal = Refusal("code_unknown", "this ballot code is not one of this vote's codes; check it "
                                                      "(letters and digits, dashes optional) or ask the organizers")
                    return await _record(tx, vote, f"unknown:{code_key}", "web", picked,
                                         Eligibility((refusal,)), now, names, code=code_key, address=where)
                voter = str(row[1])
                if row[2] is None and voter.startswith("discord:") and vote.eligibility.exclude_own_team:
                    own = await _own_projects(tx, voter.removeprefix("discord:"))
                    mine = [c for c in picked if c in own]
                    if mine:  # refused before the code is spent: it can still cast a ballot without them
                        refusal = Refusal("own_team", f"you cannot vote for your own team's project "
                                                      f"({', '.join(names[c] for c in mine)}); remove it from your ballot")
                        return await _record(tx, vote, voter, "web", picked, Eligibility((refusal,)), now, names,
                                             code=code_key, address=where)
                spent = await tx.fetchval(  # one guarded write: of two ballots with one code, one spends it
                    "UPDATE vote_codes SET used_at = ? WHERE id = ? AND used_at IS NULL RETURNING id",
                    (now.timestamp(), row[0]),
                )
                if spent is None:
                    used_at = await tx.fetchval("SELECT used_at FROM vote_codes WHERE id = ?", (row[0],))
                    refusal = Refusal("code_used", f"this ballot code was already used at {fmt_utc(_dt(used_at))}; "  # type: ignore[arg-type]
                                                   "each code casts one ballot")
                    return await _record(tx, vote, voter, "web", picked, Eligibility((refusal,)), now, names,
                                         code=code_key, address=where)
                return await _record(tx, vote, voter, "web", picked, Eligibility(), now, names,
                                     code=code_key, address=where)

        return self._outcome(vote, await self.store.run(hop))

    async def _opened(self, tx: Tx, vote: Vote, now: datetime) -> tuple[VoteState, list[EligibleProject]] | _Attempt:
        row = await _state_row(tx, vote.id, share=True)
        if row is None:
            raise NotFound(f"the vote {vote.id!r} is not in the database yet; restart the bot")
        if row[3] is None and now.timestamp() >= row[1]:
            await _freeze(tx, vote, row, now, "the close time")
            row = await _state_row(tx, vote.id)
            assert row is not None
        state = _state(vote, row, now)
        try:
            check_open(state.opens_at, state.closes_at, now)
        except NotAllowed as refused:
            return _Attempt("closed" if state.phase == "closed" else "not open", refused.message)
        return state, await ballot_pool(tx, vote)

    def _outcome(self, vote: Vote, attempt: _Attempt) -> BallotReceipt:
        if attempt.status in ("closed", "not open"):
            raise NotAllowed(f"{vote.title}: {attempt.message}")
        if attempt.status == "refused":
            raise BallotRefused(f"your ballot for {vote.title} is refused: {attempt.message}", attempt.reasons)
        assert attempt.state is not None and attempt.status in ("counted", "unverified")
        return BallotReceipt(vote, attempt.status, attempt.choices, attempt.replaced, attempt.state.now,
                             attempt.state.closes_at, attempt.message)

    # --- codes ---

    async def import_codes(self, vote_id: str, text: str) -> CodeImport:
        """One code per attendee not holding one yet; the codes come back once (only digests stay)."""
        vote = self.vote(vote_id)
        if not vote.codes:
            raise BadInput(f"{vote.title} has no web door: set `codes = true` in its [[votes]] entry first")
        attendees, errors = parse_attendees(text)
        now = self.clock().timestamp()
        planned = [(line, name, email, discord_id, new_code()) for line, name, email, discord_id in attendees]

        async def hop(tx: Tx) -> tuple[list[int], int]:
            async with tx.transaction():
                made: list[int] = []
                for k, (_, _, email, discord_id, code) in enumerate(planned):
                    voter = f"discord:{discord_id}" if discord_id else _email_key(email)
                    added = await tx.fetchval(
                        "INSERT INTO vote_codes(vote, digest, voter, imported_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (vote, voter) DO NOTHING RETURNING id",
                        (vote.id, code_digest(code), voter, now),
                    )
                    if added is not None:
                        made.append(k)
                total = int(await tx.fetchval("SELECT count(*) FROM vote_codes WHERE vote = ?", (vote.id,)))
                return made, total

        made, total = await self.store.run(hop)
        issued = [IssuedCode(planned[k][0], planned[k][1], planned[k][2], planned[k][3], planned[k][4]) for k in made]
        return CodeImport(vote, issued, len(planned) - len(made), errors, total)

    # --- the organizers' report ---

    async def report(self, vote_id: str) -> VoteReport:
        state = await self.state(vote_id)
        vote = state.vote

        async def hop(tx: Tx) -> tuple[list[EligibleProject], list[tuple], list[tuple]]:
            pool = await ballot_pool(tx, vote)
            log = await tx.fetchall(
                "SELECT id, voter, choices, status, reasons, cast_at, account_created, code, address"
                " FROM ballot_log WHERE vote = ? ORDER BY id", (vote.id,))
            standing = await tx.fetchall("SELECT log_id, choices, status FROM ballots WHERE vote = ?", (vote.id,))
            return pool, log, standing

        pool, log, standing = await self.store.run(hop)
        names = {p.id: p.title for p in pool}
        events = [BallotEvent(r[0], r[1], _dt(r[5]), tuple(json.loads(r[2])), _dt(r[6]), r[7], r[8])  # type: ignore[arg-type]
                  for r in log if r[3] != "refused" or r[7] is not None]
        flags = flag_ballots(events, vote.flag_policy(), names)
        flagged_ids = flags_by_ballot(flags)
        counted: Counter[int] = Counter()
        unverified: Counter[int] = Counter()
        flagged: Counter[int] = Counter()
        for log_id, choices, status in standing:
            for project in json.loads(choices):
                (counted if status == "counted" else unverified)[project] += 1
                if log_id in flagged_ids:
                    flagged[project] += 1
        refused_by: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        refused_total: Counter[str] = Counter()
        for r in log:
            if r[3] != "refused":
                continue
            reasons = [code for code, _ in json.loads(r[4])]
            for reason in reasons:
                refused_total[reason] += 1
                for project in json.loads(r[2]):
                    refused_by[project][reason].add(r[1])
        projects = tuple(
            ProjectReport(p.id, p.title, p.team_name, counted[p.id], unverified[p.id], flagged[p.id],
                          {reason: len(voters) for reason, voters in sorted(refused_by[p.id].items())})
            for p in pool
        )
        replaced = sum(1 for r in log if r[3] != "refused") - len(standing)
        return VoteReport(state, projects, dict(sorted(refused_total.items())), tuple(flags), len(log),
                          len(standing), replaced)


async def _own_projects(tx: Tx, user_id: str) -> frozenset[int]:
    rows = await tx.fetchall(
        "SELECT p.id FROM team_members m JOIN projects p ON p.team_id = m.team_id WHERE m.user_id = ?", (user_id,))
    return frozenset(int(r[0]) for r in rows)


async def _record(tx: Tx, vote: Vote, voter: str, door: str, picked: tuple[int, ...], eligibility: Eligibility,
                  now: datetime, names: dict[int, str], *, account: datetime | None = None, code: str | None = None,
                  address: str | None = None) -> _Attempt:
    """Log the ballot with its outcome; a ballot not refused becomes the voter's standing ballot."""
    status: Status = "counted" if eligibility.status == "eligible" else eligibility.status
    reasons = eligibility.refusals if status == "refused" else eligibility.unverified
    log_id = await tx.fetchval(
        "INSERT INTO ballot_log(vote, voter, door, choices, status, reasons, cast_at, account_created, code, address)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (vote.id, voter, door, json.dumps(list(picked)), status, json.dumps([[r.code, r.message] for r in reasons]),
         now.timestamp(), None if account is None else account.timestamp(), code, address),
    )
    state_row = await _state_row(tx, vote.id)
    assert state_row is not None
    state = _state(vote, state_row, now)
    titles = tuple(names[c] for c in picked)
    if status == "refused":
        return _Attempt("refused", eligibility.message, tuple(reasons), state=state, choices=titles)
    replacements = await tx.fetchval(  # one statement: of two first ballots at once, one inserts, one replaces
        "INSERT INTO ballots(vote, voter, log_id, door, choices, status, cast_at, first_cast_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (vote, voter) DO UPDATE SET log_id = excluded.log_id,"
        " door = excluded.door, choices = excluded.choices, status = excluded.status, cast_at = excluded.cast_at,"
        " replacements = ballots.replacements + 1 RETURNING replacements",
        (vote.id, voter, log_id, door, json.dumps(list(picked)), status, now.timestamp(), now.timestamp()),
    )
    replaced = int(replacements) > 0
    return _Attempt(status, eligibility.message, tuple(reasons), replaced, titles, state)


def seconds_left(state: VoteState) -> int:
    return max(0, math.ceil((state.closes_at - state.now).total_seconds()))


def hidden_text(state: VoteState) -> str:
    """Why the ranking is not shown, in words for everyone."""
    if state.closed_at is None:
        return f"the results of {state.vote.title} are hidden until the vote closes ({fmt_utc(state.closes_at)})"
    return f"{state.vote.title} closed at {fmt_utc(state.closed_at)}; its result is revealed with the winners"
