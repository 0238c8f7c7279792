"""The database: SQLite (a file, the embedded default) or PostgreSQL (a URL, several processes),
behind one Store with one-hop transactions and numbered migrations.

A rule check and its write are one hop: a hop function `async def fn(tx, *args)` runs against a
`Tx`, and `Store.run(fn, *args)` runs it whole.
- On SQLite (bot/core/store_sqlite.py) the function runs inside aiosqlite's worker thread, driven
  to its end synchronously: the SQLite Tx methods never suspend, so the function costs one hop
  from the event loop to that thread and back, as a plain function over sqlite3 would.
- On PostgreSQL (bot/core/store_postgres.py) it runs on the event loop over one connection of an
  asyncpg pool, and is run again from the start when the server reports a serialization failure
  or a deadlock: hop functions have no effect outside the database.

SQL is written once with `?` placeholders (the PostgreSQL driver rewrites them to $1..$n); where
the dialects differ, the one function that owns the query branches on `tx.dialect`. Rows are
plain tuples on both. Database errors come out as `IntegrityError` (a constraint or a trigger
refused the write, with the same trigger messages on both) or `bot.core.errors.Unavailable`
(the database cannot write now: disk full, read-only, locked too long, server unreachable).

Migrations are `bot/core/migrations/NNNN_name.sql` when one text suits both dialects, else
`NNNN_name.sqlite.sql` and `NNNN_name.postgres.sql`. Each applied file's sha256 is recorded; a
file edited after it was applied stops start-up with a message naming it.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from bot.core.errors import Unavailable

T = TypeVar("T")
Dialect = Literal["sqlite", "postgres"]
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgres")
URL_SCHEMES = ("postgresql://", "postgres://")


class IntegrityError(Exception):
    """The database refused a write: a unique, check, foreign-key or not-null constraint, or a
    trigger of ours ('reveal budget spent', 'datum out of range', 'team is full').

    kind: "unique" | "check" | "foreign_key" | "not_null" | "refused" (one of our triggers);
    message: the database's text (for "refused", the trigger's words, the same on both dialects).
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


class MigrationError(Exception):
    """The database's migrations do not match the code: an applied file was edited, or a file
    cannot be applied. The message names the file and what to do."""


class Tx(Protocol):
    """A connection inside `Store.run`: what hop functions talk to."""

    dialect: Dialect

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None: ...

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        ...

    def transaction(self, *, one_write: bool = False) -> AbstractAsyncContextManager[None]:
        """A write transaction: on SQLite BEGIN IMMEDIATE (the write lock is taken before the first
        read), on PostgreSQL BEGIN. Nested, a savepoint. `one_write`: the block writes with one
        statement at most, as its last step; nested on SQLite it then takes no savepoint (SQLite
        rolls a failed statement back alone: the enclosing transaction goes on unchanged).
        PostgreSQL makes its savepoint either way (there a failed statement ends the transaction)."""
        ...

    @property
    def write_locked(self) -> bool:
        """SQLite: this connection holds the database's one write lock (a BEGIN IMMEDIATE
        transaction is open), so what it reads now no other writer can change before its write.
        PostgreSQL: False (there is no one lock; guarded statements and triggers decide)."""
        ...

    async def lock(self, *key: object) -> None:
        """Inside transaction(): serialize with every other transaction that locks the same key
        until this one ends. SQLite: nothing to do (BEGIN IMMEDIATE holds the one write lock);
        PostgreSQL: pg_advisory_xact_lock on a stable 64-bit hash of the key."""
        ...


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def dialect_of(target: str | Path) -> Dialect:
    return "postgres" if is_url(target) else "sqlite"


def redact(target: str | Path) -> str:
    """The target as it may be shown: a URL without its password, a path as it is."""
    if not is_url(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" if user else f":***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def lock_key(*key: object) -> int:
    """A stable signed 64-bit number for a lock key (the same in every process and release)."""
    text = "\x1f".join(str(part) for part in key).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


# --- migrations ----------------------------------------------------------------------------------

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # "0001_competition": the same on both dialects
    filename: str  # the file this dialect applies
    text: str

    @property
    def checksum(self) -> str:
        """sha256 of the file's text: renaming a file does not change it, editing it does."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def migrations(dialect: Dialect) -> list[Migration]:
    """This dialect's migrations in order: its own variant of a version, else the shared file."""
    files: dict[int, dict[str | None, tuple[str, str, str]]] = {}
    for entry in resources.files("bot.core.migrations").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise MigrationError(f"migration file {entry.name!r} is misnamed: NNNN_name[.sqlite|.postgres].sql")
            continue
        version, name, variant = int(match[1]), f"{match[1]}_{match[2]}", match[3]
        files.setdefault(version, {})[variant] = (name, entry.name, entry.read_text(encoding="utf-8"))
    found = []
    for version, variants in sorted(files.items()):
        chosen = variants.get(dialect) or variants.get(None)
        if chosen is None:
            other = ", ".join(filename for _, filename, _ in variants.values())
            raise MigrationError(f"migration {version:04d} ({other}) has no variant for {dialect}: add one")
        names = {name for name, _, _ in variants.values()}
        if len(names) > 1:
            raise MigrationError(f"migration {version:04d} has variants of different names: {', '.join(sorted(names))}")
        found.append(Migration(version, *chosen))
    return found


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str | None  # None: applied by a release that kept no checksums (recorded at the next start)
    applied_at: float
    state: str  # "ok" | "edited" (its file changed since) | "unrecorded" | "unknown" (no such file here)


@dataclass(frozen=True)
class MigrationStatus:
    dialect: Dialect
    target: str  # without a password
    applied: list[AppliedMigration]
    pending: list[Migration]

    @property
    def edited(self) -> list[AppliedMigration]:
        return [m for m in self.applied if m.state == "edited"]


def _stem(name: str) -> str:
    """A recorded migration name without the file's suffix: releases before the dialect variants
    recorded the file name ("0001_competition.sql")."""
    return re.sub(r"(\.(sqlite|postgres))?\.sql$", "", name)


def compare(dialect: Dialect, target: str, applied: Iterable[tuple[int, str, str | None, float]]) -> MigrationStatus:
    """What the database has applied against the files of this release."""
    files = {m.version: m for m in migrations(dialect)}
    rows = []
    done = set()
    for version, name, checksum, applied_at in sorted(applied):
        done.add(version)
        file = files.get(version)
        if file is None:
            state = "unknown"
        elif _stem(name) != file.name:  # another migration than this release's of that number
            state = "edited"
        elif checksum is None:
            state = "unrecorded"
        else:
            state = "ok" if checksum == file.checksum else "edited"
        rows.append(AppliedMigration(version, name, checksum, applied_at, state))
    pending = [m for v, m in sorted(files.items()) if v not in done]
    return MigrationStatus(dialect, target, rows, pending)


def edited_error(status: MigrationStatus) -> MigrationError:
    names = ", ".join(f"{m.name} (version {m.version})" for m in status.edited)
    return MigrationError(
        f"migration {names} was edited after it was applied to {status.target}: its checksum differs. "
        "Restore the file as it was when applied (e.g. `git checkout` it); never edit an applied "
        "migration, add a new numbered one instead. `hackbot db status` lists the migrations."
    )


# --- the store -----------------------------------------------------------------------------------

class Store(ABC):
    """One database. `await Store.open(target)`: a file path (SQLite) or a postgresql:// URL."""

    dialect: ClassVar[Dialect]
    target: str  # for logs and messages: a path, or the URL without its password

    @staticmethod
    async def open(target: str | Path, *, migrate: bool = True, readonly: bool = False) -> Store:
        """Connect, and unless `migrate` is False, check the applied migrations and apply the new ones.

        `readonly` reads an existing database without ever writing to it (a read-only file or file
        system; on PostgreSQL, a read-only session): nothing is migrated, and a database that lacks
        a migration is refused (Unavailable) since it cannot take it."""
        if is_url(target):
            from bot.core.store_postgres import PostgresStore

            return await PostgresStore.connect(str(target), migrate=migrate and not readonly, readonly=readonly)
        from bot.core.store_sqlite import SqliteStore

        return await SqliteStore.connect(Path(target), migrate=migrate and not readonly, readonly=readonly)

    async def check_schema(self) -> None:
        """For a database opened read-only: every migration of this release is applied, none edited."""
        status = await self.status()
        if status.edited:
            raise edited_error(status)
        if status.pending:
            raise Unavailable(reason=(
                f"the database {self.target} was written by an older Hackbot and needs migration "
                f"{status.pending[0].name}, which a read-only database cannot take; run a command with "
                "write access to it once"
            ))

    @abstractmethod
    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run the hop function `fn(tx, *args)` whole: one hop for a rule check and its write."""

    async def run_grouped(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`run`, where the driver may run it in one hop together with other grouped calls that
        are waiting (SQLite: run on the event loop's own connection, one commit for the group, each
        call's transaction a savepoint of the group's, each answer given after the commit). For
        short hop functions under concurrency: those of the reveals. Elsewhere, `run`."""
        return await self.run(fn, *args)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return await self.run(_fetchall, sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return await self.run(_fetchone, sql, params)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self.run(_fetchval, sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in autocommit; the number of rows changed."""
        return await self.run(_execute, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.run(_executemany, sql, list(rows))

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def status(self) -> MigrationStatus:
        """The applied migrations (with their state) and the pending ones; changes nothing."""

    @abstractmethod
    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Apply the pending migrations (none with dry_run) and return them. Raises
        MigrationError, naming the file, when an applied migration was edited."""

    @abstractmethod
    async def tables(self) -> list[str]:
        """The application's tables (no schema_migrations, no internal ones), in name order."""


async def _fetchall(tx: Tx, sql: str, params: Sequence[Any]) -> list[tuple]:
    return await tx.fetchall(sql, params)


async def _fetchone(tx: Tx, sql: str, params: Sequence[Any]) -> tuple | None:
    return await tx.fetchone(sql, params)


async def _fetchval(tx: Tx, sql: str, params: Sequence[Any]) -> Any:
    return await tx.fetchval(sql, params)


async def _execute(tx: Tx, sql: str, params: Sequence[Any]) -> int:
    return await tx.execute(sql, params)


async def _executemany(tx: Tx, sql: str, rows: list[Sequence[Any]]) -> None:
    async with tx.transaction():
        await tx.executemany(sql, rows)
