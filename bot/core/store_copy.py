"""Moving an event's database: `hackbot db copy --from FILE.sqlite3 --to postgresql://...`.

The source is read as one consistent snapshot (a read transaction on a read-only connection: a
bot still running on it goes on writing, unseen by the copy). The target must be empty; it is
migrated, then every table is copied in dependency order (a table after those its foreign keys
point to) in ONE transaction, so a copy that fails leaves the target empty. The target's
triggers check every copied row as they would a new one. Identity sequences then continue
after the copied ids. Row counts and the event's invariants (bot/core/invariants.py) are
checked on both sides, before and after.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core import invariants
from bot.core.store import Store, Tx, is_url, redact

BATCH = 1000
Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in the table)


class CopyError(Exception):
    """The copy was refused or failed; nothing was written to the target. The message says why."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    target_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.target_problems and all(t.source_rows == t.target_rows for t in self.tables)


def _dependency_order(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Tables ordered so that each comes after the tables its foreign keys reference."""
    needs = {t: {row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{t}")')} - {t} for t in tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if deps <= set(ordered))
        if not ready:
            raise CopyError(f"the foreign keys of {', '.join(sorted(needs))} form a cycle; cannot order the copy")
        ordered += ready
        for t in ready:
            del needs[t]
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


async def _target_columns(tx: Tx, table: str) -> set[str]:
    if tx.dialect == "postgres":
        rows = await tx.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
    else:
        rows = [(row[1],) for row in await tx.fetchall(f'PRAGMA table_info("{table}")')]
    return {r[0] for r in rows}


async def _reset_identities(tx: Tx, tables: list[str]) -> None:
    """PostgreSQL: identity columns go on after the largest copied id (SQLite's rowids do by themselves)."""
    if tx.dialect != "postgres":
        return
    rows = await tx.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND is_identity = 'YES' AND identity_generation = 'BY DEFAULT'"
    )
    for table, column in rows:
        if table in tables:
            await tx.execute(
                f'SELECT setval(pg_get_serial_sequence(?, ?), coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
                (table, column),
            )


async def copy_database(source: str | Path, target: str | Path, *, progress: Progress | None = None) -> CopyReport:
    """Copy the SQLite database `source` into the empty database `target` (a postgresql:// URL, or
    another SQLite file). Raises CopyError, having written nothing, when it cannot."""
    if is_url(source):
        raise CopyError("--from is a SQLite file (the database of an event run on SQLite)")
    path = Path(source)
    if not path.is_file():  # noqa: ASYNC240 (a command-line tool's first checks: nothing else runs)
        raise CopyError(f"there is no database file at {path}")
    if not is_url(target) and Path(target).resolve() == path.resolve():  # noqa: ASYNC240
        raise CopyError("--from and --to are the same file")
    report = CopyReport(str(path), redact(target))

    # the source as it is now: up to date, and holding every invariant
    checked = await Store.open(path, migrate=False)
    try:
        status = await checked.status()
        if status.pending or status.edited:
            raise CopyError(
                f"{path} is not at this release's schema ({len(status.pending)} migration(s) pending, "
                f"{len(status.edited)} edited): run `hackbot db migrate --db {path}` first"
            )
        problems = await invariants.check(checked)
    finally:
        await checked.close()
    if problems:
        raise CopyError(f"{path} breaks the event's invariants; fix them before copying:\n- " + "\n- ".join(problems))

    store = await Store.open(target, migrate=False)
    try:
        for table in await store.tables():
            if await store.fetchval(f'SELECT count(*) FROM "{table}"'):
                raise CopyError(f"{report.target} is not empty (table {table} has rows); copy into an empty database")
        await store.migrate()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")  # one snapshot of the source for the whole copy
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'schema_migrations'"
            )]
            tables = _dependency_order(conn, names)
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            target_tables = set(await store.tables())
            missing = [t for t in tables if t not in target_tables]
            if missing:
                raise CopyError(f"{report.target} has no table {', '.join(missing)}: is it a Hackbot database?")

            async def copy(tx: Tx) -> None:
                async with tx.transaction():
                    for table in tables:
                        columns = _columns(conn, table)
                        absent = set(columns) - await _target_columns(tx, table)
                        if absent:
                            raise CopyError(f"{report.target}'s table {table} lacks column(s) {', '.join(sorted(absent))}")
                        names = ", ".join(f'"{c}"' for c in columns)
                        insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
                        cursor = conn.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid')
                        # rows the migrations seeded or the copy's own triggers made (the board's change
                        # counter) give way to the source's: the target was checked empty before migrating
                        await tx.execute(f'DELETE FROM "{table}"')
                        done = 0
                        if progress:
                            progress(table, 0, counts[table])
                        while rows := cursor.fetchmany(BATCH):
                            await tx.executemany(insert, rows)
                            done += len(rows)
                            if progress:
                                progress(table, done, counts[table])
                    await _reset_identities(tx, tables)

            await store.run(copy)
            conn.execute("COMMIT")
        finally:
            conn.close()
        for table in tables:
            copied = await store.fetchval(f'SELECT count(*) FROM "{table}"')
            report.tables.append(TableCopy(table, counts[table], copied))
        report.target_problems = await invariants.check(store)
    finally:
        await store.close()
    return report
