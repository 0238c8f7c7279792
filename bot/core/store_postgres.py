"""The PostgreSQL driver of the Store: an asyncpg pool; hop functions run on the event loop.

`PostgresStore.run(fn, *args)` takes a connection from the pool and awaits `fn(tx, *args)`. When
the server reports a serialization failure or a deadlock (a concurrent transaction touched the
same rows: the triggers' counter rows, say), the whole function runs again after a short jittered
pause; hop functions have no effect outside the database, so running one again is safe. SQL comes
with `?` placeholders and is rewritten to $1..$n once per text. asyncpg prepares and caches each
statement per connection.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
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
log = logging.getLogger(__name__)

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


def translate(exc: BaseException) -> BaseException:
    """asyncpg's error as the Store's: IntegrityError, Unavailable, or the error itself."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        kind = next((kind for cls, kind in _KINDS if isinstance(exc, cls)), "refused")
        return IntegrityError(kind, exc.message)  # without DETAIL: the key's values stay out of messages
    lost = isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc)  # "connection is closed"
    if (isinstance(exc, _UNAVAILABLE) or lost) and not isinstance(exc, _RETRY):
        reason = f"PostgreSQL: {type(exc).__name__}: {exc}"
        log.warning("the database cannot write: %s", reason)
        return Unavailable(reason=reason)
    return exc



def _fail(exc: BaseException) -> NoReturn:
    """Raise the Store's form of a driver error (the error itself when it has none)."""
    error = translate(exc)
    if error is exc:
        raise exc
    raise error from exc

def _count(status: str) -> int:
    """Rows changed, from a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class _Transaction:
    __slots__ = ("_inner",)

    def __init__(self, conn: Connection):
        self._inner = conn.transaction()

    async def __aenter__(self) -> None:
        try:
            await self._inner.__aenter__()
        except Exception as exc:
            _fail(exc)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        try:
            await self._inner.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if error is exc:
                raise
            _fail(error)
        return False


class PostgresTx:
    dialect: ClassVar[Dialect] = "postgres"
    __slots__ = ("conn",)

    def __init__(self, conn: Connection):
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return _count(await self.conn.execute(pg_sql(sql), *params))
        except Exception as exc:
            _fail(exc)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self.conn.executemany(pg_sql(sql), rows)
        except Exception as exc:
            _fail(exc)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return [tuple(row) for row in await self.conn.fetch(pg_sql(sql), *params)]
        except Exception as exc:
            _fail(exc)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        try:
            row = await self.conn.fetchrow(pg_sql(sql), *params)
        except Exception as exc:
            _fail(exc)
        return None if row is None else tuple(row)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return await self.conn.fetchval(pg_sql(sql), *params)
        except Exception as exc:
            _fail(exc)

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

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


async def _no_session_state(conn: Connection) -> None:
    """What the pool runs on a connection given back, after rolling back an open transaction:
    nothing. Hop functions leave no session state (their settings and locks are the
    transaction's: SET TRANSACTION, pg_advisory_xact_lock; the migrations' session lock is taken
    on a connection of their own), so asyncpg's default reset query would cost a round trip to
    the server per hop for nothing."""


class PostgresStore(Store):
    dialect: ClassVar[Dialect] = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str):
        self._pool = pool
        self.url = url  # with its password: never logged or shown; `target` is for that
        self.target = redact(url)

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True, pool_size: int = POOL_SIZE) -> PostgresStore:
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=pool_size, server_settings={"application_name": "hackbot"},
                reset=_no_session_state,
            )
        except asyncpg.InvalidCatalogNameError as exc:
            raise Unavailable(f"the database of {redact(url)} does not exist: create it (createdb), then start again",
                              reason=str(exc)) from None
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise Unavailable(f"PostgreSQL refused the login of {redact(url)}: {exc}", reason=str(exc)) from None
        except (*_UNAVAILABLE, ValueError) as exc:
            raise Unavailable(f"cannot connect to {redact(url)}: {exc}; is the server running?",
                              reason=str(exc)) from None
        store = cls(pool, url)
        try:
            if migrate:
                await store.migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        pause = 0.002
        for attempt in range(RETRIES + 1):
            try:
                async with self._pool.acquire() as conn:
                    return await fn(PostgresTx(conn), *args)
            except _RETRY:
                if attempt == RETRIES:
                    raise Unavailable(reason=f"still conflicting after {RETRIES} retries") from None
                await asyncio.sleep(random.uniform(pause / 2, pause))
                pause = min(pause * 2, 0.1)
            except _UNAVAILABLE as exc:  # taking a connection from the pool failed
                _fail(exc)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._pool.close()

    async def status(self) -> MigrationStatus:
        async with self._pool.acquire() as conn:
            return compare("postgres", self.target, await _applied(conn))

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Under a session advisory lock: processes starting together wait for the first one, then
        find its migrations applied. Each file runs as one script in its own transaction."""
        try:
            conn = await asyncpg.connect(self.url, server_settings={"application_name": "hackbot migrations"})
        except (asyncpg.PostgresError, *_UNAVAILABLE) as exc:
            _fail(exc)
        try:  # a connection of its own: closing it releases the session lock whatever happened
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            return await self._migrate(conn, dry_run)
        except (asyncpg.PostgresError, *_UNAVAILABLE) as exc:
            _fail(exc)
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
