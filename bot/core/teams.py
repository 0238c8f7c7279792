"""Teams, their members and their HTTP API credentials.

API passwords are server-generated random tokens (192 bits), shown once and stored only as
SHA-256 digests: a slow password hash buys nothing against a random token and would cap the
API at a few dozen requests a second. Digests are compared in constant time.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import EventConfig
from bot.core.clock import Clock
from bot.core.clock import fmt_utc as _fmt
from bot.core.errors import AlreadyDone, BadCredentials, BadInput, NotAllowed, NotFound
from bot.core.outbox import Outbox, enqueue
from bot.core.store import Dialect, IntegrityError, Store, Tx

_DUMMY_DIGEST = hashlib.sha256(b"no such team").digest()


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    username: str
    validated: bool


@dataclass(frozen=True)
class TeamInfo:
    team: Team
    members: list[str]  # user ids, the captain first
    captain: str | None
    join_code: str  # shown to members only
    is_open: bool
    discord_role_id: int | None
    discord_channel_id: int | None


@dataclass(frozen=True)
class Departure:
    team: Team
    disbanded: bool  # the last member left (a team with results stays on the leaderboard)
    new_captain: str | None  # who became captain, if the captain left
    discord_role_id: int | None = None  # the team's Discord objects, to remove them when it disbands
    discord_channel_id: int | None = None


@dataclass(frozen=True)
class NewCredentials:
    team: Team
    password: str  # shown once; only its digest is stored

    def __repr__(self) -> str:
        return f"NewCredentials(team={self.team!r}, password=<hidden>)"


def digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


def new_password() -> str:
    return secrets.token_urlsafe(24)


def new_join_code() -> str:
    return secrets.token_hex(4)


def username_for(name: str) -> str:
    """"Awesome Team!" -> "awesome_team": what the Hackathon42 scripts put in `username`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    return slug[:40] or "team"


# The order members joined in, for equal join times: SQLite's rowid, PostgreSQL's identity column.
JOIN_ORDER: dict[Dialect, str] = {"sqlite": "rowid", "postgres": "seq"}


def member_order(dialect: Dialect) -> str:
    """ORDER BY of a team's members: the captain first, then in the order they joined."""
    return f"is_captain DESC, joined_at, {JOIN_ORDER[dialect]}"


LOGIN_COLUMNS = "id, name, username, validated, password_digest"  # what verify() reads, in this order


def verify(row: Sequence[Any] | None, password_digest: bytes) -> Team | None:
    """The team of a row selected by username with LOGIN_COLUMNS first (None: no such username),
    if the password's digest matches; constant time in the password."""
    stored = row[4] if row else _DUMMY_DIGEST
    ok = hmac.compare_digest(stored, password_digest)
    return Team(row[0], row[1], row[2], bool(row[3])) if (row and ok) else None


def login_name(username: str) -> str:
    """A username as a login looks it up: a NUL byte (no username has one; PostgreSQL's text
    cannot hold it) becomes U+FFFD, an unknown username on both databases."""
    return username.replace("\x00", "\ufffd")


async def check_credentials(tx: Tx, username: str, password_digest: bytes) -> Team | None:
    """The team whose credentials these are, or None; constant time in the password."""
    row = await tx.fetchone(f"SELECT {LOGIN_COLUMNS} FROM teams WHERE username = ?", (login_name(username),))
    return verify(row, password_digest)


async def size_bound(tx: Tx, config: EventConfig) -> int:
    """The team-size bound the database holds (the event file's max_size, synced on start by
    this or another process), which its trigger enforces; the event file's before any sync."""
    bound = await tx.fetchval("SELECT max_size FROM team_limits WHERE id = 1")
    return config.teams.max_size if bound is None else int(bound)


async def lock_teams(tx: Tx) -> None:
    """Inside a transaction: one team is created at a time (its name and username are checked
    free, then taken)."""
    await tx.lock("teams")


async def insert_team(tx: Tx, name: str, password: str, *, validated: bool, now: float) -> Team:
    """Write a new team row: a unique API username derived from its name, the password's digest,
    a join code. The one place a team comes into being (/team create, matchmaking); the caller
    is in a transaction, holds lock_teams, and has checked the name is free."""
    base = username_for(name)
    username, n = base, 1
    while await tx.fetchone("SELECT 1 FROM teams WHERE username = ?", (username,)):
        n += 1
        username = f"{base}_{n}"
    team_id = await tx.fetchval(
        "INSERT INTO teams(name, name_key, username, password_digest, validated, created_at, join_code)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (name, name.casefold(), username, digest(password), int(validated), now, new_join_code()),
    )
    return Team(team_id, name, username, validated)


def bad_login() -> BadCredentials:
    return BadCredentials("wrong username or password; ask your team for the API credentials")


def _team(row: tuple) -> Team:
    return Team(row[0], row[1], row[2], bool(row[3]))


# Discord side effects of team changes (bot/outbox_executors.py runs them), one lane a team so
# that a team's space is made before a member is let in, and a member let in before let out.
SPACE, JOIN, LEAVE, DISBAND, RENAME = "team.space", "team.join", "team.leave", "team.disband", "team.rename"


def team_lane(team_id: int) -> str:
    return f"team:{team_id}"


async def enqueue_team(tx: Tx, kind: str, team_id: int, now: float, **payload: object) -> None:
    """A team's Discord side effect, in the transaction of the change: the change commits once, so
    its side effect is enqueued once. The key names the change and is unique by a random part (a
    team id can come back on SQLite after a delete, and a clock can read the same time twice)."""
    who = payload.get("user_id") or payload.get("captain") or ""
    await enqueue(tx, kind, f"{kind}:{team_id}:{who}:{secrets.token_hex(8)}",
                  {"team_id": team_id, "at": now, **payload}, lane=team_lane(team_id))


class TeamService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, outbox: Outbox | None = None):
        self.store, self.config, self.clock = store, config, clock
        self.outbox = outbox or Outbox(store)

    async def create(self, name: str, *, validated: bool = False, captain: str | None = None) -> NewCredentials:
        name = " ".join(name.split())
        if not 1 <= len(name) <= 64:
            raise BadInput("a team name has 1 to 64 characters; choose another name")
        if captain is not None:
            self._check_formation_open()
        password = new_password()
        now = self.clock().timestamp()

        async def create(tx: Tx) -> Team:
            async with tx.transaction():
                await lock_teams(tx)
                if await tx.fetchone("SELECT 1 FROM teams WHERE name_key = ?", (name.casefold(),)):
                    raise AlreadyDone(f"a team named {name!r} exists already; choose another name")
                if captain is not None and await tx.fetchone(
                    "SELECT 1 FROM team_members WHERE user_id = ?", (captain,)
                ):
                    raise NotAllowed("you are in a team already; leave it before creating another")
                team = await insert_team(tx, name, password, validated=validated, now=now)
                if captain is not None:
                    try:
                        await tx.execute(
                            "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, 1, ?)",
                            (team.id, captain, now),
                        )
                    except IntegrityError:  # joined another team meanwhile
                        raise NotAllowed("you are in a team already; leave it before creating another") from None
                    # its role and private channel, and a welcome naming the captain
                    await enqueue_team(tx, SPACE, team.id, now, captain=captain)
                return team

        credentials = NewCredentials(await self.store.run(create), password)
        self.outbox.wake()
        return credentials

    async def get(self, name: str) -> Team:
        row = await self.store.fetchone(
            "SELECT id, name, username, validated FROM teams WHERE name_key = ? OR username = ?",
            (" ".join(name.split()).casefold(), name),
        )
        if row is None:
            raise NotFound(f"no team named {name!r}; `hackbot team list` shows the teams")
        return _team(row)

    async def list(self) -> list[Team]:
        rows = await self.store.fetchall("SELECT id, name, username, validated FROM teams ORDER BY name_key")
        return [_team(r) for r in rows]

    async def members(self, team_id: int) -> builtins.list[str]:  # `list` is a method of this class
        rows = await self.store.fetchall(
            f"SELECT user_id FROM team_members WHERE team_id = ? ORDER BY {member_order(self.store.dialect)}", (team_id,)
        )
        return [r[0] for r in rows]

    async def team_of(self, user_id: str) -> Team | None:
        row = await self.store.fetchone(
            "SELECT t.id, t.name, t.username, t.validated FROM teams t"
            " JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ?",
            (user_id,),
        )
        return _team(row) if row else None

    async def validate(self, name: str, validated: bool = True) -> Team:
        team = await self.get(name)
        await self.store.execute("UPDATE teams SET validated = ? WHERE id = ?", (int(validated), team.id))
        return Team(team.id, team.name, team.username, validated)

    async def rotate_password(self, team_id: int) -> NewCredentials:
        password = new_password()
        row = await self.store.fetchone(
            "UPDATE teams SET password_digest = ? WHERE id = ? RETURNING id, name, username, validated",
            (digest(password), team_id),
        )
        if row is None:
            raise NotFound("this team no longer exists")
        return NewCredentials(_team(row), password)

    async def authenticate(self, username: str, password: str) -> Team:
        team = await self.store.run(check_credentials, username, digest(password))
        if team is None:
            raise bad_login()
        return team

    async def add_member(self, team_id: int, user_id: str) -> None:
        """Join a team; size bounds and one team per person hold under concurrency. The first
        member of a team left empty (it kept its results) becomes its captain."""
        self._check_formation_open()
        now = self.clock().timestamp()

        async def join(tx: Tx) -> None:
            max_size = await size_bound(tx, self.config)
            full = NotAllowed(f"this team is full ({max_size} members); join or create another team")
            # the guarded INSERT decides; the lock makes concurrent joins of one team queue on
            # PostgreSQL, and the database's team-size trigger refuses a member past the bound
            # whatever wrote the row
            try:
                async with tx.transaction():
                    await tx.lock("team", team_id)
                    row = await tx.fetchone(
                        "INSERT INTO team_members(team_id, user_id, is_captain, joined_at)"
                        " SELECT ?, ?, CASE WHEN EXISTS (SELECT 1 FROM team_members WHERE team_id = ?) THEN 0 ELSE 1 END, ?"
                        " WHERE (SELECT count(*) FROM team_members WHERE team_id = ?) < ?"
                        " AND EXISTS (SELECT 1 FROM teams WHERE id = ?) RETURNING team_id",
                        (team_id, user_id, team_id, now, team_id, max_size, team_id),
                    )
                    if row is not None:  # let into the team's space, in the same transaction
                        await enqueue_team(tx, JOIN, team_id, now, user_id=user_id)
            except IntegrityError as exc:
                if exc.kind == "refused":  # the team-size trigger
                    raise full from None
                if exc.kind == "foreign_key":  # removed meanwhile
                    raise NotFound("this team no longer exists; /team list shows the teams") from None
                raise NotAllowed("you are in a team already; leave it before joining another") from None
            if row is None:
                if not await tx.fetchone("SELECT 1 FROM teams WHERE id = ?", (team_id,)):
                    raise NotFound("this team no longer exists; /team list shows the teams")
                raise full

        await self.store.run(join)
        self.outbox.wake()

    def _check_formation_open(self) -> None:
        teams, now = self.config.teams, self.clock()
        if teams.formation_opens and now < teams.formation_opens:
            raise NotAllowed(f"team formation opens at {_fmt(teams.formation_opens)}")
        if teams.formation_closes and now >= teams.formation_closes:
            raise NotAllowed(f"team formation closed at {_fmt(teams.formation_closes)}; ask an organizer")



class TeamRoster:
    """Membership changes made by people (Discord): join by code or openly, leave, kick, rename.

    Each change is one hop under the write lock, so size bounds, one team per person and
    "the last one out disbands" hold when many people act at once.
    """

    def __init__(self, teams: TeamService):
        self.teams, self.store, self.config = teams, teams.store, teams.config

    async def info(self, team: Team) -> TeamInfo:
        row = await self.store.fetchone(
            "SELECT join_code, is_open, discord_role_id, discord_channel_id FROM teams WHERE id = ?", (team.id,)
        )
        if row is None:
            raise NotFound(f"team {team.name!r} no longer exists")
        members = await self.teams.members(team.id)
        captain = await self.store.fetchval(
            "SELECT user_id FROM team_members WHERE team_id = ? AND is_captain = 1", (team.id,)
        )
        return TeamInfo(team, members, captain, row[0], bool(row[1]), row[2], row[3])

    async def infos(self) -> list[TeamInfo]:
        """Every team with its members, in name order, in one hop: /team list and the Discord
        reconcile read them all at once."""

        async def read(tx: Tx) -> list[TeamInfo]:
            teams = await tx.fetchall(
                "SELECT id, name, username, validated, join_code, is_open, discord_role_id, discord_channel_id"
                " FROM teams ORDER BY name_key"
            )
            members: dict[int, list[tuple[str, bool]]] = {}
            for team_id, user_id, is_captain in await tx.fetchall(
                f"SELECT team_id, user_id, is_captain FROM team_members ORDER BY {member_order(tx.dialect)}"
            ):
                members.setdefault(team_id, []).append((user_id, bool(is_captain)))
            result = []
            for row in teams:
                people = members.get(row[0], [])
                captain = next((user for user, is_captain in people if is_captain), None)
                result.append(
                    TeamInfo(_team(row), [u for u, _ in people], captain, row[4], bool(row[5]), row[6], row[7])
                )
            return result

        return await self.store.run(read)

    async def join(self, user_id: str, team_name: str, code: str | None) -> Team:
        team = await self.teams.get(team_name)
        row = await self.store.fetchone("SELECT join_code, is_open FROM teams WHERE id = ?", (team.id,))
        if row is None:
            raise NotFound(f"team {team.name!r} no longer exists")
        join_code, is_open = row
        if not is_open and not hmac.compare_digest((code or "").strip().lower(), join_code):
            raise NotAllowed(
                f"wrong join code for {team.name!r}; ask a member for the code shown by /team info, "
                "or ask the captain to open the team with /team open"
            )
        await self.teams.add_member(team.id, user_id)
        return team

    async def set_open(self, captain: str, is_open: bool) -> Team:
        team = await self._captains_team(captain)
        await self.store.execute("UPDATE teams SET is_open = ? WHERE id = ?", (int(is_open), team.id))
        return team

    async def leave(self, user_id: str) -> Departure:
        self.teams._check_formation_open()
        now = self.teams.clock().timestamp()

        async def leave(tx: Tx) -> Departure:
            async with tx.transaction():
                row = await tx.fetchone(
                    "SELECT t.id, t.name, t.username, t.validated, m.is_captain, t.discord_role_id,"
                    " t.discord_channel_id FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?",
                    (user_id,),
                )
                if row is None:
                    raise NotAllowed("you are not in a team")
                team, was_captain, discord_ids = _team(row), bool(row[4]), (row[5], row[6])
                await tx.lock("team", team.id)  # the last one out, and the next captain, decided once
                if not await tx.execute("DELETE FROM team_members WHERE user_id = ?", (user_id,)):
                    raise NotAllowed("you are not in a team")  # left meanwhile, by another request
                left = await tx.fetchall(
                    f"SELECT user_id FROM team_members WHERE team_id = ? ORDER BY joined_at, {JOIN_ORDER[tx.dialect]}",
                    (team.id,),
                )
                if not left:
                    # a team with reveals or submissions stays on the record, with no members
                    if not await _has_results(tx, team.id):
                        await tx.execute("DELETE FROM teams WHERE id = ?", (team.id,))
                    await enqueue_team(tx, DISBAND, team.id, now, role_id=discord_ids[0], channel_id=discord_ids[1])
                    return Departure(team, True, None, *discord_ids)
                new_captain = None
                if was_captain:
                    new_captain = left[0][0]
                    await tx.execute("UPDATE team_members SET is_captain = 1 WHERE user_id = ?", (new_captain,))
                await enqueue_team(tx, LEAVE, team.id, now, user_id=user_id)
                return Departure(team, False, new_captain, *discord_ids)

        departure = await self.store.run(leave)
        self.teams.outbox.wake()
        return departure

    async def kick(self, captain: str, member: str) -> Team:
        team = await self._captains_team(captain)
        if member == captain:
            raise BadInput("you cannot kick yourself; use /team leave")
        now = self.teams.clock().timestamp()

        async def kick(tx: Tx) -> int:
            async with tx.transaction():
                changed = await tx.execute("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", (team.id, member))
                if changed:
                    await enqueue_team(tx, LEAVE, team.id, now, user_id=member)
                return changed

        if not await self.store.run(kick):
            raise NotFound("that person is not in your team")
        self.teams.outbox.wake()
        return team

    async def rename(self, captain: str, new_name: str) -> Team:
        team = await self._captains_team(captain)
        new_name = " ".join(new_name.split())
        if not 1 <= len(new_name) <= 64:
            raise BadInput("a team name has 1 to 64 characters; choose another name")
        now = self.teams.clock().timestamp()

        async def rename(tx: Tx) -> None:
            async with tx.transaction():
                await tx.execute("UPDATE teams SET name = ?, name_key = ? WHERE id = ?",
                                 (new_name, new_name.casefold(), team.id))
                await enqueue_team(tx, RENAME, team.id, now)  # its role and channel follow

        try:
            await self.store.run(rename)
        except IntegrityError:
            raise AlreadyDone(f"a team named {new_name!r} exists already; choose another name") from None
        self.teams.outbox.wake()
        return Team(team.id, new_name, team.username, team.validated)

    async def remove(self, name: str) -> TeamInfo:
        """Organizers: remove a team, its members, reveals and submissions. Returns the team as it
        was, with the Discord objects it owned (deleted through the outbox)."""
        info = await self.info(await self.teams.get(name))
        now = self.teams.clock().timestamp()

        async def remove(tx: Tx) -> None:
            async with tx.transaction():
                if await tx.execute("DELETE FROM teams WHERE id = ?", (info.team.id,)):
                    await enqueue_team(tx, DISBAND, info.team.id, now, role_id=info.discord_role_id,
                                       channel_id=info.discord_channel_id)

        await self.store.run(remove)
        self.teams.outbox.wake()
        return info

    async def by_id(self, team_id: int) -> Team:
        row = await self.store.fetchone("SELECT id, name, username, validated FROM teams WHERE id = ?", (team_id,))
        if row is None:
            raise NotFound("this team no longer exists")
        return _team(row)

    async def set_discord(self, team_id: int, role_id: int | None, channel_id: int | None) -> None:
        await self.store.execute(
            "UPDATE teams SET discord_role_id = ?, discord_channel_id = ? WHERE id = ?", (role_id, channel_id, team_id)
        )

    async def _captains_team(self, user_id: str) -> Team:
        row = await self.store.fetchone(
            "SELECT t.id, t.name, t.username, t.validated, m.is_captain FROM team_members m"
            " JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?",
            (user_id,),
        )
        if row is None:
            raise NotAllowed("you are not in a team; /team create or /team join first")
        if not row[4]:
            raise NotAllowed("only the team's captain can do this; ask them, or they can pass it on by leaving")
        return _team(row)


async def _has_results(tx: Tx, team_id: int) -> bool:
    return bool(
        await tx.fetchone("SELECT 1 FROM reveals WHERE team_id = ? LIMIT 1", (team_id,))
        or await tx.fetchone("SELECT 1 FROM submissions WHERE team_id = ? LIMIT 1", (team_id,))
    )
