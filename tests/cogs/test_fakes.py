"""The fakes cannot drift from discord.py: built on the real classes' specs."""

from __future__ import annotations

import discord
import pytest

from tests.cogs.fakes import FakeChannel, FakeGuild, FakeMember


def test_a_fake_has_what_the_real_class_has_and_nothing_else():
    guild = FakeGuild()
    assert isinstance(guild, discord.Guild) and isinstance(guild.me, discord.Member)
    with pytest.raises(AttributeError):
        guild.get_memberr  # noqa: B018  (a misspelt attribute is refused)
    with pytest.raises(AttributeError):
        guild.channel_count = 3  # not an attribute of discord.Guild
    assert callable(guild.fetch_ban)  # what a fake does not implement is still there, as a mock


async def test_a_call_the_real_method_would_refuse_is_refused():
    guild = FakeGuild()
    with pytest.raises(TypeError):
        await guild.create_role(nam="Team Blue")
    with pytest.raises(TypeError):
        await FakeChannel("x", guild).send("hi", ephemeral=True)  # a channel message cannot be ephemeral
    member = FakeMember("alice", guild)
    with pytest.raises(TypeError):
        await member.add_roles(guild.default_role, reasons="typo")


def test_a_fake_cannot_grow_an_attribute_the_real_class_lacks():
    with pytest.raises(TypeError, match="has no 'shortcut'"):
        class Drifting(FakeGuild):  # noqa: F841
            SPEC = discord.Guild

            def shortcut(self):
                return None
