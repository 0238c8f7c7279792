"""Hackathon42's bundles ([projects.bundles]): one zip of a team's code, and a written explanation
per dataset, for the jury and the code review of the top teams. Seen by organizers and judges
only (never on a public page). The zip is stored once by its sha256 (two teams handing in the
same bytes share one blob); a team's row names its current zip and holds its explanations.
Bundles lock with the projects at the deadline (the team's own when an organizer extended it)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import EventConfig, ProjectBundles
from bot.core.clock import Clock, fmt_utc
from bot.core.errors import BadInput, NotAllowed, NotFound, TooLarge
from bot.core.store import Store, Tx


@dataclass(frozen=True)
class Bundle:
    team_id: int
    team_name: str
    sha256: str | None  # None: explanations only, no zip yet
    filename: str
    size: int
    explanations: dict[str, str]  # dataset id (as text) -> explanation
    version: int
    updated_by: str
    updated_at: datetime

    def missing(self, wanted: list[int]) -> list[int]:
        return [d for d in wanted if str(d) not in self.explanations]


def check_zip(filename: str, data: bytes, limit: int) -> None:
    if not filename.lower().endswith(".zip"):
        raise BadInput(f"{filename!r} is not a .zip file; zip your code (without the datasets) and send the .zip")
    if len(data) > limit:
        raise TooLarge(f"the zip has {len(data):,} bytes; the limit is {limit:,} bytes: leave the datasets and "
                       "model weights out")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not archive.namelist():
                raise BadInput("the zip is empty; put your code in it")
            bad = archive.testzip()
    except zipfile.BadZipFile:
        raise BadInput(f"{filename!r} is not a readable zip archive; create it again (zip -r code.zip src/)") from None
    if bad is not None:
        raise BadInput(f"the zip's file {bad!r} is damaged; create the zip again")


class BundleService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock

    @property
    def section(self) -> ProjectBundles:
        projects = self.config.projects
        if projects is None or projects.bundles is None:
            raise NotAllowed("this event takes no code bundles (its event file has no [projects.bundles])")
        return projects.bundles

    def datasets(self) -> list[int]:
        """The datasets that need an explanation."""
        section = self.section
        if section.explanations != "per_dataset":
            return []
        return list(section.datasets) if section.datasets is not None else [d.id for d in self.config.datasets]

    async def save(self, team_id: int, author: str, *, file: tuple[str, bytes] | None = None,
                   dataset_id: int | None = None, explanation: str | None = None) -> Bundle:
        """Replace the team's zip and/or set one dataset's explanation (the others are kept)."""
        section = self.section
        now = self.clock()
        if file is None and explanation is None:
            raise BadInput("send the zip of your code, an explanation, or both")
        if file is not None:
            check_zip(file[0], file[1], section.max_bytes)
        key = None
        if explanation is not None:
            text = explanation.strip()
            if not text:
                raise BadInput("the explanation is empty; say how you solved the dataset")
            if len(text) > section.explanation_max_chars:
                raise BadInput(f"an explanation has at most {section.explanation_max_chars} characters (yours has {len(text)})")
            if section.explanations == "per_dataset":
                wanted = self.datasets()
                if dataset_id is None or dataset_id not in wanted:
                    raise BadInput(f"say which dataset the explanation is for: one of {', '.join(map(str, wanted))}")
                key = str(dataset_id)
            elif section.explanations == "one":
                key = "all"
            else:
                raise BadInput("this event takes no explanations; send the zip only")
            explanation = text
        sha = hashlib.sha256(file[1]).hexdigest() if file else None

        async def write(tx: Tx) -> None:
            async with tx.transaction():
                deadline = await tx.fetchval(
                    "SELECT COALESCE((SELECT deadline FROM projects WHERE team_id = ?),"
                    " (SELECT closes FROM project_limits WHERE id = 1))", (team_id,))
                if deadline is not None and now.timestamp() >= deadline:
                    raise NotAllowed(f"bundles closed at {fmt_utc(datetime.fromtimestamp(deadline, UTC))}; "
                                     "the last one before it counts")
                row = await tx.fetchone("SELECT sha256, explanations FROM project_bundles WHERE team_id = ?", (team_id,))
                if row is None and file is None:
                    raise BadInput("send the zip of your code first (an explanation may come with it or later)")
                if file is not None:
                    await tx.execute("INSERT INTO bundle_blobs(sha256, size, data) VALUES (?, ?, ?)"
                                     " ON CONFLICT (sha256) DO NOTHING", (sha, len(file[1]), file[1]))
                explanations = json.loads(row[1]) if row else {}
                if key:
                    explanations[key] = explanation
                if row is None:
                    assert file is not None
                    await tx.execute(
                        "INSERT INTO project_bundles(team_id, sha256, filename, size, explanations, updated_by, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (team_id, sha, file[0], len(file[1]), json.dumps(explanations, sort_keys=True), author,
                         now.timestamp()))
                elif file is not None:
                    await tx.execute(
                        "UPDATE project_bundles SET sha256 = ?, filename = ?, size = ?, explanations = ?,"
                        " version = version + 1, updated_by = ?, updated_at = ? WHERE team_id = ?",
                        (sha, file[0], len(file[1]), json.dumps(explanations, sort_keys=True), author, now.timestamp(),
                         team_id))
                else:
                    await tx.execute(
                        "UPDATE project_bundles SET explanations = ?, version = version + 1, updated_by = ?,"
                        " updated_at = ? WHERE team_id = ?",
                        (json.dumps(explanations, sort_keys=True), author, now.timestamp(), team_id))

        await self.store.run(write)
        return await self.of_team(team_id)

    async def of_team(self, team_id: int) -> Bundle:
        row = await self.store.fetchone(
            "SELECT b.team_id, t.name, b.sha256, b.filename, b.size, b.explanations, b.version, b.updated_by,"
            " b.updated_at FROM project_bundles b JOIN teams t ON t.id = b.team_id WHERE b.team_id = ?", (team_id,))
        if row is None:
            raise NotFound("your team has no bundle yet; send the zip of your code")
        return _bundle(row)

    async def all(self) -> list[Bundle]:
        """Every team's bundle, for organizers and judges."""
        rows = await self.store.fetchall(
            "SELECT b.team_id, t.name, b.sha256, b.filename, b.size, b.explanations, b.version, b.updated_by,"
            " b.updated_at FROM project_bundles b JOIN teams t ON t.id = b.team_id ORDER BY t.name_key")
        return [_bundle(r) for r in rows]

    async def for_judge(self, judge: str) -> list[Bundle]:
        """The bundles of the teams a judge reviews (an active review in any round), for the
        judges' page; none when the event takes no bundles."""
        if self.config.projects is None or self.config.projects.bundles is None:
            return []
        rows = await self.store.fetchall(
            "SELECT b.team_id, t.name, b.sha256, b.filename, b.size, b.explanations, b.version, b.updated_by,"
            " b.updated_at FROM project_bundles b JOIN teams t ON t.id = b.team_id WHERE b.team_id IN"
            " (SELECT team_id FROM review_assignments WHERE judge = ? AND active = 1) ORDER BY t.name_key", (judge,))
        return [_bundle(r) for r in rows]

    async def judge_download(self, judge: str, team_id: int) -> tuple[Bundle, bytes]:
        """A team's zip for a judge who reviews that team, and for no one else."""
        reviews = await self.store.fetchval(
            "SELECT count(*) FROM review_assignments WHERE judge = ? AND team_id = ? AND active = 1", (judge, team_id))
        if not reviews:
            raise NotAllowed("you review no project of this team: its bundle is for its reviewers only")
        try:
            bundle = await self.of_team(team_id)
        except NotFound:
            raise NotFound("this team has handed in no bundle") from None
        if bundle.sha256 is None:
            raise NotFound("this team has handed in explanations but no zip")
        return bundle, await self.data(bundle.sha256)

    async def data(self, sha256: str) -> bytes:
        blob = await self.store.fetchval("SELECT data FROM bundle_blobs WHERE sha256 = ?", (sha256,))
        if blob is None:
            raise NotFound(f"no bundle with sha256 {sha256[:12]}…")
        return bytes(blob)


def _bundle(row: tuple) -> Bundle:
    return Bundle(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7],
                  datetime.fromtimestamp(row[8], UTC))
