"""Team merges, approved by an organizer (`hackbot team merge INTO FROM`), before the merge
deadline ([teams] merges_close; default: when submissions close).

A merge is refused, with the reason, when the merged team would be over the event's size, over
a dataset's submission limit (in the phase, or on any day: each submission keeps the day it
counted in), or over a reveal budget (the distinct
datums both teams revealed), as of the moment of the merge; and when both teams already used a
one-shot submission on the same dataset (one of the two files would have to be thrown away).

Otherwise, in one transaction: FROM's members join INTO (its captain stays INTO's), its reveals
and submissions move to INTO (re-inserted, so the database's own limits check them again; a
datum both revealed is kept once), and FROM is deleted. FROM's final picks are dropped: INTO
picks again. FROM's Discord role and channel are left for the organizers (the output says so).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import EventConfig
from bot.core.clock import Clock, fmt_utc
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.store import Store, Tx
from bot.core.teams import lock_teams, size_bound


@dataclass(frozen=True)
class Merge:
    into: str
    absorbed: str
    members: int  # the merged team's size
    reveals: int  # reveals moved
    submissions: int  # submissions moved
    discord_role_id: int | None  # the absorbed team's role and channel, for the organizers to remove
    discord_channel_id: int | None


class MergeService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock):
        self.store, self.config, self.clock = store, config, clock

    @property
    def closes(self) -> datetime | None:
        return self.config.teams.merges_close or self.config.submissions.closes

    async def merge(self, into: str, absorbed: str) -> Merge:
        now = self.clock()
        if self.closes is not None and now >= self.closes:
            raise NotAllowed(f"team merges closed at {fmt_utc(self.closes)}")
        return await self.store.run(self._merge, into, absorbed, now)

    async def _team(self, tx: Tx, name: str) -> tuple:
        row = await tx.fetchone("SELECT id, name, discord_role_id, discord_channel_id FROM teams WHERE name_key = ?",
                                (name.strip().casefold(),))
        if row is None:
            raise NotFound(f"there is no team {name!r}; `hackbot team list` lists them")
        return row

    async def _merge(self, tx: Tx, into: str, absorbed: str, now: datetime) -> Merge:
        async with tx.transaction():
            await lock_teams(tx)
            a, b = await self._team(tx, into), await self._team(tx, absorbed)
            if a[0] == b[0]:
                raise BadInput("name two different teams: the one that stays, then the one merged into it")
            await self._check(tx, a, b, now)
            members = await tx.fetchval("SELECT count(*) FROM team_members WHERE team_id IN (?, ?)", (a[0], b[0]))
            await tx.execute("UPDATE team_members SET is_captain = 0 WHERE team_id = ?", (b[0],))
            await tx.execute("UPDATE team_members SET team_id = ? WHERE team_id = ?", (a[0], b[0]))
            reveals = await tx.execute(
                "INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source, label)"
                " SELECT phase, ?, dataset_id, datum_id, revealed_at, 'merge', label FROM reveals r WHERE team_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM reveals k WHERE k.team_id = ? AND k.phase = r.phase"
                " AND k.dataset_id = r.dataset_id AND k.datum_id = r.datum_id)", (a[0], b[0], a[0]))
            await tx.execute("DELETE FROM reveals WHERE team_id = ?", (b[0],))
            await tx.execute("DELETE FROM final_picks WHERE team_id = ?", (b[0],))
            # the limits count per team: free FROM's rows before INTO takes them
            moved = await tx.fetchall(
                "SELECT phase, dataset_id, submitted_at, day_start, rows, accuracy, worst_group, public, private,"
                " worst_public, worst_private, label_version, filename, sha256, raw, source FROM submissions"
                " WHERE team_id = ? ORDER BY id", (b[0],))
            failures = await tx.fetchall(
                "SELECT phase, dataset_id, failed_at, day_start, filename, sha256, source FROM submission_failures"
                " WHERE team_id = ? ORDER BY id", (b[0],))
            await tx.execute("DELETE FROM submissions WHERE team_id = ?", (b[0],))
            await tx.execute("DELETE FROM submission_failures WHERE team_id = ?", (b[0],))
            await tx.executemany(
                "INSERT INTO submissions(team_id, phase, dataset_id, submitted_at, day_start, rows, accuracy, worst_group,"
                " public, private, worst_public, worst_private, label_version, filename, sha256, raw, source)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [(a[0], *row) for row in moved])
            await tx.executemany(
                "INSERT INTO submission_failures(team_id, phase, dataset_id, failed_at, day_start, filename, sha256,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(a[0], *row) for row in failures])
            await tx.execute("DELETE FROM teams WHERE id = ?", (b[0],))
        return Merge(a[1], b[1], int(members), int(reveals), len(moved), b[2], b[3])

    async def _check(self, tx: Tx, a: tuple, b: tuple, now: datetime) -> None:
        """Every reason to refuse, the first one found, in words."""
        members = await tx.fetchval("SELECT count(*) FROM team_members WHERE team_id IN (?, ?)", (a[0], b[0]))
        bound = await size_bound(tx, self.config)
        if members > bound:
            raise NotAllowed(f"{a[1]} and {b[1]} have {members} members together; a team has at most {bound}")
        for phase_id, dataset_id, budget, total, per_day in await tx.fetchall(
            "SELECT phase, dataset_id, reveal_budget, total_limit, per_day FROM phase_datasets ORDER BY phase, dataset_id"
        ):
            key = (phase_id, dataset_id)
            ds = self.config.dataset(dataset_id)
            per_team = await tx.fetchall(
                "SELECT team_id, day_start FROM submissions WHERE phase = ? AND dataset_id = ? AND team_id IN (?, ?)"
                " UNION ALL SELECT team_id, day_start FROM submission_failures"
                " WHERE phase = ? AND dataset_id = ? AND team_id IN (?, ?)", (*key, a[0], b[0], *key, a[0], b[0]))
            if ds is not None and ds.submissions.one_shot and len({row[0] for row in per_team}) == 2:
                raise NotAllowed(f"{a[1]} and {b[1]} both used their one submission for dataset {dataset_id} in "
                                 f"phase {phase_id!r}; one of the two would have to be thrown away")
            if total is not None and len(per_team) > total:
                raise NotAllowed(f"{a[1]} and {b[1]} have {len(per_team)} submissions for dataset {dataset_id} in "
                                 f"phase {phase_id!r} together; the limit is {total}")
            days = Counter(row[1] for row in per_team)  # each submission keeps the day it counted in
            if per_day is not None and days and max(days.values()) > per_day:
                day, used = max(days.items(), key=lambda item: (item[1], item[0]))
                when = datetime.fromtimestamp(day, UTC).astimezone(self.config.event.tz)
                raise NotAllowed(f"{a[1]} and {b[1]} have {used} submissions for dataset {dataset_id} on "
                                 f"{when:%Y-%m-%d} together; the daily limit is {per_day}")
            revealed = await tx.fetchval(
                "SELECT count(DISTINCT datum_id) FROM reveals WHERE phase = ? AND dataset_id = ? AND team_id IN (?, ?)",
                (*key, a[0], b[0]))
            if revealed > budget:
                raise NotAllowed(f"{a[1]} and {b[1]} revealed {revealed} distinct labels of dataset {dataset_id} in "
                                 f"phase {phase_id!r} together; the budget is {budget}")
