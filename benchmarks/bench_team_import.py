"""`hackbot team import`: a registration spreadsheet of thousands of teams, in one call.

Run: .venv/bin/python benchmarks/bench_team_import.py [--teams N]

Two runs over fresh SQLite files in this process, the same N teams of 3 members each:
- import: parse the CSV and create every team, its members and its email in one transaction
  (bot.core.team_import), as the command does;
- baseline: the same teams created one by one through the services, as N `hackbot team create`
  calls plus adding the members would do (each a transaction of its own).
Then the import again on the same database (nothing to change: the idempotent re-run).
Only the ratios are meaningful on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.config import load_event  # noqa: E402
from bot.core.services import Services  # noqa: E402
from bot.core.team_import import import_teams, parse_team_csv  # noqa: E402

EVENT = """
[event]
name = "Import benchmark"

[teams]
max_size = 5
"""


def sheet(n: int) -> str:
    rows = "".join(f"Team {i},true,{3 * i + 1};{3 * i + 2};{3 * i + 3},team{i}@example.org\n" for i in range(n))
    return "team,validated,members,emails\n" + rows


async def import_run(folder: Path, text: str) -> tuple[float, float, int]:
    config = load_event(folder / "event.toml")
    services = await Services.open(config, folder / "import.sqlite3")
    try:
        start = time.perf_counter()
        parsed = parse_team_csv(text, config)
        result = await import_teams(services.store, config, services.clock, parsed.rows)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = await import_teams(services.store, config, services.clock, parse_team_csv(text, config).rows)
        second = time.perf_counter() - start
        assert len(again.unchanged) == len(result.created) and not again.created
        return first, second, len(result.created)
    finally:
        await services.close()


async def baseline_run(folder: Path, n: int) -> float:
    config = load_event(folder / "event.toml")
    services = await Services.open(config, folder / "baseline.sqlite3")
    try:
        start = time.perf_counter()
        for i in range(n):
            created = await services.teams.create(f"Team {i}", validated=True, captain=str(3 * i + 1))
            for member in (3 * i + 2, 3 * i + 3):
                await services.teams.add_member(created.team.id, str(member))
        return time.perf_counter() - start
    finally:
        await services.close()


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "event.toml").write_text(EVENT, encoding="utf-8")
        text = sheet(n)
        first, second, created = await import_run(folder, text)
        baseline = await baseline_run(folder, n)
    print(f"{created:,} teams of 3 members (+ an email each), SQLite file, one process")
    print(f"team import          : {first:7.2f} s  ({n / first:8,.0f} teams/s)")
    print(f"import again (no-op) : {second:7.2f} s  ({n / second:8,.0f} teams/s)")
    print(f"one by one (baseline): {baseline:7.2f} s  ({n / baseline:8,.0f} teams/s)")
    print(f"speedup              : {baseline / first:7.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=5000)
    asyncio.run(main(parser.parse_args().teams))
