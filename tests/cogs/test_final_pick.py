"""/submit and /final-pick under the competition controls (issue 16): several submissions,
the pick, blind mode's reply without a score, baselines on /leaderboard."""

from __future__ import annotations

import pytest

from tests.cogs.conftest import call, press
from tests.cogs.fakes import FakeInteraction
from tests.cogs.test_submit import good_csv

SEVERAL = 'submissions = { per_day = 3 }\ncounts = "final_pick"'


async def team_user(bot, member):
    user = member("alice")
    await bot.services.teams.create("Blue", validated=True, captain=str(user.id))
    return user


async def submit(bot, user, exercise_id: int, wrong: int):
    question = (await call(bot, "submit", FakeInteraction(bot, user), exercise_id=exercise_id,
                           file=good_csv(bot, exercise_id, wrong))).last
    return question, (await press(bot, question, "Submit", FakeInteraction(bot, user))).last


async def test_several_submissions_then_a_final_pick(make_bot, member):
    bot = await make_bot(controls={3: SEVERAL})
    user = await team_user(bot, member)
    question, answer = await submit(bot, user, 3, 20)
    assert "only submission" not in question.content and "You have 3 left" in question.content
    assert "Accuracy **0.9000**" in answer.content and "Submissions left on this dataset: 2" in answer.content
    await submit(bot, user, 3, 10)
    listed = (await call(bot, "final-pick", FakeInteraction(bot, user), exercise_id=3, number=None)).last
    assert listed.ephemeral and "`1`" in listed.content and "`2`" in listed.content
    assert "public accuracy 0.9500" in listed.content
    picked = (await call(bot, "final-pick", FakeInteraction(bot, user), exercise_id=3, number=1)).last
    assert picked.ephemeral and "Submission 1 now counts for dataset 3 (public accuracy 0.9000)" in picked.content
    standings = await bot.services.leaderboard.standings()
    j = [ds.id for ds in standings.datasets].index(3)
    assert standings.rows[0].cells[j].score == pytest.approx(0.9)
    refused = (await call(bot, "final-pick", FakeInteraction(bot, user), exercise_id=3, number=5)).last
    assert "pick a number from 1 to 2" in refused.content


async def test_blind_mode_replies_without_a_score(make_bot, member):
    bot = await make_bot(controls={3: 'visibility = "blind"'})
    user = await team_user(bot, member)
    _, answer = await submit(bot, user, 3, 20)
    assert "Recorded" in answer.content and "ccuracy" not in answer.content and "0.9" not in answer.content


async def test_baselines_and_disqualified_teams_on_the_leaderboard(bot, member):
    user = await team_user(bot, member)
    await submit(bot, user, 3, 20)
    await bot.services.teams.create("Red", validated=True)
    y_file = good_csv(bot, 3, 0)
    await bot.services.controls.add_baseline(3, "Logistic regression", "b.csv", y_file.data)
    await bot.services.controls.disqualify("Red", "shared labels")
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, user))).last
    text = reply.embed.description
    assert "`baseline` *Logistic regression*" in text and "`disqualified` *Red*" in text
    assert "`#1` **Blue**" in text
    assert "never ranked" in reply.embed.footer.text
    assert "shared labels" not in str(reply.embed.to_dict())  # the reason is for organizers


async def test_during_the_freeze_a_team_sees_its_own_latest_score_without_a_rank(make_bot, member, clock):
    from datetime import timedelta

    from tests.core.helpers import T0
    freeze = T0 + timedelta(hours=2)
    bot = await make_bot(controls={3: f'submissions = "unlimited"\ncounts = "last"\nfreeze = {freeze:%Y-%m-%dT%H:%M:%SZ}'})
    user = await team_user(bot, member)
    await submit(bot, user, 3, 20)  # 0.90 before the freeze
    clock.set(freeze + timedelta(minutes=5))
    await submit(bot, user, 3, 10)  # 0.95 after it
    reply = (await call(bot, "leaderboard", FakeInteraction(bot, user))).last
    footer = reply.embed.footer.text
    assert "the board is frozen" in footer and "your latest scores: dataset 3: 0.9500" in footer
    assert "3.700 / 7" in reply.embed.description  # 2 points x 0.90 as at the freeze (0.95: 3.800) + defaults
