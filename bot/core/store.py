"""The database: one SQLite file in WAL mode, numbered migrations, one-hop transactions.

aiosqlite runs every call in one worker thread, and each call is a hop from the event loop to
that thread and back. A rule check and its write must not be two hops (another process can
write in between, and each hop costs ~0.1 ms), so `Store.run(fn, ...)` runs a whole function
against the raw sqlite3 connection inside the worker thread, and `immediate(conn)` takes the
write lock before the check is read.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.errors import Unavailable

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("bot.core.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that holds the lock from its first read (BEGIN IMMEDIATE)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# SQLite's refusals that mean "nothing can be written now", not "this request is wrong": the
# doors answer them 503 (try again) and the organizers are told.
_UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "the disk holding the database is full",
    sqlite3.SQLITE_READONLY: "the database is read-only (its file, folder or file system)",
    sqlite3.SQLITE_BUSY: "the database is locked by another process",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_IOERR: "the disk holding the database cannot be written",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened (is it, or its folder or file system, read-only?)",
}


def unavailable(exc: sqlite3.Error, path: Path | str) -> Unavailable | None:
    """The Unavailable a SQLite error stands for (a full disk, a read-only or locked file), or None."""
    code = exc.sqlite_errorcode  # None for errors raised by the sqlite3 module itself
    reason = _UNAVAILABLE.get(code & 0xFF) if code is not None else None
    return Unavailable(f"{reason} ({path})") if reason else None


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across app crashes
    conn.execute("PRAGMA foreign_keys = ON")


def _retry_locked(action: Callable[[], Any]) -> Any:
    """Switching a fresh file to WAL ignores busy_timeout while another process holds the lock:
    retry it for as long as busy_timeout would have waited."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _migrate(conn: sqlite3.Connection) -> list[str]:
    applied: list[str] = []
    with immediate(conn):  # two processes starting together apply each migration once
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at REAL NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS REAL)))"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in _migrations():
            if version in done:
                continue
            # executescript would COMMIT our transaction; run the statements one by one instead
            for statement in _split_sql(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations(version, name) VALUES (?, ?)", (version, name))
            applied.append(name)
    return applied


def _file_uri(path: Path) -> str:
    return path.absolute().as_uri()  # percent-encodes '?' and '#' in the path


def _check_schema(conn: sqlite3.Connection) -> None:
    """A read-only database must have every migration already: it cannot be migrated."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    missing = [name for version, name, _ in _migrations() if version not in done]
    if missing:
        raise Unavailable(
            f"the database was written by an older Hackbot and needs migration {missing[0]}, which a "
            "read-only database cannot take; run a command with write access to it once"
        )


def _split_sql(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current[:80]!r}")
    return statements


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path):
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, readonly: bool = False) -> Store:
        """Open (create, migrate) the database; `readonly` opens an existing one for reading only,
        as on a read-only file system, and never writes to it (no migration)."""
        path = Path(path)
        if readonly:
            return await cls._open_readonly(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = aiosqlite.connect(path, isolation_level=None)  # we issue BEGIN ourselves
        # A store left open must not keep the interpreter from exiting (aiosqlite's thread is
        # not a daemon); SQLite's transactions make an abrupt end safe.
        db._thread.daemon = True  # noqa: SLF001
        try:
            await db
        except sqlite3.OperationalError as exc:
            raise (unavailable(exc, path) or exc) from exc
        store = cls(db, path)
        try:
            await store.run(_configure)
            await store.run(_migrate)
        except BaseException:
            await db.close()
            raise
        return store

    @classmethod
    async def _open_readonly(cls, path: Path) -> Store:
        # mode=ro still needs the WAL's -shm file, which a read-only folder or file system cannot
        # hold; immutable=1 then reads the file as it is (a cleanly closed database has no WAL).
        uri = _file_uri(path)
        failure: Exception | None = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            db = aiosqlite.connect(f"{uri}?{options}", uri=True, isolation_level=None)
            db._thread.daemon = True  # noqa: SLF001
            try:
                await db
                store = cls(db, path)
                await store.run(_check_schema)
                return store
            except (sqlite3.OperationalError, Unavailable) as exc:
                failure = exc
                await db.close()
            except BaseException:
                await db.close()
                raise
        if isinstance(failure, sqlite3.OperationalError):
            raise (unavailable(failure, path) or failure) from failure
        assert failure is not None
        raise failure

    async def close(self) -> None:
        await self._db.close()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(conn, *args) in the database thread: one hop for a check and its write."""
        db = self._db
        try:
            return await db._execute(lambda: fn(db._conn, *args))  # noqa: SLF001 (see module doc)
        except sqlite3.OperationalError as exc:
            raise (unavailable(exc, self.path) or exc) from exc

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        return await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> tuple | None:
        return await self.run(lambda conn: conn.execute(sql, params).fetchone())

    async def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """One statement in autocommit; returns the number of rows changed."""
        return await self.run(lambda conn: conn.execute(sql, params).rowcount)


def open_sync(path: Path | str) -> sqlite3.Connection:
    """A plain connection with the same settings, for tests and tools outside the event loop."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    _configure(conn)
    _migrate(conn)
    return conn
