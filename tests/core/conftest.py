"""Fixtures: a small two-phase event on disk, a real database (SQLite and PostgreSQL: see
tests/conftest.py), a clock the test moves."""

from __future__ import annotations

import contextlib

import pytest

from bot.config import load_event
from bot.core.services import Services
from tests.core.helpers import Clock, write_event


@pytest.fixture
def clock() -> Clock:
    return Clock()  # one hour into phase "mock"


@pytest.fixture
async def open_services(tmp_path, clock, databases):
    """open_services(**event_options) -> Services over a fresh event folder and database."""
    opened: list[Services] = []

    async def factory(**options) -> Services:
        n = len(opened)
        path = write_event(tmp_path / f"event{n}", **options)
        services = await Services.open(load_event(path), databases.new(), clock=clock)
        opened.append(services)
        return services

    yield factory
    for services in opened:
        with contextlib.suppress(Exception):  # closed by the test already
            await services.close()


@pytest.fixture
async def services(open_services) -> Services:
    return await open_services()

