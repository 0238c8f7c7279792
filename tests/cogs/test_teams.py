"""/team as participants see it: their replies, and the role and private channel each team gets."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.cogs.conftest import call, cog_command
from tests.cogs.fakes import FakeInteraction, http_error
from tests.core.helpers import T0


def as_(bot, user) -> FakeInteraction:
    return FakeInteraction(bot, user)


async def create(bot, user, name: str = "Blue") -> FakeInteraction:
    return await call(bot, "team create", as_(bot, user), name=name)


async def join(bot, user, team: str = "Blue", code: str | None = None) -> FakeInteraction:
    return await call(bot, "team join", as_(bot, user), team=team, code=code)


async def code_of(bot, name: str = "Blue") -> str:
    return (await bot.services.roster.info(await bot.services.teams.get(name))).join_code


async def members_of(bot, name: str = "Blue") -> list[str]:
    return await bot.services.teams.members((await bot.services.teams.get(name)).id)


def role_named(guild, name: str):
    return next((r for r in guild.roles if r.name == name), None)


def channel_named(guild, name: str):
    return next((c for c in guild.text_channels if c.name == name), None)


def access(channel, target):
    overwrite = channel.overwrites.get(target)
    return None if overwrite is None else (overwrite.view_channel, overwrite.send_messages)


# --- create ----------------------------------------------------------------------------------

async def test_create_makes_the_captain_a_role_and_a_private_channel(bot, guild, member, organizer):
    alice = member("alice")
    it = await create(bot, alice)
    assert it.response.deferred == {"ephemeral": True, "thinking": True}
    reply = it.last
    assert reply.ephemeral
    code = await code_of(bot)
    assert f"`{code}`" in reply.content and "captain" in reply.content and "/token" in reply.content

    role = role_named(guild, "Team Blue")
    channel = channel_named(guild, "team-blue")
    assert role in alice.roles
    assert channel.category.name == "Teams"
    assert access(channel, guild.default_role) == (False, None)
    assert access(channel, role) == (True, True)
    assert access(channel, organizer.roles[-1])[0] is True
    assert access(channel, guild.me)[0] is True
    assert channel.mention in reply.content
    assert "Welcome" in channel.sent[0].content and alice.mention in channel.sent[0].content

    info = await bot.services.roster.info(await bot.services.teams.get("Blue"))
    assert (info.discord_role_id, info.discord_channel_id) == (role.id, channel.id)
    assert info.members == [str(alice.id)] and info.captain == str(alice.id)


async def test_create_refuses_someone_already_in_a_team(bot, guild, member):
    alice = member()
    await create(bot, alice, "Blue")
    reply = (await create(bot, alice, "Red")).last
    assert reply.ephemeral and "in a team already" in reply.content
    assert role_named(guild, "Team Red") is None and channel_named(guild, "team-red") is None


async def test_create_refuses_a_name_taken(bot, member):
    await create(bot, member("alice"), "Blue")
    reply = (await create(bot, member("bob"), "blue")).last
    assert reply.ephemeral and "exists already" in reply.content


async def test_create_refuses_once_formation_closed(make_bot, guild, member):
    bot = await make_bot(formation_closes=T0)
    reply = (await create(bot, member())).last
    assert reply.ephemeral and "team formation closed" in reply.content
    assert await bot.services.teams.list() == []
    assert guild.text_channels == []


# --- join ------------------------------------------------------------------------------------

async def test_join_with_the_code_lets_the_member_into_the_channel(bot, guild, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    it = await join(bot, bob, "Blue", await code_of(bot))
    assert it.last.ephemeral and "You joined team **Blue**" in it.last.content
    assert role_named(guild, "Team Blue") in bob.roles
    assert await members_of(bot) == [str(alice.id), str(bob.id)]
    assert any(bob.mention in m.content and "joined" in m.content for m in channel_named(guild, "team-blue").sent)


async def test_join_with_a_wrong_code_is_refused(bot, guild, member):
    await create(bot, member("alice"))
    bob = member("bob")
    reply = (await join(bot, bob, "Blue", "nope")).last
    assert reply.ephemeral and "wrong join code" in reply.content and "/team info" in reply.content
    assert role_named(guild, "Team Blue") not in bob.roles
    assert len(await members_of(bot)) == 1


async def test_an_open_team_takes_anyone_without_a_code_until_closed(bot, member):
    alice = member("alice")
    await create(bot, alice)
    opened = await call(bot, "team open", as_(bot, alice))
    assert opened.last.ephemeral and "is open" in opened.last.content
    assert (await join(bot, member("bob"))).last.content.startswith("You joined")

    closed = await call(bot, "team open", as_(bot, alice), open=False)
    assert "closed" in closed.last.content
    reply = (await join(bot, member("carol"))).last
    assert reply.ephemeral and "wrong join code" in reply.content


async def test_only_the_captain_opens_the_team(bot, member):
    await create(bot, member("alice"))
    bob = member("bob")
    await join(bot, bob, "Blue", await code_of(bot))
    reply = (await call(bot, "team open", as_(bot, bob))).last
    assert reply.ephemeral and "only the team's captain" in reply.content


async def test_join_refuses_a_full_team(make_bot, member):
    bot = await make_bot(max_size=2)
    await create(bot, member("alice"))
    code = await code_of(bot)
    await join(bot, member("bob"), "Blue", code)
    reply = (await join(bot, member("carol"), "Blue", code)).last
    assert reply.ephemeral and "full (2 members)" in reply.content


async def test_join_refuses_someone_already_in_a_team(bot, member):
    bob = member("bob")
    await create(bot, member("alice"), "Blue")
    await create(bot, bob, "Red")
    reply = (await join(bot, bob, "Blue", await code_of(bot))).last
    assert reply.ephemeral and "in a team already" in reply.content


async def test_join_refuses_an_unknown_team(bot, member):
    reply = (await join(bot, member(), "Nobody", "abc")).last
    assert reply.ephemeral and "no team named 'Nobody'" in reply.content


async def test_join_refuses_once_formation_closed(make_bot, clock, member):
    bot = await make_bot(formation_closes=T0 + timedelta(hours=2))
    await create(bot, member("alice"))
    clock.advance(hours=2)
    reply = (await join(bot, member("bob"), "Blue", await code_of(bot))).last
    assert reply.ephemeral and "team formation closed" in reply.content


async def test_thirty_people_join_a_team_with_two_free_places_at_once(make_bot, guild, member):
    bot = await make_bot(max_size=3)
    await create(bot, member("captain"))
    code = await code_of(bot)
    people = [member(f"p{i}") for i in range(30)]
    its = await asyncio.gather(*(join(bot, person, "Blue", code) for person in people))

    joined = [it for it in its if it.last.content.startswith("You joined")]
    full = [it for it in its if "full (3 members)" in it.last.content]
    assert len(joined) == 2 and len(full) == 28
    assert all(it.last.ephemeral for it in full)
    assert len(await members_of(bot)) == 3
    role = role_named(guild, "Team Blue")
    assert sum(role in person.roles for person in people) == 2


# --- leave -----------------------------------------------------------------------------------

async def test_the_captaincy_passes_on_when_the_captain_leaves(bot, guild, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    await join(bot, bob, "Blue", await code_of(bot))
    reply = (await call(bot, "team leave", as_(bot, alice))).last
    assert reply.ephemeral and "You left team **Blue**" in reply.content
    assert f"{bob.mention} is its captain" in reply.content
    assert role_named(guild, "Team Blue") not in alice.roles
    info = await bot.services.roster.info(await bot.services.teams.get("Blue"))
    assert info.captain == str(bob.id) and info.members == [str(bob.id)]
    # bob may now do what captains do
    assert "is open" in (await call(bot, "team open", as_(bot, bob))).last.content


async def test_the_last_one_out_disbands_the_team_with_its_role_and_channel(bot, guild, member):
    alice = member()
    await create(bot, alice)
    role, channel = role_named(guild, "Team Blue"), channel_named(guild, "team-blue")
    reply = (await call(bot, "team leave", as_(bot, alice))).last
    assert reply.ephemeral and "disbanded" in reply.content
    assert role.deleted and channel.deleted
    assert role not in guild.roles and channel not in guild.text_channels
    assert await bot.services.teams.list() == []


async def test_leave_without_a_team_is_refused(bot, member):
    reply = (await call(bot, "team leave", as_(bot, member()))).last
    assert reply.ephemeral and reply.content == "you are not in a team"


# --- info and list ---------------------------------------------------------------------------

async def test_info_shows_a_member_their_team_with_its_code(bot, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    code = await code_of(bot)
    await join(bot, bob, "Blue", code)
    reply = (await call(bot, "team info", as_(bot, bob))).last
    assert reply.ephemeral
    text = reply.text
    assert code in text and alice.mention in text and bob.mention in text
    assert "Captain " + alice.mention in text and "by code only" in text and "(2/3)" in text


async def test_info_on_another_team_shows_its_size_but_never_its_code(bot, member):
    await create(bot, member("alice"), "Blue")
    carol = member("carol")
    await create(bot, carol, "Red")
    reply = (await call(bot, "team info", as_(bot, carol), team="blue")).last
    assert reply.ephemeral and reply.content == "Team **Blue**: 1 member."
    assert await code_of(bot, "Blue") not in reply.text


async def test_info_without_a_team_says_how_to_get_one(bot, member):
    reply = (await call(bot, "team info", as_(bot, member()))).last
    assert reply.ephemeral and "not in a team" in reply.content and "/team join" in reply.content


async def test_list_shows_every_team_with_its_size_and_pages(bot, member):
    await create(bot, member("alice"), "Blue")
    for i in range(30):
        await bot.services.teams.create(f"Team {i:02d}")
    first = (await call(bot, "team list", as_(bot, member()))).last
    assert first.ephemeral
    assert "**Blue**: 1/3" in first.text and "**Team 00**: 0/3" in first.text
    assert "Page 1 of 2 (31 teams)" in first.text
    second = (await call(bot, "team list", as_(bot, member()), page=2)).last
    assert "**Team 29**" in second.text and "**Blue**" not in second.text


async def test_team_names_autocomplete_filters_by_what_is_typed(bot, member):
    for name in ("Blue", "Red", "Bluebird", "Deep blue"):
        await bot.services.teams.create(name)
    for _ in range(30):
        await bot.services.teams.create(f"x{_}")
    for path in ("team join", "team info"):
        it = as_(bot, member())
        it.namespace.__dict__["team"] = "blu"
        await cog_command(bot, path)._invoke_autocomplete(it, "team", it.namespace)
        assert [c.value for c in it.response.choices] == ["Blue", "Bluebird", "Deep blue"]
    it = as_(bot, member())
    it.namespace.__dict__["team"] = ""
    await cog_command(bot, "team join")._invoke_autocomplete(it, "team", it.namespace)
    assert len(it.response.choices) == 25


# --- kick and rename -------------------------------------------------------------------------

async def test_the_captain_kicks_a_member_out_of_the_team_and_its_channel(bot, guild, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    await join(bot, bob, "Blue", await code_of(bot))
    reply = (await call(bot, "team kick", as_(bot, alice), member=bob)).last
    assert reply.ephemeral and bob.mention in reply.content
    assert role_named(guild, "Team Blue") not in bob.roles
    assert await members_of(bot) == [str(alice.id)]


async def test_only_the_captain_kicks(bot, guild, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    await join(bot, bob, "Blue", await code_of(bot))
    reply = (await call(bot, "team kick", as_(bot, bob), member=alice)).last
    assert reply.ephemeral and "only the team's captain" in reply.content
    assert role_named(guild, "Team Blue") in alice.roles


async def test_kick_refuses_someone_outside_the_team_and_without_a_team(bot, member):
    alice = member("alice")
    await create(bot, alice)
    reply = (await call(bot, "team kick", as_(bot, alice), member=member("stranger"))).last
    assert reply.ephemeral and "not in your team" in reply.content
    reply = (await call(bot, "team kick", as_(bot, member("nobody")), member=alice)).last
    assert reply.ephemeral and "not in a team" in reply.content


async def test_rename_renames_the_role_and_the_channel(bot, guild, member):
    alice = member()
    await create(bot, alice)
    role, channel = role_named(guild, "Team Blue"), channel_named(guild, "team-blue")
    reply = (await call(bot, "team rename", as_(bot, alice), name="Deep Purple")).last
    assert reply.ephemeral and "**Deep Purple**" in reply.content
    assert role.name == "Team Deep Purple" and channel.name == "team-deep-purple"
    assert (await bot.services.teams.get("deep purple")).id


async def test_only_the_captain_renames(bot, member):
    alice, bob = member("alice"), member("bob")
    await create(bot, alice)
    await join(bot, bob, "Blue", await code_of(bot))
    reply = (await call(bot, "team rename", as_(bot, bob), name="Mine")).last
    assert reply.ephemeral and "only the team's captain" in reply.content
    reply = (await call(bot, "team rename", as_(bot, member("carol")), name="Mine")).last
    assert reply.ephemeral and "not in a team" in reply.content


async def test_a_team_named_like_the_organizer_role_gets_no_organizer_powers(bot, guild, member):
    mallory = member("mallory")
    await create(bot, mallory, bot.config.discord.organizer_role)
    assert all(role.name != bot.config.discord.organizer_role for role in mallory.roles)


# --- Discord refusing a side effect does not undo the command --------------------------------

async def test_a_refused_channel_creation_still_creates_the_team_and_names_the_missing_permission(
        bot, guild, member, monkeypatch):
    import discord

    from bot import guild as spaces

    await spaces.ensure_event_objects(guild, bot.config)
    guild.me.guild_permissions = discord.Permissions(discord.Permissions.all().value & ~discord.Permissions(
        manage_channels=True).value)

    async def refuse(*args, **kwargs):
        raise http_error(403, 50013, "Missing Permissions", path=f"/api/v10/guilds/{guild.id}/channels")

    monkeypatch.setattr(guild, "create_text_channel", refuse)
    reply = (await create(bot, member())).last
    assert reply.ephemeral and "Join code" in reply.content
    assert "the bot lacks the Manage Channels permission" in reply.content and "Something went wrong" not in reply.content
    assert [t.name for t in await bot.services.teams.list()] == ["Blue"]
    told = spaces.find_text_channel(guild, "hackbot-log").sent[-1].content
    assert "Blue" in told and "Manage Channels" in told and "Server Settings" in told
