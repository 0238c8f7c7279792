"""Building blocks of the vote tests: an event with a [[votes]] entry, eligible projects inserted
as rows (as tests/core/test_projects_pool.py does), Discord ids of a chosen age. Plain functions,
importable by worker processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.vote_rules import DISCORD_EPOCH_MS
from tests.core.helpers import T0, _iso, write_event

OPENS = T0 + timedelta(days=5)
CLOSES = T0 + timedelta(days=6)
DURING = OPENS + timedelta(hours=1)
OLD_MEMBER = T0 - timedelta(days=30)  # joined the server long before the vote


def snowflake(created: datetime, serial: int = 0) -> int:
    """A Discord id whose account was created at `created`."""
    ms = int(created.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (serial & 0x3FFFFF)


def old_account(serial: int) -> int:
    return snowflake(datetime(2020, 1, 1, tzinfo=UTC), serial)


def vote_toml(*, kind: str = "approval", max_choices: int | None = 3, codes: bool = True, results: str = "hidden",
              categories: list[str] | None = None) -> str:
    lines = [
        "\n[projects]", 'categories = ["Build", "Train"]',
        "\n[[prizes]]", 'id = "community"', 'title = "Community Favorite"', 'source = "vote"',
        "\n[[votes]]", 'id = "fav"', 'title = "Community Favorite"', f"opens = {_iso(OPENS)}", f"closes = {_iso(CLOSES)}",
        f'kind = "{kind}"', f"codes = {str(codes).lower()}", f'results = "{results}"', 'prize = "community"',
    ]
    if max_choices is not None:
        lines.append(f"max_choices = {max_choices}")
    if categories is not None:
        lines.append(f"categories = {json.dumps(categories)}")
    return "\n".join(lines) + "\n"


def write_vote_event(folder: Path, **vote_options) -> Path:
    path = write_event(folder)
    path.write_text(path.read_text(encoding="utf-8") + vote_toml(**vote_options), encoding="utf-8")
    return path


async def add_projects(services, n: int, *, category: str = "Build", members: int = 1) -> list[tuple[int, list[str]]]:
    """n teams, each with `members` members and one submitted, eligible project: [(project id, member ids)]."""
    made = []
    for i in range(n):
        captain = str(old_account(10_000 + i * 10))
        team = (await services.teams.create(f"Team {i:03d}", captain=captain)).team
        users = [captain]
        for k in range(1, members):
            user = str(old_account(10_000 + i * 10 + k))
            await services.teams.add_member(team.id, user)
            users.append(user)
        project = await services.store.fetchval(
            "INSERT INTO projects(team_id, status, title, category, moderation, created_by, created_at, updated_by,"
            " updated_at) VALUES (?, 'submitted', ?, ?, 'eligible', 'u', 0, 'u', 0) RETURNING id",
            (team.id, f"Project {i:03d}", category),
        )
        made.append((int(project), users))
    return made
