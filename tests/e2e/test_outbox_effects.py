"""The event's Discord side effects as outbox rows, end to end on the strict double: the help
queue (a ticket's post, its claim's thread and post edit, release, a second claim, resolve, the
specialist's ping), a mentor's introduction, a matched team (space, direct messages, ice-breaker),
/admin phase set's announcement and /admin leaderboard post. Each is caused from another process
(the test's, as a web process would) or by the bot, queued once, posted once; then every row is
run again, as after a drainer killed between Discord's answer and the row's mark, and nothing is
posted twice (the executors look up what they made; messages carry the row's nonce). On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.core.mentor_assignments import MENTOR_INTRO
from bot.sandbox import Sandbox
from bot.sandbox.events import write_e2e_event
from tests.e2e.conftest import services_on
from tests.e2e.test_outbox import wait_drained

EXTRA = """
[[phases]]
id = "final"
starts = "now+1d"
data_dir = "data"

[mentoring]
tags = ["Train", "Build"]
assign_to_teams = true

[matchmaking]
topics = ["Build", "Train"]
"""
MOVED = ("ticket.post", "ticket.edit", "ticket.thread", "ticket.note", "ticket.notice", MENTOR_INTRO,
         "match.placed", "phase.open", "message")


@pytest.fixture
def bot_db(db: str) -> str:
    """SQLite and PostgreSQL (tests/databases.py)."""
    return db


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    return write_e2e_event(tmp_path / "event", extra=EXTRA)


def every_message(sandbox: Sandbox) -> list:
    """Every message Discord holds: the channels', the threads' and the DMs'."""
    return [m for messages in sandbox.state.messages.values() for m in messages if not m.deleted]


def seen(sandbox: Sandbox) -> Counter:
    return Counter(m.content for m in every_message(sandbox))


async def test_each_moved_side_effect_is_queued_once_and_posted_once(sandbox: Sandbox, start_bot, event_file, bot_db):
    alice, bob = sandbox.user("alice"), sandbox.user("bob")
    carol, dan = sandbox.user("carol"), sandbox.user("dan")
    mia, max_ = sandbox.user("mia", roles=["Mentors"]), sandbox.user("max", roles=["Mentors"])
    boss = sandbox.organizer("boss")
    bot = await start_bot(event_file)
    ids = {name: str(user.user.id) for name, user in
           [("alice", alice), ("bob", bob), ("carol", carol), ("dan", dan), ("mia", mia), ("max", max_)]}

    # a web process: a team, mentors, a ticket claimed, released, claimed again and resolved
    async with services_on(event_file, bot_db) as services:
        await services.teams.create("Ants", captain=ids["alice"])
        await services.roster.set_open(ids["alice"], True)
        await services.roster.join(ids["bob"], "Ants", None)
        await services.mentoring.set_mentor(ids["mia"], tags="train", on_duty=True)
        await services.mentoring.set_mentor(ids["max"], tags="build", on_duty=True)
        spot = await services.mentoring.open_ticket(ids["alice"], "CUDA out of memory", "train", "table 4")
        number = spot.ticket.number
    # the specialist's ping: the bot's escalation runner claims the step, its row posts it
    await sandbox.wait_for_message("mentor-queue", lambda m: "has waited" in m.text(), timeout=45)
    async with services_on(event_file, bot_db) as services:
        await services.mentoring.claim(number, ids["mia"])
        await wait_drained(event_file, bot_db)
        await services.mentoring.release(number, ids["mia"])
        await services.mentoring.claim(number, ids["max"])
        await services.mentoring.resolve(number, ids["bob"])
        # a mentor assigned to the team, and two people matched into a new team
        proposal = await services.assignments.propose()
        assert [p.team for p in await services.assignments.confirm(proposal.fingerprint, "orga")] == ["Ants"]
        for who in ("carol", "dan"):
            await services.lfg.set_profile(ids[who], topics="Build")
        applied = await services.lfg.apply(await services.lfg.propose())
        [matched] = applied.teams
    # the organizers' doors in Discord: a phase set by hand, the leaderboard posted
    assert "**final**" in await sandbox.reply_text(await sandbox.invoke(boss, "admin phase set", phase="final"))
    posted = await sandbox.reply_text(await sandbox.invoke(boss, "admin leaderboard post"), timeout=30)
    assert "Posted the leaderboard" in posted, posted
    status = await wait_drained(event_file, bot_db)
    assert status.counts["failed"] == 0, bot.output()

    async with services_on(event_file, bot_db) as services:
        kinds = Counter(dict(await services.store.fetchall(
            f"SELECT kind, count(*) FROM outbox WHERE kind IN ({', '.join('?' for _ in MOVED)}) GROUP BY kind", MOVED)))
        ticket = await services.mentoring.ticket(number)
    assert kinds == {"ticket.post": 1, "ticket.thread": 2, "ticket.edit": 4, "ticket.note": 2, "ticket.notice": 1,
                     MENTOR_INTRO: 1, "match.placed": 1, "phase.open": 1, "message": 1}, kinds
    assert ticket.status == "resolved" and ticket.thread_id is not None

    def check() -> None:
        said = seen(sandbox)
        queue = [m for m in sandbox.state.channel_messages("mentor-queue") if f"Ticket #{number}**" in m.text()]
        assert len(queue) == 1 and "✅ Resolved" in queue[0].text()  # one post, edited as the ticket went
        threads = [c for c in sandbox.state.threads() if f"ticket {number}" in c["name"]]
        assert len(threads) == 1 and int(threads[0]["id"]) == ticket.thread_id
        assert {int(ids[u]) for u in ("alice", "bob", "mia", "max")} <= sandbox.state.thread_members[ticket.thread_id]
        in_thread = Counter(m.content.split("\n")[0] for m in sandbox.state.channel_messages(ticket.thread_id))
        assert in_thread == {
            f"<@{ids['alice']}> <@{ids['bob']}>: <@{ids['mia']}> took your ticket #{number}.": 1,
            f"Ticket #{number} is back in the queue: another mentor will take it.": 1,
            f"<@{ids['max']}> joined ticket #{number}.": 1,
            f"Ticket #{number} is resolved. How was the help? Rate it (only your team can):": 1,
        }, in_thread
        pings = [m for m in sandbox.state.channel_messages("mentor-queue") if "has waited" in m.text()]
        assert len(pings) == 1 and f"<@{ids['mia']}>" in pings[0].text()
        intros = [m for m in sandbox.state.channel_messages("team-ants") if "Meet your mentor" in m.text()]
        assert len(intros) == 1
        icebreakers = [m for m in every_message(sandbox) if "Ice-breaker" in m.text()]
        assert len(icebreakers) == 1 and matched.team.name in icebreakers[0].text()
        for who in ("carol", "dan"):
            dms = sandbox.state.messages[sandbox.state.dm_channels[int(ids[who])]]
            assert [m.content.startswith("You are matched into team") for m in dms] == [True]
        assert said["Phase 'final' is now open: new datasets, leaderboard starts from zero"] == 1
        boards = [m for m in sandbox.state.channel_messages("announcements") if m.embeds]
        assert len(boards) == 1

    check()
    # every row again, as when a drainer dies after Discord answered: nothing is posted twice
    async with services_on(event_file, bot_db) as services:
        again = await services.store.execute(
            f"UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = 0, finished_at = NULL"
            f" WHERE status = 'sent' AND kind IN ({', '.join('?' for _ in MOVED)})", MOVED)
    assert again == sum(kinds.values())
    status = await wait_drained(event_file, bot_db)
    assert status.counts["failed"] == 0 and status.counts["pending"] == 0, bot.output()
    check()
