"""`hackbot projects ...`: export the projects (JSON, Devpost's CSV), the moderation queue and
verdicts, one team's extended deadline, and the scheduled work run by hand. Registered on
`hackbot` by bot/cli.py; each command calls the same service as /project and /admin do."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot.cli import console, event_options, fail, load_config, main, settings_from_environment, with_services
from bot.config import parse_event_time, parse_timezone
from bot.core.errors import HackbotError
from bot.core.services import Services

ORGANIZER = "cli"


@main.group(short_help="Export, moderate and extend projects.")
def projects() -> None:
    """Export, moderate and extend the teams' projects.

    What teams hand in with /project submit or POST /api/projects, for the organizers."""


@projects.command("export", short_help="Export the handed-in projects.")
@click.option("--format", "fmt", type=click.Choice(["json", "devpost-csv"]), default="json", show_default=True,
              help="JSON, or the columns of Devpost's project export (for judging elsewhere).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of the standard output.")
@event_options
def projects_export(fmt: str, out: Path | None, config_path: Path, db_path: str) -> None:
    """Export the handed-in projects (drafts are left out).

    Each with its repository, the commit at the deadline, the commits after it, its demo, the
    organizers' verdict and the checks' warnings. This works on a read-only database too."""
    text = with_services(config_path, db_path, lambda s: s.projects.export(fmt), readonly=True)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {escape(str(out))}")


@projects.command("moderate", short_help="Rule on projects, or list the queue.")
@click.argument("team", required=False)
@click.argument("verdict", type=click.Choice(["eligible", "maybe", "ineligible"]), required=False)
@click.option("--reason", default="", help="Why; the team is told (required for ineligible).")
@event_options
def projects_moderate(team: str | None, verdict: str | None, reason: str, config_path: Path, db_path: str) -> None:
    """List the moderation queue, or rule on one team's project.

    Without arguments it lists the submitted projects, pending first, with the repository checks'
    warnings and flags. With TEAM and VERDICT it records the verdict: only eligible projects enter
    judging and the votes. The running bot tells the team in its channel (the notice is queued in
    the database with the verdict; `hackbot outbox status` shows it)."""
    if team is None:
        queue = with_services(config_path, db_path, lambda s: s.projects.queue(), readonly=True)
        table = Table("team", "title", "verdict", "repository", "checks")
        for p in queue:
            notes = "; ".join(n.message for n in (*p.warnings, *p.flags)) or ("unverified" if p.verified is None else "ok")
            table.add_row(escape(p.team_name), escape(p.title), p.moderation, escape(p.repo_url or "-"), escape(notes))
        console.print(table if queue else "no submitted project yet")
        console.print("on the web: /organizers/projects?key=... (the key of `hackbot organizers link`)")
        return
    if verdict is None:
        fail("give the verdict after the team: eligible, maybe or ineligible")
    ruled = with_services(config_path, db_path, lambda s: s.projects.moderate(team, verdict, reason, ORGANIZER))
    name = escape(ruled.project.team_name)
    if ruled.notice_key is None:
        console.print(f"team {name}: already {verdict} with this reason; nothing changed, the team is not told again")
        return
    console.print(f"team {name}: {verdict}. The bot tells the team in its channel (outbox {ruled.notice_key}): "
                  f"{escape(ruled.notice)}")


@projects.command("extend", short_help="Extend one team's project deadline.")
@click.argument("team")
@click.option("--until", "until", required=True, help="The team's new deadline, e.g. \"2024-11-25 18:00 AoE\".")
@click.option("--reason", required=True, help="Why (judges see it).")
@event_options
def projects_extend(team: str, until: str, reason: str, config_path: Path, db_path: str) -> None:
    """Extend one team's project deadline, with a reason judges see.

    The team may change its project until then; the other teams stay locked at the event's deadline."""
    config = load_config(config_path)
    try:
        when = parse_event_time(until, parse_timezone(config.event.timezone), datetime.now(UTC))
    except ValueError as exc:
        fail(f"--until: {exc}")
    project = with_services(config_path, db_path, lambda s: s.projects.extend(team, when, reason, ORGANIZER))
    console.print(f"team {escape(project.team_name)} may change its project until {when:%Y-%m-%d %H:%M} UTC")


@projects.command("check")
@event_options
def projects_check(config_path: Path, db_path: str) -> None:
    """Run the projects' scheduled work now.

    Checks again the repositories left unverified, records the commit at each passed deadline and
    counts the commits after it; the running bot does this every minute by itself."""
    settings = settings_from_environment()

    async def action(services: Services):
        from bot.app import close_github, use_github
        from bot.core.project_jobs import ProjectRunner, log_notify

        use_github(services, settings, services.clock)
        try:
            return await ProjectRunner(services.projects, log_notify()).tick()
        finally:
            await close_github(services)

    try:
        result = with_services(config_path, db_path, action)
    except HackbotError as exc:
        fail(exc.message)
    console.print(f"re-checked {result.rechecked}, deadline commits recorded {result.snapshots}, "
                  f"after-deadline counts {result.counted}, draft reminders {result.reminded}")


@projects.command("bundles", short_help="List the teams' code bundles.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each team's zip and explanations into this folder (for the jury).")
@event_options
def projects_bundles(out: Path | None, config_path: Path, db_path: str) -> None:
    """List the teams' code bundles (Hackathon42), for organizers and judges.

    Each team's zip (name, size, sha256) and which datasets it explained; with --out, the zips and
    the explanations are written to a folder, one subfolder per team."""
    async def action(services: Services):
        bundles = await services.bundles.all()
        wanted = services.bundles.datasets()
        files = {b.sha256: await services.bundles.data(b.sha256) for b in bundles if out is not None and b.sha256}
        return bundles, wanted, files

    bundles, wanted, files = with_services(config_path, db_path, action, readonly=True)
    table = Table("team", "zip", "bytes", "sha256", "explained", "missing")
    for b in bundles:
        table.add_row(escape(b.team_name), escape(b.filename), f"{b.size:,}", (b.sha256 or "")[:12],
                      ", ".join(sorted(b.explanations)), ", ".join(map(str, b.missing(wanted))))
    console.print(table if bundles else "no bundle yet")
    if out is None:
        return
    for b in bundles:
        folder = out / "".join(c if c.isalnum() or c in "-_" else "_" for c in b.team_name)
        folder.mkdir(parents=True, exist_ok=True)
        if b.sha256:
            (folder / "code.zip").write_bytes(files[b.sha256])
        for key, text in b.explanations.items():
            (folder / f"explanation-{key}.txt").write_text(text + "\n", encoding="utf-8")
    console.print(f"wrote {len(bundles)} team folder(s) under {escape(str(out))}")
