"""/team lfg, /team recruit and /match run as people see them: the form, the pool, the preview,
the confirmation, the teams' spaces, the messages to the matched members."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.config import MatchmakingSection
from tests.cogs.conftest import call, press, run_checks
from tests.cogs.fakes import FakeInteraction

YES = "Create these teams"
TOPICS = ["Build", "Train", "Analyse"]


@pytest.fixture
def topics(bot):
    """The event file's [matchmaking] topics (the cog tests' event has none)."""
    bot.services.lfg.config = bot.config.model_copy(update={"matchmaking": MatchmakingSection(topics=TOPICS)})


@pytest.fixture
def people(guild, member):
    """people(n) -> n members the guild can look up by id (as guild.get_member does)."""
    known = {}
    guild.get_member = lambda user_id: known.get(user_id)

    def make(n: int, prefix: str = "p"):
        made = [member(f"{prefix}{i}") for i in range(n)]
        known.update({m.id: m for m in made})
        return made

    return make


async def submit_lfg(modal, interaction, **typed: str):
    fields = {
        "topics": modal.topics_input, "experience": modal.experience_input, "timezone": modal.timezone_input,
        "skills": modal.skills_input, "open": modal.open_input,
    }
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": f.custom_id, "value": typed.get(name, f.default or "")}]}
        for name, f in fields.items()
    ]
    await modal._scheduled_task(interaction, rows, {})
    return interaction


async def lfg_join(bot, user, **typed):
    """/team lfg join, then the form submitted with `typed` (field name -> text)."""
    it = await call(bot, "team lfg join", FakeInteraction(bot, user), experience=None, timezone=None)
    assert it.last.kind == "modal"
    return await submit_lfg(it.response.modal, FakeInteraction(bot, user), **typed)


def check_modal_payload(payload: dict) -> None:
    assert 1 <= len(payload["title"]) <= 45
    assert 1 <= len(payload["components"]) <= 5
    for row in payload["components"]:
        [text_input] = row["components"]
        assert 1 <= len(text_input["label"]) <= 45
        assert len(text_input.get("placeholder") or "") <= 100
        assert len(text_input.get("value") or "") <= text_input.get("max_length", 4000)


async def test_lfg_join_opens_a_form_and_saves_the_profile(bot, topics, member):
    alice = member("alice")
    it = await call(bot, "team lfg join", FakeInteraction(bot, alice),
                    experience=discord.app_commands.Choice(name="expert", value="expert"), timezone="Europe/Paris")
    modal = it.response.modal
    check_modal_payload(modal.to_dict())
    assert modal.experience_input.default == "expert" and modal.timezone_input.default == "Europe/Paris"
    assert "Build; Train; Analyse" in modal.topics_input.placeholder
    done = await submit_lfg(modal, FakeInteraction(bot, alice), topics="train; build", skills="pytorch; jax")
    assert done.last.ephemeral and "matchmaking pool" in done.last.text
    profile = await bot.services.lfg.profile(str(alice.id))
    assert profile.topics == ["Train", "Build"] and profile.experience == "expert"
    assert profile.skills == ["pytorch", "jax"] and profile.tz_name == "Europe/Paris"
    # the form opens again with what was given
    again = (await call(bot, "team lfg join", FakeInteraction(bot, alice))).response.modal
    assert again.topics_input.default == "Train; Build"


async def test_a_bad_form_answer_is_explained(bot, topics, member):
    alice = member("alice")
    done = await lfg_join(bot, alice, topics="Cooking")
    assert done.last.ephemeral and "unknown topic 'Cooking'" in done.last.text and "Build" in done.last.text
    done = await lfg_join(bot, alice, topics="Build", open="maybe")
    assert "yes or no" in done.last.text
    assert await bot.services.lfg.profile(str(alice.id)) is None


async def test_timezone_autocomplete_offers_names_and_offsets(bot):
    from bot.cogs.teams import timezones

    names = [c.value for c in await timezones(None, "paris")]
    assert names == ["Europe/Paris"]
    assert (await timezones(None, "UTC+5:30"))[0].value == "UTC+5:30"


async def test_list_and_leave(bot, topics, member):
    alice, bob = member("alice"), member("bob")
    await lfg_join(bot, alice, topics="Build")
    await lfg_join(bot, bob, topics="Build; Analyse", experience="newcomer")
    listed = await call(bot, "team lfg list", FakeInteraction(bot, alice))
    assert "Build (2)" in listed.last.text and "Analyse (1)" in listed.last.text and "newcomer" in listed.last.text
    left = await call(bot, "team lfg leave", FakeInteraction(bot, alice))
    assert "left the matchmaking pool" in left.last.text
    assert "not in the matchmaking pool" in (await call(bot, "team lfg leave", FakeInteraction(bot, alice))).last.text


async def test_someone_in_a_team_is_pointed_to_recruit(bot, member):
    alice = member("alice")
    await call(bot, "team create", FakeInteraction(bot, alice), name="Blue")
    it = await call(bot, "team lfg join", FakeInteraction(bot, alice))
    assert it.last.kind != "modal" and "/team recruit" in it.last.text
    it = await call(bot, "team recruit", FakeInteraction(bot, alice), on=True)
    assert "recruiting" in it.last.text
    assert [t.name for t in await bot.services.lfg.recruiting_teams()] == ["Blue"]


async def test_match_run_is_for_organizers_only(bot, member, organizer):
    assert await run_checks(bot, "match run", FakeInteraction(bot, organizer))
    with pytest.raises(discord.app_commands.CheckFailure):
        await run_checks(bot, "match run", FakeInteraction(bot, member("alice")))


async def test_match_preview_then_confirm_creates_the_teams_and_tells_everyone(bot, topics, guild, organizer, people):
    crowd = people(6)
    for i, person in enumerate(crowd):
        await lfg_join(bot, person, topics=TOPICS[i % 2], experience=["newcomer", "expert", "some"][i % 3])
    it = await call(bot, "match run", FakeInteraction(bot, organizer), dry_run=True)
    preview = it.last
    assert preview.ephemeral and "proposed teams" in preview.text and "random assignment" in preview.text
    assert "Build" in preview.text and "Train" in preview.text
    assert await bot.services.roster.infos() == []  # a preview creates nothing
    # only the organizer who ran it confirms
    stranger = await press(bot, preview, YES, FakeInteraction(bot, crowd[0]))
    assert f"Only <@{organizer.id}>, who ran /match run" in stranger.last.text
    assert await bot.services.roster.infos() == []
    done = await press(bot, preview, YES, FakeInteraction(bot, organizer, guild=guild))
    assert "2 team(s) formed" in done.last.text and "6 member(s) told" in done.last.text
    infos = await bot.services.roster.infos()
    assert sorted(len(i.members) for i in infos) == [3, 3]
    for info in infos:
        channel = guild.get_channel(info.discord_channel_id)
        assert channel is not None and "Ice-breaker" in channel.sent[-1].content
        assert info.discord_role_id is not None
    for person in crowd:
        [dm] = person.dms
        assert "You are matched into team" in dm.content and "you all chose" in dm.content
        mine = next(i for i in infos if str(person.id) in i.members)
        assert all(f"<@{u}>" in dm.content for u in mine.members if u != str(person.id))
        assert guild.get_role(mine.discord_role_id) in person.roles
    assert await bot.services.lfg.looking() == []


async def test_cancel_creates_nothing(bot, topics, organizer, people):
    for person in people(4):
        await lfg_join(bot, person, topics="Build")
    preview = (await call(bot, "match run", FakeInteraction(bot, organizer))).last
    done = await press(bot, preview, "Cancel", FakeInteraction(bot, organizer))
    assert "Cancelled" in done.last.text and await bot.services.roster.infos() == []


async def test_nobody_looking(bot, organizer):
    it = await call(bot, "match run", FakeInteraction(bot, organizer))
    assert "Nobody is looking" in it.last.text


async def test_a_join_racing_with_the_confirm_leaves_nobody_in_two_teams(bot, topics, guild, member, organizer, people):
    owner = member("owner")
    await call(bot, "team create", FakeInteraction(bot, owner), name="Blue")
    await call(bot, "team open", FakeInteraction(bot, owner), open=True)
    crowd = people(6)
    for person in crowd:
        await lfg_join(bot, person, topics="Build")
    preview = (await call(bot, "match run", FakeInteraction(bot, organizer))).last
    racers = [call(bot, "team join", FakeInteraction(bot, p), team="Blue") for p in crowd[:2]]
    confirmed, *joined = await asyncio.gather(
        press(bot, preview, YES, FakeInteraction(bot, organizer, guild=guild)), *racers
    )
    assert not any("Something went wrong" in r.text for it in [confirmed, *joined] for r in it.replies)
    teams_of = {}
    for info in await bot.services.roster.infos():
        for user in info.members:
            assert user not in teams_of, f"{user} is in two teams"
            teams_of[user] = info.team.name
    for person in crowd:  # placed once, or still looking
        assert str(person.id) in teams_of or await bot.services.lfg.profile(str(person.id)) is not None


async def test_the_event_file_can_schedule_the_matchmaking(bot, guild, people, clock, monkeypatch):
    from datetime import timedelta

    at = clock.now + timedelta(hours=2)
    bot.services.lfg.config = bot.config.model_copy(
        update={"matchmaking": MatchmakingSection(topics=TOPICS, at=at)}
    )
    monkeypatch.setattr("bot.posting.event_guild", lambda _bot: guild)
    log_channel = await guild.create_text_channel(bot.config.discord.log_channel)
    crowd = people(4)
    for person in crowd:
        await lfg_join(bot, person, topics="Analyse")
    cog = bot.get_cog("Matchmaking")
    assert await cog.run_scheduled() is None  # not yet
    clock.advance(hours=2)
    applied = await cog.run_scheduled()
    assert sorted(len(t.members) for t in applied.teams) == [2, 2]  # teams of at most 3 here
    assert all(t.shared_topics == ["Analyse"] for t in applied.teams)
    assert all(person.dms for person in crowd)
    assert "Scheduled matchmaking" in log_channel.sent[-1].content
    assert await cog.run_scheduled() is None  # once


async def test_a_topic_over_40_characters_can_be_chosen(bot, member):
    long_topic = "Machine learning for the physical sciences and astronomy"  # 56 characters
    bot.services.lfg.config = bot.config.model_copy(
        update={"matchmaking": MatchmakingSection(topics=["Build", long_topic])})
    alice = member("alice")
    done = await lfg_join(bot, alice, topics=long_topic.lower())
    assert "matchmaking pool" in done.last.text, done.last.text
    assert (await bot.services.lfg.profile(str(alice.id))).topics == [long_topic]
