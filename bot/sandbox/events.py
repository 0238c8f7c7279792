"""A small always-live event file with synthetic data, for the double's end-to-end runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.config import load_event
from bot.core.synth import synthesize_event

ROWS = 120


def event_toml(*, budget: int = 3, max_size: int = 3, reminder_in: str = "now+10s", before: str = "6s",
               extra: str = "") -> str:
    # relative times: the phase is live whenever the bot (re)loads the file
    return f"""
[event]
name = "E2E event"
timezone = "UTC"

[teams]
min_size = 1
max_size = {max_size}
require_validation = false

[[phases]]
id = "main"
starts = "now-1h"
data_dir = "data"

[submissions]
closes = "now+7d"
max_bytes = 1_048_576

[leaderboard]
visibility = "live"

[[datasets]]
id = 0
name = "toy_dataset"
points = 1
reveal_budget = {budget}

[[datasets]]
id = 3
name = "shortcut_digits"
points = 2
reveal_budget = {budget}

[[schedule]]
title = "Check-in"
at = "{reminder_in}"
remind_before = ["{before}"]
{extra}"""


def write_e2e_event(folder: Path, *, rows: int = ROWS, **options) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(event_toml(**options), encoding="utf-8")
    synthesize_event(load_event(path, check_data=False), rows=rows)
    return path


def hidden_labels(config_path: Path, dataset_id: int) -> np.ndarray:
    folder = next(f for f in (config_path.parent / "data").iterdir() if int(f.name.split("_")[0]) == dataset_id)
    return np.load(folder / "y_val.npy")
