"""`hackbot phase set` from a script, while the bot runs: the phase's announcement is posted in
Discord by the bot process, as /admin phase set's is, once, however many times the script sets
the same phase. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from bot.sandbox.events import write_e2e_event
from tests.e2e.test_outbox import wait_drained

EXTRA = """
[[phases]]
id = "final"
starts = "now+1d"
data_dir = "data"
"""


@pytest.fixture
def bot_db(db: str) -> str:
    """SQLite and PostgreSQL (tests/databases.py)."""
    return db


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    return write_e2e_event(tmp_path / "event", extra=EXTRA)


async def phase_set(event_file: Path, db: str, phase: str) -> str:
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "phase", "set", phase, "--config", str(event_file), "--db", str(db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await command.communicate()
    assert command.returncode == 0, err.decode()
    return out.decode()


async def test_a_phase_set_from_the_command_line_is_announced_once_by_the_bot(sandbox: Sandbox, bot, event_file,
                                                                             bot_db):
    def announced() -> list[str]:
        return [m.text() for m in sandbox.state.channel_messages("announcements") if "is now open" in m.text()]

    assert "The current phase is final." in await phase_set(event_file, bot_db, "final")
    assert "(unchanged)" in await phase_set(event_file, bot_db, "final")
    status = await wait_drained(event_file, bot_db)
    assert status.counts["failed"] == 0, bot.output()
    await sandbox.wait_for_message("announcements", lambda m: "is now open" in m.text(), timeout=30)
    assert announced() == ["Phase 'final' is now open: new datasets, leaderboard starts from zero"]
