"""/match: organizers run the team matchmaking (bot/core/matchmaking.py) over the people who
said they are looking (/team lfg join) and the teams that recruit (/team recruit).

`/match run` previews the proposed teams (their shared topics, the objective against a random
assignment) with Confirm and Cancel; Confirm creates the teams in the database (LfgService.apply,
which skips anyone who joined a team by hand meanwhile), then, best effort: each team's role
and channel, a message to each member saying who their teammates are and why, and an
ice-breaker in the team's channel.

`[matchmaking] at` in the event file runs the same thing by itself once that time has passed on
the services' clock (LfgService.run_scheduled claims it in the database first), and reports to
the organizers' log channel.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot import guild as spaces
from bot.cogs import views
from bot.cogs.common import hackbot_of, organizer_group, organizer_only, services_of
from bot.cogs.text import clip, fit_lines, shown
from bot.core.lfg import AppliedMatch, PlacedTeam
from bot.core.matchmaking import MatchResult
from bot.core.teams import Team, team_lane

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

PREVIEW_TEAMS = 20
SCHEDULE_POLL = 60.0  # seconds between looks at the clock while waiting for `[matchmaking] at`


def _mention(user_id: str) -> str:
    return f"<@{user_id}>"


def preview_embed(result: MatchResult, event_name: str) -> discord.Embed:
    """The proposal: a field a team (the first PREVIEW_TEAMS, as many as fit in Discord's 6000
    characters), the people left unplaced, the matcher's warnings."""
    placed = sum(len(t.members) for t in result.teams)
    new = [t for t in result.teams if t.existing_team is None]
    filled = [t for t in result.teams if t.existing_team is not None]
    embed = discord.Embed(title=clip(f"{event_name}: proposed teams", limits.EMBED_TITLE), colour=discord.Colour.blurple())
    ratio = f" ({result.objective / result.random_objective:.1f}x)" if result.random_objective > 0 else ""
    embed.description = (
        f"{placed} people placed: {len(new)} new team(s), {len(filled)} recruiting team(s) filled; "
        f"{len(result.unplaced)} unplaced.\n"
        f"Objective {result.objective:.0f} against {result.random_objective:.0f} for a random assignment{ratio} "
        f"and {result.greedy_objective:.0f} for a greedy one."
    )
    tail: list[tuple[str, str]] = []
    if result.unplaced:
        tail.append(("Unplaced", fit_lines(list(map(_mention, result.unplaced)), limits.FIELD_VALUE)))
    if result.warnings:
        tail.append(("Warnings", fit_lines(result.warnings, limits.FIELD_VALUE)))
    budget = limits.EMBED_TOTAL - len(embed) - sum(len(n) + len(v) for n, v in tail) - 60  # room for "… and N more"
    shown_teams = 0
    for i, team in enumerate(result.teams[:PREVIEW_TEAMS], 1):
        topics = ", ".join(team.shared_topics) or "no shared topic"
        who = " ".join(map(_mention, team.members))
        if team.existing_team is not None:
            name = f"{i}. joins an existing team ({len(team.existing_members)} already in it)"
        else:
            name = f"{i}. new team of {len(team.members)}"
        levels = ", ".join(f"{team.levels.count(level)} {level}" for level in ("newcomer", "some", "expert")
                           if team.levels.count(level))
        value = clip(f"{who}\n{topics} · {levels}", limits.FIELD_VALUE)
        if len(name) + len(value) > budget or len(embed.fields) + len(tail) + 2 > limits.EMBED_FIELDS:
            break
        budget -= len(name) + len(value)
        embed.add_field(name=clip(name, limits.FIELD_NAME), value=value, inline=False)
        shown_teams += 1
    if len(result.teams) > shown_teams:
        embed.add_field(name="…", value=f"and {len(result.teams) - shown_teams} more team(s)", inline=False)
    for name, value in tail:
        embed.add_field(name=name, value=value, inline=False)
    return embed


def why_text(team: PlacedTeam) -> str:
    topics = ", ".join(f"**{t}**" for t in team.shared_topics)
    counts = [f"{n} {level}" for level in ("newcomer", "some", "expert")
              if (n := sum(1 for u in team.members if team.levels.get(u) == level))]
    reasons = []
    if topics:
        reasons.append(f"you all chose {topics}")
    if len(counts) > 1:
        reasons.append(f"the team mixes experience ({', '.join(counts)})")
    return "; ".join(reasons) or "the pool had no closer match"


async def _member(guild: discord.Guild, user_id: str) -> discord.Member | None:
    """The member from the cache, else asked of Discord (the bot runs without the members intent)."""
    member = guild.get_member(int(user_id))
    if member is not None:
        return member
    try:
        return await guild.fetch_member(int(user_id))
    except discord.NotFound:
        return None  # left the server


@dataclass
class Told:
    told: int = 0  # members told by direct message
    closed: int = 0  # members whose direct messages are closed (they see the team's channel)
    pending: int = 0  # members not told yet: Discord refused for now; the outbox retries


def placed_from(team: Team, payload: dict[str, Any]) -> PlacedTeam:
    """A placed team as its outbox row holds it (kind match.placed)."""
    return PlacedTeam(team, list(payload["members"]), list(payload["newcomers"]), list(payload["shared_topics"]),
                      dict(payload["levels"]), bool(payload["existing"]))


def matched_dm(placed: PlacedTeam, user_id: str) -> str:
    others = " ".join(_mention(u) for u in placed.members if u != user_id)
    return clip(f"You are matched into team **{shown(placed.team.name)}** with {others or 'nobody else yet'}: "
                f"{why_text(placed)}. Say hello in the team's channel; /team info shows your team and /token its API "
                "credentials.", limits.CONTENT)


def icebreaker(placed: PlacedTeam) -> str:
    welcome = "Welcome" if not placed.existing else "Welcome to the new members of"
    mates = " ".join(_mention(u) for u in placed.members)
    return clip(f"{welcome} team **{shown(placed.team.name)}**: {mates}. You were matched because {why_text(placed)}.\n"
                "Ice-breaker: each of you, say where you are, what you would love to build here, and one "
                "skill you bring (and one you want to learn).", limits.CONTENT)


async def announce(bot: Hackbot, guild: discord.Guild | None, applied: AppliedMatch) -> Told:
    """The Discord side of applied matches (spaces, direct messages, ice-breakers): outbox rows
    written with each placement (kind match.placed), run now in this server; a row another
    process holds, or one retrying, is finished by the drainer."""
    told = Told()
    if guild is None:
        return told
    execute = bot.executors.in_guild(guild)
    for placed in applied.teams:
        await bot.drainer.deliver_lane(team_lane(placed.team.id), execute)
        done = await bot.services.outbox.delivery(placed.outbox_key)
        if done is not None and done.status == "sent" and done.result:
            told.told += done.result.get("told", 0)
            told.closed += done.result.get("closed", 0)
        elif done is not None and done.status != "sent":
            told.pending += len(placed.newcomers)
    return told


def told_text(told: Told) -> str:
    text = f"{told.told} member(s) told by direct message."
    if told.pending:
        text += f" {told.pending} not yet: Discord refused for now; it is retried (`hackbot outbox status`)."
    if told.closed:
        text += (f" {told.closed} could not be: they do not accept direct messages from server members "
                 "(they see their team in /team info and in the team's channel).")
    return text


def applied_text(applied: AppliedMatch) -> str:
    people = sum(len(t.newcomers) for t in applied.teams)
    lines = [f"{len(applied.teams)} team(s) formed or filled; {people} people placed."]
    lines += [f"· {note.text(_mention)}" for note in applied.notes[:10]]
    return "\n".join(lines)[:1900]


def proposal_digest(result: MatchResult) -> str:
    """What the preview showed, in 12 hex digits: a Confirm after the pool changed is refused."""
    teams = sorted((t.existing_team or 0, sorted(t.members)) for t in result.teams)
    return hashlib.sha256(repr((teams, sorted(result.unplaced))).encode()).hexdigest()[:12]


async def confirm_clicked(interaction: discord.Interaction, args: str) -> None:
    seed, wanted = args.split(".")
    await interaction.response.defer()  # creating teams, roles and channels takes longer than 3 s
    services = services_of(interaction)
    result = await services.lfg.propose(seed=int(seed))  # the same pool and seed give the same teams
    if proposal_digest(result) != wanted:
        embed = preview_embed(result, services.config.event.name)
        view = views.question_view(QUESTION, interaction.user.id, f"{seed}.{proposal_digest(result)}", yes=YES)
        await interaction.edit_original_response(
            content="The pool changed since this preview (people joined, left or formed teams): "
            "nothing was created. Here is the proposal as it is now.", embed=embed, view=view,
        )
        return
    await interaction.edit_original_response(content="Creating the teams…", embed=None, view=None)
    applied = await services.lfg.apply(result)
    told = await announce(hackbot_of(interaction), interaction.guild, applied)
    await interaction.followup.send(applied_text(applied) + "\n" + told_text(told), ephemeral=True)


async def cancel_clicked(interaction: discord.Interaction, args: str) -> None:
    await interaction.response.edit_message(content="Cancelled: no team was created.", embed=None,
                                            view=views.answered_view(YES))


QUESTION = "match"
YES = "Create these teams"
views.QUESTIONS[QUESTION] = views.Question(confirm_clicked, cancel_clicked, who="who ran /match run")


class Matchmaking(commands.Cog):
    match = organizer_group("match", "Organizers: match the people looking for a team into teams")

    def __init__(self, bot: Hackbot):
        self.bot = bot
        self._scheduled: asyncio.Task | None = None

    async def cog_load(self) -> None:
        # only the process that posts reminders runs scheduled automations
        at = self.bot.config.matchmaking.at
        if self.bot.run_reminders and at is not None:
            self._scheduled = asyncio.create_task(self._wait_and_match(at), name="hackbot-scheduled-match")

    async def cog_unload(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()

    async def _wait_and_match(self, at: datetime) -> None:
        await self.bot.wait_until_ready()
        services = self.bot.services
        while True:
            remaining = (at - services.clock()).total_seconds()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, SCHEDULE_POLL))
        try:
            await self.run_scheduled()
        except Exception:  # a failure is logged; organizers can still /match run
            log.exception("the scheduled matchmaking failed")

    async def run_scheduled(self) -> AppliedMatch | None:
        """Run `[matchmaking] at` if it is due and not run yet; tell the teams and the organizers."""
        from bot.posting import event_guild

        services = self.bot.services
        outcome = await services.lfg.run_scheduled()
        if outcome is None:
            return None
        _, applied = outcome
        guild = event_guild(self.bot)
        told = await announce(self.bot, guild, applied)
        if guild is not None:
            channel = spaces.find_text_channel(guild, services.config.discord.log_channel)
            if channel is not None:  # once per planned run, whoever posts it
                key = f"match.scheduled:{services.config.matchmaking.at}"
                await services.outbox.enqueue("message", key, {
                    "channel_id": channel.id, "content": "Scheduled matchmaking: " + applied_text(applied) + "\n"
                    + told_text(told)}, lane=f"channel:{channel.id}")
                await self.bot.drainer.deliver(key, self.bot.executors.in_guild(guild))
        return applied

    @match.command(name="run", description="Propose teams from the people looking (preview, then confirm)")
    @app_commands.describe(dry_run="True: preview with Confirm/Cancel; False: create the teams at once",
                           seed="The matcher's seed (same pool and seed, same teams)")
    @organizer_only()
    async def run(self, interaction: discord.Interaction, dry_run: bool = True,
                  seed: app_commands.Range[int, 0, 2**31 - 1] = 0) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        result = await services.lfg.propose(seed=seed)
        if not result.teams and not result.unplaced:
            await interaction.followup.send("Nobody is looking for a team (/team lfg join), so there is nothing to match.",
                                            ephemeral=True)
            return
        embed = preview_embed(result, services.config.event.name)
        if dry_run:
            view = views.question_view(QUESTION, interaction.user.id, f"{seed}.{proposal_digest(result)}", yes=YES)
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)
            return
        applied = await services.lfg.apply(result)
        told = await announce(self.bot, interaction.guild, applied)
        await interaction.followup.send(applied_text(applied) + "\n" + told_text(told), embed=embed, ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Matchmaking(bot))
