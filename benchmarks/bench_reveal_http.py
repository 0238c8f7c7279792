"""Reveal throughput over real HTTP on loopback: hackbot's app vs a bare aiohttp handler.

Run: .venv/bin/python benchmarks/bench_reveal_http.py [--quick] [--db postgresql://user@host/postgres] [--floor]

Three OS processes per measurement: the server (hackbot's real app from
`bot.web.server.start_web`, over a real SQLite file, or with --db over PostgreSQL: the URL
names a database of a server on which the benchmark creates, copies (CREATE DATABASE ...
TEMPLATE) and drops its own databases; or the baseline, a bare aiohttp handler
that parses the same form and returns the same JSON shape), and a load generator (aiohttp
ClientSession, 64 workers, urlencoded bodies as `requests.post(data=...)` sends them). Both
servers run without access log. Measurements alternate hackbot, baseline, hackbot, ... and
each side's median throughput is taken, to cancel the noise of a shared machine; only the
ratio is meaningful (the load generator shares the cores with the server, on both sides).
The server's CPU time per request (both of its threads, from /proc) moves less with the
machine's load than req/s does, and its ratio, baseline / hackbot, is issue 10's measure
(targets: re-reads >= 0.70, new reveals >= 0.50); and when the load generator is near 100 % of a
core (the notes under the table), the baseline's req/s is the client's limit, not the server's.

Scenarios:
  (a) re-read: teams re-request labels they have already revealed (no write).  target >= 0.40
  (b) new reveals: 500 validated teams reveal fresh datums in every dataset until their
      budgets are spent, each round on a fresh database.                     target >= 0.25
Checks: every response is 200 while budget remains, one more datum per team and dataset is
403, the reveals table holds exactly teams x datasets x budget rows, sampled answers carry the
true label and the team's previous reveals, and no 5xx anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _loadgen import Phase, PhaseResult, Server, load  # noqa: E402

from bot.config import EventConfig, load_event  # noqa: E402
from bot.core.services import Services  # noqa: E402
from bot.core.store import Store, redact  # noqa: E402
from bot.core.synth import synthesize_event  # noqa: E402

PHASE_ID = "bench"
ROWS = 1000  # rows of X_val per dataset
TARGETS = {"a": 0.40, "b": 0.25}
# issue 10: the server's CPU time per request, baseline / hackbot (steadier than req/s on a shared machine)
CPU_TARGETS = {"a": 0.70, "b": 0.50}
FLOOR_NOTE = ("the floor: the baseline's handler plus hackbot's login statement (and for a new reveal its INSERT) "
              "on a sqlite3 connection of the loop, in groups, no middleware and no rules (_loadgen._floor_main)")


@dataclass
class Event:
    folder: Path
    config_path: Path
    config: EventConfig
    teams: list[tuple[str, str]]  # (username, password) of the benchmarked teams
    warm_teams: list[tuple[str, str]]  # extra teams that only warm the server up in (b)
    teams_db: str  # the teams, no reveals: copied fresh for every run of (b)
    reread_db: str  # the teams, and `reread_teams` teams' reveals for (a)
    reread: list[tuple[int, int, list[int]]]  # (team index, dataset, its datums in reveal order)
    y: dict[int, np.ndarray]  # hidden labels per dataset, to check the answers


class Databases:
    """The benchmark's databases: SQLite files in `folder`, or databases created on the PostgreSQL
    server of `server_url` (copied with CREATE DATABASE ... TEMPLATE, dropped at the end)."""

    def __init__(self, folder: Path, server_url: str | None):
        self.folder, self.server_url = folder, server_url
        self.made: list[str] = []

    def _admin(self, statement: str) -> None:
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.server_url)
            try:
                await conn.execute(statement)
            finally:
                await conn.close()

        asyncio.run(run())

    def _url(self, name: str) -> str:
        assert self.server_url is not None
        parts = urlsplit(self.server_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def new(self, name: str) -> str:
        if self.server_url is None:
            return str(self.folder / f"{name}.sqlite3")
        name = f"bench_reveal_{name}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self._url(name)

    def copy(self, source: str, name: str) -> str:
        if self.server_url is None:
            target = self.folder / f"{name}.sqlite3"
            shutil.copyfile(source, target)
            return str(target)
        name = f"bench_reveal_{name}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{urlsplit(source).path.lstrip("/")}"')
        self.made.append(name)
        return self._url(name)

    def drop_all(self) -> None:
        for name in reversed(self.made):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(target: str, sql: str, params: tuple = ()) -> list[tuple]:
    async def run() -> list[tuple]:
        store = await Store.open(target, migrate=False)
        try:
            return await store.fetchall(sql, params)
        finally:
            await store.close()

    return asyncio.run(run())


def write_event(folder: Path, datasets: int, budget: int) -> Path:
    path = folder / "event.toml"
    text = textwrap.dedent(f"""\
        [event]
        name = "Reveal benchmark"

        [teams]
        max_size = 5
        require_validation = true

        [[phases]]
        id = "{PHASE_ID}"
        starts = "now-1h"
        data_dir = "data"
        """)
    for d in range(datasets):
        text += f'\n[[datasets]]\nid = {d}\nname = "set{d}"\npoints = 1\nreveal_budget = {budget}\n'
    path.write_text(text, encoding="utf-8")
    return path


async def _populate(config: EventConfig, db: str, n_teams: int, n_warm: int) -> tuple[list, list]:
    services = await Services.open(config, db)
    try:
        creds = []
        for i in range(n_teams + n_warm):
            new = await services.teams.create(f"Bench team {i:04d}", validated=True)
            creds.append((new.team.username, new.password))
        return creds[:n_teams], creds[n_teams:]
    finally:
        await services.close()


async def _reveal_in_process(config: EventConfig, db: str, plan: list[tuple[str, int, list[int]]]) -> None:
    services = await Services.open(config, db)
    try:
        for username, dataset_id, datums in plan:
            team = await services.teams.get(username)
            for datum in datums:
                await services.reveals.reveal(team, dataset_id, datum, source="bench")
    finally:
        await services.close()


def build_event(folder: Path, dbs: Databases, n_teams: int, n_warm: int, datasets: int, budget: int,
                reread_teams: int, rng: np.random.Generator) -> Event:
    config_path = write_event(folder, datasets, budget)
    synthesize_event(load_event(config_path, check_data=False), rows=ROWS, seed=1)
    config = load_event(config_path)
    teams_db = dbs.new("teams")
    teams, warm = asyncio.run(_populate(config, teams_db, n_teams, n_warm))
    assert not Path(f"{teams_db}-wal").exists() or Path(f"{teams_db}-wal").stat().st_size == 0
    reread_db = dbs.copy(teams_db, "reread")
    reread = [(t, d, rng.choice(ROWS, budget, replace=False).tolist())
              for t in range(reread_teams) for d in range(datasets)]
    asyncio.run(_reveal_in_process(config, reread_db, [(teams[t][0], d, ds) for t, d, ds in reread]))
    y = {d: np.load(next((folder / "data").glob(f"{d:02d}_*")) / "y_val.npy") for d in range(datasets)}
    return Event(folder, config_path, config, teams, warm, teams_db, reread_db, reread, y)


def body(username: str, password: str, dataset_id: int, datum_id: int) -> bytes:
    return urlencode({"username": username, "password": password,
                      "exercise_id": dataset_id, "datum_id": datum_id}).encode()


# --- scenario (a): re-reading ------------------------------------------------------------

def reread_phases(ev: Event, warmup: int, n: int, rng: np.random.Generator, keep_every: int):
    picks = rng.integers(0, len(ev.reread), warmup + n)
    datum_pos = rng.integers(0, len(ev.reread[0][2]), warmup + n)
    requests = []
    for pick, pos in zip(picks, datum_pos, strict=True):
        t, d, datums = ev.reread[pick]
        requests.append((t, d, datums[pos]))
    bodies = [body(*ev.teams[t], d, datum) for t, d, datum in requests]
    phases = [Phase("warmup", bodies[:warmup]), Phase("timed", bodies[warmup:], keep_every)]
    return phases, requests[warmup:]


def check_reread(ev: Event, result: PhaseResult, requests: list) -> list[str]:
    problems = []
    if result.statuses != Counter({200: result.requests}):
        problems.append(f"(a) expected only 200s, got {dict(result.statuses)}")
    previous = {(t, d): datums for t, d, datums in ev.reread}
    for i, status, payload in result.kept:
        t, d, datum = requests[i]
        answer = json.loads(payload)
        want = {"exercise_id": d, "datum_id": datum, "label": int(ev.y[d][datum]),
                "previously revealed": [x for x in previous[(t, d)] if x != datum]}
        if status != 200 or answer != want:
            problems.append(f"(a) request {i}: got {status} {answer}, want {want}")
            break
    return problems


# --- scenario (b): new reveals until the budgets are spent ---------------------------------

def new_reveal_plan(teams: list, datasets: int, budget: int, rng: np.random.Generator):
    """Per team and dataset, budget + 1 distinct datums: the budget's, then one too many."""
    return {(t, d): rng.choice(ROWS, budget + 1, replace=False).tolist()
            for t in range(len(teams)) for d in range(datasets)}


def new_reveal_phases(ev: Event, datasets: int, budget: int, rng: np.random.Generator, keep_every: int):
    plan = new_reveal_plan(ev.teams, datasets, budget, rng)
    warm_plan = new_reveal_plan(ev.warm_teams, datasets, budget, rng)
    order = [(k, d) for k in range(budget) for d in range(datasets)]  # each team's k-th reveal, round robin
    warm = [body(*ev.warm_teams[t], d, warm_plan[(t, d)][k]) for k, d in order for t in range(len(ev.warm_teams))]
    timed_requests = [(t, d, k) for k, d in order for t in range(len(ev.teams))]
    timed = [body(*ev.teams[t], d, plan[(t, d)][k]) for t, d, k in timed_requests]
    spent = [body(*ev.teams[t], d, plan[(t, d)][budget]) for d in range(datasets) for t in range(len(ev.teams))]
    phases = [Phase("warmup", warm), Phase("timed", timed, keep_every), Phase("spent", spent)]
    return phases, timed_requests, plan


def check_new(ev: Event, results: dict[str, PhaseResult], db: str, datasets: int, budget: int,
              timed_requests: list, plan: dict, real: bool) -> list[str]:
    """`real`: the server answers for real (hackbot, the floor); the baseline answers a constant 200."""
    problems = []
    for name, want in (("warmup", 200), ("timed", 200), ("spent", 403 if real else 200)):
        r = results[name]
        if r.statuses != Counter({want: r.requests}):
            problems.append(f"(b) {name}: expected {r.requests} x {want}, got {dict(r.statuses)}")
    if not real:
        return problems
    for i, status, payload in results["timed"].kept:
        t, d, k = timed_requests[i]
        datum = plan[(t, d)][k]
        answer = json.loads(payload)
        want = {"exercise_id": d, "datum_id": datum, "label": int(ev.y[d][datum]),
                "previously revealed": plan[(t, d)][:k]}
        if status != 200 or answer != want:
            problems.append(f"(b) request {i}: got {status} {answer}, want {want}")
            break
    names = {u: i for i, (u, _) in enumerate(ev.teams)}
    rows = query(
        db,
        "SELECT t.username, r.dataset_id, count(*), count(DISTINCT r.datum_id) FROM reveals r"
        " JOIN teams t ON t.id = r.team_id WHERE r.phase = ? GROUP BY t.username, r.dataset_id",
        (PHASE_ID,),
    )
    total = query(db, "SELECT count(*) FROM reveals")[0][0]
    bench_rows = [(names[u], d, n, distinct) for u, d, n, distinct in rows if u in names]
    expected = len(ev.teams) * datasets * budget
    got = sum(n for _, _, n, _ in bench_rows)
    if got != expected or any(n != budget or distinct != budget for _, _, n, distinct in bench_rows):
        problems.append(f"(b) reveals table: {got} rows for the benchmarked teams, expected exactly {expected} "
                        f"({len(ev.teams)} teams x {datasets} datasets x {budget})")
    warm_expected = len(ev.warm_teams) * datasets * budget
    if total != expected + warm_expected:
        problems.append(f"(b) reveals table: {total} rows in all, expected {expected} + {warm_expected} (warmup)")
    return problems


# --- driver -------------------------------------------------------------------------------

def cpu(r: PhaseResult) -> str:
    """Busy share of one core, server / load generator: near 100 % on a side means that side is the limit."""
    return f"{100 * r.server_cpu / r.seconds:.0f} / {100 * r.client_cpu / r.seconds:.0f}"


def cpu_per_request(results: list[PhaseResult]) -> float:
    """The server's CPU time per request in µs (both threads), median over runs: less sensitive to a busy machine."""
    return statistics.median(1e6 * r.server_cpu / r.requests for r in results)


def fmt_rate(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer requests, one round (~15 s)")
    parser.add_argument("--rounds", type=int, help="measurements per side and scenario (default 3, quick 1)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--datasets", type=int, help="datasets per team in (b) (default 4, quick 2)")
    parser.add_argument("--budget", type=int, default=5)
    parser.add_argument("--requests", type=int, help="timed re-reads per run of (a) (default 20000, quick 6000)")
    parser.add_argument("--scenarios", default="ab", help="'a', 'b' or 'ab'")
    parser.add_argument("--db", metavar="URL", help="run hackbot over PostgreSQL: a database of a server on which "
                                                    "the benchmark may create its own (default: SQLite files)")
    parser.add_argument("--uvloop", choices=["none", "hackbot", "both"], default="none",
                        help="trial: run the hackbot server (or both servers) on uvloop, if installed")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the floor (SQLite only): the least a reveal costs on aiohttp when it "
                             "reads its login statement (and writes its row) in the database, with no rules and "
                             "no middleware")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="cProfile the hackbot server's event loop thread into DIR/hackbot_<run>.prof "
                             "(it slows the server: the ratios of a profiled run mean nothing)")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    datasets = args.datasets or (2 if args.quick else 4)
    n_reread = args.requests or (6000 if args.quick else 20000)
    warmup_reread = 1000 if args.quick else 2000
    n_warm_teams = 20 if args.quick else 50
    keep_every = 97
    rng = np.random.default_rng(0)
    console = Console(width=max(Console().width, 150))
    if args.uvloop != "none":
        import uvloop  # noqa: F401  (fail early, with the import error, if it is not installed)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.floor and args.db:
        parser.error("--floor measures SQLite only")

    started = time.perf_counter()
    problems: list[str] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_reveal_http_") as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, args.db)
        ev = build_event(folder, dbs, args.teams, n_warm_teams, datasets, args.budget,
                         reread_teams=min(100, args.teams), rng=rng)
        where = f"PostgreSQL ({redact(args.db)})" if args.db else "SQLite"
        console.print(f"setup: {where}; {len(ev.teams)} validated teams (+{n_warm_teams} for warmup), {datasets} "
                      f"datasets of {ROWS} rows, budget {args.budget}; {args.concurrency} connections; "
                      f"{rounds} round(s) per side, alternating; {time.perf_counter() - started:.1f} s")

        def hackbot(db: str, tag: str) -> Server:
            profile = args.profile / f"hackbot_{tag}.prof" if args.profile else None
            return Server("hackbot", config_path=ev.config_path, db_path=db,
                          use_uvloop=args.uvloop != "none", profile_path=profile)

        def baseline() -> Server:
            return Server("baseline", use_uvloop=args.uvloop == "both")

        def floor(db: str) -> Server:
            return Server("floor", db_path=db, floor=(PHASE_ID, ev.folder / "data"))

        sides = ("hackbot", "baseline", "floor") if args.floor else ("hackbot", "baseline")

        def server_for(side: str, db: str, tag: str) -> Server:
            return hackbot(db, tag) if side == "hackbot" else floor(db) if side == "floor" else baseline()

        def add_rows(label: str, key: str, runs: dict[str, list[PhaseResult]], note: str) -> None:
            rows.append((f"({key}) {label}", key, {"hackbot": runs["hackbot"], "baseline": runs["baseline"]}, note))
            if args.floor:
                rows.append((f"({key}) floor, not hackbot", key, {"hackbot": runs["floor"], "baseline": runs["baseline"]},
                             FLOOR_NOTE))

        if "a" in args.scenarios:
            runs: dict[str, list[PhaseResult]] = {side: [] for side in sides}
            for r in range(rounds):
                phases, requests = reread_phases(ev, warmup_reread, n_reread, rng, keep_every)
                for side in sides if r % 2 == 0 else sides[::-1]:
                    server = server_for(side, ev.reread_db, f"a{r}")
                    with server as url:
                        result = load(url, phases, args.concurrency, server.pid)["timed"]
                    runs[side].append(result)
                    if side != "baseline":
                        problems += check_reread(ev, result, requests)
                    elif result.statuses != Counter({200: result.requests}):
                        problems.append(f"(a) baseline: {dict(result.statuses)}")
            add_rows("re-read", "a", runs, f"{n_reread} re-reads of {len(ev.reread) * args.budget} revealed labels "
                                           f"({min(100, args.teams)} teams)")

        if "b" in args.scenarios:
            runs = {side: [] for side in sides}
            for r in range(rounds):
                phases, timed_requests, plan = new_reveal_phases(ev, datasets, args.budget, rng, keep_every)
                for side in sides if r % 2 == 0 else sides[::-1]:
                    db = dbs.copy(ev.teams_db, f"new_{r}_{side}")  # a fresh database: every budget unspent
                    server = server_for(side, db, f"b{r}")
                    with server as url:
                        results = load(url, phases, args.concurrency, server.pid)
                    runs[side].append(results["timed"])
                    problems += check_new(ev, results, db, datasets, args.budget, timed_requests, plan,
                                          real=side != "baseline")
            n_new = len(ev.teams) * datasets * args.budget
            add_rows("new reveals", "b", runs, f"{n_new} new reveals ({len(ev.teams)} teams x {datasets} datasets x "
                                               f"{args.budget}), then {n_new // args.budget} x 403")
        dbs.drop_all()

    loop = {"none": "asyncio", "hackbot": "hackbot on uvloop", "both": "both on uvloop"}[args.uvloop]
    table = Table(title=f"POST /reveal/ over loopback, hackbot vs bare aiohttp handler "
                        f"(median of {rounds}, {args.concurrency} connections, {loop})")
    for col in ("scenario", "hackbot req/s", "baseline req/s", "ratio (target)",
                "hackbot p50 / p99 ms", "baseline p50 / p99 ms", "server CPU µs/req hackbot | baseline",
                "CPU ratio (target)"):
        table.add_column(col, justify="right" if col != "scenario" else "left")
    notes = []
    for label, key, runs, note in rows:
        hb, base = [x.rps for x in runs["hackbot"]], [x.rps for x in runs["baseline"]]
        ratio = statistics.median(hb) / statistics.median(base)
        mid_h = sorted(runs["hackbot"], key=lambda x: x.rps)[len(hb) // 2]
        mid_b = sorted(runs["baseline"], key=lambda x: x.rps)[len(base) // 2]
        ok = "ok" if ratio >= TARGETS[key] else "BELOW"
        cpu_h, cpu_b = cpu_per_request(runs["hackbot"]), cpu_per_request(runs["baseline"])
        table.add_row(label, fmt_rate(hb), fmt_rate(base), f"{ratio:.2f} (>= {TARGETS[key]:.2f} {ok})",
                      f"{mid_h.p50_ms:.1f} / {mid_h.p99_ms:.1f}", f"{mid_b.p50_ms:.1f} / {mid_b.p99_ms:.1f}",
                      f"{cpu_h:.0f} | {cpu_b:.0f}",
                      f"{cpu_b / cpu_h:.2f} (>= {CPU_TARGETS[key]:.2f} {'ok' if cpu_b / cpu_h >= CPU_TARGETS[key] else 'BELOW'})")
        notes.append(f"{label}: {note}; runs hackbot " + ", ".join(f"{x:,.0f}" for x in hb)
                     + " / baseline " + ", ".join(f"{x:,.0f}" for x in base) + " req/s; "
                     + f"busy % of a core, server / loadgen: hackbot {cpu(mid_h)}, baseline {cpu(mid_b)}")
    console.print(table)
    for note in notes:
        console.print(note, soft_wrap=True)
    if problems:
        console.print("[bold red]checks FAILED[/]")
        for problem in problems:
            console.print(f"  {problem}", soft_wrap=True)
    else:
        console.print("checks: all answers as expected (200 within budget, 403 past it, exact reveal rows, "
                      "true labels, no 5xx)")
    console.print(f"total {time.perf_counter() - started:.0f} s")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
