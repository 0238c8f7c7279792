"""Re-scoring after a label fix: the batch path against the live path run one file at a time.

Run: .venv/bin/python benchmarks/bench_rescore.py            (1,000 teams x 14 datasets x 10,000 rows)
     .venv/bin/python benchmarks/bench_rescore.py --quick    (250 teams)

The event is Hackathon42's 14 datasets (points and default scores from config/hackathon42.toml)
with labels {0, 1}, {0, 2}, {4, 5, 6} or 0..9, two groups on half of them, a 70 % private part
(scoring.split) and 10 labels corrected per dataset. Each team has one stored file per dataset:
80 % "0\\n1\\n...", 8 % CRLF, 4 % without the final newline, 4 % BOM + CRLF, 3 % " 0\\n" (a
space before each label) and 1 % with mixed line endings, which only parse_labels takes (the
batch path sends it there: it is parsed one by one on both sides).

- batch: scoring.rescore (parse_many on all of a dataset's files, one Scorer per label
  version on the matrix), then the counted board and rank_changes;
- live, one file at a time: parse_labels then Scorer.score_one for the old and the new labels,
  per file (the Scorers built once per dataset, as the running bot holds them), then the same
  board and rank_changes.
Both give identical scores and moves (checked). Times are the best of several runs in this
process. Then the integrity pass on one dataset's private rows: similar_pairs against comparing
every pair in a loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.config import load_event  # noqa: E402
from bot.core.submission_rules import counted_board  # noqa: E402
from scoring import Scorer, parse_labels  # noqa: E402
from scoring.integrity import similar_pairs  # noqa: E402
from scoring.rescore import rank_changes, rescore  # noqa: E402
from scoring.split import private_mask  # noqa: E402

ROWS, CORRECTED, PRIVATE = 10_000, 10, 0.7
LABEL_SETS = [[0, 1], [0, 2], [4, 5, 6], list(range(10))]


def make_file(pred: np.ndarray, kind: str) -> bytes:
    """The bytes of a label file of one digit per line, written as participants' tools do."""
    digits = (pred + 48).astype(np.uint8)
    if kind in ("crlf", "bom"):
        out = np.empty((len(pred), 3), dtype=np.uint8)
        out[:, 0], out[:, 1], out[:, 2] = digits, 13, 10
    elif kind == "spaces":
        out = np.empty((len(pred), 3), dtype=np.uint8)
        out[:, 0], out[:, 1], out[:, 2] = 32, digits, 10
    else:
        out = np.empty((len(pred), 2), dtype=np.uint8)
        out[:, 0], out[:, 1] = digits, 10
    data = out.tobytes()
    if kind == "mixed":  # LF, then CRLF from the middle on (two files pasted together)
        half = len(pred) // 2 * 2
        data = data[:half] + data[half:].replace(b"\n", b"\r\n")
    if kind == "no_final":
        data = data[:-1]
    return b"\xef\xbb\xbf" + data if kind == "bom" else data


def make_dataset(rng: np.random.Generator, d: int, teams: int) -> dict:
    labels = LABEL_SETS[d % len(LABEL_SETS)]
    y = rng.choice(labels, ROWS)
    groups = rng.integers(0, 2, ROWS) if d % 2 == 0 else None
    new_y = y.copy()
    fix = rng.choice(ROWS, CORRECTED, replace=False)
    new_y[fix] = [rng.choice([v for v in labels if v != y[i]]) for i in fix]
    skill = rng.uniform(0.5, 0.97, teams)
    preds = np.where(rng.random((teams, ROWS)) < skill[:, None], y, rng.choice(labels, (teams, ROWS)))
    preds[1] = preds[0]  # a copied file, for the integrity pass
    kinds = rng.choice(["lf", "crlf", "no_final", "bom", "spaces", "mixed"], teams, p=[0.8, 0.08, 0.04, 0.04, 0.03, 0.01])
    files = [make_file(p, k) for p, k in zip(preds, kinds, strict=True)]
    mask = private_mask(y, groups, private_fraction=PRIVATE, seed=1000 + d)
    return dict(labels=labels, y=y, new_y=new_y, groups=groups, mask=mask, files=files, preds=preds)


def batch(datasets: list[dict], points, defaults, at) -> tuple[list, object]:
    results = [rescore(ds["files"], ds["labels"], ds["y"], ds["new_y"], ds["groups"], ds["mask"]) for ds in datasets]
    return results, board(results, points, defaults, at)


def one_file_at_a_time(datasets: list[dict], points, defaults, at) -> tuple[list, object]:
    results = []
    for ds in datasets:
        live_old = Scorer(ds["y"], ds["groups"], ds["mask"])
        live_new = Scorer(ds["new_y"], ds["groups"], ds["mask"])
        old, new = [], []
        for data in ds["files"]:
            pred = parse_labels(data, ROWS, ds["labels"])
            old.append(live_old.score_one(pred))
            new.append(live_new.score_one(pred))
        results.append((old, new))
    return results, board(results, points, defaults, at)


def public_private(result) -> tuple[np.ndarray, ...]:
    if isinstance(result, tuple):  # the one-file-at-a-time path: lists of Score
        old, new = result
        return tuple(np.array([getattr(s, f) for s in v]) for v in (old, new) for f in ("public", "private"))
    return result.old.public, result.old.private, result.new.public, result.new.private


def board(results, points, defaults, at):
    """The final (private) boards before and after the fix; one submission per team and dataset."""
    teams = len(at)
    columns = {"old": [], "new": []}
    for result in results:
        old_public, old_private, new_public, new_private = public_private(result)
        for version, public, private in (("old", old_public, old_private), ("new", new_public, new_private)):
            score, _ = counted_board(np.arange(teams), teams, at, public, private, np.zeros(teams, bool), "best_public")
            columns[version].append(score)
    return rank_changes(np.stack(columns["old"], axis=1), np.stack(columns["new"], axis=1), points, defaults, at)


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def pair_loop(preds: np.ndarray, need: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(preds)) for j in range(i + 1, len(preds))
            if np.count_nonzero(preds[i] == preds[j]) >= need]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="250 teams instead of 1,000")
    parser.add_argument("--teams", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    teams = args.teams or (250 if args.quick else 1000)

    config = load_event(Path(__file__).resolve().parents[1] / "config" / "hackathon42.toml", check_data=False)
    points = np.array([ds.points for ds in config.datasets])
    defaults = np.array([ds.default_score for ds in config.datasets])
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    datasets = [make_dataset(rng, d, teams) for d in range(len(config.datasets))]
    at = rng.permutation(teams).astype(float)
    megabytes = sum(len(f) for ds in datasets for f in ds["files"]) / 1e6
    print(f"{teams} teams x {len(datasets)} datasets x {ROWS:,} rows: {teams * len(datasets):,} stored files, "
          f"{megabytes:.0f} MB (made in {time.perf_counter() - started:.1f} s); "
          f"{CORRECTED} labels corrected per dataset, {PRIVATE:.0%} private")

    batch_s, (batch_results, batch_board) = best_of(lambda: batch(datasets, points, defaults, at), args.repeats)
    live_s, (live_results, live_board) = best_of(lambda: one_file_at_a_time(datasets, points, defaults, at),
                                                 args.repeats)
    for got, want in zip(batch_results, live_results, strict=True):
        for a, b in zip(public_private(got), public_private(want), strict=True):
            np.testing.assert_array_equal(a, b)
        assert got.ok.all()
    assert batch_board.moves() == live_board.moves()
    assert np.array_equal(batch_board.new.ranks, live_board.new.ranks)
    moves = batch_board.moves()
    print(f"identical scores and moves: {len(moves)} teams change rank or total on the final board, "
          f"largest rank change {max((abs(m.old_rank - m.new_rank) for m in moves), default=0)}")
    print(f"re-score, batch (rescore)           : {batch_s * 1e3:9.1f} ms")
    print(f"re-score, live path file by file    : {live_s * 1e3:9.1f} ms")
    print(f"speedup                             : {live_s / batch_s:9.1f}x   (target >= 10x)")

    ds = datasets[0]
    private = ds["preds"][:, ds["mask"]]
    need = int(np.ceil(0.995 * private.shape[1]))
    fast_s, flagged = best_of(lambda: similar_pairs(private), args.repeats)
    loop_s, looped = best_of(lambda: pair_loop(private, need), 1)
    assert [(p.a, p.b) for p in flagged] == looped == [(0, 1)]
    print(f"integrity, {teams} teams x {private.shape[1]:,} private rows: similar_pairs {fast_s * 1e3:.1f} ms, "
          f"every pair in a loop {loop_s * 1e3:.1f} ms ({loop_s / fast_s:.1f}x); flagged {looped}")


if __name__ == "__main__":
    main()
