"""The organizers' competition controls on the command line: `hackbot baseline add`,
`hackbot labels replace`, `hackbot team disqualify|requalify`, `hackbot integrity` and
`hackbot export leaderboard|submissions --csv`. Registered on `hackbot` by bot/cli.py; the rules
are in bot/core/controls.py. Labels and the split never appear in any output."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from bot.cli import console, event_options, fail, main, say, team, with_services
from bot.core.errors import HackbotError
from bot.core.services import Services

if TYPE_CHECKING:  # imported by the commands that use it: `hackbot leaderboard` starts faster without
    from bot.core.controls import Relabel

PHASE = click.option("--phase", default=None, help="A phase id (default: the current phase).")


# --- baselines ----------------------------------------------------------------------------

@main.group()
def baseline() -> None:
    """Show organizers' baselines on the board.

    A baseline is scored like a submission and shown greyed with a badge: never ranked, never a winner."""


@baseline.command("add")
@click.argument("dataset_id", metavar="DATASET", type=int)
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--name", required=True, help="The baseline's name on the board, e.g. \"Logistic regression\".")
@PHASE
@event_options
def baseline_add(dataset_id: int, file: Path, name: str, phase: str | None, config_path: Path, db_path: str) -> None:
    """Score a baseline file and show it.

    The file is scored on the dataset as a submission is.
    A baseline of the same name on the dataset is replaced."""
    data = file.read_bytes()
    full, public = with_services(config_path, db_path,
                                 lambda s: s.controls.add_baseline(dataset_id, name, file.name, data, phase))
    shown = f"public accuracy {public:.4f}, " if public is not None and public != full else ""
    console.print(f"baseline [bold]{escape(name)}[/bold] on dataset {dataset_id}: {shown}accuracy {full:.4f}")


# --- label fixes ----------------------------------------------------------------------------

@main.group()
def labels() -> None:
    """Fix hidden labels and re-score submissions.

    The old labels are kept as a version; reveals already answered keep the label they answered."""


def _print_relabel(report: Relabel) -> None:
    verb = "now in force" if report.confirmed else "proposed (nothing changed yet)"
    console.print(f"dataset {report.dataset_id}, phase {report.phase!r}: labels v{report.old_version} -> "
                  f"v{report.new_version} {verb}; {report.changed_rows} row(s) changed, {report.files} file(s) re-scored")
    if report.refused_now:
        console.print(f"[yellow]{report.refused_now} stored file(s) no longer parse against the new label set: "
                      "their scores are kept as they were[/yellow]")
    if report.moves:
        table = Table("team", "score before", "score after", "private before", "private after", "rank", title="who moves")
        for m in report.moves:
            def f(v: float | None) -> str:
                return "-" if v is None else f"{v:.4f}"
            table.add_row(escape(m.team), f(m.old), f(m.new), f(m.old_private), f(m.new_private),
                          f"{m.old_rank} -> {m.new_rank}")
        console.print(table)
    else:
        console.print("no team's score on this dataset changes")
    if report.corrected_reveals:
        shown = ", ".join(f"{escape(t)} (datum {d})" for t, d in report.corrected_reveals)
        console.print(f"[yellow]teams that revealed a corrected datum (they keep the label they were answered): "
                      f"{shown}[/yellow]")
    if not report.confirmed:
        console.print("run the same command with --confirm to put these labels in force")


@labels.command("replace")
@click.argument("dataset_id", metavar="DATASET", type=int)
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--reason", required=True, help="Why the labels change; kept with the label version.")
@click.option("--confirm", is_flag=True, help="Put the new labels in force and rewrite every score (else: a dry run).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@PHASE
@event_options
def labels_replace(dataset_id: int, file: Path, reason: str, confirm: bool, as_json: bool, phase: str | None,
                   config_path: Path, db_path: str) -> None:
    """Re-score a dataset against corrected labels.

    FILE holds the new labels: a .npy array or one integer per line, one per row of X_val. Without
    --confirm nothing changes for participants: the command prints who would move and by how much."""
    from bot.core.controls import load_label_file

    try:
        new_y = load_label_file(file)
    except HackbotError as exc:
        fail(exc.message)
    report = with_services(config_path, db_path,
                           lambda s: s.controls.replace_labels(dataset_id, new_y, reason, confirm=confirm,
                                                               phase_id=phase))
    if as_json:
        click.echo(json.dumps(asdict(report)))
        return
    _print_relabel(report)


# --- disqualification ---------------------------------------------------------------------

@team.command("disqualify")
@click.argument("name")
@click.option("--reason", required=True, help="Why; organizers see it beside the team.")
@event_options
def team_disqualify(name: str, reason: str, config_path: Path, db_path: str) -> None:
    """Disqualify a team from ranks and prizes.

    It is shown greyed with the reason to organizers.
    `hackbot team requalify` reverses it."""
    shown = with_services(config_path, db_path, lambda s: s.controls.disqualify(name, reason))
    console.print(f"team [bold]{escape(shown)}[/bold] is disqualified: {escape(reason)}")


@team.command("requalify")
@click.argument("name")
@event_options
def team_requalify(name: str, config_path: Path, db_path: str) -> None:
    """Rank a disqualified team again."""
    shown = with_services(config_path, db_path, lambda s: s.controls.disqualify(name, None))
    console.print(f"team [bold]{escape(shown)}[/bold] is ranked again")


# --- integrity ----------------------------------------------------------------------------

@main.command("integrity")
@click.option("--threshold", default=0.995, show_default=True, type=click.FloatRange(0.5, 1.0),
              help="Flag pairs agreeing on at least this share of the private rows.")
@click.option("--json", "as_json", is_flag=True, help="Print the flags and the accuracies as JSON.")
@PHASE
@event_options
def integrity(threshold: float, as_json: bool, phase: str | None, config_path: Path, db_path: str) -> None:
    """Flag teams with near-identical predictions.

    Also each team's accuracy with its own revealed datums left out. This works on a read-only database too."""
    async def action(s: Services):
        return await s.controls.integrity(phase, threshold), await s.controls.without_reveals(phase)

    flags, without = with_services(config_path, db_path, action, readonly=True)
    if as_json:
        click.echo(json.dumps({"flags": [asdict(f) for f in flags], "without_reveals": [asdict(w) for w in without]}))
        return
    if flags:
        table = Table("dataset", "team", "team", "agreement", "rows", "note", title="similar predictions")
        for f in flags:
            note = "both this accurate: expected" if f.explained_by_accuracy else "look at both files"
            table.add_row(str(f.dataset_id), escape(f.team_a), escape(f.team_b), f"{f.agreement:.2%}", str(f.rows), note)
        console.print(table)
    else:
        console.print(f"no pair of teams agrees on {threshold:.1%} or more of the private rows")
    if without:
        table = Table("team", "dataset", "accuracy", "without own reveals", "revealed", title="accuracy without reveals")
        for w in without:
            value = "-" if w.without_reveals is None else f"{w.without_reveals:.4f}"
            table.add_row(escape(w.team), str(w.dataset_id), f"{w.accuracy:.4f}", value, str(w.revealed))
        console.print(table)


# --- exports ------------------------------------------------------------------------------

@main.command("export")
@click.argument("what", type=click.Choice(["leaderboard", "submissions"]))
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (the one format for now).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file (default: standard output).")
@PHASE
@event_options
def export(what: str, as_csv: bool, out: Path | None, phase: str | None, config_path: Path, db_path: str) -> None:
    """Export the board or submissions as CSV.

    Accuracies, worst-group, public and private, file hash, label version, time. This works on a read-only
    database too."""
    async def action(s: Services) -> str:
        if what == "leaderboard":
            return await s.controls.export_leaderboard(phase)
        return await s.controls.export_submissions(phase)

    text = with_services(config_path, db_path, action, readonly=True)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    say(f"wrote {out}")


# --- team merges --------------------------------------------------------------------------

@team.command("merge")
@click.argument("into")
@click.argument("absorbed", metavar="FROM")
@event_options
def team_merge(into: str, absorbed: str, config_path: Path, db_path: str) -> None:
    """Merge team FROM into team INTO.

    An organizer approves the merge by running it.

    FROM's members, reveals and submissions move to INTO, before the merge deadline ([teams] merges_close).
    Refused, with the reason, when the merged team would pass the team size, a submission limit or a reveal
    budget, or when both teams used a one-shot submission on the same dataset."""
    merged = with_services(config_path, db_path, lambda s: s.merges.merge(into, absorbed))
    console.print(f"team [bold]{escape(merged.absorbed)}[/bold] is merged into [bold]{escape(merged.into)}[/bold]: "
                  f"{merged.members} members, {merged.reveals} reveal(s) and {merged.submissions} submission(s) moved")
    if merged.discord_role_id or merged.discord_channel_id:
        say(f"{merged.absorbed}'s Discord role and channel are left as they were: remove them in Discord")
