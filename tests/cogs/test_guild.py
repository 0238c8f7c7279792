"""The event's Discord objects (bot/guild.py): created when missing, never twice, repaired on
start, and laid out within Discord's limits (50 channels a category, 250 roles a server)."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot import guild as spaces
from bot.config import DiscordSection
from bot.core.teams import Team
from tests.cogs.conftest import call
from tests.cogs.fakes import FakeGuild, FakeInteraction, FakeMember, FakeRole


@pytest.fixture
def guild() -> FakeGuild:
    return FakeGuild()


async def create(bot, user, name: str) -> FakeInteraction:
    return await call(bot, "team create", FakeInteraction(bot, user), name=name)


async def info(bot, name: str):
    return await bot.services.roster.info(await bot.services.teams.get(name))


def member_targets(channel) -> set[int]:
    return {target.id for target in channel.overwrites if isinstance(target, (FakeMember, discord.Object))} - {
        channel.guild.me.id
    }


# --- the event's objects ---------------------------------------------------------------------

async def test_event_objects_are_created_once(bot, guild):
    created = await spaces.ensure_event_objects(guild, bot.config)
    assert created == [
        "role @Organizers", "role @Judges", "channel #announcements", "channel #hackbot-log", "category Teams"
    ]
    assert await spaces.ensure_event_objects(guild, bot.config) == []
    log_channel = spaces.find_text_channel(guild, "hackbot-log")  # organizer reports: not for participants
    assert log_channel.overwrites[guild.default_role].view_channel is False
    assert log_channel.overwrites[spaces.find_role(guild, "Organizers")].view_channel is True
    assert [r.name for r in guild.roles].count("Organizers") == 1
    announcements = spaces.find_text_channel(guild, "announcements")
    organizers = spaces.find_role(guild, "Organizers")
    assert announcements.overwrites[guild.default_role].send_messages is False
    assert announcements.overwrites[organizers].send_messages is True
    teams = guild.categories[0]
    assert teams.overwrites[guild.default_role].view_channel is False


async def test_event_objects_follow_the_event_file(bot, guild):
    config = bot.config.model_copy(
        update={
            "discord": DiscordSection(
                organizer_role="Staff", judge_role="Jury", announcements_channel="news", team_category="Squads",
                log_channel="staff-log",
            )
        }
    )
    created = await spaces.ensure_event_objects(guild, config)
    assert created == ["role @Staff", "role @Jury", "channel #news", "channel #staff-log", "category Squads"]


async def test_existing_objects_are_kept(bot, guild):
    guild.roles.append(FakeRole("Organizers", guild))
    await guild.create_text_channel("announcements")
    await guild.create_text_channel("hackbot-log")
    created = await spaces.ensure_event_objects(guild, bot.config)
    assert created == ["role @Judges", "category Teams"]


# --- layout within Discord's limits ----------------------------------------------------------

async def test_team_channels_fill_categories_of_at_most_fifty(bot, guild):
    people = [guild.join(f"p{i}") for i in range(120)]
    await asyncio.gather(*(create(bot, person, f"Team {i:03d}") for i, person in enumerate(people)))
    categories = sorted(guild.categories, key=lambda c: c.name)
    assert [c.name for c in categories] == ["Teams", "Teams 2", "Teams 3"]
    assert sorted(len(c.channels) for c in categories) == [20, 50, 50]
    assert len(guild.text_channels) == 120 and len({c.name for c in guild.text_channels}) == 120
    team_roles = [r for r in guild.roles if r.name.startswith("Team ")]
    assert len(team_roles) == 120 and len(guild.roles) == 2 + 120  # @everyone and the bot's role


async def test_past_the_role_headroom_members_get_per_member_overwrites(bot, guild):
    guild.fill(roles=250 - spaces.ROLE_HEADROOM - 3 - len(guild.roles))  # room for three team roles
    captains = [guild.join(f"c{i}") for i in range(5)]
    for i, captain in enumerate(captains):
        await create(bot, captain, f"T{i}")
    assert len(guild.roles) == 250 - spaces.ROLE_HEADROOM  # the organizers keep their headroom
    late = await info(bot, "T4")
    assert late.discord_role_id is None
    channel = guild.get_channel(late.discord_channel_id)
    assert member_targets(channel) == {captains[4].id}
    assert channel.overwrites[captains[4]].view_channel is True
    assert channel.overwrites[guild.default_role].view_channel is False
    assert captains[4].roles == [guild.default_role]
    assert "/admin setup" not in "".join(r.text for r in (await create(bot, guild.join("c5"), "T5")).replies)

    bob = guild.join("bob")
    await call(bot, "team join", FakeInteraction(bot, bob), team="T4", code=late.join_code)
    assert member_targets(channel) == {captains[4].id, bob.id}
    await call(bot, "team kick", FakeInteraction(bot, captains[4]), member=bob)
    assert member_targets(channel) == {captains[4].id}
    await call(bot, "team leave", FakeInteraction(bot, captains[4]))
    assert channel.deleted


async def test_a_per_member_team_stays_one_when_roles_free_up(bot, guild, monkeypatch):
    monkeypatch.setattr(spaces, "ROLE_HEADROOM", 250)
    alice = guild.join("alice")
    await create(bot, alice, "Blue")
    monkeypatch.setattr(spaces, "ROLE_HEADROOM", 10)
    bob = guild.join("bob")
    await call(bot, "team join", FakeInteraction(bot, bob), team="Blue", code=(await info(bot, "Blue")).join_code)
    assert (await info(bot, "Blue")).discord_role_id is None
    assert bob.id in member_targets(guild.get_channel((await info(bot, "Blue")).discord_channel_id))


# --- repair ----------------------------------------------------------------------------------

async def test_reconcile_recreates_a_deleted_team_channel(bot, guild):
    alice = guild.join("alice")
    await create(bot, alice, "Blue")
    before = await info(bot, "Blue")
    await guild.get_channel(before.discord_channel_id).delete()

    repair = await spaces.reconcile(guild, bot.config, bot.services)
    assert "channel #team-blue" in repair.created and not repair.failed
    after = await info(bot, "Blue")
    channel = guild.get_channel(after.discord_channel_id)
    assert channel is not None and channel.name == "team-blue" and after.discord_channel_id != before.discord_channel_id
    assert channel.overwrites[guild.get_role(after.discord_role_id)].view_channel is True
    assert (await spaces.reconcile(guild, bot.config, bot.services)).created == []


async def test_reconcile_recreates_a_deleted_role_and_gives_it_back(bot, guild):
    alice, bob = guild.join("alice"), guild.join("bob")
    await create(bot, alice, "Blue")
    await call(bot, "team join", FakeInteraction(bot, bob), team="Blue", code=(await info(bot, "Blue")).join_code)
    await guild.get_role((await info(bot, "Blue")).discord_role_id).delete()

    repair = await spaces.reconcile(guild, bot.config, bot.services)
    assert "role @Team Blue" in repair.created
    after = await info(bot, "Blue")
    role = guild.get_role(after.discord_role_id)
    assert role in alice.roles and role in bob.roles
    assert guild.get_channel(after.discord_channel_id).overwrites[role].view_channel is True


async def test_reconcile_restores_a_per_member_channel_with_its_members(bot, guild, monkeypatch):
    monkeypatch.setattr(spaces, "ROLE_HEADROOM", 250)
    alice = guild.join("alice")
    await create(bot, alice, "Blue")
    await guild.get_channel((await info(bot, "Blue")).discord_channel_id).delete()
    await spaces.reconcile(guild, bot.config, bot.services)
    after = await info(bot, "Blue")
    assert after.discord_role_id is None
    assert member_targets(guild.get_channel(after.discord_channel_id)) == {alice.id}


async def test_objects_left_by_a_half_done_side_effect_are_adopted_not_duplicated(bot, guild):
    alice = guild.join("alice")
    await create(bot, alice, "Blue")
    team = (await info(bot, "Blue")).team
    await bot.services.roster.set_discord(team.id, None, None)  # as if the bot died before storing them

    await spaces.reconcile(guild, bot.config, bot.services)
    assert [r.name for r in guild.roles].count("Team Blue") == 1
    assert [c.name for c in guild.text_channels].count("team-blue") == 1
    assert (await info(bot, "Blue")).discord_channel_id == spaces.find_text_channel(guild, "team-blue").id


async def test_remove_team_space_is_idempotent(bot, guild):
    await create(bot, guild.join("alice"), "Blue")
    stored = await info(bot, "Blue")
    ids = (stored.team.id, stored.discord_role_id, stored.discord_channel_id)
    assert await spaces.remove_team_space(guild, *ids) == ["role @Team Blue", "channel #team-blue"]
    assert await spaces.remove_team_space(guild, *ids) == []


async def test_a_team_disbanded_while_its_space_is_being_made_leaves_nothing_behind(bot, guild):
    alice = guild.join("alice")
    slow = asyncio.Event()
    create_text_channel = guild.create_text_channel

    async def slow_channel(*args, **kwargs):
        await slow.wait()
        return await create_text_channel(*args, **kwargs)

    role_made = asyncio.Event()
    create_role = guild.create_role

    async def create_role_and_tell(*args, **kwargs):
        role = await create_role(*args, **kwargs)
        role_made.set()
        return role

    guild.create_text_channel = slow_channel
    guild.create_role = create_role_and_tell
    creating = asyncio.create_task(create(bot, alice, "Blue"))
    await role_made.wait()  # the role is made, the channel not yet, no id stored
    leaving = asyncio.create_task(call(bot, "team leave", FakeInteraction(bot, alice)))
    await asyncio.sleep(0.05)
    slow.set()
    await asyncio.gather(creating, leaving)
    assert guild.roles == [guild.default_role, guild.me.top_role]
    assert guild.text_channels == []


def test_team_role_names_never_take_an_event_role_name(bot):
    config = bot.config.model_copy(update={"discord": DiscordSection(organizer_role="Team Staff")})
    assert spaces.role_name(config, Team(1, "Rocket", "rocket", False)) == "Team Rocket"
    assert spaces.role_name(config, Team(1, "Team Rocket", "team_rocket", False)) == "Team Rocket"
    assert spaces.role_name(config, Team(1, "Staff", "staff", False)) == "Team Staff (team)"
    assert spaces.role_name(config, Team(1, "team staff", "staff", False)) == "team staff (team)"
    assert spaces.channel_name(Team(1, "Deep Blue!", "deep_blue", False)) == "team-deep-blue"


def test_channel_names_keep_every_script_and_never_collide_on_non_latin_names():
    names = {spaces.channel_name(Team(n, name, f"team_{n}", False)) for n, name in enumerate(
        ["数据", "模型", "Модель", "فريق", "🚀"])}
    assert names == {"team-数据", "team-模型", "team-модель", "team-فريق", "team-🚀"}
    assert spaces.channel_name(Team(9, "!!!", "team_9", False)) == "team-team-9"  # nothing kept: the username


# --- on start --------------------------------------------------------------------------------

async def test_reconcile_runs_when_the_event_guild_becomes_available(bot, guild):
    admin = bot.get_cog("Admin")
    bot.settings = bot.settings.model_copy(update={"hackbot_guild_id": guild.id + 1})
    await admin.reconcile_guild(guild)
    assert guild.categories == []  # another guild: left alone

    bot.settings = bot.settings.model_copy(update={"hackbot_guild_id": guild.id})
    await admin.reconcile_guild(guild)
    assert spaces.find_text_channel(guild, "announcements") is not None
    assert "on_guild_available" in [name for name, _ in admin.get_listeners()]


# --- past Discord's 500 channels: private threads ----------------------------------------------

async def test_past_the_channel_headroom_team_spaces_are_private_threads(bot, guild):
    # room for one more team channel and its category, then the organizers' headroom
    guild.fill(channels=500 - spaces.CHANNEL_HEADROOM - 2)
    alice, bob, carol = guild.join("alice"), guild.join("bob"), guild.join("carol")
    await create(bot, alice, "Blue")
    assert guild.get_channel((await info(bot, "Blue")).discord_channel_id) is not None  # a channel still
    await create(bot, bob, "Red")
    red = await info(bot, "Red")
    thread = guild.get_channel_or_thread(red.discord_channel_id)
    assert thread in guild.threads and thread.private and thread.parent.name == spaces.THREADS_CHANNEL
    assert thread.name == "Team Red" and thread.people == {bob.id}
    assert any("Welcome, team **Red**" in m.content for m in thread.sent)
    assert len(guild.channels) < 500  # never the cap: threads do not count
    threads_channel = thread.parent
    assert threads_channel.overwrites[guild.default_role].send_messages is False
    assert threads_channel.overwrites[guild.default_role].create_private_threads is False

    await call(bot, "team join", FakeInteraction(bot, carol), team="Red", code=red.join_code)
    assert thread.people == {bob.id, carol.id}
    await call(bot, "team rename", FakeInteraction(bot, bob), name="Crimson")
    assert thread.name == "Team Crimson"
    made = (await spaces.reconcile(guild, bot.config, bot.services)).created
    assert not [m for m in made if "team" in m.lower() or "thread" in m]  # no team space made twice
    await call(bot, "team leave", FakeInteraction(bot, carol))
    assert thread.people == {bob.id}
    await call(bot, "team leave", FakeInteraction(bot, bob))
    assert thread.deleted and guild.threads == []


async def test_reconcile_of_520_teams_in_a_full_server_makes_threads_and_nothing_twice(bot, guild):
    people = [guild.join(f"p{i}") for i in range(520)]
    for i, person in enumerate(people):
        await bot.services.teams.create(f"Team {i:03d}", captain=str(person.id))
    first = await spaces.reconcile(guild, bot.config, bot.services)
    assert not first.failed
    assert len(guild.channels) <= 500 - spaces.CHANNEL_HEADROOM + 1  # + #team-threads
    assert len(guild.threads) > 0 and len(guild.roles) <= 250 - spaces.ROLE_HEADROOM
    infos = await bot.services.roster.infos()
    assert all(guild.get_channel_or_thread(i.discord_channel_id) is not None for i in infos)
    assert len({i.discord_channel_id for i in infos}) == 520
    again = await spaces.reconcile(guild, bot.config, bot.services)
    assert again.created == [] and not again.failed  # a restart creates nothing again
