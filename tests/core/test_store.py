"""The Store on both dialects: migrations (checksums, an edited file, a wave-1 database upgraded in
place, several processes at once), transactions and hop functions, errors (IntegrityError alike on
both, Unavailable on a full disk), and the SQLite file's settings."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import aiosqlite
import pytest

from bot.core.errors import Unavailable
from bot.core.services import Services
from bot.core.store import IntegrityError, MigrationError, Store, Tx, migrations, redact
from bot.core.store_postgres import pg_sql
from tests.core.helpers import T0, csv_bytes, hidden_y, load, new_team, write_event
from tests.core.workers import migrate_worker, open_services_worker, run_processes
from tests.databases import count, execute, query, sqlite_pragma

# The SQLite migrations that wave 1 applied, as wave 1 shipped them: an applied migration is never
# edited, so their checksums never change (a database of wave 1 records exactly these).
WAVE1 = {
    1: ("0001_competition.sql", "7d11023a7515b1f4a9d55a9c83ad3d556e2bb8ffd4951334d0de011584a7cdac"),
    2: ("0002_team_discord.sql", "2855c9205a5dda0f868c1aa68f537aa5d9659bfbd0d6b409deb474e408cca5df"),
    3: ("0003_schedule.sql", "6fa7ed6c3b5054eb83fac91b56395f133d8090eaed2afabf29591c8d82e58e7a"),
    4: ("0004_matchmaking.sql", "4ceb792ee6d5cc4999b413b0cc759c728b7747a37dc6af6f94dd02d75c201df6"),
}

PD = "INSERT INTO phase_datasets(phase, dataset_id, reveal_budget, rows) VALUES "  # the columns of 0001


def names(dialect: str) -> list[str]:
    return [m.name for m in migrations(dialect)]  # read at test time: others add migrations


def dialect_of(target: str) -> str:
    return "postgres" if target.startswith("postgresql://") else "sqlite"


# --- migrations ------------------------------------------------------------------------------

def test_each_version_has_a_file_for_each_dialect():
    for dialect in ("sqlite", "postgres"):
        found = migrations(dialect)
        versions = [m.version for m in found]
        assert versions == sorted(set(versions)), f"two {dialect} migrations share a number: {versions}"
        assert found[0].name == "0001_competition"
    assert names("sqlite") == names("postgres")
    sqlite = {m.version: m for m in migrations("sqlite")}
    for version, (_, checksum) in WAVE1.items():
        assert sqlite[version].checksum == checksum, f"{sqlite[version].filename} was edited: restore it"


async def test_migrations_applied_once_with_their_checksums(databases):
    target = databases.new(empty=True)
    store = await Store.open(target)
    await store.close()
    store = await Store.open(target)  # reopening applies nothing again
    try:
        status = await store.status()
        assert [m.name for m in status.applied] == names(store.dialect) and status.pending == []
        assert [m.checksum for m in status.applied] == [m.checksum for m in migrations(store.dialect)]
        assert {m.state for m in status.applied} == {"ok"}
        assert await store.migrate() == []
    finally:
        await store.close()


async def test_an_edited_migration_stops_start_up_naming_it(db):
    await (await Store.open(db)).close()  # migrated
    await execute(db, "UPDATE schema_migrations SET checksum = ? WHERE version = 3", ("0" * 64,))
    with pytest.raises(MigrationError, match=r"0003_schedule \(version 3\) was edited.*Restore the file"):
        await Store.open(db)
    store = await Store.open(db, migrate=False)  # `hackbot db status` still reads it
    try:
        status = await store.status()
        assert [(m.name, m.state) for m in status.edited] == [("0003_schedule", "edited")]
    finally:
        await store.close()


def build_wave1_database(path) -> None:
    """A database as wave 1's Store.open left it: its schema_migrations without checksums."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at REAL NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS REAL)))"
    )
    sqlite = {m.version: m for m in migrations("sqlite")}
    for version, (name, _) in WAVE1.items():
        conn.executescript(sqlite[version].text)  # byte for byte what wave 1 applied (checked above)
        conn.execute("INSERT INTO schema_migrations(version, name) VALUES (?, ?)", (version, name))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(PD + "('mock', 3, 5, 200)")
    conn.execute(
        "INSERT INTO teams(id, name, name_key, username, password_digest, validated, created_at, join_code)"
        " VALUES (7, 'Blue', 'blue', 'blue', ?, 1, 0, 'abcd1234')", (b"d" * 32,)
    )
    for user in ("u1", "u2", "u3", "u4"):  # a team over the bound a later event file sets
        conn.execute("INSERT INTO team_members(team_id, user_id, joined_at) VALUES (7, ?, 0)", (user,))
    for datum in range(5):
        conn.execute("INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source)"
                     " VALUES ('mock', 7, 3, ?, 0, 'discord')", (datum,))
    conn.execute("COMMIT")
    conn.close()


async def test_a_wave1_database_is_upgraded_in_place(tmp_path):
    path = tmp_path / "wave1.sqlite3"
    build_wave1_database(path)
    store = await Store.open(path)
    try:
        status = await store.status()
        assert [m.version for m in status.applied] == [m.version for m in migrations("sqlite")]
        assert status.pending == [] and {m.state for m in status.applied} == {"ok"}
        recorded = {m.version: (m.name, m.checksum) for m in status.applied}
        assert {v: recorded[v] for v in WAVE1} == WAVE1  # wave 1's names kept, its checksums recorded
        # the data is there, and the old triggers still hold
        assert await store.fetchval("SELECT count(*) FROM reveals") == 5
        with pytest.raises(IntegrityError, match="^reveal budget spent$"):
            await store.execute("INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source)"
                                " VALUES ('mock', 7, 3, 9, 0, 'raw')")
    finally:
        await store.close()
    # the event file's bound applies from the next start on: 4 members stay, a 5th is refused
    services = await Services.open(load(write_event(tmp_path / "event", max_size=3)), path)
    try:
        assert await services.teams.members(7) == ["u1", "u2", "u3", "u4"]
        with pytest.raises(IntegrityError, match="^team is full$"):
            await services.store.execute("INSERT INTO team_members(team_id, user_id, joined_at) VALUES (7, 'u5', 0)")
    finally:
        await services.close()


async def test_a_migration_recorded_under_another_name_stops_start_up(tmp_path):
    path = tmp_path / "other.sqlite3"
    build_wave1_database(path)
    await execute(str(path), "UPDATE schema_migrations SET name = '0002_something_else.sql' WHERE version = 2")
    with pytest.raises(MigrationError, match="0002_something_else.sql"):
        await Store.open(path)


def test_processes_migrating_a_fresh_database_at_once_apply_each_migration_once(databases):
    rounds = [databases.new(empty=True) for _ in range(6 if databases.dialect == "sqlite" else 3)]
    reports = run_processes(migrate_worker, [((rounds,), ()) for _ in range(4)], timeout=120)
    expected = names(databases.dialect)
    for r, target in enumerate(rounds):
        per_process = [report[r] for report in reports]
        # exactly one process applied the migrations, the others found them applied
        assert sorted(per_process, key=len) == [[], [], [], expected], f"round {r}: {per_process}"
        applied = asyncio.run(query(target, "SELECT name FROM schema_migrations ORDER BY version"))
        assert [name for (name,) in applied] == expected


def test_processes_opening_services_on_a_fresh_database_at_once(tmp_path, databases):
    config_path = str(write_event(tmp_path / "event"))
    target = databases.new(empty=True)
    usernames = run_processes(
        open_services_worker, [((config_path, target, T0.isoformat()), ()) for _ in range(4)], timeout=120
    )
    assert sorted(usernames) == ["team_0", "team_1", "team_2", "team_3"]
    assert asyncio.run(count(target, "SELECT count(*) FROM phase_datasets")) == 9
    assert asyncio.run(count(target, "SELECT count(*) FROM schema_migrations")) == len(names(dialect_of(target)))


# --- hop functions and transactions ----------------------------------------------------------

async def test_a_failed_transaction_leaves_nothing_behind(db):
    store = await Store.open(db)

    async def half_done(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute(PD + "('mock', 1, 5, 10)")
            raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError, match="boom"):
            await store.run(half_done)
        assert await store.fetchall("SELECT * FROM phase_datasets") == []
        await store.execute(PD + "('mock', 2, 5, 10)")  # usable again
        assert await store.fetchall("SELECT phase, dataset_id FROM phase_datasets") == [("mock", 2)]
    finally:
        await store.close()


async def test_a_nested_transaction_is_a_savepoint(db):
    store = await Store.open(db)

    async def nested(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute(PD + "('mock', 1, 5, 10)")
            with contextlib.suppress(IntegrityError):
                async with tx.transaction():
                    await tx.execute(PD + "('mock', 2, 5, 10)")
                    await tx.execute(PD + "('mock', 2, 5, 10)")  # duplicate
            await tx.execute(PD + "('mock', 3, 5, 10)")

    try:
        await store.run(nested)
        assert await store.fetchall("SELECT dataset_id FROM phase_datasets ORDER BY dataset_id") == [(1,), (3,)]
    finally:
        await store.close()


async def test_a_one_write_block_refused_leaves_its_group_and_enclosing_writes(db):
    """transaction(one_write=True): a block whose one write is refused by the database (a
    constraint, a trigger) loses only that write: the group's other writes, and those of an
    enclosing transaction, are kept; on SQLite it takes the write lock without a savepoint (the
    reveal's new datum), and `write_locked` says the lock is held from then on."""
    store = await Store.open(db)
    locks: list[tuple[bool, bool]] = []

    async def add(tx: Tx, dataset_id: int) -> int:
        before = tx.write_locked
        async with tx.transaction(one_write=True):
            locks.append((before, tx.write_locked))
            await tx.execute(PD + "('mock', ?, 5, 10)", (dataset_id,))
        return dataset_id

    async def enclosing(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute(PD + "('mock', 20, 5, 10)")
            with contextlib.suppress(IntegrityError):
                async with tx.transaction(one_write=True):
                    await tx.execute(PD + "('mock', 20, 5, 10)")  # duplicate: refused alone
            await tx.execute(PD + "('mock', 21, 5, 10)")

    try:
        await store.execute(PD + "('mock', 100, 5, 10)")
        outcomes = await asyncio.gather(*(store.run_grouped(add, d) for d in (1, 100, 2, 3)), return_exceptions=True)
        assert outcomes[0] == 1 and outcomes[2:] == [2, 3]
        assert isinstance(outcomes[1], IntegrityError) and outcomes[1].kind in ("unique", "refused")
        await store.run(enclosing)
        rows = await store.fetchall("SELECT dataset_id FROM phase_datasets ORDER BY dataset_id")
        assert rows == [(1,), (2,), (3,), (20,), (21,), (100,)]
        if store.dialect == "sqlite":  # one group: the first took the lock, the later ones read under it
            assert locks[0] == (False, True) and all(lock == (True, True) for lock in locks[1:])
        else:
            assert not any(before or during for before, during in locks)
    finally:
        await store.close()


async def test_grouped_calls_each_keep_their_own_outcome(db):
    """Calls waiting together may run as one group (SQLite: one hop, one commit): a call refused
    by the database, or failing on its own, leaves the others' writes and answers as they were."""
    store = await Store.open(db)

    async def add(tx: Tx, dataset_id: int, fail: bool) -> tuple[int, bool]:
        async with tx.transaction():
            await tx.execute(PD + "('mock', ?, 5, 10)", (dataset_id,))
            if fail:
                raise RuntimeError(f"call {dataset_id} fails after its write")
        return dataset_id, tx.conn.in_transaction if tx.dialect == "sqlite" else False  # type: ignore[attr-defined]

    async def duplicate(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute(PD + "('mock', 100, 5, 10)")  # written before the group

    try:
        await store.execute(PD + "('mock', 100, 5, 10)")
        calls = [store.run_grouped(add, d, d == 7) for d in range(12)]
        calls.insert(5, store.run_grouped(duplicate))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        refused = outcomes.pop(5)
        assert isinstance(refused, IntegrityError) and refused.kind in ("unique", "refused")
        assert isinstance(outcomes[7], RuntimeError) and "call 7" in str(outcomes[7])
        assert [o[0] for i, o in enumerate(outcomes) if i != 7] == [d for d in range(12) if d != 7]
        rows = await store.fetchall("SELECT dataset_id FROM phase_datasets ORDER BY dataset_id")
        assert rows == [(d,) for d in range(12) if d != 7] + [(100,)]
        if store.dialect == "sqlite":  # they ran as a group: the later calls were inside its transaction
            assert any(o[1] for i, o in enumerate(outcomes) if i not in (0, 7))
    finally:
        await store.close()


async def test_a_group_whose_commit_fails_answers_none_of_its_writers(tmp_path):
    """SQLite: the group's COMMIT is the only commit of its calls' writes; when it fails (here a
    deferred foreign key, checked at COMMIT), every call from the first writer on hears the error
    and nothing is written. A call that only read before any write keeps its answer."""
    store = await Store.open(tmp_path / "db.sqlite3")
    await store.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await store.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")

    async def read(tx: Tx) -> int:
        return await tx.fetchval("SELECT count(*) FROM phase_datasets")

    async def add(tx: Tx, dataset_id: int) -> int:
        async with tx.transaction():
            await tx.execute(PD + "('mock', ?, 5, 10)", (dataset_id,))
        return dataset_id

    async def orphan(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute("INSERT INTO child(parent_id) VALUES (42)")  # fine until COMMIT

    try:
        outcomes = await asyncio.gather(
            store.run_grouped(read), store.run_grouped(add, 1), store.run_grouped(orphan),
            store.run_grouped(add, 2), store.run_grouped(read), return_exceptions=True,
        )
        assert outcomes[0] == 0
        assert all(isinstance(o, IntegrityError) and o.kind == "foreign_key" for o in outcomes[1:]), outcomes
        assert await store.fetchval("SELECT count(*) FROM phase_datasets") == 0
        assert await store.fetchval("SELECT count(*) FROM child") == 0
        assert await store.run_grouped(add, 3) == 3  # the store goes on
        assert await store.fetchall("SELECT dataset_id FROM phase_datasets") == [(3,)]
    finally:
        await store.close()


async def test_a_group_whose_transaction_the_disk_ends_answers_none_of_its_writers(tmp_path):
    """SQLite: a full disk (SQLITE_FULL) rolls back the whole transaction, not the one statement:
    the group's earlier writes are gone too. Their calls hear that nothing was recorded (a reveal
    answered but not written would be a label for free); a call that only read before any write
    keeps its answer, and a call after the failure writes in a transaction of its own."""
    store = await Store.open(tmp_path / "db.sqlite3")
    await store.execute("CREATE TABLE blobs (data BLOB)")

    async def read(tx: Tx) -> int:
        return await tx.fetchval("SELECT count(*) FROM phase_datasets")

    async def add(tx: Tx, dataset_id: int) -> int:
        async with tx.transaction(one_write=dataset_id % 2 == 0):
            await tx.execute(PD + "('mock', ?, 5, 10)", (dataset_id,))
        return dataset_id

    async def too_big(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute("INSERT INTO blobs(data) VALUES (zeroblob(1000000))")  # past max_page_count

    try:
        pages = await store.fetchval("PRAGMA page_count")
        await sqlite_pragma(store, f"max_page_count = {pages + 1}")  # a page or so for the small rows
        outcomes = await asyncio.gather(
            store.run_grouped(read), store.run_grouped(add, 1), store.run_grouped(add, 2),
            store.run_grouped(too_big), store.run_grouped(add, 3), return_exceptions=True,
        )
        assert outcomes[0] == 0
        assert all(isinstance(o, Unavailable) and "full" in o.reason for o in outcomes[1:4]), outcomes
        assert outcomes[4] == 3
        assert await store.fetchall("SELECT dataset_id FROM phase_datasets") == [(3,)]
        assert await store.fetchval("SELECT count(*) FROM blobs") == 0
    finally:
        await store.close()


async def test_a_hop_function_that_awaits_anything_else_is_stopped(tmp_path):
    """On SQLite a hop function runs in the database thread: it must not wait on the event loop."""
    store = await Store.open(tmp_path / "db.sqlite3")

    async def sleeps(tx: Tx) -> None:
        await tx.execute(PD + "('mock', 1, 5, 10)")
        await asyncio.sleep(0)

    try:
        with pytest.raises(RuntimeError, match="awaited something other than its Tx"):
            await store.run(sleeps)
        assert await store.fetchval("SELECT count(*) FROM phase_datasets") == 1  # autocommitted before
    finally:
        await store.close()


async def test_constraint_errors_read_the_same_on_both_dialects(services):
    team, _ = await new_team(services, "Blue")
    store = services.store
    cases = [
        ("unique", "INSERT INTO team_members(team_id, user_id, joined_at) VALUES (?, 'u1', 0)", (team.id,)),
        ("check", PD + "('x', 1, -1, 10)", ()),
        ("foreign_key", "INSERT INTO team_members(team_id, user_id, joined_at) VALUES (999, 'u9', 0)", ()),
        ("not_null", "INSERT INTO event_state(key, value, updated_at) VALUES ('k', NULL, 0)", ()),
    ]
    await store.execute("INSERT INTO team_members(team_id, user_id, joined_at) VALUES (?, 'u1', 0)", (team.id,))
    for kind, sql, params in cases:
        with pytest.raises(IntegrityError) as refused:
            await store.execute(sql, params)
        assert refused.value.kind == kind, refused.value.message
    with pytest.raises(IntegrityError) as trigger:
        await store.execute("INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source)"
                            " VALUES ('mock', ?, 3, 100000, 0, 'raw')", (team.id,))
    assert (trigger.value.kind, trigger.value.message) == ("refused", "datum out of range")


async def test_serialization_failures_are_run_again(databases):
    """PostgreSQL at REPEATABLE READ refuses the second of two concurrent read-modify-writes of a
    row; the Store runs the function again, so 10 increments give 10 (SQLite serializes them)."""
    store = await Store.open(databases.new())
    await store.execute("INSERT INTO event_state(key, value, updated_at) VALUES ('n', '0', 0)")

    async def increment(tx: Tx) -> None:
        async with tx.transaction():
            if tx.dialect == "postgres":
                await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            value = int(await tx.fetchval("SELECT value FROM event_state WHERE key = 'n'"))
            await tx.execute("SELECT pg_sleep(0.01)" if tx.dialect == "postgres" else "SELECT 1")
            await tx.execute("UPDATE event_state SET value = ? WHERE key = 'n'", (str(value + 1),))

    try:
        await asyncio.gather(*(store.run(increment) for _ in range(10)))
        assert await store.fetchval("SELECT value FROM event_state WHERE key = 'n'") == "10"
    finally:
        await store.close()


def test_placeholders_are_numbered_outside_quotes_and_comments():
    sql = "SELECT '?', \"a?b\", x FROM t -- what?\nWHERE a = ? AND b IN (?, ?) /* ? */ AND c = 'it''s ?'"
    assert pg_sql(sql) == (
        "SELECT '?', \"a?b\", x FROM t -- what?\nWHERE a = $1 AND b IN ($2, $3) /* ? */ AND c = 'it''s ?'"
    )


def test_a_url_is_shown_without_its_password():
    assert redact("postgresql://event:s3cret@db.example.org:5433/hackbot?sslmode=require") == (
        "postgresql://event:***@db.example.org:5433/hackbot?sslmode=require"
    )
    assert redact("postgres://event@localhost/hackbot") == "postgres://event@localhost/hackbot"
    assert redact(".hackbot/event.sqlite3") == ".hackbot/event.sqlite3"


# --- unavailable -----------------------------------------------------------------------------

@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
async def test_a_full_disk_records_nothing_and_says_to_try_again(open_services):
    """SQLITE_FULL (what a full disk gives) from a low max_page_count: the submission is refused
    with 503, nothing is written, and the same file goes through once there is room again."""
    services = await open_services(rows=5000, max_bytes=200_000)
    team, _ = await new_team(services, "Blue")
    pages = await services.store.fetchval("PRAGMA page_count")
    await services.store.execute(f"PRAGMA max_page_count = {pages}")
    data = csv_bytes(hidden_y(services.config, "mock", 0))  # 10 kB kept raw in its row: new pages
    with pytest.raises(Unavailable) as full:
        await services.submissions.submit(team, 0, "p.csv", data, source="test")
    assert full.value.status == 503
    assert full.value.message == "nothing was recorded: the server cannot write right now; try again in a minute"
    assert "full" in full.value.reason
    assert await services.store.fetchval("SELECT count(*) FROM submissions") == 0
    await services.store.execute("PRAGMA max_page_count = 1073741823")
    accepted = await services.submissions.submit(team, 0, "p.csv", data, source="test")
    assert accepted.accuracy == 1.0


async def test_a_read_only_database_records_nothing_and_says_to_try_again(services):
    """A database that turned read-only (SQLite's query_only; on PostgreSQL, a server that became
    a standby refuses writes the same way): a reveal is refused with 503 and spends nothing."""
    team, _ = await new_team(services, "Blue")
    if services.store.dialect == "sqlite":
        await sqlite_pragma(services.store, "query_only = ON")
    else:
        name = await services.store.fetchval("SELECT current_database()")
        await services.store.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await services.store._pool.expire_connections()  # noqa: SLF001 (new sessions read the setting)
    with pytest.raises(Unavailable) as refused:
        await services.reveals.reveal(team, 3, 7)
    assert refused.value.status == 503 and "nothing was recorded" in refused.value.message
    assert "read" in refused.value.reason.lower()
    if services.store.dialect == "sqlite":
        await sqlite_pragma(services.store, "query_only = OFF")
    else:
        async def writable(tx: Tx) -> None:
            async with tx.transaction():
                await tx.execute("SET TRANSACTION READ WRITE")
                await tx.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')

        await services.store.run(writable)
        await services.store._pool.expire_connections()  # noqa: SLF001
    assert (await services.reveals.reveal(team, 3, 7)).remaining == 4  # the refused one spent nothing


def _file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


async def test_a_database_opened_read_only_reads_and_never_writes(tmp_path, databases, clock):
    """Services.open(readonly=True), as the CLI's listing commands fall back to on a read-only
    file system: the teams and the standings read; a write is refused (503) and nothing changes."""
    config = load(write_event(tmp_path / "event"))
    target = databases.new()
    services = await Services.open(config, target, clock=clock)
    try:
        await new_team(services, "Blue")
    finally:
        await services.close()
    before = _file_bytes(target) if databases.dialect == "sqlite" else None
    readonly = await Services.open(config, target, clock=clock, readonly=True)
    try:
        assert [t.name for t in await readonly.teams.list()] == ["Blue"]
        assert [r.team for r in (await readonly.leaderboard.standings(organizer=True)).rows] == ["Blue"]
        with pytest.raises(Unavailable) as refused:
            await readonly.teams.create("Red")
        assert refused.value.message == Unavailable.MESSAGE
        assert "read-only" in refused.value.reason and readonly.store.target in refused.value.reason
    finally:
        await readonly.close()
    assert await count(target, "SELECT count(*) FROM teams") == 1
    if before is not None:
        assert _file_bytes(target) == before  # not a byte written


async def test_a_read_only_database_missing_a_migration_says_which(databases):
    """A read-only database cannot be migrated: opening it names the migration it lacks."""
    target = databases.new()
    await (await Store.open(target)).close()
    last = migrations(databases.dialect)[-1]
    await execute(target, "DELETE FROM schema_migrations WHERE version = ?", (last.version,))
    with pytest.raises(Unavailable) as refused:
        await Store.open(target, readonly=True)
    assert f"needs migration {last.name}, which a read-only database cannot take" in refused.value.reason
    assert await count(target, "SELECT count(*) FROM schema_migrations WHERE version = ?", (last.version,)) == 0


async def test_a_database_locked_past_the_timeout_is_unavailable(tmp_path):
    """Another process holds SQLite's write lock longer than busy_timeout: the write is refused
    (503) rather than left hanging, and goes through once the lock is released."""
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await store.execute("PRAGMA busy_timeout = 200")
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Unavailable) as locked:
            await store.execute(PD + "('mock', 1, 5, 10)")
        assert "locked" in locked.value.reason
        other.execute("ROLLBACK")
        await store.execute(PD + "('mock', 1, 5, 10)")
        assert await store.fetchval("SELECT count(*) FROM phase_datasets") == 1
    finally:
        other.close()
        await store.close()


async def test_an_unreachable_server_is_unavailable():
    with pytest.raises(Unavailable) as refused:
        await Store.open("postgresql://hb:secret@127.0.0.1:9/x")
    assert refused.value.message == Unavailable.MESSAGE  # what a participant would see: no URL
    assert "cannot connect to postgresql://hb:***@127.0.0.1:9/x" in refused.value.reason
    assert "secret" not in refused.value.reason


# --- the SQLite file -------------------------------------------------------------------------

async def test_wal_mode_and_connection_settings(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    try:
        assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.fetchone("PRAGMA busy_timeout"))[0] >= 5000
        await store.execute(PD + "('mock', 1, 5, 10)")
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


async def test_groups_run_on_a_loop_connection_that_never_waits_nor_checkpoints(tmp_path):
    """SQLite: the reveals' groups run on a connection of the event loop's own: a lock it cannot
    take at once goes to the database thread (busy_timeout 0), and it never checkpoints (a
    checkpoint fsyncs: the thread runs them)."""
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        loop_conn = store._loop_tx.conn  # type: ignore[attr-defined]  # noqa: SLF001
        assert loop_conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        assert loop_conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert loop_conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert loop_conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        await store.close()
    for readonly, target in ((True, tmp_path / "db.sqlite3"), (False, ":memory:")):
        store = await Store.open(target, readonly=readonly)  # these keep to the thread's connection
        try:
            assert store._loop_tx is None  # type: ignore[attr-defined]  # noqa: SLF001
            assert await store.run_grouped(_count_datasets) == 0
        finally:
            await store.close()


async def _count_datasets(tx: Tx) -> int:
    return await tx.fetchval("SELECT count(*) FROM phase_datasets")


async def test_grouped_writes_wait_for_a_lock_held_elsewhere_in_the_thread(tmp_path):
    """SQLite: another process holds the write lock. A grouped read answers at once; the grouped
    writes (tried on the loop's connection, which does not wait) wait in the database thread and
    are written once each when the lock is released; a caller that gave up meanwhile hears nothing
    (its write still lands, as any group's under way does), and the store goes on."""
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)

    async def add(tx: Tx, dataset_id: int) -> int:
        async with tx.transaction():
            await tx.execute(PD + "('mock', ?, 5, 10)", (dataset_id,))
        return dataset_id

    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        writes = [asyncio.create_task(store.run_grouped(add, d)) for d in range(3)]
        assert await store.run_grouped(_count_datasets) == 0
        assert not any(task.done() for task in writes)
        writes[1].cancel()
        other.execute("ROLLBACK")
        assert await asyncio.gather(writes[0], writes[2]) == [0, 2]
        assert writes[1].cancelled()
        assert await store.run_grouped(add, 3) == 3
        rows = await store.fetchall("SELECT dataset_id FROM phase_datasets ORDER BY dataset_id")
        assert rows == [(0,), (1,), (2,), (3,)]  # each once; the cancelled caller's too, as a group in the thread
    finally:
        other.close()
        await store.close()


async def test_the_wal_is_checkpointed_while_groups_write_on_the_loop(tmp_path, monkeypatch):
    """The loop's connection never checkpoints; the database thread does, every CHECKPOINT_EVERY
    groups written on the loop, so the -wal file stops growing: a WAL restarted from its beginning
    holds far fewer frames than the writes made (without the checkpoints, at least one a write)."""
    from bot.core import store_sqlite

    monkeypatch.setattr(store_sqlite, "CHECKPOINT_EVERY", 10)
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    await store.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

    async def add(tx: Tx, i: int) -> int:
        async with tx.transaction():
            await tx.execute("INSERT INTO notes(body) VALUES (?)", (f"note {i} " * 50,))
        return i

    try:
        await store.run(lambda tx: tx.fetchval("PRAGMA wal_checkpoint(TRUNCATE)"))
        writes = 300
        assert [await store.run_grouped(add, i) for i in range(writes)] == list(range(writes))
        assert await store.fetchval("SELECT count(*) FROM notes") == writes
        frames = (path.with_name("db.sqlite3-wal").stat().st_size - 32) // (4096 + 24)  # header, frames
        assert frames < writes // 3, f"the WAL holds {frames} frames after {writes} writes: never checkpointed?"
    finally:
        await store.close()


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
    assert [m.name for m in (await store.status()).applied] == names("sqlite")
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
