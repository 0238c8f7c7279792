"""The SQLite driver of the Store: one file in WAL mode, one aiosqlite worker thread, and for the
reveals' groups a second connection owned by the event loop.

A hop function runs inside that worker thread: `SqliteStore.run` hands the thread a call that
creates the coroutine `fn(tx, *args)` and drives it to its end with `send(None)`. The SqliteTx
methods are `async def` around plain sqlite3 calls that never suspend, so the function completes
at the first send: one hop from the event loop and back, however many statements it runs. A hop
function that awaits anything else (a sleep, a network call) would suspend; the driver then
stops it with RuntimeError rather than block the database thread.

`SqliteStore.run_grouped` (the reveals) runs the calls waiting at that moment as one group: each
in turn, the first transaction of the group opening one BEGIN IMMEDIATE that every call's
transaction joins as a savepoint (a call that fails rolls back only its own), one COMMIT at the
end, then every answer; a failed COMMIT answers every call from the one that opened the
transaction on with the error. A commit costs more than a reveal's statements; under concurrency
it is paid once per group instead of once per call.

Where a group runs: on the event loop itself, over the loop's own connection, driven the same way.
Handing each group to the worker thread and back (its wake-up, the self-pipe, the interpreter lock
changing hands) cost about a tenth of the server's CPU per HTTP reveal (benchmarks/README.md,
"SQLite groups on the event loop"). The loop must never stall on that connection, so it is set
apart:
- busy_timeout 0: it never waits for a lock. A call that finds the write lock taken (another
  connection or process writing; SQLITE_BUSY or SQLITE_LOCKED, raised as `_Busy` by its Tx) wrote
  nothing (its savepoint never opened, or was rolled back with the group's failed COMMIT); it is
  run again in a group of the worker thread, which waits for the lock (busy_timeout 30 s) while
  the loop goes on: re-reads still answer, the waiting reveal is answered once, from the thread.
- wal_autocheckpoint 0: it never checkpoints (a checkpoint copies pages and fsyncs). Every
  CHECKPOINT_EVERY groups written on it, the worker thread runs a PASSIVE checkpoint; the loop
  does not wait for it, and the groups of that moment run in the thread, behind it, so that no
  write lands during it: it copies every frame and the next writer starts the WAL from its
  beginning again (the -wal file stays a few MB through a rush of reveals). That next writer
  also syncs the WAL's new header: the groups stay in the thread until one of them wrote.
Read-only and in-memory stores have no loop connection: their groups run in the worker thread.
Everything else (`run`, migrations, the CLI's statements) runs in the worker thread as before.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn, TypeVar

import aiosqlite

from bot.core.errors import Unavailable
from bot.core.store import (
    Dialect,
    IntegrityError,
    Migration,
    MigrationStatus,
    Store,
    compare,
    edited_error,
    migrations,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_EVERY = 300  # groups written on the event loop's connection between two checkpoints (see _committed)
RESTART_GROUPS = 10  # after a checkpoint, groups run in the thread until one wrote, at most this many

# primary result codes (sqlite3.Error.sqlite_errorcode & 0xff) meaning "cannot write now", and
# what each tells the organizers (participants only hear that nothing was recorded)
_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN = 5, 6, 8, 10, 13, 14
_UNAVAILABLE = {
    _FULL: "the disk holding the database is full",
    _READONLY: "the database is read-only (its file, folder or file system)",
    _BUSY: "the database is locked by another process",
    _LOCKED: "the database is locked",
    _IOERR: "the disk holding the database cannot be written",
    _CANTOPEN: "the database file cannot be opened (is it, or its folder or file system, read-only?)",
}
_KINDS = (("UNIQUE", "unique"), ("CHECK", "check"), ("FOREIGN KEY", "foreign_key"), ("NOT NULL", "not_null"))


def translate(exc: sqlite3.Error, target: str) -> Exception:
    """sqlite3's error as the Store's: IntegrityError, Unavailable (its reason names what is wrong
    and the file), or the error itself (a bug, or a file that is not a database)."""
    if isinstance(exc, sqlite3.IntegrityError):
        message = str(exc)
        kind = next((kind for prefix, kind in _KINDS if message.startswith(prefix + " constraint failed")), "refused")
        return IntegrityError(kind, message)
    code = getattr(exc, "sqlite_errorcode", None)  # set on errors SQLite reported; not on sqlite3's own
    reason = _UNAVAILABLE.get(code & 0xFF) if code is not None else None
    if reason is not None:
        return Unavailable(reason=f"{reason} ({target}; SQLite: {exc})")
    return exc


def _fail(exc: sqlite3.Error, target: str) -> NoReturn:
    """Raise the Store's form of a driver error (the error itself when it has none)."""
    error = translate(exc, target)
    if error is exc:
        raise exc
    raise error from exc


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or a savepoint when nested. In a group (`grouped`), always a
    savepoint: of the group's transaction, which the first one opens and the driver commits.
    `one_write` (a block whose only write is one statement, its last step): nested or in a group,
    no savepoint at all, only the lock (a statement that fails is rolled back alone by SQLite)."""

    __slots__ = ("_conn", "_grouped", "_lock_only", "_one_write", "_savepoint", "_tx")

    def __init__(self, tx: SqliteTx, one_write: bool = False):
        self._tx = tx
        self._conn = tx.conn
        self._grouped = tx.grouped
        self._one_write = one_write
        self._lock_only = False  # in the enclosing or the group's transaction, which ends it
        self._savepoint: str | None = None

    async def __aenter__(self) -> None:
        conn = self._conn
        try:
            if conn.in_transaction or self._grouped:
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                if self._one_write:
                    self._lock_only = True
                    return
                self._savepoint = f"hb_{id(self):x}"
                conn.execute(f"SAVEPOINT {self._savepoint}")
            else:
                conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._tx.fail(exc)

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> Literal[False]:
        conn, savepoint = self._conn, self._savepoint
        if self._lock_only:
            return False
        if exc_type is None:
            try:
                conn.execute(f"RELEASE {savepoint}" if savepoint else "COMMIT")
                return False
            except sqlite3.Error as error:
                self._rollback()
                self._tx.fail(error)
        self._rollback()
        return False

    def _rollback(self) -> None:
        conn, savepoint = self._conn, self._savepoint
        if not conn.in_transaction:
            return  # SQLite rolled back already (it does on a full disk, say)
        try:
            if savepoint:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")
            else:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            if conn.in_transaction and not savepoint:
                raise


class SqliteTx:
    dialect: ClassVar[Dialect] = "sqlite"
    __slots__ = ("conn", "grouped", "target")

    def __init__(self, conn: sqlite3.Connection, target: str):
        self.conn = conn
        self.target = target  # for the reasons of Unavailable
        self.grouped = False  # inside _drive_group: transactions are savepoints of the group's

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self.conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            self.fail(exc)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            self.fail(exc)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self.fail(exc)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        try:
            return self.conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            self.fail(exc)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            row = self.conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            self.fail(exc)
        return None if row is None else row[0]

    def transaction(self, *, one_write: bool = False) -> _Transaction:
        return _Transaction(self, one_write)

    @property
    def write_locked(self) -> bool:
        return self.conn.in_transaction  # every transaction here is BEGIN IMMEDIATE

    def fail(self, exc: sqlite3.Error) -> NoReturn:
        """Raise the Store's form of a driver error (the error itself when it has none)."""
        _fail(exc, self.target)

    async def lock(self, *key: object) -> None:
        """BEGIN IMMEDIATE took the database's one write lock already."""


class _Busy(Exception):
    """The event loop's connection could not take a lock at once (SQLITE_BUSY or SQLITE_LOCKED):
    another connection, or another process, holds it. Its call did not write; the driver runs it
    again in the database thread's group, which waits for the lock (busy_timeout)."""


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_BUSY, _LOCKED)


class _LoopTx(SqliteTx):
    """The Tx of the event loop's connection (busy_timeout 0): a lock it cannot take at once is
    _Busy, never a wait and never Unavailable."""

    __slots__ = ()

    def fail(self, exc: sqlite3.Error) -> NoReturn:
        if _is_busy(exc):
            raise _Busy(str(exc)) from exc
        _fail(exc, self.target)


def _drive(fn: Callable[..., Coroutine[Any, Any, T]], tx: SqliteTx, args: tuple) -> T:
    """Run the coroutine fn(tx, *args) to its end, here: in the database thread (or, for a group,
    on the event loop with the loop's own connection)."""
    coro = fn(tx, *args)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError(
        f"{getattr(fn, '__qualname__', fn)} awaited something other than its Tx: a hop function "
        "runs in the database thread and may only await the Tx's methods"
    )


# a grouped call's outcome: (True, its value) or (False, the exception it raised)
Outcome = tuple[bool, Any]


def _drive_group(tx: SqliteTx, calls: list[tuple[Callable[..., Coroutine[Any, Any, Any]], tuple]]) -> list[Outcome]:
    """Run the calls one after the other, here (the database thread, or the event loop with its own
    connection), then commit the group's transaction if one of them opened it. If that COMMIT
    fails, every call from the one that opened it on gets the error: its write is gone, and the
    later ones may have read it. So do the calls of a transaction SQLite rolls back by itself
    mid-group (SQLITE_FULL, SQLITE_IOERR): a call answered as written must have been written."""
    conn = tx.conn
    outcomes: list[Outcome] = []
    opened_by: int | None = None
    tx.grouped = True
    try:
        for i, (fn, args) in enumerate(calls):
            try:
                outcomes.append((True, _drive(fn, tx, args)))
            except Exception as exc:  # this call's own failure: its savepoint is rolled back already
                outcomes.append((False, exc))
            if opened_by is None and conn.in_transaction:
                opened_by = i
            elif opened_by is not None and not conn.in_transaction:
                # SQLite rolled the whole transaction back (a full disk, an I/O error): the writes
                # of the calls since it opened are gone; each hears so, and a later writer opens anew
                ok, value = outcomes[-1]
                error = value if not ok else Unavailable(reason=f"SQLite rolled a transaction back ({tx.target})")
                outcomes[opened_by:] = [(False, error)] * (i + 1 - opened_by)
                opened_by = None
    finally:
        tx.grouped = False
        if conn.in_transaction:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # busy on the event loop's connection: nothing was written, the thread runs them again
                error = _Busy(str(exc)) if isinstance(tx, _LoopTx) and _is_busy(exc) else translate(exc, tx.target)
                outcomes[opened_by or 0:] = [(False, error)] * (len(outcomes) - (opened_by or 0))
    return outcomes


def _drive_group_writing(tx: SqliteTx, calls: list[tuple[Callable[..., Coroutine[Any, Any, Any]], tuple]]
                         ) -> tuple[list[Outcome], bool]:
    """_drive_group, and whether the group wrote."""
    before = tx.conn.total_changes
    outcomes = _drive_group(tx, calls)
    return outcomes, tx.conn.total_changes != before


def _answer(calls: list[tuple[tuple[Any, Any, asyncio.Future[Any]], Outcome]]) -> None:
    for (_, _, future), (ok, value) in calls:
        if not future.done():  # a caller that gave up (cancelled) hears nothing
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


def _configure_loop(conn: sqlite3.Connection) -> None:
    """The event loop's connection: it never waits for a lock (a busy call goes to the thread) and
    never checkpoints (a checkpoint fsyncs: the thread runs them, see `_checkpoint`)."""
    conn.execute("PRAGMA busy_timeout = 0")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _checkpoint(conn: sqlite3.Connection) -> tuple:
    """Copy the WAL's committed pages into the database file, as far as readers allow, without
    waiting for any lock; the next writer then starts the WAL again from its beginning."""
    return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across app crashes
    conn.execute("PRAGMA foreign_keys = ON")


def _file_uri(path: Path) -> str:
    return path.absolute().as_uri()  # percent-encodes '?' and '#' in the path


def _configure_readonly(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")


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


_CREATE_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at REAL NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS REAL)), checksum TEXT)"
)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _applied(conn: sqlite3.Connection) -> list[tuple[int, str, str | None, float]]:
    if not _has_table(conn, "schema_migrations"):
        return []
    columns = {row[1] for row in conn.execute("PRAGMA table_info(schema_migrations)")}
    checksum = "checksum" if "checksum" in columns else "NULL"
    return conn.execute(f"SELECT version, name, {checksum}, applied_at FROM schema_migrations").fetchall()


def _migrate(conn: sqlite3.Connection, target: str, dry_run: bool) -> list[Migration]:
    """Check and apply the migrations, all under one write lock: processes starting together apply
    each migration once."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_CREATE_MIGRATIONS)
        if "checksum" not in {row[1] for row in conn.execute("PRAGMA table_info(schema_migrations)")}:
            conn.execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")  # a database of wave 1
        status = compare("sqlite", target, _applied(conn))
        if status.edited:
            raise edited_error(status)
        files = {m.version: m for m in migrations("sqlite")}
        for applied in status.applied:
            if applied.state == "unrecorded":  # kept no checksum: record the file's as it is now
                conn.execute("UPDATE schema_migrations SET checksum = ? WHERE version = ?",
                             (files[applied.version].checksum, applied.version))
        if not dry_run:
            for migration in status.pending:
                # executescript would COMMIT our transaction; run the statements one by one instead
                for statement in _split_sql(migration.text):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, checksum) VALUES (?, ?, ?)",
                    (migration.version, migration.name, migration.checksum),
                )
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("ROLLBACK" if dry_run else "COMMIT")
    return status.pending


class SqliteStore(Store):
    dialect: ClassVar[Dialect] = "sqlite"

    def __init__(self, db: aiosqlite.Connection, path: Path):
        self._db = db
        self.path = path
        self.target = str(path)
        self._tx = SqliteTx(db._conn, self.target)  # noqa: SLF001 (the worker thread's connection; see the module doc)
        self._waiting: list[tuple[Callable[..., Coroutine[Any, Any, Any]], tuple, asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._loop_tx: _LoopTx | None = None  # the event loop's connection for groups (see the module doc)
        self._loop_commits = 0  # groups committed on it since the last checkpoint was started
        self._checkpointing: asyncio.Task[None] | None = None
        self._restart_pending = 0  # after a checkpoint: groups left to run in the thread (see _checkpoint)
        self._background: set[asyncio.Task[None]] = set()  # groups run again in the thread, checkpoints

    @classmethod
    async def connect(cls, path: Path, *, migrate: bool = True, readonly: bool = False) -> SqliteStore:
        if readonly:
            return await cls._connect_readonly(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        store = await cls._open(path, str(path))
        try:
            await store._call(_configure)
            if migrate:
                await store.migrate()
            if str(path) != ":memory:":
                store._open_loop_connection()
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    async def _open(cls, path: Path, database: str, *, uri: bool = False) -> SqliteStore:
        db = aiosqlite.connect(database, uri=uri, isolation_level=None)  # we issue BEGIN ourselves
        # A store left open must not keep the interpreter from exiting (aiosqlite's thread is
        # not a daemon); SQLite's transactions make an abrupt end safe.
        db._thread.daemon = True  # noqa: SLF001
        try:
            await db
        except sqlite3.Error as exc:  # a folder that cannot be written, a file that cannot be read
            _fail(exc, str(path))
        return cls(db, path)

    @classmethod
    async def _connect_readonly(cls, path: Path) -> SqliteStore:
        """An existing database, read without writing to it (no migration; its schema must be
        current). mode=ro still needs the WAL's -shm file, which a read-only folder or file system
        cannot hold; immutable=1 then reads the file as it is (a cleanly closed database has no WAL)."""
        uri = _file_uri(path)
        failure: Exception | None = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            try:
                store = await cls._open(path, f"{uri}?{options}", uri=True)
            except Unavailable as exc:
                failure = exc
                continue
            try:
                await store._call(_configure_readonly)
                await store.check_schema()
                return store
            except Unavailable as exc:
                failure = exc
                await store.close()
            except BaseException:
                await store.close()
                raise
        assert failure is not None
        raise failure

    def _open_loop_connection(self) -> None:
        conn = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
        try:
            _configure_loop(conn)
        except BaseException:
            conn.close()
            raise
        self._loop_tx = _LoopTx(conn, self.target)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(conn, *args) in the database thread, sqlite3's errors translated."""
        try:
            return await self._db._execute(fn, self._tx.conn, *args)  # noqa: SLF001
        except sqlite3.Error as exc:
            _fail(exc, self.target)

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return await self._db._execute(_drive, fn, self._tx, args)  # noqa: SLF001

    async def run_grouped(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Join the next group (see the module doc): the calls that arrive while a group runs go
        together in the next one; nothing waits for company. A grouped call writes only inside
        `tx.transaction()`: when the write lock is taken elsewhere it is run again from the start
        in the thread, which a write it had autocommitted before would make a second time."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((fn, args, future))  # type: ignore[arg-type]
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        group: list = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                if self._loop_tx is None or self._checkpointing is not None or self._restart_pending:
                    # read-only or in memory: the thread's connection. While the thread checkpoints,
                    # its groups too: no loop write lands during the checkpoint, so it copies every
                    # frame; and until one of them wrote (see _checkpoint)
                    await self._in_thread(group)
                    group = []
                    continue
                try:
                    outcomes, wrote = _drive_group_writing(self._loop_tx, [(fn, args) for fn, args, _ in group])
                except Exception as exc:  # the connection itself failed (a ROLLBACK that could not run)
                    outcomes, wrote = [(False, exc)] * len(group), False
                busy = [call for call, (ok, value) in zip(group, outcomes, strict=True)
                        if not ok and isinstance(value, _Busy)]
                _answer([(call, outcome) for call, outcome in zip(group, outcomes, strict=True)
                         if outcome[0] or not isinstance(outcome[1], _Busy)])
                group = []
                if wrote:  # and committed
                    self._committed()
                if busy:  # another connection holds the write lock: the thread waits for it, not the loop
                    self._spawn(self._in_thread(busy))
                await asyncio.sleep(0)  # the requests of this moment join the next group
        finally:
            self._drainer = None
            if group or self._waiting:  # the drain itself was cancelled (the loop is ending)
                for _, _, future in group + self._waiting:
                    future.cancel()
                self._waiting = []

    async def _in_thread(self, group: list) -> None:
        """Run a group in the database thread (busy_timeout: it waits for the write lock) and answer it."""
        try:
            outcomes, wrote = await self._db._execute(  # noqa: SLF001
                _drive_group_writing, self._tx, [(fn, args) for fn, args, _ in group])
        except asyncio.CancelledError:
            for _, _, future in group:
                future.cancel()
            raise
        except Exception as exc:  # the thread could not run the group (a closed store)
            outcomes, wrote = [(False, exc)] * len(group), False
        if self._restart_pending:
            self._restart_pending = 0 if wrote else self._restart_pending - 1
        _answer(list(zip(group, outcomes, strict=True)))

    def _committed(self) -> None:
        """A group wrote on the event loop's connection, which never checkpoints: every
        CHECKPOINT_EVERY such groups, the thread checkpoints (PASSIVE: it waits for no lock), and
        the loop does not wait for it; the groups of that moment queue behind it in the thread."""
        self._loop_commits += 1
        if self._loop_commits >= CHECKPOINT_EVERY and self._checkpointing is None:
            self._loop_commits = 0
            self._checkpointing = self._spawn(self._checkpoint())

    async def _checkpoint(self) -> None:
        """The first write after a checkpoint that copied every frame starts the WAL again from its
        beginning, and syncs its new header: groups stay in the thread until one of them wrote
        (at most RESTART_GROUPS of them: re-reads alone need not leave the loop for long)."""
        try:
            await self._call(_checkpoint)
            self._restart_pending = RESTART_GROUPS
        except Exception:  # a busy or closing database: the next one will do
            log.warning("WAL checkpoint of %s failed", self.target, exc_info=True)
        finally:
            self._checkpointing = None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def close(self) -> None:
        # the loop's connection first: then the thread's is the last, and its close (the final
        # checkpoint, an fsync) runs in the thread
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._loop_tx is not None:
            self._loop_tx.conn.close()
            self._loop_tx = None
        await self._db.close()

    async def status(self) -> MigrationStatus:
        return compare("sqlite", self.target, await self._call(_applied))

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        return await self._call(_migrate, self.target, dry_run)

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'schema_migrations' ORDER BY name"
        )
        return [r[0] for r in rows]
