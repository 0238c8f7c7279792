"""One place where every slash-command and button error becomes a reply a person can act on.

Domain errors (bot.core.errors) carry their own message; failed checks say why; a refusal from
Discord says what the organizers must change (`explain`: a missing permission is named, with
where to grant it); anything else is logged with a short id that the user can hand to an
organizer. Replies are ephemeral, cut at Discord's 2000 characters, and use the follow-up
webhook when the interaction was already answered or deferred.
"""

from __future__ import annotations

import logging
import re
import uuid

import aiohttp
import discord
from discord import app_commands

from bot.core.errors import HackbotError, Unavailable
from bot.discord_limits import CONTENT

log = logging.getLogger(__name__)


async def send_ephemeral(interaction: discord.Interaction, content: str, **kwargs) -> None:
    if len(content) > CONTENT:
        content = content[: CONTENT - 1] + "…"
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


# What each route the bot uses needs, to name it when Discord answers 50013 Missing Permissions
# (the answer itself does not say which). Permissions as the server settings name them.
_NEEDS: list[tuple[str, re.Pattern[str], str, str]] = [
    (m, re.compile(p), need, what) for m, p, need, what in [
        ("POST", r"/guilds/\d+/roles$", "Manage Roles", "create a team role"),
        ("PATCH", r"/guilds/\d+/roles/\d+$", "Manage Roles", "rename a team role"),
        ("DELETE", r"/guilds/\d+/roles/\d+$", "Manage Roles", "delete a team role"),
        ("PUT", r"/guilds/\d+/members/\d+/roles/\d+$", "Manage Roles", "give a member their team role"),
        ("DELETE", r"/guilds/\d+/members/\d+/roles/\d+$", "Manage Roles", "take a team role from a member"),
        ("POST", r"/guilds/\d+/channels$", "Manage Channels", "create a channel"),
        ("PATCH", r"/channels/\d+$", "Manage Channels", "rename a channel"),
        ("DELETE", r"/channels/\d+$", "Manage Channels", "delete a channel"),
        ("PUT", r"/channels/\d+/permissions/\d+$", "Manage Roles", "set who may see a team channel"),
        ("DELETE", r"/channels/\d+/permissions/\d+$", "Manage Roles", "set who may see a team channel"),
        ("POST", r"/channels/\d+/messages$", "View Channel and Send Messages", "post a message"),
        ("POST", r"/channels/\d+/threads$", "Create Private Threads", "create a team thread"),
        ("PUT", r"/channels/\d+/thread-members/\d+$", "Send Messages in Threads", "add a member to a team thread"),
    ]
]
_CHANNEL = re.compile(r"/channels/(\d+)")


def _route(error: discord.HTTPException) -> tuple[str, str]:
    response = error.response
    if isinstance(response, aiohttp.ClientResponse):  # always, from the bot's own HTTP client
        return response.method, response.url.path
    return "", ""


def explain(error: discord.HTTPException, guild: discord.Guild | None = None) -> str:
    """What a Discord refusal means for the event, and what the organizers must change."""
    code = error.code
    if code == 50007:
        return ("that member does not accept direct messages from this server's members (their privacy "
                "settings); nothing else is affected")
    if code == 30013:
        return ("the server has 500 channels, Discord's maximum: an organizer must delete unused channels "
                "(team spaces move to threads before that point; other channels filled the server)")
    if code == 30005:
        return "the server has 250 roles, Discord's maximum: an organizer must delete unused roles"
    if isinstance(error, discord.DiscordServerError) or error.status >= 500:
        return f"Discord is having trouble right now ({error.status}); try again in a minute"
    if error.status == 429:
        return "Discord is rate limiting the bot; try again in a minute"
    if code in (50013, 50001):
        return _missing_permission(error, guild)
    error_id = uuid.uuid4().hex[:8]
    log.error("Discord refused a request (error %s): %s %s", error_id, error.status, error.text)
    return (f"Discord refused what the bot sent ({error.status}, code {code}); this is a bug in Hackbot: "
            f"tell an organizer the error id `{error_id}`")


def _missing_permission(error: discord.HTTPException, guild: discord.Guild | None) -> str:
    method, path = _route(error)
    need, what = "the permission this needs", "do this"
    for verb, pattern, needed, doing in _NEEDS:
        if verb == method and pattern.search(path):
            need, what = needed, doing
            break
    where = ""
    channel_id = _CHANNEL.search(path)
    channel = guild.get_channel_or_thread(int(channel_id.group(1))) if guild is not None and channel_id else None
    if channel is not None:
        where = f" in #{channel.name}"
    if need == "Manage Roles" and guild is not None and guild.me.guild_permissions.manage_roles and not where:
        return (f"Discord refused to let the bot {what}: the bot's role must be above the team roles. An organizer "
                "must drag the bot's role higher in Server Settings → Roles, then run /admin setup")
    settings = f"the channel's settings (Permissions){where}" if where else "Server Settings → Roles"
    return (f"Discord refused to let the bot {what}: the bot lacks the {need} permission{where}. An organizer must "
            f"give it to the bot's role in {settings}, then run /admin setup")


def error_message(error: Exception, guild: discord.Guild | None = None) -> str:
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, Unavailable):  # the member hears that nothing was recorded; the log says why
        log.warning("a Discord interaction recorded nothing: %s", original.reason)
    if isinstance(original, HackbotError):
        return original.message
    if isinstance(original, discord.HTTPException):
        return explain(original, guild)
    if isinstance(original, discord.RateLimited):
        return f"Discord is rate limiting the bot; try again in {original.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure) and str(error):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value here; pick one from the list."
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=original)
    return f"Something went wrong (error id `{error_id}`); tell an organizer this id."


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    try:
        await send_ephemeral(interaction, error_message(error, interaction.guild))
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


class HackbotTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class ReportingView(discord.ui.View):
    """A view whose button errors reach the user the same way as command errors."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        await report_error(interaction, error)
