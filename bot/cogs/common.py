"""What every cog needs: the services, the caller's team, and the organizer check.

Every permission twice: `default_permissions` on the organizer groups is Discord's hint (server
admins can change it), and `organizer_only()` is the check the bot enforces itself.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.errors import NotAllowed
from bot.core.services import Services
from bot.core.teams import Team

ORGANIZER_PERMISSIONS = discord.Permissions(manage_guild=True)


def services_of(interaction: discord.Interaction) -> Services:
    return interaction.client.services  # type: ignore[attr-defined]


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
    user = interaction.user
    roles = getattr(user, "roles", None)  # a User outside a guild has none
    if interaction.guild is None or roles is None:
        return False
    role_name = services_of(interaction).config.discord.organizer_role
    return user.guild_permissions.administrator or any(role.name == role_name for role in roles)


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
