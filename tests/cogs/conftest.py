"""Fixtures for cog tests: the real bot built without connecting, over real services on a
temporary database (SQLite and PostgreSQL), and fake Discord members and interactions
(tests/cogs/fakes.py)."""

from __future__ import annotations

import discord
import pytest

from bot.app import Hackbot
from bot.config import load_event
from bot.core.services import Services
from bot.settings import Settings
from tests.cogs.fakes import FakeGuild, FakeInteraction, FakeMessage, FakeRole, Reply
from tests.core.helpers import Clock, write_event


@pytest.fixture
def clock() -> Clock:
    return Clock()  # one hour into phase "mock"


@pytest.fixture
async def make_bot(tmp_path, clock, databases):
    """make_bot(**event_options) -> a Hackbot with its cogs loaded, not connected."""
    made: list[Hackbot] = []

    async def factory(**options) -> Hackbot:
        n = len(made)
        path = write_event(tmp_path / f"event{n}", **options)
        config = load_event(path)
        db = databases.new()
        services = await Services.open(config, db, clock=clock)
        settings = Settings(discord_token=None, hackbot_config=path, hackbot_db=db, hackbot_guild_id=None)
        bot = Hackbot(settings, config, services=services, clock=clock, serve_web=False, run_reminders=False)
        await bot.setup_hook()
        made.append(bot)
        return bot

    yield factory
    for bot in made:
        await bot.services.close()


@pytest.fixture
async def bot(make_bot) -> Hackbot:
    return await make_bot()


@pytest.fixture
def guild() -> FakeGuild:
    return FakeGuild()


@pytest.fixture
def member(guild):
    """member(name) -> a participant of the event guild."""
    return lambda name="alice": guild.join(name)


@pytest.fixture
def organizer(guild, bot):
    role = FakeRole(bot.config.discord.organizer_role, guild)
    guild.roles.append(role)
    return guild.join("orga", roles=[role])


@pytest.fixture
def interaction(bot):
    """interaction(user) -> a fresh FakeInteraction from that user, in their guild."""
    return lambda user, **kwargs: FakeInteraction(bot, user, **kwargs)


def cog_command(bot: Hackbot, qualified_name: str):
    """The app command at a path like "team create"."""
    command = bot.tree.get_command(qualified_name.split()[0])
    for part in qualified_name.split()[1:]:
        command = command.get_command(part)
    assert command is not None, f"no command /{qualified_name}"
    return command


async def call(bot: Hackbot, qualified_name: str, interaction, **kwargs):
    """Run a command as Discord would after its checks: callback(cog, interaction, ...);
    errors go through the tree's handler, as in the running bot."""
    command = cog_command(bot, qualified_name)
    try:
        await command.callback(command.binding, interaction, **kwargs)
    except Exception as exc:
        from discord import app_commands

        wrapped = exc if isinstance(exc, app_commands.AppCommandError) else app_commands.CommandInvokeError(command, exc)
        await bot.tree.on_error(interaction, wrapped)
    return interaction


async def run_checks(bot: Hackbot, qualified_name: str, interaction) -> bool:
    """The command's own checks (what the bot enforces whatever Discord's permissions say)."""
    command = cog_command(bot, qualified_name)
    return await command._check_can_run(interaction)


async def press(bot: Hackbot, reply: Reply, label: str, interaction: FakeInteraction) -> FakeInteraction:
    """A click on the button `label` of `reply`, dispatched as discord.py does: a persistent button
    through the templates the bot registered (so it answers whatever the process saw before),
    any other through its view; errors go where discord.py sends them."""
    view = reply.view
    assert view is not None, "the reply has no buttons"
    for child in view.children:
        button = child.item if isinstance(child, discord.ui.DynamicItem) else child
        if isinstance(button, discord.ui.Button) and button.label == label:
            break
    else:
        raise AssertionError(f"no button {label!r} (buttons: {[getattr(c, 'label', c) for c in view.children]})")
    assert not button.disabled, f"the button {label!r} is disabled"
    interaction.message = FakeMessage(reply)
    if not isinstance(child, discord.ui.DynamicItem):
        await view._scheduled_task(child, interaction)
        return interaction
    custom_id = button.custom_id
    registered = bot._connection._view_store._dynamic_items
    found = [(factory, pattern.fullmatch(custom_id)) for pattern, factory in registered.items()
             if pattern.fullmatch(custom_id)]
    assert found, f"no persistent button is registered for {custom_id!r}: it would die with a restart"
    factory, match = found[0]
    item = await factory.from_custom_id(interaction, discord.ui.Button(label=label, custom_id=custom_id), match)
    if await item.interaction_check(interaction):
        await item.callback(interaction)
    return interaction
