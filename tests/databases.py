"""Fresh databases for the tests, on either dialect, and a dialect-neutral way to look into them.

- `Databases(tmp_path, server)`: `new()` gives a fresh target, a SQLite file path or a PostgreSQL
  URL of a new database. A PostgreSQL one is a copy of a template migrated once per set of
  migrations (`hb_tmpl_<hash>`), so a test starts in a few milliseconds; `new(empty=True)` is an
  unmigrated one (for the migration tests). Every database made is dropped by `drop_all()`.
- `query`/`execute`: plain SQL on a target, outside the Services (the Store with no migration:
  `?` placeholders, tuples, IntegrityError on both dialects). Tests use these instead of
  sqlite3.connect.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import itertools
import os
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from bot.core.store import Store, migrations
from bot.core.store_postgres import PostgresStore
from bot.core.store_sqlite import SqliteStore
from tests.postgres_server import Server

T = TypeVar("T")
_names = itertools.count()


def _template_name() -> str:
    text = "".join(m.checksum for m in migrations("postgres"))
    return "hb_tmpl_" + hashlib.sha256(text.encode()).hexdigest()[:12]


async def _admin(server: Server) -> asyncpg.Connection:
    return await asyncpg.connect(server.admin_url)


def _template_key(name: str) -> int:
    """The advisory lock key of a template: a session holds it shared while it makes copies."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def ensure_template(server: Server, holder: asyncpg.Connection | None = None) -> str:
    """The migrated template database of this set of migrations (made once, kept across runs).

    `holder`, a connection kept for the session, holds the template's advisory lock shared: the
    sessions of other worktrees on the same server (other migrations, so other templates) drop
    the templates no session holds, never one in use."""
    name = _template_name()
    if holder is not None:
        await holder.execute("SELECT pg_advisory_lock_shared($1)", _template_key(name))
    conn = await _admin(server)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return name
        building = f"{name}_{os.getpid()}"
        await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{building}"')
        store = await Store.open(server.url(building))
        await store.close()
        try:
            await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        except asyncpg.DuplicateDatabaseError:  # another run made it meanwhile
            await conn.execute(f'DROP DATABASE "{building}" WITH (FORCE)')
        # templates of older migrations are of no use any more
        for (old,) in await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hb\\_tmpl\\_%' AND datname != $1 AND length(datname) = $2",
            name, len(name),
        ):
            if await conn.fetchval("SELECT pg_try_advisory_lock($1)", _template_key(old)):  # no session uses it
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", _template_key(old))
        return name
    finally:
        await conn.close()


async def _new_lock() -> asyncio.Lock:
    return asyncio.Lock()


class Admin:
    """A connection to the server's admin database, in a thread of its own with its own event loop:
    fixtures (sync code, with or without a running loop) create databases through it.

    A test's migrated databases are recycled: after the test, in the background, its leftover
    connections are ended, every table is emptied and the identity columns restarted, and the
    database goes back to a free list, as clean as a new copy of the template (~2 ms instead of
    the ~100 ms of CREATE DATABASE + DROP DATABASE). One that a test changed in a way a reset
    does not undo (its migrations, its tables, a setting of the database) is dropped instead."""

    def __init__(self, server: Server, template: str | None = None):
        self.server, self.template = server, template
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hackbot-pg-admin", daemon=True)
        self._thread.start()
        self._conn: asyncpg.Connection = self.run(_admin(server))
        self._lock = self.run(_new_lock())
        self._pending: list[concurrent.futures.Future] = []
        self._free: list[str] = []  # recycled databases, clean
        self._shape: tuple | None = None  # the template's migrations and tables, to recognize a clean one

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    @property
    def connection(self) -> asyncpg.Connection:
        """The session's admin connection (for ensure_template's lock; it lives on this loop)."""
        return self._conn

    async def _execute(self, statement: str) -> None:
        async with self._lock:  # one statement at a time on the one connection
            await self._conn.execute(statement)

    def sql(self, statement: str) -> None:
        self.run(self._execute(statement))

    def new_database(self, name: str, *, empty: bool) -> str:
        """The name of a database ready for a test: a recycled one, else a new copy of the template."""
        if not empty:
            for future in [f for f in self._pending if f.done()]:
                self._pending.remove(future)
                future.result()  # a reset that failed shows up here
            if self._free:
                return self._free.pop()
        template = "" if empty or self.template is None else f' TEMPLATE "{self.template}"'
        self.sql(f'CREATE DATABASE "{name}"{template}')
        return name

    def release(self, name: str, *, empty: bool) -> None:
        """After the test: recycle the database (or drop it), in the background."""
        coro = self._drop(name) if empty else self._recycle(name)
        self._pending.append(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def _drop(self, name: str) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _shape_of(self, conn: asyncpg.Connection) -> tuple:
        migrations_ = tuple(await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version"))
        tables = tuple(await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2"
        ))
        triggers = tuple(await conn.fetch("SELECT tgname, tgenabled FROM pg_trigger ORDER BY 1"))
        return migrations_, tables, triggers

    async def _recycle(self, name: str) -> None:
        async with self._lock:
            await self._conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            settings = await self._conn.fetchval(
                "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1",
                name,
            )
        conn = await asyncpg.connect(self.server.url(name))
        try:
            if self._shape is None:
                template = await asyncpg.connect(self.server.url(self.template or "postgres"))
                try:
                    self._shape = await self._shape_of(template)
                finally:
                    await template.close()
            clean = not settings and await self._shape_of(conn) == self._shape
            if clean:
                await self._empty(conn)
        except asyncpg.InsufficientPrivilegeError:  # session_replication_role needs a superuser
            clean = False
        finally:
            await conn.close()
        if clean:
            self._free.append(name)
        else:
            await self._drop(name)

    @staticmethod
    async def _empty(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")  # no triggers, no FK checks
            tables = [r[0] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )]
            for table in tables:
                await conn.execute(f'DELETE FROM "{table}"')
            for table, column in await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND is_identity = 'YES'"
            ):
                await conn.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" RESTART WITH 1')

    def close(self) -> None:
        for future in self._pending:
            future.result()
        for name in self._free:
            self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.run(self._conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


class Databases:
    """Fresh databases of one dialect for one test."""

    def __init__(self, dialect: str, tmp_path: Path, admin: Admin | None = None):
        self.dialect, self.tmp_path, self.admin = dialect, tmp_path, admin
        self._made: list[tuple[str, bool]] = []

    def new(self, *, empty: bool = False) -> str:
        """A fresh database's target, holding no rows. PostgreSQL: a database of its own, migrated
        unless `empty`; SQLite: a path where no file is yet (the first Store.open creates and
        migrates it)."""
        n = next(_names)
        if self.dialect == "sqlite":
            return str(self.tmp_path / f"db{n}.sqlite3")
        assert self.admin is not None
        name = self.admin.new_database(f"hb_test_{os.getpid()}_{n}", empty=empty)
        self._made.append((name, empty))
        return self.admin.server.url(name)

    def drop_all(self) -> None:
        """Give the databases made back (recycled or dropped in the background: the next test need
        not wait)."""
        if self.admin is None:
            return
        for name, empty in self._made:
            self.admin.release(name, empty=empty)
        self._made.clear()


async def query(target: str | Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    store = await Store.open(target, migrate=False)
    try:
        return await store.fetchall(sql, params)
    finally:
        await store.close()


async def execute(target: str | Path, sql: str, params: Sequence[Any] = ()) -> int:
    store = await Store.open(target, migrate=False)
    try:
        return await store.execute(sql, params)
    finally:
        await store.close()


async def count(target: str | Path, sql: str, params: Sequence[Any] = ()) -> int:
    rows = await query(target, sql, params)
    return int(rows[0][0])


def target_of(store: Store) -> str:
    """Where a Store's database is, as Store.open takes it (a PostgreSQL URL with its password)."""
    if isinstance(store, SqliteStore):
        return str(store.path)
    assert isinstance(store, PostgresStore)
    return store.url


async def sqlite_pragma(store: Store, pragma: str) -> None:
    """A per-connection PRAGMA (`query_only = ON`) on each connection a SQLite store writes with:
    the database thread's and the event loop's, which runs the reveals' groups."""
    assert isinstance(store, SqliteStore)
    await store.execute(f"PRAGMA {pragma}")
    if store._loop_tx is not None:  # noqa: SLF001
        store._loop_tx.conn.execute(f"PRAGMA {pragma}")  # noqa: SLF001
