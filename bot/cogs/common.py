"""What every cog needs: the services, the caller's team, and the organizer check.

Every permission twice: `default_permissions` on the organizer groups is Discord's hint (server
admins can change it), and `organizer_only()` is the check the bot enforces itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.core.errors import NotAllowed
from bot.core.outbox import Delivery
from bot.core.services import Services
from bot.core.teams import Team

if TYPE_CHECKING:
    from bot.app import Hackbot  # bot.app loads the cogs: imported for the type only

ORGANIZER_PERMISSIONS = discord.Permissions(manage_guild=True)


def hackbot_of(interaction: discord.Interaction) -> Hackbot:
    # the cogs are loaded only by Hackbot.setup_hook: every interaction they see is Hackbot's
    return cast("Hackbot", interaction.client)


def services_of(interaction: discord.Interaction) -> Services:
    return hackbot_of(interaction).services


def guild_of(interaction: discord.Interaction) -> discord.Guild:
    """The server of a guild-only command. None only outside a server, or while Discord has not
    sent the bot that server (an outage): either way there is nothing to act on."""
    if interaction.guild is None:
        raise NotAllowed("this command works only in the event's server; run it there (the server may also be "
                         "unavailable for a moment: try again shortly)")
    return interaction.guild


def member_of(interaction: discord.Interaction) -> discord.Member:
    """The caller of a guild-only command, as a member of the event's server."""
    guild_of(interaction)
    # an interaction from a server carries the caller's member data: discord.py makes it a Member
    return cast(discord.Member, interaction.user)


def user_key(user: discord.abc.User) -> str:
    return str(user.id)


async def team_of(interaction: discord.Interaction) -> Team:
    team = await services_of(interaction).teams.team_of(user_key(interaction.user))
    if team is None:
        raise NotAllowed("you are not in a team; create one with /team create or join one with /team join")
    return team


class NotOrganizer(app_commands.CheckFailure):
    pass


def is_organizer(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        return False  # outside a server nobody has roles
    member = member_of(interaction)
    role_name = services_of(interaction).config.discord.organizer_role
    return member.guild_permissions.administrator or any(role.name == role_name for role in member.roles)


def organizer_only():
    """The bot's own check on organizer commands, whatever the server's integration settings say."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_organizer(interaction):
            role = services_of(interaction).config.discord.organizer_role
            raise NotOrganizer(f"Only organizers (the {role!r} role) can use this command.")
        return True

    predicate.organizer_check = True  # lets the meta-test find it
    return app_commands.check(predicate)


def organizer_group(name: str, description: str) -> app_commands.Group:
    return app_commands.Group(
        name=name, description=description, default_permissions=ORGANIZER_PERMISSIONS, guild_only=True
    )


async def side_effects(interaction: discord.Interaction, lane: str, kind: str, *, within: float = 10.0) -> Delivery | None:
    """Run now the outbox rows the command just committed in `lane` (bot/core/outbox.py), in the
    interaction's server, so that the reply can show their result; a row another process holds is
    waited for. Returns the newest row of `kind` in the lane as it stands: sent (result), failed
    (error), or pending (retrying; the drainer finishes it)."""
    bot = hackbot_of(interaction)
    done = await bot.drainer.deliver_lane(lane, bot.executors.in_guild(guild_of(interaction)), within=within)
    mine = [d for d in done if d.key.startswith(kind + ":")]
    return mine[-1] if mine else await bot.services.outbox.latest(lane, kind)
