"""A whole event through the real bot: teams, reveals until the budget is spent, a CSV submitted
with confirmation, the leaderboard, the winners announced, a reminder on time, and a restart."""

from __future__ import annotations

import asyncio
import re

from bot.sandbox import Sandbox, SandboxError, until
from tests.e2e.conftest import hidden_labels


def csv_of(labels) -> tuple[str, bytes]:
    return "labels.csv", ("\n".join(str(int(x)) for x in labels) + "\n").encode()


def team_role(sandbox: Sandbox, team: str) -> dict:
    return next(r for r in sandbox.state.roles.values() if team in r["name"])


async def make_team(sandbox: Sandbox, captain, name: str, *members) -> None:
    created = await sandbox.invoke(captain, "team create", name=name)
    text = await sandbox.reply_text(created)
    assert f"Team **{name}** is created" in text
    code = re.search(r"Join code: `([^`]+)`", text).group(1)
    for member in members:
        joined = await sandbox.invoke(member, "team join", team=name, code=code)
        assert f"You joined team **{name}**" in await sandbox.reply_text(joined)
        # answered first; then let into the team's space, announced there when done
        await sandbox.wait_for_message(f"team-{name.lower()}", lambda m, who=member: f"<@{who.user.id}> joined" in m.text())


async def submit_and_confirm(sandbox: Sandbox, user, exercise_id: int, labels) -> str:
    asked = await sandbox.invoke(user, "submit", exercise_id=exercise_id, file=csv_of(labels))
    question = await sandbox.answer(asked)
    assert "This is your only submission" in question.text()
    assert question.ephemeral
    clicked = await sandbox.click(user, question, "Submit")
    await sandbox.answer(clicked)
    return await sandbox.reply_text(asked)  # the question, edited in place by the click


async def test_an_event_end_to_end(sandbox: Sandbox, bot, event_file):
    alice, bob, carol = sandbox.user("alice"), sandbox.user("bob"), sandbox.user("carol")
    await make_team(sandbox, alice, "Ants", bob)
    await make_team(sandbox, carol, "Bees")

    # the team's role and private channel exist in the guild, and bob got the role
    role = team_role(sandbox, "Ants")
    assert int(role["id"]) in sandbox.state.members[bob.user.id].roles
    channel = next(c for c in sandbox.state.channels.values() if "ants" in c["name"].lower())
    welcome = await sandbox.wait_for_message(int(channel["id"]), lambda m: "Welcome, team **Ants**" in m.text())
    assert not welcome.ephemeral

    # reveal until the budget (3) is spent; a re-reveal is free; the 4th new datum is refused
    y = hidden_labels(event_file, 3)
    answers = []
    for user, datum in [(alice, 1), (bob, 2), (alice, 1), (bob, 3)]:
        answers.append(await sandbox.reply_text(await sandbox.invoke(user, "reveal", exercise_id=3, datum_id=datum)))
    assert f"datum 1: label **{y[1]}**" in answers[0] and "2 of 3 labels left" in answers[0]
    assert "cost nothing" in answers[2]
    assert "0 of 3 labels left" in answers[3]
    refused = await sandbox.reply_text(await sandbox.invoke(alice, "reveal", exercise_id=3, datum_id=4))
    assert "3 of 3" in refused or "budget" in refused.lower(), refused
    reveals = [i for i in sandbox.state.interactions.values() if i.name == "reveal"]
    assert all(m.ephemeral for i in reveals for m in i.messages())  # labels stay private

    # Ants submit a perfect CSV, Bees a poor one; confirmation buttons record them
    perfect = await submit_and_confirm(sandbox, alice, 3, y)
    assert "1.0000" in perfect, perfect
    poor = await submit_and_confirm(sandbox, carol, 3, [y[0]] * len(y))
    assert "Accuracy" in poor
    again = await sandbox.reply_text(await sandbox.invoke(bob, "submit", exercise_id=3, file=csv_of(y)))
    assert "already" in again.lower(), again

    board = await sandbox.reply_text(await sandbox.invoke(carol, "leaderboard"))
    assert board.index("Ants") < board.index("Bees"), board

    # organizers announce the winners: preview, Post, the announcement lands in #announcements
    orga = next(m for m in sandbox.state.members.values() if m.user.name == "orga")
    preview = await sandbox.answer(await sandbox.invoke(orga, "winners announce", top=2))
    posted = await sandbox.click(orga, preview, "Post")
    # acknowledged at once (deferred), then edited once the announcement is sent
    await until(lambda: any("Posted in" in m.text() for m in posted.messages()), 15, "the Post click's answer")
    ants, bees = (f"<@&{team_role(sandbox, name)['id']}>" for name in ("Ants", "Bees"))
    announcement = await sandbox.wait_for_message("announcements", lambda m: "winners" in m.text())
    assert announcement.text().index(ants) < announcement.text().index(bees)  # the role mention pings the team

    # a participant cannot announce
    refused = await sandbox.reply_text(await sandbox.invoke(bob, "winners announce"))
    assert "Only organizers" in refused

    # the reminder (6 s before "Check-in", 10 s after the bot loaded the file) is posted once
    reminder = await sandbox.wait_for_message("announcements", lambda m: "Check-in" in m.text(), timeout=20)
    await asyncio.sleep(0.5)
    assert sum("Check-in" in m.text() for m in sandbox.state.channel_messages("announcements")) == 1
    assert not reminder.ephemeral


async def test_rate_limited_reply_is_retried(sandbox: Sandbox, bot):
    alice = sandbox.user("alice")
    sandbox.faults.rate_limit("POST /interactions/{id}/{token}/callback", 0.3)
    reply = await sandbox.reply_text(await sandbox.invoke(alice, "team list"))
    assert "teams" in reply.lower() or "No team yet" in reply
    [limited] = sandbox.state.refusals(injected=True)
    assert limited.status == 429 and limited.route == "POST /interactions/{id}/{token}/callback"


async def test_pending_confirmation_survives_a_restart(sandbox: Sandbox, bot, event_file):
    alice = sandbox.user("alice")
    await make_team(sandbox, alice, "Ants")
    y = hidden_labels(event_file, 0)
    asked = await sandbox.invoke(alice, "submit", exercise_id=0, file=csv_of(y))
    question = await sandbox.answer(asked)
    assert "This is your only submission" in question.text()

    await bot.stop()
    await bot.start()
    clicked = await sandbox.click(alice, question, "Submit")
    try:
        answer = await sandbox.reply_text(clicked, timeout=5)
    except SandboxError:
        answer = None
    finally:
        # what Discord shows is asserted here, not by the fixture's teardown
        sandbox.state.interactions.pop(clicked.id, None)
    assert answer is not None and not clicked.failed, "the Submit button died with the restart"
    assert "1.0000" in answer or "/submit again" in answer


async def test_an_organizer_adds_a_schedule_item_through_the_form(sandbox: Sandbox, bot):
    orga = next(m for m in sandbox.state.members.values() if m.user.name == "orga")
    opened = await sandbox.invoke(orga, "agenda add")
    await until(lambda: opened.modal, what="the form")
    assert opened.response_type == 9 and opened.modal["title"] == "New schedule item"

    # a time the bot cannot read: refused with a "Fix it" button that reopens the form, filled in
    typed = {"Title": "Office hours", "When (UTC)": "someday", "Remind before (optional)": "5s"}
    refused = await sandbox.answer(await sandbox.submit_modal(orga, opened, typed))
    assert "When" in refused.text() and "Nothing was saved" in refused.text()
    reopened = await sandbox.click(orga, refused, "Fix it")
    await until(lambda: reopened.modal, what="the form again")
    assert "Office hours" in str(reopened.modal["components"])  # what was typed is not lost

    added = await sandbox.answer(await sandbox.submit_modal(orga, reopened, typed | {"When (UTC)": "now+8s"}))
    assert "Added" in added.text() and "Office hours" in added.text()
    # the live item's reminder (5 s before) is posted by the running bot
    await sandbox.wait_for_message("announcements", lambda m: "Office hours" in m.text(), timeout=20)


async def test_the_bot_resumes_and_gets_what_it_missed(sandbox: Sandbox, bot):
    orga = next(m for m in sandbox.state.members.values() if m.user.name == "orga")
    gateway = sandbox.server.gateway
    gateway.open.clear()  # the bot cannot come back yet
    await sandbox.close_gateway(4000)  # a resumable close, as Discord closes on trouble
    await until(lambda: not gateway.ready, what="the connection to close")
    announcements = sandbox.state.channel_named("announcements")
    del sandbox.state.channels[int(announcements["id"])]  # deleted while the bot is away
    await sandbox.server.dispatch("CHANNEL_DELETE", announcements)
    gateway.open.set()
    await until(lambda: gateway.resumed >= 1 and gateway.ready, timeout=30, what="the bot to resume")
    assert sandbox.server.identified == 1 and gateway.replayed >= 1  # resumed, and the missed event sent again
    refused = await sandbox.reply_text(await sandbox.invoke(orga, "winners announce"))
    assert "there is no #announcements channel" in refused  # the replayed CHANNEL_DELETE reached it
