"""End to end: the real bot (`hackbot run` as a subprocess, unmodified discord.py) against the
local Discord double (bot/sandbox) served in this test's process, strict: a request Discord
would refuse fails the test that caused it, naming the route and the reason. A test that
provokes a refusal on purpose takes it (`sandbox.state.take_refusals()`) and asserts on it.

The bot runs on a SQLite file (`bot_db`); a test module that overrides `bot_db` with the `db`
fixture's PostgreSQL URL runs the same bot on PostgreSQL (tests/e2e/test_postgres.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import load_event
from bot.core.services import Services
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
def bot_db(tmp_path: Path) -> Path | str:
    """The bot's database: a SQLite file, or (overridden) a postgresql:// URL."""
    return tmp_path / "hackbot.sqlite3"


@pytest.fixture
async def bot(sandbox: Sandbox, event_file: Path, tmp_path: Path, bot_db: Path | str):
    process = BotProcess(sandbox, event_file, bot_db, tmp_path / "bot.log")
    await process.sync()
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
        failed = sandbox.state.failed_interactions()
        assert not failed, f"interactions failed: {[i.summary() for i in failed]}\n{process.output()}"
        assert_nothing_refused(sandbox, process.output())


@contextlib.asynccontextmanager
async def services_on(config: Path, db: Path | str) -> AsyncIterator[Services]:
    """The event's services on the bot's database, from the test's process: to seed real-sized
    data (hundreds of teams, reveals, profiles) without hundreds of interactions."""
    services = await Services.open(load_event(config), db)
    try:
        yield services
    finally:
        await services.close()


@pytest.fixture
async def start_bot(sandbox: Sandbox, tmp_path: Path, bot_db: Path | str):
    """start_bot(event_file) -> the bot process on that event, started after what the test seeded;
    stopped at the end with the same checks as `bot`."""
    started: list[BotProcess] = []

    async def start(event: Path, *, sync: bool = True) -> BotProcess:
        process = BotProcess(sandbox, event, bot_db, tmp_path / f"bot{len(started)}.log")
        if sync:
            await process.sync()
        await process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        await process.stop()
    failed = sandbox.state.failed_interactions()
    logs = "\n".join(p.output() for p in started)
    assert not failed, f"interactions failed: {[i.summary() for i in failed]}\n{logs}"
    assert_nothing_refused(sandbox, logs)
