"""Perks handed out by code ([[perks]]): `hackbot perks import ID codes.csv`, then `/perk claim`.

Each eligible claimant (a team, a validated team, or a member: the perk's `who`) gets exactly one
code, the same one on every later claim, and never a code given to anyone else, whatever the
number of processes claiming at once. The database holds it (migration 0010): UNIQUE (perk,
code), UNIQUE (perk, claimant), and a trigger that refuses to change or delete a code once
given. A claim is one guarded UPDATE of one unclaimed row ... RETURNING its code; on PostgreSQL
the row is picked with FOR UPDATE SKIP LOCKED, so that concurrent claims take different rows
instead of queueing on the same one.

Codes are secrets: they are returned to the claimant only (an ephemeral reply), never logged,
never in a reply others see, never printed by the CLI (organizers see how many are left and
who claimed). Running out is reported before it happens: once when the codes left fall to the
perk's `low_stock`, and once when the last one goes.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import EventConfig, Perk
from bot.core.clock import Clock, fmt_utc
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.outbox import REPORT_KIND, REPORT_LANE, enqueue
from bot.core.store import IntegrityError, Store, Tx

MAX_CODE = 200
PG_ATTEMPTS = 50  # rounds of "take a free row" under contention before giving up (never reached in practice)


@dataclass(frozen=True)
class PerkClaim:
    perk: Perk
    code: str  # secret: show it to the claimant only
    new: bool  # False: the code given at an earlier claim
    left: int  # codes not yet claimed
    warning: str | None  # for the organizers: stock low or out (reported once per crossing)

    def __repr__(self) -> str:
        return f"PerkClaim(perk={self.perk.id!r}, code=<hidden>, new={self.new}, left={self.left})"


@dataclass(frozen=True)
class PerkStock:
    perk: Perk
    total: int
    claimed: int

    @property
    def left(self) -> int:
        return self.total - self.claimed

    @property
    def low(self) -> bool:
        return self.left <= self.perk.low_stock


@dataclass(frozen=True)
class PerkClaimant:
    claimant: str  # "team:<id>" or "member:<discord id>"
    name: str  # the team's name, or the member's id
    claimed_by: str  # the Discord user who claimed
    claimed_at: datetime


@dataclass(frozen=True)
class CodeImport:
    perk: Perk
    added: int
    already: int  # in the database already (or twice in the file)
    errors: list[tuple[int, str]]  # (line, reason): never the code itself
    left: int


class NoCodeLeft(NotAllowed):
    def __init__(self, perk: Perk):
        super().__init__(f"no {perk.title} code is left; the organizers know and may import more, ask them")


def parse_codes(text: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Codes from a CSV (the first column; a header "code" is skipped), and bad lines as
    (line, reason) without their content."""
    codes, errors = [], []
    for line, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        if line == 1 and cell.casefold() in ("code", "codes", "coupon", "voucher"):
            continue
        if len(cell) > MAX_CODE:
            errors.append((line, f"longer than {MAX_CODE} characters: is it a code?"))
            continue
        if any(c.isspace() for c in cell) or not cell.isprintable():
            errors.append((line, "contains spaces or invisible characters: codes are single words"))
            continue
        codes.append(cell)
    return codes, errors


class PerkService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock

    def perk(self, perk_id: str) -> Perk:
        for perk in self.config.perks:
            if perk.id.casefold() == perk_id.strip().casefold():
                return perk
        known = ", ".join(p.id for p in self.config.perks) or "none (add [[perks]] to the event file)"
        raise NotFound(f"no perk {perk_id!r}; the event's perks: {known}")

    def default_perk(self) -> Perk:
        """The event's only perk (for /perk claim without a choice)."""
        if len(self.config.perks) != 1:
            if not self.config.perks:
                raise NotFound("this event hands out no perks")
            raise BadInput(f"name the perk: {', '.join(p.id for p in self.config.perks)}")
        return self.config.perks[0]

    async def import_codes(self, perk_id: str, text: str) -> CodeImport:
        perk = self.perk(perk_id)
        codes, errors = parse_codes(text)
        now = self.clock().timestamp()

        async def hop(tx: Tx) -> tuple[int, int]:
            async with tx.transaction():
                before = int(await tx.fetchval("SELECT count(*) FROM perk_codes WHERE perk = ?", (perk.id,)))
                await tx.executemany(
                    "INSERT INTO perk_codes(perk, code, imported_at) VALUES (?, ?, ?) ON CONFLICT (perk, code) DO NOTHING",
                    [(perk.id, code, now) for code in codes],
                )
                after = int(await tx.fetchval("SELECT count(*) FROM perk_codes WHERE perk = ?", (perk.id,)))
                left = await _left(tx, perk.id)
                if left > perk.low_stock:  # warn again when it runs low again
                    await tx.execute("DELETE FROM event_state WHERE key IN (?, ?)", _flags(perk))
                elif left > 0:
                    await tx.execute("DELETE FROM event_state WHERE key = ?", (_flags(perk)[1],))
                return after - before, left

        added, left = await self.store.run(hop)
        return CodeImport(perk, added, len(codes) - added, errors, left)

    async def claim(self, perk_id: str | None, user_id: str) -> PerkClaim:
        """The claimant's code: the one given before, else a free one. NoCodeLeft when none is."""
        perk = self.perk(perk_id) if perk_id else self.default_perk()
        now = self.clock()
        if perk.opens is not None and now < perk.opens:
            raise NotAllowed(f"{perk.title} can be claimed from {fmt_utc(perk.opens)}")

        async def hop(tx: Tx) -> tuple[str, bool, int, str | None]:
            row = await tx.fetchone(
                "SELECT t.id, t.validated FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?",
                (user_id,),
            )
            if row is None:
                raise NotAllowed(f"{perk.title} goes to teams: /team create or /team join first")
            if perk.who == "validated_team" and not row[1]:
                raise NotAllowed(f"{perk.title} goes to validated teams; an organizer validates your team first")
            claimant = f"member:{user_id}" if perk.who == "member" else f"team:{row[0]}"
            given = await _given(tx, perk.id, claimant)
            if given is not None:
                return given, False, await _left(tx, perk.id), None
            code = await _take(tx, perk.id, claimant, user_id, now.timestamp())
            if code is None:
                raise NoCodeLeft(perk)
            if code[1] is False:  # the same claimant won a concurrent claim
                return code[0], False, await _left(tx, perk.id), None
            left = await _left(tx, perk.id)
            return code[0], True, left, await _warning(tx, perk, left, now.timestamp())

        code, new, left, warning = await self.store.run(hop)
        return PerkClaim(perk, code, new, left, warning)

    async def stock(self) -> list[PerkStock]:
        rows = dict((r[0], (r[1], r[2])) for r in await self.store.fetchall(
            "SELECT perk, count(*), count(claimant) FROM perk_codes GROUP BY perk"
        ))
        return [PerkStock(p, *rows.get(p.id, (0, 0))) for p in self.config.perks]

    async def claimants(self, perk_id: str) -> list[PerkClaimant]:
        """Who claimed the perk, in claim order: never the codes."""
        perk = self.perk(perk_id)
        rows = await self.store.fetchall(
            "SELECT c.claimant, tm.name, c.claimed_by, c.claimed_at FROM perk_codes c"
            " LEFT JOIN teams tm ON c.claimant = 'team:' || CAST(tm.id AS TEXT)"
            " WHERE c.perk = ? AND c.claimant IS NOT NULL ORDER BY c.claimed_at, c.id",
            (perk.id,),
        )
        return [PerkClaimant(r[0], r[1] or r[0].partition(":")[2], r[2], datetime.fromtimestamp(r[3], UTC))
                for r in rows]


def _flags(perk: Perk) -> tuple[str, str]:
    return f"perk-low:{perk.id}", f"perk-out:{perk.id}"


async def _given(tx: Tx, perk: str, claimant: str) -> str | None:
    return await tx.fetchval("SELECT code FROM perk_codes WHERE perk = ? AND claimant = ?", (perk, claimant))


async def _left(tx: Tx, perk: str) -> int:
    return int(await tx.fetchval("SELECT count(*) FROM perk_codes WHERE perk = ? AND claimant IS NULL", (perk,)))


_TAKE = (
    "UPDATE perk_codes SET claimant = ?, claimed_by = ?, claimed_at = ?"
    " WHERE id = (SELECT id FROM perk_codes WHERE perk = ? AND claimant IS NULL ORDER BY id LIMIT 1{lock})"
    " AND claimant IS NULL RETURNING code"
)


async def _take(tx: Tx, perk: str, claimant: str, user_id: str, now: float) -> tuple[str, bool] | None:
    """(code, True) taken now; (code, False) given to this claimant by a concurrent claim; None: none left."""
    params = (claimant, user_id, now, perk)
    if tx.dialect == "sqlite":  # one writer at a time: look again under the write lock, then take
        async with tx.transaction():
            given = await _given(tx, perk, claimant)
            if given is not None:
                return given, False
            row = await tx.fetchone(_TAKE.format(lock=""), params)
            return (row[0], True) if row else None
    for _ in range(PG_ATTEMPTS):
        try:
            # a free row no concurrent claim holds; if every free row is held, wait for one of them
            row = await tx.fetchone(_TAKE.format(lock=" FOR UPDATE SKIP LOCKED"), params)
            if row is None and await _left(tx, perk) > 0:
                row = await tx.fetchone(_TAKE.format(lock=" FOR UPDATE"), params)
        except IntegrityError as exc:
            if exc.kind != "unique":
                raise
            given = await _given(tx, perk, claimant)  # this claimant's concurrent claim won
            if given is None:
                raise
            return given, False
        if row is not None:
            return row[0], True
        if await _left(tx, perk) == 0:
            return None
    raise NotAllowed("too many claims at once; try again in a moment")


async def _warning(tx: Tx, perk: Perk, left: int, now: float) -> str | None:
    """The organizers' warning, once per crossing (the flag is a row: one process reports it)."""
    low, out = _flags(perk)
    if left == 0:
        key, text = out, (f"The last {perk.title} code was just claimed: none is left. Import more with "
                          f"`hackbot perks import {perk.id} codes.csv`.")
    elif left <= perk.low_stock:
        key, text = low, (f"Only {left} {perk.title} code(s) left (warning at {perk.low_stock}). Import more with "
                          f"`hackbot perks import {perk.id} codes.csv`.")
    else:
        return None
    async with tx.transaction():  # the flag and the organizers' report commit together
        added = await tx.fetchval(
            "INSERT INTO event_state(key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
            (key, str(left), now),
        )
        if added:
            await enqueue(tx, REPORT_KIND, f"report:{key}:{secrets.token_hex(6)}", {"text": text}, lane=REPORT_LANE)
    return text if added else None
