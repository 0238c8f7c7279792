"""The vote through the real bot on the strict Discord double: /vote cast's autocomplete over a
ballot of 200 projects (25 choices, filtered by what is typed), a new account refused with its
reason, /vote open's announcement with the QR code and the persistent Vote button (its form
replaces the ballot), results hidden in Discord while open and after the close, /vote close
freezing the result for the organizers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sandbox import BotProcess, Sandbox, until
from bot.sandbox.events import write_e2e_event
from bot.sandbox.state import Member, User
from tests.core.vote_helpers import old_account
from tests.e2e.conftest import assert_nothing_refused, services_on
from tests.e2e.test_outbox import wait_drained

VOTE = """
[projects]
categories = ["Build", "Train"]

[[prizes]]
id = "community"
title = "Community Favorite"
source = "vote"

[[votes]]
id = "fav"
title = "Community Favorite"
opens = "now-1h"
closes = "now+1h"
kind = "approval"
max_choices = 2
codes = true
prize = "community"
"""
PROJECTS = 200


@pytest.fixture
def event_file(tmp_path):
    return write_e2e_event(tmp_path / "event", extra=VOTE)


def old_member(sandbox: Sandbox, name: str, serial: int) -> Member:
    """A member whose account is years old and who joined long before the vote opened."""
    member = Member(User(old_account(serial), name), joined_at=datetime(2024, 1, 1, tzinfo=UTC).isoformat())
    sandbox.state.members[member.user.id] = member
    return member


async def test_the_vote_on_the_strict_double(sandbox: Sandbox, event_file, tmp_path):
    db = tmp_path / "hackbot.sqlite3"
    async with services_on(event_file, db) as services:
        for i in range(PROJECTS):
            team = (await services.teams.create(f"Team {i:03d}", captain=str(old_account(50_000 + i)))).team
            await services.store.execute(
                "INSERT INTO projects(team_id, status, title, category, moderation, created_by, created_at,"
                " updated_by, updated_at) VALUES (?, 'submitted', ?, 'Build', 'eligible', 'u', 0, 'u', 0)",
                (team.id, f"Project {i:03d}"))
    bot = BotProcess(sandbox, event_file, db, tmp_path / "bot.log", env={"HACKBOT_PUBLIC_URL": "https://vote.example.org"})
    await bot.sync()
    await bot.start()
    try:
        alice, orga = old_member(sandbox, "alice", 1), sandbox.organizer("boss")
        everyone = await sandbox.autocomplete(alice, "vote cast", "choice", "")
        assert len(everyone) == 25
        typed = await sandbox.autocomplete(alice, "vote cast", "choice", "project 19")
        assert [c["name"].split(" · ")[0] for c in typed] == [f"Project {n}" for n in range(190, 200)]
        answer = await sandbox.answer(await sandbox.invoke(alice, "vote cast", choice=typed[3]["value"],
                                                           choice_2="Project 007"))
        assert answer.ephemeral and "Your ballot for **Community Favorite** is recorded: Project 193, Project 007" \
            in answer.text()
        newcomer = sandbox.user("newcomer")  # an account made today
        refused = await sandbox.reply_text(await sandbox.invoke(newcomer, "vote cast", choice="Project 001"))
        assert "your Discord account is less than a minute old" in refused
        assert "this vote needs accounts at least 7 days old" in refused
        status = await sandbox.reply_text(await sandbox.invoke(alice, "vote status"))
        assert "1 ballot(s) so far" in status and "hidden until the vote closes" in status
        assert "Project 193" not in status

        opened = await sandbox.answer(await sandbox.invoke(orga, "vote open"))
        assert "the announcement is in" in opened.text()
        post = await sandbox.wait_for_message("announcements", lambda m: "Community Favorite" in m.text()
                                              and bool(m.buttons()))
        assert "https://vote.example.org/vote/fav" in post.text()
        assert [a["filename"] for a in post.attachments] == ["vote-fav.png"]
        name, png = sandbox.state.attachments[int(post.attachments[0]["id"])]
        assert png.startswith(b"\x89PNG")
        clicked = await sandbox.click(alice, post, "Vote")
        await until(lambda: clicked.modal, what="the ballot form")
        replaced = await sandbox.answer(await sandbox.submit_modal(alice, clicked, {"Choice 1": "Project 042"}))
        assert "replaced your previous one: Project 042" in replaced.text()

        closed = await sandbox.answer(await sandbox.invoke(orga, "vote close"))
        assert closed.ephemeral and "1. Project 042" in closed.text()
        public = await sandbox.wait_for_message("announcements", lambda m: "is closed" in m.text())
        assert "Project 042" not in public.text() and "revealed with the winners" in public.text()
        after = await sandbox.reply_text(await sandbox.invoke(alice, "vote cast", choice="Project 001"))
        assert "voting closed at" in after
        refused_open = await sandbox.reply_text(await sandbox.invoke(alice, "vote open"))
        assert "Only organizers" in refused_open

        # the posts are outbox rows written with the opening and the freeze: a second close posts
        # nothing, and running the rows again (a drainer killed after Discord answered) neither
        await sandbox.answer(await sandbox.invoke(orga, "vote close"))
        async with services_on(event_file, db) as services:
            again = await services.store.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = 0"
                " WHERE kind IN ('vote.open', 'vote.close') AND status = 'sent'")
        assert again == 2
        await wait_drained(event_file, db)
        said = [m.text() for m in sandbox.state.channel_messages("announcements")]
        assert len([t for t in said if "Community Favorite** is open" in t]) == 1, said
        assert len([t for t in said if "is closed" in t]) == 1, said
    finally:
        await bot.stop()
    failed = sandbox.state.failed_interactions()
    assert not failed, [i.summary() for i in failed]
    assert_nothing_refused(sandbox, bot.output())
