"""/leaderboard: the standings of a phase, or one dataset's ranking, a page at a time.

One top-level command with optional `phase` and `exercise_id` options rather than a group: the
common case stays one word (`/leaderboard`), and Discord does not allow a group to be invoked
itself. It answers ephemerally, because the embed highlights the caller's own team (and adds
its row when it is off the page). Prev/Next are persistent buttons (bot/cogs/views.py): their
custom_id holds the phase and the dataset, and each click draws the page from the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs import views
from bot.cogs.choices import dataset_choices, phase_choices
from bot.cogs.common import services_of, user_key
from bot.cogs.text import clip, number, points, shown
from bot.core.leaderboard import Standings

if TYPE_CHECKING:
    from bot.app import Hackbot

PAGE_SIZE = 10  # 10 lines of at most ~200 characters: well within an embed's description (4096)
PAGER = "board"
HIDDEN_NOTE = "scores and ranks are hidden until the organizers announce the results"


BADGES = {"baseline": "baseline", "disqualified": "disqualified"}


def board_notes(standings: Standings) -> list[str]:
    """What the board is (issue 16): the final private board, a freeze, the label versions."""
    board = standings.board
    if board is None:
        return []
    notes = [board.note] if board.note else []
    fixed = {d: v for d, v in board.label_versions.items() if v > 1}
    if fixed:
        notes.append("labels: " + ", ".join(f"dataset {d} v{v}" for d, v in sorted(fixed.items())))
    if any(row.kind == "baseline" for row in standings.rows):
        notes.append("baselines are the organizers' reference files, never ranked")
    return notes


def phase_title(standings: Standings) -> str:
    if standings.phase is None:
        return "no phase"
    return f"phase {standings.phase.name or standings.phase.id}"


def _paged_embed(title: str, lines: list[str], own: int | None, page: int, footer: list[str]) -> discord.Embed:
    """A page of `lines`; the caller's own line (index `own`) is added below when off the page."""
    pages = views.page_count(len(lines), PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    start = page * PAGE_SIZE
    lines_shown = lines[start : start + PAGE_SIZE]
    if own is not None and not start <= own < start + PAGE_SIZE:
        lines_shown += ["…", lines[own]]
    embed = discord.Embed(title=clip(title, limits.EMBED_TITLE), colour=discord.Colour.gold())
    embed.description = clip("\n".join(lines_shown), limits.EMBED_DESCRIPTION) if lines_shown else "No team yet."
    if pages > 1:
        footer = [f"page {page + 1}/{pages}", *footer]
    embed.set_footer(text=clip(" · ".join(footer), limits.FOOTER_TEXT))
    return embed


def standings_embed(
    standings: Standings, event_name: str, *, page: int = 0, highlight_team: str | None = None
) -> discord.Embed:
    """The phase's totals, a page of PAGE_SIZE rows: rank, team, total, how many datasets the
    team submitted (the others count at their default score). Hidden: who submitted, no scores."""
    n = len(standings.datasets)
    lines, own = [], None
    for i, row in enumerate(standings.rows):
        submitted = f"{sum(cell.submitted for cell in row.cells)}/{n} submitted"
        you = ""
        if row.team == highlight_team:
            own, you = i, " ← your team"
        if standings.visible and row.kind != "team":  # baselines and disqualified teams: never ranked
            lines.append(f"`{BADGES[row.kind]}` *{shown(row.team)}* · {row.total:.3f} / "
                         f"{number(standings.max_total)} · {submitted}{you}")
        elif standings.visible:
            lines.append(
                f"`#{row.rank}` **{shown(row.team)}** · {row.total:.3f} / {number(standings.max_total)}"
                f" · {submitted}{you}"
            )
        else:
            lines.append(f"**{shown(row.team)}** · {submitted}{you}")
    footer = [f"{len(standings.rows)} team{'' if len(standings.rows) == 1 else 's'}"]
    footer.append("a dataset not submitted counts at its default score" if standings.visible else HIDDEN_NOTE)
    footer += board_notes(standings)
    return _paged_embed(f"{event_name} · leaderboard · {phase_title(standings)}", lines, own, page, footer)


def dataset_embed(
    standings: Standings, dataset_id: int, event_name: str, *, page: int = 0, highlight_team: str | None = None
) -> discord.Embed:
    """One dataset's ranking: accuracy if submitted, else the default score, marked as such."""
    dataset, rows = standings.dataset(dataset_id)
    lines, own = [], None
    for i, row in enumerate(rows):
        you = ""
        if row.team == highlight_team:
            own, you = i, " ← your team"
        if standings.visible:
            score = f"{row.score:.3f}" if row.submitted else f"{row.score:.3f} (default, not submitted)"
            place = f"#{row.rank}" if row.rank is not None else "unranked"
            lines.append(f"`{place}` **{shown(row.team)}** · {score}{you}")
        else:
            lines.append(f"**{shown(row.team)}** · {'submitted' if row.submitted else 'not submitted'}{you}")
    done = sum(row.submitted for row in rows)
    footer = [f"{done} of {len(rows)} teams submitted"]
    if not standings.visible:
        footer.append(HIDDEN_NOTE)
    footer += board_notes(standings)
    title = f"{event_name} · dataset {dataset.id} ({dataset.name}, {points(dataset.points)}) · {phase_title(standings)}"
    return _paged_embed(title, lines, own, page, footer)


def board_args(standings: Standings, config, dataset_id: int | None) -> str:
    """What the Prev/Next custom_ids carry: the phase (by its index: ids may be long) and the dataset."""
    parts = []
    if standings.phase is not None:
        parts.append(f"p{[p.id for p in config.phases].index(standings.phase.id)}")
    if dataset_id is not None:
        parts.append(f"d{dataset_id}")
    return ".".join(parts)


async def draw_board(interaction: discord.Interaction, args: str, page: int) -> tuple[discord.Embed, int]:
    services = services_of(interaction)
    fields = {part[0]: int(part[1:]) for part in args.split(".") if part}
    phase = services.config.phases[fields["p"]].id if "p" in fields and fields["p"] < len(services.config.phases) else None
    dataset_id = fields.get("d")
    standings = await services.leaderboard.standings(phase)
    team = await services.teams.team_of(user_key(interaction.user))
    own = team.name if team else None
    event = services.config.event.name
    if team is not None and standings.board is not None and standings.board.frozen:
        # during a freeze a team still sees its own latest scores, without a rank
        latest = await services.controls.latest(team)
        if latest:
            shown_latest = ", ".join(f"dataset {d}: {v:.4f}" for d, v in sorted(latest.items()))
            embed = (standings_embed(standings, event, page=page, highlight_team=own) if dataset_id is None
                     else dataset_embed(standings, dataset_id, event, page=page, highlight_team=own))
            embed.set_footer(text=clip(f"{embed.footer.text} · your latest scores: {shown_latest}", limits.FOOTER_TEXT))
            rows = standings.rows if dataset_id is None else standings.dataset(dataset_id)[1]
            return embed, views.page_count(len(rows), PAGE_SIZE)
    if dataset_id is None:
        return standings_embed(standings, event, page=page, highlight_team=own), views.page_count(len(standings.rows), PAGE_SIZE)
    embed = dataset_embed(standings, dataset_id, event, page=page, highlight_team=own)  # refuses a dataset not in the phase
    return embed, views.page_count(len(standings.dataset(dataset_id)[1]), PAGE_SIZE)


views.PAGERS[PAGER] = draw_board


class Leaderboard(commands.Cog):
    def __init__(self, bot: Hackbot):
        self.bot = bot

    @app_commands.command(name="leaderboard", description="The leaderboard: the totals, or one dataset's ranking")
    @app_commands.describe(
        phase="Which phase (default: the current one)", exercise_id="Show this dataset's ranking instead of the totals"
    )
    @app_commands.autocomplete(phase=phase_choices)
    @app_commands.autocomplete(exercise_id=dataset_choices)
    async def leaderboard(
        self, interaction: discord.Interaction, phase: str | None = None, exercise_id: int | None = None
    ) -> None:
        services = services_of(interaction)
        standings = await services.leaderboard.standings(phase)  # refuses a phase that does not exist
        await views.send_pages(interaction, PAGER, board_args(standings, services.config, exercise_id))


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Leaderboard(bot))
