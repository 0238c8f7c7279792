"""Synthetic datasets in the Hackathon42 layout, and pools of people looking for a team, for
demos, tests, benchmarks and rehearsals.

Each dataset has a true feature and a shortcut feature. In the labeled set both predict the
label perfectly; in the unlabeled and target sets the shortcut agrees with the label on about
half the rows (groups_val.npy: 0 = shortcut-aligned, 1 = shortcut-conflicting), so a model that
learned the shortcut scores about 0.5 there, and one that learned the true feature about 1.0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.config import Dataset, EventConfig
from bot.core.datasets import DatasetRegistry
from bot.core.matchmaking import LEVELS, Person
from bot.core.store import Store, Tx
from scoring import worst_group_accuracy as scoring_worst

FEATURES = 16


def label_set(dataset_id: int) -> np.ndarray:
    """Vary the label values the way the real datasets do (MNIST digits, not only 0/1)."""
    return np.array([[0, 1], [0, 2], [4, 5, 6]][dataset_id % 3])


def write_dataset(folder: Path, dataset_id: int, *, rows: int, seed: int) -> None:
    rng = np.random.default_rng([seed, dataset_id])
    labels = label_set(dataset_id)
    k = len(labels)

    def sample(n: int, conflict_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cls = rng.integers(0, k, n)
        conflict = rng.random(n) < conflict_rate
        shortcut_cls = np.where(conflict, (cls + rng.integers(1, k, n)) % k, cls)
        x = rng.normal(0, 1, (n, FEATURES)).astype(np.float32)
        x[:, 0] += 2.0 * cls  # the true feature: noisy
        x[:, 1] = 10.0 * shortcut_cls + rng.normal(0, 0.1, n)  # the shortcut: clean, tempting
        return x, labels[cls].astype(np.int64), conflict.astype(np.int64)

    folder.mkdir(parents=True, exist_ok=True)
    x_lab, y_lab, _ = sample(max(rows // 2, 10), 0.0)
    x_unl, _, _ = sample(rows, 0.5)
    x_val, y_val, groups = sample(rows, 0.5)
    for name, array in [
        ("X_labeled", x_lab), ("y_labeled", y_lab), ("X_unlabeled", x_unl),
        ("X_val", x_val), ("y_val", y_val), ("groups_val", groups),
    ]:
        np.save(folder / f"{name}.npy", array, allow_pickle=False)


def write_synthetic(
    out: Path,
    datasets: list[Dataset],
    *,
    rows: int = 1000,
    seed: int = 0,
    progress: Callable[[Dataset], None] | None = None,
) -> list[Path]:
    written = []
    for ds in datasets:
        folder = out / ds.folder
        write_dataset(folder, ds.id, rows=rows, seed=seed)
        written.append(folder)
        if progress:
            progress(ds)
    return written


def synthesize_event(config: EventConfig, *, rows: int = 1000, seed: int = 0) -> list[Path]:
    """Write every phase's missing data folder; phases get different seeds, like Hackathon42's."""
    written = []
    for n, phase in enumerate(config.phases):
        if phase.data_dir is None:
            continue
        out = config.resolve(phase.data_dir)
        if not out.exists():
            written += write_synthetic(out, config.datasets_in_phase(phase.id), rows=rows, seed=seed + n)
    return written


def synthetic_pool(rng: np.random.Generator, ids: list[str], topics: list[str]) -> list[Person]:
    """People looking for a team, like a real registration: skewed topic popularity (1 to 3
    each), more newcomers than experts, a few time-zone regions, most open to existing teams."""
    popularity = np.arange(len(topics), 0, -1, dtype=float)
    popularity /= popularity.sum()
    regions = np.array([-8, -5, 0, 1, 5.5, 8, 9])
    people = []
    for person_id in ids:
        chosen = rng.choice(len(topics), int(rng.integers(1, 4)), replace=False, p=popularity)
        people.append(Person(
            person_id, tuple(topics[j] for j in sorted(chosen)), str(rng.choice(LEVELS, p=[0.5, 0.35, 0.15])),
            int((regions[rng.integers(0, len(regions))] + rng.integers(-1, 2)) * 60), bool(rng.random() < 0.7),
        ))
    return people


async def synthetic_board(
    store: Store, config: EventConfig, registry: DatasetRegistry, phase_id: str, *, teams: int, seed: int = 0,
    submit_rate: float = 0.6, now: float = 0.0, long_name: bool = True,
) -> list[str]:
    """A crowded board for demos, page tests and benchmarks: `teams` validated teams written in one
    hop (one 64-character name when `long_name`), about `submit_rate` of the (team, dataset) pairs
    submitted with their true accuracy and worst-group accuracy on the phase's hidden labels, and
    a tenth of the teams with no submission at all. Returns the team names, in creation order."""
    rng = np.random.default_rng(seed)
    names = [f"Team {i:04d} {rng.choice(_WORDS)}" for i in range(teams)]
    if long_name and teams:
        names[min(3, teams - 1)] = ("The Extraordinarily Long-Named Collective of Careful Labelers 42")[:64]
    datasets = [(ds, registry.get(phase_id, ds.id)) for ds in config.datasets_in_phase(phase_id)]
    team_rows, sub_rows = [], []
    for i, name in enumerate(names):
        team_rows.append((name, name.casefold(), f"user{i:05d}", hashlib.sha256(name.encode()).digest(), now))
        if i % 10 == 9:
            continue  # no submission yet
        skill = rng.uniform(0.5, 1.0)
        for ds, hidden in datasets:
            if hidden is None or rng.random() > submit_rate:
                continue
            wrong = rng.random(hidden.n) > skill
            pred = np.where(wrong, hidden.labels[(np.searchsorted(hidden.labels, hidden.y) + 1) % len(hidden.labels)],
                            hidden.y)
            raw = ("\n".join(map(str, pred.tolist())) + "\n").encode()
            acc = float(np.mean(pred == hidden.y))
            worst = None if hidden.groups is None else float(scoring_worst(pred, hidden.y, hidden.groups))
            sub_rows.append((phase_id, name.casefold(), ds.id, now - rng.uniform(0, 86400), hidden.n, acc, worst, "labels.csv",
                             hashlib.sha256(raw).hexdigest(), raw, "synthetic"))

    async def write(tx: Tx) -> None:
        async with tx.transaction():
            await tx.executemany(
                "INSERT INTO teams(name, name_key, username, password_digest, validated, created_at)"
                " VALUES (?, ?, ?, ?, 1, ?)", team_rows)
            ids = dict(await tx.fetchall("SELECT name_key, id FROM teams"))
            await tx.executemany(
                "INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, rows, accuracy, worst_group,"
                " filename, sha256, raw, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row[0], ids[row[1]], *row[2:]) for row in sub_rows])

    await store.run(write)
    return names


_WORDS = ["Otters", "Gradient", "Labelers", "Bayes", "Kernels", "Shortcuts", "Pixels", "Robust", "Tensor", "Ducks"]
