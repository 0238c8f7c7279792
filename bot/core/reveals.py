"""Revealing hidden labels, one datum at a time, within a budget per team, dataset and phase.

Re-revealing a datum already revealed answers the same label and costs nothing. The budget is
held by the database (a trigger on `reveals`); the check and the insert run in one hop, under
the write lock, so 200 concurrent requests from several processes still spend exactly the
budget.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.config import Dataset, EventConfig
from bot.core.clock import Clock
from bot.core.datasets import DatasetRegistry
from bot.core.errors import BadInput, NotAllowed, NotFound, Unavailable
from bot.core.labels import LabelBook
from bot.core.phases import OpenDataset, PhaseClock, open_dataset
from bot.core.ratelimit import LoginGate, LoginGated
from bot.core.store import Dialect, IntegrityError, Store, Tx
from bot.core.teams import LOGIN_COLUMNS, Team, bad_login, digest, login_name, verify

Item = TypeVar("Item")
R = TypeVar("R")


@dataclass(frozen=True)
class Reveal:
    dataset_id: int
    datum_id: int
    label: int
    previously_revealed: list[int]  # this team's other revealed datums, in reveal order
    budget: int
    new: bool  # False when the datum had been revealed before (free)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.previously_revealed) - 1

    def to_api(self) -> dict:
        """The Hackathon42 leaderboard server's answer, key for key."""
        return {
            "exercise_id": self.dataset_id,
            "datum_id": self.datum_id,
            "label": self.label,
            "previously revealed": self.previously_revealed,
        }


@dataclass(frozen=True)
class Budget:
    """What is left of a team's reveal budget on one dataset of the current phase."""

    dataset: Dataset
    revealed: int

    @property
    def remaining(self) -> int:
        return max(0, self.dataset.reveal_budget - self.revealed)


# Outcomes of the one-hop function, turned into errors on the event loop side.
_BAD_LOGIN, _NOT_VALIDATED, _SPENT, _GATED = "bad login", "not validated", "spent", "gated"

_REVEALED = "SELECT datum_id FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? ORDER BY id"
_INSERT = ("INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source, label)"
           " VALUES (?, ?, ?, ?, ?, ?, ?)")
# PostgreSQL: the check and the write as one guarded statement (one round trip, no transaction);
# the budget trigger's counter row decides between concurrent writers of the same team. It also
# returns the team's reveals as the statement found them (without this one).
_INSERT_GUARDED = (
    "WITH added AS (INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source, label)"
    " SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ?) < ?"
    " ON CONFLICT (phase, team_id, dataset_id, datum_id) DO NOTHING RETURNING id)"
    " SELECT (SELECT count(*) FROM added),"
    " ARRAY(SELECT datum_id FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? ORDER BY id)"
)


@functools.cache
def _login_sql(dialect: str, gated: bool) -> str:
    """The login's one statement: the team (LOGIN_COLUMNS, NULLs for an unknown username: the same
    statement and work either way), the phase override, the limiter's gate, and in the phase the
    statement expects, the team's reveals with the labels they answered and the version of the
    labels in force (a re-read is then this statement alone; a new reveal this and the guarded
    INSERT on PostgreSQL, this and the write transaction on SQLite). The reveals: two arrays in
    reveal order on PostgreSQL; on SQLite one JSON array of [id, datum, label] (`_reveals_of`)."""
    gate = LoginGate.SQL if gated else "0"
    phase = "COALESCE(" + PhaseClock.OVERRIDE + ", ?)"
    version = (f"(SELECT max(version) FROM label_versions WHERE phase = {phase} AND dataset_id = ?"
               " AND confirmed_at IS NOT NULL)")
    if dialect == "postgres":
        mine = f" FROM reveals WHERE phase = {phase} AND team_id = t.id AND dataset_id = ? ORDER BY id)"
        extra = f"ARRAY(SELECT datum_id{mine}, ARRAY(SELECT label{mine}, {version}"
    else:
        extra = ("(SELECT json_group_array(json_array(id, datum_id, label)) FROM reveals"
                 f" WHERE phase = {phase} AND team_id = t.id AND dataset_id = ?), NULL, {version}")
    columns = ", ".join(f"t.{c.strip()}" for c in LOGIN_COLUMNS.split(","))
    return (f"SELECT {columns}, {PhaseClock.OVERRIDE}, {gate}, {extra}"
            " FROM (SELECT 1) AS one LEFT JOIN teams t ON t.username = ?")


# PostgreSQL: the gated login statements of concurrent HTTP reveals as one statement, a row per
# login in their order, each row what _login_sql gives for it (the same subqueries, over the
# columns of the batch): one round trip for the whole group.
_PHASE_OF_ROW = "COALESCE(" + PhaseClock.OVERRIDE + ", r.expected)"
_MINE_OF_ROW = (f" FROM reveals v WHERE v.phase = {_PHASE_OF_ROW} AND v.team_id = t.id AND v.dataset_id = r.dataset_id"
                " ORDER BY v.id)")
_LOGIN_ROWS = (
    "SELECT " + ", ".join(f"t.{c.strip()}" for c in LOGIN_COLUMNS.split(",")) + f", {PhaseClock.OVERRIDE}, "
    + LoginGate.sql("r.gate_username", "r.client", "r.since")
    + f", ARRAY(SELECT v.datum_id{_MINE_OF_ROW}, ARRAY(SELECT v.label{_MINE_OF_ROW},"
    f" (SELECT max(version) FROM label_versions WHERE phase = {_PHASE_OF_ROW} AND dataset_id = r.dataset_id"
    " AND confirmed_at IS NOT NULL)"
    " FROM unnest(?::text[], ?::text[], ?::text[], ?::float8[], ?::text[], ?::bigint[])"
    " WITH ORDINALITY AS r(username, gate_username, client, since, expected, dataset_id, i)"
    " LEFT JOIN teams t ON t.username = r.username ORDER BY r.i"
)

LoginRead = tuple[str, tuple[str, str, float], str | None, int]  # username, the gate's params, expected phase, dataset


async def _login_rows(tx: Tx, reads: list[LoginRead]) -> list[tuple]:
    columns: list[list] = [[], [], [], [], [], []]
    for username, (gate_username, client, since), expected, dataset_id in reads:
        for column, value in zip(columns, (username, gate_username, client, since, expected, dataset_id), strict=True):
            column.append(value)
    return await tx.fetchall(_LOGIN_ROWS, columns)


class _Gathered(Generic[Item, R]):
    """PostgreSQL: calls waiting at one moment, run together as one statement by `run_group(items)`
    (one outcome per item, in order), the next group gathering while one runs. `key`: items of one
    key go in separate groups (one a group, in their order). A group that fails as a whole gives
    each of its items `fallback(error)`, or the error `fallback` raises."""

    def __init__(self, run_group: Callable[[list[Item]], Awaitable[list[R]]], fallback: Callable[[Exception], R],
                 key: Callable[[Item], Hashable] | None = None):
        self._run_group, self._fallback, self._key = run_group, fallback, key
        self._waiting: list[tuple[Item, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run_groups())
        return await future

    def _next_group(self) -> list[tuple[Item, asyncio.Future[R]]]:
        if self._key is None:
            everything, self._waiting = self._waiting, []
            return everything
        group: list[tuple[Item, asyncio.Future[R]]] = []
        rest: list[tuple[Item, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        for entry in self._waiting:
            key = self._key(entry[0])
            (rest if key in keys else group).append(entry)
            keys.add(key)
        self._waiting = rest
        return group

    async def _run_groups(self) -> None:
        group: list[tuple[Item, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                group = self._next_group()
                try:
                    outcomes = list(await self._run_group([item for item, _ in group]))
                except Exception as exc:  # noqa: BLE001 - each item goes on its own way
                    try:
                        outcomes = [self._fallback(exc)] * len(group)
                    except Exception as error:  # noqa: BLE001 - the answer of every item
                        for _, future in group:
                            if not future.done():
                                future.set_exception(error)
                        group = []
                        continue
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
                group = []
        finally:
            self._runner = None
            for _, future in group + self._waiting:  # the runner was cancelled (the loop is ending)
                future.cancel()
            self._waiting = []


# PostgreSQL: the guarded INSERTs of a group's new reveals (one per team and dataset) as one
# statement: each row is checked against its own team's count, as _INSERT_GUARDED does, in key
# order (the budget trigger's counter rows are locked in the same order by every process).
_INSERT_ROWS = (
    "WITH r AS (SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::float8[], ?::text[],"
    " ?::bigint[], ?::bigint[]) WITH ORDINALITY AS r(phase, team_id, dataset_id, datum_id, at, source, label, budget, i)),"
    " added AS (INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source, label)"
    " SELECT r.phase, r.team_id, r.dataset_id, r.datum_id, r.at, r.source, r.label FROM r"
    " WHERE (SELECT count(*) FROM reveals v WHERE v.phase = r.phase AND v.team_id = r.team_id"
    " AND v.dataset_id = r.dataset_id) < r.budget ORDER BY r.phase, r.team_id, r.dataset_id"
    " ON CONFLICT (phase, team_id, dataset_id, datum_id) DO NOTHING RETURNING phase, team_id, dataset_id)"
    " SELECT (SELECT count(*) FROM added a WHERE a.phase = r.phase AND a.team_id = r.team_id AND a.dataset_id = r.dataset_id),"
    " ARRAY(SELECT v.datum_id FROM reveals v WHERE v.phase = r.phase AND v.team_id = r.team_id"
    " AND v.dataset_id = r.dataset_id ORDER BY v.id) FROM r ORDER BY r.i"
)

NewReveal = tuple[str, int, int, int, float, str, int, int]  # phase, team, dataset, datum, at, source, label, budget
Inserted = tuple[int, list[int]] | None  # (rows added, the team's reveals as the statement found them); None: alone


async def _insert_rows(tx: Tx, reveals: list[NewReveal]) -> list[Inserted]:
    columns: list[list] = [[] for _ in range(8)]
    for reveal in reveals:
        for column, value in zip(columns, reveal, strict=True):
            column.append(value)
    return [(int(added), list(revealed)) for added, revealed in await tx.fetchall(_INSERT_ROWS, columns)]


def _login_reads(store: Store) -> _Gathered[LoginRead, tuple | None]:
    """The login statements of the HTTP reveals waiting at one moment, read in one statement
    (`_LOGIN_ROWS`). Each row is read from the database by that statement, as its own would be:
    nothing is kept between groups. A group the server refuses as a whole (a value it cannot take)
    answers None to each, and each reveal then reads its own login as before."""
    async def run_group(logins: list[LoginRead]) -> list[tuple | None]:
        return list(await store.run(_login_rows, logins))
    return _Gathered(run_group, lambda exc: None)


def _inserts(store: Store) -> _Gathered[NewReveal, Inserted]:
    """The guarded INSERTs of new reveals waiting at one moment, one statement for a group of
    distinct teams and datasets. A group the database refuses as a whole (the budget trigger,
    when another process wrote meanwhile) answers None to each: each reveal then writes alone.
    A database that cannot write now (Unavailable) is every reveal's answer."""
    async def run_group(reveals: list[NewReveal]) -> list[Inserted]:
        return await store.run(_insert_rows, reveals)

    def fallback(exc: Exception) -> Inserted:
        if isinstance(exc, Unavailable):
            raise exc
        return None
    return _Gathered(run_group, fallback, key=lambda r: (r[0], r[1], r[2]))


class _NeedsConnection(Exception):
    """Raised by _NO_TX: the hop function needs the database after all."""


class _NoTx:
    """A Tx without a connection, for a hop that may decide from a row read already (a re-read,
    a refusal): if it asks the database anything, it is run again on a real connection."""

    dialect: Dialect = "postgres"

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise _NeedsConnection

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise _NeedsConnection

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise _NeedsConnection

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        raise _NeedsConnection

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise _NeedsConnection

    def transaction(self, *, one_write: bool = False) -> AbstractAsyncContextManager[None]:
        raise _NeedsConnection

    write_locked = False

    async def lock(self, *key: object) -> None:
        raise _NeedsConnection


_NO_TX: Tx = _NoTx()


async def _reveal_hop(
    tx: Tx,
    service: RevealService,
    team: Team | None,
    login: tuple[str, bytes] | None,
    dataset_id: int,
    datum_id: int,
    now: datetime,
    source: str,
    gate: LoginGate | None = None,
    login_row: tuple | None = None,
) -> tuple[str, Team | None, OpenDataset | None, list[int], int | None]:
    """The login, the phase (the organizers' override is read here, so a phase set by another
    process holds for this very request), the budget check and the write: one hop. The label
    answered: the one a reveal of this datum answered before (a label fixed since does not
    change it), else the label in force. `login_row`: the login statement's row, read by the
    caller's group (PostgreSQL, `_LoginReads`) for this login, gate and `now`."""
    override = PhaseClock.OVERRIDE
    locked = tx.write_locked  # SQLite: a group's earlier write took the lock; what is read now holds
    known: list[int] | None = None  # the team's reveals, when the login statement read them
    answers: list[int | None] = []  # ...the labels they answered
    version: int | None = None  # ...and the version of the labels in force
    expected: str | None = None  # ...in this phase
    if login is not None:  # the team, the override, the gate (and the reveals) in one read
        expected_phase = service.config.phase_at(now)
        expected = expected_phase.id if expected_phase else None
        row = login_row
        if row is None:
            params: list[object] = list(gate.params(login[0])) if gate is not None else []
            params += [expected, dataset_id] * (3 if tx.dialect == "postgres" else 2)
            row = await tx.fetchone(_login_sql(tx.dialect, gate is not None), (*params, login[0]))
        assert row is not None  # the LEFT JOIN gives one row, a team or NULLs
        if row[6]:  # this client failed on this username lately: the limiter decides first
            return _GATED, None, None, [], None
        team = verify(row if row[0] is not None else None, login[1])
        if team is None:  # a stranger learns nothing about the event: refused as such first
            return _BAD_LOGIN, None, None, [], None
        phase_value, validated = row[5], team.validated
        if row[7] is not None:
            known, answers = _reveals_of(row)
            expected, version = phase_value if phase_value is not None else expected, row[9] or 1
    else:  # a Team held by Discord may be stale: its validation is re-read
        assert team is not None
        row = await tx.fetchone(f"SELECT validated, {override} FROM teams WHERE id = ?", (team.id,))
        if row is None:
            raise NotFound("your team no longer exists; /team create or /team join first")
        validated, phase_value = row
    opened = open_dataset(service.config, service.registry, service.phases.resolve(phase_value, now), now, dataset_id)
    n = opened.hidden.n
    if not 0 <= datum_id < n:
        raise BadInput(f"datum_id {datum_id} is out of range: dataset {dataset_id} has {n} rows, ids 0 to {n - 1}")
    if service.config.teams.require_validation and not validated:
        return _NOT_VALIDATED, team, opened, [], None
    key = (opened.phase.id, team.id, dataset_id)
    budget = opened.dataset.reveal_budget
    fresh = known is not None and expected == opened.phase.id  # the login statement read them
    revealed = known if fresh and known is not None else [r[0] for r in await tx.fetchall(_REVEALED, key)]
    if datum_id in revealed:  # re-reading: no write, no lock
        answered = answers[revealed.index(datum_id)] if fresh else await _answered(tx, key, datum_id)
        return "again", team, opened, revealed, answered
    if len(revealed) >= budget:
        return _SPENT, team, opened, revealed, None
    in_force = await service.labels.in_force(tx, opened.hidden, opened.dataset, version if fresh else None)
    label = int(in_force.y[datum_id])
    try:
        if tx.dialect == "postgres":
            inserted = None
            if tx is _NO_TX:  # with the other new reveals of the moment, in one statement
                inserted = await service._inserts.submit((*key, datum_id, now.timestamp(), source, label, budget))
            added, revealed = inserted or await tx.fetchone(
                _INSERT_GUARDED, (*key, datum_id, now.timestamp(), source, label, *key, budget, *key)
            ) or (0, [])
            if added:
                return "new", team, opened, list(revealed), label
            if datum_id not in revealed and len(revealed) < budget:  # written meanwhile, after this statement began
                revealed = [r[0] for r in await tx.fetchall(_REVEALED, key)]
        else:  # SQLite: the write lock first (BEGIN IMMEDIATE), then the check and the write
            async with tx.transaction(one_write=True):  # no savepoint: the INSERT is the only write
                if not (fresh and locked):  # read before the lock: another process may have written since
                    revealed = [r[0] for r in await tx.fetchall(_REVEALED, key)]
                if datum_id not in revealed and len(revealed) < budget:
                    await tx.execute(_INSERT, (*key, datum_id, now.timestamp(), source, label))
                    return "new", team, opened, revealed, label
    except IntegrityError:  # the database's own check refused it: another request spent the budget
        revealed = [r[0] for r in await tx.fetchall(_REVEALED, key)]
    if datum_id in revealed:
        return "again", team, opened, list(revealed), await _answered(tx, key, datum_id)
    return _SPENT, team, opened, list(revealed), None


def _reveals_of(row: tuple) -> tuple[list[int], list[int | None]]:
    """The team's reveals as the login statement read them: datums and the labels they answered,
    in reveal order."""
    if isinstance(row[7], str):  # SQLite: a JSON array of [id, datum, label], in no promised order
        triples = sorted(json.loads(row[7]))
        return [t[1] for t in triples], [t[2] for t in triples]
    return list(row[7]), list(row[8])


async def _answered(tx: Tx, key: tuple, datum_id: int) -> int | None:
    """The label a reveal of this datum answered (None: revealed before labels were kept)."""
    return await tx.fetchval(
        "SELECT label FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? AND datum_id = ?", (*key, datum_id)
    )


class RevealService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock, clock: Clock,
                 labels: LabelBook | None = None):
        self.store, self.config, self.registry, self.phases, self.clock = store, config, registry, phases, clock
        self.labels = labels or LabelBook(config, registry)
        self._logins = _login_reads(store)
        self._inserts = _inserts(store)

    async def reveal(self, team: Team, dataset_id: int, datum_id: int, *, source: str = "discord") -> Reveal:
        return await self._reveal(team, None, dataset_id, datum_id, source)

    async def reveal_with_login(
        self, username: str, password: str, dataset_id: int, datum_id: int, *, source: str = "http",
        gate: LoginGate | None = None,
    ) -> Reveal:
        """The HTTP API's reveal: the login check, the budget check and the write in one hop.
        With `gate` (LoginLimiter.gate), a client that failed on this username lately is stopped
        with LoginGated before its password is even compared: the limiter's check decides. A NUL
        byte in the username (no username has one; PostgreSQL's text cannot hold it) becomes
        U+FFFD: an unknown username, on both databases."""
        return await self._reveal(None, (login_name(username), digest(password)), dataset_id, datum_id, source, gate)

    async def revealed(self, team: Team, phase: str, dataset_id: int) -> list[int]:
        rows = await self.store.fetchall(
            "SELECT datum_id FROM reveals WHERE phase = ? AND team_id = ? AND dataset_id = ? ORDER BY id",
            (phase, team.id, dataset_id),
        )
        return [r[0] for r in rows]

    async def budgets(self, team: Team | None) -> list[Budget]:
        """The current phase's datasets with the team's remaining budget on each (the whole budget
        for someone without a team); empty before the first phase."""
        return await self.store.run(self._budgets, team, self.clock())

    async def _budgets(self, tx: Tx, team: Team | None, now: datetime) -> list[Budget]:
        phase = await self.phases.current_in(tx, now)
        if phase is None:
            return []
        counts: dict[int, int] = {}
        if team is not None:
            rows = await tx.fetchall(
                "SELECT dataset_id, count(*) FROM reveals WHERE phase = ? AND team_id = ? GROUP BY dataset_id",
                (phase.id, team.id),
            )
            counts = dict(rows)
        return [Budget(ds, counts.get(ds.id, 0)) for ds in self.config.datasets_in_phase(phase.id)]

    async def _reveal(self, team: Team | None, login: tuple[str, bytes] | None, dataset_id: int, datum_id: int,
                      source: str, gate: LoginGate | None = None) -> Reveal:
        now = self.clock()
        if self.store.dialect == "postgres" and login is not None and gate is not None:
            # the login statement is read with those of the reveals waiting with it; a re-read or
            # a refusal is then decided from its row, a new reveal writes in a hop of its own
            expected = self.config.phase_at(now)
            row = await self._logins.submit((login[0], gate.params(login[0]), expected.id if expected else None, dataset_id))
            args = (self, team, login, dataset_id, datum_id, now, source, gate, row)
            try:
                outcome, team, opened, revealed, label = await _reveal_hop(_NO_TX, *args)
            except _NeedsConnection:
                outcome, team, opened, revealed, label = await self.store.run(_reveal_hop, *args)
        else:
            outcome, team, opened, revealed, label = await self.store.run_grouped(
                _reveal_hop, self, team, login, dataset_id, datum_id, now, source, gate
            )
        if outcome == _GATED:
            raise LoginGated()
        if outcome == _BAD_LOGIN:
            raise bad_login()
        if outcome == _NOT_VALIDATED:
            raise NotAllowed("your team is not validated yet; an organizer must validate it before you can reveal labels")
        assert opened is not None
        budget = opened.dataset.reveal_budget
        if outcome == _SPENT:
            raise NotAllowed(
                f"{len(revealed)} of {budget} labels already revealed for dataset {dataset_id}: "
                f"{', '.join(map(str, revealed))}; re-revealing one of those is free"
            )
        previous = [d for d in revealed if d != datum_id]
        answered = int(opened.hidden.y[datum_id]) if label is None else int(label)
        return Reveal(dataset_id, datum_id, answered, previous, budget, outcome == "new")
