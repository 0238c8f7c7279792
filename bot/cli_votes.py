"""`hackbot vote ...`: the public votes' ballot codes, open and close, and the organizers' report.
Registered on `hackbot` by bot/cli.py. Ballot codes are shown once, when they are made: only
their SHA-256 digests stay in the database."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from bot.cli import console, err_console, event_options, fail, main, read_csv_text, with_services
from bot.core.clock import fmt_utc

if TYPE_CHECKING:  # `hackbot leaderboard` starts faster without
    from bot.core.votes import CodeImport, VoteReport


@main.group()
def vote() -> None:
    """Run the public votes ([[votes]]).

    Ballot codes for attendees outside the Discord server, opening and closing, and the report of
    every ballot: counted, refused by reason, flagged, unverified."""


@vote.group("codes")
def codes() -> None:
    """Make the single-use ballot codes of a vote."""


def codes_csv(result: CodeImport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "email", "discord_id", "code"])
    for issued in result.issued:
        writer.writerow([issued.name, issued.email, issued.discord_id, issued.code])
    return out.getvalue()


@codes.command("import", short_help="Make one ballot code per attendee.")
@click.argument("vote_id", metavar="VOTE")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the codes to this new CSV file (name, email, discord_id, code) instead of printing them.")
@event_options
def codes_import(vote_id: str, file: Path, out: Path | None, config_path: Path, db_path: str) -> None:
    """Make one ballot code per attendee of a CSV file.

    FILE has a header line naming an `email` and/or a `discord_id` column (and optionally `name`).
    Each attendee without a code gets one; the codes are printed (or written to --out) this once
    and stored only as digests. Attendees who hold a code already are skipped. An attendee with a
    Discord id has one ballot between Discord and the web page."""
    if out is not None and out.exists():
        fail(f"{out} exists; codes are shown once, so Hackbot never overwrites a file of them: choose a new name")
    text = read_csv_text(file)
    result = with_services(config_path, db_path, lambda s: s.votes.import_codes(vote_id, text))
    for line, reason in result.errors:
        err_console.print(escape(f"{file}:{line}: {reason}"), highlight=False, soft_wrap=True)
    if result.issued:
        if out is not None:
            out.write_text(codes_csv(result), encoding="utf-8")
            out.chmod(0o600)
            err_console.print(f"{len(result.issued)} code(s) written to {out}: hand each attendee theirs; "
                              "they are not stored anywhere else", highlight=False)
        else:
            click.echo(codes_csv(result), nl=False)
    err_console.print(f"{len(result.issued)} new code(s) for {result.vote.id} ({result.already} attendee(s) hold one "
                      f"already); {result.total} code(s) in all", highlight=False)
    if result.errors:
        sys.exit(2)


@vote.command("open", short_help="Open a vote now.")
@click.argument("vote_id", metavar="VOTE")
@event_options
def vote_open(vote_id: str, config_path: Path, db_path: str) -> None:
    """Open a vote now, before its time in the event file.

    Like `/vote open`, it posts the link, the QR code and the Vote button in the announcements
    channel, once: the running bot sends it (`hackbot outbox status` shows it)."""
    state = with_services(config_path, db_path, lambda s: s.votes.open(vote_id, by="cli"))
    console.print(f"{state.vote.title} is open from {fmt_utc(state.opens_at)} until {fmt_utc(state.closes_at)}",
                  highlight=False)


@vote.command("close")
@click.argument("vote_id", metavar="VOTE")
@event_options
def vote_close(vote_id: str, config_path: Path, db_path: str) -> None:
    """Close a vote now and freeze its result.

    No ballot is taken after; the result goes to the prize the vote decides. Like `/vote close`,
    the public turnout is posted in the announcements channel by the running bot, once."""
    state = with_services(config_path, db_path, lambda s: s.votes.close(vote_id, by="cli"))
    closed = state.closed_at or state.closes_at
    console.print(f"{state.vote.title} closed at {fmt_utc(closed)}; `hackbot vote report {state.vote.id}` shows "
                  "every ballot", highlight=False)


@vote.command("report")
@click.argument("vote_id", metavar="VOTE")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@event_options
def vote_report(vote_id: str, as_json: bool, config_path: Path, db_path: str) -> None:
    """Report every ballot of a vote, per project.

    Counted, unverified (counted apart), flagged (they still count) and refused by reason; the
    flags the ballot log raises (bursts of new accounts, shared codes); never a code."""
    report: VoteReport = with_services(config_path, db_path, lambda s: s.votes.report(vote_id))
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    state = report.state
    console.print(f"{state.vote.title} ({state.phase}): {report.ballots_cast} ballot(s) cast, {report.standing} "
                  f"standing (one per voter), {report.replaced} replaced", highlight=False)
    reasons = sorted(report.refused)
    table = Table("project", "team", "counted", "unverified", "flagged", *[f"refused: {r}" for r in reasons])
    for p in report.projects:
        table.add_row(escape(p.title), escape(p.team), str(p.counted), str(p.unverified), str(p.flagged),
                      *[str(p.refused.get(r, 0)) for r in reasons])
    console.print(table)
    if report.refused:
        console.print("Refused ballots: " + ", ".join(f"{r} {n}" for r, n in sorted(report.refused.items())),
                      highlight=False)
    for flag in report.flags:
        console.print(f"[yellow]Flag ({flag.code}):[/yellow] {escape(flag.message)}", highlight=False)
