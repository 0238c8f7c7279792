"""The organizers' competition controls and the team's final pick: the rules behind
`/final-pick`, `hackbot baseline add`, `hackbot labels replace`, `hackbot team disqualify`,
`hackbot integrity` and `hackbot export`. Structured values out; the doors render them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import scoring
from bot.config import Dataset, EventConfig, Phase
from bot.core.clock import Clock, fmt_utc
from bot.core.datasets import DataError, DatasetRegistry, HiddenLabels, _read_label_text
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.labels import LabelBook, Labels, labels_digest, npy_bytes
from bot.core.leaderboard import LeaderboardService
from bot.core.phases import PhaseClock
from bot.core.store import Store, Tx
from bot.core.submission_rules import counted
from bot.core.teams import Team
from bot.core.visibility import reply_shows_score
from scoring.integrity import accuracy_without_reveals, reveal_mask, similar_pairs
from scoring.parse_batch import parse_many
from scoring.rescore import rescore

INTEGRITY_THRESHOLD = 0.995


@dataclass(frozen=True)
class OwnSubmission:
    number: int  # 1-based, in the order the team sent them (what /final-pick takes)
    id: int
    submitted_at: float
    score: float | None  # public (full without a split); None when the dataset's board hides it
    picked: bool


@dataclass(frozen=True)
class Pick:
    dataset_id: int
    number: int
    score: float | None
    closes: datetime | None


@dataclass(frozen=True)
class TeamMove:
    team: str
    old: float | None  # the team's counted public score on the dataset (None: no submission)
    new: float | None
    old_private: float | None
    new_private: float | None
    old_rank: int
    new_rank: int


@dataclass(frozen=True)
class Relabel:
    """What a label fix does: the rows changed, the files re-scored, who moves."""

    dataset_id: int
    phase: str
    old_version: int
    new_version: int
    changed_rows: int
    files: int
    refused_now: int  # stored files that no longer parse (kept, scored as before)
    moves: list[TeamMove]
    corrected_reveals: list[tuple[str, int]]  # (team, datum): the team was answered the old label
    confirmed: bool


@dataclass(frozen=True)
class Flag:
    dataset_id: int
    team_a: str
    team_b: str
    agreement: float
    rows: int
    explained_by_accuracy: bool


@dataclass(frozen=True)
class WithoutReveals:
    team: str
    dataset_id: int
    accuracy: float
    without_reveals: float | None
    revealed: int


def load_label_file(path: Path) -> np.ndarray:
    """New labels: a .npy array or a text file of one integer per line."""
    try:
        y = np.load(path, allow_pickle=False) if path.suffix == ".npy" else _read_label_text(path)
    except (OSError, ValueError, DataError) as exc:
        raise BadInput(f"{path}: cannot read labels ({exc}); give a .npy array or one integer per line") from None
    y = np.asarray(y).reshape(-1)
    if y.size == 0 or (not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0)):
        raise BadInput(f"{path}: the labels must be integers, one per row of X_val")
    return y.astype(np.int64)


class ControlsService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock,
                 clock: Clock, labels: LabelBook, leaderboard: LeaderboardService):
        self.store, self.config, self.registry, self.phases = store, config, registry, phases
        self.clock, self.labels, self.leaderboard = clock, labels, leaderboard

    # --- helpers --------------------------------------------------------------------------

    async def _phase(self, tx: Tx, phase_id: str | None) -> Phase:
        if phase_id is not None:
            phase = self.config.phase(phase_id)
            if phase is None:
                known = ", ".join(p.id for p in self.config.phases) or "none"
                raise NotFound(f"there is no phase {phase_id!r}; the phases are: {known}")
            return phase
        current = await self.phases.current_in(tx, self.clock())
        if current is None:
            raise NotAllowed("no phase has started; name one with --phase")
        return current

    def _dataset(self, phase: Phase, dataset_id: int) -> tuple[Dataset, HiddenLabels]:
        ds = self.config.dataset(dataset_id)
        if ds is None or not self.config.dataset_in_phase(ds, phase.id):
            known = ", ".join(str(d.id) for d in self.config.datasets_in_phase(phase.id)) or "none"
            raise NotFound(f"dataset {dataset_id} is not part of phase {phase.id!r}; its datasets are: {known}")
        hidden = self.registry.get(phase.id, dataset_id)
        if hidden is None:
            raise NotAllowed(f"dataset {dataset_id} has no data loaded for phase {phase.id!r}")
        return ds, hidden

    async def _team(self, tx: Tx, name: str) -> tuple[int, str]:
        row = await tx.fetchone("SELECT id, name FROM teams WHERE name_key = ?", (name.strip().casefold(),))
        if row is None:
            raise NotFound(f"there is no team {name!r}; `hackbot team list` lists them")
        return int(row[0]), str(row[1])

    # --- the team's own submissions and the final pick ------------------------------------

    def pick_closes(self, ds: Dataset) -> datetime | None:
        return ds.final_pick_closes or self.config.submissions.closes

    async def own(self, team: Team, dataset_id: int) -> list[OwnSubmission]:
        """The team's submissions on a dataset of the current phase, numbered."""
        async def read(tx: Tx) -> list[OwnSubmission]:
            phase = await self._phase(tx, None)
            ds, _ = self._dataset(phase, dataset_id)
            rows = await tx.fetchall(
                "SELECT s.id, s.submitted_at, s.accuracy, s.public, f.submission_id FROM submissions s"
                " LEFT JOIN final_picks f ON f.submission_id = s.id"
                " WHERE s.phase = ? AND s.team_id = ? AND s.dataset_id = ? ORDER BY s.id",
                (phase.id, team.id, dataset_id),
            )
            show = reply_shows_score(self.config, ds, phase.id)
            return [OwnSubmission(k, r[0], r[1], (r[3] if ds.private_fraction > 0 else r[2]) if show else None,
                                  r[4] is not None) for k, r in enumerate(rows, 1)]
        return await self.store.run(read)

    async def latest(self, team: Team) -> dict[int, float]:
        """The team's latest visible score per dataset of the current phase: what it sees of its own
        work during a freeze (no rank)."""
        async def read(tx: Tx) -> dict[int, float]:
            phase = await self.phases.current_in(tx, self.clock())
            if phase is None:
                return {}
            rows = await tx.fetchall(
                "SELECT dataset_id, accuracy, public FROM submissions WHERE id IN (SELECT max(id) FROM submissions"
                " WHERE phase = ? AND team_id = ? GROUP BY dataset_id)", (phase.id, team.id))
            found = {}
            for dataset_id, full, public in rows:
                ds = self.config.dataset(dataset_id)
                if ds is not None and reply_shows_score(self.config, ds, phase.id):
                    found[int(dataset_id)] = float(public if ds.private_fraction > 0 and public is not None else full)
            return found
        return await self.store.run(read)

    async def final_pick(self, team: Team, dataset_id: int, number: int) -> Pick:
        """Pick the team's `number`-th submission on a dataset to count (counts = "final_pick"),
        until the picks close; a new pick replaces the previous one."""
        now = self.clock()

        async def pick(tx: Tx) -> Pick:
            phase = await self._phase(tx, None)
            ds, _ = self._dataset(phase, dataset_id)
            if ds.counts != "final_pick":
                raise NotAllowed(f"dataset {dataset_id} counts your {ds.counts.replace('_', ' ')} submission; "
                                 "there is nothing to pick")
            closes = self.pick_closes(ds)
            if closes is not None and now >= closes:
                raise NotAllowed(f"final picks for dataset {dataset_id} closed at {fmt_utc(closes)}")
            rows = await tx.fetchall(
                "SELECT id, accuracy, public FROM submissions WHERE phase = ? AND team_id = ? AND dataset_id = ?"
                " ORDER BY id", (phase.id, team.id, dataset_id))
            if not rows:
                raise NotAllowed(f"your team has no submission for dataset {dataset_id} yet; /submit one first")
            if not 1 <= number <= len(rows):
                raise BadInput(f"your team has {len(rows)} submission(s) for dataset {dataset_id}: "
                               f"pick a number from 1 to {len(rows)}")
            chosen = rows[number - 1]
            async with tx.transaction():
                await tx.execute(
                    "INSERT INTO final_picks(phase, team_id, dataset_id, submission_id, picked_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (phase, team_id, dataset_id) DO UPDATE SET submission_id = excluded.submission_id,"
                    " picked_at = excluded.picked_at",
                    (phase.id, team.id, dataset_id, chosen[0], now.timestamp()),
                )
            show = reply_shows_score(self.config, ds, phase.id)
            score = (chosen[2] if ds.private_fraction > 0 else chosen[1]) if show else None
            return Pick(dataset_id, number, score, closes)
        return await self.store.run(pick)

    # --- baselines ------------------------------------------------------------------------

    async def add_baseline(self, dataset_id: int, name: str, filename: str, data: bytes,
                           phase_id: str | None = None) -> tuple[float, float | None]:
        """Score an organizers' baseline file as a submission is scored and show it on the board
        (never ranked). A baseline of the same name on the dataset is replaced. Returns (full,
        public) accuracy."""
        name = name.strip()
        if not 1 <= len(name) <= 64:
            raise BadInput("a baseline's name has 1 to 64 characters")
        now = self.clock()

        async def add(tx: Tx) -> tuple[float, float | None]:
            phase = await self._phase(tx, phase_id)
            ds, hidden = self._dataset(phase, dataset_id)
            labels = await self.labels.in_force(tx, hidden, ds)
            try:
                predictions = scoring.parse_labels(data, labels.n, labels.allowed)
            except scoring.LabelFileError as exc:
                raise BadInput(f"{filename}: {exc}") from None
            score = labels.scorer.score_one(predictions)
            async with tx.transaction():
                await tx.execute(
                    "INSERT INTO baselines(phase, dataset_id, name, submitted_at, rows, accuracy, worst_group, public,"
                    " private, label_version, filename, sha256, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (phase, dataset_id, name) DO UPDATE SET submitted_at = excluded.submitted_at,"
                    " accuracy = excluded.accuracy, worst_group = excluded.worst_group, public = excluded.public,"
                    " private = excluded.private, label_version = excluded.label_version,"
                    " filename = excluded.filename, sha256 = excluded.sha256, raw = excluded.raw",
                    (phase.id, dataset_id, name, now.timestamp(), labels.n, score.full, score.worst_full,
                     _db(score.public), _db(score.private), labels.version, filename,
                     hashlib.sha256(data).hexdigest(), data),
                )
            return score.full, _db(score.public)
        return await self.store.run(add)

    # --- disqualification -----------------------------------------------------------------

    async def disqualify(self, name: str, reason: str | None) -> str:
        """Disqualify a team with a reason (out of the ranks and the prizes, shown greyed), or
        requalify it (reason None). Returns the team's name."""
        if reason is not None and not reason.strip():
            raise BadInput("give the reason: --reason \"...\" (organizers see it beside the team)")
        now = self.clock().timestamp()

        async def act(tx: Tx) -> str:
            team_id, team_name = await self._team(tx, name)
            await tx.execute("UPDATE teams SET disqualified = ?, disqualified_at = ? WHERE id = ?",
                             (reason.strip() if reason else None, now if reason else None, team_id))
            return team_name
        return await self.store.run(act)

    # --- label fixes ----------------------------------------------------------------------

    async def replace_labels(self, dataset_id: int, new_y: np.ndarray, reason: str, *, confirm: bool,
                             phase_id: str | None = None) -> Relabel:
        """Re-score every stored file of the dataset against new labels and say who moves.
        Without `confirm` nothing is written; with it, the new version is in force and every
        submission's (and baseline's) scores are rewritten, in one transaction."""
        if not reason.strip():
            raise BadInput("give the reason for the fix: --reason \"...\" (it is kept with the label version)")
        now = self.clock()
        return await self.store.run(self._relabel, dataset_id, np.asarray(new_y, dtype=np.int64), reason.strip(),
                                    confirm, phase_id, now)

    async def _relabel(self, tx: Tx, dataset_id: int, new_y: np.ndarray, reason: str, confirm: bool,
                       phase_id: str | None, now: datetime) -> Relabel:
        phase = await self._phase(tx, phase_id)
        ds, hidden = self._dataset(phase, dataset_id)
        if confirm:
            async with tx.transaction():
                await tx.lock("labels", phase.id, dataset_id)
                return await self._relabel_in(tx, phase, ds, hidden, new_y, reason, True, now)
        return await self._relabel_in(tx, phase, ds, hidden, new_y, reason, False, now)

    async def _relabel_in(self, tx: Tx, phase: Phase, ds: Dataset, hidden: HiddenLabels, new_y: np.ndarray,
                          reason: str, confirm: bool, now: datetime) -> Relabel:
        current = await self.labels.in_force(tx, hidden, ds)
        if new_y.shape != current.y.shape:
            raise BadInput(f"the new labels have {new_y.size} rows; dataset {ds.id} has {current.n} "
                           "(a fix changes labels, not the number of rows)")
        if np.array_equal(new_y, current.y):
            raise BadInput(f"these labels are the ones in force (version {current.version}); nothing to fix")
        proposed = self.labels.proposed(current, hidden, current.version + 1, new_y)
        subs = await tx.fetchall(
            "SELECT s.id, s.team_id, t.name, s.submitted_at, s.raw, s.accuracy, s.public, s.private,"
            " CASE WHEN f.submission_id IS NULL THEN 0 ELSE 1 END, t.disqualified"
            " FROM submissions s JOIN teams t ON t.id = s.team_id"
            " LEFT JOIN final_picks f ON f.submission_id = s.id WHERE s.phase = ? AND s.dataset_id = ? ORDER BY s.id",
            (phase.id, ds.id),
        )
        files = [bytes(r[4]) for r in subs]
        result = rescore(files, proposed.allowed, current.y, new_y, hidden.groups, current.private)
        moves = self._moves(ds, subs, result)
        reveals = await tx.fetchall(
            "SELECT t.name, r.datum_id, r.label FROM reveals r JOIN teams t ON t.id = r.team_id"
            " WHERE r.phase = ? AND r.dataset_id = ? ORDER BY r.id", (phase.id, ds.id))
        corrected = [(str(name), int(datum)) for name, datum, label in reveals
                     if int(new_y[datum]) != (int(current.y[datum]) if label is None else int(label))]
        if confirm:
            await self._apply(tx, phase, ds, current, proposed, hidden, reason, subs, result, now)
        return Relabel(ds.id, phase.id, current.version, proposed.version, int(result.changed_rows.size), len(subs),
                       int((~result.ok).sum()), moves, corrected, confirm)

    def _moves(self, ds: Dataset, subs: list[tuple], result) -> list[TeamMove]:
        """Each team's counted score on the dataset before and after, and its rank on it."""
        if not subs:
            return []
        names = sorted({r[2] for r in subs})
        index = {name: i for i, name in enumerate(names)}
        team = np.array([index[r[2]] for r in subs], dtype=np.intp)
        at = np.array([r[3] for r in subs], dtype=np.float64)
        picked = np.array([bool(r[8]) for r in subs])

        def board(public: np.ndarray, private: np.ndarray, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            shown = np.where(np.isnan(public), full, public)
            mask = counted(team, at, shown, picked, ds.counts)
            score = np.full(len(names), np.nan)
            priv = np.full(len(names), np.nan)
            score[team[mask]] = shown[mask]
            priv[team[mask]] = private[mask]
            return score, priv

        ok = result.ok
        stored_pub = np.array([np.nan if r[6] is None else r[6] for r in subs], dtype=np.float64)
        stored_priv = np.array([np.nan if r[7] is None else r[7] for r in subs], dtype=np.float64)
        stored_full = np.array([r[5] for r in subs], dtype=np.float64)
        new_pub = np.where(ok, result.new.public, stored_pub)
        new_priv = np.where(ok, result.new.private, stored_priv)
        new_full = np.where(ok, result.new.full, stored_full)
        old_score, old_priv = board(stored_pub, stored_priv, stored_full)
        new_score, new_priv_t = board(new_pub, new_priv, new_full)
        old_rank, new_rank = _ranks(old_score), _ranks(new_score)
        moves = []
        for i, name in enumerate(names):
            if _same(old_score[i], new_score[i]) and _same(old_priv[i], new_priv_t[i]) and old_rank[i] == new_rank[i]:
                continue
            moves.append(TeamMove(name, _opt(old_score[i]), _opt(new_score[i]), _opt(old_priv[i]),
                                  _opt(new_priv_t[i]), int(old_rank[i]), int(new_rank[i])))
        moves.sort(key=lambda m: (-abs(m.old_rank - m.new_rank), m.new_rank))
        return moves

    async def _apply(self, tx: Tx, phase: Phase, ds: Dataset, current: Labels, proposed: Labels,
                     hidden: HiddenLabels, reason: str, subs: list[tuple], result, now: datetime) -> None:
        at = now.timestamp()
        if current.version == 1:
            await tx.execute(
                "INSERT INTO label_versions(phase, dataset_id, version, labels, sha256, reason, created_at, confirmed_at)"
                " VALUES (?, ?, 1, ?, ?, 'the labels the event started with', ?, ?) ON CONFLICT DO NOTHING",
                (phase.id, ds.id, npy_bytes(current.y), labels_digest(current.y), at, at),
            )
        await tx.execute(
            "INSERT INTO label_versions(phase, dataset_id, version, labels, sha256, reason, created_at, confirmed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (phase.id, ds.id, proposed.version, npy_bytes(proposed.y), labels_digest(proposed.y), reason, at, at),
        )
        new = result.new
        rows = []
        for k, r in enumerate(subs):
            if not result.ok[k]:
                continue  # a stored file the parser now refuses keeps its scores (reported)
            rows.append((float(new.full[k]), _opt(None if new.worst_full is None else new.worst_full[k]),
                         _opt(new.public[k]), _opt(new.private[k]),
                         _opt(None if new.worst_public is None else new.worst_public[k]),
                         _opt(None if new.worst_private is None else new.worst_private[k]),
                         proposed.version, r[0]))
        await tx.executemany(
            "UPDATE submissions SET accuracy = ?, worst_group = ?, public = ?, private = ?, worst_public = ?,"
            " worst_private = ?, label_version = ? WHERE id = ?", rows)
        for base_id, raw in await tx.fetchall(
            "SELECT id, raw FROM baselines WHERE phase = ? AND dataset_id = ?", (phase.id, ds.id)
        ):
            try:
                score = proposed.scorer.score_one(scoring.parse_labels(bytes(raw), proposed.n, proposed.allowed))
            except scoring.LabelFileError:
                continue
            await tx.execute(
                "UPDATE baselines SET accuracy = ?, worst_group = ?, public = ?, private = ?, label_version = ?"
                " WHERE id = ?", (score.full, score.worst_full, _db(score.public), _db(score.private),
                                  proposed.version, base_id))

    # --- integrity ------------------------------------------------------------------------

    async def integrity(self, phase_id: str | None = None, threshold: float = INTEGRITY_THRESHOLD) -> list[Flag]:
        """Pairs of teams whose latest predictions on a dataset agree on `threshold` or more of
        the private rows (every row without a private part): for organizers to look at."""
        async def read(tx: Tx) -> tuple[Phase, list[tuple[Dataset, Labels, list[tuple]]]]:
            phase = await self._phase(tx, phase_id)
            out = []
            for ds in self.config.datasets_in_phase(phase.id):
                hidden = self.registry.get(phase.id, ds.id)
                if hidden is None:
                    continue
                labels = await self.labels.in_force(tx, hidden, ds)
                rows = [(name, raw) for _, name, raw, _ in await _latest_submissions(tx, phase.id, ds.id)]
                out.append((ds, labels, rows))
            return phase, out

        _, per_dataset = await self.store.run(read)
        flags = []
        for ds, labels, rows in per_dataset:
            if len(rows) < 2:
                continue
            parsed = parse_many([bytes(r[1]) for r in rows], labels.n, labels.allowed)
            keep = np.flatnonzero(parsed.ok)
            preds = parsed.values[keep]
            columns = labels.private if labels.has_split else np.ones(labels.n, dtype=bool)
            pairs = similar_pairs(preds[:, columns], threshold=threshold, truth=labels.y[columns])
            for p in pairs:
                flags.append(Flag(ds.id, rows[keep[p.a]][0], rows[keep[p.b]][0], p.agreement, p.rows,
                                  p.explained_by_accuracy))
        return flags

    async def without_reveals(self, phase_id: str | None = None) -> list[WithoutReveals]:
        """Each team's accuracy on each dataset (its latest submission) with the datums it
        revealed left out: what its method scores without the labels it was given."""
        async def read(tx: Tx) -> list[tuple[Dataset, Labels, list[tuple], list[tuple]]]:
            phase = await self._phase(tx, phase_id)
            out = []
            for ds in self.config.datasets_in_phase(phase.id):
                hidden = self.registry.get(phase.id, ds.id)
                if hidden is None:
                    continue
                labels = await self.labels.in_force(tx, hidden, ds)
                subs = await _latest_submissions(tx, phase.id, ds.id)
                reveals = await tx.fetchall(
                    "SELECT team_id, datum_id FROM reveals WHERE phase = ? AND dataset_id = ?", (phase.id, ds.id))
                out.append((ds, labels, subs, reveals))
            return out

        result = []
        for ds, labels, subs, reveals in await self.store.run(read):
            if not subs:
                continue
            parsed = parse_many([bytes(r[2]) for r in subs], labels.n, labels.allowed)
            row_of = {r[0]: k for k, r in enumerate(subs)}
            hits = [(row_of[t], d) for t, d in reveals if t in row_of]
            mask = reveal_mask([h[0] for h in hits], [h[1] for h in hits], parsed.values.shape)
            without = accuracy_without_reveals(parsed.values, labels.y, mask)
            for k, r in enumerate(subs):
                value = float(without[k]) if parsed.ok[k] and not np.isnan(without[k]) else None
                result.append(WithoutReveals(r[1], ds.id, float(r[3]), value, int(mask[k].sum())))
        return result

    # --- exports --------------------------------------------------------------------------

    async def export_submissions(self, phase_id: str | None = None) -> str:
        """Every submission as CSV: team, dataset, scores, file hash, label version, time."""
        async def read(tx: Tx) -> list[tuple]:
            phase = await self._phase(tx, phase_id)
            return await tx.fetchall(
                "SELECT s.phase, t.name, s.dataset_id, s.submitted_at, s.accuracy, s.worst_group, s.public, s.private,"
                " s.worst_public, s.worst_private, s.label_version, s.sha256, s.filename, s.source,"
                " CASE WHEN f.submission_id IS NULL THEN 0 ELSE 1 END FROM submissions s"
                " JOIN teams t ON t.id = s.team_id LEFT JOIN final_picks f ON f.submission_id = s.id"
                " WHERE s.phase = ? ORDER BY s.id", (phase.id,))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["phase", "team", "dataset", "submitted_at", "accuracy", "worst_group", "public", "private",
                         "worst_public", "worst_private", "label_version", "sha256", "filename", "source",
                         "final_pick"])
        for r in await self.store.run(read):
            when = datetime.fromtimestamp(r[3], UTC).isoformat()
            writer.writerow([r[0], _csv_text(r[1]), r[2], when, *(_num(v) for v in r[4:10]), r[10], r[11],
                             _csv_text(r[12]), r[13], r[14]])
        return out.getvalue()

    async def export_leaderboard(self, phase_id: str | None = None) -> str:
        """The organizers' standings as CSV: rank, team, kind, total, each dataset's counted score."""
        standings = await self.leaderboard.standings(phase_id, organizer=True)
        versions = standings.board.label_versions if standings.board else {}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["board", "rank", "team", "kind", "total", "note",
                         *[f"dataset_{ds.id} (labels v{versions.get(ds.id, 1)})" for ds in standings.datasets]])
        kind = standings.board.kind if standings.board else "public"
        for row in standings.rows:
            writer.writerow([kind, row.rank if row.rank is not None else "", _csv_text(row.team), row.kind,
                             _num(row.total), _csv_text(row.note or ""),
                             *[_num(c.score) if c.submitted else "" for c in row.cells]])
        return out.getvalue()


def _ranks(score: np.ndarray) -> np.ndarray:
    """Competition ranks on one dataset (no submission ranks last)."""
    key = np.where(np.isnan(score), -np.inf, np.round(score, 12))
    return np.array([1 + int((key > k).sum()) for k in key], dtype=np.int64)


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def _opt(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def _db(value: float | None) -> float | None:
    return None if value is None or value != value else value


def _num(value) -> str:
    return "" if value is None else f"{float(value):.6f}"


def _csv_text(text: str) -> str:
    """A team name a spreadsheet would run as a formula (=, +, -, @) is quoted with a '."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["ControlsService", "Flag", "OwnSubmission", "Pick", "Relabel", "TeamMove",
           "WithoutReveals", "load_label_file"]


async def _latest_submissions(tx: Tx, phase_id: str, dataset_id: int) -> list[tuple]:
    """Each team's latest submission to a dataset: (team id, team name, raw file, accuracy), by name."""
    return await tx.fetchall(
        "SELECT s.team_id, t.name, s.raw, s.accuracy FROM submissions s JOIN teams t ON t.id = s.team_id"
        " WHERE s.phase = ? AND s.dataset_id = ? AND s.id IN (SELECT max(id) FROM submissions"
        " WHERE phase = ? AND dataset_id = ? GROUP BY team_id) ORDER BY t.name_key",
        (phase_id, dataset_id, phase_id, dataset_id))
