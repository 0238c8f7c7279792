"""Vectorized leaderboard vs the per-team Python loop, 10,000 teams x 50 datasets.

Run: .venv/bin/python benchmarks/bench_leaderboard.py
Times are the best of several runs in this process; only the ratio is meaningful.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring import leaderboard  # noqa: E402
from scoring.ranking import leaderboard_python_loop  # noqa: E402

N_TEAMS, N_DATASETS = 10_000, 50


def best_ms(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    rng = np.random.default_rng(0)
    # Accuracies on a 1/200 grid so that equal totals (ties) really happen.
    acc = rng.integers(0, 201, (N_TEAMS, N_DATASETS)) / 200
    acc[rng.random(acc.shape) < 0.3] = np.nan
    acc[rng.random(N_TEAMS) < 0.05] = np.nan  # some teams never submitted
    points = rng.integers(1, 6, N_DATASETS).astype(float)
    defaults = rng.integers(0, 11, N_DATASETS) / 20
    last = rng.integers(0, 1000, N_TEAMS).astype(float)
    last[np.isnan(acc).all(axis=1)] = np.inf
    args = (acc, points, defaults, last)

    fast, slow = leaderboard(*args), leaderboard_python_loop(*args)
    assert np.array_equal(fast.ranks, slow.ranks), "vectorized ranks differ from the loop"
    assert np.array_equal(fast.order, slow.order)
    assert np.array_equal(fast.totals, slow.totals)

    fast_ms, slow_ms = best_ms(lambda: leaderboard(*args), 20), best_ms(
        lambda: leaderboard_python_loop(*args), 3)
    tied = len(fast.ranks) - len(np.unique(fast.ranks))
    print(f"{N_TEAMS} teams x {N_DATASETS} datasets ({tied} teams share a rank): identical ranks")
    print(f"leaderboard (vectorized): {fast_ms:8.2f} ms")
    print(f"leaderboard_python_loop : {slow_ms:8.2f} ms")
    print(f"speedup                 : {slow_ms / fast_ms:8.1f}x")


if __name__ == "__main__":
    main()
