"""/reveal and /token: the Discord door onto the same reveal budget as `POST /reveal/`.

Both answers carry secrets (a hidden label, an API password), so both are ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs.common import services_of, team_of, user_key
from bot.core.reveals import Reveal
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app import Hackbot

MAX_CHOICES = limits.CHOICES


def api_base_url(settings: Settings) -> str:
    """Where participants' scripts reach the HTTP API: HACKBOT_PUBLIC_URL when the server is
    behind a proxy or listens on 0.0.0.0, else the address the web server listens on."""
    if settings.hackbot_public_url:
        return settings.hackbot_public_url.rstrip("/")
    return f"http://{settings.hackbot_host}:{settings.hackbot_port}"


def render_reveal(result: Reveal) -> str:
    """The label first, always: the list of earlier reveals is cut to fit Discord's 2000 characters
    (the team paid for this label; it must reach them whatever came before)."""
    again = " (revealed before: this one cost nothing)" if not result.new else ""
    head = (
        f"Dataset {result.dataset_id}, datum {result.datum_id}: label **{result.label}**{again}. "
        f"{result.remaining} of {result.budget} labels left. Revealed before: "
    )
    earlier = [str(d) for d in result.previously_revealed]
    if not earlier:
        return head + "none"
    room = limits.CONTENT - len(head)
    listed = ", ".join(earlier)
    if len(listed) <= room:
        return head + listed
    kept: list[str] = []
    for n, datum in enumerate(earlier):
        tail = f", … and {len(earlier) - n} more (all of them: the HTTP API's \"previously revealed\")"
        if len(", ".join([*kept, datum])) + len(tail) > room:
            return head + ", ".join(kept) + tail
        kept.append(datum)
    return head + listed


def render_token(username: str, password: str, base_url: str) -> str:
    return (
        "Your team's HTTP API credentials. Keep them within your team; "
        "**the previous password no longer works**: update your scripts.\n"
        f"username: `{username}`\npassword: `{password}`\n"
        "Reveal a label (exercise 3, datum 456):\n"
        f"```\ncurl -F username={username} -F password={password} -F exercise_id=3 -F datum_id=456 "
        f"{base_url}/reveal/\n```\n"
        "Submit a file (one submission per dataset):\n"
        f"```\ncurl -F username={username} -F password={password} -F exercise_id=3 -F file=@labels.csv "
        f"{base_url}/submit/\n```"
    )


class Reveals(commands.Cog):
    def __init__(self, bot: Hackbot):
        self.bot = bot

    @app_commands.command(name="reveal", description="Reveal the hidden label of one datum (uses your team's budget)")
    @app_commands.describe(
        exercise_id="The dataset, as in /reveal 3 456", datum_id="The row of X_val, counted from 0"
    )
    async def reveal(self, interaction: discord.Interaction, exercise_id: int, datum_id: int) -> None:
        team = await team_of(interaction)
        result = await services_of(interaction).reveals.reveal(team, exercise_id, datum_id, source="discord")
        await interaction.response.send_message(render_reveal(result), ephemeral=True)

    @reveal.autocomplete("exercise_id")
    async def exercise_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        services = services_of(interaction)
        team = await services.teams.team_of(user_key(interaction.user))  # no team: full budgets
        typed = str(current or "").strip().casefold()
        choices = []
        for budget in await services.reveals.budgets(team):
            ds = budget.dataset
            if typed and not (str(ds.id).startswith(typed) or typed in ds.name.casefold()):
                continue
            name = f"{ds.id} · {ds.name} · {budget.remaining}/{ds.reveal_budget} left"
            choices.append(app_commands.Choice(name=name[:100], value=ds.id))
        return choices[:MAX_CHOICES]

    @app_commands.command(name="token", description="Your team's HTTP API username and a new password")
    async def token(self, interaction: discord.Interaction) -> None:
        team = await team_of(interaction)
        credentials = await services_of(interaction).teams.rotate_password(team.id)
        text = render_token(credentials.team.username, credentials.password, api_base_url(self.bot.settings))
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Reveals(bot))
