"""The help queue and the perks through the real bot on the strict Discord double: /help's form,
the queue post and its persistent Claim button (two mentors click at once: one wins, the other is
told who), the private thread with the team, the specialist's ping, release and claim again,
resolve, the rating form, and /perk claim (the same code again, ephemeral)."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.sandbox import Sandbox, until
from bot.sandbox.events import write_e2e_event
from tests.e2e.test_event import make_team

MENTORING = """
[mentoring]
tags = ["Train", "Build"]

[[perks]]
id = "credits"
title = "Cloud credits"
who = "team"
description = "Redeem at example.org/credits"
"""
FORM = {"What is the problem?": "CUDA out of memory at batch 64",
        "Tags (optional, separated by commas)": "train", "Where to meet you (optional)": "table 4"}


@pytest.fixture
def event_file(tmp_path):
    return write_e2e_event(tmp_path / "event", extra=MENTORING)


def post_of(sandbox: Sandbox, number: int):
    return next(m for m in sandbox.state.channel_messages("mentor-queue") if f"Ticket #{number}**" in m.text()
                and m.buttons())


async def test_help_queue_and_perks_on_the_strict_double(sandbox: Sandbox, bot, event_file, bot_db):
    alice, bob, carol = sandbox.user("alice"), sandbox.user("bob"), sandbox.user("carol")
    mia, max_ = sandbox.user("mia", roles=["Mentors"]), sandbox.user("max", roles=["Mentors"])
    await make_team(sandbox, alice, "Ants", bob)
    await make_team(sandbox, carol, "Bees")
    assert "Your tags: Train" in await sandbox.reply_text(await sandbox.invoke(mia, "mentor tags", tags="train"))
    assert "on duty" in await sandbox.reply_text(await sandbox.invoke(mia, "mentor on"))
    refused = await sandbox.reply_text(await sandbox.invoke(alice, "mentor on"))
    assert "Only mentors" in refused

    # /help: a form, then the ticket's number, position and estimated wait, privately
    opened = await sandbox.invoke(alice, "help")
    await until(lambda: opened.modal, what="the help form")
    answer = await sandbox.answer(await sandbox.submit_modal(alice, opened, FORM))
    assert "Ticket **#1**: position **1** of 1" in answer.text() and answer.ephemeral
    again = await sandbox.invoke(bob, "help")
    await until(lambda: again.modal, what="the help form")
    refused = await sandbox.reply_text(await sandbox.submit_modal(bob, again, FORM))
    assert "you already have ticket #1, position 1" in refused

    # the post in the mentors' queue, and the specialist pinged (step 1: mentors with the tag)
    await until(lambda: any("Ticket #1**" in m.text() for m in sandbox.state.channel_messages("mentor-queue")),
                what="the queue post")
    post = post_of(sandbox, 1)
    assert "CUDA out of memory" in post.text() and [b["label"] for b in post.buttons()] == ["Claim"]
    ping = await sandbox.wait_for_message("mentor-queue", lambda m: "has waited" in m.text())
    assert f"<@{mia.user.id}>" in ping.text() and f"<@{max_.user.id}>" not in ping.text()

    # a participant cannot claim; two mentors click at once: one wins, the other is told who
    assert "Only mentors" in await sandbox.reply_text(await sandbox.click(carol, post, "Claim"))
    clicks = await asyncio.gather(sandbox.click(mia, post, "Claim"), sandbox.click(max_, post, "Claim"))
    texts = [await sandbox.reply_text(c, timeout=20) for c in clicks]
    won = [t for t in texts if "You claimed ticket **#1**" in t]
    lost = [t for t in texts if "already claimed by" in t]
    assert len(won) == 1 and len(lost) == 1, texts
    winner, other = (mia, max_) if "You claimed" in texts[0] else (max_, mia)
    assert f"<@{winner.user.id}>" in lost[0]

    # the private thread in #help holds the team and the mentor
    thread = next(c for c in sandbox.state.threads() if "ticket 1" in c["name"])
    assert thread["type"] == 12
    members = sandbox.state.thread_members[int(thread["id"])]
    assert {alice.user.id, bob.user.id, winner.user.id} <= members and carol.user.id not in members
    await until(lambda: "Claimed by" in post_of(sandbox, 1).text() or not post_of(sandbox, 1).buttons()
                or post_of(sandbox, 1).buttons()[0].get("disabled"), what="the post marked claimed")

    # release: back in the queue; the other mentor claims it with /mentor claim and joins the same thread
    released = await sandbox.reply_text(await sandbox.invoke(winner, "mentor release", ticket=1))
    assert "back at its place" in released
    claimed = await sandbox.reply_text(await sandbox.invoke(other, "mentor claim", ticket=1), timeout=20)
    assert "You claimed ticket **#1**" in claimed
    assert other.user.id in sandbox.state.thread_members[int(thread["id"])]
    assert len([c for c in sandbox.state.threads() if "ticket 1" in c["name"]]) == 1  # the same thread

    # resolve; the thread offers stars; the team rates with a comment
    assert "resolved" in await sandbox.reply_text(await sandbox.invoke(bob, "ticket resolve"))
    stars = await sandbox.wait_for_message(int(thread["id"]), lambda m: "How was the help?" in m.text())
    rate = await sandbox.click(alice, stars, "★★★★")
    await until(lambda: rate.modal, what="the rating form")
    thanks = await sandbox.reply_text(await sandbox.submit_modal(alice, rate, {"★★★★: a comment (optional)": "clear"}))
    assert "rated ★★★★" in thanks

    # perks: codes imported by the organizers; each team gets one, the same one again, privately
    services = await Services.open(load_event(event_file), bot_db)
    try:
        await services.perks.import_codes("credits", "code\nAAA-111\nBBB-222\n")
        record = await services.mentoring.ticket(1)
        assert (record.status, record.rating, record.mentor) == ("resolved", 4, str(other.user.id))
    finally:
        await services.close()
    first = await sandbox.answer(await sandbox.invoke(alice, "perk claim"))
    second = await sandbox.answer(await sandbox.invoke(bob, "perk claim"))
    bees = await sandbox.answer(await sandbox.invoke(carol, "perk claim"))
    code = first.text().split("`")[1]
    assert first.ephemeral and second.ephemeral and bees.ephemeral
    assert code in second.text() and "the same code" in second.text()
    assert bees.text().split("`")[1] != code
    public = [m for c in sandbox.state.channels for m in sandbox.state.channel_messages(c) if not m.ephemeral]
    assert not any(code in m.text() for m in public)
