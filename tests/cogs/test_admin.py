"""/admin as organizers (and everyone else) see it: guarded twice, the event's objects made once,
phases forced and announced, teams validated or removed, the leaderboard posted."""

from __future__ import annotations

import re

import pytest
from discord import app_commands

from bot import guild as spaces
from bot.cogs.admin import phase_announcement
from tests.cogs.conftest import call, cog_command, run_checks
from tests.cogs.fakes import FakeInteraction, FakeMember

ADMIN_COMMANDS = [
    ("admin setup", {}),
    ("admin sync", {}),
    ("admin phase show", {}),
    ("admin phase set", {"phase": "real"}),
    ("admin team validate", {"name": "Blue"}),
    ("admin team remove", {"name": "Blue"}),
    ("admin leaderboard post", {}),
    ("admin projects", {}),
    ("admin moderate", {"team": "Blue", "verdict": "eligible"}),
]


async def call_checked(bot, path: str, it, **kwargs):
    """As Discord runs a command: its checks first, their failure answered by the tree."""
    try:
        await run_checks(bot, path, it)
    except app_commands.CheckFailure as failure:
        await bot.tree.on_error(it, failure)
        return it
    return await call(bot, path, it, **kwargs)


def test_every_admin_command_is_listed_here(bot):
    group = bot.tree.get_command("admin")
    leaves = {c.qualified_name for c in group.walk_commands() if isinstance(c, app_commands.Command)}
    assert leaves == {name for name, _ in ADMIN_COMMANDS}


async def test_a_participant_is_refused_every_admin_command_with_the_role_named(bot, member, interaction):
    for name, kwargs in ADMIN_COMMANDS:
        with pytest.raises(app_commands.CheckFailure, match="'Organizers' role"):
            await run_checks(bot, name, interaction(member()))
        it = await call_checked(bot, name, interaction(member()), **kwargs)
        assert len(it.replies) == 1 and it.last.ephemeral, name
        assert it.last.content == "Only organizers (the 'Organizers' role) can use this command.", name
    assert (await bot.services.phases.status(bot.clock())).override is None


async def test_organizers_and_server_admins_pass_the_checks(bot, guild, organizer, interaction):
    owner = FakeMember("owner", guild, administrator=True)
    for name, _ in ADMIN_COMMANDS:
        assert await run_checks(bot, name, interaction(organizer)), name
        assert await run_checks(bot, name, interaction(owner)), name


async def test_outside_a_server_nobody_is_an_organizer(bot, organizer):
    it = FakeInteraction(bot, organizer, guild=None)
    it.guild = None
    with pytest.raises(app_commands.CheckFailure):
        await run_checks(bot, "admin setup", it)


# --- setup and sync --------------------------------------------------------------------------

async def test_setup_creates_what_is_missing_and_a_second_run_nothing(bot, guild, interaction):
    owner = FakeMember("owner", guild, administrator=True)
    it = await call(bot, "admin setup", interaction(owner))
    assert it.response.deferred == {"ephemeral": True, "thinking": True}
    assert it.last.ephemeral and it.last.kind == "followup"
    for item in ("role @Organizers", "role @Judges", "channel #announcements", "category Teams"):
        assert item in it.last.content
    names = sorted([r.name for r in guild.roles] + [c.name for c in guild.channels])

    again = await call(bot, "admin setup", interaction(owner))
    assert "Nothing to create" in again.last.content
    assert sorted([r.name for r in guild.roles] + [c.name for c in guild.channels]) == names


async def test_setup_repairs_a_team_space(bot, guild, organizer, member, interaction):
    alice = member("alice")
    await call(bot, "team create", interaction(alice), name="Blue")
    channel = spaces.find_text_channel(guild, "team-blue")
    await channel.delete()
    it = await call(bot, "admin setup", interaction(organizer))
    assert "channel #team-blue" in it.last.content
    assert spaces.find_text_channel(guild, "team-blue") is not None


async def test_sync_defers_then_reports_how_many_commands(bot, organizer, interaction, monkeypatch):
    async def sync_commands():
        return ["team", "reveal", "admin"]

    monkeypatch.setattr(bot, "sync_commands", sync_commands)
    it = await call(bot, "admin sync", interaction(organizer))
    assert it.response.deferred == {"ephemeral": True, "thinking": True}
    assert it.last.ephemeral and it.last.content == "Synced 3 commands with Discord."


# --- phases ----------------------------------------------------------------------------------

async def test_phase_show_lists_phases_as_discord_timestamps(bot, organizer, interaction):
    reply = (await call(bot, "admin phase show", interaction(organizer))).last
    assert reply.ephemeral
    assert "Current phase: **mock**, from the schedule" in reply.text
    starts = {p.id: int(p.starts.timestamp()) for p in bot.config.phases}
    assert f"starts <t:{starts['mock']}:F>" in reply.text and f"starts <t:{starts['real']}:F>" in reply.text
    assert re.search(r"mock \(current\)", reply.text)


async def test_phase_set_changes_the_phase_and_announces_it(bot, guild, organizer, interaction, clock):
    await spaces.ensure_event_objects(guild, bot.config)
    it = await call(bot, "admin phase set", interaction(organizer), phase="real")
    assert it.last.ephemeral and "**real**" in it.last.content
    assert (await bot.services.phases.current(clock())).id == "real"
    announcements = spaces.find_text_channel(guild, "announcements")
    assert [m.content for m in announcements.sent] == [
        "Phase 'real' is now open: new datasets, leaderboard starts from zero"
    ]
    show = (await call(bot, "admin phase show", interaction(organizer))).last
    assert "**real**, set by hand" in show.text

    await call(bot, "admin phase set", interaction(organizer), phase="real")
    assert len(announcements.sent) == 1  # nothing changed, nothing announced

    await call(bot, "admin phase set", interaction(organizer), phase="auto")
    status = await bot.services.phases.status(clock())
    assert status.current.id == "mock" and status.override is None
    assert announcements.sent[-1].content == phase_announcement(bot.config.phase("mock"))


async def test_phase_set_refuses_an_unknown_phase(bot, organizer, interaction, clock):
    reply = (await call(bot, "admin phase set", interaction(organizer), phase="final")).last
    assert reply.ephemeral and "there is no phase 'final'" in reply.content and "mock, real" in reply.content
    assert (await bot.services.phases.current(clock())).id == "mock"


async def test_phase_set_without_an_announcements_channel_says_how_to_make_it(bot, organizer, interaction, clock):
    it = await call(bot, "admin phase set", interaction(organizer), phase="real")
    assert (await bot.services.phases.current(clock())).id == "real"
    assert it.last.ephemeral and "/admin setup" in it.last.content


async def test_phase_autocomplete_offers_the_phases_and_auto(bot, organizer, interaction):
    it = interaction(organizer)
    it.namespace.__dict__["phase"] = ""
    await cog_command(bot, "admin phase set")._invoke_autocomplete(it, "phase", it.namespace)
    assert [c.value for c in it.response.choices] == ["mock", "real", "auto"]


# --- teams -----------------------------------------------------------------------------------

async def test_validate_a_team(bot, organizer, member, interaction):
    await call(bot, "team create", interaction(member()), name="Blue")
    reply = (await call(bot, "admin team validate", interaction(organizer), name="blue")).last
    assert reply.ephemeral and "**Blue** is validated" in reply.content
    assert (await bot.services.teams.get("Blue")).validated
    reply = (await call(bot, "admin team validate", interaction(organizer), name="Blue", validated=False)).last
    assert "no longer validated" in reply.content
    assert not (await bot.services.teams.get("Blue")).validated


async def test_validate_an_unknown_team_is_refused(bot, organizer, interaction):
    reply = (await call(bot, "admin team validate", interaction(organizer), name="Nobody")).last
    assert reply.ephemeral and "no team named 'Nobody'" in reply.content


async def test_remove_a_team_with_its_role_and_channel(bot, guild, organizer, member, interaction):
    alice = member("alice")
    await call(bot, "team create", interaction(alice), name="Blue")
    role, channel = spaces.find_role(guild, "Team Blue"), spaces.find_text_channel(guild, "team-blue")
    it = await call(bot, "admin team remove", interaction(organizer), name="Blue")
    assert it.last.ephemeral and "**Blue** is removed (1 members)" in it.last.content
    assert "role @Team Blue" in it.last.content and "channel #team-blue" in it.last.content
    assert role.deleted and channel.deleted
    assert await bot.services.teams.list() == []
    assert await bot.services.teams.team_of(str(alice.id)) is None


async def test_remove_an_unknown_team_is_refused(bot, organizer, interaction):
    reply = (await call(bot, "admin team remove", interaction(organizer), name="Nobody")).last
    assert reply.ephemeral and "no team named 'Nobody'" in reply.content


# --- leaderboard -----------------------------------------------------------------------------

async def test_leaderboard_post_goes_to_the_announcements_channel(bot, guild, organizer, member, interaction):
    await spaces.ensure_event_objects(guild, bot.config)
    await call(bot, "team create", interaction(member()), name="Blue")
    it = await call(bot, "admin leaderboard post", interaction(organizer))
    announcements = spaces.find_text_channel(guild, "announcements")
    assert it.last.ephemeral and announcements.mention in it.last.content
    [post] = announcements.sent
    assert post.embed is not None and "Blue" in post.text


async def test_leaderboard_post_without_the_channel_is_refused(bot, organizer, interaction):
    reply = (await call(bot, "admin leaderboard post", interaction(organizer))).last
    assert reply.ephemeral and "#announcements" in reply.content and "/admin setup" in reply.content
