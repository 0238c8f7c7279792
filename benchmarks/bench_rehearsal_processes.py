"""A rehearsal of 2,500 teams and 10,000 participants on PostgreSQL with 2 web processes.

Run: .venv/bin/python benchmarks/bench_rehearsal_processes.py [--teams 2500] [--participants 10000]
     [--baseline-teams 50] [--baseline-participants 200] [--web 2] [--active 20]
     [--server postgresql://postgres@127.0.0.1:5432/postgres]

Both runs are `hackbot rehearse --config config/demo.toml --teams T --participants P --web 2
--active 20 --db postgresql://... --report FILE.json`, the real command: one `hackbot run --role
bot` process holds the gateway of the strict local Discord double, 2 `hackbot run --role web`
processes serve the HTTP API and the pages, all over one PostgreSQL database (a new empty one a
run, made on --server and dropped after). Every person joins a team with the real /team join
(demo.toml: teams of 1 to 4); the first 20 teams reveal, submit and run their scripts against
the HTTP API (spread over the web processes); the organizers announce the winners. The baseline
(50 teams, 200 people) runs first, in the same run.

Must hold: 0 refused Discord requests (the double refuses what Discord would, 429s included),
0 failed interactions, every outbox row sent once. Reported: the outbox rows written and sent,
the time from the last row written to the last one sent (the drain once the event stops
writing), the time from the first row written to the last one sent, the mean send rate against
Discord's global 50 requests a second, the time a person takes to join (formation seconds /
people), and the ratios of the large run to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo.toml"


def database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


async def sql(server: str, statement: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def run(server: str, teams: int, participants: int, web: int, active: int, n: int) -> dict:
    name = f"hackbot_bench_rehearsal_{os.getpid()}_{n}"
    asyncio.run(sql(server, f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            command = [sys.executable, "-m", "bot.cli", "rehearse", "--config", str(DEMO), "--teams", str(teams),
                       "--participants", str(participants), "--web", str(web), "--active", str(min(active, teams)),
                       "--db", database(server, name), "--keep", str(Path(tmp) / "kept"), "--report", str(report)]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if not report.exists():
                logs = "".join(p.read_text(errors="replace")[-3000:] for p in (Path(tmp) / "kept").glob("*.log"))
                raise SystemExit(f"hackbot rehearse failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}\n{logs}")
            return json.loads(report.read_text())
    finally:
        asyncio.run(sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=2500)
    parser.add_argument("--participants", type=int, default=10000)
    parser.add_argument("--baseline-teams", type=int, default=50)
    parser.add_argument("--baseline-participants", type=int, default=200)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--active", type=int, default=20, help="teams that reveal, submit and run their scripts")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where the benchmark may create and drop databases")
    args = parser.parse_args()
    print(f"config/demo.toml on PostgreSQL, 1 bot + {args.web} web processes, {args.active} active teams; "
          f"baseline {args.baseline_teams} teams / {args.baseline_participants} people, "
          f"then {args.teams} / {args.participants}", flush=True)
    print("| teams | people | wall s | interactions | refused | failed | outbox written | sent | failed | twice | "
          "drain after last write s | first write to last sent s | sent / s | wait p50 s | wait max s | "
          "s to join a team | HTTP answers (web1, web2, ...) |")
    print("|" + "---|" * 17)
    rows = []
    bad = 0
    for n, (teams, people) in enumerate(((args.baseline_teams, args.baseline_participants),
                                          (args.teams, args.participants))):
        report = run(args.server, teams, people, args.web, args.active, n)
        box, acts = report["outbox"], report["acts"]
        per_person = acts["teams"]["seconds"] / people
        rate = box["sent"] / box["time_to_drain_s"] if box["time_to_drain_s"] else None
        answers = ", ".join(str(p["http_answers"]) for p in report["processes"] if p["role"] == "web")
        refused, failed = len(report["refused_discord_requests"]), len(report["failed"])
        bad += refused + failed + box["failed"] + box["left"] + box["duplicate_posts"]
        rows.append((teams, people, box, per_person, report["wall_time_s"]))
        print(f"| {teams} | {people} | {report['wall_time_s']:.0f} | {report['interactions']} | {refused} | {failed} | "
              f"{box['enqueued']} | {box['sent']} | {box['failed']} | {box['duplicate_posts']} | "
              f"{box['drain_after_last_write_s']} | {box['time_to_drain_s']} | "
              f"{'-' if rate is None else f'{rate:.1f}'} | {box['wait_p50_s']} | {box['wait_max_s']} | "
              f"{per_person:.4f} | {answers} |", flush=True)
        print(f"  the double's event loop (the driver process): longest stall {report['double_loop_stall_max_s']} s, "
              f"{report['double_loop_stalls_over_100ms']} stalls over 100 ms", flush=True)
        for request in report["refused_discord_requests"][:10]:
            print(f"  refused: {request['route']} {request['status']} {request['code']}: {request['reason']}")
        for failure in report["failed"][:10]:
            print(f"  failed: {failure}")
        for failure in box["failures"][:10]:
            print(f"  outbox: {failure}")
    (t0, p0, b0, s0, w0), (t1, p1, b1, s1, w1) = rows
    print(f"people {p1 / p0:.0f}x, outbox rows {b1['enqueued'] / max(b0['enqueued'], 1):.1f}x, wall time {w1 / w0:.1f}x")
    print(f"time a person takes to join at {p1} / at {p0}: {s1 / s0:.2f}x")
    # the baseline's last row goes out at once (0.01 s): a ratio to it says nothing
    if (b0["drain_after_last_write_s"] or 0) >= 1 and b1["drain_after_last_write_s"] is not None:
        print(f"drain after the last write at {p1} / at {p0}: "
              f"{b1['drain_after_last_write_s'] / b0['drain_after_last_write_s']:.2f}x")
    if b0["wait_p50_s"] and b1["wait_p50_s"] is not None:
        print(f"median wait of a row at {p1} / at {p0}: {b1['wait_p50_s'] / b0['wait_p50_s']:.2f}x")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
