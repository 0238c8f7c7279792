"""The PostgreSQL driver of the Store: asyncpg connections in a small pool of our own; hop
functions run on the event loop.

`PostgresStore.run(fn, *args)` takes a connection from the pool and awaits `fn(tx, *args)`. When
the server reports a serialization failure or a deadlock (a concurrent transaction touched the
same rows: the triggers' counter rows, say), the whole function runs again after a short jittered
pause; hop functions have no effect outside the database, so running one again is safe. SQL comes
with `?` placeholders and is rewritten to $1..$n once per text. asyncpg prepares and caches each
statement per connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn, TypeAlias, TypeVar

import asyncpg

from bot.core.errors import Unavailable
from bot.core.store import (
    Dialect,
    IntegrityError,
    Migration,
    MigrationStatus,
    Store,
    compare,
    edited_error,
    lock_key,
    migrations,
    redact,
)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]

T = TypeVar("T")

RETRIES = 20  # serialization failures and deadlocks: the function runs again, up to this many times
POOL_SIZE = 10
MIGRATION_LOCK = lock_key("hackbot", "migrations")

# quoted strings, quoted names and comments are copied as they are; a bare ? becomes $n
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.DOTALL)


@functools.lru_cache(maxsize=2048)
def pg_sql(sql: str) -> str:
    """`?` placeholders -> `$1..$n`, outside quotes and comments."""
    if "?" not in sql:
        return sql
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    return _TOKENS.sub(number, sql)


_RETRY = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# the server cannot do it now: a lost or refused connection (08), out of disk or connections (53),
# shut down or statement timeout (57), a read-only server (25006)
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.ConnectionDoesNotExistError,  # the connection was lost during the operation
    OSError,
    asyncio.TimeoutError,
)
_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (asyncpg.UniqueViolationError, "unique"),
    (asyncpg.CheckViolationError, "check"),
    (asyncpg.ForeignKeyViolationError, "foreign_key"),
    (asyncpg.NotNullViolationError, "not_null"),
)


def _unavailable_reason(exc: BaseException) -> str:
    """What an error that means "cannot write now" tells the organizers."""
    if isinstance(exc, asyncpg.DiskFullError):
        return "the disk of the PostgreSQL server is full"
    if isinstance(exc, asyncpg.InsufficientResourcesError):
        return "the PostgreSQL server is out of resources (disk, memory or connections)"
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return "the PostgreSQL database is read-only (a read-only session, or a standby server)"
    if isinstance(exc, asyncpg.OperatorInterventionError):
        return "the PostgreSQL server is shutting down, or cancelled the statement"
    return "the PostgreSQL server cannot be reached (the connection was refused or lost)"


def translate(exc: BaseException, target: str) -> BaseException:
    """asyncpg's error as the Store's: IntegrityError, Unavailable (its reason names what is wrong
    and the database, without its password), or the error itself."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        kind = next((kind for cls, kind in _KINDS if isinstance(exc, cls)), "refused")
        return IntegrityError(kind, exc.message)  # without DETAIL: the key's values stay out of messages
    lost = isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc)  # "connection is closed"
    if (isinstance(exc, _UNAVAILABLE) or lost) and not isinstance(exc, _RETRY):
        return Unavailable(reason=f"{_unavailable_reason(exc)} ({target}; PostgreSQL: {type(exc).__name__}: {exc})")
    return exc


def _fail(exc: BaseException, target: str) -> NoReturn:
    """Raise the Store's form of a driver error (the error itself when it has none)."""
    error = translate(exc, target)
    if error is exc:
        raise exc
    raise error from exc


def _count(status: str) -> int:
    """Rows changed, from a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class _Transaction:
    __slots__ = ("_inner", "_target")

    def __init__(self, conn: Connection, target: str):
        self._inner = conn.transaction()
        self._target = target

    async def __aenter__(self) -> None:
        try:
            await self._inner.__aenter__()
        except Exception as exc:
            _fail(exc, self._target)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        try:
            await self._inner.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if error is exc:
                raise
            _fail(error, self._target)
        return False


class PostgresTx:
    dialect: ClassVar[Dialect] = "postgres"
    __slots__ = ("conn", "target")

    def __init__(self, conn: Connection, target: str):
        self.conn = conn
        self.target = target  # without its password: for the reasons of Unavailable

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return _count(await self.conn.execute(pg_sql(sql), *params))
        except Exception as exc:
            _fail(exc, self.target)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self.conn.executemany(pg_sql(sql), rows)
        except Exception as exc:
            _fail(exc, self.target)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return [tuple(row) for row in await self.conn.fetch(pg_sql(sql), *params)]
        except Exception as exc:
            _fail(exc, self.target)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        try:
            row = await self.conn.fetchrow(pg_sql(sql), *params)
        except Exception as exc:
            _fail(exc, self.target)
        return None if row is None else tuple(row)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return await self.conn.fetchval(pg_sql(sql), *params)
        except Exception as exc:
            _fail(exc, self.target)

    def transaction(self, *, one_write: bool = False) -> _Transaction:
        return _Transaction(self.conn, self.target)  # a savepoint when nested, whatever `one_write`

    @property
    def write_locked(self) -> bool:
        return False

    async def lock(self, *key: object) -> None:
        await self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(*key),))


_CREATE_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM now()), checksum TEXT)"
)


async def _applied(conn: Connection) -> list[tuple[int, str, str | None, float]]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return []
    rows = await conn.fetch("SELECT version, name, checksum, applied_at FROM schema_migrations")
    return [(r[0], r[1], r[2], r[3]) for r in rows]


class _Pool:
    """Connections to one database, lent to one hop at a time: at most `size` open, the idle ones
    kept. asyncpg's own Pool costs ~250 µs of CPU per acquire and release (a shielded release
    task, timeouts, a proxy object, a reset query unless told otherwise), more than the statement
    of a re-read itself; this one is a list and a queue of waiters.

    Hop functions leave no session state (their settings and locks are the transaction's: SET
    TRANSACTION, pg_advisory_xact_lock; the migrations' session lock is taken on a connection of
    their own), so a connection goes back as it is, unless it is closed, still in a transaction,
    or was interrupted mid-statement (a cancelled task): then it is closed and a new one is made
    when needed. `expire_connections()` replaces every connection (new sessions read changed
    server settings)."""

    def __init__(self, url: str, size: int, settings: dict[str, str]):
        self.url, self.size, self.settings = url, size, settings
        self._idle: list[asyncpg.Connection] = []
        self._generation: dict[asyncpg.Connection, int] = {}  # every open connection, idle or lent
        self._current = 0
        self._opening = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    async def acquire(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the connection pool is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._generation.pop(conn, None)
            if len(self._generation) + self._opening < self.size:
                self._opening += 1
                try:
                    conn = await asyncpg.connect(self.url, server_settings=self.settings)
                finally:
                    self._opening -= 1
                    self._wake()
                self._generation[conn] = self._current
                return conn
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._wake()  # woken and cancelled at once: pass the turn on
                raise

    def release(self, conn: asyncpg.Connection, *, clean: bool) -> None:
        keep = (clean and not self._closed and not conn.is_closed() and not conn.is_in_transaction()
                and self._generation.get(conn) == self._current)
        if keep:
            self._idle.append(conn)
        else:
            self._generation.pop(conn, None)
            if not conn.is_closed():
                conn.terminate()
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await self.acquire()
        clean = False
        try:
            yield conn
            clean = True
        except Exception:
            clean = True  # an error the statement reported: the connection is ready for the next
            raise
        finally:  # anything else (a cancellation mid-statement) leaves the connection in doubt
            self.release(conn, clean=clean)

    async def expire_connections(self) -> None:
        self._current += 1
        idle, self._idle = self._idle, []
        for conn in idle:
            self._generation.pop(conn, None)
            await conn.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._generation.pop(conn, None)
            await conn.close()
        for conn in list(self._generation):  # lent: their hops are cut short
            conn.terminate()
        self._generation.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


class PostgresStore(Store):
    dialect: ClassVar[Dialect] = "postgres"

    def __init__(self, pool: _Pool, url: str):
        self._pool = pool
        self.url = url  # with its password: never logged or shown; `target` is for that
        self.target = redact(url)

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True, readonly: bool = False,
                      pool_size: int = POOL_SIZE) -> PostgresStore:
        """`readonly`: every session of the pool is read-only (default_transaction_read_only), and
        the schema must be current already."""
        settings = {"application_name": "hackbot"}
        if readonly:
            settings["default_transaction_read_only"] = "on"
        shown = redact(url)
        pool = _Pool(url, pool_size, settings)
        try:
            pool.release(await pool.acquire(), clean=True)  # the server answers, the login and the database exist
        except asyncpg.InvalidCatalogNameError:
            raise Unavailable(reason=f"the database of {shown} does not exist: create it (createdb), then start again"
                              ) from None
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise Unavailable(reason=f"PostgreSQL refused the login of {shown}: {exc}") from None
        except (*_UNAVAILABLE, ValueError) as exc:
            raise Unavailable(reason=f"cannot connect to {shown}: {exc}") from None
        store = cls(pool, url)
        try:
            if readonly:
                await store.check_schema()
            elif migrate:
                await store.migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        pause = 0.002
        for attempt in range(RETRIES + 1):
            try:
                async with self._pool.connection() as conn:
                    return await fn(PostgresTx(conn, self.target), *args)
            except _RETRY:
                if attempt == RETRIES:
                    raise Unavailable(reason=f"transactions on {self.target} still conflict after {RETRIES} retries"
                                      ) from None
                await asyncio.sleep(random.uniform(pause / 2, pause))
                pause = min(pause * 2, 0.1)
            except _UNAVAILABLE as exc:  # taking a connection from the pool failed
                _fail(exc, self.target)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._pool.close()

    async def status(self) -> MigrationStatus:
        async with self._pool.connection() as conn:
            return compare("postgres", self.target, await _applied(conn))

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Under a session advisory lock: processes starting together wait for the first one, then
        find its migrations applied. Each file runs as one script in its own transaction."""
        try:
            conn = await asyncpg.connect(self.url, server_settings={"application_name": "hackbot migrations"})
        except (asyncpg.PostgresError, *_UNAVAILABLE) as exc:
            _fail(exc, self.target)
        try:  # a connection of its own: closing it releases the session lock whatever happened
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            return await self._migrate(conn, dry_run)
        except (asyncpg.PostgresError, *_UNAVAILABLE) as exc:
            _fail(exc, self.target)
        finally:
            await conn.close()

    async def _migrate(self, conn: Connection, dry_run: bool) -> list[Migration]:
        await conn.execute(_CREATE_MIGRATIONS)
        status = compare("postgres", self.target, await _applied(conn))
        if status.edited:
            raise edited_error(status)
        files = {m.version: m for m in migrations("postgres")}
        for applied in status.applied:
            if applied.state == "unrecorded":
                await conn.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = $2",
                                   files[applied.version].checksum, applied.version)
        if dry_run:
            return status.pending
        for migration in status.pending:
            async with conn.transaction():
                await conn.execute(migration.text)  # one script: plpgsql bodies hold their own ';'
                await conn.execute(
                    "INSERT INTO schema_migrations(version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
        return status.pending

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename != 'schema_migrations' ORDER BY tablename"
        )
        return [r[0] for r in rows]
