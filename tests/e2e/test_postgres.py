"""The real bot on PostgreSQL: `hackbot run` as a subprocess with HACKBOT_DB set to a fresh
PostgreSQL database (the `db` fixture's URL), through the strict Discord double. The other
end-to-end tests run on SQLite; this one plays a short flow (a team made and joined, a reveal,
a submission confirmed) and then reads the database from the test's process, so that what the
participants were told is what PostgreSQL holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.store import redact
from bot.sandbox import Sandbox
from tests.e2e.conftest import hidden_labels, services_on
from tests.e2e.test_event import csv_of, make_team, submit_and_confirm, team_role

pytestmark = pytest.mark.parametrize("databases", ["postgres"], indirect=True)


def sqlite_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.sqlite3*"))


@pytest.fixture
def bot_db(db: str) -> str:
    """The bot's database for this module: a new PostgreSQL database, not a file."""
    assert db.startswith(("postgresql://", "postgres://"))
    return db


async def test_team_reveal_and_submit_through_the_real_bot_on_postgresql(sandbox: Sandbox, bot, event_file: Path,
                                                                        bot_db: str, tmp_path: Path):
    alice, bob = sandbox.user("alice"), sandbox.user("bob")
    await make_team(sandbox, alice, "Ants", bob)
    role = team_role(sandbox, "Ants")
    assert int(role["id"]) in sandbox.state.members[bob.user.id].roles

    y = hidden_labels(event_file, 3)
    revealed = await sandbox.reply_text(await sandbox.invoke(bob, "reveal", exercise_id=3, datum_id=5))
    assert f"datum 5: label **{y[5]}**" in revealed and "2 of 3 labels left" in revealed
    confirmed = await submit_and_confirm(sandbox, alice, 3, y)
    assert "1.0000" in confirmed, confirmed
    again = await sandbox.reply_text(await sandbox.invoke(bob, "submit", exercise_id=3, file=csv_of(y)))
    assert "already" in again.lower(), again

    # the bot said where it keeps the event (without a password), and made no SQLite file
    assert f"database {redact(bot_db)}" in bot.output()
    assert not sqlite_files(tmp_path)
    async with services_on(event_file, bot_db) as services:
        store = services.store
        assert store.dialect == "postgres"
        [(team_id, role_id, channel_id)] = await store.fetchall(
            "SELECT id, discord_role_id, discord_channel_id FROM teams WHERE name = ?", ("Ants",))
        assert role_id == int(role["id"]) and channel_id is not None
        members = await store.fetchall("SELECT user_id FROM team_members WHERE team_id = ? ORDER BY seq", (team_id,))
        assert members == [(str(alice.user.id),), (str(bob.user.id),)]
        assert await store.fetchall("SELECT dataset_id, datum_id, source FROM reveals") == [(3, 5, "discord")]
        assert await store.fetchall("SELECT dataset_id, accuracy, source FROM submissions") == [(3, 1.0, "discord")]
