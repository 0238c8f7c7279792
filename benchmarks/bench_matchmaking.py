"""Team matchmaking on a large pool: 5,000 people, 8 topics (bot/core/matchmaking.py).

Run: .venv/bin/python benchmarks/bench_matchmaking.py [--people N] [--topics K] [--seeds S]

The pool: each person picks 1 to 3 topics with skewed popularity (topic i has weight K - i),
experience newcomer / some / expert at 50 / 35 / 15 %, a time zone from seven regions
(UTC-8 .. UTC+9, +-1 h), 70 % open to joining an existing team; 60 recruiting teams of 1 to 3
members; teams of 2 to 5, target 4, time-zone spread limit 6 h. Reported per seed: the time of
`match()` (it includes scoring the random and greedy baselines), the objective, and its ratio
against a random assignment (same team sizes, people shuffled; mean of 5) and a greedy one
(people sorted by their first topic, cut into teams in order), plus the share of teams with a
shared topic. Target: under 2 s, and >= 1.5x the random assignment's objective.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.matchmaking import LEVELS, Person, RecruitingTeam, match
from bot.core.synth import synthetic_pool


def make_pool(n: int, k: int, seed: int) -> tuple[list[Person], list[RecruitingTeam], list[str]]:
    rng = np.random.default_rng(seed)
    topics = [f"topic-{i}" for i in range(k)]
    people = synthetic_pool(rng, [f"{100000 + i}" for i in range(n)], topics)
    teams = []
    for t in range(60):
        members = tuple(
            Person(f"m{t}-{j}", (topics[int(rng.integers(0, k))],), str(rng.choice(LEVELS)), int(rng.integers(-8, 10)) * 60)
            for j in range(int(rng.integers(1, 4)))
        )
        teams.append(RecruitingTeam(t, f"team {t}", members))
    return people, teams, topics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--topics", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    table = Table("seed", "people", "teams", "unplaced", "time s", "objective", "x random", "x greedy",
                  "teams sharing a topic",
                  title=f"matchmaking: {args.people} people, {args.topics} topics, teams of 2-5 (target 4)")
    for seed in range(args.seeds):
        people, teams, topics = make_pool(args.people, args.topics, seed)
        match(people[:50], min_size=2, max_size=5, target_size=4, topics=topics, seed=seed)  # warm-up
        start = time.perf_counter()
        result = match(people, teams, min_size=2, max_size=5, target_size=4, topics=topics,
                       max_tz_spread_hours=6, seed=seed)
        elapsed = time.perf_counter() - start
        placed = sum(len(t.members) for t in result.teams)
        assert placed + len(result.unplaced) == len(people)
        sharing = sum(1 for t in result.teams if t.shared_topics) / max(1, len(result.teams))
        table.add_row(
            str(seed), str(placed), str(len(result.teams)), str(len(result.unplaced)), f"{elapsed:.2f}",
            f"{result.objective:.0f}", f"{result.objective / result.random_objective:.1f}x",
            f"{result.objective / result.greedy_objective:.2f}x", f"{100 * sharing:.1f} %",
        )
    console.print(table)


if __name__ == "__main__":
    main()
