"""`hackbot leaderboard` on a 5,000-team Hackathon42 board: the whole command, as an organizer runs it.

Run: .venv/bin/python benchmarks/bench_cli_board.py [--teams 5000] [--runs 3]

Each layout (--narrow, the 80-column default off a terminal; --csv; --wide, every dataset's
column) runs as its own `hackbot` process over a SQLite file holding the preset's 14 datasets and
`--teams` validated teams. Baseline, run alongside: a fresh Python process that merely reads the
same rows (teams and submissions) with sqlite3 and prints them, so the ratio is what the board
costs beyond reading its data. Target: under a second for the whole command. Every command runs
with Python's bytecode cache, as an installed hackbot does (one untimed run first). Then, in this
process, where the time goes: opening the services, the standings, each layout's text.

Only the ratios are meant to travel between machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_board import populate, write_event  # noqa: E402

from bot import cli  # noqa: E402
from bot.config import load_event  # noqa: E402
from bot.core.services import Services  # noqa: E402

READ_ROWS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
teams = conn.execute("SELECT id, name, disqualified FROM teams WHERE validated = 1 ORDER BY name_key").fetchall()
subs = conn.execute("SELECT team_id, dataset_id, submitted_at, accuracy FROM submissions WHERE phase = 'real'").fetchall()
sys.stdout.write("".join(f"{t[0]},{t[1]}\\n" for t in teams) + "".join(f"{s}\\n" for s in subs))
"""


# As an installed hackbot runs: with its modules' compiled bytecode cached (pip writes it for an
# install; Python writes it at the first import of an editable one). Some sandboxes and CI images
# set PYTHONDONTWRITEBYTECODE, which makes every run compile each module from source (about a
# second more here); the untimed first run of each command fills the cache.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_of(command: list[str], runs: int) -> tuple[float, int]:
    subprocess.run(command, capture_output=True, text=True, check=True, env=ENV)  # warms the bytecode cache
    times, lines = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=ENV)
        times.append(time.perf_counter() - start)
        lines = len(done.stdout.splitlines())
    return min(times), lines


async def breakdown(config_path: Path, db: Path) -> None:
    start = time.perf_counter()
    services = await Services.open(load_event(config_path), str(db), readonly=True)
    opened = time.perf_counter()
    try:
        standings = await services.leaderboard.standings(None, organizer=True)
    finally:
        await services.close()
    computed = time.perf_counter()
    parts = []
    for name, render in (("narrow", lambda: cli.board_narrow(standings, standings.rows)),
                         ("csv", lambda: cli.board_csv(standings, standings.rows)),
                         ("wide", lambda: cli.board_wide(standings, standings.rows, styled=True))):
        t = time.perf_counter()
        render()
        parts.append(f"{name} {(time.perf_counter() - t) * 1e3:.0f} ms")
    print(f"    in process: open the services {(opened - start) * 1e3:.0f} ms, the standings "
          f"{(computed - opened) * 1e3:.0f} ms ({len(standings.rows)} rows); the text: {', '.join(parts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each command; the best is kept")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-board-"))
    try:
        config_path = write_event(folder)
        db = folder / "board.sqlite"
        asyncio.run(populate(config_path, db, args.teams, revealers=0))
        hackbot = Path(sys.executable).with_name("hackbot")
        command = [str(hackbot)] if hackbot.exists() else [sys.executable, "-m", "bot.cli"]
        base, base_lines = best_of([sys.executable, "-c", READ_ROWS, str(db)], args.runs)
        print(f"baseline: a Python process reading and printing the rows ({base_lines} lines): {base:.2f} s")
        for layout in ("--narrow", "--csv", "--wide"):
            took, lines = best_of([*command, "leaderboard", layout, "--config", str(config_path), "--db", str(db)],
                                  args.runs)
            print(f"hackbot leaderboard {layout} on {args.teams} teams: {took:.2f} s, {lines} lines; "
                  f"ratio to the baseline {took / base:.2f}, to the 1 s target {took / 1.0:.2f}")
        asyncio.run(breakdown(config_path, db))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
