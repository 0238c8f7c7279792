"""The outbox end to end: the real bot process drains side effects that another process wrote
(the test's, as a web process or the CLI would), through the strict double's rate limits; and a
bot killed with SIGKILL mid-drain loses nothing and posts nothing twice once started again."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from bot.core.outbox import OutboxStatus
from bot.sandbox import Sandbox
from bot.sandbox.client import until
from tests.e2e.conftest import services_on

ROOMS = 12


def rooms(sandbox: Sandbox) -> list[str]:
    """Channels for the posts, made before the bot starts (its guild cache has them)."""
    names = [f"room-{n}" for n in range(ROOMS)]
    for name in names:
        sandbox.state.add_channel(name)
    return names


async def enqueue_posts(event_file: Path, db, names: list[str], count: int, prefix: str) -> list[str]:
    texts = [f"{prefix} {i}" for i in range(count)]
    async with services_on(event_file, db) as services:
        for i, text in enumerate(texts):
            channel = names[i % len(names)]
            await services.outbox.enqueue("message", f"{prefix}:{i}", {"channel": channel, "content": text},
                                          lane=f"channel:{channel}")
        # a retried request writes the same key again: one post
        await services.outbox.enqueue("message", f"{prefix}:0", {"channel": names[0], "content": texts[0]})
    return texts


async def outbox_status(event_file: Path, db) -> OutboxStatus:
    async with services_on(event_file, db) as services:
        return await services.outbox.status()


async def wait_drained(event_file: Path, db, within: float = 90.0) -> OutboxStatus:
    """Poll the outbox over one connection (reopening the services each time would hold up the
    double's event loop, and bunch the bot's requests into one second)."""
    deadline = time.monotonic() + within
    async with services_on(event_file, db) as services:
        while not (status := await services.outbox.status()).drained:
            assert time.monotonic() < deadline, f"the outbox did not drain: {status.counts}"
            await asyncio.sleep(0.3)
    return status


def posted(sandbox: Sandbox, prefix: str) -> Counter:
    return Counter(m.content for messages in sandbox.state.messages.values() for m in messages
                   if m.content.startswith(prefix) and not m.deleted)


async def test_side_effects_written_by_another_process_are_sent_by_the_bot(sandbox, start_bot, event_file, bot_db):
    names = rooms(sandbox)
    captains = [sandbox.user(f"captain{t}") for t in range(6)]
    mates = [sandbox.user(f"mate{t}") for t in range(6)]
    bot = await start_bot(event_file)
    # a web process: teams formed and posts written, no Discord connection of its own
    async with services_on(event_file, bot_db) as services:
        for t, (captain, mate) in enumerate(zip(captains, mates, strict=True)):
            await services.teams.create(f"Web{t}", captain=str(captain.user.id))
            await services.roster.set_open(str(captain.user.id), True)
            await services.roster.join(str(mate.user.id), f"Web{t}", None)
    texts = await enqueue_posts(event_file, bot_db, names, 60, "notice")
    status = await wait_drained(event_file, bot_db)
    async with services_on(event_file, bot_db) as services:
        kinds = Counter(dict(await services.store.fetchall(
            "SELECT kind, count(*) FROM outbox WHERE status = 'sent' AND kind != 'reminder' GROUP BY kind")))
    assert kinds == {"team.space": 6, "team.join": 6, "message": 60}, bot.output()
    assert status.counts["failed"] == 0, bot.output()
    assert posted(sandbox, "notice") == Counter(dict.fromkeys(texts, 1))  # each once, the repeated key too
    for t, (captain, mate) in enumerate(zip(captains, mates, strict=True)):
        channel = f"team-web{t}"
        assert sandbox.state.channel_named(channel) is not None
        said = [m.content for m in sandbox.state.channel_messages(channel)]
        assert any("Welcome" in text and str(captain.user.id) in text for text in said)
        assert any("joined the team" in text and str(mate.user.id) in text for text in said)
        role = sandbox.state.role_named(f"Team Web{t}")
        assert role is not None and int(role["id"]) in sandbox.state.members[mate.user.id].roles
    # the strict double's fixture asserts that nothing was refused: paced under the rate limits


async def test_a_bot_killed_mid_drain_loses_nothing_and_posts_nothing_twice(sandbox, start_bot, event_file, bot_db):
    names = rooms(sandbox)
    captain = sandbox.user("captain")
    boss = sandbox.organizer("boss")
    first = await start_bot(event_file)
    async with services_on(event_file, bot_db) as services:
        await services.teams.create("Crash", captain=str(captain.user.id))
    texts = await enqueue_posts(event_file, bot_db, names, 150, "crash")  # 12 rooms at 5 posts / 5 s: ~60 s
    await until(lambda: sum(posted(sandbox, "crash").values()) >= 40, 60, "the bot to be mid-drain")
    await first.kill()
    at_kill = await outbox_status(event_file, bot_db)
    assert at_kill.counts["pending"] + at_kill.counts["sending"] > 0  # killed with work left

    second = await start_bot(event_file, sync=False)
    status = await wait_drained(event_file, bot_db, within=120)
    assert status.counts["failed"] == 0 and status.counts["sent"] >= 151, second.output()
    assert posted(sandbox, "crash") == Counter(dict.fromkeys(texts, 1))  # every post, each once
    # the reconcile an organizer runs finds nothing missing
    answer = await sandbox.reply_text(await sandbox.invoke(boss, "admin setup"), timeout=30)
    assert "Nothing to create" in answer, answer


async def test_each_kind_of_side_effect_on_the_strict_double(sandbox, start_bot, event_file, bot_db):
    """DMs (closed ones fall back on the team's channel), roles, a private thread, an edit; a
    permanent refusal is marked failed with Discord's reason, once, never retried."""
    open_dms, closed_dms, loner = sandbox.user("open"), sandbox.user("closed"), sandbox.user("loner")
    sandbox.state.members[closed_dms.user.id].dms_open = False
    sandbox.state.members[loner.user.id].dms_open = False
    crew = int(sandbox.state.add_role("Crew")["id"])
    general = int(sandbox.state.channel_named("general")["id"])
    await start_bot(event_file)
    async with services_on(event_file, bot_db) as services:
        team = (await services.teams.create("Owls", captain=str(closed_dms.user.id))).team
        outbox = services.outbox
        await outbox.enqueue("dm", "dm:open", {"user_id": str(open_dms.user.id), "content": "psst, open"})
        await outbox.enqueue("dm", "dm:closed", {"user_id": str(closed_dms.user.id), "content": "psst, closed",
                                                 "team_id": team.id}, lane=f"team:{team.id}")
        await outbox.enqueue("dm", "dm:loner", {"user_id": str(loner.user.id), "content": "psst, nobody"})
        await outbox.enqueue("role.add", "role:add", {"user_id": str(open_dms.user.id), "role_id": crew})
        await outbox.enqueue("thread.create", "thread", {"channel_id": general, "name": "ticket 7 · Owls",
                                                         "user_ids": [str(open_dms.user.id)], "content": "hello"})
        await outbox.enqueue("message", "to-edit", {"channel_id": general, "content": "first words"})
        status = await wait_drained(event_file, bot_db)
        edited = (await outbox.delivery("to-edit")).result
        await outbox.enqueue("message.edit", "edit", {"channel_id": general, "message_id": edited["message_id"],
                                                      "content": "second words"})
        await outbox.enqueue("role.remove", "role:remove", {"user_id": str(open_dms.user.id), "role_id": crew})
        status = await wait_drained(event_file, bot_db)
        loner_row = await outbox.delivery("dm:loner")
        attempts = await services.store.fetchval("SELECT attempts FROM outbox WHERE key = 'dm:loner'")
        closed_row = await outbox.delivery("dm:closed")
    assert status.counts["failed"] == 1 and loner_row.status == "failed" and attempts == 1
    assert "does not accept direct messages" in loner_row.error
    refused = sandbox.state.take_refusals()  # the two closed DMs, on purpose
    assert [r.code for r in refused] == [50007, 50007]
    dm_channel = sandbox.state.dm_channels[open_dms.user.id]
    assert [m.content for m in sandbox.state.messages[dm_channel]] == ["psst, open"]
    assert closed_row.status == "sent" and closed_row.result["dm"] is False
    told = [m.content for m in sandbox.state.channel_messages("team-owls")]
    assert any(str(closed_dms.user.id) in text and "psst, closed" in text for text in told)
    assert crew not in sandbox.state.members[open_dms.user.id].roles  # added, then removed
    thread = next(c for c in sandbox.state.threads() if c["name"] == "ticket 7 · Owls")
    assert open_dms.user.id in sandbox.state.thread_members[int(thread["id"])]
    assert [m.content for m in sandbox.state.channel_messages("general") if "words" in m.content] == ["second words"]
