"""One place where every slash-command and button error becomes a reply a person can act on.

Domain errors (bot.core.errors) carry their own message; failed checks say why; anything else
is logged with a short id that the user can hand to an organizer. Replies are ephemeral, and
use the follow-up webhook when the interaction was already answered or deferred.
"""

from __future__ import annotations

import logging
import uuid

import discord
from discord import app_commands

from bot.core.errors import HackbotError, Unavailable

log = logging.getLogger(__name__)


async def send_ephemeral(interaction: discord.Interaction, content: str, **kwargs) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


def error_message(error: Exception) -> str:
    original = getattr(error, "original", error)
    if isinstance(original, Unavailable):  # the member hears that nothing was recorded; the log says why
        log.warning("a Discord interaction recorded nothing: %s", original.reason)
    if isinstance(original, HackbotError):
        return original.message
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
        await send_ephemeral(interaction, error_message(error))
    except discord.HTTPException:
        log.warning("could not tell the user about an error", exc_info=True)


class HackbotTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class ReportingView(discord.ui.View):
    """A view whose button errors reach the user the same way as command errors."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        await report_error(interaction, error)
