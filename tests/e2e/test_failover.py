"""Two `hackbot run --role bot` processes against the strict Discord double: one holds the gateway,
the other stands by; killed with SIGKILL, the active one is replaced by the standby within 30 s
(the default lease), and the bot answers again. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bot.sandbox import BotProcess, Sandbox
from bot.sandbox.client import until
from tests.e2e.test_event import make_team, team_role


@pytest.fixture
def bot_db(db: str) -> str:
    return db


async def test_the_standby_bot_takes_over_after_the_active_one_is_killed(sandbox: Sandbox, event_file: Path,
                                                                        bot_db: str, tmp_path: Path):
    active = BotProcess(sandbox, event_file, bot_db, tmp_path / "active.log", role="bot")
    standby = BotProcess(sandbox, event_file, bot_db, tmp_path / "standby.log", role="bot")
    await active.sync()
    await active.start()
    try:
        await standby.start(standby=True)
        alice, bob = sandbox.user("alice"), sandbox.user("bob")
        await make_team(sandbox, alice, "Before")
        identified = sandbox.server.identified
        assert active.process is not None
        os.killpg(active.process.pid, signal.SIGKILL)
        await active.process.wait()
        await until(lambda: sandbox.server.identified > identified, 30, "the standby to connect within 30 s")
        await sandbox.wait_connected(identified + 1)
        await make_team(sandbox, bob, "After")  # answered by the process that took over
        assert team_role(sandbox, "After") is not None
        assert "holding the gateway lease (epoch 2)" in standby.output()
    finally:
        await standby.stop()
        await active.stop()
    failed = sandbox.state.failed_interactions()
    assert not failed, [i.summary() for i in failed]
