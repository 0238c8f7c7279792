"""`hackbot mentoring ...`, `hackbot perks ...` and `hackbot organizers ...`: the help queue's
report and mentor assignment, the perk codes, and the organizers' secret links. Registered on
`hackbot` by bot/cli.py. Perk codes are never printed: only how many are left and who claimed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from bot.cli import console, err_console, event_options, main, read_csv_text, settings_from_environment, with_services
from bot.core.services import Services

if TYPE_CHECKING:  # `hackbot leaderboard` starts faster without
    from bot.core.mentoring import MentoringReport


def report_json(report: MentoringReport) -> dict:
    def q(value) -> float | None:
        return None if value.value is None else round(value.value.total_seconds() / 60, 2)

    return {
        "now": report.now.isoformat(),
        "open": report.open,
        "claimed": report.claimed,
        "tags": [
            {"tag": r.tag, "opened": r.opened, "claimed": r.claimed, "resolved": r.resolved, "waiting": r.waiting,
             "claim_median_min": q(r.claim_median), "claim_p90_min": q(r.claim_p90),
             "resolve_median_min": q(r.resolve_median), "resolve_p90_min": q(r.resolve_p90)}
            for r in report.tags
        ],
        "uncovered_tags": report.uncovered,
        "on_duty": {mentor: list(tags) for mentor, tags in report.on_duty.items()},
        "mentors": [{"mentor": r.mentor, "ratings": r.count, "mean": round(r.mean, 3), "score": round(r.score, 3)}
                    for r in report.ratings],
    }


@main.group()
def mentoring() -> None:
    """Report on help tickets and assign mentors.

    The help queue's times, coverage and ratings, and mentors assigned to teams."""


@mentoring.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (minutes as numbers).")
@event_options
def mentoring_report(as_json: bool, config_path: Path, db_path: str) -> None:
    """Report the help queue's times and ratings.

    Per tag, the median and 90th percentile time to claim and to resolve; the tags no mentor on duty
    covers; mentors ranked by their weighted rating. This works on a read-only database too."""
    report = with_services(config_path, db_path, lambda s: s.mentoring.report(), readonly=True)
    if as_json:
        click.echo(json.dumps(report_json(report)))
        return
    table = Table("tag", "opened", "claimed", "resolved", "waiting", "claim median", "claim p90", "resolve median",
                  "resolve p90", title=f"Help tickets ({report.open} waiting, {report.claimed} claimed now)")
    for r in report.tags:
        table.add_row(escape(r.tag), str(r.opened), str(r.claimed), str(r.resolved), str(r.waiting),
                      str(r.claim_median), str(r.claim_p90), str(r.resolve_median), str(r.resolve_p90))
    console.print(table)
    console.print("Times count from opening; a ticket still waiting counts as waiting at least that long.",
                  highlight=False)
    if report.uncovered:
        console.print(f"[yellow]No mentor on duty for: {escape(', '.join(report.uncovered))}[/yellow]")
    else:
        console.print("Every tag has a mentor on duty.")
    ratings = Table("mentor", "ratings", "mean", "weighted", title="Mentors by weighted rating")
    for m in report.ratings:
        ratings.add_row(m.mentor, str(m.count), f"{m.mean:.2f}", f"{m.score:.2f}")
    console.print(ratings if report.ratings else "No rating yet.")


@mentoring.command("assign")
@click.option("--seed", default=0, show_default=True, type=int, help="The tie-break: the same data and seed give "
                                                                     "the same proposal.")
@click.option("--apply", "fingerprint", default=None, metavar="FINGERPRINT",
              help="Record the proposal shown with this fingerprint (the teams' introductions follow in Discord).")
@event_options
def mentoring_assign(seed: int, fingerprint: str | None, config_path: Path, db_path: str) -> None:
    """Propose a mentor for each team.

    For the teams without one: topics from matchmaking profiles and project categories, mentors' tags
    from /mentor tags, loads balanced. Run again with --apply FINGERPRINT to record it."""
    async def action(s: Services):
        proposal = await s.assignments.propose(seed=seed)
        written = await s.assignments.confirm(fingerprint, None, seed=seed) if fingerprint else None
        return proposal, written

    proposal, written = with_services(config_path, db_path, action)
    table = Table("team", "mentor", "shared topics")
    for p in proposal.pairs:
        table.add_row(escape(p.team), p.mentor, escape(", ".join(p.shared)) or "[yellow]none[/yellow]")
    console.print(table)
    loads = ", ".join(f"{mentor}: {n}" for mentor, n in proposal.loads.items())
    console.print(f"{len(proposal.pairs)} team(s); loads {loads or '-'}; {proposal.mentored} team(s) have a mentor "
                  "already", highlight=False)
    if proposal.unassigned:
        console.print(f"[yellow]without a mentor (too few mentors): {escape(', '.join(proposal.unassigned))}[/yellow]")
    if written is None:
        console.print(f"fingerprint {proposal.fingerprint}: record it with "
                      f"`hackbot mentoring assign --seed {seed} --apply {proposal.fingerprint}`", highlight=False)
    else:
        console.print(f"[green]{len(written)} assignment(s) recorded[/green]")


@main.group()
def perks() -> None:
    """Import perk codes and see their stock.

    How many are left and who claimed: never the codes."""


@perks.command("import")
@click.argument("perk")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@event_options
def perks_import(perk: str, file: Path, config_path: Path, db_path: str) -> None:
    """Add perk codes from a CSV file.

    FILE has one code per line (the first column; a header "code" is skipped). Codes already there
    are skipped; bad lines are named by number, never shown."""
    text = read_csv_text(file)
    result = with_services(config_path, db_path, lambda s: s.perks.import_codes(perk, text))
    for line, reason in result.errors:
        err_console.print(escape(f"{file}:{line}: {reason}"), highlight=False, soft_wrap=True)
    console.print(f"{result.added} code(s) added to {result.perk.id} ({result.already} already there); "
                  f"{result.left} left to claim", highlight=False)
    if result.errors:
        sys.exit(2)


@perks.command("status")
@event_options
def perks_status(config_path: Path, db_path: str) -> None:
    """Show how many codes are left.

    Per perk: its codes, how many were claimed and how many are left. This works on a read-only
    database too."""
    stock = with_services(config_path, db_path, lambda s: s.perks.stock(), readonly=True)
    if not stock:
        console.print("This event hands out no perks ([[perks]] in the event file).")
        return
    table = Table("perk", "for", "codes", "claimed", "left", "warn at")
    for row in stock:
        left = f"[red]{row.left}[/red]" if row.low else str(row.left)
        table.add_row(row.perk.id, row.perk.who.replace("_", " "), str(row.total), str(row.claimed), left,
                      str(row.perk.low_stock))
    console.print(table)


@perks.command("claims")
@click.argument("perk")
@event_options
def perks_claims(perk: str, config_path: Path, db_path: str) -> None:
    """Show who claimed a perk.

    Who claimed PERK, and when (never the codes). This works on a read-only database too."""
    claimants = with_services(config_path, db_path, lambda s: s.perks.claimants(perk), readonly=True)
    table = Table("claimant", "claimed by", "at (UTC)")
    for c in claimants:
        table.add_row(escape(c.name), c.claimed_by, c.claimed_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
    console.print(f"{len(claimants)} claim(s)")


@main.group()
def organizers() -> None:
    """Make or revoke organizers' secret links.

    The links open the organizers' pages (help queue metrics, perks; the posted reminders)."""


@organizers.command("link")
@click.option("--label", default="", help="Whom the link is for (kept with it).")
@event_options
def organizers_link(label: str, config_path: Path, db_path: str) -> None:
    """Make a secret link to the organizers' page.

    Prints one address, /organizers/mentoring; its page links, with the same key, to the other
    organizers' pages: projects to moderate and the posted reminders. Shown once; only its hash is
    kept. Share it with organizers only; `hackbot organizers revoke` ends every link."""
    link = with_services(config_path, db_path, lambda s: s.organizer_links.create(label))
    settings = settings_from_environment()
    base = (settings.hackbot_public_url or f"http://{settings.hackbot_host}:{settings.hackbot_port}").rstrip("/")
    click.echo(f"{base}/organizers/mentoring?key={link.token}")


@organizers.command("revoke")
@event_options
def organizers_revoke(config_path: Path, db_path: str) -> None:
    """End every organizer link.

    Make a new one with `hackbot organizers link`."""
    n = with_services(config_path, db_path, lambda s: s.organizer_links.revoke_all())
    console.print(f"{n} link(s) revoked")
