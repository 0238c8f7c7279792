"""/admin: the organizers' commands. Every one is guarded twice: the group's
`default_permissions(manage_guild)` is Discord's hint, and `organizer_only()` on each command is
the check the bot enforces itself.

    /admin setup                 create the event's roles and channels, repair team spaces
    /admin sync                  register the slash commands with Discord
    /admin phase show | set      the current phase, or force one ('auto': back to the schedule)
    /admin team validate | remove
    /admin leaderboard post      post the standings in the announcements channel
    /admin projects              the projects' moderation queue (bot/cogs/projects.py)
    /admin moderate              eligible / maybe / ineligible, with the reason the team is told
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild as spaces
from bot.cogs import projects as project_doors
from bot.cogs.choices import phase_choices
from bot.cogs.common import guild_of, hackbot_of, organizer_group, organizer_only, services_of, side_effects
from bot.cogs.leaderboard import standings_embed
from bot.cogs.teams import team_names
from bot.cogs.text import shown
from bot.core.phases import PHASE_LANE, PHASE_OPEN
from bot.core.teams import DISBAND, team_lane
from bot.posting import phase_announcement  # noqa: F401  (tests read the text from here)

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

AUTO = "auto"


async def phase_or_auto_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    choices = await phase_choices(interaction, current)
    if current.strip().casefold() in AUTO:
        choices.append(app_commands.Choice(name="auto (follow the schedule)", value=AUTO))
    return choices[:25]


class Admin(commands.Cog):
    admin = organizer_group("admin", "Organizers: event setup, phases, teams, leaderboard")
    phase = app_commands.Group(name="phase", description="The competition phase", parent=admin)
    team = app_commands.Group(name="team", description="Validate or remove teams", parent=admin)
    board = app_commands.Group(name="leaderboard", description="Publish the leaderboard", parent=admin)

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @commands.Cog.listener("on_guild_available")
    async def reconcile_guild(self, guild: discord.Guild) -> None:
        """Repair on start what a failed side effect left missing; on_guild_available fires again
        after an outage, which is harmless: reconcile only creates what is missing."""
        wanted = self.bot.settings.hackbot_guild_id
        if wanted and guild.id != wanted:
            return
        if not wanted and len(self.bot.guilds) > 1:
            # without HACKBOT_GUILD_ID, never create roles and channels in every server the bot is in
            log.warning("not reconciling %s: set HACKBOT_GUILD_ID to the event's server", guild.name)
            return
        repair = await spaces.reconcile(guild, self.bot.config, self.bot.services)
        if repair.created or repair.failed:
            log.info("reconciled %s: created %s; failed %s", guild.name, repair.created, repair.failed)

    @admin.command(name="setup", description="Create the event's missing roles and channels; repair team spaces")
    @organizer_only()
    async def setup_event(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        repair = await spaces.reconcile(guild_of(interaction), services.config, services)
        if repair.created:
            text = "Created:\n" + "\n".join(f"- {item}" for item in repair.created)
        else:
            text = "Nothing to create: every role and channel of the event exists."
        if repair.failed:
            text += "\nCould not repair:\n" + "\n".join(f"- {item}" for item in repair.failed)
        role = services.config.discord.organizer_role
        text += (
            f"\nMembers of @{role} see /admin when they have Manage Server, or when the server's "
            "Integrations settings allow the role."
        )
        await interaction.followup.send(text[:2000], ephemeral=True)

    @admin.command(name="sync", description="Register the slash commands with Discord (rate-limited: not too often)")
    @organizer_only()
    async def sync(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        synced = await self.bot.sync_commands()
        await interaction.followup.send(f"Synced {len(synced)} commands with Discord.", ephemeral=True)

    @phase.command(name="show", description="The current phase and when each phase starts")
    @organizer_only()
    async def phase_show(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        status = await services.phases.status(services.clock())
        current = status.current
        embed = discord.Embed(title="Phases", colour=discord.Colour.blurple())
        if current is None:
            embed.description = "No phase is open yet."
        else:
            how = "from the schedule"
            if status.override:
                how = "set by hand (/admin phase set auto returns to the schedule)"
            embed.description = f"Current phase: **{current.id}**, {how}."
        for phase in services.config.phases:
            marker = " (current)" if current is not None and phase.id == current.id else ""
            starts = discord.utils.format_dt(phase.starts, "F")
            embed.add_field(name=f"{phase.id}{marker}", value=f"starts {starts}", inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @phase.command(name="set", description="Force a phase now, or 'auto' to follow the schedule again")
    @app_commands.describe(phase="A phase id, or 'auto'")
    @app_commands.autocomplete(phase=phase_or_auto_choices)
    @organizer_only()
    async def phase_set(self, interaction: discord.Interaction, phase: str) -> None:
        services = services_of(interaction)
        now, auto = services.clock(), phase.strip().lower() == AUTO
        change = await services.phases.set(None if auto else phase.strip(), now, announce=True)
        current = change.current
        if current is None:
            text = "Following the schedule: no phase is open yet."
        else:
            text = f"The current phase is **{current.id}**{' (from the schedule)' if auto else ''}."
        await interaction.response.send_message(text, ephemeral=True)
        if not change.changed:
            return  # nothing changed: nothing to announce
        # the announcement was written to the outbox with the change: posted now, or by the drainer
        done = await side_effects(interaction, PHASE_LANE, PHASE_OPEN)
        if done is not None and done.status == "failed":
            await interaction.followup.send(f"It could not be announced: {done.error}.", ephemeral=True)

    @team.command(name="validate", description="Validate a team (or withdraw validation)")
    @app_commands.describe(name="The team", validated="False withdraws the validation")
    @app_commands.autocomplete(name=team_names)
    @organizer_only()
    async def team_validate(self, interaction: discord.Interaction, name: str, validated: bool = True) -> None:
        team = await services_of(interaction).teams.validate(name, validated)
        state = "validated: it may reveal and submit" if validated else "no longer validated"
        await interaction.response.send_message(f"Team **{shown(team.name)}** is {state}.", ephemeral=True)

    @team.command(name="remove", description="Remove a team with its members, reveals, submissions, role and channel")
    @app_commands.describe(name="The team")
    @app_commands.autocomplete(name=team_names)
    @organizer_only()
    async def team_remove(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        info = await services_of(interaction).roster.remove(name)
        # its role and channel: deleted through the outbox row written with the removal
        done = await side_effects(interaction, team_lane(info.team.id), DISBAND)
        removed = (done.result or {}).get("removed", []) if done is not None and done.status == "sent" else []
        text = f"Team **{shown(info.team.name)}** is removed ({len(info.members)} members)."
        if removed:
            text += " Deleted " + ", ".join(removed) + "."
        elif done is not None and done.status == "failed":
            text += f" Its role or channel was not deleted: {done.error}; or delete them by hand."
        await interaction.followup.send(text, ephemeral=True)

    @board.command(name="post", description="Post the leaderboard in the announcements channel")
    @app_commands.describe(phase="A phase id (default: the current phase)")
    @app_commands.autocomplete(phase=phase_or_auto_choices)
    @organizer_only()
    async def leaderboard_post(self, interaction: discord.Interaction, phase: str | None = None) -> None:
        # posting may take longer than the 3 seconds Discord gives a first answer: acknowledge first
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        channel = spaces.announcements_channel(interaction.guild, services.config)
        # what everyone may see: no scores while the board is hidden
        standings = await services.leaderboard.standings(None if phase in (None, AUTO) else phase)
        embed = standings_embed(standings, services.config.event.name)
        # an outbox row keyed by this interaction: posted once, whoever runs it
        key = f"leaderboard.post:{interaction.id}"
        await services.outbox.enqueue("message", key, {"channel_id": channel.id, "content": "",
                                                       "embeds": [embed.to_dict()]}, lane=f"channel:{channel.id}")
        bot = hackbot_of(interaction)
        done = await bot.drainer.deliver(key, bot.executors.in_guild(guild_of(interaction)))
        if done is not None and done.status == "failed":
            await interaction.followup.send(f"The leaderboard could not be posted: {done.error}.", ephemeral=True)
            return
        await interaction.followup.send(f"Posted the leaderboard in {channel.mention}.", ephemeral=True)

    @admin.command(name="projects", description="The projects' moderation queue: pending first, with the checks' flags")
    @organizer_only()
    async def projects(self, interaction: discord.Interaction) -> None:
        await project_doors.moderation_queue(interaction)

    @admin.command(name="moderate", description="Rule on a team's project; the team is told the reason")
    @organizer_only()
    @app_commands.describe(team="The team", verdict="Eligible enters judging and votes; maybe waits; ineligible is out",
                           reason="Why (the team sees it; required for ineligible)")
    @app_commands.choices(verdict=[app_commands.Choice(name=v, value=v) for v in ("eligible", "maybe", "ineligible")])
    @app_commands.autocomplete(team=team_names)
    async def moderate(self, interaction: discord.Interaction, team: str, verdict: app_commands.Choice[str],
                       reason: str = "") -> None:
        await project_doors.moderate(interaction, team, verdict.value, reason)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Admin(bot))
