"""The labels in force for a dataset in a phase, their versions, the secret public/private split,
and the Scorer that live scoring and re-scoring share.

Version 1 is what the event started with (y_val on disk). `hackbot labels replace` proposes a
new version (nothing changes for participants), re-scores every stored file against it with the
code that scores live (`scoring.Scorer` over `scoring.parse_batch`), and `--confirm` puts it in
force: every submission's scores and label version are rewritten in one transaction. The split
is made once from version 1's labels and never moves (scoring/split.py): a fix changes labels,
never which board a row counts on.

Every process reads the version in force inside the hop that scores or reveals, so a fix
confirmed from the CLI holds for the bot's very next submission.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import numpy as np

import scoring
from bot.config import Dataset, EventConfig
from bot.core.datasets import DatasetRegistry, HiddenLabels
from bot.core.store import Tx
from scoring.split import private_mask


@dataclass(frozen=True, repr=False)
class Labels:
    """The labels in force for one dataset in one phase, with what scores against them."""

    phase_id: str
    dataset: Dataset
    version: int
    y: np.ndarray  # never logged, never sent whole
    allowed: np.ndarray  # the label set files are parsed against
    groups: np.ndarray | None
    private: np.ndarray  # bool per row: the secret split
    scorer: scoring.Scorer = field(compare=False)

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def has_split(self) -> bool:
        return bool(self.private.any())

    def __repr__(self) -> str:
        return f"Labels(dataset={self.dataset.id}, phase={self.phase_id!r}, version={self.version}, n={self.n})"


def npy_bytes(y: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(y, dtype=np.int64), allow_pickle=False)
    return buffer.getvalue()


def from_npy(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False).astype(np.int64).reshape(-1)


def split_of(dataset: Dataset, first: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """The private rows: from the first labels, fixed by the dataset's secret seed."""
    if dataset.private_fraction <= 0 or dataset.split_seed is None:
        return np.zeros(len(first), dtype=bool)
    return private_mask(first, groups, private_fraction=dataset.private_fraction, seed=dataset.split_seed)


_IN_FORCE = ("SELECT max(version) FROM label_versions WHERE phase = ? AND dataset_id = ? AND confirmed_at IS NOT NULL")


class LabelBook:
    """The labels in force per (phase, dataset), cached by version."""

    def __init__(self, config: EventConfig, registry: DatasetRegistry):
        self.config, self.registry = config, registry
        self._cache: dict[tuple[str, int], Labels] = {}

    def _build(self, hidden: HiddenLabels, dataset: Dataset, version: int, y: np.ndarray,
               first: np.ndarray) -> Labels:
        private = split_of(dataset, first, hidden.groups)
        allowed = np.union1d(hidden.labels, y)
        return Labels(hidden.phase_id, dataset, version, y, allowed, hidden.groups, private,
                      scoring.Scorer(y, hidden.groups, private))

    def first(self, hidden: HiddenLabels, dataset: Dataset) -> Labels:
        """Version 1: the labels on disk."""
        key = (hidden.phase_id, dataset.id)
        cached = self._cache.get(key)
        if cached is not None and cached.version == 1:
            return cached
        labels = self._build(hidden, dataset, 1, hidden.y, hidden.y)
        self._cache.setdefault(key, labels)
        return labels

    async def in_force(self, tx: Tx, hidden: HiddenLabels, dataset: Dataset, version: int | None = None) -> Labels:
        """The labels in force, read in the caller's hop (one small query; none when the caller's
        statement read the `version` in force already, as a reveal's login does)."""
        if version is None:
            version = await tx.fetchval(_IN_FORCE, (hidden.phase_id, dataset.id)) or 1
        key = (hidden.phase_id, dataset.id)
        cached = self._cache.get(key)
        if cached is not None and cached.version == version:
            return cached
        if version == 1:
            labels = self._build(hidden, dataset, 1, hidden.y, hidden.y)
        else:
            rows = dict(await tx.fetchall(
                "SELECT version, labels FROM label_versions WHERE phase = ? AND dataset_id = ? AND version IN (1, ?)",
                (hidden.phase_id, dataset.id, version),
            ))
            first = from_npy(rows[1]) if 1 in rows else hidden.y
            labels = self._build(hidden, dataset, int(version), from_npy(rows[version]), first)
        self._cache[key] = labels
        return labels

    def proposed(self, current: Labels, hidden: HiddenLabels, version: int, y: np.ndarray) -> Labels:
        """A proposed version, scored with the split the event started with."""
        private = current.private  # the split never moves
        allowed = np.union1d(current.allowed, y)
        return Labels(current.phase_id, current.dataset, version, y, allowed, hidden.groups, private,
                      scoring.Scorer(y, hidden.groups, private))


def labels_digest(y: np.ndarray) -> str:
    return hashlib.sha256(npy_bytes(y)).hexdigest()
