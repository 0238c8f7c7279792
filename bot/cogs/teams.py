"""/team: form a team in Discord. Creating one makes its role and private channel; members join
with the join code that /team info shows them, or freely once the captain opens the team.

Each command calls one TeamRoster method, which holds the rules (size, formation window, one
team per person) in the database; the Discord side effects (bot/guild.py) follow the commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot import guild as spaces
from bot.cogs import views
from bot.cogs.common import guild_of, member_of, services_of, side_effects, team_of, user_key
from bot.cogs.text import clip, fit_lines, shown
from bot.core.errors import BadInput, NotAllowed
from bot.core.lfg import Profile, timezone_names
from bot.core.teams import DISBAND, JOIN, LEAVE, RENAME, SPACE, TeamInfo, team_lane
from bot.tree import report_error

if TYPE_CHECKING:
    from bot.app import Hackbot

PAGE = 25
LFG_PAGER = "lfg"
LFG_FIELDS = 8  # topics a page of /team lfg list: each field at most 1024 characters, 6000 in all
LFG_SHOWN = 30  # people named under a topic; the rest are counted


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


async def team_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    needle = current.casefold().strip()
    teams = await services_of(interaction).teams.list()
    names = [t.name for t in teams if needle in t.name.casefold()]
    names.sort(key=lambda name: not name.casefold().startswith(needle))  # prefix matches first
    return [app_commands.Choice(name=name, value=name) for name in names[:25]]


def own_team_embed(info: TeamInfo, max_size: int, require_validation: bool) -> discord.Embed:
    embed = discord.Embed(title=clip(f"Team {shown(info.team.name)}", limits.EMBED_TITLE), colour=discord.Colour.green())
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


async def timezones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    names = timezone_names(current)
    if current.strip() and current.strip()[0] in "+-uUgG" and current.strip() not in names:
        names = [current.strip()[:100], *names][:25]  # an offset such as "UTC+5:30" as typed
    return [app_commands.Choice(name=name, value=name) for name in names]


EXPERIENCE = [
    app_commands.Choice(name="newcomer (new to ML or to hackathons)", value="newcomer"),
    app_commands.Choice(name="some experience", value="some"),
    app_commands.Choice(name="expert", value="expert"),
]


class LfgModal(discord.ui.Modal):
    """The matchmaking profile: topics, experience, time zone, skills, open to existing teams.
    A modal holds at most five text inputs; the topics are checked against the event file's."""

    def __init__(self, topics: list[str], current: Profile | None, experience: str | None, timezone: str | None):
        super().__init__(title="Looking for a team", timeout=900)
        listed = "; ".join(topics)
        self.topics_input: discord.ui.TextInput[LfgModal] = discord.ui.TextInput(
            label="Topics (separate them with ;)"[:45],
            placeholder=(listed or "e.g. vision; NLP; climate")[:100],
            required=bool(topics), max_length=1000,
            default=("; ".join(current.topics) if current else (listed if len(topics) == 1 else None)) or None,
        )
        self.experience_input: discord.ui.TextInput[LfgModal] = discord.ui.TextInput(
            label="Experience: newcomer, some or expert", max_length=10,
            default=experience or (current.experience if current else "some"),
        )
        self.timezone_input: discord.ui.TextInput[LfgModal] = discord.ui.TextInput(
            label="Time zone (Europe/Paris or UTC+5:30)", required=False, max_length=64,
            default=timezone or (current.tz_label if current and current.tz_offset_minutes is not None else None),
        )
        self.skills_input: discord.ui.TextInput[LfgModal] = discord.ui.TextInput(
            label="Skills (free tags, separated by ;)", required=False, max_length=400,
            placeholder="python; pytorch; astronomy; design",
            default="; ".join(current.skills) if current and current.skills else None,
        )
        self.open_input: discord.ui.TextInput[LfgModal] = discord.ui.TextInput(
            label="Open to joining an existing team? yes/no", max_length=3,
            default="yes" if current is None or current.open_to_existing else "no",
        )
        for item in (self.topics_input, self.experience_input, self.timezone_input, self.skills_input, self.open_input):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        answer = self.open_input.value.strip().lower()
        if answer not in ("yes", "y", "no", "n"):
            raise BadInput(f"answer yes or no to 'open to joining an existing team' (got {answer!r})")
        profile = await services.lfg.set_profile(
            user_key(interaction.user),
            name=interaction.user.display_name,
            topics=self.topics_input.value,
            skills=self.skills_input.value,
            experience=self.experience_input.value.strip().lower(),
            timezone=self.timezone_input.value,
            open_to_existing=answer.startswith("y"),
        )
        await interaction.response.send_message(
            "You are in the matchmaking pool: " + profile_line(profile)
            + "\nOrganizers will match the pool into teams; you get a message with your teammates. "
            "/team lfg leave takes you out.",
            ephemeral=True,
        )

    # Modal.on_error takes no item, unlike the BaseView.on_error that discord.py's Modal overrides
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


def profile_line(profile: Profile) -> str:
    topics = ", ".join(profile.topics) or "any topic"
    skills = f" · skills: {', '.join(profile.skills)}" if profile.skills else ""
    joining = "open to an existing team" if profile.open_to_existing else "new teams only"
    return f"{topics} · {profile.experience} · {profile.tz_label} · {joining}{skills}"


async def space_not_ready(interaction: discord.Interaction, guild: discord.Guild, team: str, problem: str,
                          lines: list[str]) -> None:
    """The participant learns why the team's private space is missing; the organizers are told what
    to change in their log channel."""
    lines.append(f"Your team's private space is not ready: {problem}.")
    await spaces.tell_organizers(guild, services_of(interaction).config,
                                 f"The space of team {shown(team)} could not be set up: {problem}.")


def _problem(error: str | None) -> str:
    """An outbox row's error as the reply words it: "could not team space: the bot lacks ..." ->
    "the bot lacks ..."."""
    text = error or "Discord refused it"
    return text.split(": ", 1)[1] if text.startswith("could not ") and ": " in text else text


async def draw_lfg(interaction: discord.Interaction, args: str, page: int) -> tuple[discord.Embed, int]:
    """A page of /team lfg list: LFG_FIELDS topics, each naming up to LFG_SHOWN people; the teams
    that recruit on the first page. Every field and the whole embed stay within Discord's limits."""
    services = services_of(interaction)
    grouped = list((await services.lfg.by_topic()).items())
    recruiting = await services.lfg.recruiting_teams()
    pages = views.page_count(len(grouped), LFG_FIELDS)
    page = min(page, pages - 1)
    embed = discord.Embed(title=clip(f"{services.config.event.name}: looking for a team", limits.EMBED_TITLE),
                          colour=discord.Colour.blurple())
    for topic, people in grouped[page * LFG_FIELDS : (page + 1) * LFG_FIELDS]:
        named = [f"{mention(p.user_id)} ({p.experience})" for p in people[:LFG_SHOWN]]
        value = fit_lines([", ".join(named[i : i + 5]) for i in range(0, len(named), 5)], 600,
                          more="… and {n} more lines")
        if len(people) > LFG_SHOWN:
            value += f"\nand {len(people) - LFG_SHOWN} more"
        embed.add_field(name=clip(f"{topic} ({len(people)})", limits.FIELD_NAME), value=value, inline=False)
    if recruiting and page == 0:
        names = [f"**{shown(t.name)}** ({len(t.members)})" for t in recruiting]
        embed.add_field(name="Teams recruiting", value=fit_lines(names, limits.FIELD_VALUE), inline=False)
    if not grouped and not recruiting:
        embed.description = "Nobody is looking yet: /team lfg join puts you in the pool."
    listings = sum(len(p) for _, p in grouped)
    footer = [f"{len(grouped)} topic(s), {listings} listing(s)"]
    if pages > 1:
        footer.insert(0, f"page {page + 1}/{pages}")
    embed.set_footer(text=" · ".join(footer))
    return embed, pages


views.PAGERS[LFG_PAGER] = draw_lfg


@app_commands.guild_only()
class Teams(commands.GroupCog, group_name="team", group_description="Form your team: create, join, leave, who is in"):
    lfg = app_commands.Group(name="lfg", description="Looking for a team: join the matchmaking pool")

    def __init__(self, bot: Hackbot):
        self.bot = bot
        super().__init__()

    @app_commands.command(name="create", description="Create a team; you become its captain")
    @app_commands.describe(name="The team's name (1 to 64 characters)")
    async def create(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # making the channel takes a while
        services = services_of(interaction)
        guild, member = guild_of(interaction), member_of(interaction)
        created = await services.teams.create(name, captain=user_key(member))
        team = created.team
        # the role, the channel and the welcome are outbox rows committed with the team: made now,
        # here, or by the drainer if this process stops (bot/core/outbox.py)
        space = await side_effects(interaction, team_lane(team.id), SPACE)
        info = await services.roster.info(team)
        lines = [
            f"Team **{shown(team.name)}** is created and you are its captain.",
            f"Join code: `{info.join_code}`: your teammates join with"
            f" `/team join team:{team.name} code:{info.join_code}` (or let anyone join with /team open).",
            "/token gives your team's API credentials.",
        ]
        result = space.result or {} if space is not None else {}
        if space is not None and space.status == "sent" and result.get("channel_id"):
            lines.append(f"Your private {'thread' if result.get('thread') else 'channel'}: <#{result['channel_id']}>")
        elif space is not None and space.status == "failed":
            await space_not_ready(interaction, guild, team.name, _problem(space.error), lines)
        else:
            lines.append("Your private channel is being made: it appears in a moment.")
        await interaction.followup.send("\n".join(lines), ephemeral=True)

    @app_commands.command(name="join", description="Join a team with the code its members see in /team info")
    @app_commands.describe(team="The team to join", code="The team's join code (not needed when the team is open)")
    @app_commands.autocomplete(team=team_names)
    async def join(self, interaction: discord.Interaction, team: str, code: str | None = None) -> None:
        services = services_of(interaction)
        guild, member = guild_of(interaction), member_of(interaction)
        joined = await services.roster.join(user_key(member), team, code)
        await interaction.response.send_message(f"You joined team **{shown(joined.name)}**.", ephemeral=True)
        access = await side_effects(interaction, team_lane(joined.id), JOIN)
        if access is not None and access.status == "failed":
            lines: list[str] = []
            await space_not_ready(interaction, guild, joined.name, _problem(access.error), lines)
            await interaction.followup.send("\n".join(lines), ephemeral=True)

    @app_commands.command(name="leave", description="Leave your team; captaincy passes on, the last one out disbands")
    async def leave(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        member = member_of(interaction)
        departure = await services.roster.leave(user_key(member))
        team = departure.team
        if departure.disbanded:
            message = f"You left team **{shown(team.name)}**; you were its last member, so it is disbanded."
        else:
            message = f"You left team **{shown(team.name)}**."
            if departure.new_captain:
                message += f" {mention(departure.new_captain)} is its captain now."
        await interaction.response.send_message(message, ephemeral=True)
        await side_effects(interaction, team_lane(team.id), DISBAND if departure.disbanded else LEAVE)

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
                f"Team **{shown(details.team.name)}**: {count} member{'s' if count != 1 else ''}.", ephemeral=True
            )

    @app_commands.command(name="kick", description="Captain: remove a member from your team")
    @app_commands.describe(member="The member to remove")
    async def kick(self, interaction: discord.Interaction, member: discord.Member) -> None:
        services = services_of(interaction)
        team = await services.roster.kick(user_key(interaction.user), user_key(member))
        await interaction.response.send_message(
            f"{member.mention} is no longer in team **{shown(team.name)}**.", ephemeral=True
        )
        await side_effects(interaction, team_lane(team.id), LEAVE)  # out of the team's space

    @app_commands.command(name="rename", description="Captain: rename your team (its role and channel follow)")
    @app_commands.describe(name="The new name (1 to 64 characters)")
    async def rename(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        services = services_of(interaction)
        team = await services.roster.rename(user_key(interaction.user), name)
        await interaction.response.send_message(f"Your team is now called **{shown(team.name)}**.", ephemeral=True)
        await side_effects(interaction, team_lane(team.id), RENAME)  # its role and channel follow

    @app_commands.command(name="open", description="Captain: let anyone join without the code, or close the team again")
    @app_commands.describe(open="True: anyone may join; False: the join code is needed")
    async def open_team(self, interaction: discord.Interaction, open: bool = True) -> None:
        team = await services_of(interaction).roster.set_open(user_key(interaction.user), open)
        if open:
            message = f"Team **{shown(team.name)}** is open: anyone can join it with /team join, without the code."
        else:
            message = f"Team **{shown(team.name)}** is closed: joining needs the code shown by /team info."
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="list", description="All teams and their sizes")
    @app_commands.describe(page="Which page of the list")
    async def list_teams(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        services = services_of(interaction)
        infos = await services.roster.infos()
        max_size = services.config.teams.max_size
        pages = max(1, -(-len(infos) // PAGE))
        page = min(page, pages)
        listed = infos[(page - 1) * PAGE : page * PAGE]
        embed = discord.Embed(title=clip(f"{services.config.event.name}: teams", limits.EMBED_TITLE),
                              colour=discord.Colour.blurple())
        lines = []
        for info in listed:
            extra = " · open" if info.is_open else ""
            lines.append(f"**{shown(info.team.name)}**: {len(info.members)}/{max_size}{extra}")
        embed.description = "\n".join(lines) or "No team yet: /team create makes one."
        if pages > 1:
            embed.set_footer(text=f"Page {page} of {pages} ({len(infos)} teams): /team list page:{page % pages + 1}")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @lfg.command(name="join", description="Say you are looking for a team: topics, experience, time zone, skills")
    @app_commands.describe(experience="How experienced you are", timezone="Your time zone (a name, or UTC+5:30)")
    @app_commands.choices(experience=EXPERIENCE)
    @app_commands.autocomplete(timezone=timezones)
    async def lfg_join(self, interaction: discord.Interaction, experience: app_commands.Choice[str] | None = None,
                       timezone: str | None = None) -> None:
        services = services_of(interaction)
        user = user_key(interaction.user)
        if await services.teams.team_of(user) is not None:
            raise NotAllowed("you are in a team already; your captain can say it is looking for people with /team recruit")
        current = await services.lfg.profile(user)
        await interaction.response.send_modal(
            LfgModal(services.lfg.topics, current, experience.value if experience else None, timezone)
        )

    @lfg.command(name="leave", description="Leave the matchmaking pool")
    async def lfg_leave(self, interaction: discord.Interaction) -> None:
        left = await services_of(interaction).lfg.leave(user_key(interaction.user))
        message = "You left the matchmaking pool." if left else "You were not in the matchmaking pool."
        await interaction.response.send_message(message, ephemeral=True)

    @lfg.command(name="list", description="Who is looking for a team, by topic, and which teams recruit")
    async def lfg_list(self, interaction: discord.Interaction) -> None:
        await views.send_pages(interaction, LFG_PAGER)

    @app_commands.command(name="recruit", description="Captain: say your team has free places and is looking for people")
    @app_commands.describe(on="True: the matchmaking may place people in your team; False: stop")
    async def recruit(self, interaction: discord.Interaction, on: bool = True) -> None:
        team = await services_of(interaction).lfg.set_recruiting(user_key(interaction.user), on)
        if on:
            message = (f"Team **{shown(team.name)}** is recruiting: the next matchmaking may place people looking "
                       "for a team in it (up to the size limit).")
        else:
            message = f"Team **{shown(team.name)}** is no longer recruiting."
        await interaction.response.send_message(message, ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Teams(bot))
