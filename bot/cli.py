"""`hackbot`: the command line. Every command takes --config and --db (or HACKBOT_CONFIG and
HACKBOT_DB); by default the database lives in .hackbot/<event file name>.sqlite3."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from pathlib import Path

import aiohttp
import click
from discord import LoginFailure
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bot.config import ConfigError, EventConfig, Settings, load_event
from bot.core.datasets import DataError
from bot.core.errors import HackbotError
from bot.core.services import Services

console = Console()
err_console = Console(stderr=True)

DEMO_CONFIG = Path("config/demo.toml")


def _default_db(config_path: Path) -> Path:
    return Path(".hackbot") / f"{config_path.stem}.sqlite3"


def event_options(fn):
    """--config and --db on a command, read from the environment when not given."""

    @click.option("--config", "config_path", type=click.Path(path_type=Path), envvar="HACKBOT_CONFIG",
                  default=DEMO_CONFIG, show_default=True, help="The event file.")
    @click.option("--db", "db_path", type=click.Path(path_type=Path), envvar="HACKBOT_DB", default=None,
                  help="The SQLite database file [default: .hackbot/<event>.sqlite3].")
    @functools.wraps(fn)
    def wrapper(config_path: Path, db_path: Path | None, **kwargs):
        return fn(config_path=config_path, db_path=db_path or _default_db(config_path), **kwargs)

    return wrapper


def _load(config_path: Path, *, check_data: bool = True) -> EventConfig:
    try:
        return load_event(config_path, check_data=check_data)
    except ConfigError as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        sys.exit(1)


def _with_services(config_path: Path, db_path: Path, action):
    config = _load(config_path)

    async def main():
        services = await Services.open(config, db_path)
        try:
            return await action(services)
        finally:
            await services.close()

    try:
        return asyncio.run(main())
    except DataError as exc:
        err_console.print(f"[red]the hidden labels cannot be loaded:\n{exc}[/red]", highlight=False)
        sys.exit(1)
    except HackbotError as exc:
        err_console.print(f"[red]{exc.message}[/red]", highlight=False)
        sys.exit(1)


@click.group()
def main() -> None:
    """Hackbot: run a hackathon or an ML competition end to end."""


# --- run ----------------------------------------------------------------------------------

def _serve(config: EventConfig, db_path: Path, host: str, port: int, settings: Settings, banner=None) -> None:
    from bot.app import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = settings.discord_token.get_secret_value() if settings.discord_token else None
    if token is None:
        console.print("DISCORD_TOKEN is not set: running the web server and the HTTP API only.")
    ready = asyncio.Event()

    async def main_task():
        task = asyncio.create_task(
            serve(config, db_path, host, port, discord_token=token, settings=settings, ready=ready)
        )
        await ready.wait()
        if banner:
            await banner()
        console.print(f"[bold green]Leaderboard:[/bold green] http://{host}:{port}/   (Ctrl-C to stop)")
        await task

    try:
        asyncio.run(main_task())
    except KeyboardInterrupt:
        console.print("stopped")
    except DataError as exc:
        err_console.print(f"[red]the hidden labels cannot be loaded:\n{exc}[/red]", highlight=False)
        sys.exit(1)
    except LoginFailure:
        err_console.print("[red]Discord refused DISCORD_TOKEN; copy it again from the Developer Portal[/red]")
        sys.exit(1)
    except aiohttp.ClientError as exc:
        err_console.print(f"[red]cannot reach Discord ({exc}); check the network, or unset DISCORD_TOKEN[/red]")
        sys.exit(1)
    except OSError as exc:
        err_console.print(f"[red]cannot serve on {host}:{port}: {exc.strerror}; choose another --port[/red]")
        sys.exit(1)


@main.command()
@event_options
@click.option("--host", envvar="HACKBOT_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="HACKBOT_PORT", default=8080, show_default=True, type=int)
def run(config_path: Path, db_path: Path, host: str, port: int) -> None:
    """Run the event: the web server and HTTP API (and the Discord bot when DISCORD_TOKEN is set)."""
    _serve(_load(config_path), db_path, host, port, Settings())


@main.command()
@click.option("--db", "db_path", type=click.Path(path_type=Path), envvar="HACKBOT_DB",
              default=_default_db(DEMO_CONFIG), show_default=True)
@click.option("--host", envvar="HACKBOT_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="HACKBOT_PORT", default=8080, show_default=True, type=int)
def demo(db_path: Path, host: str, port: int) -> None:
    """Run the bundled demo event: synthetic data on first run, a few teams, the leaderboard page."""
    from bot.core.synth import synthesize_event
    from bot.demo import seed_demo

    config = _load(DEMO_CONFIG, check_data=False)
    folders = [config.resolve(p.data_dir) for p in config.phases if p.data_dir]
    missing = [folder for folder in folders if not folder.exists()]
    if missing:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("writing demo datasets", total=len(config.datasets))
            synthesize_event(config, rows=1000)
            progress.update(task, completed=len(config.datasets))
        console.print(f"demo data written to {missing[0]}")
    config = _load(DEMO_CONFIG)

    async def banner():
        services = await Services.open(config, db_path)
        try:
            creds = await seed_demo(services)
        finally:
            await services.close()
        if creds is None:
            console.print(f"demo teams exist already in {db_path}; `hackbot team create NAME --validated` adds one")
            return
        url = f"http://{host}:{port}"
        console.print(f"Play as team [bold]{creds.team.name}[/bold]: username [bold]{creds.team.username}[/bold]"
                      f" password [bold]{creds.password}[/bold] (shown once)")
        console.print(f"  curl -F username={creds.team.username} -F password={creds.password}"
                      f" -F exercise_id=3 -F datum_id=456 {url}/reveal/", highlight=False, soft_wrap=True)

    _serve(config, db_path, host, port, Settings(), banner)


@main.command()
@event_options
def sync(config_path: Path, db_path: Path) -> None:
    """Register the slash commands with Discord (to HACKBOT_GUILD_ID's guild when set)."""
    from bot.app import Hackbot

    settings = Settings()
    if settings.discord_token is None:
        err_console.print("[red]DISCORD_TOKEN is not set; put it in the environment or in .env[/red]")
        sys.exit(1)
    config = _load(config_path)

    async def run_sync():
        bot = Hackbot(settings.model_copy(update={"hackbot_db": db_path}), config, serve_web=False)
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())
            return await bot.sync_commands(), bot.event_guild

    try:
        synced, guild = asyncio.run(run_sync())
    except LoginFailure:
        err_console.print("[red]Discord refused the token; copy it again from the Developer Portal (Bot tab)[/red]")
        sys.exit(1)
    except (OSError, aiohttp.ClientError) as exc:
        err_console.print(f"[red]cannot reach Discord ({exc}); check the network and try again[/red]")
        sys.exit(1)
    where = f"guild {guild.id}" if guild else "every guild (global commands can take up to an hour to appear)"
    console.print(f"synced {len(synced)} commands to {where}")


# --- config -------------------------------------------------------------------------------

@main.group("config")
def config_group() -> None:
    """Check event files."""


@config_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def config_check(file: Path) -> None:
    """Validate an event file: print its problems (exit 1) or a one-screen summary (exit 0)."""
    config = _load(file)
    ev = config.event
    console.print(f"[bold]{ev.name}[/bold]  ({file}, timezone {ev.timezone})")
    t = config.teams
    window = ""
    if t.formation_opens or t.formation_closes:
        window = f", formation {_when(t.formation_opens)} → {_when(t.formation_closes)}"
    console.print(f"teams: {t.min_size}-{t.max_size} members"
                  f"{', validated by organizers' if t.require_validation else ''}{window}")
    for phase in config.phases:
        ids = ", ".join(str(ds.id) for ds in config.datasets_in_phase(phase.id))
        console.print(f"phase [bold]{phase.id}[/bold] from {_when(phase.starts)}, data {phase.data_dir}: datasets {ids or '-'}")
    if config.datasets:
        table = Table("id", "name", "points", "default", "budget", "phases", box=None)
        for ds in config.datasets:
            table.add_row(str(ds.id), ds.name, f"{ds.points:g}", f"{ds.default_score:g}",
                          str(ds.reveal_budget), ", ".join(ds.phases or ["all"]))
        console.print(table)
        console.print(f"maximum total {sum(ds.points for ds in config.datasets):g} points;"
                      f" leaderboard {config.leaderboard.visibility}")
    s = config.submissions
    console.print(f"submissions: {_when(s.opens)} → {_when(s.closes)}, at most {s.max_bytes:,} bytes")
    console.print(f"schedule: {len(config.schedule)} items"
                  + (f", first {config.schedule[0].title!r} at {_when(config.schedule[0].at)}" if config.schedule else ""))
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

@main.group()
def team() -> None:
    """Create, list and validate teams."""


@team.command("create")
@click.argument("name")
@click.option("--validated", is_flag=True, help="Validate the team at once.")
@click.option("--json", "as_json", is_flag=True, help='Print {"team", "username", "password"}.')
@event_options
def team_create(name: str, validated: bool, as_json: bool, config_path: Path, db_path: Path) -> None:
    """Create a team and print its API username and password (shown once)."""
    creds = _with_services(config_path, db_path, lambda s: s.teams.create(name, validated=validated))
    if as_json:
        click.echo(json.dumps({"team": creds.team.name, "username": creds.team.username, "password": creds.password}))
        return
    console.print(f"team [bold]{creds.team.name}[/bold] created{' and validated' if validated else ''}")
    console.print(f"  username: {creds.team.username}\n  password: {creds.password}", highlight=False)
    console.print("The password is shown once; give it to the team.")


@team.command("list")
@event_options
def team_list(config_path: Path, db_path: Path) -> None:
    """List the teams."""
    async def action(s: Services):
        return [(t, await s.teams.members(t.id)) for t in await s.teams.list()]

    table = Table("team", "username", "validated", "members")
    for t, members in _with_services(config_path, db_path, action):
        table.add_row(t.name, t.username, "yes" if t.validated else "no", str(len(members)))
    console.print(table)


@team.command("validate")
@click.argument("name")
@event_options
def team_validate(name: str, config_path: Path, db_path: Path) -> None:
    """Validate a team so that it may reveal and submit."""
    t = _with_services(config_path, db_path, lambda s: s.teams.validate(name))
    console.print(f"team [bold]{t.name}[/bold] is validated")


# --- leaderboard --------------------------------------------------------------------------

@main.command()
@click.option("--phase", default=None, help="A phase id [default: the current phase].")
@click.option("--json", "as_json", is_flag=True)
@event_options
def leaderboard(phase: str | None, as_json: bool, config_path: Path, db_path: Path) -> None:
    """Print the leaderboard (organizers see scores even while it is hidden)."""
    standings = _with_services(config_path, db_path, lambda s: s.leaderboard.standings(phase, organizer=True))
    if as_json:
        click.echo(json.dumps(standings.to_api()))
        return
    table = Table("#", "team", "total", *[str(ds.id) for ds in standings.datasets],
                  title=f"phase {standings.phase.id if standings.phase else '-'}")
    for row in standings.rows:
        cells = [f"[bold]{c.score:.3f}[/bold]" if c.submitted else f"[dim]{c.score:.3f}[/dim]" for c in row.cells]
        table.add_row(str(row.rank), row.team, f"{row.total:.3f}", *cells)
    console.print(table)
    console.print("[bold]bold[/bold]: submitted   [dim]dim[/dim]: default score")


# --- datasets -----------------------------------------------------------------------------

@main.group()
def datasets() -> None:
    """Synthetic datasets in the Hackathon42 layout."""


@datasets.command("synth")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar="HACKBOT_CONFIG",
              default=DEMO_CONFIG, show_default=True)
@click.option("--db", "db_path", type=click.Path(path_type=Path), envvar="HACKBOT_DB", default=None,
              help="Unused; accepted like every command.")
@click.option("--phase", default=None, help="Only this phase's datasets [default: all].")
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
def datasets_synth(out: Path, config_path: Path, db_path, phase: str | None, rows: int, seed: int) -> None:
    """Write synthetic datasets for the event file's datasets into OUT/<id>_<name>/."""
    from bot.core.synth import write_synthetic

    config = _load(config_path, check_data=False)
    chosen = config.datasets_in_phase(phase) if phase else config.datasets
    if phase and config.phase(phase) is None:
        err_console.print(f"[red]no phase {phase!r} in {config_path}[/red]")
        sys.exit(1)
    with Progress(console=console) as progress:
        task = progress.add_task(f"writing {len(chosen)} datasets", total=len(chosen))
        write_synthetic(out, chosen, rows=rows, seed=seed, progress=lambda ds: progress.advance(task))
    console.print(f"wrote {len(chosen)} datasets of {rows} target rows to {out}")


# --- matchmaking --------------------------------------------------------------------------

@main.group()
def lfg() -> None:
    """The matchmaking pool: people looking for a team."""


@lfg.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@event_options
def lfg_import(file: Path, config_path: Path, db_path: Path) -> None:
    """Add the people of FILE.csv to the pool: columns discord_id,name,topics,experience,timezone,skills
    (topics and skills separated by ';'). Bad rows are reported with their line; good rows are kept."""
    text = file.read_text(encoding="utf-8-sig")
    saved, errors = _with_services(config_path, db_path, lambda s: s.lfg.import_csv(text))
    for line, reason in errors:
        err_console.print(f"{file}:{line}: {reason}", highlight=False)
    console.print(f"{saved} people added to the matchmaking pool; {len(errors)} bad row(s)")
    if errors:
        sys.exit(2)


@main.command("match")
@click.option("--dry-run", is_flag=True, help="Show the proposed teams; create nothing.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same pool and seed, same teams.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"teams": [{"members", "shared_topics"}], "unplaced", "objective", "random_objective"}.')
@event_options
def match_command(dry_run: bool, seed: int, as_json: bool, config_path: Path, db_path: Path) -> None:
    """Match the pool into teams (recruiting teams first). Without --dry-run the teams are created;
    their Discord roles and channels follow at the next /admin setup."""
    async def action(s: Services):
        result = await s.lfg.propose(seed=seed)
        return result, (None if dry_run else await s.lfg.apply(result))

    result, applied = _with_services(config_path, db_path, action)
    if as_json:
        out = result.as_json()
        if applied is not None:
            out["created"] = [{"team": t.team.name, "members": t.members} for t in applied.teams]
            out["notes"] = applied.notes
        click.echo(json.dumps(out))
        return
    table = Table("#", "team", "members", "shared topics", "experience")
    for i, team in enumerate(result.teams, 1):
        kind = f"existing #{team.existing_team}" if team.existing_team is not None else "new"
        levels = ", ".join(f"{team.levels.count(x)} {x}" for x in ("newcomer", "some", "expert") if team.levels.count(x))
        table.add_row(str(i), kind, " ".join(team.members), ", ".join(team.shared_topics) or "-", levels)
    console.print(table)
    ratio = f" ({result.objective / result.random_objective:.2f}x)" if result.random_objective > 0 else ""
    console.print(f"objective {result.objective:.1f}; random {result.random_objective:.1f}{ratio}; "
                  f"greedy {result.greedy_objective:.1f}")
    if result.unplaced:
        console.print(f"unplaced: {' '.join(result.unplaced)}")
    for warning in result.warnings:
        console.print(f"[yellow]{warning}[/yellow]", highlight=False)
    if applied is not None:
        console.print(f"{len(applied.teams)} team(s) created or filled")
        for note in applied.notes:
            console.print(f"  {note}", highlight=False)
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


@main.group()
def judging() -> None:
    """Plan the judging: reviews, judge-hours, and how often the right winners are found."""


@judging.command("plan")
@click.option("--config", "config_path", type=click.Path(path_type=Path), envvar="HACKBOT_CONFIG",
              default=DEMO_CONFIG, show_default=True, help="The event file.")
@click.option("--simulate", is_flag=True, help="Play each round many times with judges as [judging.simulation] says.")
@click.option("--projects", type=click.IntRange(min=1), default=None, help="Projects expected [default: the event file's].")
@click.option("--judges", type=click.IntRange(min=1), default=None, help="Judges per panel [default: expected_judges].")
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Simulated runs [default: [judging.simulation] runs].")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def judging_plan(config_path: Path, simulate: bool, projects: int | None, judges: int | None, runs: int | None,
                 seed: int, as_json: bool) -> None:
    """How many reviews and judge-hours each round needs, whether its window suffices, and (--simulate)
    how often it finds the true winners with this many judges and reviews. Needs only the event file."""
    import dataclasses

    from rich.markup import escape

    from bot.core.judging_plan import RoundPlan, plan_judging

    config = _load(config_path, check_data=False)
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


# --- rehearse -----------------------------------------------------------------------------

@main.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The event file to rehearse (it is not modified)")
@click.option("--speed", type=float, default=None, help="N times real speed (default: the whole timeline in ~40 s)")
@click.option("--teams", type=click.IntRange(1, 50), default=3, show_default=True, help="Simulated teams")
@click.option("--port", type=int, default=None, help="Port of the leaderboard page (default: a free one)")
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the rehearsal's files (event copy, database, bot log) in this folder")
def rehearse(config_path: Path, speed: float | None, teams: int, port: int | None, keep_dir: Path | None) -> None:
    """Dry-run the whole event against a local Discord: the real bot, simulated teams, time compressed."""
    import tempfile

    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    from bot.sandbox.rehearse import rehearse as run_rehearsal

    try:
        load_event(config_path, check_data=False)
    except ConfigError as exc:
        err_console.print(f"[red]{exc.render()}[/red]", highlight=False)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="hackbot-rehearsal-") as tmp:
        folder = keep_dir or Path(tmp)
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("event time", total=1.0)

            def progress(done: float, stamp: str) -> None:
                bar.update(task, completed=done, description=f"event time {stamp}")

            result = asyncio.run(run_rehearsal(config_path, folder, speed=speed, teams=teams, port=port,
                                               say=lambda text: console.print(text, highlight=False, markup=False),
                                               progress=progress))
    table = Table(title=f"Final leaderboard (phase {result['leaderboard'].get('phase')})")
    for column in ("rank", "team", "total"):
        table.add_column(column)
    for row in result["leaderboard"].get("teams", []):
        table.add_row(str(row["rank"]), row["team"], f"{row['total']:.3f}" if row["total"] is not None else "hidden")
    console.print(table)
    console.print(f"{result['interactions']} interactions, {len(result['failed'])} failed; "
                  f"{result['reminders']} reminder(s) posted")
    for failure in result["failed"]:
        console.print(f"[red]failed interaction: {failure}[/red]", highlight=False)
    if result["problems"]:
        console.print(f"[yellow]{len(result['problems'])} problem(s) in {config_path}:[/yellow]")
        for problem in result["problems"]:
            console.print(f"  - {problem}", highlight=False, markup=False)
    else:
        console.print(f"[green]no problem found in {config_path}[/green]")
    if result["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
