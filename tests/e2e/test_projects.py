"""Projects through the real bot on the strict Discord double, its repositories checked on the
local GitHub double: /project submit (the select menus, then the form), two members editing at
once (one wins, the other is told who saved first), /project show with who changed what, the
gallery hidden before the deadline then public, the lock after it, the deadline commit recorded
by the bot's scheduled work, and /admin projects and /admin moderate filling the eligible pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.config import load_event
from bot.core.projects import eligible_projects
from bot.core.services import Services
from bot.sandbox import BotProcess, Sandbox, until
from bot.sandbox.events import write_e2e_event
from bot.sandbox.github import GitHubDouble, GitHubState
from tests.e2e.test_event import make_team

PROJECTS = """
[projects]
opens = "now-1h"
closes = "now+45s"
required = ["repo", "demo"]
licences = ["MIT", "Apache-2.0"]
categories = ["Build", "Train", "Analyse"]
opt_in_prizes = ["modal"]

[[projects.questions]]
id = "stack"
question = "Which libraries did you use?"

[[projects.questions]]
id = "data"
question = "Which data did you use?"

[[projects.questions]]
id = "next"
question = "What would you need next?"

[[prizes]]
id = "modal"
title = "Modal award"
source = "manual"
opt_in = true
"""
FORM = {"Title": "Galaxy sorter", "Summary: what it does, for whom": "Sorts galaxies by shape.",
        "Repository URL": "https://www.github.com/ants/galaxy/tree/main", "Demo video URL": "https://youtu.be/abc123"}


@pytest.fixture
def event_file(tmp_path):
    return write_e2e_event(tmp_path / "event", extra=PROJECTS)


@pytest.fixture
async def github():
    double = GitHubDouble(GitHubState())
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def bot(sandbox: Sandbox, event_file, tmp_path, bot_db, github):
    process = BotProcess(sandbox, event_file, bot_db, tmp_path / "bot.log", env={"HACKBOT_GITHUB_API": github.url})
    await process.sync()
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
        failed = sandbox.state.failed_interactions()
        assert not failed, f"interactions failed: {[i.summary() for i in failed]}\n{process.output()}"


async def open_form(sandbox: Sandbox, member, path: str, button: str, *, category: str | None = None,
                    opt_ins: list[str] | None = None):
    message = await sandbox.answer(await sandbox.invoke(member, path))
    if category is not None:
        picked = await sandbox.select(member, message, "Category", [category])
        await until(lambda: picked.response_type is not None, what="the category picked")
        assert f"Category: **{category}**" in message.text()
    if opt_ins is not None:
        picked = await sandbox.select(member, message, "Opt into", opt_ins)
        await until(lambda: picked.response_type is not None, what="the opt-ins picked")
    opened = await sandbox.click(member, message, button)
    await until(lambda: opened.modal is not None or bool(opened.errors), what="the form")
    return opened


async def page(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_projects_end_to_end_on_the_strict_double(sandbox: Sandbox, bot, event_file, bot_db, github):
    repo = github.state.add_repo("ants/galaxy", created_at=datetime.now(UTC) - timedelta(minutes=30))
    for i in range(3):
        repo.commit(f"step {i}", datetime.now(UTC) - timedelta(minutes=20 - i))
    alice, bob, carol = sandbox.user("alice"), sandbox.user("bob"), sandbox.user("carol")
    await make_team(sandbox, alice, "Ants", bob)
    await make_team(sandbox, carol, "Bees")
    web = f"http://127.0.0.1:{bot.port}"

    # nothing is handed in without what the event requires; the form is refused with the reason
    opened = await open_form(sandbox, alice, "project submit", "Submit…")
    refused = await sandbox.reply_text(await sandbox.submit_modal(alice, opened, FORM))
    assert "to submit, add a category (one of Build, Train, Analyse)" in refused

    opened = await open_form(sandbox, alice, "project submit", "Submit…", category="Build", opt_ins=["Modal award"])
    answer = await sandbox.reply_text(await sandbox.submit_modal(alice, opened, FORM))
    assert "Your project is submitted. The repository checks passed." in answer, answer
    assert "<https://github.com/ants/galaxy>" in answer and "Opted into: modal" in answer

    # two members edit at once: bob saves first, alice is told and loses nothing she can't redo
    bob_form = await open_form(sandbox, bob, "project edit", "Save the edit…")
    alice_form = await open_form(sandbox, alice, "project edit", "Save the edit…")
    saved = await sandbox.reply_text(await sandbox.submit_modal(bob, bob_form, {**FORM, "Title": "Galaxy sorter 2"}))
    assert "Galaxy sorter 2" in saved
    lost = await sandbox.reply_text(await sandbox.submit_modal(alice, alice_form, {**FORM, "Title": "Alice's title"}))
    assert f"the project changed while you edited it: {bob.user.id} saved version 2" in lost

    # the questions past the first (a modal holds 5 inputs): a second form, stored where the API stores them
    opened = await sandbox.answer(await sandbox.invoke(alice, "project edit"))
    assert "This event asks 3 questions" in opened.text()
    more = await sandbox.click(alice, opened, "More answers…")
    await until(lambda: more.modal is not None or bool(more.errors), what="the answers form")
    answered = await sandbox.reply_text(await sandbox.submit_modal(
        alice, more, {"Which data did you use?": "SDSS DR17", "What would you need next?": "more GPUs"}))
    assert "Saved 2 of 2 more answer(s)" in answered and "Galaxy sorter 2" in answered, answered

    shown = await sandbox.reply_text(await sandbox.invoke(alice, "project show"))
    assert "Galaxy sorter 2" in shown and f"v2 edited by <@{bob.user.id}>" in shown
    assert f"v1 submitted by <@{alice.user.id}>" in shown
    hidden = await sandbox.reply_text(await sandbox.invoke(carol, "project show", team="Ants"))
    assert "other teams' projects are shown after" in hidden
    status, html = await page(f"{web}/projects")
    assert status == 200 and "The gallery opens at" in html and "Galaxy" not in html

    # the deadline passes: the gallery opens, the project locks, the bot records the commit
    async def gallery_open() -> bool:
        return "Galaxy sorter 2" in (await page(f"{web}/projects"))[1]

    deadline = datetime.now(UTC) + timedelta(seconds=90)
    while not await gallery_open():
        assert datetime.now(UTC) < deadline, "the gallery never opened"
        await asyncio.sleep(1)
    opened = await sandbox.answer(await sandbox.invoke(bob, "project edit"))
    late = await sandbox.click(bob, opened, "Save the edit…")
    await until(lambda: late.modal is not None, what="the form")
    closed = await sandbox.reply_text(await sandbox.submit_modal(bob, late, {**FORM, "Title": "Too late"}))
    assert "projects closed at" in closed
    shown = await sandbox.reply_text(await sandbox.invoke(carol, "project show", team="Ants"))
    assert "Galaxy sorter 2" in shown

    orga = next(m for m in sandbox.state.members.values() if m.user.name == "orga")
    queue = await sandbox.reply_text(await sandbox.invoke(orga, "admin projects"))
    assert "**Ants**: Galaxy sorter 2 [pending]" in queue

    # a verdict from another process (the CLI, the organizers' page): queued with it, posted by the bot
    elsewhere = await Services.open(load_event(event_file), bot_db)
    try:
        maybe = await elsewhere.projects.moderate("Ants", "maybe", "is the dataset licence yours?", "cli")
    finally:
        await elsewhere.close()

    def told(text: str) -> list[str]:
        return [m.content for m in sandbox.state.channel_messages("team-ants") if text in m.content]

    await until(lambda: told("is the dataset licence yours?"), what="the verdict posted in the team's channel")
    refused = await sandbox.reply_text(await sandbox.invoke(orga, "admin moderate", team="Ants",
                                                            verdict="ineligible"))
    assert "say why the project is ineligible" in refused
    ruled = await sandbox.reply_text(await sandbox.invoke(orga, "admin moderate", team="Ants",
                                                          verdict="eligible", reason="all good"))
    assert "Team Ants's project is now **eligible**; the team is told in its channel." in ruled, ruled
    assert told("is the dataset licence yours?") == [maybe.notice]  # once
    assert told("is eligible") == ["Your project 'Galaxy sorter 2' is eligible: it enters judging and the votes. "
                                   "Reason: all good"]
    participant = await sandbox.reply_text(await sandbox.invoke(alice, "admin projects"))
    assert "Only organizers" in participant

    services = await Services.open(load_event(event_file), bot_db, readonly=True)
    try:
        async def snapshot() -> str | None:
            return (await services.projects.of_team_named("Ants")).deadline_commit

        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while await snapshot() is None:
            assert datetime.now(UTC) < deadline, "the deadline commit was never recorded"
            await asyncio.sleep(0.5)
        assert await snapshot() == repo.commits[-1].sha
        pool = await services.store.run(eligible_projects)
        assert [(p.team_name, p.title, p.category, p.opt_ins) for p in pool] == [("Ants", "Galaxy sorter 2", "Build", ("modal",))]
        assert (await services.projects.of_team_named("Ants")).answers == {"data": "SDSS DR17", "next": "more GPUs"}
    finally:
        await services.close()


async def test_the_form_is_answered_when_github_is_slower_than_discords_three_seconds(sandbox: Sandbox, bot, github):
    github.state.add_repo("ants/galaxy", created_at=datetime.now(UTC) - timedelta(minutes=30))
    alice = sandbox.user("alice")
    await make_team(sandbox, alice, "Ants")
    github.state.slow_next(4.0, count=5)  # each call of the repository check waits 4 s
    opened = await open_form(sandbox, alice, "project submit", "Submit…", category="Build")
    answer = await sandbox.reply_text(await sandbox.submit_modal(alice, opened, FORM), timeout=90)
    assert "Your project is submitted." in answer, answer
    # the bot fixture asserts that no interaction failed: none was answered after Discord's 3 s
