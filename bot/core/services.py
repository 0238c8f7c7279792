"""The services of one event over one database, built once and shared by every door
(the HTTP API, the Discord cogs, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import EventConfig
from bot.core.board import BoardService
from bot.core.bundles import BundleService
from bot.core.clock import Clock, system_clock
from bot.core.controls import ControlsService
from bot.core.datasets import DatasetRegistry
from bot.core.interviews import InterviewService
from bot.core.judging import JudgingService
from bot.core.labels import LabelBook
from bot.core.leaderboard import LeaderboardService
from bot.core.lfg import LfgService
from bot.core.mentor_assignments import AssignmentService
from bot.core.mentoring import MentoringService
from bot.core.merges import MergeService
from bot.core.organizer_links import OrganizerLinks
from bot.core.outbox import Outbox
from bot.core.perks import PerkService
from bot.core.phases import PhaseClock
from bot.core.projects import ProjectService
from bot.core.ratelimit import LoginLimiter
from bot.core.reveals import RevealService
from bot.core.schedule import ScheduleService
from bot.core.store import Store, Tx
from bot.core.submissions import SubmissionService
from bot.core.teams import TeamRoster, TeamService
from bot.core.votes import VoteService, sync_votes
from bot.core.winners import WinnerService


@dataclass
class Services:
    config: EventConfig
    store: Store
    registry: DatasetRegistry
    clock: Clock
    phases: PhaseClock
    teams: TeamService
    roster: TeamRoster
    reveals: RevealService
    submissions: SubmissionService
    leaderboard: LeaderboardService
    logins: LoginLimiter
    schedule: ScheduleService
    lfg: LfgService
    mentoring: MentoringService
    perks: PerkService
    assignments: AssignmentService
    organizer_links: OrganizerLinks
    outbox: Outbox
    judging: JudgingService
    interviews: InterviewService
    winners: WinnerService
    projects: ProjectService
    bundles: BundleService
    votes: VoteService
    board: BoardService
    labels: LabelBook
    controls: ControlsService
    merges: MergeService

    @classmethod
    async def open(
        cls, config: EventConfig, db: Path | str, *, clock: Clock = system_clock, readonly: bool = False
    ) -> Services:
        """The services over the database: `db` is a SQLite file path or a postgresql:// URL.
        `readonly` reads an existing database without writing to it (a read-only file system, a
        read-only session): the CLI's listing commands."""
        registry = DatasetRegistry.load(config)
        store = await Store.open(db, readonly=readonly)
        try:
            schedule = ScheduleService(store, config, clock)
            if not readonly:
                await store.run(_sync_limits, config, registry)
                await schedule.sync_from_config()
                await store.run(sync_votes, config)
        except BaseException:
            await store.close()
            raise
        outbox = Outbox(store)
        projects = ProjectService(store, config, clock, outbox=outbox)
        if not readonly:
            try:
                await projects.sync_limits()
            except BaseException:
                await store.close()
                raise
        phases = PhaseClock(store, config)
        teams = TeamService(store, config, clock, outbox)
        labels = LabelBook(config, registry)
        leaderboard = LeaderboardService(store, config, phases, clock)
        judging = JudgingService(store, config, clock, leaderboard)
        votes = VoteService(store, config, clock)
        if not readonly:
            try:
                await judging.sync_rounds()
            except BaseException:
                await store.close()
                raise
        return cls(
            config=config,
            store=store,
            registry=registry,
            clock=clock,
            phases=phases,
            teams=teams,
            roster=TeamRoster(teams),
            reveals=RevealService(store, config, registry, phases, clock, labels),
            submissions=SubmissionService(store, config, registry, phases, clock, labels),
            labels=labels,
            controls=ControlsService(store, config, registry, phases, clock, labels, leaderboard),
            merges=MergeService(store, config, clock),
            leaderboard=leaderboard,
            logins=LoginLimiter(store),
            schedule=schedule,
            lfg=LfgService(store, config, clock, teams),
            mentoring=MentoringService(store, config, clock),
            perks=PerkService(store, config, clock),
            assignments=AssignmentService(store, config, clock, outbox),
            organizer_links=OrganizerLinks(store, clock),
            outbox=outbox,
            bundles=BundleService(store, config, clock),
            judging=judging,
            interviews=InterviewService(store, config, clock, judging, outbox),
            winners=WinnerService(store, config, clock, leaderboard, judging, votes, outbox),
            projects=projects,
            votes=votes,
            board=BoardService(store, config, registry, phases, leaderboard, clock),
        )

    async def close(self) -> None:
        await self.store.close()


async def _sync_limits(tx: Tx, config: EventConfig, registry: DatasetRegistry) -> None:
    """Give the database the bounds its triggers enforce: reveal budgets, dataset sizes, submission
    limits, team size."""
    rows = []
    for phase in config.phases:
        for ds in config.datasets_in_phase(phase.id):
            hidden = registry.get(phase.id, ds.id)
            if hidden is not None:
                policy = ds.submissions
                rows.append((phase.id, ds.id, ds.reveal_budget, hidden.n, policy.total, policy.per_day,
                             int(policy.count_failed)))
    async with tx.transaction():
        await tx.executemany(
            "INSERT INTO phase_datasets(phase, dataset_id, reveal_budget, rows, total_limit, per_day, count_failed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phase, dataset_id) DO UPDATE SET"
            " reveal_budget = excluded.reveal_budget, rows = excluded.rows, total_limit = excluded.total_limit,"
            " per_day = excluded.per_day, count_failed = excluded.count_failed",
            rows,
        )
        await tx.execute(
            "INSERT INTO team_limits(id, max_size) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET max_size = excluded.max_size",
            (config.teams.max_size,),
        )
