"""/team: form a team in Discord. Creating one makes its role and private channel; members join
with the join code that /team info shows them, or freely once the captain opens the team.

Each command calls one TeamRoster method, which holds the rules (size, formation window, one
team per person) in the database; the Discord side effects (bot/guild.py) follow the commit.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import guild as spaces
from bot.cogs.common import services_of, team_of, user_key
from bot.core.teams import TeamInfo

PAGE = 25
SPACE_FAILED = (
    "\n(Discord refused to set up the team's role or channel just now; an organizer can repair it "
    "with /admin setup.)"
)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


async def team_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    needle = current.casefold().strip()
    teams = await services_of(interaction).teams.list()
    names = [t.name for t in teams if needle in t.name.casefold()]
    names.sort(key=lambda name: not name.casefold().startswith(needle))  # prefix matches first
    return [app_commands.Choice(name=name, value=name) for name in names[:25]]


def own_team_embed(info: TeamInfo, max_size: int, require_validation: bool) -> discord.Embed:
    embed = discord.Embed(title=f"Team {info.team.name}", colour=discord.Colour.green())
    embed.add_field(name="Captain", value=mention(info.captain) if info.captain else "nobody", inline=True)
    members = " ".join(map(mention, info.members)) or "none"
    embed.add_field(name=f"Members ({len(info.members)}/{max_size})", value=members, inline=False)
    embed.add_field(name="Join code", value=f"`{info.join_code}` (share it with your teammates only)", inline=True)
    joining = "open: anyone can /team join" if info.is_open else "by code only (the captain can /team open)"
    embed.add_field(name="Joining", value=joining, inline=True)
    if require_validation:
        validated = "yes" if info.team.validated else "not yet (an organizer validates teams)"
        embed.add_field(name="Validated", value=validated, inline=True)
    if info.discord_channel_id:
        embed.add_field(name="Channel", value=f"<#{info.discord_channel_id}>", inline=True)
    embed.set_footer(text=f"API username: {info.team.username} · /token gives the API password")
    return embed


@app_commands.guild_only()
class Teams(commands.GroupCog, group_name="team", group_description="Form your team: create, join, leave, who is in"):
    def __init__(self, bot: commands.Bot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="Create a team; you become its captain")
    @app_commands.describe(name="The team's name (1 to 64 characters)")
    async def create(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # making the channel takes a while
        services = services_of(interaction)
        created = await services.teams.create(name, captain=user_key(interaction.user))
        team = created.team
        space = await spaces.best_effort(
            spaces.ensure_team_space(interaction.guild, services.config, services, team, members=[interaction.user]),
            f"set up the space of team {team.name}",
        )
        info = await services.roster.info(team)
        lines = [
            f"Team **{team.name}** is created and you are its captain.",
            f"Join code: `{info.join_code}`: your teammates join with"
            f" `/team join team:{team.name} code:{info.join_code}` (or let anyone join with /team open).",
            "/token gives your team's API credentials.",
        ]
        if space is not None and space.channel is not None:
            lines.append(f"Your private channel: {space.channel.mention}")
            await spaces.best_effort(
                space.channel.send(f"Welcome, team **{team.name}**! {interaction.user.mention} is the captain."),
                "welcome a new team",
            )
        await interaction.followup.send("\n".join(lines) + ("" if space else SPACE_FAILED), ephemeral=True)

    @app_commands.command(name="join", description="Join a team with the code its members see in /team info")
    @app_commands.describe(team="The team to join", code="The team's join code (not needed when the team is open)")
    @app_commands.autocomplete(team=team_names)
    async def join(self, interaction: discord.Interaction, team: str, code: str | None = None) -> None:
        services = services_of(interaction)
        joined = await services.roster.join(user_key(interaction.user), team, code)
        await interaction.response.send_message(f"You joined team **{joined.name}**.", ephemeral=True)
        space = await spaces.best_effort(
            spaces.add_member_access(interaction.guild, services.config, services, joined, interaction.user),
            f"let a member into team {joined.name}",
        )
        if space is None:
            await interaction.followup.send(SPACE_FAILED.strip(), ephemeral=True)
        elif space.channel is not None:
            await spaces.best_effort(
                space.channel.send(f"{interaction.user.mention} joined the team."), "announce a new member"
            )

    @app_commands.command(name="leave", description="Leave your team; captaincy passes on, the last one out disbands")
    async def leave(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        departure = await services.roster.leave(user_key(interaction.user))
        team = departure.team
        if departure.disbanded:
            message = f"You left team **{team.name}**; you were its last member, so it is disbanded."
            action = spaces.remove_team_space(
                interaction.guild, team.id, departure.discord_role_id, departure.discord_channel_id
            )
        else:
            message = f"You left team **{team.name}**."
            if departure.new_captain:
                message += f" {mention(departure.new_captain)} is its captain now."
            action = spaces.remove_member_access(interaction.guild, services.config, services, team, interaction.user)
        await interaction.response.send_message(message, ephemeral=True)
        await spaces.best_effort(action, f"update the space of team {team.name}")

    @app_commands.command(name="info", description="Your team (members, captain, join code), or another team's size")
    @app_commands.describe(team="Another team (default: yours)")
    @app_commands.autocomplete(team=team_names)
    async def info(self, interaction: discord.Interaction, team: str | None = None) -> None:
        services = services_of(interaction)
        mine = await services.teams.team_of(user_key(interaction.user))
        if team is None:
            target = mine or await team_of(interaction)  # team_of says what to do when not in a team
        else:
            target = await services.teams.get(team)
        details = await services.roster.info(target)
        if mine is not None and mine.id == target.id:
            embed = own_team_embed(details, services.config.teams.max_size, services.config.teams.require_validation)
            await interaction.response.send_message(embed=embed, ephemeral=True)
        else:
            count = len(details.members)
            await interaction.response.send_message(
                f"Team **{details.team.name}**: {count} member{'s' if count != 1 else ''}.", ephemeral=True
            )

    @app_commands.command(name="kick", description="Captain: remove a member from your team")
    @app_commands.describe(member="The member to remove")
    async def kick(self, interaction: discord.Interaction, member: discord.Member) -> None:
        services = services_of(interaction)
        team = await services.roster.kick(user_key(interaction.user), user_key(member))
        await interaction.response.send_message(
            f"{member.mention} is no longer in team **{team.name}**.", ephemeral=True
        )
        await spaces.best_effort(
            spaces.remove_member_access(interaction.guild, services.config, services, team, member),
            f"take a member out of team {team.name}",
        )

    @app_commands.command(name="rename", description="Captain: rename your team (its role and channel follow)")
    @app_commands.describe(name="The new name (1 to 64 characters)")
    async def rename(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        services = services_of(interaction)
        team = await services.roster.rename(user_key(interaction.user), name)
        await interaction.response.send_message(f"Your team is now called **{team.name}**.", ephemeral=True)
        await spaces.best_effort(
            spaces.ensure_team_space(interaction.guild, services.config, services, team),
            f"rename the space of team {team.name}",
        )

    @app_commands.command(name="open", description="Captain: let anyone join without the code, or close the team again")
    @app_commands.describe(open="True: anyone may join; False: the join code is needed")
    async def open_team(self, interaction: discord.Interaction, open: bool = True) -> None:
        team = await services_of(interaction).roster.set_open(user_key(interaction.user), open)
        if open:
            message = f"Team **{team.name}** is open: anyone can join it with /team join, without the code."
        else:
            message = f"Team **{team.name}** is closed: joining needs the code shown by /team info."
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="list", description="All teams and their sizes")
    @app_commands.describe(page="Which page of the list")
    async def list_teams(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        services = services_of(interaction)
        infos = await services.roster.infos()
        max_size = services.config.teams.max_size
        pages = max(1, -(-len(infos) // PAGE))
        page = min(page, pages)
        shown = infos[(page - 1) * PAGE : page * PAGE]
        embed = discord.Embed(title=f"{services.config.event.name}: teams", colour=discord.Colour.blurple())
        lines = []
        for info in shown:
            extra = " · open" if info.is_open else ""
            lines.append(f"**{discord.utils.escape_markdown(info.team.name)}**: {len(info.members)}/{max_size}{extra}")
        embed.description = "\n".join(lines) or "No team yet: /team create makes one."
        if pages > 1:
            embed.set_footer(text=f"Page {page} of {pages} ({len(infos)} teams): /team list page:{page % pages + 1}")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Teams(bot))
