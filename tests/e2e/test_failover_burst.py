"""A failover during an outbox burst, on PostgreSQL and the strict double: two `hackbot run --role
bot` processes, one holding the gateway and draining, the other standing by. Posts, teams' spaces
and help tickets' posts are written by another process (the test's, as a web process would);
the active bot is killed with SIGKILL mid-drain; the standby takes the lease over, puts the dead
drainer's claims back, and drains the rest: every row is delivered exactly once (the double
refuses nothing and keeps each nonce; no post appears twice)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox import BotProcess, Sandbox
from bot.sandbox.client import until
from bot.sandbox.events import write_e2e_event
from tests.e2e.conftest import services_on
from tests.e2e.test_outbox import enqueue_posts, outbox_status, posted, rooms, wait_drained

TEAMS = 8
EXTRA = """
[mentoring]
tags = ["Train", "Build"]
"""


@pytest.fixture
def bot_db(db: str) -> str:
    return db


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    return write_e2e_event(tmp_path / "event", extra=EXTRA)


async def test_every_outbox_row_is_delivered_once_across_a_failover(sandbox: Sandbox, event_file: Path,
                                                                     bot_db: str, tmp_path: Path):
    names = rooms(sandbox)
    captains = [sandbox.user(f"captain{t}") for t in range(TEAMS)]
    active = BotProcess(sandbox, event_file, bot_db, tmp_path / "active.log", role="bot")
    standby = BotProcess(sandbox, event_file, bot_db, tmp_path / "standby.log", role="bot")
    await active.sync()
    await active.start()
    try:
        await standby.start(standby=True)
        # the burst: 150 posts over 12 channels (5 posts / 5 s each: about a minute), teams with
        # their spaces and a help ticket each
        async with services_on(event_file, bot_db) as services:
            for t, captain in enumerate(captains):
                await services.teams.create(f"Burst{t}", captain=str(captain.user.id))
                await services.mentoring.open_ticket(str(captain.user.id), f"stuck on step {t}", "train")
        texts = await enqueue_posts(event_file, bot_db, names, 150, "burst")
        await until(lambda: sum(posted(sandbox, "burst").values()) >= 40, 60, "the active bot to be mid-drain")
        identified = sandbox.server.identified
        await active.kill()
        at_kill = await outbox_status(event_file, bot_db)
        assert at_kill.counts["pending"] + at_kill.counts["sending"] > 0  # killed with work left

        await until(lambda: sandbox.server.identified > identified, 30, "the standby to connect within 30 s")
        status = await wait_drained(event_file, bot_db, within=150)
        assert "holding the gateway lease (epoch 2)" in standby.output()
    finally:
        await standby.stop()
        await active.stop()
    logs = active.output() + standby.output()
    assert status.counts["failed"] == 0, logs
    assert posted(sandbox, "burst") == Counter(dict.fromkeys(texts, 1))  # every post, each once
    for t in range(TEAMS):
        assert len([c for c in sandbox.state.channels.values() if c.get("name") == f"team-burst{t}"]) == 1
        welcome = [m for m in sandbox.state.channel_messages(f"team-burst{t}") if "Welcome" in m.text()]
        assert len(welcome) == 1, [m.text() for m in welcome]
    queue = Counter(m.text().split("**")[1] for m in sandbox.state.channel_messages("mentor-queue")
                    if m.text().startswith("**Ticket #"))
    assert queue == Counter({f"Ticket #{n}": 1 for n in range(1, TEAMS + 1)}), queue
    failed = sandbox.state.failed_interactions()
    assert not failed, [i.summary() for i in failed]
