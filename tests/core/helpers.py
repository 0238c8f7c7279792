"""Shared building blocks of the core tests: a small event on disk, a clock the test moves,
label files with a known accuracy. Plain functions (no pytest) so that worker processes
started with "spawn" can import them too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.config import EventConfig, load_event
from bot.core.synth import synthesize_event

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)  # phase "mock" starts
REAL = T0 + timedelta(days=2)  # phase "real" starts
CLOSES = T0 + timedelta(days=4)  # submissions close
ROWS = 200
MAX_BYTES = 4096


@dataclass
class Clock:
    """A clock the test moves: Services read the time through it."""

    now: datetime = field(default_factory=lambda: T0 + timedelta(hours=1))

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        assert when.tzinfo is not None
        self.now = when

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_toml(
    *,
    require_validation: bool = False,
    visibility: str = "live",
    max_size: int = 3,
    formation_opens: datetime | None = None,
    formation_closes: datetime | None = None,
    max_bytes: int = MAX_BYTES,
    controls: dict[int, str] | None = None,
) -> str:
    formation = ""
    if formation_opens:
        formation += f"formation_opens = {_iso(formation_opens)}\n"
    if formation_closes:
        formation += f"formation_closes = {_iso(formation_closes)}\n"
    text = f"""
[event]
name = "Core test event"
timezone = "UTC"

[teams]
min_size = 1
max_size = {max_size}
require_validation = {str(require_validation).lower()}
{formation}

[[phases]]
id = "mock"
starts = {_iso(T0)}
data_dir = "d1"

[[phases]]
id = "real"
starts = {_iso(REAL)}
data_dir = "d2"

[[datasets]]
id = 0
name = "toy"
points = 1
default_score = 0.8

[[datasets]]
id = 3
name = "three"
points = 2
default_score = 0.6
reveal_budget = 5

[[datasets]]
id = 5
name = "digits"        # labels {{4, 5, 6}}, like MNIST digits
points = 3
default_score = 0.2

[[datasets]]
id = 12
name = "late"
points = 1
default_score = 0.7
phases = ["real"]

[[datasets]]
id = 888
name = "big"
points = 1
default_score = 0.5

[submissions]
closes = {_iso(CLOSES)}
max_bytes = {max_bytes}

[leaderboard]
visibility = "{visibility}"
"""
    for dataset_id, lines in (controls or {}).items():  # a dataset's competition controls (issue 16)
        text = text.replace(f"\nid = {dataset_id}\n", f"\nid = {dataset_id}\n{lines}\n", 1)
    return text


def write_event(folder: Path, *, rows: int = ROWS, **options) -> Path:
    """The event file in `folder`, with synthetic data of `rows` target rows for both phases;
    returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(event_toml(**options), encoding="utf-8")
    synthesize_event(load_event(path, check_data=False), rows=rows)
    return path


def load(path: Path) -> EventConfig:
    return load_event(path)


def hidden_y(config: EventConfig, phase: str, dataset_id: int) -> np.ndarray:
    """The hidden labels as they lie on disk (read independently of bot.core)."""
    data_dir = config.resolve(config.phase(phase).data_dir)
    return np.load(data_dir / config.dataset(dataset_id).folder / "y_val.npy")


def other_label(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A different allowed label for each row."""
    labels = np.sort(labels)
    index = np.searchsorted(labels, y)
    return labels[(index + 1) % len(labels)]


def predictions_with_errors(y: np.ndarray, wrong: int, labels=None, *, seed: int = 1) -> np.ndarray:
    """A copy of y with exactly `wrong` rows changed to another allowed label."""
    labels = np.unique(y) if labels is None else np.asarray(labels)
    pred = y.copy()
    rows = np.random.default_rng(seed).choice(len(y), size=wrong, replace=False)
    pred[rows] = other_label(y[rows], labels)[: len(rows)]
    assert int((pred != y).sum()) == wrong
    return pred


def csv_bytes(labels) -> bytes:
    return "".join(f"{int(v)}\n" for v in labels).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def new_team(services, name: str, *, validated: bool = True):
    """A team and its API password."""
    creds = await services.teams.create(name, validated=validated)
    return creds.team, creds.password
