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


async def ensure_template(server: Server) -> str:
    """The migrated template database of this set of migrations (made once, kept across runs)."""
    name = _template_name()
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
            await conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        return name
    finally:
        await conn.close()


async def _new_lock() -> asyncio.Lock:
    return asyncio.Lock()


class Admin:
    """A connection to the server's admin database, in a thread of its own with its own event loop:
    fixtures (sync code, with or without a running loop) create databases through it, and drop
    them in the background while the next test runs."""

    def __init__(self, server: Server):
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hackbot-pg-admin", daemon=True)
        self._thread.start()
        self._conn: asyncpg.Connection = self.run(_admin(server))
        self._lock = self.run(_new_lock())
        self._pending: list[concurrent.futures.Future] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _execute(self, statement: str) -> None:
        async with self._lock:  # one statement at a time on the one connection
            await self._conn.execute(statement)

    def sql(self, statement: str) -> None:
        self.run(self._execute(statement))

    def sql_later(self, statement: str) -> None:
        self._pending.append(asyncio.run_coroutine_threadsafe(self._execute(statement), self.loop))

    def close(self) -> None:
        for future in self._pending:
            future.result()
        self.run(self._conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


class Databases:
    """Fresh databases of one dialect for one test."""

    def __init__(self, dialect: str, tmp_path: Path, admin: Admin | None = None, template: str | None = None):
        self.dialect, self.tmp_path, self.admin, self.template = dialect, tmp_path, admin, template
        self._made: list[str] = []

    def new(self, *, empty: bool = False) -> str:
        """A fresh database's target, holding no rows. PostgreSQL: a new database, migrated unless
        `empty`; SQLite: a path where no file is yet (the first Store.open creates and migrates it)."""
        n = next(_names)
        if self.dialect == "sqlite":
            return str(self.tmp_path / f"db{n}.sqlite3")
        assert self.admin is not None
        name = f"hb_test_{os.getpid()}_{n}"
        template = "" if empty or self.template is None else f' TEMPLATE "{self.template}"'
        self.admin.sql(f'CREATE DATABASE "{name}"{template}')
        self._made.append(name)
        return self.admin.server.url(name)

    def drop_all(self) -> None:
        """Drop the databases made (in the background: the next test need not wait)."""
        if self.admin is None:
            return
        for name in self._made:
            self.admin.sql_later(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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
