"""/leaderboard and /winners as people see them: ranks and totals, the caller's own row, pages,
one dataset's ranking, hidden scores; the winners previewed, then posted once with role mentions."""

from __future__ import annotations

import asyncio

import pytest

from bot.cogs.common import NotOrganizer
from bot.cogs.leaderboard import PAGE_SIZE, standings_embed
from tests.cogs.conftest import call, press, run_checks
from tests.cogs.fakes import FakeInteraction
from tests.core.helpers import csv_bytes, hidden_y, predictions_with_errors


async def team(bot, name: str, user=None):
    creds = await bot.services.teams.create(name, validated=True, captain=str(user.id) if user else None)
    return creds.team


async def submit(bot, team, dataset_id: int, wrong: int) -> None:
    y = hidden_y(bot.config, "mock", dataset_id)
    data = csv_bytes(predictions_with_errors(y, wrong))
    await bot.services.submissions.submit(team, dataset_id, "p.csv", data, source="http")


def lines(reply) -> list[str]:
    return reply.embed.description.splitlines()


@pytest.fixture
async def three_teams(bot, member):
    """Blue 3.2 (0.9 on dataset 0), Red 3.1 (every default), Green 3.0 (0.7 on dataset 0); alice is in Red."""
    alice = member("alice")
    blue, green = await team(bot, "Blue"), await team(bot, "Green")
    await team(bot, "Red", alice)
    await submit(bot, blue, 0, wrong=20)
    await submit(bot, green, 0, wrong=60)
    return alice


async def test_leaderboard_ranks_teams_by_total_and_marks_the_callers_team(bot, three_teams):
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams))).last
    assert reply.ephemeral and reply.view is None  # one page: no buttons
    assert "phase mock" in reply.embed.title
    assert lines(reply) == [
        "`#1` **Blue** · 3.200 / 7 · 1/4 submitted",
        "`#2` **Red** · 3.100 / 7 · 0/4 submitted ← your team",
        "`#3` **Green** · 3.000 / 7 · 1/4 submitted",
    ]
    assert "default score" in reply.embed.footer.text


async def test_the_callers_row_is_shown_when_off_the_first_page_and_pages_turn(bot, member):
    alice = member("alice")
    teams = [await team(bot, f"Team {i:02d}", alice if i == 19 else None) for i in range(20)]
    for i, t in enumerate(teams):
        await submit(bot, t, 0, wrong=3 * i)  # Team 00 best, Team 19 last
    it = await call(bot, "leaderboard", FakeInteraction(bot, alice))
    first = it.last
    shown = lines(first)
    assert len(shown) == PAGE_SIZE + 2
    assert shown[0].startswith("`#1` **Team 00**") and shown[PAGE_SIZE - 1].startswith("`#10` **Team 09**")
    assert shown[-2:] == ["…", shown[-1]]
    assert shown[-1].startswith("`#20` **Team 19**") and shown[-1].endswith("← your team")
    assert "page 1/2" in first.embed.footer.text

    assert disabled(first) == {"Prev": True, "Next": False}
    turned = (await press(bot, first, "Next", FakeInteraction(bot, alice))).last
    assert turned.kind == "edit" and "page 2/2" in turned.embed.footer.text
    shown = lines(turned)
    assert shown[0].startswith("`#11` **Team 10**") and len(shown) == PAGE_SIZE and "…" not in shown
    assert shown[-1].endswith("← your team")
    assert disabled(turned) == {"Prev": False, "Next": True}
    back = (await press(bot, turned, "Prev", FakeInteraction(bot, alice))).last
    assert "page 1/2" in back.embed.footer.text and lines(back)[0].startswith("`#1` **Team 00**")


def disabled(reply) -> dict[str, bool]:
    return {child.item.label: child.item.disabled for child in reply.view.children}


async def test_pages_are_drawn_from_their_buttons_alone_and_follow_the_standings(bot, member):
    """Prev/Next hold what they show in their custom_id: a click after a restart (or in another
    process) draws the page afresh from the database."""
    alice = member()
    teams = [await team(bot, f"Team {i:02d}") for i in range(PAGE_SIZE + 1)]
    first = (await call(bot, "leaderboard", FakeInteraction(bot, alice), exercise_id=0)).last
    assert all(len(child.item.custom_id) <= 100 for child in first.view.children)
    await submit(bot, teams[-1], 0, wrong=0)  # the last team climbs to the top meanwhile
    turned = (await press(bot, first, "Next", FakeInteraction(bot, alice))).last
    assert "page 2/2" in turned.embed.footer.text and "dataset 0" in turned.embed.title
    assert "Team 10" not in turned.embed.description  # it is on page 1 now


async def test_one_datasets_ranking(bot, three_teams):
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams), exercise_id=0)).last
    assert reply.ephemeral and "dataset 0 (toy, 1 point)" in reply.embed.title
    assert lines(reply) == [
        "`#1` **Blue** · 0.900",
        "`#2` **Red** · 0.800 (default, not submitted) ← your team",
        "`#3` **Green** · 0.700",
    ]
    assert "2 of 3 teams submitted" in reply.embed.footer.text


async def test_a_dataset_or_phase_that_does_not_exist_is_refused(bot, three_teams):
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams), exercise_id=12)).last
    assert reply.ephemeral and "dataset 12 is not part of phase 'mock'" in reply.content
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams), phase="final")).last
    assert reply.ephemeral and "there is no phase 'final'" in reply.content


async def test_another_phase_has_its_own_board(bot, three_teams):
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams), phase="real")).last
    assert "phase real" in reply.embed.title
    assert all("0/5 submitted" in line for line in lines(reply))  # dataset 12 joins; nothing submitted yet


async def test_a_hidden_board_shows_who_submitted_but_no_score_or_rank(make_bot, member):
    bot = await make_bot(visibility="hidden")
    alice = member()
    blue = await team(bot, "Blue", alice)
    await team(bot, "Red")
    await submit(bot, blue, 0, wrong=20)
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, alice))).last
    assert lines(reply) == ["**Blue** · 1/4 submitted ← your team", "**Red** · 0/4 submitted"]
    assert "hidden" in reply.embed.footer.text
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, alice), exercise_id=0)).last
    assert lines(reply) == ["**Blue** · submitted ← your team", "**Red** · not submitted"]
    assert "`#" not in reply.text and "0.9" not in reply.text and "0.8" not in reply.text


async def test_standings_embed_for_the_admin_post(bot, three_teams):
    standings = await bot.services.leaderboard.standings()
    embed = standings_embed(standings, "Core test event")
    assert embed.title.startswith("Core test event") and "your team" not in embed.description
    assert embed.description.splitlines()[0] == "`#1` **Blue** · 3.200 / 7 · 1/4 submitted"


# --- /winners -------------------------------------------------------------------------------

@pytest.fixture
async def podium(bot, guild, three_teams):
    """Blue and Green have team roles; Red has none. Returns the announcements channel."""
    for name in ("Blue", "Green"):
        role = await guild.create_role(name=name)
        await bot.services.roster.set_discord((await bot.services.teams.get(name)).id, role.id, None)
    return await guild.create_text_channel("announcements")


def role_of(guild, name: str) -> str:
    return next(r for r in guild.roles if r.name == name).mention


async def test_winners_is_for_organizers_only(bot, member, organizer):
    with pytest.raises(NotOrganizer, match="'Organizers' role"):
        await run_checks(bot, "winners announce", FakeInteraction(bot, member()))
    assert await run_checks(bot, "winners announce", FakeInteraction(bot, organizer))


async def test_winners_preview_is_ephemeral_and_posts_nothing_yet(bot, guild, organizer, podium):
    reply = (await call(bot, "winners announce", FakeInteraction(bot, organizer), top=2)).last
    assert reply.ephemeral and "#announcements" in reply.embed.title
    text = reply.embed.description
    assert f"🥇 {role_of(guild, 'Blue')} · 3.200 / 7 points" in text
    assert "🥈 **Red** · 3.100 / 7 points" in text  # no role: the name in bold
    assert "Green" not in text and role_of(guild, "Green") not in text  # third is not on a top 2
    assert [b.item.label for b in reply.view.children] == ["Post", "Cancel"]
    assert podium.sent == []


async def test_post_announces_once_mentioning_the_winning_teams(bot, guild, organizer, podium):
    preview = (await call(bot, "winners announce", FakeInteraction(bot, organizer), top=3)).last
    first, second = FakeInteraction(bot, organizer), FakeInteraction(bot, organizer)
    await asyncio.gather(press(bot, preview, "Post", first), press(bot, preview, "Post", second))
    assert len(podium.sent) == 1
    posted = podium.sent[0].content
    assert role_of(guild, "Blue") in posted and role_of(guild, "Green") in posted and "**Red**" in posted
    assert posted.index(role_of(guild, "Blue")) < posted.index("**Red**") < posted.index(role_of(guild, "Green"))
    # Either press may win the race (the outbox row's key decides): one is told it posted, the other not.
    won, lost = (first, second) if first.last.kind == "edit" else (second, first)
    assert won.last.kind == "edit" and won.last.content == f"Posted in {podium.mention}."
    assert lost.last.ephemeral and "posted already" in lost.last.content


async def test_cancel_posts_nothing(bot, organizer, podium):
    preview = (await call(bot, "winners announce", FakeInteraction(bot, organizer))).last
    answer = (await press(bot, preview, "Cancel", FakeInteraction(bot, organizer))).last
    assert "nothing was posted" in answer.content
    late = (await press(bot, preview, "Post", FakeInteraction(bot, organizer))).last
    assert late.ephemeral and "cancelled" in late.content
    assert podium.sent == []


async def test_only_the_organizer_who_asked_can_post(bot, guild, organizer, podium):
    preview = (await call(bot, "winners announce", FakeInteraction(bot, organizer))).last
    other = FakeInteraction(bot, guild.join("other orga", roles=organizer.roles[1:]))
    refused = (await press(bot, preview, "Post", other)).last
    assert refused.ephemeral and f"Only <@{organizer.id}>" in refused.content
    assert podium.sent == []


async def test_winners_needs_the_announcements_channel(bot, organizer, three_teams):
    reply = (await call(bot, "winners announce", FakeInteraction(bot, organizer))).last
    assert reply.ephemeral and "there is no #announcements channel" in reply.content


async def test_equal_scores_on_a_dataset_share_a_rank(bot, three_teams):
    await team(bot, "Yellow")  # like Red: the default 0.8 on dataset 0
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, three_teams), exercise_id=0)).last
    assert [line.split(" · ")[0] for line in lines(reply)] == [
        "`#1` **Blue**", "`#2` **Red**", "`#2` **Yellow**", "`#4` **Green**",
    ]


async def test_a_bot_that_cannot_notify_roles_says_so_in_the_preview(bot, guild, organizer, podium):
    import discord

    guild.me.guild_permissions = discord.Permissions(discord.Permissions.all().value & ~discord.Permissions(
        mention_everyone=True).value)
    reply = (await call(bot, "winners announce", FakeInteraction(bot, organizer))).last
    assert "lacks the Mention @everyone, @here and All Roles permission" in reply.embed.footer.text


def test_a_long_announcement_is_split_at_line_ends_with_at_most_100_roles_a_message():
    import sys

    winners = sys.modules["bot.cogs.winners"]
    lines = [f"🥇 <@&{10**18 + n}> · 2.400 / 3 points" for n in range(300)]
    parts = winners.announcement_parts("Big event", [winners.PrizeSection("Leaderboard, phase main", lines)])
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts).count("<@&") == 300  # nobody lost between messages
    assert all(len(winners.mentioned_roles(p)) <= 100 for p in parts)
    assert parts[0].startswith("🏆 **Big event: the winners**")
