"""/submit as a participant sees it: refused early with the reason, validated before asking,
recorded only on "Submit", once, whatever the clicks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.cogs.conftest import call, press
from tests.cogs.fakes import FakeAttachment, FakeInteraction
from tests.core.helpers import CLOSES, MAX_BYTES, csv_bytes, hidden_y, predictions_with_errors


def good_csv(bot, dataset_id: int = 3, wrong: int = 20) -> FakeAttachment:
    y = hidden_y(bot.config, "mock", dataset_id)
    return FakeAttachment("labels.csv", csv_bytes(predictions_with_errors(y, wrong)))


def is_question(reply) -> bool:
    return reply.view is not None and [b.item.label for b in reply.view.children] == ["Submit", "Cancel"]


def greyed(reply) -> bool:
    return all(b.disabled for b in reply.view.children)


async def submissions(bot) -> int:
    return (await bot.services.store.fetchone("SELECT count(*) FROM submissions"))[0]


@pytest.fixture
async def alice(bot, member):
    user = member("alice")
    await bot.services.teams.create("Blue", validated=True, captain=str(user.id))
    return user


async def ask(bot, user, attachment, exercise_id: int = 3) -> FakeInteraction:
    return await call(bot, "submit", FakeInteraction(bot, user), exercise_id=exercise_id, file=attachment)


async def test_submit_asks_first_then_records_and_shows_the_accuracy(bot, alice):
    it = await ask(bot, alice, good_csv(bot))
    assert it.response.deferred == {"ephemeral": True, "thinking": True}
    question = it.last
    assert question.ephemeral and is_question(question)
    assert "This is your only submission for dataset 3 (2 points)" in question.content
    assert await submissions(bot) == 0  # nothing is spent by asking

    answer = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert answer.kind == "edit" and answer.ephemeral
    assert "Accuracy **0.9000**" in answer.content and "200 rows" in answer.content
    assert greyed(answer)
    assert await submissions(bot) == 1


async def test_a_hidden_leaderboard_records_without_telling_the_accuracy(make_bot, member):
    bot = await make_bot(visibility="hidden")
    user = member()
    await bot.services.teams.create("Blue", validated=True, captain=str(user.id))
    question = (await ask(bot, user, good_csv(bot))).last
    answer = (await press(bot, question, "Submit", FakeInteraction(bot, user))).last
    assert "Recorded" in answer.content and "hidden" in answer.content
    assert "ccuracy" not in answer.content and "0.9" not in answer.content
    assert await submissions(bot) == 1


async def test_a_txt_file_is_refused_without_downloading_it(bot, alice):
    attachment = FakeAttachment("labels.txt", b"1\n0\n")
    reply = (await ask(bot, alice, attachment)).last
    assert reply.ephemeral and "'labels.txt' is not a .csv file" in reply.content
    assert attachment.reads == 0 and await submissions(bot) == 0


async def test_a_file_over_the_event_limit_is_refused_without_downloading_it(bot, alice):
    attachment = FakeAttachment("labels.csv", b"1\n", size=MAX_BYTES + 1)
    reply = (await ask(bot, alice, attachment)).last
    assert reply.ephemeral and f"the limit is {MAX_BYTES:,} bytes" in reply.content
    assert attachment.reads == 0


async def test_discord_upload_limit_applies_when_lower(bot, alice):
    attachment = FakeAttachment("labels.csv", b"1\n", size=600)
    it = FakeInteraction(bot, alice)
    it.filesize_limit = 512
    reply = (await call(bot, "submit", it, exercise_id=3, file=attachment)).last
    assert reply.ephemeral and "the limit is 512 bytes" in reply.content
    assert attachment.reads == 0


async def test_a_malformed_file_is_refused_with_the_line_and_spends_nothing(bot, alice):
    y = hidden_y(bot.config, "mock", 3)
    bad = FakeAttachment("labels.csv", b"label\n" + csv_bytes(y[1:]))
    reply = (await ask(bot, alice, bad)).last
    assert reply.ephemeral and "line 1" in reply.content and "did not use your submission" in reply.content
    assert reply.view is None and await submissions(bot) == 0
    question = (await ask(bot, alice, good_csv(bot))).last  # the submission is still there to use
    answer = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert "Accuracy" in answer.content


async def test_a_second_submission_for_a_dataset_is_refused(bot, alice):
    question = (await ask(bot, alice, good_csv(bot))).last
    await press(bot, question, "Submit", FakeInteraction(bot, alice))
    reply = (await ask(bot, alice, good_csv(bot, wrong=5))).last
    assert reply.ephemeral and "already submitted for dataset 3" in reply.content
    assert reply.view is None and await submissions(bot) == 1


async def test_refusals_before_the_question(make_bot, bot, member, alice):
    reply = (await ask(bot, member("bob"), good_csv(bot))).last
    assert reply.ephemeral and "not in a team" in reply.content
    reply = (await ask(bot, alice, good_csv(bot), exercise_id=12)).last
    assert reply.ephemeral and "not part of the current phase 'mock'" in reply.content
    strict = await make_bot(require_validation=True)
    carol = member("carol")
    await strict.services.teams.create("Red", validated=False, captain=str(carol.id))
    reply = (await ask(strict, carol, good_csv(strict))).last
    assert reply.ephemeral and "not validated" in reply.content


async def test_cancel_spends_nothing(bot, alice):
    question = (await ask(bot, alice, good_csv(bot))).last
    answer = (await press(bot, question, "Cancel", FakeInteraction(bot, alice))).last
    assert answer.kind == "edit" and "Cancelled: nothing was submitted" in answer.content
    late = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert late.ephemeral and "you cancelled this" in late.content
    assert await submissions(bot) == 0
    again = (await ask(bot, alice, good_csv(bot))).last
    assert is_question(again)


async def test_an_expired_question_spends_nothing(bot, alice, monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["bot.cogs.submit"], "CONFIRM_TIMEOUT", 0.3)
    question = (await ask(bot, alice, good_csv(bot))).last
    asked = question.view
    await asyncio.sleep(1.1)  # the timer expires it; the custom_id's expiry (whole seconds) has passed
    assert pending_questions(bot) == {}  # the file is let go
    assert question.content.startswith("Expired: nothing was submitted")  # the question was edited
    assert greyed(question)
    question.view = asked  # a client still showing the buttons
    late = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert late.ephemeral and "expired" in late.content
    assert await submissions(bot) == 0


async def test_the_deadline_passing_before_the_click_refuses_the_file(bot, alice, clock):
    question = (await ask(bot, alice, good_csv(bot))).last
    clock.set(CLOSES + timedelta(seconds=1))
    late = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert late.ephemeral and "submissions closed" in late.content
    assert await submissions(bot) == 0


async def test_two_quick_confirms_count_once(bot, alice):
    question = (await ask(bot, alice, good_csv(bot))).last
    first, second = FakeInteraction(bot, alice), FakeInteraction(bot, alice)
    await asyncio.gather(press(bot, question, "Submit", first), press(bot, question, "Submit", second))
    assert await submissions(bot) == 1
    answers = sorted([first.last, second.last], key=lambda r: r.kind)
    assert answers[0].kind == "edit" and "Accuracy" in answers[0].content
    assert answers[1].ephemeral and "already submitted for dataset 3" in answers[1].content


async def test_only_the_submitter_can_answer_the_question(bot, alice, member):
    question = (await ask(bot, alice, good_csv(bot))).last
    bob = member("bob")
    await bot.services.teams.create("Red", validated=True, captain=str(bob.id))
    for label in ("Submit", "Cancel"):
        refused = (await press(bot, question, label, FakeInteraction(bot, bob))).last
        assert refused.ephemeral and f"Only <@{alice.id}>" in refused.content
    assert await submissions(bot) == 0
    answer = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert "Accuracy" in answer.content


async def test_a_question_from_before_a_restart_answers_and_spends_nothing(bot, alice):
    """After a restart the question no longer holds the file: Submit answers (nothing written,
    run /submit again) rather than failing."""
    question = (await ask(bot, alice, good_csv(bot))).last
    pending_questions(bot).clear()  # what a restart does to this process's memory
    clicked = (await press(bot, question, "Submit", FakeInteraction(bot, alice))).last
    assert clicked.ephemeral and "/submit again" in clicked.content and "nothing was submitted" in clicked.content
    assert await submissions(bot) == 0


def pending_questions(bot) -> dict:
    import sys

    return sys.modules["bot.cogs.submit"].PENDING  # the extension's module, as loaded by the bot
