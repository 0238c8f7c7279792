"""Parse + validate + score a submission vs np.loadtxt + mean.

Run: .venv/bin/python benchmarks/bench_submission.py [--quick]
(--quick skips n = 1e7, where one loadtxt run alone takes about a second).
Times are the best of several runs in this process; only ratios are meaningful.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scoring import accuracy, parse_labels  # noqa: E402


def best_ms(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip n = 1e7")
    args = parser.parse_args()

    # (n, allowed labels, line ending); the last row is a multi-class CRLF file,
    # whose variable-width labels take the slower general path.
    cases = [(10**4, [0, 1], "\n"), (10**6, [0, 1], "\n"), (10**6, [4, 5, 6], "\n"),
             (10**6, list(range(100)), "\r\n")]
    if not args.quick:
        cases.insert(2, (10**7, [0, 1], "\n"))

    table = Table(title="parse_labels + accuracy vs np.loadtxt + mean (best of N)")
    for col in ("n", "labels", "ending", "ours ms", "loadtxt ms", "speedup"):
        table.add_column(col, justify="right")
    rng = np.random.default_rng(0)
    for n, allowed, ending in cases:
        truth = rng.choice(allowed, n)
        pred = np.where(rng.random(n) < 0.8, truth, rng.choice(allowed, n))
        data = ending.join(map(str, pred.tolist())).encode()

        def ours(data=data, n=n, allowed=allowed, truth=truth):
            return accuracy(parse_labels(data, n, allowed), truth)

        def baseline(data=data, truth=truth):
            return float((np.loadtxt(io.BytesIO(data), dtype=np.int64) == truth).mean())

        assert ours() == baseline()  # same answer, or the timing means nothing
        repeats = 1 if n >= 10**7 else 5
        ours_ms, base_ms = best_ms(ours, 5), best_ms(baseline, repeats)
        label_desc = f"{{{allowed[0]}..{allowed[-1]}}}" if len(allowed) > 3 else str(set(allowed))
        table.add_row(f"{n:.0e}", label_desc, repr(ending), f"{ours_ms:.2f}",
                      f"{base_ms:.1f}", f"{base_ms / ours_ms:.1f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
