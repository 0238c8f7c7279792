"""`hackbot judging check|results|interviews|export|invite|void|rule` and `hackbot winners preview|pick|notices`:
the organizers' side of judging and prizes from a terminal. Registered on `hackbot` by bot/cli.py
(`hackbot judging plan` lives there). A judge's link is printed once, by `invite`, and never
exported or logged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from bot.cli import console, err_console, event_options, judging, main, with_services
from bot.core.services import Services

if TYPE_CHECKING:
    from bot.core.interviews import Booking


@judging.command("check", short_help="Name projects a round would leave unreviewed.")
@click.option("--round", "round_id", default=None, help="Only this round [default: every round].")
@event_options
def judging_check(round_id: str | None, config_path: Path, db_path: str) -> None:
    """Name each project that would end a round with too few reviews.

    Plans every round over its pool and judges as they are now (nothing is written) and exits with
    status 1 when a project would get fewer reviews than it needs, saying why for each."""
    problems = with_services(config_path, db_path, lambda s: s.judging.check(round_id))
    for problem in problems:
        console.print(f"- {problem}", markup=False, highlight=False)
    if problems:
        sys.exit(1)
    console.print("[green]every project of every round gets its reviews[/green]")


@judging.command("results")
@click.argument("round_id")
@event_options
def judging_results(round_id: str, config_path: Path, db_path: str) -> None:
    """Print a round's ranking with rank intervals.

    Recomputed from the score log: the model's estimate, the raw mean, the reviews, the rank interval
    of the bootstrap over judges, and a mark where it straddles a prize's or a shortlist's cut-off."""
    results = with_services(config_path, db_path, lambda s: s.judging.results(round_id), readonly=True)
    table = Table("rank", "interval", "team", "estimate", "raw mean", "reviews", "too close to call", "checklist", box=None)
    for row in results.rows:
        table.add_row(str(row.rank), "" if row.low is None else f"{row.low}-{row.high}", row.team, f"{row.estimate:.3f}",
                      "" if row.raw_mean is None else f"{row.raw_mean:.2f}", str(row.reviews), "yes" if row.too_close else "",
                      "; ".join(row.flags))
    console.print(f"round {round_id} ({results.mode}): {results.judges} judge(s), {results.scores} counted score(s), "
                  f"cut-offs {list(results.cutoffs)}", markup=False, highlight=False)
    console.print(table)


@judging.command("interviews", short_help="Book the interview slots and print them.")
@click.argument("round_id", required=False)
@event_options
def judging_interviews(round_id: str | None, config_path: Path, db_path: str) -> None:
    """Book the round's pool into its interview slots ([judging.rounds.interviews]) and print them.

    Teams already booked keep their slot; each team booked now is told its slot by a direct message
    (queued in the outbox: the running bot sends it). ROUND: the round [default: the first with
    interviews]."""
    async def book(s: Services) -> tuple[Booking, dict[int, str]]:
        booking = await s.interviews.book(round_id)
        return booking, (await s.judging.pitch_requests(booking.slots[0].round) if booking.slots else {})

    booking, asked = with_services(config_path, db_path, book)
    table = Table("starts (UTC)", "ends", "room", "team", "judges", "asked to pitch", box=None)
    for slot in booking.slots:
        table.add_row(f"{slot.starts:%Y-%m-%d %H:%M}", f"{slot.ends:%H:%M}", str(slot.room), slot.team,
                      str(len(slot.judges)), "yes" if slot.team_id in asked else "")
    console.print(f"{len(booking.slots)} team(s) booked ({booking.booked_now} now)", markup=False, highlight=False)
    console.print(table)
    if booking.after_close:
        err_console.print(f"{len(booking.after_close)} slot(s) end after the round closes: "
                          f"{', '.join(booking.after_close)}; add rooms or shorten the slots", markup=False)


@judging.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the JSON to this file [default: print it].")
@event_options
def judging_export(out: Path | None, config_path: Path, db_path: str) -> None:
    """Export the judging as JSON.

    Scores by judge and by project, the model's estimates and judge offsets, ranks with intervals,
    and the raw score log. Never a judge's link."""
    data = with_services(config_path, db_path, lambda s: s.judging.export(), readonly=True)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out}", markup=False, highlight=False)


@judging.command("invite", short_help="Invite a judge from outside the server.")
@click.argument("name")
@click.option("--panel", "panels", multiple=True, required=True, help="A panel the judge sits on (repeat for several).")
@click.option("--affiliation", "affiliations", multiple=True, help="The judge's school or employer (repeat).")
@event_options
def judging_invite(name: str, panels: tuple[str, ...], affiliations: tuple[str, ...], config_path: Path,
                   db_path: str) -> None:
    """Invite a judge who is not in the Discord server.

    Prints a single-use link to the judges' page (HACKBOT_PUBLIC_URL + /judge/TOKEN): the first
    visit spends it and keeps the judge signed in on that browser. Only its SHA-256 is stored."""
    from bot.cli import settings_from_environment

    invitation = with_services(config_path, db_path, lambda s: s.judging.invite(name, list(panels), list(affiliations)))
    base = (settings_from_environment().hackbot_public_url or "http://127.0.0.1:8080").rstrip("/")
    console.print(f"judge {invitation.judge.name} ({invitation.judge.user_id}), panels {', '.join(invitation.judge.panels)}",
                  markup=False, highlight=False)
    console.print("Send this link to the judge only; it works once and is not shown again:", markup=False)
    click.echo(f"{base}/judge/{invitation.token}")


@judging.command("void")
@click.argument("round_id")
@click.argument("judge")
@click.option("--reason", required=True, help="Why the scores are voided (kept in the log).")
@event_options
def judging_void(round_id: str, judge: str, reason: str, config_path: Path, db_path: str) -> None:
    """Void a judge's scores of a round so far.

    JUDGE is the judge's id (`hackbot judging export` lists them). The void is an event of the log:
    nothing is deleted, and the results leave those scores out."""
    n = with_services(config_path, db_path, lambda s: s.judging.void(round_id, judge, reason, "cli"))
    console.print(f"voided {n} score(s) of {judge} in {round_id}", markup=False, highlight=False)


@judging.command("rule", short_help="Decide on a code-review failure: uphold or dismiss it.")
@click.argument("round_id", required=False)
@click.argument("team", required=False)
@click.argument("item", required=False)
@click.option("--uphold/--dismiss", default=None, help="Upheld: the team wins no prize. Dismissed: no consequence.")
@click.option("--reason", default="", help="Why (shown to the organizers with the prizes).")
@event_options
def judging_rule(round_id: str | None, team: str | None, item: str | None, uphold: bool | None, reason: str,
                 config_path: Path, db_path: str) -> None:
    """List the checklist items judges marked failed, or decide on one.

    Without arguments: every failure with its decision (or "awaiting"). With ROUND TEAM ITEM and
    --uphold or --dismiss and a --reason: the decision. An upheld failure excludes the team from every
    prize (the winners' preview passes it over with the reason); until a failure is decided, a prize
    the team would win stays undecided. A decision can change until the prizes are frozen."""
    if round_id is None:
        failures = with_services(config_path, db_path, lambda s: s.judging.check_failures(), readonly=True)
        for f in failures:
            console.print(f"- {f.round} {f.team}: {f.describe()}", markup=False, highlight=False)
        if not failures:
            console.print("no checklist item is marked failed", markup=False)
        return
    if team is None or item is None or uphold is None:
        raise click.UsageError("name ROUND TEAM ITEM and --uphold or --dismiss, with --reason")
    failure = with_services(config_path, db_path,
                            lambda s: s.judging.rule(round_id, team, item, upheld=uphold, reason=reason, by="cli"))
    console.print(f"{failure.team}: {failure.describe()}", markup=False, highlight=False)


@main.group()
def winners() -> None:
    """See and pick the winners of the prizes."""


@winners.command("preview", short_help="Print the winners before the freeze.")
@click.option("--json", "as_json", is_flag=True, help="Print every prize as JSON.")
@event_options
def winners_preview(as_json: bool, config_path: Path, db_path: str) -> None:
    """Print every prize's winners as they would be decided now.

    The same computation as /winners announce: each source, the exclusions and tie-breaks, and what
    an undecided prize waits for. Nothing is frozen or posted."""
    preview = with_services(config_path, db_path, lambda s: s.winners.preview(), readonly=True)
    if as_json:
        click.echo(json.dumps([{**p.to_json(), "decided": p.decided, "frozen": p.frozen, "revealed": p.revealed,
                                "problems": list(p.problems)} for p in preview.prizes], indent=2, ensure_ascii=False))
        return
    for prize in preview.prizes:
        state = "revealed" if prize.revealed else "frozen" if prize.frozen else "decided" if prize.decided else "undecided"
        console.print(f"{prize.title} ({prize.id}, from {prize.source}): {state}", markup=False, highlight=False)
        for place in prize.places:
            console.print(f"  {place.place}. {', '.join(place.teams)}" + (f" ({place.reward})" if place.reward else ""),
                          markup=False, highlight=False)
        for problem in prize.problems:
            err_console.print(f"  ! {problem}", markup=False, highlight=False)


@winners.command("pick")
@click.argument("prize")
@click.argument("teams", nargs=-1, required=True)
@event_options
def winners_pick(prize: str, teams: tuple[str, ...], config_path: Path, db_path: str) -> None:
    """Pick the winners of a manual prize, in order.

    TEAMS are team names, first place first; picking again replaces the earlier pick (until the
    prize is frozen by /winners announce)."""

    async def action(s: Services) -> None:
        await s.winners.pick(prize, list(teams))

    with_services(config_path, db_path, action)
    console.print(f"picked for {prize}: {', '.join(teams)}", markup=False, highlight=False)


@winners.command("notices", short_help="List the private notices to winners.")
@event_options
def winners_notices(config_path: Path, db_path: str) -> None:
    """List the private notices to winning teams and whether each was sent."""
    rows = with_services(config_path, db_path, lambda s: s.winners.notices(), readonly=True)
    table = Table("team", "prize", "channel", "status", "detail", box=None)
    for row in rows:
        table.add_row(*row)
    console.print(table)
