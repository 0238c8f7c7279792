"""Hidden target labels, per phase, in the Hackathon42 on-disk layout.

`<data_dir>/<id>_<name>/` holds X_labeled.npy, y_labeled.npy, X_unlabeled.npy, X_val.npy (given
to participants) and y_val.npy (hidden; or y_val.txt, one integer per line). `datum_id` is the
0-based row of X_val. An optional groups_val.npy marks e.g. shortcut-aligned (0) and
shortcut-conflicting (1) rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Dataset, EventConfig

_FOLDER = re.compile(r"^(\d+)_")


class DataError(Exception):
    """Hidden labels that cannot be served; the message names the file and the fix."""


@dataclass(frozen=True, repr=False)
class HiddenLabels:
    dataset_id: int
    phase_id: str
    folder: Path
    y: np.ndarray  # int64, one label per row of X_val; never logged, never sent whole
    labels: np.ndarray  # the dataset's sorted label set
    groups: np.ndarray | None

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def __repr__(self) -> str:  # keep the labels out of logs and tracebacks
        return f"HiddenLabels(dataset={self.dataset_id}, phase={self.phase_id!r}, n={self.n})"


def find_folder(data_dir: Path, dataset_id: int) -> Path | None:
    """The `<id>_<name>` folder of a dataset; "03_x" and "3_x" both match id 3."""
    if not data_dir.is_dir():
        return None
    for child in sorted(data_dir.iterdir()):
        match = _FOLDER.match(child.name)
        if child.is_dir() and match and int(match.group(1)) == dataset_id:
            return child
    return None


def _rows(path: Path) -> int:
    # mmap reads only the header: X_val can be gigabytes of images
    return int(np.load(path, mmap_mode="r", allow_pickle=False).shape[0])


def _read_label_text(path: Path) -> np.ndarray:
    """One integer per line, nothing else: a skipped blank line would shift every datum_id after it."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if lines and lines[-1].strip() == "":
        lines.pop()
    labels = []
    for number, line in enumerate(lines, 1):
        try:
            labels.append(int(line.strip()))
        except ValueError:
            raise DataError(f"{path}: line {number} is {line[:40]!r}, not an integer label; "
                            "the file holds one label per row of X_val, no header, no blank line") from None
    return np.array(labels, dtype=np.int64)


def load_hidden_labels(data_dir: Path, dataset: Dataset, phase_id: str) -> HiddenLabels:
    folder = find_folder(data_dir, dataset.id)
    if folder is None:
        raise DataError(
            f"dataset {dataset.id} ({dataset.name}): no folder {dataset.folder}/ (or {dataset.id}_*/) "
            f"in {data_dir}; add it or remove the dataset from phase {phase_id!r}"
        )
    source = folder / "y_val.npy"
    if not source.exists():
        source = folder / "y_val.txt"
    if not source.exists():
        raise DataError(f"{folder}: no y_val.npy or y_val.txt; the hidden labels are needed to score")
    try:
        y = np.load(source, allow_pickle=False) if source.suffix == ".npy" else _read_label_text(source)
    except (ValueError, OSError) as exc:  # a corrupt .npy, a pickled array, an unreadable file
        raise DataError(f"{source}: the hidden labels cannot be read ({exc}); replace the file") from None
    y = np.asarray(y).reshape(-1)
    if y.size == 0:
        raise DataError(f"{folder}: the hidden labels are empty")
    if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise DataError(f"{folder}: y_val holds non-integer labels; labels must be integers")
    y = y.astype(np.int64)
    if (folder / "X_val.npy").exists():
        n_x = _rows(folder / "X_val.npy")
        if n_x != y.size:
            raise DataError(
                f"{folder}: y_val has {y.size} labels but X_val.npy has {n_x} rows; "
                "they must match row for row"
            )
    labels = y
    if (folder / "y_labeled.npy").exists():
        labels = np.concatenate([y, np.load(folder / "y_labeled.npy", allow_pickle=False).reshape(-1).astype(np.int64)])
    groups = None
    if (folder / "groups_val.npy").exists():
        groups = np.load(folder / "groups_val.npy", allow_pickle=False).reshape(-1).astype(np.int64)
        if groups.size != y.size:
            raise DataError(f"{folder}: groups_val.npy has {groups.size} rows, y_val has {y.size}")
    y.setflags(write=False)
    return HiddenLabels(dataset.id, phase_id, folder, y, np.unique(labels), groups)


class DatasetRegistry:
    """Every (phase, dataset) pair's hidden labels, loaded once at start."""

    def __init__(self, hidden: dict[tuple[str, int], HiddenLabels]):
        self._hidden = hidden

    @classmethod
    def load(cls, config: EventConfig) -> DatasetRegistry:
        hidden: dict[tuple[str, int], HiddenLabels] = {}
        problems: list[str] = []
        for phase in config.phases:
            if phase.data_dir is None:
                continue
            data_dir = config.resolve(phase.data_dir)
            for ds in config.datasets_in_phase(phase.id):
                try:
                    hidden[(phase.id, ds.id)] = load_hidden_labels(data_dir, ds, phase.id)
                except DataError as exc:
                    problems.append(str(exc))
        if problems:
            raise DataError("\n".join(problems))
        return cls(hidden)

    def get(self, phase_id: str, dataset_id: int) -> HiddenLabels | None:
        return self._hidden.get((phase_id, dataset_id))

    def __len__(self) -> int:
        return len(self._hidden)
