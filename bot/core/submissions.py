"""One submission per team, dataset and phase: validated strictly, scored at once, kept for audit.

A file that fails validation is refused with the reason and does not use the submission: the
row is written only after the file parsed, and the UNIQUE(phase, team, dataset) constraint
decides between two valid files sent at the same moment.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import scoring
from bot.config import EventConfig
from bot.core.clock import Clock, fmt_utc
from bot.core.datasets import DatasetRegistry
from bot.core.errors import AlreadyDone, BadInput, HackbotError, NotAllowed, TooLarge
from bot.core.phases import OpenDataset, PhaseClock, open_dataset
from bot.core.store import Store, Tx
from bot.core.teams import Team, bad_login, check_credentials, digest
from bot.core.visibility import scores_visible

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


@dataclass(frozen=True)
class Validated:
    """A file that passed every check and may be confirmed (the Discord flow asks first)."""

    team: Team
    opened: OpenDataset
    filename: str
    data: bytes
    predictions: object  # np.ndarray


class SubmissionService:
    def __init__(self, store: Store, config: EventConfig, registry: DatasetRegistry, phases: PhaseClock, clock: Clock):
        self.store, self.config, self.registry, self.phases, self.clock = store, config, registry, phases, clock

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
        opened, recorded = await self.store.run(self._open, team, dataset_id, now)
        opens = self.config.submissions.opens
        if opens is not None and now < opens:
            raise NotAllowed(f"submissions open at {fmt_utc(opens)}")
        if self.config.teams.require_validation and not team.validated:
            raise NotAllowed("your team is not validated yet; an organizer must validate it before you can submit")
        self.check_upload(filename, len(data))
        if recorded is not None:
            raise self._already(opened, recorded)
        hidden = opened.hidden
        parse = (asyncio.to_thread if len(data) > _THREAD_PARSE_BYTES else _call)
        try:
            predictions = await parse(scoring.parse_labels, data, hidden.n, hidden.labels)
        except scoring.LabelFileError as exc:
            raise BadInput(f"{filename}: {exc}; this did not use your submission") from None
        return Validated(team, opened, filename, data, predictions)

    async def confirm(self, validated: Validated, *, source: str = "discord") -> Submission:
        """Score and record a validated file: the one submission for its dataset and phase."""
        now = self.clock()
        opened = validated.opened
        closes = self.config.submissions.closes
        if closes is not None and now >= closes:
            raise NotAllowed(f"submissions closed at {fmt_utc(closes)}")
        hidden = opened.hidden
        accuracy = scoring.accuracy(validated.predictions, hidden.y)
        worst = None
        if hidden.groups is not None:
            worst = scoring.worst_group_accuracy(validated.predictions, hidden.y, hidden.groups)
        sha = hashlib.sha256(validated.data).hexdigest()
        row = (
            opened.phase.id, validated.team.id, opened.dataset.id, now.timestamp(), hidden.n,
            accuracy, worst, validated.filename, sha, validated.data, source,
        )

        require_validation = int(self.config.teams.require_validation)

        async def insert(tx: Tx) -> tuple[str, tuple | None]:
            # the phase (an organizer may have moved it by hand) and the team's validation are read
            # in the same hop as the write: a file checked before either changed is not recorded
            current = await self.phases.current_in(tx, now)
            if current is None or current.id != opened.phase.id:
                return "phase ended", None
            inserted = await tx.fetchone(
                "INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, rows, accuracy, worst_group,"
                " filename, sha256, raw, source) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM teams WHERE id = ? AND (validated = 1 OR ? = 0))"
                " ON CONFLICT (phase, team_id, dataset_id) DO NOTHING RETURNING id",
                (*row, validated.team.id, require_validation),
            )
            if inserted:
                return "ok", None
            recorded = await tx.fetchone(_RECORDED, row[:3])
            return ("already", recorded) if recorded else ("not validated", None)

        outcome, recorded = await self.store.run(insert)
        if outcome == "phase ended":
            raise NotAllowed(f"phase {opened.phase.id!r} has ended; this file was not submitted")
        if outcome == "already" and recorded is not None:
            raise self._already(opened, recorded)
        if outcome == "not validated":
            raise NotAllowed("your team is not validated (or no longer exists); this file was not submitted")
        return Submission(opened.dataset.id, opened.phase.id, hidden.n, accuracy, worst, now.timestamp(), sha)

    async def submit(self, team: Team, dataset_id: int, filename: str, data: bytes, *, source: str) -> Submission:
        return await self.confirm(await self.validate(team, dataset_id, filename, data), source=source)

    async def submit_with_login(
        self, username: str, password: str, dataset_id: int, filename: str, data: bytes
    ) -> Submission:
        team = await self.store.run(check_credentials, username, digest(password))
        if team is None:
            raise bad_login()
        return await self.submit(team, dataset_id, filename, data, source="http")

    async def _open(self, tx: Tx, team: Team, dataset_id: int, now: datetime) -> tuple[OpenDataset, tuple | None]:
        """The dataset as the current phase offers it, and (submitted_at, accuracy) of the team's
        submission for it, if it has used it."""
        opened = open_dataset(self.config, self.registry, await self.phases.current_in(tx, now), now, dataset_id)
        recorded = await tx.fetchone(_RECORDED, (opened.phase.id, team.id, opened.dataset.id))
        return opened, recorded

    def _already(self, opened: OpenDataset, recorded: tuple) -> HackbotError:
        """A repeat, or a retry after a cut connection: say that the first one counts, and when it
        was recorded (with its accuracy while scores are visible), so the team need not wonder."""
        submitted_at, accuracy = recorded
        when = fmt_utc(datetime.fromtimestamp(submitted_at, UTC))
        score = f" (accuracy {accuracy:.4f})" if scores_visible(self.config) else ""
        return AlreadyDone(
            f"your team has already submitted for dataset {opened.dataset.id} in phase {opened.phase.id!r}: "
            f"recorded at {when}{score}, and that submission counts; only one submission per dataset is allowed"
        )


_RECORDED = "SELECT submitted_at, accuracy FROM submissions WHERE phase = ? AND team_id = ? AND dataset_id = ?"


async def _call(fn, *args):
    return fn(*args)
