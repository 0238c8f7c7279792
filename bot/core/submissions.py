"""Submissions: validated strictly, scored at once, kept for audit, within the dataset's limits.

Hackathon42's rule is the default: one submission per team, dataset and phase. A dataset may
allow several (`submissions = { per_day = 5, total = 50, count_failed = false }`); the limits
are held by the database (triggers of 0007_controls count a team's rows in the phase and in
the limit day, bot/core/submission_rules.limit_day, as the row goes in), so two valid files
sent at the same moment never pass a limit. A file that fails validation is refused with the
reason and does not use a submission, unless the dataset counts failed files.

Each submission is scored by the Scorer of the labels in force (bot/core/labels.py): public,
private and full accuracy and worst-group accuracy, all stored; the reply shows the public
score (the full accuracy when there is no private part) while the dataset's board allows it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import scoring
from bot.config import EventConfig
from bot.core.clock import Clock, fmt_utc
from bot.core.datasets import DatasetRegistry
from bot.core.errors import AlreadyDone, BadInput, HackbotError, NotAllowed, TooLarge
from bot.core.labels import LabelBook, Labels
from bot.core.phases import OpenDataset, PhaseClock, open_dataset
from bot.core.store import IntegrityError, Store, Tx
from bot.core.submission_rules import Quota, limit_day, quota
from bot.core.teams import Team, bad_login, check_credentials, digest
from bot.core.visibility import reply_shows_score

# Parsing a few MB blocks the event loop for milliseconds; past this size it runs in a thread.
_THREAD_PARSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Submission:
    dataset_id: int
    phase: str
    rows: int
    accuracy: float
    worst_group: float | None
    submitted_at: float
    sha256: str
    # issue 16: the score a participant may see (public; the full accuracy without a private
    # part), and whether the reply may show it (the dataset's board visibility)
    score: float | None = None
    score_visible: bool = True
    id: int | None = None
    left: int | None = None  # submissions left on this dataset now (None: no limit)
    split: bool = False  # the dataset has a private part: `score` is the public accuracy


@dataclass(frozen=True)
class Validated:
    """A file that passed every check and may be confirmed (the Discord flow asks first)."""

    team: Team
    opened: OpenDataset
    filename: str
    data: bytes
    predictions: object  # np.ndarray
    labels: Labels | None = None  # the labels in force when it was checked
    quota: Quota | None = None


class SubmissionService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock, clock: Clock,
                 labels: LabelBook | None = None):
        self.store, self.config, self.registry, self.phases, self.clock = store, config, registry, phases, clock
        self.labels = labels or LabelBook(config, registry)

    @property
    def max_bytes(self) -> int:
        return self.config.submissions.max_bytes

    def check_size(self, size: int | None, limit: int | None = None) -> None:
        """Refuse an upload by its announced size, before it is read. `limit` lowers the event's
        limit (Discord's upload limit for the server, say), never raises it."""
        limit = self.max_bytes if limit is None else min(limit, self.max_bytes)
        if size is not None and size > limit:
            raise TooLarge(
                f"the file is {size:,} bytes; the limit is {limit:,} bytes "
                "(one integer label per line is far smaller: check you are sending the right file)"
            )

    def check_upload(self, filename: str, size: int | None, *, limit: int | None = None) -> None:
        """What can be refused from an upload's name and announced size alone, before reading it."""
        if not filename.lower().endswith(".csv"):
            raise BadInput(
                f"{filename!r} is not a .csv file; submit a .csv (not a .txt): no header, no index column, "
                "one label per line"
            )
        self.check_size(size, limit)

    async def validate(self, team: Team, dataset_id: int, filename: str, data: bytes) -> Validated:
        """Every check a submission must pass, without using it."""
        now = self.clock()
        opened, labels, used, recorded = await self.store.run(self._open, team, dataset_id, now)
        opens = self.config.submissions.opens
        if opens is not None and now < opens:
            raise NotAllowed(f"submissions open at {fmt_utc(opens)}")
        if self.config.teams.require_validation and not team.validated:
            raise NotAllowed("your team is not validated yet; an organizer must validate it before you can submit")
        self.check_upload(filename, len(data))
        left = self._quota(opened, used, now)
        refused = left.error(opened.dataset.id, opened.phase.id, now)
        if refused is not None:
            raise self._already(opened, recorded) if (left.policy.one_shot and recorded is not None) else refused
        parse = (asyncio.to_thread if len(data) > _THREAD_PARSE_BYTES else _call)
        try:
            predictions = await parse(scoring.parse_labels, data, labels.n, labels.allowed)
        except scoring.LabelFileError as exc:
            if not left.policy.count_failed:
                raise BadInput(f"{filename}: {exc}; this did not use your submission") from None
            counted = await self.store.run(self._count_failure, team, opened, filename, data, now)
            raise BadInput(f"{filename}: {exc}; {counted}") from None
        return Validated(team, opened, filename, data, predictions, labels, left)

    async def confirm(self, validated: Validated, *, source: str = "discord") -> Submission:
        """Score and record a validated file, within the dataset's limits."""
        now = self.clock()
        opened = validated.opened
        closes = self.config.submissions.closes
        if closes is not None and now >= closes:
            raise NotAllowed(f"submissions closed at {fmt_utc(closes)}")
        labels = validated.labels or self.labels.first(opened.hidden, opened.dataset)
        score = labels.scorer.score_one(validated.predictions)
        sha = hashlib.sha256(validated.data).hexdigest()
        day_start = limit_day(now, self.config.event.tz)[0].timestamp()
        row = (
            opened.phase.id, validated.team.id, opened.dataset.id, now.timestamp(), day_start, labels.n,
            score.full, score.worst_full, _db(score.public), _db(score.private), _db(score.worst_public),
            _db(score.worst_private), labels.version, validated.filename, sha, validated.data, source,
        )
        require_validation = int(self.config.teams.require_validation)

        async def insert(tx: Tx) -> tuple[str, Any]:
            # the phase (an organizer may have moved it by hand) and the team's validation are read
            # in the same hop as the write: a file checked before either changed is not recorded
            current = await self.phases.current_in(tx, now)
            if current is None or current.id != opened.phase.id:
                return "phase ended", None
            try:
                inserted = await tx.fetchone(
                    "INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, day_start, rows, accuracy,"
                    " worst_group, public, private, worst_public, worst_private, label_version, filename, sha256,"
                    " raw, source) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                    " WHERE EXISTS (SELECT 1 FROM teams WHERE id = ? AND (validated = 1 OR ? = 0)) RETURNING id",
                    (*row, validated.team.id, require_validation),
                )
            except IntegrityError as exc:
                if "submission limit" not in exc.message:
                    raise
                return "limit", (await self._used(tx, validated.team, opened, now), await tx.fetchone(
                    _RECORDED, (opened.phase.id, validated.team.id, opened.dataset.id)))
            if inserted:
                return "ok", (inserted[0], await self._used(tx, validated.team, opened, now))
            return "not validated", None

        outcome, found = await self.store.run(insert)
        if outcome == "phase ended":
            raise NotAllowed(f"phase {opened.phase.id!r} has ended; this file was not submitted")
        if outcome == "limit":
            used, recorded = found
            left = self._quota(opened, used, now)
            if left.policy.one_shot and recorded is not None:
                raise self._already(opened, recorded)
            raise left.error(opened.dataset.id, opened.phase.id, now) or NotAllowed(
                f"your team has reached a submission limit for dataset {opened.dataset.id}")
        if outcome == "not validated":
            raise NotAllowed("your team is not validated (or no longer exists); this file was not submitted")
        submission_id, used = found
        shown = score.public if labels.has_split else score.full
        return Submission(
            opened.dataset.id, opened.phase.id, labels.n, score.full, score.worst_full, now.timestamp(), sha,
            score=shown, score_visible=reply_shows_score(self.config, opened.dataset, opened.phase.id),
            id=submission_id, split=labels.has_split,
            left=None if opened.dataset.submissions.one_shot else self._quota(opened, used, now).left,
        )

    async def submit(self, team: Team, dataset_id: int, filename: str, data: bytes, *, source: str) -> Submission:
        return await self.confirm(await self.validate(team, dataset_id, filename, data), source=source)

    async def submit_with_login(
        self, username: str, password: str, dataset_id: int, filename: str, data: bytes
    ) -> Submission:
        team = await self.store.run(check_credentials, username, digest(password))
        if team is None:
            raise bad_login()
        return await self.submit(team, dataset_id, filename, data, source="http")

    async def _open(self, tx: Tx, team: Team, dataset_id: int,
                    now: datetime) -> tuple[OpenDataset, Labels, tuple[int, int], tuple | None]:
        """The dataset as the current phase offers it, the labels in force, the team's counted
        attempts (today, in the phase) and (submitted_at, accuracy) of its first submission."""
        opened = open_dataset(self.config, self.registry, await self.phases.current_in(tx, now), now, dataset_id)
        labels = await self.labels.in_force(tx, opened.hidden, opened.dataset)
        used = await self._used(tx, team, opened, now)
        recorded = await tx.fetchone(_RECORDED, (opened.phase.id, team.id, opened.dataset.id)) if used[1] else None
        return opened, labels, used, recorded

    async def _used(self, tx: Tx, team: Team, opened: OpenDataset, now: datetime) -> tuple[int, int]:
        """The team's counted attempts on the dataset: (in today's limit day, in the phase)."""
        day_start = limit_day(now, self.config.event.tz)[0].timestamp()
        key = (opened.phase.id, team.id, opened.dataset.id)
        row = await tx.fetchone(_USED, (day_start, *key, day_start, *key, *key, *key))
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def _quota(self, opened: OpenDataset, used: tuple[int, int], now: datetime) -> Quota:
        today, total = used
        return quota(opened.dataset.submissions, min(today, total), total, now, self.config.event.tz)

    async def _count_failure(self, tx: Tx, team: Team, opened: OpenDataset, filename: str, data: bytes,
                             now: datetime) -> str:
        """Record a refused file where the dataset counts them; what the team is told about it."""
        day_start = limit_day(now, self.config.event.tz)[0].timestamp()
        try:
            await tx.execute(
                "INSERT INTO submission_failures(phase, team_id, dataset_id, failed_at, day_start, filename, sha256,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (opened.phase.id, team.id, opened.dataset.id, now.timestamp(), day_start, filename,
                 hashlib.sha256(data).hexdigest(), "refused"),
            )
        except IntegrityError as exc:
            if "submission limit" not in exc.message:
                raise
            return "no submission was left to count it against"
        left = self._quota(opened, await self._used(tx, team, opened, now), now).left
        rest = "" if left is None else f" ({left} left)"
        return f"this dataset counts refused files: it used one of your submissions{rest}"

    def _already(self, opened: OpenDataset, recorded: tuple) -> HackbotError:
        """A repeat, or a retry after a cut connection: say that the first one counts, and when it
        was recorded (with its accuracy while scores are visible), so the team need not wonder."""
        submitted_at, accuracy = recorded
        when = fmt_utc(datetime.fromtimestamp(submitted_at, UTC))
        shown = reply_shows_score(self.config, opened.dataset, opened.phase.id)  # blind: no score, ever
        score = f" (accuracy {accuracy:.4f})" if shown else ""
        return AlreadyDone(
            f"your team has already submitted for dataset {opened.dataset.id} in phase {opened.phase.id!r}: "
            f"recorded at {when}{score}, and that submission counts; only one submission per dataset is allowed"
        )


# the score a participant may see: the public one (all rows when the dataset has no private part)
_RECORDED = ("SELECT submitted_at, coalesce(public, accuracy) FROM submissions WHERE phase = ? AND team_id = ?"
             " AND dataset_id = ? ORDER BY id LIMIT 1")
# counted attempts (scored, and refused where counted): today's limit day, then the phase
_USED = (
    "SELECT (SELECT count(*) FROM submissions WHERE day_start = ? AND phase = ? AND team_id = ? AND dataset_id = ?)"
    " + (SELECT count(*) FROM submission_failures WHERE day_start = ? AND phase = ? AND team_id = ? AND dataset_id = ?),"
    " (SELECT count(*) FROM submissions WHERE phase = ? AND team_id = ? AND dataset_id = ?)"
    " + (SELECT count(*) FROM submission_failures WHERE phase = ? AND team_id = ? AND dataset_id = ?)"
)


def _db(value: float | None) -> float | None:
    """A score as the database holds it: NULL for a part without rows (NaN)."""
    return None if value is None or value != value else value


async def _call(fn, *args):
    return fn(*args)
