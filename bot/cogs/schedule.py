"""/schedule: what is next on the event's clock. Reminders and live editing come with the
schedule issue; until then this lists the event file's items as Discord timestamps, which
every reader sees in their own time zone."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import services_of

PAGE = 10


def timestamp(when) -> str:
    unix = int(when.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


class Schedule(commands.Cog):
    def __init__(self, bot: commands.Bot):
        self.bot = bot

    @app_commands.command(name="schedule", description="What is next on the event's schedule")
    @app_commands.describe(show_all="Also list what is already past")
    async def schedule(self, interaction: discord.Interaction, show_all: bool = False) -> None:
        services = services_of(interaction)
        now = services.clock()
        items = sorted(services.config.schedule, key=lambda item: item.at)
        shown = items if show_all else [i for i in items if (i.ends or i.at) >= now]
        embed = discord.Embed(title=f"{services.config.event.name}: schedule", colour=discord.Colour.blurple())
        if not shown:
            embed.description = "Nothing more is scheduled." if items else "The event file has no schedule."
        for item in shown[:PAGE]:
            lines = [timestamp(item.at)]
            if item.description:
                lines.append(item.description)
            if item.link:
                lines.append(item.link)
            embed.add_field(name=item.title[:256], value="\n".join(lines)[:1024], inline=False)
        if len(shown) > PAGE:
            embed.set_footer(text=f"{len(shown) - PAGE} more items")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Schedule(bot))
