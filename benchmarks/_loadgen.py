"""Processes for the HTTP benchmarks: a server under test, a bare aiohttp baseline, a load generator.

Each runs in its own OS process (multiprocessing, spawn), so that the server's event loop
and the load generator's never share an interpreter. The load generator is an aiohttp
ClientSession with `concurrency` workers over one TCPConnector(limit=concurrency), sending
pre-encoded urlencoded form bodies (what `requests.post(url, data={...})` sends), a fixed
number of requests per phase, and measuring each request's latency.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_CTX = mp.get_context("spawn")


# --- servers ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _install_loop(use_uvloop: bool) -> None:
    if use_uvloop:
        import uvloop  # a trial only; not a dependency of the project

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _until_sigterm() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def _hackbot_main(config_path: str, db_path: str, conn, use_uvloop: bool, profile_path: str | None,
                  board_processes: int = 0) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bot.config import load_event
    from bot.core.services import Services
    from bot.web.server import start_web

    async def main() -> None:
        config = load_event(config_path)
        services = await Services.open(config, db_path)
        port = _free_port()
        runner = await start_web(services, "127.0.0.1", port, board_processes=board_processes)  # the real app
        if board_processes:  # measured once the board's worker answers (until then boards are built here)
            from bot.web.boards import BOARDS

            if not await runner.app[BOARDS].wait_ready():
                raise RuntimeError("the board worker did not start")
        profiler = None
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        conn.send(port)
        try:
            await _until_sigterm()
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile_path)
            await runner.cleanup()
            await services.close()

    _install_loop(use_uvloop)
    asyncio.run(main())


def _baseline_main(conn, use_uvloop: bool) -> None:
    from aiohttp import web

    async def reveal(request: web.Request) -> web.Response:
        form = await request.post()
        username, password = form["username"], form["password"]  # read, as the real handler does
        assert username and password
        dataset_id, datum_id = int(form["exercise_id"]), int(form["datum_id"])
        return web.json_response(
            {"exercise_id": dataset_id, "datum_id": datum_id, "label": 0, "previously revealed": [1, 2]}
        )

    _serve_bare(reveal, conn, use_uvloop)


def _serve_bare(reveal, conn, use_uvloop: bool) -> None:
    """Serve POST /reveal/ with this handler alone (no middleware), until SIGTERM."""
    from aiohttp import web

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/reveal/", reveal)
        runner = web.AppRunner(app, access_log=None)  # same access-log setting as start_web
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        conn.send(port)
        try:
            await _until_sigterm()
        finally:
            await runner.cleanup()

    _install_loop(use_uvloop)
    asyncio.run(main())


def _floor_main(db_path: str, phase: str, labels_dir: str, conn, use_uvloop: bool) -> None:
    """The least a reveal can cost on aiohttp if it reads and writes the database at all: the
    baseline's handler plus hackbot's own login statement (the team, the failed-login gate, the
    phase override, the team's reveals with their labels, the labels' version) and, for a datum not
    revealed yet, one INSERT (the schema's budget trigger refusing one too many: 403), on a plain
    sqlite3 connection of the event loop. The requests waiting at one moment run together, as
    hackbot groups its reveals (run one by one between requests, a statement costs some 17 µs
    more), in one transaction when one of them writes. The password's digest compared, the label
    answered. No middleware, no phase or dataset rules, no error answers but those two, one process
    only (nothing guards the check against another writer but the trigger): a floor to measure
    against, not a server."""
    import hashlib
    import hmac
    import json
    import sqlite3

    import numpy as np
    from aiohttp import web

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bot.core.reveals import _INSERT, _login_sql

    sql = _login_sql("sqlite", True)
    db = sqlite3.connect(db_path, isolation_level=None)
    labels = {int(y.parent.name[:2]): np.load(y) for y in Path(labels_dir).glob("*/y_val.npy")}  # 03_name/y_val.npy
    waiting: list[tuple[tuple, asyncio.Future]] = []

    def answer(params: tuple) -> tuple[int, dict]:
        username, password, client, dataset_id, datum_id = params
        row = db.execute(sql, (username, client, time.time() - 600, phase, dataset_id, phase, dataset_id,
                               username)).fetchone()
        if row[0] is None or not hmac.compare_digest(row[4], hashlib.sha256(password.encode()).digest()) or row[6]:
            return 401, {"error": "bad login"}
        triples = sorted(json.loads(row[7]))
        datums = [t[1] for t in triples]
        if datum_id in datums:
            label = triples[datums.index(datum_id)][2]
        else:
            label = int(labels[dataset_id][datum_id])
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(_INSERT, (phase, row[0], dataset_id, datum_id, time.time(), "floor", label))
            except sqlite3.IntegrityError:
                return 403, {"error": "budget spent"}
        return 200, {"exercise_id": dataset_id, "datum_id": datum_id, "label": label,
                     "previously revealed": [d for d in datums if d != datum_id]}

    def drain() -> None:
        group = waiting[:]
        waiting.clear()
        answers = [answer(params) for params, _ in group]
        if db.in_transaction:
            db.execute("COMMIT")
        for (_, future), result in zip(group, answers, strict=True):
            future.set_result(result)

    async def reveal(request: web.Request) -> web.Response:
        form = await request.post()
        params = (str(form["username"]), str(form["password"]), request.remote,
                  int(str(form["exercise_id"])), int(str(form["datum_id"])))
        future = asyncio.get_running_loop().create_future()
        if not waiting:
            asyncio.get_running_loop().call_soon(drain)
        waiting.append((params, future))
        status, body = await future
        return web.json_response(body, status=status)

    try:
        _serve_bare(reveal, conn, use_uvloop)
    finally:
        db.close()


class Server:
    """A server in its own process; `with Server(...) as url:` starts it and stops it (SIGTERM)."""

    def __init__(self, kind: str, *, config_path: Path | None = None, db_path: Path | str | None = None,
                 use_uvloop: bool = False, profile_path: Path | None = None, board_processes: int = 0,
                 floor: tuple[str, Path] | None = None):
        parent, child = _CTX.Pipe()
        if kind == "hackbot":
            args = (str(config_path), str(db_path), child, use_uvloop, str(profile_path) if profile_path else None,
                    board_processes)
            # a daemonic process may not start the board's worker processes
            self.proc = _CTX.Process(target=_hackbot_main, args=args, daemon=not board_processes)
        elif kind == "baseline":
            self.proc = _CTX.Process(target=_baseline_main, args=(child, use_uvloop), daemon=True)
        elif kind == "floor":  # SQLite only; `floor`: the phase id and the folder of the labels
            assert floor is not None
            args = (str(db_path), floor[0], str(floor[1]), child, use_uvloop)
            self.proc = _CTX.Process(target=_floor_main, args=args, daemon=True)
        else:
            raise ValueError(kind)
        self._conn = parent

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> str:
        self.proc.start()
        try:
            if not self._conn.poll(60):
                raise RuntimeError("the server did not start within 60 s")
            port = self._conn.recv()
        except BaseException:
            self.__exit__()
            raise RuntimeError(f"the server process failed to start (exit code {self.proc.exitcode})") from None
        return f"http://127.0.0.1:{port}/reveal/"

    def __exit__(self, *exc) -> None:
        if self.proc.pid is not None and self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


# --- load generator -----------------------------------------------------------------------

@dataclass
class Phase:
    """A fixed list of request bodies, sent by `concurrency` workers in list order."""

    name: str
    bodies: list[bytes]
    keep_every: int = 0  # keep every k-th response body (with its index) for checks; 0: none


@dataclass
class PhaseResult:
    name: str
    requests: int
    seconds: float
    statuses: Counter
    p50_ms: float
    p99_ms: float
    server_cpu: float  # CPU seconds the server process used during the phase (Linux; nan elsewhere)
    client_cpu: float  # CPU seconds the load generator used during the phase
    kept: list[tuple[int, int, bytes]] = field(default_factory=list)  # (index, status, body)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


async def _run_phase(session, target, phase: Phase, concurrency: int, server_pid: int) -> PhaseResult:
    import numpy as np

    bodies, n = phase.bodies, len(phase.bodies)
    latency = np.zeros(n)
    status = np.zeros(n, dtype=np.int32)
    kept: list[tuple[int, int, bytes]] = []
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < n:  # bounded: each index is taken once
            i = next_index
            next_index += 1
            start = time.perf_counter()
            async with session.post(target, data=bodies[i], headers=FORM) as resp:
                payload = await resp.read()
            latency[i] = time.perf_counter() - start
            status[i] = resp.status
            if phase.keep_every and i % phase.keep_every == 0:
                kept.append((i, resp.status, payload))

    server_cpu, client_cpu = _cpu_seconds(server_pid), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    seconds = time.perf_counter() - start
    server_cpu, client_cpu = _cpu_seconds(server_pid) - server_cpu, time.process_time() - client_cpu
    p50, p99 = (np.percentile(latency, [50, 99]) * 1e3) if n else (0.0, 0.0)
    statuses = Counter(int(s) for s in status)
    return PhaseResult(phase.name, n, seconds, statuses, float(p50), float(p99), server_cpu, client_cpu, kept)


async def _run_phases(url: str, phases: list[Phase], concurrency: int, server_pid: int) -> list[PhaseResult]:
    import aiohttp
    from yarl import URL

    target = URL(url)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        # one phase at a time, each with its own workers over the same session
        return [await _run_phase(session, target, phase, concurrency, server_pid) for phase in phases]


def _loadgen_main(url: str, phases: list[Phase], concurrency: int, server_pid: int, conn) -> None:
    try:
        conn.send(asyncio.run(_run_phases(url, phases, concurrency, server_pid)))
    except BaseException as exc:  # report, do not hang the parent
        conn.send(RuntimeError(f"load generator failed: {exc!r}"))
        raise


def load(url: str, phases: list[Phase], concurrency: int, server_pid: int,
         timeout: float = 600) -> dict[str, PhaseResult]:
    """Run the phases one after the other from a separate process, over one session."""
    parent, child = _CTX.Pipe()
    proc = _CTX.Process(target=_loadgen_main, args=(url, phases, concurrency, server_pid, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(timeout):
            raise RuntimeError(f"the load generator did not finish within {timeout} s")
        out = parent.recv()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if isinstance(out, BaseException):
        raise out
    return {r.name: r for r in out}
