"""The command tree as Discord will see it: every payload valid, every organizer command
guarded twice, every error answered by the tree's one handler, ephemerally."""

from __future__ import annotations

import logging
import re

import discord
import pytest
from discord import app_commands

from bot.app import EXTENSIONS, Hackbot, intents
from bot.core.errors import NotAllowed
from bot.tree import HackbotTree
from tests.cogs.conftest import call

ORGANIZER_GROUPS = {"admin", "winners", "agenda", "match"}
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def all_commands(bot: Hackbot) -> list[app_commands.Command]:
    return [c for c in bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


def test_every_cog_is_loaded_and_the_tree_is_ours(bot):
    assert isinstance(bot.tree, HackbotTree)
    assert set(bot.extensions) == set(EXTENSIONS)
    top = {c.name for c in bot.tree.get_commands()}
    assert {"team", "reveal", "token", "submit", "leaderboard", "schedule", "admin", "winners", "agenda", "match"} <= top


def test_minimal_intents():
    wanted = intents()
    assert wanted.guilds
    assert not (wanted.members or wanted.presences or wanted.message_content), "privileged intents are not used"


def test_every_payload_is_valid_for_discord(bot):
    top = bot.tree.get_commands()
    assert len(top) <= 100
    for command in top:
        payload = command.to_dict(bot.tree)
        _check_payload(payload, path=command.name)


def _check_payload(payload: dict, path: str) -> None:
    assert NAME.match(payload["name"]), f"/{path}: bad name {payload['name']!r}"
    assert 1 <= len(payload["description"]) <= 100, f"/{path}: description length"
    options = payload.get("options", [])
    assert len(options) <= 25, f"/{path}: too many options"
    required_seen_optional = False
    for option in options:
        sub = f"{path} {option['name']}"
        if option["type"] in (1, 2):  # subcommand, subcommand group
            _check_payload(option, sub)
            continue
        assert NAME.match(option["name"]), f"/{sub}: bad option name"
        assert 1 <= len(option["description"]) <= 100, f"/{sub}: option description length"
        if option.get("required"):
            assert not required_seen_optional, f"/{path}: a required option after an optional one"
        else:
            required_seen_optional = True
        for choice in option.get("choices", []):
            assert 1 <= len(choice["name"]) <= 100


def test_organizer_commands_are_guarded_twice(bot):
    groups = [c for c in bot.tree.get_commands() if c.name in ORGANIZER_GROUPS]
    assert {g.name for g in groups} == ORGANIZER_GROUPS
    for group in groups:
        assert isinstance(group, app_commands.Group)
        assert group.default_permissions == discord.Permissions(manage_guild=True), group.name
        assert group.guild_only, group.name
        commands = [c for c in group.walk_commands() if isinstance(c, app_commands.Command)]
        assert commands, group.name
        for command in commands:
            assert any(getattr(check, "organizer_check", False) for check in command.checks), (
                f"/{command.qualified_name} lacks the bot's own organizer check"
            )
    # and no participant command hides behind Discord's permissions alone
    for command in all_commands(bot):
        if command.root_parent is None or command.root_parent.name not in ORGANIZER_GROUPS:
            assert command.default_permissions is None, command.qualified_name


def test_every_command_answers_errors_through_the_tree(bot):
    for command in all_commands(bot):
        assert command.on_error is None, f"/{command.qualified_name} has its own error handler"
    for cog in bot.cogs.values():
        assert type(cog).cog_app_command_error is discord.ext.commands.Cog.cog_app_command_error, cog


async def test_domain_error_becomes_an_ephemeral_reply(bot, member, interaction):
    it = interaction(member())
    await bot.tree.on_error(it, app_commands.CommandInvokeError(_any_command(bot), NotAllowed("budget spent")))
    assert it.last.ephemeral and it.last.content == "budget spent"


async def test_unexpected_error_is_logged_with_an_id_shown_to_the_user(bot, member, interaction, caplog):
    it = interaction(member())
    with caplog.at_level(logging.ERROR):
        await bot.tree.on_error(it, app_commands.CommandInvokeError(_any_command(bot), KeyError("boom")))
    match = re.search(r"error id `([0-9a-f]{8})`", it.last.content)
    assert it.last.ephemeral and match
    assert any(match.group(1) in r.getMessage() for r in caplog.records)


async def test_error_after_defer_goes_to_the_followup(bot, member, interaction):
    it = interaction(member())
    await it.response.defer(ephemeral=True)
    await bot.tree.on_error(it, app_commands.CommandInvokeError(_any_command(bot), NotAllowed("closed")))
    assert it.last.kind == "followup" and it.last.ephemeral and it.last.content == "closed"


async def test_schedule_lists_items_as_discord_timestamps(bot, member, interaction):
    it = await call(bot, "schedule all", interaction(member()), past=True)
    assert it.last.ephemeral
    assert it.last.embed is not None


def _any_command(bot: Hackbot) -> app_commands.Command:
    return all_commands(bot)[0]


@pytest.fixture(autouse=True)
def _quiet_discord_logs(caplog):
    caplog.set_level(logging.WARNING, logger="discord")
