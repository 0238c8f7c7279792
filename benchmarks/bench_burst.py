"""A burst of /reveal through the real bot: N users send /reveal within one second.

Run: .venv/bin/python benchmarks/bench_burst.py [--teams 60] [--size 5] [--window 1.0] [--runs 3]

The bot is `hackbot run` in a subprocess (unmodified discord.py) against the local Discord double
(bot/sandbox), which stamps every INTERACTION_CREATE it dispatches and every first response it
receives. Reported: the acknowledgement latency (dispatch -> interaction callback) p50 / p99 / max,
as a fraction of Discord's 3 s deadline, how many interactions failed (answered late, twice or
never: must be 0), and whether any team got more labels than its budget (must not).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox.burst import run_burst
from bot.sandbox.state import ACK_DEADLINE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--budget", type=int, default=3)
    parser.add_argument("--window", type=float, default=1.0, help="seconds over which the burst is spread")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.teams * args.size} users ({args.teams} teams of {args.size}), /reveal within {args.window} s, "
          f"budget {args.budget} per team; {args.runs} runs")
    print("| run | p50 ms | p99 ms | max ms | p99 / 3 s | failed | budget held |")
    print("|---|---|---|---|---|---|---|")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            result, _ = asyncio.run(run_burst(Path(tmp), teams=args.teams, size=args.size, budget=args.budget,
                                              window=args.window))
        held = max(result.labels_per_team.values()) <= args.budget
        print(f"| {run} | {result.percentile(50) * 1000:.1f} | {result.percentile(99) * 1000:.1f} | "
              f"{result.latencies[-1] * 1000:.1f} | {result.percentile(99) / ACK_DEADLINE:.3%} | "
              f"{len(result.failed)} | {held} |")


if __name__ == "__main__":
    main()
