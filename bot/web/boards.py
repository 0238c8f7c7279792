"""Where the leaderboard is built: in a worker process, so the web process's event loop only waits
for bytes.

Building a 5,000-team board (the standings, then a 4 MB page, its JSON, gzip) is about a second
of Python. In a thread of the web process it shares the interpreter lock with the event loop, and
every request answered meanwhile (a reveal, /healthz) waits its turn for the lock. Here it runs in
a small pool of worker processes owned by the web server (`start_web(board_processes=1)`; the
setting HACKBOT_BOARD_PROCESSES): each worker opens the event's database itself, read-only (the
SQLite file or the PostgreSQL URL: no row crosses the pipe), builds the board with the same
service as the web process (bot/core/board.py: the rules stay there), and sends back the
renderings, each as its bytes, gzipped once, and its ETag.

What is filed where: the web process reads the change counter on every request (one hop,
`BoardService.head`) and keeps the renderings of the last boards by (head, view); the worker
keeps the last boards themselves, so the JSON an open page fetches to update itself, a page of the
API or a search asked later is rendered from the board it already holds. (The JSON is not made
with every page: open pages ask for it every 15 s, while a busy board changes every second; made
with each page, it held the viewers' next page back: benchmarks/README.md.) One build runs at a
time per board, of the newest counter: requests that waited while the board changed again are all
answered by it. Building the same board in the worker or in the web process gives the same bytes
(a test holds it).

A worker that dies (killed, out of memory) is replaced: the pool is started again, and until the
new worker answers, boards are built in the web process's thread, as with `board_processes=0`
(a database without a counter, an in-memory SQLite database, a test) always.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context

from aiohttp import web

from bot.config import EventConfig
from bot.core.board import CACHE_SIZE, MAX_RENDERS, Board, BoardHead, BoardService, Rendered, pack
from bot.core.services import Services
from bot.core.store import Store

log = logging.getLogger(__name__)

WORKER_BOARDS = 2  # boards a worker keeps: the current phase's, and one more (an earlier phase)
RESTART_PAUSE = 10.0  # seconds before a worker that failed to start is tried again
# The worker's scheduling priority below the web process's (nice): on a busy machine the cores go
# to the event loop answering reveals first, and the board, which viewers wait for anyway, after.
WORKER_NICE = 10


@dataclass(frozen=True)
class PageView:
    """GET / : the whole board ("") or the projector's top rows."""

    view: str
    top: int


@dataclass(frozen=True)
class JsonView:
    """GET /api/leaderboard: one page of the rows, or the rows whose team name holds `team`."""

    limit: int | None
    offset: int
    team: str


View = PageView | JsonView


def rendering(board: Board, config: EventConfig, view: View) -> tuple[str, Callable[[], bytes]]:
    """A view's ETag, and the function that makes its bytes."""
    if isinstance(view, PageView):
        from bot.web.pages import render_leaderboard

        etag = board.key("page", view.view, view.top if view.view else "")
        json_etag = board.key("json", _page_json(view).limit, 0, "")
        return etag, lambda: render_leaderboard(board, config, view=view.view, top=view.top,
                                                etag=json_etag).encode()
    etag = board.key("json", view.limit, view.offset, view.team)
    return etag, lambda: json.dumps(board.to_api(limit=view.limit, offset=view.offset, team=view.team or None),
                                    allow_nan=False).encode()


def _page_json(view: PageView) -> JsonView:
    """The JSON a page fetches to update itself in place (with the ETag the page carries)."""
    return JsonView(view.top if view.view == "projector" else None, 0, "")


def database_source(store: Store) -> str | None:
    """What another process opens to read the same database, or None when it cannot (in memory)."""
    url = getattr(store, "url", None)
    if url:
        return str(url)
    path = getattr(store, "path", None)
    if path is None or str(path) == ":memory:" or str(path).startswith("file:"):
        return None
    return str(os.path.abspath(path))


class BoardBuilds:
    """The web process's side: renderings by (board, view), built by the worker processes."""

    def __init__(self, services: Services, processes: int = 0, *,
                 hook: Callable[[], None] | None = None):
        self.services = services
        self.processes = processes
        self.source = database_source(services.store) if processes > 0 else None
        self.hook = hook  # run once in each worker as it starts (tests hold a build with it)
        self.worker_pid: int | None = None  # the worker that answered the warm-up
        self.worker_builds = 0  # renderings the workers sent
        self.local_builds = 0  # renderings asked of this process (a worker starting, or none)
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None
        self._ready = False
        self._retry_at = 0.0
        self._starting: asyncio.Task | None = None
        self._cache: OrderedDict[tuple, dict[View, Rendered]] = OrderedDict()
        self._locks: dict[tuple, asyncio.Lock] = {}

    @property
    def ready(self) -> bool:
        """The workers answer: boards are built there (else in this process's thread)."""
        return self._ready

    async def wait_ready(self) -> bool:
        """Wait for the worker's start under way, if any: whether the workers answer."""
        if self._starting is not None:
            await asyncio.shield(self._starting)
        return self._ready

    async def start(self) -> None:
        if self.source is not None:
            self._spawn()

    async def close(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _spawn(self) -> None:
        """A new pool, warmed up in the background (spawned, the database opened)."""
        old, self._ready, source = self._pool, False, self.source
        assert source is not None
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)
        pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"), initializer=_worker_start,
                                   initargs=(self.services.config, source, os.getpid(), self.hook))
        self._pool = pool
        self._starting = asyncio.get_running_loop().create_task(self._warm(pool), name="hackbot-board-worker")

    async def _warm(self, pool: ProcessPoolExecutor) -> None:
        try:
            pid = await asyncio.get_running_loop().run_in_executor(pool, os.getpid)
        except Exception as exc:  # noqa: BLE001 -- a worker that cannot start: build here, try again later
            log.warning("the board worker did not start (%s: %s); boards are built in the web process",
                        type(exc).__name__, exc)
            self._retry_at = time.monotonic() + RESTART_PAUSE
            return
        if pool is self._pool:
            self.worker_pid, self._ready = pid, True
            log.info("board worker process %s ready", pid)

    def _restart(self) -> None:
        """After a worker died: a new pool, unless one is already starting or the last start failed
        moments ago."""
        if self.source is None or (self._starting is not None and not self._starting.done()):
            return
        if time.monotonic() < self._retry_at:
            return
        self.restarts += 1
        self._spawn()

    async def rendered(self, phase_id: str | None, view: View) -> Rendered:
        """The view's rendering of the phase's board (by default the current phase's)."""
        head = await self.services.board.head(phase_id)
        if head.version is None or not self._ready:
            if not self._ready:
                self._restart()
            return await self._in_process(head, view)
        key = head.key
        found = self._cache.get(key, {}).get(view)
        if found is not None:
            return found
        lane = key[1:]  # the same board but for the counter: one build at a time, of the newest counter
        async with self._locks.setdefault(lane, asyncio.Lock()):
            found = self._newest(lane, head.version, view)  # built while this request waited its turn
            if found is not None:
                return found
            wanted = [view]
            answer = await self._in_worker(head, wanted)
            if answer is None:
                return await self._in_process(head, view)
            built, made = answer
            self.worker_builds += len(made)
            renders = self._cache.setdefault(built, {})
            self._cache.move_to_end(built)
            if len(renders) < MAX_RENDERS:  # searches vary without bound: past this, made each time
                renders.update(zip(wanted, made, strict=True))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return made[0]

    def _newest(self, lane: tuple, version: int, view: View) -> Rendered | None:
        """The view of this lane's board at `version` or a later counter, if one is kept."""
        kept = [(k[0], renders[view]) for k, renders in self._cache.items()
                if k[1:] == lane and k[0] >= version and view in renders]
        return max(kept, key=lambda pair: pair[0])[1] if kept else None

    async def _in_worker(self, head: BoardHead, views: list[View]) -> tuple[tuple, list[Rendered]] | None:
        """The key of the board the worker built (`head`'s, or a later counter's) and its renderings;
        None when it cannot give them (then the caller builds here)."""
        pool = self._pool
        if pool is None:
            return None
        try:
            made = await asyncio.get_running_loop().run_in_executor(pool, _worker_render, head, views)
        except BrokenProcessPool:
            if pool is self._pool:
                log.warning("the board worker died; starting another, boards built in the web process meanwhile")
                self._ready = False
                self._restart()
            return None
        except RuntimeError:  # the pool was shut down meanwhile (a restart, the server stopping)
            return None
        if isinstance(made, str):  # the worker's failure (a database error...): this process says it right
            log.warning("the board worker could not build the board (%s); building it here", made)
            return None
        return made

    async def _in_process(self, head: BoardHead, view: View) -> Rendered:
        self.local_builds += 1
        board = await self.services.board.build(head)
        etag, make = rendering(board, self.services.config, view)
        return await board.rendered(etag, make)


BOARDS: web.AppKey[BoardBuilds] = web.AppKey("boards", BoardBuilds)


# --- the worker process ------------------------------------------------------------------------

class _Worker:
    def __init__(self, config: EventConfig, source: str):
        self.now = datetime.now(UTC)  # the web process's clock, sent with every build
        self.loop = asyncio.new_event_loop()
        self.services = self.loop.run_until_complete(
            Services.open(config, source, readonly=True, clock=lambda: self.now))
        s = self.services
        self.boards = BoardService(s.store, s.config, s.registry, s.phases, s.leaderboard, s.clock,
                                   cache_size=WORKER_BOARDS)

    async def render(self, head: BoardHead, views: list[View]) -> tuple[tuple, list[Rendered]]:
        """The board of `head`, or of a later counter when the board changed meanwhile (a request that
        waited for the build before it is answered with the newer board, not a second build)."""
        fresh = await self.boards.head(head.phase.id if head.phase else None)
        if fresh.key[1:] == head.key[1:] and (fresh.version or 0) > (head.version or 0):
            head = fresh
        board = await self.boards.build(head)
        made = [pack(make, etag) for etag, make in (rendering(board, self.services.config, v) for v in views)]
        return head.key, made


_worker: _Worker | None = None


def _worker_start(config: EventConfig, source: str, parent: int, hook: Callable[[], None] | None) -> None:
    global _worker
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(WORKER_NICE)
    if hook is not None:
        hook()
    _worker = _Worker(config, source)
    threading.Thread(target=_orphaned, args=(parent,), daemon=True, name="board-worker-parent").start()


def _orphaned(parent: int) -> None:
    """A worker whose web process is gone (killed) ends too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _worker_render(head: BoardHead, views: list[View]) -> tuple[tuple, list[Rendered]] | str:
    assert _worker is not None
    _worker.now = head.now
    try:
        return _worker.loop.run_until_complete(_worker.render(head, views))
    except Exception as exc:  # noqa: BLE001 -- sent back as text: an exception may not unpickle in the web process
        return f"{type(exc).__name__}: {exc}"


def worker_rss(pid: int) -> int | None:
    """Resident memory of a process in bytes (Linux), for the benchmark; None elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None

