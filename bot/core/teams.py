"""Teams, their members and their HTTP API credentials.

API passwords are server-generated random tokens (192 bits), shown once and stored only as
SHA-256 digests: a slow password hash buys nothing against a random token and would cap the
API at a few dozen requests a second. Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass

from bot.config import EventConfig
from bot.core.clock import Clock, fmt_utc as _fmt
from bot.core.errors import AlreadyDone, BadCredentials, BadInput, NotAllowed, NotFound
from bot.core.store import Store, immediate

_DUMMY_DIGEST = hashlib.sha256(b"no such team").digest()


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    username: str
    validated: bool


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


def username_for(name: str) -> str:
    """"Awesome Team!" -> "awesome_team": what the Hackathon42 scripts put in `username`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    return slug[:40] or "team"


def check_credentials(conn: sqlite3.Connection, username: str, password_digest: bytes) -> Team | None:
    """The team whose credentials these are, or None; constant time in the password."""
    row = conn.execute(
        "SELECT id, name, username, validated, password_digest FROM teams WHERE username = ?", (username,)
    ).fetchone()
    stored = row[4] if row else _DUMMY_DIGEST
    ok = hmac.compare_digest(stored, password_digest)
    return Team(row[0], row[1], row[2], bool(row[3])) if (row and ok) else None


def bad_login() -> BadCredentials:
    return BadCredentials("wrong username or password; ask your team for the API credentials")


def _team(row: tuple) -> Team:
    return Team(row[0], row[1], row[2], bool(row[3]))


class TeamService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock

    async def create(self, name: str, *, validated: bool = False, captain: str | None = None) -> NewCredentials:
        name = " ".join(name.split())
        if not 1 <= len(name) <= 64:
            raise BadInput("a team name has 1 to 64 characters; choose another name")
        if captain is not None:
            self._check_formation_open()
        password = new_password()
        now = self.clock().timestamp()

        def create(conn: sqlite3.Connection) -> Team:
            with immediate(conn):
                if conn.execute("SELECT 1 FROM teams WHERE name_key = ?", (name.casefold(),)).fetchone():
                    raise AlreadyDone(f"a team named {name!r} exists already; choose another name")
                if captain is not None and conn.execute(
                    "SELECT 1 FROM team_members WHERE user_id = ?", (captain,)
                ).fetchone():
                    raise NotAllowed("you are in a team already; leave it before creating another")
                base = username_for(name)
                username, n = base, 1
                while conn.execute("SELECT 1 FROM teams WHERE username = ?", (username,)).fetchone():
                    n += 1
                    username = f"{base}_{n}"
                team_id = conn.execute(
                    "INSERT INTO teams(name, name_key, username, password_digest, validated, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (name, name.casefold(), username, digest(password), int(validated), now),
                ).fetchone()[0]
                if captain is not None:
                    conn.execute(
                        "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, 1, ?)",
                        (team_id, captain, now),
                    )
                return Team(team_id, name, username, validated)

        return NewCredentials(await self.store.run(create), password)

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

    async def members(self, team_id: int) -> list[str]:
        rows = await self.store.fetchall(
            "SELECT user_id FROM team_members WHERE team_id = ? ORDER BY is_captain DESC, joined_at", (team_id,)
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
        """Join a team; size bounds and one team per person hold under concurrency."""
        self._check_formation_open()
        max_size, now = self.config.teams.max_size, self.clock().timestamp()

        def join(conn: sqlite3.Connection) -> None:
            try:
                row = conn.execute(
                    "INSERT INTO team_members(team_id, user_id, is_captain, joined_at)"
                    " SELECT ?, ?, 0, ? WHERE (SELECT count(*) FROM team_members WHERE team_id = ?) < ?"
                    " AND EXISTS (SELECT 1 FROM teams WHERE id = ?) RETURNING team_id",
                    (team_id, user_id, now, team_id, max_size, team_id),
                ).fetchone()
            except sqlite3.IntegrityError:
                raise NotAllowed("you are in a team already; leave it before joining another") from None
            if row is None:
                raise NotAllowed(f"this team is full ({max_size} members); join or create another team")

        await self.store.run(join)

    def _check_formation_open(self) -> None:
        teams, now = self.config.teams, self.clock()
        if teams.formation_opens and now < teams.formation_opens:
            raise NotAllowed(f"team formation opens at {_fmt(teams.formation_opens)}")
        if teams.formation_closes and now >= teams.formation_closes:
            raise NotAllowed(f"team formation closed at {_fmt(teams.formation_closes)}; ask an organizer")

