"""Composition root: builds the store, the services, the web app and the Discord bot, and runs
them side by side in one process over the same services and the same database.

Roles (`hackbot run --role`): `web` serves the HTTP API and the pages only (any number of such
processes over one database); `bot` holds the Discord gateway, under the gateway lease
(bot/core/lease.py): at most one process is connected at a time, the others stand by and take
over when the holder dies; `all` (the default) is both in one process."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import discord
from aiohttp import web
from discord.ext import commands

from bot.cogs.mentoring import PERSISTENT_ITEMS as HELP_QUEUE_ITEMS
from bot.cogs.projects import PERSISTENT_ITEMS as PROJECT_ITEMS
from bot.cogs.views import PERSISTENT_ITEMS
from bot.cogs.votes import PERSISTENT_ITEMS as VOTE_ITEMS
from bot.config import EventConfig
from bot.core.clock import Clock, system_clock
from bot.core.github import GitHubRepoChecker, github_checker
from bot.core.lease import GatewayLease
from bot.core.outbox import OutboxDrainer
from bot.core.project_jobs import ProjectRunner, log_notify
from bot.core.reminders import ReminderRunner
from bot.core.services import Services
from bot.core.store import redact
from bot.core.ticket_escalation import TicketRunner
from bot.help_queue import discord_notifier, log_notifier
from bot.outbox_executors import DiscordExecutors
from bot.pacing import pace
from bot.posting import discord_poster, discord_reporter, discord_time, log_poster
from bot.settings import Settings
from bot.tree import HackbotTree
from bot.web.api import parse_proxies
from bot.web.faults import Report
from bot.web.server import start_web
from bot.winner_notices import WinnerNotifier

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.teams", "bot.cogs.reveal", "bot.cogs.submit", "bot.cogs.leaderboard", "bot.cogs.winners",
    "bot.cogs.schedule", "bot.cogs.admin", "bot.cogs.matchmaking", "bot.cogs.mentoring", "bot.cogs.projects",
    "bot.cogs.votes",
    "bot.cogs.judging",
)
ROLES = ("all", "web", "bot")
TAKEOVER_QUIET = 5.5  # seconds: Discord's message buckets (5 per channel per 5 s) forget the previous holder


def point_discord_at(api_base: str) -> None:
    """Send discord.py's REST calls (webhooks included: they share `Route`) and its gateway
    connection to another Discord, such as the sandbox double (`bot/sandbox`)."""
    import yarl
    from discord.gateway import DiscordWebSocket

    base = api_base.rstrip("/")
    discord.http.Route.BASE = f"{base}/api/v10"
    # discord.py connects to this gateway without asking GET /gateway/bot, then to READY's resume URL
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/gateway")


def use_github(services: Services, settings: Settings, clock: Clock) -> None:
    """The projects' repository checks ask GitHub (or the double HACKBOT_GITHUB_API names)."""
    if services.config.projects is not None and services.projects.checker is None:
        token = settings.github_token.get_secret_value() if settings.github_token else None
        services.projects.checker = github_checker(settings.hackbot_github_api, token, clock)


async def close_github(services: Services) -> None:
    checker = services.projects.checker
    if isinstance(checker, GitHubRepoChecker):
        await checker.client.close()


def intents() -> discord.Intents:
    # Slash commands need no privileged intent; guilds gives the roles and channels cache
    # that /admin setup and the team channels use.
    result = discord.Intents.none()
    result.guilds = True
    return result


class Hackbot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        config: EventConfig,
        *,
        services: Services | None = None,
        clock: Clock = system_clock,
        serve_web: bool = True,
        run_reminders: bool = True,
    ):
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=HackbotTree,
            help_command=None,
            # names people chose (teams, items) never ping: a role is pinged only where a message
            # allows that role by id (the winners, a reminder's roles)
            allowed_mentions=discord.AllowedMentions(everyone=False, users=True, roles=False),
        )
        if settings.hackbot_discord_api:
            point_discord_at(settings.hackbot_discord_api)
        pace(self.http)  # under Discord's global 50 requests a second, without a 429 first
        self.settings, self.config, self.clock = settings, config, clock
        self.services: Services = services  # type: ignore[assignment]  # set in setup_hook when None
        self._owns_services = services is None
        self.serve_web = serve_web
        self.web_runner: web.AppRunner | None = None
        self.run_reminders = run_reminders
        self.reminders: ReminderRunner | None = None
        self._reminders_start: asyncio.Task | None = None
        self.tickets: TicketRunner | None = None
        self.notices: WinnerNotifier | None = None
        self._tickets_start: asyncio.Task | None = None
        # the outbox's drainer: Discord side effects that any process wrote (bot/core/outbox.py)
        self.executors = DiscordExecutors(self)
        self.drainer: OutboxDrainer = None  # type: ignore[assignment]  # set in setup_hook (it needs the services)
        self._drainer_start: asyncio.Task | None = None
        self.project_jobs: ProjectRunner | None = None
        self._project_jobs_start: asyncio.Task | None = None
        self.lease: GatewayLease | None = None  # set while this bot holds the gateway (hold_gateway)
        self._drain_from = 0.0  # time.monotonic(): the drainer claims nothing before (a takeover's quiet)

    async def gateway_acquired(self, lease: GatewayLease) -> None:
        """Called once this process holds the gateway lease, before it connects to Discord: the
        place to start what only the gateway holder may run (the outbox drainer). Work done under
        the lease checks `lease.valid()` before each Discord call and shows its epoch in its
        writes (`bot.core.lease.fence`, `lease.fence_params()`).

        A lease taken over (epoch > 1) follows a holder that may have been posting a moment ago:
        Discord's buckets still count its requests, which this process's discord.py has not seen;
        the drainer waits one bucket window before its first claim, so the first posts after a
        failover meet no 429."""
        self.lease = lease
        if (lease.epoch or 0) > 1:
            self._drain_from = time.monotonic() + TAKEOVER_QUIET

    async def gateway_lost(self, epoch: int) -> None:
        """Called when the lease of `epoch` is lost (taken over, or expired while this process was
        paused), before the bot disconnects: stop what `gateway_acquired` started."""
        self.lease = None

    @property
    def event_guild(self) -> discord.Object | None:
        guild_id = self.settings.hackbot_guild_id
        return discord.Object(id=guild_id) if guild_id else None

    async def setup_hook(self) -> None:
        # long-lived things are built here once, never in on_ready (which fires on reconnects)
        if self.services is None:
            if self.settings.hackbot_db is None:
                raise ValueError("Hackbot opens its own services only with settings.hackbot_db set")
            self.services = await Services.open(self.config, self.settings.hackbot_db, clock=self.clock)
        use_github(self.services, self.settings, self.clock)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        # persistent buttons: a click on a message sent before a restart is answered
        self.add_dynamic_items(*PERSISTENT_ITEMS, *HELP_QUEUE_ITEMS, *PROJECT_ITEMS, *VOTE_ITEMS)
        if self.serve_web:
            self.web_runner = await start_web(self.services, self.settings.hackbot_host, self.settings.hackbot_port,
                                              report=discord_reporter(self),
                                              board_processes=self.settings.hackbot_board_processes)
        self.drainer = OutboxDrainer(self.services.outbox, self.executors.execute, is_active=self.drains_outbox,
                                     report=discord_reporter(self))
        if self.run_reminders:
            self._drainer_start = asyncio.create_task(self._start_drainer(self.drainer), name="hackbot-outbox-start")
            self.reminders = ReminderRunner(
                self.services.store, self.config, self.services.schedule, discord_poster(self),
                clock=self.clock, report=discord_reporter(self), time_format=discord_time,
                outbox=self.services.outbox,
            )
            # started once connected: posting needs the guild cache, and waiting for it here would
            # deadlock the login (setup_hook runs before the gateway connects)
            self._reminders_start = asyncio.create_task(
                self._start_reminders(self.reminders), name="hackbot-reminders-start"
            )
            if self.config.prizes or self.config.judging.rounds:  # judges' reminders, winners' notices
                self.notices = WinnerNotifier(self)
                self.notices.start()
            if self.config.mentoring is not None:  # the help queue's escalation, from the database
                self.tickets = TicketRunner(self.services.mentoring, discord_notifier(self),
                                            report=discord_reporter(self))
                self._tickets_start = asyncio.create_task(self._start_tickets(self.tickets),
                                                          name="hackbot-tickets-start")
            if self.config.projects is not None:  # re-checks, the deadline snapshot, the draft reminders
                # the draft reminders are outbox rows written with their claim: the drainer posts them
                self.project_jobs = ProjectRunner(self.services.projects, log_notify(log))
                self._project_jobs_start = asyncio.create_task(self._start_project_jobs(self.project_jobs),
                                                               name="hackbot-projects-start")

    def holds_gateway(self) -> bool:
        """Whether this process may act on Discord: it holds a valid gateway lease (a paused process
        whose lease expired claims no outbox row), or runs without one (a single process, tests)."""
        return self.lease is None or self.lease.valid()

    def drains_outbox(self) -> bool:
        """The drainer claims rows only while connected and holding the gateway: a standby process,
        or one reconnecting, leaves them to the active one."""
        return self.is_ready() and self.holds_gateway() and time.monotonic() >= self._drain_from

    async def _start_drainer(self, drainer: OutboxDrainer) -> None:
        await self.wait_until_ready()
        await drainer.start()

    async def _start_reminders(self, reminders: ReminderRunner) -> None:
        await self.wait_until_ready()
        await reminders.start()

    async def _start_tickets(self, tickets: TicketRunner) -> None:
        await self.wait_until_ready()
        await tickets.start()

    async def _start_project_jobs(self, jobs: ProjectRunner) -> None:
        await self.wait_until_ready()
        await jobs.start()

    async def sync_commands(self) -> list:
        """Register the slash commands with Discord: on request only (200 creates a day per guild)."""
        guild = self.event_guild
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def close(self) -> None:
        if self._reminders_start is not None and not self._reminders_start.done():
            self._reminders_start.cancel()
        if self._tickets_start is not None and not self._tickets_start.done():
            self._tickets_start.cancel()
        if self._project_jobs_start is not None and not self._project_jobs_start.done():
            self._project_jobs_start.cancel()
        if self.tickets is not None:
            await self.tickets.stop()
        if self.notices is not None:
            await self.notices.stop()
        if self.project_jobs is not None:
            await self.project_jobs.stop()
        if self.reminders is not None:
            await self.reminders.stop()  # a post in progress finishes while still connected
        if self._drainer_start is not None and not self._drainer_start.done():
            self._drainer_start.cancel()
        if self.drainer is not None:  # None when setup_hook never ran
            await self.drainer.stop()  # the rows under way finish and are marked while still connected
        await super().close()
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self._owns_services and self.services is not None:  # else serve() closes them
            await close_github(self.services)
            await self.services.close()


class _GatewayReport:
    """The web's fault reports, sent to Discord by this process's bot while it holds the gateway
    (logged only otherwise: FaultReport logs every report itself)."""

    def __init__(self) -> None:
        self.bot: Hackbot | None = None

    async def __call__(self, text: str) -> None:
        bot = self.bot
        if bot is not None and bot.lease is not None and bot.lease.valid():
            await discord_reporter(bot)(text)


async def hold_gateway(
    services: Services,
    settings: Settings,
    config: EventConfig,
    discord_token: str,
    *,
    clock: Clock = system_clock,
    ready: asyncio.Event | None = None,
    report: _GatewayReport | None = None,
    lease: GatewayLease | None = None,
) -> None:
    """Hold the Discord gateway whenever this process holds the lease: wait for it (standing by
    while another process holds it), connect, renew it, and disconnect the moment it is lost,
    then stand by again. Returns (or raises) only when the bot's connection ends by itself."""
    lease = lease or GatewayLease(services.store, ttl=settings.hackbot_lease_ttl)
    try:
        while True:
            epoch = await lease.try_acquire()
            if epoch is None:
                if ready is not None:
                    ready.set()  # standing by is running
                epoch = await lease.acquire()
            else:
                log.info("holding the gateway lease (epoch %d)", epoch)
            bot = Hackbot(settings, config, services=services, clock=clock, serve_web=False)
            async with bot:
                await bot.login(discord_token)
                log.info("Discord bot logged in, gateway lease epoch %d (database %s)", epoch,
                         redact(services.store.target))
                await bot.gateway_acquired(lease)
                if report is not None:
                    report.bot = bot
                if ready is not None:
                    ready.set()
                connect = asyncio.create_task(bot.connect(), name="hackbot-gateway")
                lost = asyncio.create_task(lease.keep(), name="hackbot-lease")
                try:
                    await asyncio.wait({connect, lost}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (connect, lost):
                        if not task.done():
                            task.cancel()
                if report is not None:
                    report.bot = None
                if lost.done() and not lost.cancelled():
                    await bot.gateway_lost(lost.result())
                    log.warning("disconnected from Discord: the gateway lease (epoch %d) was lost; standing by", epoch)
                    continue  # `async with` closes this bot; a new one connects at the next lease
                await bot.gateway_lost(epoch)
                connect.result()  # the connection's own end: its error, or a clean close
                return
    finally:
        await lease.release()


async def serve(
    config: EventConfig,
    db_path: str | Path,
    host: str,
    port: int,
    *,
    discord_token: str | None = None,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    ready: asyncio.Event | None = None,
    role: str = "all",
) -> None:
    """Run this process's role: the web server (`all`, `web`), and the Discord bot under the
    gateway lease when a token is given (`all`, `bot`)."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    gateway = bool(discord_token) and role in ("all", "bot")
    if role == "bot" and not discord_token:
        raise ValueError("the bot role needs DISCORD_TOKEN")
    settings = (settings or Settings()).model_copy(
        update={"hackbot_db": str(db_path), "hackbot_host": host, "hackbot_port": port}
    )
    proxies = parse_proxies(settings.hackbot_trusted_proxies)
    services = await Services.open(config, db_path, clock=clock)
    use_github(services, settings, clock)  # the web's project checks and the bot's both ask GitHub
    runner: web.AppRunner | None = None
    offline: list[ReminderRunner | TicketRunner | ProjectRunner] = []
    report = _GatewayReport() if gateway else None
    try:
        if role in ("all", "web"):
            web_report: Report | None = report
            runner = await start_web(services, host, port, report=web_report, trusted_proxies=proxies,
                                     board_processes=settings.hackbot_board_processes)
            log.info("web server on http://%s:%s (role %s, database %s)", host, port, role, redact(db_path))
        if gateway:
            assert discord_token is not None
            await hold_gateway(services, settings, config, discord_token, clock=clock, ready=ready, report=report)
            return
        if role == "all":
            # offline, the reminders go to the log and to the organizers' page of posted reminders,
            # /organizers/reminders (the texts kept as Discord would have shown them: the page
            # shows them in each reader's time); the runner logs its organizer reports itself; the help queue's pings
            # and the projects' notices are logged
            offline = [ReminderRunner(services.store, config, services.schedule, log_poster(log), clock=clock,
                                      time_format=discord_time),
                       TicketRunner(services.mentoring, log_notifier(log)),
                       ProjectRunner(services.projects, log_notify(log))]
            for runner_ in offline:
                await runner_.start()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        for runner_ in reversed(offline):
            await runner_.stop()
        if runner is not None:
            await runner.cleanup()
        await close_github(services)
        await services.close()
