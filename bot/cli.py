"""`hackbot`: the command line.

Every command that acts on an event says so first, on stderr (so that --json output stays
clean): the event file and the database. The event file is --config, else HACKBOT_CONFIG (from
the environment or .env); there is no silent default: only `hackbot demo` runs the demo event.
The database is --db, else HACKBOT_DB, else .hackbot/<event file name>.sqlite3: a SQLite file
path or a postgresql:// URL (shown everywhere without its password). Every failure
the command can meet (a busy port, a database that is a folder, damaged, read-only or on a full
disk, hidden labels missing, a file that is not UTF-8) is one message and exit status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gc
import importlib
import ipaddress
import json
import logging
import re
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.config import ConfigError, EventConfig, load_event
from bot.core.datasets import DataError
from bot.core.errors import HackbotError, Unavailable
from bot.core.services import Services
from bot.core.store import MigrationError, Store, edited_error, is_url, redact

if TYPE_CHECKING:  # imported where the environment is read: pydantic_settings is a tenth of `hackbot leaderboard`
    from bot.settings import Settings

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "demo.toml"
DEMO_DB = str(Path(".hackbot") / "demo.sqlite3")
ENVIRONMENT = (
    ("HACKBOT_CONFIG", "The event file, when --config is not given."),
    ("HACKBOT_DB", "The database (a SQLite file or a postgresql:// URL) when --db is not given "
                   "(default: .hackbot/<event>.sqlite3)."),
    ("HACKBOT_HOST", "The address `hackbot run` listens on (default: 127.0.0.1)."),
    ("HACKBOT_PORT", "The port `hackbot run` listens on (default: 8080)."),
    ("DISCORD_TOKEN", "The bot's token; without it, `hackbot run` serves the web and the API only."),
    ("HACKBOT_GUILD_ID", "The Discord server the slash commands are synced to."),
    ("HACKBOT_PUBLIC_URL", "The address participants type, shown in /token's curl lines."),
    ("HACKBOT_DISCORD_API", "A Discord double to talk to instead of Discord (bot/sandbox)."),
    ("GITHUB_TOKEN", "A GitHub token for the project checks (optional: raises GitHub's rate limit)."),
    ("HACKBOT_GITHUB_API", "A GitHub double to talk to instead of api.github.com (bot/sandbox)."),
    ("HACKBOT_TRUSTED_PROXIES", "Proxies whose X-Forwarded-For names the client, e.g. 127.0.0.1 (login limits)."),
    ("SMTP_HOST", "The mail server that tells winning teams by email (with SMTP_PORT, SMTP_USER, SMTP_PASSWORD)."),
    ("SMTP_PORT", "The mail server's port (default: 587)."),
    ("SMTP_USER", "The mail server's login (optional)."),
    ("SMTP_PASSWORD", "The mail server's password (optional; never logged)."),
    ("SMTP_FROM", "The sender address of the winners' emails."),
    ("SMTP_STARTTLS", "Whether to start TLS with the mail server (default: true)."),
    ("HACKBOT_LEASE_TTL", "Seconds the gateway holder may go unrenewed before a standby takes over (15)."),
    ("HACKBOT_BOARD_PROCESSES", "Worker processes that build the leaderboard beside each web process (1; 0: in it)."),
)
_HOSTNAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


# --- what every command shares ----------------------------------------------------------------

def fail(message: str) -> NoReturn:
    """Say what is wrong and what to do, and exit 1: never a traceback."""
    err_console.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
    sys.exit(1)


def say(message: str) -> None:
    """A line about what the command does, on stderr (stdout is for its result)."""
    err_console.print(escape(message), highlight=False, soft_wrap=True)


def settings_from_environment() -> Settings:
    from bot.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail(f"the environment (or .env) has a bad value: {problems}; fix it or unset it")


def _default_db(config_path: Path) -> str:
    return str(Path(".hackbot") / f"{config_path.stem}.sqlite3")


def event_options(fn):
    """--config and --db on a command, from the environment (or .env) when not given."""

    @click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                  help="The event file (default: HACKBOT_CONFIG from the environment or .env).")
    @click.option("--db", "db_path", default=None,
                  help="The database: a SQLite file path or a postgresql://user:password@host/name URL "
                       "(default: HACKBOT_DB, else .hackbot/<event file name>.sqlite3).")
    @functools.wraps(fn)
    def wrapper(config_path: Path | None, db_path: str | None, **kwargs):
        if config_path is not None and db_path is not None:  # nothing to read from the environment
            return fn(config_path=config_path, db_path=db_path, **kwargs)
        settings = settings_from_environment()
        config_path = config_path or settings.hackbot_config
        if config_path is None:
            fail("which event? pass --config FILE or set HACKBOT_CONFIG (in the environment or .env); "
                 "`hackbot demo` runs the demo event")
        return fn(config_path=config_path, db_path=db_path or settings.hackbot_db or _default_db(config_path), **kwargs)

    return wrapper


def load_config(config_path: Path, *, check_data: bool = True) -> EventConfig:
    try:
        return load_event(config_path, check_data=check_data)
    except ConfigError as exc:
        fail(exc.render())


def check_db_path(db: str) -> None:
    """What can be told of a database file's path before opening it (nothing of a URL)."""
    if is_url(db):
        return
    db_path = Path(db)
    if db_path.is_dir():
        fail(f"--db {db_path} is a folder; give the database file's path, such as {db_path / 'event.sqlite3'}")
    parent = db_path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        fail(f"--db {db_path}: {parent} is a file, not a folder; choose another path")


def announce(config: EventConfig, config_path: Path, db: str | None) -> None:
    where = f"; database {redact(db)}" if db is not None else ""
    say(f"event {config.event.name!r} ({config_path}){where}")


# what a command fails with, besides its own checks: problem_of has a message for each
FAILURES = (ConfigError, DataError, HackbotError, MigrationError, sqlite3.DatabaseError, OSError)


def problem_of(exc: BaseException, db_path: str | None) -> str | None:
    """The message for a failure a command can meet, or None for a bug (which keeps its traceback).
    An organizer reads it: a database that cannot write says why (`Unavailable.reason`)."""
    db = redact(db_path) if db_path is not None else "the database"
    if isinstance(exc, ConfigError):
        return exc.render()
    if isinstance(exc, DataError):
        return f"the hidden labels cannot be loaded:\n{exc}"
    if isinstance(exc, Unavailable):
        if db_path is not None and is_url(db_path):
            return (f"{exc.reason}: nothing was changed; check that the PostgreSQL server runs, has disk space and "
                    "accepts this user, or choose another --db")
        return (f"{exc.reason}: nothing was changed; free disk space, fix the permissions of the database "
                "and its folder, stop the process that holds it, or choose another --db")
    if isinstance(exc, MigrationError):
        return str(exc)
    if isinstance(exc, HackbotError):
        return exc.message
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"{db} is not a Hackbot database, or it is damaged ({exc}); restore it from a backup, or "
                "choose another --db")
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}; check the path and its permissions"
    return None


def with_services(config_path: Path, db_path: str, action: Callable[[Services], Awaitable[T]], *,
                  readonly: bool = False, reads_first: bool = False) -> T:
    """Run action(services) over the event's database. A read-only command (`readonly`) still
    works when a database file cannot be written (a read-only file system, a full disk).
    `reads_first`: a read-only command whose answer no start-up write changes (the leaderboard) opens
    an existing, current database file read-only straight away, without the writes that keep the
    database in step with the event file (a tenth of `hackbot leaderboard` at 5,000 teams); a file
    that needs a migration, or none yet, is opened as usual."""
    config = load_config(config_path)
    check_db_path(db_path)
    announce(config, config_path, db_path)
    # worth reading without writing when writing fails: an existing file (for a URL, what fails is
    # most often the server or the login, which a read-only session would meet as well)
    readable = readonly and not is_url(db_path) and Path(db_path).exists()
    done: list[T] = []

    async def main() -> None:
        services = None
        if reads_first and readable:
            with contextlib.suppress(Unavailable):  # a migration pending: opened as usual below
                services = await Services.open(config, db_path, readonly=True)
        try:
            if services is None:
                services = await Services.open(config, db_path)
        except Unavailable as first:
            if not readable:
                raise
            try:
                services = await Services.open(config, db_path, readonly=True)
            except Unavailable:
                raise first from None
            say(f"({first.reason}: reading it without writing)")
        try:
            done.append(await action(services))
        finally:
            await services.close()

    # The answer leaves through `done`, not as the task's result: on Python 3.11, asyncio.run's
    # exit repr()s its SIGINT handler, which holds the main task, whose repr holds its result:
    # a 5,000-team board's repr cost a second of `hackbot leaderboard`.
    try:
        asyncio.run(main())
    except FAILURES as exc:
        message = problem_of(exc, db_path)
        if message is None:
            raise
        fail(message)
    return done[0]


def read_csv_text(file: Path) -> str:
    """A CSV from a form or a spreadsheet, as text: UTF-8 (with or without a byte-order mark)."""
    data = file.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail(f"{file} is UTF-16; save it as CSV UTF-8 (Excel: Save As, CSV UTF-8 (Comma delimited))")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        fail(f"{file}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}, "
             f"{data[exc.start:exc.start + 1].decode('latin-1')!r} in Latin-1); save the file as CSV UTF-8 "
             "(Excel: Save As, CSV UTF-8; LibreOffice: Character set, Unicode (UTF-8)) and import it again")


def keep_out_of_git(folder: Path) -> None:
    """Hidden labels must never be one `git add -A` away from a public repository: the data folder
    ignores itself."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Hackbot: hidden labels (y_val) must never be committed; delete this file only if you know\n*\n",
                          encoding="utf-8")


_EPILOG = "\b\nEnvironment (also read from a .env file in the current folder):\n" + "\n".join(
    f"  {name:<24} {text}" for name, text in ENVIRONMENT
)


# The commands that live in the bot/cli_*.py modules, per group (`main`: hackbot itself), with the
# line `--help` lists for each. A module is imported when one of its commands runs, not for every
# command (`hackbot leaderboard` starts faster); tests/web/test_cli_says.py holds the table to the
# commands the modules register.
LAZY_COMMANDS: dict[str, dict[str, tuple[str, str]]] = {
    "main": {
        "baseline": ("bot.cli_controls", "Show organizers' baselines on the board."),
        "export": ("bot.cli_controls", "Export the board or submissions as CSV."),
        "integrity": ("bot.cli_controls", "Flag teams with near-identical predictions."),
        "labels": ("bot.cli_controls", "Fix hidden labels and re-score submissions."),
        "mentoring": ("bot.cli_mentoring", "Report on help tickets and assign mentors."),
        "organizers": ("bot.cli_mentoring", "Make or revoke organizers' secret links."),
        "outbox": ("bot.cli_outbox", "Discord side effects waiting to be sent."),
        "perks": ("bot.cli_mentoring", "Import perk codes and see their stock."),
        "projects": ("bot.cli_projects", "Export, moderate and extend projects."),
        "vote": ("bot.cli_votes", "Run the public votes ([[votes]])."),
        "winners": ("bot.cli_judging", "See and pick the winners of the prizes."),
    },
    "team": {
        "disqualify": ("bot.cli_controls", "Disqualify a team from ranks and prizes."),
        "merge": ("bot.cli_controls", "Merge team FROM into team INTO."),
        "requalify": ("bot.cli_controls", "Rank a disqualified team again."),
    },
    "judging": {
        "check": ("bot.cli_judging", "Name projects a round would leave unreviewed."),
        "export": ("bot.cli_judging", "Export the judging as JSON."),
        "interviews": ("bot.cli_judging", "Book the interview slots and print them."),
        "invite": ("bot.cli_judging", "Invite a judge from outside the server."),
        "results": ("bot.cli_judging", "Print a round's ranking with rank intervals."),
        "rule": ("bot.cli_judging", "Decide on a code-review failure: uphold or dismiss it."),
        "void": ("bot.cli_judging", "Void a judge's scores of a round so far."),
    },
}


class LazyGroup(click.Group):
    """A group some of whose commands (LAZY_COMMANDS[its name]) register themselves on it when
    their module is imported: on demand. Its help lists them from the table, importing nothing."""

    def lazy(self) -> dict[str, tuple[str, str]]:
        return {name: entry for name, entry in LAZY_COMMANDS.get(self.name or "", {}).items()
                if name not in self.commands}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy().get(cmd_name)
        if entry is not None:
            importlib.import_module(entry[0])  # its decorators register the command on this group
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, with the short help of those not imported taken from the table."""
        lazy = self.lazy()
        listed = [(name, self.commands.get(name)) for name in self.list_commands(ctx)]
        listed = [(name, command) for name, command in listed if command is None or not command.hidden]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        rows = [(name, command.get_short_help_str(limit) if command is not None
                 else click.Command(name, help=lazy[name][1]).get_short_help_str(limit)) for name, command in listed]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_every_command() -> None:
    """Import every module of LAZY_COMMANDS (what walks the whole command tree needs it)."""
    for entries in LAZY_COMMANDS.values():
        for module, _ in entries.values():
            importlib.import_module(module)


@click.group(cls=LazyGroup, epilog=_EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="hackbot", message="hackbot %(version)s", help="Show the version and exit.")
def main() -> None:
    """Hackbot runs a hackathon or an ML competition end to end."""


# --- run ----------------------------------------------------------------------------------

def check_listen(host: str, port: int) -> None:
    """Refuse at once what no socket can listen on (without any name lookup)."""
    if not 1 <= port <= 65535:
        fail(f"--port {port} is not a TCP port; choose one from 1 to 65535 (8080, say)")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(host) or re.fullmatch(r"[0-9.]+", host):
        fail(f"--host {host!r} is neither an IP address nor a host name; use 127.0.0.1 (this machine only) "
             "or 0.0.0.0 (every network interface)")


def listen_problem(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return f"--host {host!r} does not resolve to an address of this machine; use 127.0.0.1 or 0.0.0.0"
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use (another `hackbot run`?); stop that process or choose "
                "another --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0 (all)"
    if exc.errno == errno.EACCES:
        return f"port {port} needs administrator rights on this machine; choose a port above 1023, such as 8080"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host or --port"


def serve_event(config: EventConfig, db_path: str, host: str, port: int, settings: Settings,
                banner: Callable[[], Awaitable[None]] | None = None, role: str = "all") -> None:
    """Run the web server (and the bot): stop with a message and exit 1 if it cannot start."""
    import aiohttp  # here, as discord: every other command (hackbot leaderboard) is faster without them
    from discord import LoginFailure

    from bot.app import serve
    from bot.web.api import parse_proxies

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        parse_proxies(settings.hackbot_trusted_proxies)
    except ValueError as exc:
        fail(str(exc))
    token = settings.discord_token.get_secret_value() if settings.discord_token else None
    if role == "bot" and token is None:
        fail("--role bot holds the Discord gateway and needs DISCORD_TOKEN; set it, or run --role web for the "
             "web server and the HTTP API only")
    if token is None and role != "web":
        say("DISCORD_TOKEN is not set: running the web server and the HTTP API only.")
    if role == "web":
        say("role web: the web server and the HTTP API only; the Discord gateway is left to a `--role bot` process.")
    elif role == "bot":
        say("role bot: the Discord gateway under the database's lease (one holder at a time), no web server.")
    ready = asyncio.Event()

    async def main_task() -> None:
        task = asyncio.create_task(
            serve(config, db_path, host, port, discord_token=token, settings=settings, ready=ready, role=role)
        )
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():  # ended before it could serve: its exception says why
            waiting.cancel()
            await task
            return
        if banner:
            await banner()
        if role == "bot":
            console.print("[bold green]Bot process running[/bold green] (the gateway when it holds the lease; "
                          "Ctrl-C to stop)")
        else:
            console.print(f"[bold green]Leaderboard:[/bold green] http://{host}:{port}/   (Ctrl-C to stop)")
        await task

    try:
        asyncio.run(main_task())
    except KeyboardInterrupt:
        console.print("stopped")
    except LoginFailure:
        fail("Discord refused DISCORD_TOKEN; copy it again from the Developer Portal (Bot tab)")
    except aiohttp.ClientError as exc:
        fail(f"cannot reach Discord ({exc}); check the network, or unset DISCORD_TOKEN")
    except FAILURES as exc:
        message = problem_of(exc, db_path)
        if message is None and isinstance(exc, OSError):
            message = listen_problem(exc, host, port)
        if message is None:
            raise
        fail(message)


def listen_options(fn):
    @click.option("--host", default=None,
                  help="The address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 for every network "
                       "interface (default: HACKBOT_HOST, else 127.0.0.1).")
    @click.option("--port", default=None, type=int, help="The TCP port, 1 to 65535 (default: HACKBOT_PORT, else 8080).")
    @functools.wraps(fn)
    def wrapper(host: str | None, port: int | None, **kwargs):
        settings = settings_from_environment()
        host = host or settings.hackbot_host
        port = settings.hackbot_port if port is None else port
        check_listen(host, port)
        return fn(host=host, port=port, settings=settings, **kwargs)

    return wrapper


@main.command()
@event_options
@listen_options
@click.option("--role", type=click.Choice(["all", "web", "bot"]), default="all", show_default=True,
              help="What this process runs: all of it; web, the web server and the HTTP API only (run as many "
                   "as you like on one database); or bot, the Discord gateway only (one holds it at a time, the "
                   "others stand by and take over within 30 s when it dies).")
def run(config_path: Path, db_path: str, host: str, port: int, settings: Settings, role: str) -> None:
    """Run the event. The web server and the HTTP API, and the Discord bot when DISCORD_TOKEN is set."""
    config = load_config(config_path)
    check_db_path(db_path)
    announce(config, config_path, db_path)
    serve_event(config, db_path, host, port, settings, role=role)


@main.command()
@click.option("--db", "db_path", default=DEMO_DB, show_default=True,
              help="The demo's own database, a SQLite file or a postgresql:// URL (never HACKBOT_DB, which may be "
                   "a real event's).")
@listen_options
def demo(db_path: str, host: str, port: int, settings: Settings) -> None:
    """Run the bundled demo event. Synthetic data on first run, a few teams, and the leaderboard page."""
    from rich.progress import Progress

    from bot.core.synth import synthesize_event
    from bot.demo import seed_demo

    config = load_config(DEMO_CONFIG, check_data=False)
    check_db_path(db_path)
    announce(config, DEMO_CONFIG, db_path)
    folders = [config.resolve(p.data_dir) for p in config.phases if p.data_dir]
    missing = [folder for folder in folders if not folder.exists()]
    if missing:
        try:
            with Progress(console=err_console, transient=True) as progress:
                task = progress.add_task("writing demo datasets", total=len(config.datasets))
                synthesize_event(config, rows=1000)
                progress.update(task, completed=len(config.datasets))
            for folder in missing:
                keep_out_of_git(folder)
        except OSError as exc:
            fail(f"cannot write the demo's data to {missing[0]}: {exc.strerror or exc}; free disk space or "
                 "fix the folder's permissions")
        say(f"demo data written to {missing[0]}")
    config = load_config(DEMO_CONFIG)

    async def banner() -> None:
        services = await Services.open(config, db_path)
        try:
            creds = await seed_demo(services)
        finally:
            await services.close()
        if creds is None:
            say(f"demo teams exist already in {redact(db_path)}; `hackbot team create NAME --validated "
                f"--config {DEMO_CONFIG} --db {redact(db_path)}` adds one")
            return
        url = f"http://{host}:{port}"
        console.print(f"Play as team [bold]{escape(creds.team.name)}[/bold]: username [bold]{creds.team.username}[/bold]"
                      f" password [bold]{creds.password}[/bold] (shown once)")
        console.print(f"  curl -F username={creds.team.username} -F password={creds.password}"
                      f" -F exercise_id=3 -F datum_id=456 {url}/reveal/", highlight=False, soft_wrap=True)

    serve_event(config, db_path, host, port, settings, banner)


@main.command()
@event_options
def sync(config_path: Path, db_path: str) -> None:
    """Register the slash commands with Discord. They go to HACKBOT_GUILD_ID's server when it is set."""
    import aiohttp
    from discord import LoginFailure

    from bot.app import Hackbot

    settings = settings_from_environment()
    token = settings.discord_token
    if token is None:
        fail("DISCORD_TOKEN is not set; put it in the environment or in .env")
    config = load_config(config_path)
    check_db_path(db_path)
    announce(config, config_path, db_path)

    async def run_sync():
        bot = Hackbot(settings.model_copy(update={"hackbot_db": db_path}), config, serve_web=False)
        async with bot:
            await bot.login(token.get_secret_value())
            return await bot.sync_commands(), bot.event_guild

    try:
        synced, guild = asyncio.run(run_sync())
    except LoginFailure:
        fail("Discord refused the token; copy it again from the Developer Portal (Bot tab)")
    except aiohttp.ClientError as exc:
        fail(f"cannot reach Discord ({exc}); check the network and try again")
    except FAILURES as exc:
        message = problem_of(exc, db_path)
        fail(message or f"cannot reach Discord ({exc}); check the network and try again")
    where = f"guild {guild.id}" if guild else "every guild (global commands can take up to an hour to appear)"
    console.print(f"synced {len(synced)} commands to {where}")


# --- config -------------------------------------------------------------------------------

@main.group("config")
def config_group() -> None:
    """Check event files."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def config_check(file: Path) -> None:
    """Validate an event file. It prints its problems (exit 1) or a one-screen summary (exit 0)."""
    config = load_config(file)
    ev = config.event
    console.print(f"[bold]{escape(ev.name)}[/bold]  ({escape(str(file))}, timezone {escape(ev.timezone)})")
    t = config.teams
    window = ""
    if t.formation_opens or t.formation_closes:
        window = f", formation {_when(t.formation_opens)} → {_when(t.formation_closes)}"
    console.print(f"teams: {t.min_size}-{t.max_size} members"
                  f"{', validated by organizers' if t.require_validation else ''}{window}")
    for phase in config.phases:
        ids = ", ".join(str(ds.id) for ds in config.datasets_in_phase(phase.id))
        console.print(f"phase [bold]{phase.id}[/bold] from {_when(phase.starts)}, data "
                      f"{escape(str(phase.data_dir))}: datasets {ids or '-'}")
    if config.datasets:
        table = Table("id", "name", "points", "default", "budget", "phases", box=None)
        for ds in config.datasets:
            table.add_row(str(ds.id), escape(ds.name), f"{ds.points:g}", f"{ds.default_score:g}",
                          str(ds.reveal_budget), escape(", ".join(ds.phases or ["all"])))
        console.print(table)
        console.print(f"maximum total {sum(ds.points for ds in config.datasets):g} points;"
                      f" leaderboard {config.leaderboard.visibility}")
    s = config.submissions
    console.print(f"submissions: {_when(s.opens)} → {_when(s.closes)}, at most {s.max_bytes:,} bytes")
    console.print(f"schedule: {len(config.schedule)} items"
                  + (f", first {escape(repr(config.schedule[0].title))} at {_when(config.schedule[0].at)}"
                     if config.schedule else ""))
    _print_judging(config)
    for line in _engagement_summary(config):
        console.print(line)
    console.print("[green]OK[/green]")


def _engagement_summary(config: EventConfig) -> list[str]:
    """[projects], [[votes]], [mentoring] and [[perks]] in a few lines."""
    lines = []
    p = config.projects
    if p is not None:
        asks = ", ".join(p.required) or "a title and a summary"
        lines.append(f"projects: {_when(p.opens)} → {_when(p.closes)}, asking {asks}"
                     + (f"; licences {', '.join(p.licences)}" if p.licences else "")
                     + (f"; categories {', '.join(p.categories)}" if p.categories else ""))
        if p.bundles is not None:
            lines.append(f"bundles: a zip of at most {p.bundles.max_bytes:,} bytes, explanations {p.bundles.explanations}")
    for v in config.votes:
        lines.append(f"vote [bold]{v.id}[/bold] ({v.kind}{f', up to {v.max_choices}' if v.max_choices else ''}): "
                     f"{_when(v.opens)} → {_when(v.closes)}{', ballot codes on the web' if v.codes else ''}")
    if config.mentoring is not None:
        lines.append(f"mentoring: tags {', '.join(config.mentoring.tags) or '-'}"
                     + ("; mentors assigned to teams" if config.mentoring.assign_to_teams else ""))
    for perk in config.perks:
        lines.append(f"perk [bold]{perk.id}[/bold]: {perk.title}, one per {perk.who.replace('_', ' ')}")
    return lines


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


# --- teams --------------------------------------------------------------------------------

@main.group(cls=LazyGroup)
def team() -> None:
    """Create, validate, merge, disqualify teams."""


@team.command("create")
@click.argument("name")
@click.option("--validated", is_flag=True, help="Validate the team at once.")
@click.option("--json", "as_json", is_flag=True, help='Print {"team", "username", "password"} as JSON.')
@event_options
def team_create(name: str, validated: bool, as_json: bool, config_path: Path, db_path: str) -> None:
    """Create a team. It prints the team's API username and password, shown once."""
    creds = with_services(config_path, db_path, lambda s: s.teams.create(name, validated=validated))
    if as_json:
        click.echo(json.dumps({"team": creds.team.name, "username": creds.team.username, "password": creds.password}))
        return
    console.print(f"team [bold]{escape(creds.team.name)}[/bold] created{' and validated' if validated else ''}")
    console.print(f"  username: {creds.team.username}\n  password: {creds.password}", highlight=False)
    console.print("The password is shown once; give it to the team.")


@team.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help='Print the created teams as a JSON list of {"team", "username", "password"}.')
@event_options
def team_import(file: Path, as_json: bool, config_path: Path, db_path: str) -> None:
    """Create or update teams from a CSV file. The CSV has a header row: team, validated,
    members as Discord ids separated by ';', and optionally emails separated by ';'). Running it again
    changes nothing; bad rows are reported with their line, and the good rows are kept."""
    from bot.core.team_import import import_teams, parse_team_csv

    text = read_csv_text(file)
    config = load_config(config_path)
    parsed = parse_team_csv(text, config)
    if parsed.ignored_columns:
        say(f"ignored column(s): {', '.join(parsed.ignored_columns)}")
    result = with_services(config_path, db_path,
                           lambda s: import_teams(s.store, s.config, s.clock, parsed.rows))
    errors = sorted(parsed.errors + result.errors)
    for line, reason in errors:
        err_console.print(escape(f"{file}:{line}: {reason}"), highlight=False, soft_wrap=True)
    created = [{"team": c.team.name, "username": c.team.username, "password": c.password} for c in result.created]
    if as_json:
        click.echo(json.dumps(created))
    elif created:  # tab-separated: pastes into a spreadsheet, and thousands print at once
        click.echo("New teams (each password is shown once; give it to its team):\nteam\tusername\tpassword")
        click.echo("\n".join(f"{row['team']}\t{row['username']}\t{row['password']}" for row in created))
    say(f"{len(result.created)} team(s) created, {len(result.updated)} updated, {len(result.unchanged)} unchanged;"
        f" {len(errors)} bad row(s)")
    if errors:
        sys.exit(2)


@team.command("list")
@event_options
def team_list(config_path: Path, db_path: str) -> None:
    """List the teams. This works on a read-only database too."""
    async def action(s: Services):
        return [(t, await s.teams.members(t.id)) for t in await s.teams.list()]

    table = Table("team", "username", "validated", "members")
    for t, members in with_services(config_path, db_path, action, readonly=True):
        table.add_row(escape(t.name), t.username, "yes" if t.validated else "no", str(len(members)))
    console.print(table)


@team.command("validate")
@click.argument("name")
@event_options
def team_validate(name: str, config_path: Path, db_path: str) -> None:
    """Validate a team. It may then reveal and submit."""
    t = with_services(config_path, db_path, lambda s: s.teams.validate(name))
    console.print(f"team [bold]{escape(t.name)}[/bold] is validated")


# --- leaderboard --------------------------------------------------------------------------

@main.command()
@click.option("--phase", default=None, help="A phase id (default: the current phase).")
@click.option("--json", "as_json", is_flag=True, help="Print the standings as JSON, as GET /api/leaderboard does.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the standings as CSV: rank, team, total, datasets "
              "submitted, last submission, then each dataset's counted score.")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Print only the teams ranked N or better.")
@click.option("--wide", is_flag=True, help="Print every dataset's column, however wide the terminal is.")
@click.option("--narrow", is_flag=True, help="Print the 80-column layout (total and best datasets), however wide the "
              "terminal is.")
@event_options
def leaderboard(phase: str | None, as_json: bool, as_csv: bool, top: int | None, wide: bool, narrow: bool,
                config_path: Path, db_path: str) -> None:
    """Print the leaderboard. Organizers see the scores even while it is hidden; this works on a read-only
    database too. On a terminal narrower than the full table, each team shows its total and its best datasets."""
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    if wide and narrow:
        fail("choose one of --wide and --narrow")
    with collector_paused():
        standings = with_services(config_path, db_path, lambda s: s.leaderboard.standings(phase, organizer=True),
                                  readonly=True, reads_first=True)
        rows = [row for row in standings.rows if top is None or (row.rank is not None and row.rank <= top)]
        if as_json:
            api = standings.to_api()
            if top is not None:
                api["teams"] = api["teams"][:len(rows)]
            click.echo(json.dumps(api))
            return
        if as_csv:
            click.echo(board_csv(standings, rows), nl=False)
            return
        width = console.width if console.is_terminal else 80
        if wide or (not narrow and FULL_COLUMN * (3 + len(standings.datasets)) + TEAM_COLUMN <= width):
            click.echo(board_wide(standings, rows, styled=console.is_terminal and not console.no_color), nl=False)
            return
        click.echo(board_narrow(standings, rows), nl=False)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off during a one-shot command that allocates some
    200,000 objects and frees them at exit: at 5,000 teams its passes over them cost about a sixth
    of `hackbot leaderboard`. Restored after, for a caller in the same process (the tests)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


FULL_COLUMN, TEAM_COLUMN = 8, 24  # the full table's width per score column, and for the team's


def _rank(row) -> str:
    """A rank, or what a row is when it has none (a baseline, a disqualified team: never ranked)."""
    return str(row.rank) if row.rank is not None else row.kind[:4]


BOLD, DIM, PLAIN = "\x1b[1m", "\x1b[2m", "\x1b[0m"
WIDE_TEAM = 40  # the widest team column of the full table (longer names are cut, with "…")


def board_wide(standings, rows, *, styled: bool) -> str:
    """Every dataset's column, as aligned text written in one go (a rich Table took 40 s to lay out
    5,000 teams). On a terminal, submitted scores are bold and defaults dim; elsewhere a default
    score is marked with "~"."""
    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[:width - 1] + "…"

    def named(row) -> str:
        if row.kind == "team":
            return row.team
        return f"{row.team} ({row.kind}: {row.note})" if row.note else f"{row.team} ({row.kind})"

    names = [named(row) for row in rows]
    width = max([4, *map(len, names)]) if names else 4
    width = min(width, WIDE_TEAM)
    def cell(c) -> str:
        if styled:
            return f"{BOLD if c.submitted else DIM}{c.score:>6.3f}{PLAIN}"
        return f"{c.score:>7.3f}" if c.submitted else f"~{c.score:.3f}".rjust(7)

    phase = standings.phase.id if standings.phase else "-"
    column = 6 if styled else 7
    lines = [f"phase {phase}", f"{'#':>4}  {'team':<{width}} {'total':>7} "
             + " ".join(f"{ds.id:>{column}}" for ds in standings.datasets)]
    for row, name in zip(rows, names, strict=True):
        team = cut(name, width).ljust(width)
        if styled and row.kind != "team":
            team = DIM + team + PLAIN
        cells = " ".join(map(cell, row.cells))
        lines.append(f"{_rank(row):>4}  {team} {row.total:>7.3f} {cells}")
    lines.append(f"{BOLD}bold{PLAIN}: submitted   {DIM}dim{PLAIN}: default score" if styled
                 else "~: a default score (nothing submitted)")
    if standings.board is not None and standings.board.note:
        lines.append(standings.board.note)
    return "\n".join(lines) + "\n"


def board_narrow(standings, rows) -> str:
    """The board in 80 columns: rank, team (cut to fit), total, datasets submitted, the best three."""
    phase = standings.phase.id if standings.phase else "-"
    n = len(standings.datasets)
    lines = [f"phase {phase} · {len(standings.rows)} teams · maximum {standings.max_total:g} points",
             f"{'#':>4}  {'team':<28} {'total':>7} {'sub':>5}  best datasets (id:score)"]
    for row in rows:
        team = row.team if len(row.team) <= 28 else row.team[:27] + "…"
        done = [(c.score, ds.id) for ds, c in zip(standings.datasets, row.cells, strict=True) if c.submitted]
        best = " ".join(f"{ds_id}:{score:.3f}" for score, ds_id in sorted(done, key=lambda x: -x[0])[:3])
        lines.append(f"{_rank(row):>4}  {team:<28} {row.total:>7.3f} {len(done):>2}/{n:<2}  {best or '—'}")
    return "\n".join(line[:80] for line in lines) + "\n"


def board_csv(standings, rows) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "team", "total", "submitted", "last_submitted",
                     *[f"{ds.id}_{ds.name}" for ds in standings.datasets]])
    for row in rows:
        last = "" if row.last_submitted is None else f"{datetime.fromtimestamp(row.last_submitted, UTC):%Y-%m-%dT%H:%M:%SZ}"
        writer.writerow([_rank(row), row.team, f"{row.total:.6f}", sum(c.submitted for c in row.cells), last,
                         *[f"{c.score:.6f}" for c in row.cells]])  # the counted score: a default where not submitted
    return out.getvalue()


# --- datasets -----------------------------------------------------------------------------

@main.group()
def datasets() -> None:
    """Write synthetic datasets. They follow the Hackathon42 layout."""


@datasets.command("synth")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="The event file whose datasets to write (default: HACKBOT_CONFIG from the environment or .env).")
@click.option("--phase", default=None, help="Write only this phase's datasets (default: every dataset).")
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(min=1),
              help="The number of target rows (X_val) of each dataset.")
@click.option("--seed", default=0, show_default=True, type=int, help="The random seed: the same seed writes the same data.")
def datasets_synth(out: Path, config_path: Path | None, phase: str | None, rows: int, seed: int) -> None:
    """Write synthetic datasets. One per dataset of the event file, into OUT/<id>_<name>/; OUT ignores itself
    in git, since it holds the hidden labels."""
    from rich.progress import Progress

    from bot.core.synth import write_synthetic

    config_path = config_path or settings_from_environment().hackbot_config
    if config_path is None:
        fail("which event? pass --config FILE or set HACKBOT_CONFIG (in the environment or .env)")
    config = load_config(config_path, check_data=False)
    if phase and config.phase(phase) is None:
        fail(f"no phase {phase!r} in {config_path}; its phases are: {', '.join(p.id for p in config.phases) or 'none'}")
    chosen = config.datasets_in_phase(phase) if phase else config.datasets
    say(f"event {config.event.name!r} ({config_path}); writing to {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        keep_out_of_git(out)
        with Progress(console=err_console) as progress:
            task = progress.add_task(f"writing {len(chosen)} datasets", total=len(chosen))
            write_synthetic(out, chosen, rows=rows, seed=seed, progress=lambda ds: progress.advance(task))
    except OSError as exc:
        where = exc.filename or out
        fail(f"cannot write the datasets to {out}: {where}: {exc.strerror or exc}; choose a folder you can "
             "create and write to")
    console.print(f"wrote {len(chosen)} datasets of {rows} target rows to {out} (git ignores the folder: it holds "
                  "the hidden labels)")


# --- matchmaking --------------------------------------------------------------------------

@main.group()
def lfg() -> None:
    """Manage the matchmaking pool. It holds the people looking for a team."""


@lfg.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@event_options
def lfg_import(file: Path, config_path: Path, db_path: str) -> None:
    """Add people from a CSV file to the pool. Its columns: discord_id,name,topics,experience,timezone,skills
    (topics and skills separated by ';'). Bad rows are reported with their line; good rows are kept."""
    text = read_csv_text(file)
    saved, errors = with_services(config_path, db_path, lambda s: s.lfg.import_csv(text))
    for line, reason in errors:
        err_console.print(escape(f"{file}:{line}: {reason}"), highlight=False, soft_wrap=True)
    console.print(f"{saved} people added to the matchmaking pool; {len(errors)} bad row(s)")
    if errors:
        sys.exit(2)


@main.command("match")
@click.option("--dry-run", is_flag=True, help="Show the proposed teams and create nothing.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="The random seed: the same pool and seed give the same teams.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"teams": [{"members", "shared_topics"}], "unplaced", "objective", "random_objective"} as JSON.')
@event_options
def match_command(dry_run: bool, seed: int, as_json: bool, config_path: Path, db_path: str) -> None:
    """Match the pool into teams. Recruiting teams are filled first; without --dry-run the teams are created;
    the running bot makes their Discord roles and channels and tells the people matched (the outbox)."""
    async def action(s: Services):
        result = await s.lfg.propose(seed=seed)
        return result, (None if dry_run else await s.lfg.apply(result))

    result, applied = with_services(config_path, db_path, action)
    if as_json:
        out = result.as_json()
        if applied is not None:
            out["created"] = [{"team": t.team.name, "members": t.members} for t in applied.teams]
            out["notes"] = [note.text() for note in applied.notes]
        click.echo(json.dumps(out))
        return
    table = Table("#", "team", "members", "shared topics", "experience")
    for i, proposed in enumerate(result.teams, 1):
        kind = f"existing #{proposed.existing_team}" if proposed.existing_team is not None else "new"
        levels = ", ".join(f"{proposed.levels.count(x)} {x}" for x in ("newcomer", "some", "expert")
                           if proposed.levels.count(x))
        table.add_row(str(i), kind, " ".join(proposed.members), escape(", ".join(proposed.shared_topics) or "-"), levels)
    console.print(table)
    ratio = f" ({result.objective / result.random_objective:.2f}x)" if result.random_objective > 0 else ""
    console.print(f"objective {result.objective:.1f}; random {result.random_objective:.1f}{ratio}; "
                  f"greedy {result.greedy_objective:.1f}")
    if result.unplaced:
        console.print(f"unplaced: {' '.join(result.unplaced)}")
    for warning in result.warnings:
        console.print(f"[yellow]{escape(warning)}[/yellow]", highlight=False)
    if applied is not None:
        console.print(f"{len(applied.teams)} team(s) created or filled")
        for note in applied.notes:
            console.print(f"  {escape(note.text())}", highlight=False)
    else:
        console.print("dry run: nothing created")


# --- judging ------------------------------------------------------------------------------

def _print_judging(config: EventConfig) -> None:
    """The [judging] rounds and the [[prizes]] in `hackbot config check`'s summary."""
    for rnd in config.judging.rounds:
        pool = "every eligible project"
        if rnd.shortlist:
            pool = f"top {rnd.shortlist.top} of {rnd.shortlist.source}"
            pool += f" + top {rnd.shortlist.per_category} per category" if rnd.shortlist.per_category else ""
            pool += " + ties" if rnd.shortlist.ties else ""
            pool += " + requests" if rnd.shortlist.requests else ""
        if rnd.opt_in:
            pool += f" opted into {rnd.opt_in}"
        panels = ", ".join(p.id for p in config.judging.panels_of(rnd))
        criteria = f", {len(rnd.criteria)} criteria" if rnd.criteria else ""
        checklist = f", checklist of {len(rnd.checklist)}" if rnd.checklist else ""
        console.print(f"round {rnd.id} ({rnd.mode}{criteria}{checklist}) {_when(rnd.opens)} → {_when(rnd.closes)}: "
                      f"{rnd.reviews_per_project} review(s) per project, {pool}; panels {panels}", highlight=False,
                      markup=False)
    for prize in config.prizes:
        limits = [f"category {prize.category}"] if prize.category else []
        limits += ["opt-in"] if prize.opt_in else []
        limits += [f"excludes {', '.join(prize.excludes)}"] if prize.excludes else []
        console.print(f"prize {prize.id}: {prize.title!r}, {prize.places} place(s) from {prize.source}"
                      + (f" ({'; '.join(limits)})" if limits else ""), highlight=False, markup=False)


@main.group(cls=LazyGroup)
def judging() -> None:
    """Plan, check and export the judging.

    Reviews, judge-hours, how often the right winners are found, projects short of reviews, results."""


@judging.command("plan")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="The event file (default: HACKBOT_CONFIG from the environment or .env).")
@click.option("--simulate", is_flag=True, help="Play each round many times with judges as [judging.simulation] says.")
@click.option("--projects", type=click.IntRange(min=1), default=None, help="Projects expected [default: the event file's].")
@click.option("--judges", type=click.IntRange(min=1), default=None, help="Judges per panel [default: expected_judges].")
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Simulated runs [default: [judging.simulation] runs].")
@click.option("--seed", default=0, show_default=True, type=int, help="The simulation's random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def judging_plan(config_path: Path | None, simulate: bool, projects: int | None, judges: int | None, runs: int | None,
                 seed: int, as_json: bool) -> None:
    """Plan each judging round.

    How many reviews and judge-hours each round needs, whether its window suffices, and (--simulate)
    how often it finds the true winners with this many judges and reviews. Needs only the event file."""
    import dataclasses

    from rich.markup import escape
    from rich.progress import Progress

    from bot.core.judging_plan import RoundPlan, plan_judging

    config_path = config_path or settings_from_environment().hackbot_config
    if config_path is None:
        fail("which event? pass --config FILE or set HACKBOT_CONFIG (in the environment or .env)")
    config = load_config(config_path, check_data=False)
    announce(config, config_path, None)
    if not config.judging.rounds:
        err_console.print(f"{config_path} has no [[judging.rounds]]; add them to plan the judging", markup=False)
        sys.exit(1)
    plans: list[RoundPlan]
    if simulate and not as_json:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("simulating the rounds", total=1)
            plans = plan_judging(config, projects=projects, judges=judges, simulate=True, runs=runs, seed=seed)
            bar.update(task, completed=1)
    else:
        plans = plan_judging(config, projects=projects, judges=judges, simulate=simulate, runs=runs, seed=seed)
    if as_json:
        console.print_json(json.dumps([dataclasses.asdict(p) for p in plans]))
        return
    for plan in plans:
        console.print(f"[bold]round {plan.round}[/bold] ({plan.mode}): {plan.projects} projects ({escape(plan.projects_note)})",
                      highlight=False)
        table = Table("panel", "judges", "projects", "reviews", "per judge", "h per judge", "fewest judges that fit",
                      box=None)
        for panel in plan.panels:
            table.add_row(panel.panel, "?" if panel.judges is None else str(panel.judges), str(panel.projects),
                          str(panel.reviews), str(panel.reviews_per_judge), f"{panel.hours_per_judge:.1f}",
                          "-" if panel.judges_needed is None else str(panel.judges_needed))
        console.print(table)
        console.print(f"  {plan.reviews} reviews, {plan.judge_hours:.1f} judge-hours; {plan.verdict}",
                      highlight=False, markup=False, style="green" if plan.fits else ("red" if plan.fits is False else None))
        for problem in plan.problems:
            console.print(f"  {problem}", style="yellow", markup=False, highlight=False)
        if plan.simulation:
            sim = plan.simulation
            what = f"the true top {sim.top_k}" + (f" inside its top {sim.chosen}" if sim.chosen != sim.top_k else "")
            table = Table("reviews / project", "h per judge", "all found (model)", "found on average (model)",
                          "all found (raw mean)", "found on average (raw mean)",
                          title=f"{sim.runs} simulated runs: how often round {plan.round} finds {what}", box=None)
            for point in sim.points:
                table.add_row(str(point.reviews_per_project), f"{point.hours_per_judge:.1f}", f"{point.found:.0%}",
                              f"{point.recall:.0%}", f"{point.found_raw:.0%}", f"{point.recall_raw:.0%}")
            console.print(table)


# --- database and phase -------------------------------------------------------------------

@main.group("db")
def db_group() -> None:
    """Check, migrate and copy the database.

    Its migrations, and moving an event from SQLite to PostgreSQL."""


def store_action(config_path: Path, db_path: str, action: Callable[[Store], Awaitable[T]]) -> T:
    """Run action(store) on the event's database without migrating it: one message and exit 1 on
    failure. Only the event file's name and the database are needed (not the hidden labels)."""
    config = load_config(config_path, check_data=False)
    check_db_path(db_path)
    announce(config, config_path, db_path)

    async def main() -> T:
        store = await Store.open(db_path, migrate=False)
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except FAILURES as exc:
        message = problem_of(exc, db_path)
        if message is None:
            raise
        fail(message)


@db_group.command("status")
@event_options
def db_status(config_path: Path, db_path: str) -> None:
    """Show the database's migrations.

    The dialect, the database (without its password), the migrations applied with their checksums,
    the pending ones, and any applied one whose file was edited since (exit 1)."""
    if not is_url(db_path) and not Path(db_path).exists():
        announce(load_config(config_path, check_data=False), config_path, db_path)
        console.print(f"no database at {db_path} yet: it is created, with every migration, at the first start",
                      highlight=False)
        return

    async def action(store: Store):
        return await store.status()

    status = store_action(config_path, db_path, action)
    console.print(f"[bold]{status.dialect}[/bold] database {escape(status.target)}", highlight=False)
    table = Table("version", "name", "checksum (sha256)", "applied (UTC)", "state")
    for m in status.applied:
        state = {"ok": "ok", "edited": "[red]EDITED[/red]", "unknown": "[yellow]not in this release[/yellow]",
                 "unrecorded": "no checksum yet (recorded at the next start)"}[m.state]
        applied = datetime.fromtimestamp(m.applied_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(f"{m.version:04d}", m.name, (m.checksum or "-")[:16], applied, state)
    console.print(table)
    if status.pending:
        console.print(f"{len(status.pending)} pending: {', '.join(m.name for m in status.pending)}"
                      " (applied at the next start, or by `hackbot db migrate`)")
    else:
        console.print("up to date: no pending migration")
    if status.edited:
        fail(str(edited_error(status)))


@db_group.command("lease")
@event_options
def db_lease(config_path: Path, db_path: str) -> None:
    """Show who holds the Discord gateway.

    The process holding the gateway lease (`hackbot run --role bot|all`), its epoch, and when the
    lease expires unless renewed; a standby takes over once it has expired."""
    from bot.core.lease import lease_status

    async def action(store: Store):
        if "gateway_lease" not in await store.tables():
            return None
        return await lease_status(store)

    status = store_action(config_path, db_path, action)
    if status is None:
        console.print("this database has no gateway lease yet: it is created at the next start", highlight=False)
    elif status.free:
        console.print(f"the gateway lease is free (epoch {status.epoch}): the next bot process to start takes it",
                      highlight=False)
    else:
        console.print(f"the gateway is held by {escape(status.holder or '')} (epoch {status.epoch}, for "
                      f"{status.held_for or 0:.0f} s); the lease expires in {status.expires_in:.1f} s unless renewed",
                      highlight=False)


@db_group.command("migrate")
@click.option("--dry-run", is_flag=True, help="List the migrations that would be applied; apply none.")
@event_options
def db_migrate(dry_run: bool, config_path: Path, db_path: str) -> None:
    """Apply the pending migrations now.

    The bot applies them at start too. Several processes may run this at once: each migration is
    applied once."""
    async def action(store: Store):
        return store.target, await store.migrate(dry_run=dry_run)

    target, done = store_action(config_path, db_path, action)
    if not done:
        console.print(f"{escape(target)} is up to date: no pending migration", highlight=False)
        return
    verb = "would apply" if dry_run else "applied"
    console.print(f"{escape(target)}: {verb} {len(done)} migration(s):", highlight=False)
    for m in done:
        console.print(f"  {m.name}  ({m.filename}, sha256 {m.checksum[:16]})", highlight=False)


@db_group.command("copy")
@click.option("--from", "source", required=True, help="The event's SQLite database file.")
@click.option("--to", "target", required=True,
              help="An empty database: a postgresql:// URL (or a new SQLite file).")
def db_copy(source: str, target: str) -> None:
    """Copy an event's database into an empty one.

    From SQLite to PostgreSQL, say: every table in dependency order, in one transaction; the row
    counts and the event's invariants are checked on both sides."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from bot.core.store_copy import CopyError, copy_database

    check_db_path(source)
    check_db_path(target)
    say(f"copying database {redact(source)} into {redact(target)}")
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total)
            bar.update(tasks[table], completed=done)

        try:
            report = asyncio.run(copy_database(source, target, progress=progress))
        except CopyError as exc:
            bar.stop()
            fail(str(exc))
        except FAILURES as exc:
            bar.stop()
            message = problem_of(exc, target)
            if message is None:
                raise
            fail(message)
    table = Table("table", "rows in source", "rows in target", "", title=f"{report.source} -> {report.target}")
    for t in report.tables:
        table.add_row(t.table, f"{t.source_rows:,}", f"{t.target_rows:,}",
                      "ok" if t.source_rows == t.target_rows else "[red]DIFFERS[/red]")
    console.print(table)
    for problem in report.target_problems:
        err_console.print(f"[red]the target breaks an invariant: {escape(problem)}[/red]", highlight=False)
    if not report.ok:
        sys.exit(1)
    console.print(f"[green]copied {sum(t.target_rows for t in report.tables):,} rows; the invariants hold on both sides."
                  f"[/green] Run the event with --db {escape(report.target)} (the password as you gave it)",
                  highlight=False)


@main.group("phase")
def phase_group() -> None:
    """Show or set the current phase.

    The command-line twins of /admin phase show and /admin phase set."""


@phase_group.command("show")
@event_options
def phase_show(config_path: Path, db_path: str) -> None:
    """Show the current phase.

    Whether it was set by hand, and when each phase starts. This works on a read-only database too."""
    status = with_services(config_path, db_path, lambda s: s.phases.status(s.clock()), readonly=True)
    if status.current is None:
        console.print("No phase is open yet.")
    else:
        how = "set by hand (`hackbot phase set auto` returns to the schedule)" if status.override else "from the schedule"
        console.print(f"Current phase: [bold]{status.current.id}[/bold], {how}.")
    for phase in status.phases:
        marker = " (current)" if status.current is not None and phase.id == status.current.id else ""
        console.print(f"  {phase.id}{marker}: starts {_when(phase.starts)}", highlight=False)


@phase_group.command("set")
@click.argument("phase_id", metavar="ID|auto")
@event_options
def phase_set(phase_id: str, config_path: Path, db_path: str) -> None:
    """Force a phase, or follow the schedule.

    Phase ID holds at once in every running process (their next request sees it); `auto` follows
    the schedule again. A phase that changed is announced in Discord as /admin phase set announces
    it: written to the outbox with the change, posted once by the bot process that holds the gateway."""
    auto = phase_id.strip().lower() == "auto"
    change = with_services(config_path, db_path,
                           lambda s: s.phases.set(None if auto else phase_id.strip(), s.clock(), announce=True))
    if change.current is None:
        console.print("Following the schedule: no phase is open yet.")
    else:
        console.print(f"The current phase is [bold]{change.current.id}[/bold]{' (from the schedule)' if auto else ''}"
                      f"{'' if change.changed else ' (unchanged)'}.")
    if change.changed:
        console.print("Its announcement is queued: the running bot posts it in Discord.")


# --- rehearse -----------------------------------------------------------------------------

@main.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The event file to rehearse; it is not modified.")
@click.option("--speed", type=float, default=None,
              help="Run N times faster than real time (default: the whole timeline in about 40 s).")
@click.option("--teams", type=click.IntRange(1, 5000), default=3, show_default=True,
              help="The number of simulated teams.")
@click.option("--participants", type=click.IntRange(1, 25000), default=None,
              help="The number of simulated people, shared out over the teams within the event's team sizes; "
                   "each captain runs /team create, the others /team join (default: 2 a team).")
@click.option("--active", type=click.IntRange(0), default=None,
              help="Only the first N teams reveal, submit and run their scripts (default: every team).")
@click.option("--web", "web", type=click.IntRange(0, 16), default=0, show_default=True,
              help="Run the event as one `hackbot run --role bot` process and N `--role web` processes (the HTTP "
                   "traffic spread over them) on the --db postgresql:// database, instead of one `--role all`.")
@click.option("--port", type=int, default=None, help="The port of the leaderboard page (default: a free one).")
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the rehearsal's files (event copy, database, bot log) in this folder.")
@click.option("--db", "db_path", default=None,
              help="An empty database to rehearse on, such as a postgresql:// URL (default: a new SQLite file in "
                   "the rehearsal's folder).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file as JSON: interactions, failed ones, refused Discord requests, "
                   "problems, reminders, the leaderboard, the outbox (rows written, sent, the time to drain after "
                   "the last write), the processes (roles, HTTP answers), and each act's section.")
def rehearse(config_path: Path, speed: float | None, teams: int, participants: int | None, active: int | None, web: int,
             port: int | None, keep_dir: Path | None, db_path: str | None, report_path: Path | None) -> None:
    """Dry-run the whole event. The real bot against a local Discord, simulated teams, time compressed."""
    import tempfile

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.sandbox.rehearse import rehearse as run_rehearsal

    config = load_config(config_path, check_data=False)
    if db_path:
        check_db_path(db_path)
    if web and not (db_path and is_url(db_path)):
        fail("--web runs several processes over one database: give it with --db postgresql://...")
    if participants is not None:
        from bot.sandbox.rehearse import Cast
        try:
            Cast(teams, participants=participants).sizes(config.teams.min_size, config.teams.max_size)
        except ValueError as exc:
            fail(str(exc))
    if report_path is not None and not report_path.parent.is_dir():  # said now, not after the whole rehearsal
        fail(f"cannot write the report to {report_path}: the folder {report_path.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="hackbot-rehearsal-") as tmp:
        folder = keep_dir or Path(tmp)
        where = f"database {redact(db_path)}" if db_path else "its own database"
        say(f"event {config.event.name!r} ({config_path}), rehearsed in {folder} on {where}")
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("event time", total=1.0)

            def progress(done: float, stamp: str) -> None:
                bar.update(task, completed=done, description=f"event time {stamp}")

            result = asyncio.run(run_rehearsal(config_path, folder, speed=speed, teams=teams, port=port,
                                               say=lambda text: console.print(text, highlight=False, markup=False),
                                               progress=progress, db=db_path, participants=participants,
                                               active=active, web=web))
    table = Table(title=f"Final leaderboard (phase {result['leaderboard'].get('phase')})")
    for column in ("rank", "team", "total"):
        table.add_column(column)
    for row in result["leaderboard"].get("teams", []):
        rank = str(row["rank"]) if row["rank"] is not None else row.get("kind", "-")  # a baseline is never ranked
        table.add_row(rank, row["team"], f"{row['total']:.3f}" if row["total"] is not None else "hidden")
    console.print(table)
    refused = result["refused_discord_requests"]
    console.print(f"{result['interactions']} interactions, {len(result['failed'])} failed; "
                  f"{len(refused)} refused Discord requests; {result['reminders']} reminder(s) posted; "
                  f"{result['wall_time_s']} s")
    box = result["outbox"]
    drained = (f"each sent {box['wait_p50_s']} s after it was written (median; longest {box['wait_max_s']} s)"
               if box["left"] == 0 and box["wait_p50_s"] is not None else f"{box['left']} left")
    console.print(f"outbox: {box['enqueued']} Discord side effects written, {box['sent']} sent, {box['failed']} failed;"
                  f" {drained}", highlight=False)
    if box["drain_after_last_write_s"] is not None:
        console.print(f"outbox drained {box['drain_after_last_write_s']} s after the last row was written; "
                      f"{box['duplicate_posts']} posted twice", highlight=False)
    for failure in box["failures"]:
        console.print(f"  - {failure}", highlight=False, markup=False)
    if web:
        console.print("processes: " + ", ".join(f"{p['role']} :{p['port']} ({p['http_answers']} HTTP answers)"
                                                for p in result["processes"]), highlight=False)
    acts = result.get("acts", {})
    if "tickets" in acts:
        t = acts["tickets"]
        console.print(f"help tickets: {t['opened']} opened, {t['claimed']} claimed, {t['resolved']} resolved; median "
                      f"time to claim {t['median_time_to_claim_s']} s ({t['median_time_to_claim_event']} in event time)",
                      highlight=False)
    if "perks" in acts:
        p = acts["perks"]
        console.print(f"perks: {p['claimed']} claimed, {p['distinct']} distinct codes, a repeated claim got the same "
                      f"code: {'yes' if p['repeat_gets_same_code'] else 'NO'}; {p['low_stock_warnings']} low-stock "
                      f"warning(s); codes in public messages: {p['codes_in_public_messages']}", highlight=False)
    if "votes" in acts:
        v = acts["votes"]
        reasons = ", ".join(f"{r['voter']} ({r['door']})" for r in v["refused"]) or "none"
        console.print(f"vote: {len(v['ballots_taken'])} ballot(s) taken; refused with their reason: {reasons}; "
                      f"results hidden while open: {v['results_hidden_while_open']}", highlight=False)
    for failure in result["failed"]:
        console.print(f"[red]failed interaction: {failure}[/red]", highlight=False)
    for request in refused:
        console.print(f"refused by Discord: {request['route']} ({request['status']} {request['code']}): "
                      f"{request['reason']}", style="red", highlight=False, markup=False)
    if report_path is not None:
        try:
            report_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write the report to {report_path}: {exc.strerror or exc}")
        console.print(f"report: {report_path}")
    if result["problems"]:
        console.print(f"[yellow]{len(result['problems'])} problem(s) in {config_path}:[/yellow]")
        for problem in result["problems"]:
            console.print(f"  - {problem}", highlight=False, markup=False)
    else:
        console.print(f"[green]no problem found in {config_path}[/green]")
    if result["failed"] or refused:
        sys.exit(1)


if __name__ == "__main__":
    # `python -m bot.cli` runs this file as __main__; bot.cli_mentoring registers its commands on
    # bot.cli's `main`, the module imported by name: run that one
    from bot.cli import main as registered

    registered()
