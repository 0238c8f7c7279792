"""The services of one event over one database, built once and shared by every door
(the HTTP API, the Discord cogs, the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import EventConfig
from bot.core.clock import Clock, system_clock
from bot.core.datasets import DatasetRegistry
from bot.core.labels import LabelBook
from bot.core.leaderboard import LeaderboardService
from bot.core.outbox import Outbox
from bot.core.phases import PhaseClock
from bot.core.ratelimit import LoginLimiter
from bot.core.schedule import ScheduleService
from bot.core.store import Store, Tx
from bot.core.teams import TeamRoster, TeamService

if TYPE_CHECKING:
    from bot.core.board import BoardService
    from bot.core.bundles import BundleService
    from bot.core.controls import ControlsService
    from bot.core.interviews import InterviewService
    from bot.core.judging import JudgingService
    from bot.core.lfg import LfgService
    from bot.core.mentor_assignments import AssignmentService
    from bot.core.mentoring import MentoringService
    from bot.core.merges import MergeService
    from bot.core.organizer_links import OrganizerLinks
    from bot.core.perks import PerkService
    from bot.core.projects import ProjectService
    from bot.core.reveals import RevealService
    from bot.core.submissions import SubmissionService
    from bot.core.votes import VoteService
    from bot.core.winners import WinnerService


@dataclass
class Services:
    """The services every command meets are built at once; the others (properties below) on
    first use, with their modules: `hackbot leaderboard` imports no judging, mentoring or perks
    code (a command's start-up is mostly Python importing modules)."""

    config: EventConfig
    store: Store
    clock: Clock
    phases: PhaseClock
    teams: TeamService
    roster: TeamRoster
    leaderboard: LeaderboardService
    logins: LoginLimiter
    schedule: ScheduleService
    outbox: Outbox
    _registry: DatasetRegistry | None = None  # loaded at open; read-only, on first use (the leaderboard needs none)

    @property
    def registry(self) -> DatasetRegistry:
        """Every (phase, dataset) pair's hidden labels."""
        if self._registry is None:
            self._registry = DatasetRegistry.load(self.config)
        return self._registry

    @cached_property
    def labels(self) -> LabelBook:
        return LabelBook(self.config, self.registry)

    @cached_property
    def reveals(self) -> RevealService:
        from bot.core.reveals import RevealService
        return RevealService(self.store, self.config, self.registry, self.phases, self.clock, self.labels)

    @cached_property
    def submissions(self) -> SubmissionService:
        from bot.core.submissions import SubmissionService
        return SubmissionService(self.store, self.config, self.registry, self.phases, self.clock, self.labels)

    @cached_property
    def controls(self) -> ControlsService:
        from bot.core.controls import ControlsService
        return ControlsService(self.store, self.config, self.registry, self.phases, self.clock, self.labels,
                               self.leaderboard)

    @cached_property
    def merges(self) -> MergeService:
        from bot.core.merges import MergeService
        return MergeService(self.store, self.config, self.clock)

    @cached_property
    def lfg(self) -> LfgService:
        from bot.core.lfg import LfgService
        return LfgService(self.store, self.config, self.clock, self.teams)

    @cached_property
    def mentoring(self) -> MentoringService:
        from bot.core.mentoring import MentoringService
        return MentoringService(self.store, self.config, self.clock)

    @cached_property
    def perks(self) -> PerkService:
        from bot.core.perks import PerkService
        return PerkService(self.store, self.config, self.clock)

    @cached_property
    def assignments(self) -> AssignmentService:
        from bot.core.mentor_assignments import AssignmentService
        return AssignmentService(self.store, self.config, self.clock, self.outbox)

    @cached_property
    def organizer_links(self) -> OrganizerLinks:
        from bot.core.organizer_links import OrganizerLinks
        return OrganizerLinks(self.store, self.clock)

    @cached_property
    def bundles(self) -> BundleService:
        from bot.core.bundles import BundleService
        return BundleService(self.store, self.config, self.clock)

    @cached_property
    def projects(self) -> ProjectService:
        from bot.core.projects import ProjectService
        return ProjectService(self.store, self.config, self.clock, outbox=self.outbox)

    @cached_property
    def judging(self) -> JudgingService:
        from bot.core.judging import JudgingService
        return JudgingService(self.store, self.config, self.clock, self.leaderboard)

    @cached_property
    def votes(self) -> VoteService:
        from bot.core.votes import VoteService
        return VoteService(self.store, self.config, self.clock)

    @cached_property
    def interviews(self) -> InterviewService:
        from bot.core.interviews import InterviewService
        return InterviewService(self.store, self.config, self.clock, self.judging, self.outbox)

    @cached_property
    def winners(self) -> WinnerService:
        from bot.core.winners import WinnerService
        return WinnerService(self.store, self.config, self.clock, self.leaderboard, self.judging, self.votes,
                             self.outbox)

    @cached_property
    def board(self) -> BoardService:
        from bot.core.board import BoardService
        return BoardService(self.store, self.config, self.registry, self.phases, self.leaderboard, self.clock)

    @classmethod
    async def open(
        cls, config: EventConfig, db: Path | str, *, clock: Clock = system_clock, readonly: bool = False
    ) -> Services:
        """The services over the database: `db` is a SQLite file path or a postgresql:// URL.
        `readonly` reads an existing database without writing to it (a read-only file system, a
        read-only session): the CLI's listing commands."""
        # read-only: loaded on first use; else now, before the database is opened (a missing label
        # file stops the start before any migration)
        registry = None if readonly else DatasetRegistry.load(config)
        store = await Store.open(db, readonly=readonly)
        outbox = Outbox(store)
        phases = PhaseClock(store, config)
        teams = TeamService(store, config, clock, outbox)
        services = cls(
            config=config,
            store=store,
            clock=clock,
            phases=phases,
            teams=teams,
            roster=TeamRoster(teams),
            leaderboard=LeaderboardService(store, config, phases, clock),
            logins=LoginLimiter(store),
            schedule=ScheduleService(store, config, clock),
            outbox=outbox,
            _registry=registry,
        )
        if not readonly:
            try:
                await store.run(_sync_limits, config, services.registry)
                await services.schedule.sync_from_config()
                from bot.core.votes import sync_votes
                await store.run(sync_votes, config)
                await services.projects.sync_limits()
                await services.judging.sync_rounds()
            except BaseException:
                await store.close()
                raise
        return services

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
