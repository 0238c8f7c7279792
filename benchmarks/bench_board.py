"""The leaderboard under load: a 5,000-team Hackathon42 board served by the real app.

Run: .venv/bin/python benchmarks/bench_board.py [--teams 5000] [--viewers 10] [--board-processes 0,1]

The server is hackbot's app (bot.web.server.start_web) in its own OS process over a SQLite
file holding the Hackathon42 preset's 14 datasets and `--teams` validated teams (about 60 % of
the team x dataset pairs submitted, a tenth of the teams with nothing). Measured from other
processes over loopback:

  (a) GET / as a browser sends it (Accept-Encoding: gzip, no ETag: a fresh page each time):
      time to the first byte (the response's headers), p50, and the bytes transferred.
      Targets: p50 <= 50 ms, <= 400 KB. Printed as ratios to the targets (<= 1 meets them).
      Also: the first request after a change (the board rebuilt), and a 304 revalidation.
  (b) POST /reveal/ (a team re-reading a label it revealed) p99, alone and while `--viewers`
      board viewers each fetch a fresh page twice a second. Target: ratio <= 2.
  (c) The same while the board also changes every `--change` seconds (the change counter bumped,
      as a submission does), so the viewers' next request rebuilds the standings (about a second
      of work at 5,000 teams). Printed as the ratio to (b)'s p99 alone.

Each scenario runs once per `--board-processes` value, against a server started with that many
board worker processes (bot/web/boards.py): 0, the board built in a thread of the web process,
is the baseline; 1 is what `hackbot run` starts. The resident memory of the web process and of
its children (the worker, multiprocessing's resource tracker) is printed after (c).

Only the ratios are meant to travel between machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _loadgen import Server  # noqa: E402

from bot.config import load_event  # noqa: E402
from bot.core.services import Services  # noqa: E402
from bot.core.synth import synthesize_event, synthetic_board  # noqa: E402
from bot.web.boards import worker_rss  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ROWS = 300
_CTX = mp.get_context("spawn")


def write_event(folder: Path) -> Path:
    """The Hackathon42 preset, moved in time: the "real" phase running, submissions open."""
    text = (REPO / "config/hackathon42.toml").read_text()
    text = text.replace("2022-10-14T18:00:00", "2020-01-01T00:00:00")
    text = text.replace("2022-10-16T14:00:00", "2021-01-01T00:00:00")
    text = text.replace("2022-10-16T18:00:00", "2099-01-01T00:00:00")
    path = folder / "event.toml"
    path.write_text(text)
    synthesize_event(load_event(path, check_data=False), rows=ROWS)
    return path


async def populate(config_path: Path, db: Path, teams: int, revealers: int) -> list[tuple[str, str]]:
    services = await Services.open(load_event(config_path), str(db))
    try:
        await synthetic_board(services.store, services.config, services.registry, "real", teams=teams,
                              now=time.time())
        creds = []
        for i in range(revealers):
            made = await services.teams.create(f"Revealer {i}", validated=True)
            creds.append((made.team.username, made.password))
        return creds
    finally:
        await services.close()


async def fetch_page(http: aiohttp.ClientSession, url: str, headers: dict | None = None) -> tuple[float, int, int]:
    """(seconds to the first byte, bytes of the body as sent, status)."""
    start = time.perf_counter()
    async with http.get(url, headers={"Accept-Encoding": "gzip", **(headers or {})}) as r:
        first = time.perf_counter() - start
        body = await r.read()
        return first, len(body), r.status


async def reveal_latencies(base: str, creds: list[tuple[str, str]], per_worker: int, seconds: float) -> list[float]:
    """Reveal latencies: each worker sends at least `per_worker` reveals, and goes on for `seconds`."""
    bodies = [urlencode({"username": u, "password": p, "exercise_id": 0, "datum_id": 1}) for u, p in creds]
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        for body in bodies:  # the first reveal spends one label; the rest re-read it
            async with http.post(base + "/reveal/", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert r.status == 200, await r.text()

        until = time.perf_counter() + seconds

        async def worker(body: str) -> None:
            sent = 0
            while sent < per_worker or time.perf_counter() < until:
                sent += 1
                start = time.perf_counter()
                async with http.post(base + "/reveal/", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
                    await r.read()
                    assert r.status == 200
                latencies.append(time.perf_counter() - start)
                await asyncio.sleep(0.005)

        await asyncio.gather(*(worker(b) for b in bodies))
    return latencies


def _viewers_main(base: str, viewers: int, stop, counts, waited) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            async def viewer() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    first, _, _ = await fetch_page(http, base + "/")
                    counts.value += 1
                    waited.value += first
                    await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - started)))

            await asyncio.gather(*(viewer() for _ in range(viewers)))

    asyncio.run(main())


def _changes_main(db: str, every: float, stop, counts) -> None:
    """Another process moving the board's change counter, as submissions recorded elsewhere do."""
    import sqlite3

    conn = sqlite3.connect(db, timeout=30)
    while not stop.is_set():
        with conn:
            conn.execute("UPDATE board_version SET n = n + 1 WHERE id = 1")
        counts.value += 1
        stop.wait(every)
    conn.close()


def children(pid: int) -> list[int]:
    """The processes a process started (Linux): the board's worker and multiprocessing's tracker."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


async def measure(args: argparse.Namespace, config_path: Path, db: Path, creds: list[tuple[str, str]],
                  processes: int) -> None:
    where = f"{processes} board worker process(es)" if processes else "the board built in a thread of the web process"
    print(f"--- {where} (HACKBOT_BOARD_PROCESSES={processes})")
    server = Server("hackbot", config_path=config_path, db_path=db, board_processes=processes)
    with server as reveal_url:
        base = reveal_url.rsplit("/reveal/", 1)[0]
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            cold, size, _ = await fetch_page(http, base + "/")
            firsts, sizes = [], []
            for _ in range(40):
                first, size, status = await fetch_page(http, base + "/")
                assert status == 200
                firsts.append(first)
                sizes.append(size)
            async with http.get(base + "/", headers={"Accept-Encoding": "gzip"}) as r:
                etag = r.headers["ETag"]
                await r.read()
            not_modified = [await fetch_page(http, base + "/", {"If-None-Match": etag}) for _ in range(20)]
            async with http.get(base + "/", headers={"Accept-Encoding": "identity"}) as r:
                raw = len(await r.read())
        p50 = statistics.median(firsts)
        print(f"(a) GET / on {args.teams} teams: first byte p50 {p50 * 1e3:.1f} ms "
              f"(ratio to the 50 ms target: {p50 / 0.050:.2f}); {sizes[0] / 1e3:.0f} KB gzipped of "
              f"{raw / 1e6:.2f} MB (ratio to the 400 KB target: {sizes[0] / 400e3:.2f})")
        print(f"    first request after start (the board built): {cold * 1e3:.0f} ms; "
              f"304 revalidation p50: {statistics.median(x[0] for x in not_modified) * 1e3:.1f} ms, "
              f"{not_modified[0][1]} bytes")

        alone = await reveal_latencies(base, creds, args.reveals, args.window)
        a99 = p(alone, 0.99)
        for scenario in ("b", "c"):
            stop, counts, changes = _CTX.Event(), _CTX.Value("i", 0), _CTX.Value("i", 0)
            waited = _CTX.Value("d", 0.0)
            procs = [_CTX.Process(target=_viewers_main, args=(base, args.viewers, stop, counts, waited),
                                  daemon=True)]
            if scenario == "c":
                procs.append(_CTX.Process(target=_changes_main, args=(str(db), args.change, stop, changes),
                                          daemon=True))
            for proc in procs:
                proc.start()
            while counts.value < 2 * args.viewers:  # noqa: ASYNC110 -- a counter of another process
                await asyncio.sleep(0.2)
            before, changed, waited_before = counts.value, changes.value, waited.value
            started = time.perf_counter()
            crowded = await reveal_latencies(base, creds, args.reveals, args.window)
            elapsed = time.perf_counter() - started
            pages = counts.value - before
            rate = pages / elapsed
            page_wait = (waited.value - waited_before) / max(1, pages)
            rebuilt = changes.value - changed
            stop.set()
            for proc in procs:
                proc.join(10)
            c99 = p(crowded, 0.99)
            if scenario == "b":
                print(f"(b) POST /reveal/ p99 alone {a99 * 1e3:.1f} ms; with {args.viewers} viewers "
                      f"({rate:.1f} fresh pages/s served meanwhile, first byte {page_wait * 1e3:.1f} ms on average) "
                      f"{c99 * 1e3:.1f} ms; "
                      f"ratio {c99 / a99:.2f} (target <= 2)")
            else:
                print(f"(c) ... and the board changed {rebuilt} times in {elapsed:.1f} s (each change rebuilds "
                      f"it): p99 {c99 * 1e3:.1f} ms; ratio {c99 / a99:.2f} (target <= 2); "
                      f"{rate:.1f} pages/s served, first byte {page_wait * 1e3:.0f} ms on average")
            print(f"    p50 alone {p(alone, 0.5) * 1e3:.1f} ms, now {p(crowded, 0.5) * 1e3:.1f} ms")
        rss = {pid: worker_rss(pid) for pid in [server.pid, *children(server.pid)]}
        print("    resident memory after (c): " + ", ".join(
            f"{'web process' if pid == server.pid else 'child ' + str(pid)} {(m or 0) / 1e6:.0f} MB"
            for pid, m in rss.items()))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=5000)
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--reveals", type=int, default=150, help="reveals per worker (4 workers)")
    parser.add_argument("--window", type=float, default=10.0,
                        help="seconds each reveal measurement lasts at least (several board changes in (c))")
    parser.add_argument("--change", type=float, default=1.0, help="seconds between two board changes in (c)")
    parser.add_argument("--board-processes", type=lambda v: [int(x) for x in v.split(",")], default=[0, 1],
                        help="the server's board workers, one server per value: 0 (a thread) is the baseline")
    parser.add_argument("--serve", type=int, metavar="PORT",
                        help="measure nothing: write the board and serve it with `hackbot run` on this port until "
                             "Ctrl-C (for benchmarks/lighthouse_scores.py)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-board-"))
    try:
        config_path = write_event(folder)
        db = folder / "board.sqlite"
        t = time.perf_counter()
        creds = await populate(config_path, db, args.teams, revealers=4)
        print(f"{args.teams} teams x 14 datasets written in {time.perf_counter() - t:.1f} s")
        cli = Path(sys.executable).with_name("hackbot")
        command = [str(cli)] if cli.exists() else [sys.executable, "-m", "bot.cli"]
        if args.serve:
            print(f"serving http://127.0.0.1:{args.serve}/ (Ctrl-C stops)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                subprocess.run([*command, "run", "--config", str(config_path), "--db", str(db),  # noqa: ASYNC221
                                "--port", str(args.serve)], check=False)
            return
        for processes in args.board_processes:
            await measure(args, config_path, db, creds, processes)
        for layout in ("--narrow", "--csv"):
            t = time.perf_counter()
            done = subprocess.run(  # noqa: ASYNC221 -- timed alone, after the HTTP measurements
                [*command, "leaderboard", layout, "--config", str(config_path), "--db", str(db)],
                capture_output=True, text=True, check=True)
            print(f"(d) hackbot leaderboard {layout} on {args.teams} teams: {time.perf_counter() - t:.2f} s "
                  f"(the whole process), {len(done.stdout.splitlines())} lines")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
