"""The database file: migrations, WAL, settings; several processes opening it at once."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import aiosqlite
import pytest

from bot.core.store import Store, _migrations, open_sync
from tests.core.helpers import T0, write_event
from tests.core.workers import migrate_worker, open_services_worker, run_processes


def migrations() -> list[str]:
    return [name for _, name, _ in _migrations()]  # read at test time: others add migrations


def applied(path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        conn.close()


async def test_migrations_applied_once(tmp_path):
    path = tmp_path / "sub" / "db.sqlite3"  # the folder is created
    store = await Store.open(path)
    await store.close()
    store = await Store.open(path)  # reopening applies nothing again
    await store.close()
    conn = open_sync(path)
    conn.close()
    assert [name for _, name in applied(path)] == migrations()
    assert migrations() and migrations()[0].startswith("0001_")


async def test_wal_mode_and_connection_settings(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    try:
        assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.fetchone("PRAGMA busy_timeout"))[0] >= 5000
        await store.execute("INSERT INTO phase_datasets VALUES ('mock', 1, 5, 10)")
        assert (tmp_path / "db.sqlite3-wal").exists()
        # WAL is a property of the file: any other connection sees it
        other = sqlite3.connect(path)
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # a reader is not blocked by an open write transaction
        await store.execute("BEGIN IMMEDIATE")
        assert other.execute("SELECT count(*) FROM phase_datasets").fetchone()[0] == 1
        await store.execute("ROLLBACK")
        other.close()
    finally:
        await store.close()


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    from bot.core.store import immediate

    store = await Store.open(tmp_path / "db.sqlite3")

    def half_done(conn):
        with immediate(conn):
            conn.execute("INSERT INTO phase_datasets VALUES ('mock', 1, 5, 10)")
            raise RuntimeError("boom")

    try:
        with contextlib.suppress(RuntimeError):
            await store.run(half_done)
        assert await store.fetchall("SELECT * FROM phase_datasets") == []
        await store.execute("INSERT INTO phase_datasets VALUES ('mock', 2, 5, 10)")  # usable again
    finally:
        await store.close()


def test_processes_migrating_a_fresh_database_at_once_apply_each_migration_once(tmp_path):
    rounds = [str(tmp_path / f"db{r}.sqlite3") for r in range(10)]  # fresh: not even created
    reports = run_processes(migrate_worker, [((rounds,), ()) for _ in range(4)])
    for r, path in enumerate(rounds):
        per_process = [report[r] for report in reports]
        # exactly one process applied the migrations, the others found them applied
        assert sorted(per_process, key=len) == [[], [], [], migrations()], f"round {r}: {per_process}"
        assert [name for _, name in applied(path)] == migrations()
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()


def test_processes_opening_services_on_a_fresh_database_at_once(tmp_path):
    config_path = str(write_event(tmp_path / "event"))
    db = str(tmp_path / "db.sqlite3")
    usernames = run_processes(
        open_services_worker, [((config_path, db, T0.isoformat()), ()) for _ in range(4)]
    )
    assert sorted(usernames) == ["team_0", "team_1", "team_2", "team_3"]
    assert [name for _, name in applied(db)] == migrations()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM phase_datasets").fetchone()[0] == 9
    conn.close()


@pytest.fixture
async def aiosqlite_connections(monkeypatch):
    """Every aiosqlite connection opened during the test, closed at teardown even when
    Store.open failed half way (its worker thread would otherwise keep pytest from exiting)."""
    opened = []
    connect = aiosqlite.connect

    def recording_connect(*args, **kwargs):
        conn = connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", recording_connect)
    yield opened
    for conn in opened:
        with contextlib.suppress(Exception):
            await conn.close()


async def test_opening_a_fresh_database_waits_for_another_process_converting_it(tmp_path, aiosqlite_connections):
    """Regression: switching a fresh file to WAL used to fail at once with "database is locked"
    while another process held the lock, whatever busy_timeout said (~1-8% of simultaneous
    starts on a fresh file crashed one process)."""
    path = tmp_path / "db.sqlite3"
    # another process is switching the fresh file to WAL: it holds the write lock briefly
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        store = await Store.open(path)  # busy_timeout is 30 s: this should wait 0.3 s
    finally:
        release.join()
        other.close()
    assert time.monotonic() - started >= 0.25
    assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert [name for _, name in applied(path)] == migrations()
    await store.close()


async def test_a_failed_open_closes_its_connection(tmp_path, aiosqlite_connections):
    """Regression: a failed Store.open left its connection and worker thread running."""
    path = tmp_path / "db.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        await Store.open(path)
    [conn] = aiosqlite_connections
    conn._thread.join(timeout=2)  # noqa: SLF001
    assert not conn._thread.is_alive(), "the connection's worker thread is still running"  # noqa: SLF001
