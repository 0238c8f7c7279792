"""Fixtures for cog tests: the real bot built without connecting, over real services on a
temporary database (SQLite and PostgreSQL), and fake Discord members and interactions
(tests/cogs/fakes.py)."""

from __future__ import annotations

import pytest

from bot.app import Hackbot
from bot.config import Settings, load_event
from bot.core.services import Services
from tests.cogs.fakes import FakeGuild, FakeInteraction, FakeMember, FakeRole
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
    return lambda name="alice": FakeMember(name, guild)


@pytest.fixture
def organizer(guild, bot):
    role = FakeRole(bot.config.discord.organizer_role, guild)
    guild.roles.append(role)
    return FakeMember("orga", guild, roles=[role])


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
