"""Teams from a registration spreadsheet (`hackbot team import FILE.csv`).

The CSV has a header row with the columns `team`, `validated` (true/false), `members` (Discord
user ids separated by ';') and optionally `emails` (separated the same way); other columns of a
form's export (timestamps, comments) are ignored and named. Each data row is checked on its own:
a bad row is reported with its line and reason, and the good rows are kept.

Importing is idempotent: a team that exists (same name, case-insensitive) is updated (its
validation set as the file says, members and emails added when missing), never created twice,
and a second run of the same file changes nothing. The first listed member of a team without a
captain becomes its captain. Members are never removed: someone who joined on Discord stays.
Every row is one savepoint (a nested `tx.transaction()`) inside one transaction, so thousands of
rows take one hop to the database, and a row refused there (its member in another team, the team
over max_size) leaves no trace while the others are kept. The same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from bot.config import EventConfig
from bot.core.clock import Clock
from bot.core.store import IntegrityError, Store, Tx
from bot.core.teams import NewCredentials, Team, insert_team, lock_teams, new_password

REQUIRED = ("team", "validated", "members")
OPTIONAL = ("emails",)
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}
_DISCORD_ID = re.compile(r"[0-9]{1,20}")  # a snowflake: ASCII digits, below 2**64
_EMAIL = re.compile(r"[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\".]+")
MAX_EMAIL = 254


@dataclass(frozen=True)
class TeamRow:
    line: int
    team: str
    validated: bool
    members: tuple[str, ...]
    emails: tuple[str, ...]


@dataclass
class ParsedFile:
    rows: list[TeamRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    created: list[NewCredentials] = field(default_factory=list)  # passwords shown once
    updated: list[str] = field(default_factory=list)  # team names that changed
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in line order


def parse_team_csv(text: str, config: EventConfig) -> ParsedFile:
    """The file's rows, each checked alone and against the rows above it (a team or a member
    listed twice); database checks come at import."""
    parsed = ParsedFile()
    reader = csv.reader(io.StringIO(text))
    columns: dict[str, int] | None = None
    seen_teams: dict[str, int] = {}
    seen_members: dict[str, tuple[str, int]] = {}
    max_size = config.teams.max_size
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if columns is None:
            header = [cell.strip().lower() for cell in cells]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                parsed.errors.append((line, (
                    f"the header lacks the column(s) {', '.join(missing)}; the first row names the columns: "
                    "team,validated,members[,emails]")))
                return parsed
            columns = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
            parsed.ignored_columns = [cells[i].strip() for i, name in enumerate(header) if name not in columns]
            continue
        try:
            row = _row(line, cells, columns, max_size)
        except ValueError as exc:
            parsed.errors.append((line, str(exc)))
            continue
        key = row.team.casefold()
        if key in seen_teams:
            parsed.errors.append((line, f"team {row.team!r} is listed already on line {seen_teams[key]}; "
                                        "keep one row per team"))
            continue
        twice = next((m for m in row.members if m in seen_members), None)
        if twice is not None:
            team, first = seen_members[twice]
            parsed.errors.append((line, f"member {twice} is listed already in team {team!r} on line {first}; "
                                        "a person is in one team"))
            continue
        seen_teams[key] = line
        seen_members.update({m: (row.team, line) for m in row.members})
        parsed.rows.append(row)
    if columns is None:
        parsed.errors.append((1, "the file is empty; the first row names the columns: team,validated,members[,emails]"))
    return parsed


def _row(line: int, cells: list[str], columns: dict[str, int], max_size: int) -> TeamRow:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    name = " ".join(cell("team").split())
    if not 1 <= len(name) <= 64:
        raise ValueError("the team name has 1 to 64 characters" if name else "the team name is empty")
    flag = cell("validated").lower()
    if flag not in _TRUE | _FALSE:
        raise ValueError(f"validated is {cell('validated')[:20]!r}; write true or false")
    members = _split(cell("members"))
    bad = next((m for m in members if not _DISCORD_ID.fullmatch(m) or int(m) >= 2**64), None)
    if bad is not None:
        raise ValueError(f"member {bad[:30]!r} is not a Discord user id (digits only; Developer Mode → Copy User ID)")
    if len(set(members)) != len(members):
        raise ValueError("a member is listed twice in this team")
    if len(members) > max_size:
        raise ValueError(f"team {name!r} lists {len(members)} members; the event allows at most {max_size}")
    emails = tuple(dict.fromkeys(e.lower() for e in _split(cell("emails"))))
    bad = next((e for e in emails if len(e) > MAX_EMAIL or not _EMAIL.fullmatch(e)), None)
    if bad is not None:
        raise ValueError(f"{bad[:60]!r} is not an email address")
    return TeamRow(line, name, flag in _TRUE, tuple(members), emails)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


async def import_teams(store: Store, config: EventConfig, clock: Clock, rows: list[TeamRow]) -> ImportResult:
    """Create or update the rows' teams in one transaction, one savepoint per row."""
    now = clock().timestamp()
    passwords = {row.line: new_password() for row in rows}  # generated outside the database hop
    return await store.run(_import, rows, passwords, config.teams.max_size, now)


async def _import(tx: Tx, rows: list[TeamRow], passwords: dict[int, str], max_size: int, now: float) -> ImportResult:
    result = ImportResult()  # built afresh if PostgreSQL runs the hop again after a conflict
    async with tx.transaction():
        await lock_teams(tx)  # names are checked free, then taken, as /team create does
        for row in rows:
            try:
                async with tx.transaction():  # a savepoint: a refused row leaves no trace
                    outcome = await _import_row(tx, row, passwords[row.line], max_size, now)
            except _Refused as exc:
                result.errors.append((row.line, str(exc)))
            except IntegrityError as exc:  # a constraint or a trigger (a member who joined meanwhile)
                result.errors.append((row.line, f"the database refused this row ({exc}); nothing of it was kept"))
            else:
                if isinstance(outcome, NewCredentials):
                    result.created.append(outcome)
                elif outcome:
                    result.updated.append(row.team)
                else:
                    result.unchanged.append(row.team)
    return result


class _Refused(Exception):
    """A row the database state refuses; its savepoint is rolled back."""


async def _import_row(tx: Tx, row: TeamRow, password: str, max_size: int, now: float) -> NewCredentials | bool:
    """NewCredentials for a created team, else whether an existing team changed."""
    found = await tx.fetchone(
        "SELECT id, name, username, validated FROM teams WHERE name_key = ?", (row.team.casefold(),)
    )
    elsewhere = await _members_elsewhere(tx, row.members, found[0] if found else None)
    if elsewhere:
        user, other = elsewhere
        raise _Refused(f"member {user} is in team {other!r} already; remove them there first, or fix the row")
    if found is None:
        team = await insert_team(tx, row.team, password, validated=row.validated, now=now)
        await _add_members(tx, team.id, row.members, now, has_captain=False)
        await _add_emails(tx, team.id, row.emails)
        return NewCredentials(team, password)
    team = Team(found[0], found[1], found[2], bool(found[3]))
    current = {r[0] for r in await tx.fetchall("SELECT user_id FROM team_members WHERE team_id = ?", (team.id,))}
    new_members = [m for m in row.members if m not in current]
    if len(current) + len(new_members) > max_size:
        raise _Refused(f"team {team.name!r} would have {len(current) + len(new_members)} members with this row; "
                       f"the event allows at most {max_size}")
    changed = False
    if team.validated != row.validated:
        await tx.execute("UPDATE teams SET validated = ? WHERE id = ?", (int(row.validated), team.id))
        changed = True
    has_captain = await tx.fetchone(
        "SELECT 1 FROM team_members WHERE team_id = ? AND is_captain = 1", (team.id,)
    ) is not None
    changed |= await _add_members(tx, team.id, new_members, now, has_captain=has_captain)
    changed |= await _add_emails(tx, team.id, row.emails)
    return changed


async def _members_elsewhere(tx: Tx, members: tuple[str, ...], team_id: int | None) -> tuple[str, str] | None:
    if not members:
        return None
    marks = ", ".join("?" * len(members))
    found = await tx.fetchone(
        f"SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id"
        f" WHERE m.user_id IN ({marks}) AND m.team_id <> ? ORDER BY m.user_id",
        (*members, -1 if team_id is None else team_id),
    )
    return (found[0], found[1]) if found else None


async def _add_members(tx: Tx, team_id: int, members: list[str] | tuple[str, ...], now: float,
                       *, has_captain: bool) -> bool:
    if members:
        await tx.executemany(
            "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, ?, ?)",
            [(team_id, user, int(not has_captain and i == 0), now) for i, user in enumerate(members)],
        )
    return bool(members)


async def _add_emails(tx: Tx, team_id: int, emails: tuple[str, ...]) -> bool:
    added = 0
    for email in emails:
        added += len(await tx.fetchall(
            "INSERT INTO team_contacts(team_id, email) VALUES (?, ?) ON CONFLICT (team_id, email) DO NOTHING"
            " RETURNING team_id",
            (team_id, email),
        ))
    return added > 0
