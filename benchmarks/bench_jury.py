"""Jury aggregation and review assignment at the size of a large hackathon.

Run: .venv/bin/python benchmarks/bench_jury.py [--quick]

1. `scoring.jury.fit_additive` at a fixed prior strength (one exact solve of the offsets' J x J
   system) against `backfitting`, the textbook alternating least squares on the same objective
   (quality given offsets, offsets given quality, until the change is below 1e-10), in the same
   run; both give the same estimates (checked). Then the full empirical-Bayes fit and the
   bootstrap over judges (200 resamples), as multiples of one fixed-strength fit.
2. `bot.core.assignment.plan_reviews` (3 reviews a project, 5 % of pairs conflicted) against a
   random assignment of the same reviews that ignores loads (each project draws 3 allowed judges
   at random), in the same run: the time, and the spread of the loads (max - min) of each.
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

from bot.core.assignment import Conflict, Judge, Project, plan_reviews
from scoring.jury import fit_additive, rank_intervals_additive


def reviews(n_projects: int, n_judges: int, per_project: int, seed: int):
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_projects), per_project)
    j = np.concatenate([rng.choice(n_judges, per_project, replace=False) for _ in range(n_projects)])
    y = rng.normal(0, 1, n_projects)[p] + rng.normal(0, 1, n_judges)[j] + rng.normal(0, 0.5, len(p))
    return p, j, y


def backfitting(p, j, y, n_projects, n_judges, lam, tol=1e-10, max_iter=100_000):
    """Alternating least squares on sum (y - q[p] - b[j])^2 + lam * sum b^2."""
    n_p = np.bincount(p, minlength=n_projects)
    n_j = np.bincount(j, minlength=n_judges)
    b = np.zeros(n_judges)
    for _ in range(max_iter):
        q = np.bincount(p, weights=y - b[j], minlength=n_projects) / np.maximum(n_p, 1)
        new = np.bincount(j, weights=y - q[p], minlength=n_judges) / (n_j + lam)
        if np.max(np.abs(new - b)) < tol:
            return q, new
        b = new
    return q, b


def best_of(repeat: int, fn, *args, **kwargs) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_fit(console: Console, sizes) -> None:
    table = Table("projects", "judges", "reviews", "fit ms", "backfitting ms", "speedup", "EM fit ms", "bootstrap 200 s",
                  title="fit_additive (fixed prior strength) against backfitting; same estimates")
    for n_projects, n_judges in sizes:
        p, j, y = reviews(n_projects, n_judges, 3, seed=0)
        lam = fit_additive(p, j, y, n_projects, n_judges).prior_strength
        ours = fit_additive(p, j, y, n_projects, n_judges, prior_strength=lam)
        q, b = backfitting(p, j, y, n_projects, n_judges, lam)
        assert np.allclose(ours.quality, q, atol=1e-6) and np.allclose(ours.offset, b, atol=1e-6)
        fit_s = best_of(5, fit_additive, p, j, y, n_projects, n_judges, prior_strength=lam)
        back_s = best_of(2, backfitting, p, j, y, n_projects, n_judges, lam)
        em_s = best_of(3, fit_additive, p, j, y, n_projects, n_judges)
        boot_s = best_of(1, rank_intervals_additive, p, j, y, n_projects, n_judges, n_boot=200)
        table.add_row(str(n_projects), str(n_judges), str(len(y)), f"{fit_s * 1e3:.2f}", f"{back_s * 1e3:.1f}",
                      f"{back_s / fit_s:.0f}x", f"{em_s * 1e3:.1f}", f"{boot_s:.2f}")
    console.print(table)


def bench_plan(console: Console, sizes) -> None:
    table = Table("projects", "judges", "plan ms", "random ms", "load spread (plan)", "load spread (random)",
                  title="plan_reviews (3 reviews a project, 5 % of pairs conflicted) against a random assignment")
    for n_projects, n_judges in sizes:
        rng = np.random.default_rng(1)
        projects = [Project(f"p{i}", f"Project {i}", f"t{i}") for i in range(n_projects)]
        judges = [Judge(f"j{k}", f"Judge {k}") for k in range(n_judges)]
        pairs = rng.random((n_judges, n_projects)) < 0.05
        conflicts = [Conflict(f"j{k}", f"t{i}", "declared") for k, i in zip(*np.nonzero(pairs), strict=True)]
        start = time.perf_counter()
        plan = plan_reviews(projects, judges, 3, conflicts, seed=0)
        plan_s = time.perf_counter() - start
        assert plan.ok
        start = time.perf_counter()
        loads = np.zeros(n_judges, dtype=int)
        for i in range(n_projects):
            allowed = np.flatnonzero(~pairs[:, i])
            loads[rng.choice(allowed, 3, replace=False)] += 1
        random_s = time.perf_counter() - start
        spread = max(plan.loads.values()) - min(plan.loads.values())
        table.add_row(str(n_projects), str(n_judges), f"{plan_s * 1e3:.1f}", f"{random_s * 1e3:.1f}", str(spread),
                      str(int(loads.max() - loads.min())))
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the smaller sizes only")
    args = parser.parse_args()
    console = Console(width=140)
    fit_sizes = [(60, 12), (300, 40)] + ([] if args.quick else [(2000, 150)])
    plan_sizes = [(60, 12), (300, 40)] + ([] if args.quick else [(1000, 100)])
    bench_fit(console, fit_sizes)
    bench_plan(console, plan_sizes)


if __name__ == "__main__":
    main()
