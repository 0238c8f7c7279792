"""The leaderboard as the page, the JSON API and the projector show it: computed once per change,
for every process of an event.

`LeaderboardService.standings` holds the rules (totals, defaults, ranks, visibility). This module
adds what a board shows around them: the worst-group accuracy beside the accuracy where the
dataset has groups, the last submission time, "no submission yet", the next deadline, and, once
the board is final, which teams the paired bootstrap cannot separate from the team above.

Caching: the database keeps a change counter (`board_version`, migration 0014, bumped by
triggers on submissions, teams and the phase override), read in one hop with the phase override
on every request. A board is built once per (counter, phase, visibility, final, deadline) and
kept; every rendering of it (page, JSON, gzip) is made once and served from memory. Two processes
on one database see the same counter, so a submission recorded by one refreshes the other's
board on its next request. The counter is read BEFORE the standings: a board is never filed under
a counter newer than its data. `head` is that cheap read; `build` the board filed under it. The
web server builds boards in a worker process (bot/web/boards.py) with this same service.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

import scoring
from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import Clock
from bot.core.datasets import DatasetRegistry
from bot.core.errors import NotFound
from bot.core.leaderboard import LeaderboardService, Row, Standings
from bot.core.phases import PhaseClock
from bot.core.store import Store, Tx
from bot.core.visibility import scores_visible
from scoring.ties import Side, compare_totals

RENDER_REVISION = 1  # part of every ETag: bump when the markup or the JSON shape changes
TIE_DEPTH = 100  # ties are looked for among the top rows: where prizes are decided
CACHE_SIZE = 8  # boards kept per process (phases x visibility states)
GZIP_LEVEL = 6
MAX_RENDERS = 64  # renderings kept per board (views, pages of the API)


def anchor_of(team: str) -> str:
    """The stable id of a team's row (`#team-...`): the same whatever the team's rank."""
    return "team-" + hashlib.sha1(team.casefold().encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Rendered:
    """One rendering of a board: its bytes, gzipped once, and its ETag."""

    body: bytes
    gzipped: bytes
    etag: str


@dataclass(frozen=True)
class BoardHead:
    """What a board is filed under (`key`) and what its building needs besides the database. Small
    and picklable: bot/web/boards.py sends it to the process that builds the board."""

    version: int | None  # None: the database has no counter (a read-only copy); nothing is cached
    phase: Phase | None  # the phase shown
    current: Phase | None  # the phase running
    visible: bool
    final: bool
    closed: bool
    deadline: datetime | None
    now: datetime

    @property
    def key(self) -> tuple:
        return (self.version, self.phase.id if self.phase else None, self.visible, self.final, self.deadline)


@dataclass
class Board:
    version: int | None  # None: the database has no counter (a read-only copy); nothing is cached
    standings: Standings
    phases: list[Phase]  # the phases whose boards may be shown (started ones), for the switcher
    current_phase: Phase | None
    final: bool  # the phase is over: submissions closed, or a later phase has started
    closed: bool  # submissions are closed
    deadline: datetime | None  # the next deadline (a phase start or the close), None when none is left
    has_groups: list[bool]  # per dataset: it has groups_val.npy, so worst-group accuracy is shown
    worst: list[list[float | None]]  # per row, per dataset: worst-group accuracy of the counted submission
    tied_above: list[bool]  # per row: the paired bootstrap cannot separate it from the row above
    anchors: list[str]
    _renders: dict[Any, Rendered] = field(default_factory=dict, repr=False)
    _locks: dict[Any, asyncio.Lock] = field(default_factory=dict, repr=False)

    @property
    def rows(self) -> list[Row]:
        return self.standings.rows

    @property
    def datasets(self) -> list[Dataset]:
        return self.standings.datasets

    @property
    def visible(self) -> bool:
        return self.standings.visible

    @property
    def submitted_teams(self) -> int:
        return sum(1 for row in self.rows if row.last_submitted is not None)

    def key(self, *parts: object) -> str:
        """An ETag for a rendering of this board: the same in every process for the same data."""
        deadline = int(self.deadline.timestamp()) if self.deadline else "-"
        phase = self.standings.phase.id if self.standings.phase else "-"
        raw = "|".join(str(p) for p in (RENDER_REVISION, self.version, phase, int(self.visible),
                                         int(self.final), deadline, *parts))
        return '"' + hashlib.sha1(raw.encode()).hexdigest()[:20] + '"'

    async def rendered(self, etag: str, make: Callable[[], bytes]) -> Rendered:
        """`make()`'s bytes, built once in a worker thread (never on the event loop) and kept."""
        if self.version is None or len(self._renders) >= MAX_RENDERS:  # searches vary without bound
            return await asyncio.to_thread(pack, make, etag)
        found = self._renders.get(etag)
        if found is not None:
            return found
        lock = self._locks.setdefault(etag, asyncio.Lock())
        async with lock:
            found = self._renders.get(etag)
            if found is None:
                found = self._renders[etag] = await asyncio.to_thread(pack, make, etag)
            return found

    def team_json(self, i: int) -> dict[str, Any]:
        row = self.rows[i]
        last = row.last_submitted
        return {
            "rank": row.rank,
            "team": row.team,
            "total": row.total,
            "anchor": self.anchors[i],
            "last_submitted": None if last is None else f"{datetime.fromtimestamp(last, UTC):%Y-%m-%dT%H:%M:%SZ}",
            "tied_above": self.tied_above[i],
            "kind": row.kind,  # issue 16: "baseline" and "disqualified" rows are shown, never ranked
            "scores": {
                str(ds.id): {"submitted": cell.submitted, "score": cell.score, "worst_group": self.worst[i][j]}
                for j, (ds, cell) in enumerate(zip(self.datasets, row.cells, strict=True))
            },
        }

    def select(self, *, team: str | None = None) -> list[int]:
        """The row indices shown: every row, or those whose team name holds `team` (any case)."""
        if not team:
            return list(range(len(self.rows)))
        needle = team.casefold()
        return [i for i, row in enumerate(self.rows) if needle in row.team.casefold()]

    def to_api(self, *, limit: int | None = None, offset: int = 0, team: str | None = None) -> dict[str, Any]:
        """GET /api/leaderboard: the board's heading and one page of its rows."""
        chosen = self.select(team=team)
        page = chosen[offset:] if limit is None else chosen[offset:offset + limit]
        phase = self.standings.phase
        return {
            "phase": phase.id if phase else None,
            "visibility": "live" if self.visible else "hidden",
            "final": self.final,
            "closed": self.closed,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "version": self.version,
            # issue 16: which board (public, the final private one, the organizers' live one), the freeze,
            # and the label version of each corrected dataset
            "board": board.kind if (board := self.standings.board) else "public",
            "frozen": bool(board and board.frozen),
            "label_versions": {str(k): v for k, v in (board.label_versions if board else {}).items()},
            "datasets": [
                {"id": ds.id, "name": ds.name, "points": ds.points, "default_score": ds.default_score,
                 "groups": groups}
                for ds, groups in zip(self.datasets, self.has_groups, strict=True)
            ],
            "total_teams": len(self.rows),
            "submitted_teams": self.submitted_teams,
            "matched": len(chosen),
            "offset": offset,
            "limit": limit,
            "teams": [self.team_json(i) for i in page],
        }


def pack(make: Callable[[], bytes], etag: str) -> Rendered:
    body = make()
    return Rendered(body, gzip.compress(body, GZIP_LEVEL, mtime=0), etag)


class BoardService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock,
                 leaderboard: LeaderboardService, clock: Clock, *, cache_size: int = CACHE_SIZE):
        self.store, self.config, self.registry = store, config, registry
        self.phases, self.leaderboard, self.clock = phases, leaderboard, clock
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, Board] = OrderedDict()
        self._building: dict[tuple, asyncio.Lock] = {}

    async def board(self, phase_id: str | None = None) -> Board:
        """The phase's board (by default the current phase), from the cache while nothing changed."""
        return await self.build(await self.head(phase_id))

    async def head(self, phase_id: str | None = None) -> BoardHead:
        """What a board is filed under, in one hop: the change counter, the phase shown, and the
        state of the event that the board's rules depend on. Cheap: read on every request."""
        now = self.clock()
        version, override = await self.store.run(self._version)
        current = self.phases.resolve(override, now)
        phase = self._phase(current, phase_id)
        closes = self.config.submissions.closes
        closed = closes is not None and now >= closes
        earlier = phase is not None and current is not None and _index(self.config, phase) < _index(self.config, current)
        return BoardHead(version=version, phase=phase, current=current, visible=scores_visible(self.config),
                         final=closed or earlier, closed=closed, deadline=self._deadline(now), now=now)

    async def build(self, head: BoardHead) -> Board:
        """The board of `head`: built once per change (however many viewers ask at once) and kept."""
        key = head.key
        if head.version is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        lock = self._building.setdefault(key, asyncio.Lock())
        async with lock:
            if head.version is not None and key in self._cache:
                return self._cache[key]
            board = await self._build(head.version, head.phase, head.current, head.final, head.closed,
                                      head.deadline, head.now)
            if head.version is not None:
                self._cache[key] = board
                while len(self._cache) > self.cache_size:
                    old, _ = self._cache.popitem(last=False)
                    self._building.pop(old, None)
        return board

    def _phase(self, current: Phase | None, phase_id: str | None) -> Phase | None:
        if phase_id is None:
            return current or (self.config.phases[0] if self.config.phases else None)
        phase = self.config.phase(phase_id)
        if phase is None:
            known = ", ".join(p.id for p in self.config.phases) or "none"
            raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
        return phase

    def _deadline(self, now: datetime) -> datetime | None:
        """The next moment the board's rules change: a phase start or the close of submissions."""
        moments = [p.starts for p in self.config.phases]
        moments += [ds.freeze for ds in self.config.datasets if ds.freeze is not None]  # issue 16: the board freezes
        if self.config.submissions.closes is not None:
            moments.append(self.config.submissions.closes)
        future = [m for m in moments if m > now]
        return min(future) if future else None

    @staticmethod
    async def _version(tx: Tx) -> tuple[int | None, str | None]:
        """The change counter and the phase override, in one hop (no counter on an old read-only copy)."""
        try:
            row = await tx.fetchone(f"SELECT coalesce((SELECT n FROM board_version WHERE id = 1), 0), {PhaseClock.OVERRIDE}")
        except Exception:  # noqa: BLE001 -- a database older than migration 0014 (read-only CLI)
            return None, None
        assert row is not None
        return (None if row[0] is None else int(row[0])), row[1]

    async def _build(self, version: int | None, phase: Phase | None, current: Phase | None, final: bool,
                     closed: bool, deadline: datetime | None, now: datetime) -> Board:
        """Short hops read (chunks of rows); everything computed from them runs in a worker thread,
        so a request that arrives meanwhile (a reveal, a cached page) is answered at once."""
        standings = await self.leaderboard.standings(phase.id if phase else None)
        tie_teams = [row.team for row in standings.rows[:TIE_DEPTH]] if final and standings.visible else []
        raws = await self.store.run(self._tie_files, phase.id, tie_teams) if tie_teams and phase else []
        return await asyncio.to_thread(self._assemble, version, standings, phase, current, final, closed, deadline,
                                       now, raws if tie_teams and phase else None)

    def _assemble(self, version: int | None, standings: Standings, phase: Phase | None, current: Phase | None,
                  final: bool, closed: bool, deadline: datetime | None, now: datetime,
                  raws: list[tuple] | None) -> Board:
        datasets = standings.datasets
        has_groups = [
            phase is not None and (h := self.registry.get(phase.id, ds.id)) is not None and h.groups is not None
            for ds in datasets
        ]
        # the worst group of each counted submission, chosen with its score (bot/core/competition.columns_of)
        none: list[float | None] = [None] * len(datasets)
        worst = [[w if groups else None for w, groups in zip(row.worst, has_groups, strict=True)]
                 if row.worst is not None else list(none) for row in standings.rows]
        tied = [False] * len(standings.rows)
        if raws is not None and phase is not None:
            tied = self._ties(standings, phase, raws)
        started = [p for p in self.config.phases if p.starts <= now or (current and p.id == current.id)]
        return Board(
            version=version, standings=standings, phases=started, current_phase=current, final=final,
            closed=closed, deadline=deadline, has_groups=has_groups, worst=worst, tied_above=tied,
            anchors=[anchor_of(row.team) for row in standings.rows],
        )

    @staticmethod
    async def _tie_files(tx: Tx, phase_id: str, tie_teams: list[str]) -> list[tuple]:
        """The files of the top teams, for the paired bootstrap."""
        marks = ", ".join("?" * len(tie_teams))
        return await tx.fetchall(
            "SELECT t.name, s.dataset_id, s.raw FROM submissions s JOIN teams t ON t.id = s.team_id"
            f" WHERE s.phase = ? AND t.name IN ({marks}) ORDER BY s.submitted_at", (phase_id, *tie_teams),
        )

    def _ties(self, standings: Standings, phase: Phase, raws: list[tuple]) -> list[bool]:
        """Per row: its total and the one above cannot be told apart (paired bootstrap, 95%)."""
        datasets = standings.datasets
        correct: dict[tuple[str, int], np.ndarray] = {}
        for team, dataset_id, raw in raws:
            hidden = self.registry.get(phase.id, dataset_id)
            if hidden is None:
                continue
            try:
                pred = scoring.parse_labels(bytes(raw), hidden.n, hidden.labels)
            except scoring.LabelFileError:
                continue  # a file the rules since refuse: it keeps its recorded score, not a tie test
            correct[(team, dataset_id)] = np.asarray(pred) == hidden.y
        rows = standings.rows[:TIE_DEPTH]
        tied = [False] * len(standings.rows)

        for i in range(1, len(rows)):
            above, below = rows[i - 1], rows[i]
            if above.rank == below.rank:
                continue  # already sharing a rank: equal totals, equal times
            parts = []
            for j, ds in enumerate(datasets):
                a, b = above.cells[j], below.cells[j]
                side_a = Side(correct.get((above.team, ds.id)) if a.submitted else None,
                              ds.default_score if not a.submitted else float(a.score or 0.0))
                side_b = Side(correct.get((below.team, ds.id)) if b.submitted else None,
                              ds.default_score if not b.submitted else float(b.score or 0.0))
                parts.append((float(ds.points), side_a, side_b))
            tied[i] = compare_totals(parts, seed=i).tied
        return tied


def _index(config: EventConfig, phase: Phase) -> int:
    return next((i for i, p in enumerate(config.phases) if p.id == phase.id), -1)
