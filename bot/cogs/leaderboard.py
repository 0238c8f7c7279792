"""/submit, /leaderboard and /winners: the Discord doors onto submissions and standings.

/submit asks before it spends: the file is checked by its name and announced size before it is
downloaded, validated in full (`SubmissionService.validate`), and only a click on "Submit"
records it (`SubmissionService.confirm`). Cancel, or letting the question expire, spends nothing.

/leaderboard is one top-level command with optional `phase` and `exercise_id` options rather
than a group: the common case stays one word (`/leaderboard`), and Discord does not allow a
group to be invoked itself. It answers ephemerally, because the embed highlights the caller's
own team (and adds its row when it is off the page).
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild as spaces
from bot.cogs.common import (
    organizer_group,
    organizer_only,
    services_of,
    team_of,
    user_key,
)
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.leaderboard import Podium, Standings, Winner
from bot.core.services import Services
from bot.core.submissions import Submission, Validated
from bot.tree import ReportingView, send_ephemeral

if TYPE_CHECKING:
    from bot.app import Hackbot

PAGE_SIZE = 10
PAGES_TIMEOUT = 600.0  # seconds the Prev/Next buttons of a leaderboard keep working
CONFIRM_TIMEOUT = 120.0  # seconds to click Submit before the question expires
ANNOUNCE_TIMEOUT = 600.0
MAX_CHOICES = 25
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def _name(team: str) -> str:
    return discord.utils.escape_markdown(team)


def _number(value: float) -> str:
    return f"{value:g}"


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def page_count(rows: int, size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(rows / size))


def _paged_embed(title: str, lines: list[str], own: int | None, page: int, footer: list[str]) -> discord.Embed:
    """A page of `lines`; the caller's own line (index `own`) is added below when off the page."""
    pages = page_count(len(lines))
    page = min(max(page, 0), pages - 1)
    start = page * PAGE_SIZE
    shown = lines[start : start + PAGE_SIZE]
    if own is not None and not start <= own < start + PAGE_SIZE:
        shown += ["…", lines[own]]
    embed = discord.Embed(title=title[:256], colour=discord.Colour.gold())
    embed.description = "\n".join(shown) if shown else "No team yet."
    if pages > 1:
        footer = [f"page {page + 1}/{pages}", *footer]
    embed.set_footer(text=" · ".join(footer))
    return embed


def _phase_title(standings: Standings) -> str:
    if standings.phase is None:
        return "no phase"
    return f"phase {standings.phase.name or standings.phase.id}"


HIDDEN_NOTE = "scores and ranks are hidden until the organizers announce the results"


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
        if standings.visible:
            lines.append(
                f"`#{row.rank}` **{_name(row.team)}** · {row.total:.3f} / {_number(standings.max_total)}"
                f" · {submitted}{you}"
            )
        else:
            lines.append(f"**{_name(row.team)}** · {submitted}{you}")
    footer = [f"{len(standings.rows)} team{'' if len(standings.rows) == 1 else 's'}"]
    footer.append("a dataset not submitted counts at its default score" if standings.visible else HIDDEN_NOTE)
    return _paged_embed(f"{event_name} · leaderboard · {_phase_title(standings)}", lines, own, page, footer)


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
            lines.append(f"`#{row.rank}` **{_name(row.team)}** · {score}{you}")
        else:
            lines.append(f"**{_name(row.team)}** · {'submitted' if row.submitted else 'not submitted'}{you}")
    done = sum(row.submitted for row in rows)
    footer = [f"{done} of {len(rows)} teams submitted"]
    if not standings.visible:
        footer.append(HIDDEN_NOTE)
    title = (
        f"{event_name} · dataset {dataset.id} ({dataset.name}, {_points(dataset.points)}) · "
        f"{_phase_title(standings)}"
    )
    return _paged_embed(title, lines, own, page, footer)


class Pages(ReportingView):
    """Prev/Next over an ephemeral embed; `render(page)` draws a page."""

    def __init__(self, render: Callable[[int], discord.Embed], pages: int, *, timeout: float = PAGES_TIMEOUT):
        super().__init__(timeout=timeout)
        self.render, self.pages, self.page = render, pages, 0
        self.origin: discord.Interaction | None = None  # the command's interaction, to disable on timeout
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        self.page = min(max(page, 0), self.pages - 1)
        self._sync()
        await interaction.response.edit_message(embed=self.render(self.page), view=self)

    @discord.ui.button(label="Prev", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show(interaction, self.page + 1)

    async def on_timeout(self) -> None:
        self.previous.disabled = self.next.disabled = True
        if self.origin is not None:
            # the message is gone or the token expired: nothing left to disable
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(view=self)


async def send_pages(interaction: discord.Interaction, render: Callable[[int], discord.Embed], pages: int) -> None:
    """An ephemeral embed, with Prev/Next buttons when there is more than one page."""
    if pages == 1:
        await interaction.response.send_message(embed=render(0), ephemeral=True)
        return
    view = Pages(render, pages)
    view.origin = interaction
    await interaction.response.send_message(embed=render(0), view=view, ephemeral=True)


# --- /submit ------------------------------------------------------------------------------

def render_submitted(submission: Submission, points: float, live: bool, filename: str) -> str:
    head = f"Submitted for dataset {submission.dataset_id}: `{filename}`, {submission.rows} rows."
    if not live:
        return f"{head} Recorded; scores stay hidden until the organizers announce the results."
    text = (
        f"{head} Accuracy **{submission.accuracy:.4f}** "
        f"({_points(points)} × {submission.accuracy:.4f} = {points * submission.accuracy:.3f})."
    )
    if submission.worst_group is not None:
        text += f" Worst group accuracy: {submission.worst_group:.4f}."
    return text


_LIVE_CONFIRMATIONS: set[str] = set()  # nonces of the questions this process can still answer


class StaleConfirmation(
    discord.ui.DynamicItem[discord.ui.Button], template=r"hackbot:submit:(?P<action>confirm|cancel):(?P<nonce>[0-9a-f]+)"
):
    """A Submit/Cancel click on a question this process does not hold: asked before a restart
    (the validated file lived in memory only). It answers, so Discord shows no "interaction
    failed", and says what to do; nothing is written. discord.py dispatches dynamic items beside
    live views, so a question still live here is left to its view."""

    def __init__(self, action: str, nonce: str):
        super().__init__(discord.ui.Button(label=action.title(), custom_id=f"hackbot:submit:{action}:{nonce}"))
        self.nonce = nonce

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match) -> StaleConfirmation:
        return cls(match["action"], match["nonce"])

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.nonce in _LIVE_CONFIRMATIONS:
            return
        await interaction.response.edit_message(
            content="This question was asked before the bot restarted and no longer holds your file: "
            "nothing was submitted, your one submission is unused. Run /submit again.",
            view=None,
        )


class ConfirmSubmission(ReportingView):
    """"This is your only submission for dataset 3. Submit / Cancel", for the submitter only.

    Nothing is written until Submit; the database's one-submission rule decides between two
    clicks (the second is told the dataset was already submitted).
    """

    def __init__(self, services: Services, validated: Validated, owner_id: int, *, timeout: float = CONFIRM_TIMEOUT):
        super().__init__(timeout=timeout)
        self.services, self.validated, self.owner_id = services, validated, owner_id
        # stable ids: after a restart, StaleConfirmation answers the buttons this process forgot
        self.nonce = secrets.token_hex(8)
        self.submit.custom_id = f"hackbot:submit:confirm:{self.nonce}"
        self.cancel.custom_id = f"hackbot:submit:cancel:{self.nonce}"
        _LIVE_CONFIRMATIONS.add(self.nonce)
        self.state = "open"  # open | submitted | cancelled | expired
        self.confirming = 0  # Submit clicks being recorded right now
        self.message: discord.WebhookMessage | None = None  # the question, edited when it expires
        self.expires_at = discord.utils.utcnow() + timedelta(seconds=timeout)

    @property
    def dataset_id(self) -> int:
        return self.validated.opened.dataset.id

    def prompt(self) -> str:
        ds = self.validated.opened.dataset
        return (
            f"This is your only submission for dataset {ds.id} ({_points(ds.points)}): "
            f"`{self.validated.filename}`, {self.validated.opened.hidden.n} rows, checked and valid. "
            f"It cannot be replaced. Submit it? This question expires {discord.utils.format_dt(self.expires_at, 'R')}."
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_ephemeral(interaction, f"Only <@{self.owner_id}>, who ran /submit, can answer this question.")
        return False

    def _refuse_if_closed(self) -> None:
        if self.state == "cancelled":
            raise NotAllowed("you cancelled this; nothing was submitted. Run /submit again to submit")
        if self.state == "expired":
            raise NotAllowed("this question expired; nothing was submitted. Run /submit again to submit")

    def _close(self, state: str) -> None:
        self.state = state
        self.submit.disabled = self.cancel.disabled = True
        self.stop()

    def stop(self) -> None:
        _LIVE_CONFIRMATIONS.discard(self.nonce)
        super().stop()

    @discord.ui.button(label="Submit", style=discord.ButtonStyle.success)
    async def submit(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self._refuse_if_closed()
        self.confirming += 1
        try:
            submission = await self.services.submissions.confirm(self.validated, source="discord")
        finally:
            self.confirming -= 1
        self._close("submitted")
        live = self.services.config.leaderboard.visibility == "live"
        text = render_submitted(submission, self.validated.opened.dataset.points, live, self.validated.filename)
        await interaction.response.edit_message(content=text, view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        if self.state == "submitted" or self.confirming:
            raise AlreadyDone("too late to cancel: this file is submitted")
        self._refuse_if_closed()
        self._close("cancelled")
        await interaction.response.edit_message(
            content=f"Cancelled: nothing was submitted; your one submission for dataset {self.dataset_id} is unused.",
            view=self,
        )

    async def on_timeout(self) -> None:
        if self.state != "open" or self.confirming:
            return
        self._close("expired")
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):  # the question is gone: nothing left to update
                await self.message.edit(
                    content="Expired: nothing was submitted. Run /submit again to submit.",
                    view=self,
                )


# --- /winners -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PrizeSection:
    title: str
    lines: list[str]  # one line a winner, with the team's role mention when it has one


def team_mention(winner: Winner, guild: discord.Guild | None) -> str:
    role_id = winner.discord_role_id
    if role_id is not None and guild is not None and guild.get_role(role_id) is not None:
        return f"<@&{role_id}>"
    return f"**{_name(winner.team)}**"


def leaderboard_section(podium: Podium, guild: discord.Guild | None) -> PrizeSection:
    max_total = _number(podium.standings.max_total)
    lines = [
        f"{MEDALS.get(w.rank, f'`#{w.rank}`')} {team_mention(w, guild)} · {w.total:.3f} / {max_total} points"
        for w in podium.winners
    ]
    return PrizeSection(f"Leaderboard, {_phase_title(podium.standings)}", lines)


def prize_sections(podium: Podium, guild: discord.Guild | None) -> list[PrizeSection]:
    """Every prize the announcement lists, in order. Today: the leaderboard podium only.

    The jury's prizes (per category, on the jury criteria) and the community favourite come in
    a later issue: each adds a section here, from its own service, after the podium.
    """
    return [leaderboard_section(podium, guild)]


def announcement_text(event_name: str, sections: list[PrizeSection]) -> str:
    parts = [f"🏆 **{_name(event_name)}: the winners**"]
    for section in sections:
        parts.append(f"**{section.title}**\n" + "\n".join(section.lines))
    return "\n\n".join(parts)[:2000]


class ConfirmAnnouncement(ReportingView):
    """The preview's Post / Cancel, for the organizer who asked; posts at most once."""

    def __init__(self, text: str, role_ids: list[int], owner_id: int, *, timeout: float = ANNOUNCE_TIMEOUT):
        super().__init__(timeout=timeout)
        self.text, self.role_ids, self.owner_id = text, role_ids, owner_id
        self.state = "open"  # open | posting | posted | cancelled
        self.origin: discord.Interaction | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await send_ephemeral(interaction, f"Only <@{self.owner_id}>, who asked for this preview, can post it.")
        return False

    def _refuse_if_closed(self) -> None:
        if self.state in ("posting", "posted"):
            raise AlreadyDone("this announcement is posted already")
        if self.state == "cancelled":
            raise NotAllowed("this announcement was cancelled; run /winners announce again")

    def _disable(self) -> None:
        self.post.disabled = self.cancel.disabled = True
        self.stop()

    @discord.ui.button(label="Post", style=discord.ButtonStyle.success)
    async def post(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self._refuse_if_closed()
        self.state = "posting"  # set before the first await: a second click cannot post twice
        try:
            channel = spaces.announcements_channel(interaction.guild, services_of(interaction).config)
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(id=r) for r in self.role_ids]
            )
            await channel.send(self.text, allowed_mentions=mentions)
        except BaseException:
            self.state = "open"
            raise
        self.state = "posted"
        self._disable()
        await interaction.response.edit_message(content=f"Posted in {channel.mention}.", view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self._refuse_if_closed()
        self.state = "cancelled"
        self._disable()
        await interaction.response.edit_message(content="Cancelled: nothing was posted.", embed=None, view=self)

    async def on_timeout(self) -> None:
        if self.state != "open":
            return
        self.state = "cancelled"
        self._disable()
        if self.origin is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.origin.edit_original_response(content="Expired: nothing was posted.", view=self)


# --- choices shared by the commands -------------------------------------------------------

def _matches(typed: str, *names: str) -> bool:
    typed = typed.strip().casefold()
    return not typed or any(typed in name.casefold() for name in names)


async def phase_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    services = services_of(interaction)
    now_phase = await services.phases.current(services.clock())
    choices = []
    for phase in services.config.phases:
        if _matches(str(current or ""), phase.id, phase.name):
            label = f"{phase.id} · {phase.name}" if phase.name else phase.id
            if phase == now_phase:
                label += " (current)"
            choices.append(app_commands.Choice(name=label[:100], value=phase.id))
    return choices[:MAX_CHOICES]


async def dataset_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The datasets of the phase picked in the same command (`phase`), else of the current one."""
    services = services_of(interaction)
    phase_id = getattr(interaction.namespace, "phase", None)
    phase = services.config.phase(phase_id) if phase_id else await services.phases.current(services.clock())
    if phase is None:
        return []
    choices = [
        app_commands.Choice(name=f"{ds.id} · {ds.name} · {_points(ds.points)}"[:100], value=ds.id)
        for ds in services.config.datasets_in_phase(phase.id)
        if _matches(str(current or ""), str(ds.id), ds.name)
    ]
    return choices[:MAX_CHOICES]


# --- the cogs -----------------------------------------------------------------------------

class Submissions(commands.Cog):
    def __init__(self, bot: Hackbot):
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(StaleConfirmation)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(StaleConfirmation)

    @app_commands.command(name="submit", description="Submit your predictions for a dataset: one submission each")
    @app_commands.describe(
        exercise_id="The dataset, as in /reveal", file="A .csv file: one integer label per line, no header"
    )
    @app_commands.autocomplete(exercise_id=dataset_choices)
    async def submit(self, interaction: discord.Interaction, exercise_id: int, file: discord.Attachment) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        team = await team_of(interaction)
        # refused by name and size before anything is downloaded
        services.submissions.check_upload(file.filename, file.size, limit=interaction.filesize_limit)
        data = await file.read()
        validated = await services.submissions.validate(team, exercise_id, file.filename, data)
        view = ConfirmSubmission(services, validated, interaction.user.id)
        view.message = await interaction.followup.send(view.prompt(), view=view, ephemeral=True, wait=True)


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
        standings = await services.leaderboard.standings(phase)
        team = await services.teams.team_of(user_key(interaction.user))
        own = team.name if team else None
        event = services.config.event.name
        if exercise_id is None:
            rows = len(standings.rows)

            def render(page: int) -> discord.Embed:
                return standings_embed(standings, event, page=page, highlight_team=own)
        else:
            rows = len(standings.dataset(exercise_id)[1])  # refuses a dataset not in the phase

            def render(page: int) -> discord.Embed:
                return dataset_embed(standings, exercise_id, event, page=page, highlight_team=own)

        await send_pages(interaction, render, page_count(rows))


class Winners(commands.Cog):
    winners = organizer_group("winners", "Announce the winners (organizers)")

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @winners.command(name="announce", description="Preview the podium of a phase's leaderboard, then post it")
    @app_commands.describe(top="How many places to announce (1 to 10)", phase="Which phase (default: the current one)")
    @app_commands.autocomplete(phase=phase_choices)
    @organizer_only()
    async def announce(
        self, interaction: discord.Interaction, top: app_commands.Range[int, 1, 10] = 3, phase: str | None = None
    ) -> None:
        services = services_of(interaction)
        channel = spaces.announcements_channel(interaction.guild, services.config)  # refused now rather than at Post
        podium = await services.leaderboard.podium(top, phase)
        if not podium.winners:
            raise NotAllowed(f"no team is on the leaderboard of {_phase_title(podium.standings)}; nothing to announce")
        text = announcement_text(services.config.event.name, prize_sections(podium, interaction.guild))
        role_ids = [w.discord_role_id for w in podium.winners if w.discord_role_id is not None]
        view = ConfirmAnnouncement(text, role_ids, interaction.user.id)
        view.origin = interaction
        preview = discord.Embed(title=f"Preview: to be posted in #{channel.name}", description=text)
        preview.set_footer(text="Role mentions ping the winning teams when posted.")
        await interaction.response.send_message(embed=preview, view=view, ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Submissions(bot))
    await bot.add_cog(Leaderboard(bot))
    await bot.add_cog(Winners(bot))
