"""End to end: the real bot (`hackbot run` as a subprocess, unmodified discord.py) against the
local Discord double (bot/sandbox) served in this test's process, strict: a request Discord
would refuse fails the test that caused it, naming the route and the reason. A test that
provokes a refusal on purpose takes it (`sandbox.state.take_refusals()`) and asserts on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import BotProcess, Sandbox
from bot.sandbox.events import hidden_labels, write_e2e_event  # noqa: F401  (tests import them from here)


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    return write_e2e_event(tmp_path / "event")


def assert_nothing_refused(sandbox: Sandbox, log: str = "") -> None:
    refused = sandbox.state.refusals()
    assert not refused, "Discord would have refused:\n" + "\n".join(f"  {r}" for r in refused) + (
        f"\n--- bot log ---\n{log}" if log else "")


@pytest.fixture
async def sandbox():
    async with Sandbox() as double:
        double.organizer("orga")
        yield double
        assert_nothing_refused(double)


@pytest.fixture
async def bot(sandbox: Sandbox, event_file: Path, tmp_path: Path):
    process = BotProcess(sandbox, event_file, tmp_path / "hackbot.sqlite3", tmp_path / "bot.log")
    await process.sync()
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
        failed = sandbox.state.failed_interactions()
        assert not failed, f"interactions failed: {[i.summary() for i in failed]}\n{process.output()}"
        assert_nothing_refused(sandbox, process.output())
