"""Autocomplete shared by several commands: the event's phases, and the datasets of a phase.
Discord shows at most 25 choices, each named in at most 100 characters (bot/discord_limits.py)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import discord_limits as limits
from bot.cogs.common import services_of
from bot.cogs.text import clip, points


def _matches(typed: str, *names: str) -> bool:
    typed = typed.strip().casefold()
    return not typed or any(typed in name.casefold() for name in names)


async def phase_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    services = services_of(interaction)
    now_phase = await services.phases.current(services.clock())
    choices = []
    for phase in services.config.phases:
        if _matches(str(current or ""), phase.id, phase.name):
            label = f"{phase.id} · {phase.name}" if phase.name else phase.id
            if phase == now_phase:
                label += " (current)"
            choices.append(app_commands.Choice(name=clip(label, limits.CHOICE_NAME), value=phase.id))
    return choices[: limits.CHOICES]


async def dataset_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The datasets of the phase picked in the same command (`phase`), else of the current one."""
    services = services_of(interaction)
    phase_id = interaction.namespace.phase  # None when the command has no such option, or it is empty
    phase = services.config.phase(phase_id) if phase_id else await services.phases.current(services.clock())
    if phase is None:
        return []
    choices = [
        app_commands.Choice(name=clip(f"{ds.id} · {ds.name} · {points(ds.points)}", limits.CHOICE_NAME), value=ds.id)
        for ds in services.config.datasets_in_phase(phase.id)
        if _matches(str(current or ""), str(ds.id), ds.name)
    ]
    return choices[: limits.CHOICES]
