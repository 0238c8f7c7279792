"""The board's change counter (migration 0014), held by the database whoever writes: every change
the leaderboard shows moves it, in the writer's transaction; nothing else does."""

from __future__ import annotations

import hashlib

import pytest

from bot.core.store import Tx


async def version(services) -> int:
    return int(await services.store.fetchval("SELECT coalesce((SELECT n FROM board_version WHERE id = 1), 0)"))


async def test_every_change_the_board_shows_moves_the_counter_and_nothing_else_does(services):
    store = services.store
    seen = [await version(services)]

    async def moved(sql: str, params: tuple = ()) -> bool:
        await store.execute(sql, params)
        seen.append(await version(services))
        return seen[-1] > seen[-2]

    digest = hashlib.sha256(b"x").digest()
    assert await moved("INSERT INTO teams(name, name_key, username, password_digest, validated, created_at)"
                       " VALUES ('Raw', 'raw', 'raw', ?, 0, 0)", (digest,))
    team_id = await store.fetchval("SELECT id FROM teams WHERE name = 'Raw'")
    assert await moved("UPDATE teams SET validated = 1 WHERE id = ?", (team_id,))
    assert await moved("UPDATE teams SET name = 'Raw Two', name_key = 'raw two' WHERE id = ?", (team_id,))
    assert not await moved("UPDATE teams SET discord_role_id = 5 WHERE id = ?", (team_id,))  # not on the board
    assert await moved(
        "INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, rows, accuracy, worst_group, filename,"
        " sha256, raw, source) VALUES ('mock', ?, 0, 1, 1, 0.5, NULL, 'a.csv', ?, ?, 'raw')",
        (team_id, "0" * 64, b"1\n"))
    assert await moved("UPDATE submissions SET accuracy = 0.75 WHERE team_id = ?", (team_id,))  # a rescore
    assert not await moved("INSERT INTO event_state(key, value, updated_at) VALUES ('other', 'x', 0)")
    assert await moved("INSERT INTO event_state(key, value, updated_at) VALUES ('phase_override', 'real', 0)")
    assert await moved("DELETE FROM event_state WHERE key = 'phase_override'")
    assert await moved("DELETE FROM submissions WHERE team_id = ?", (team_id,))
    assert await moved("DELETE FROM teams WHERE id = ?", (team_id,))


async def test_a_failed_write_leaves_the_counter_and_an_emptied_table_is_refilled(services):
    before = await version(services)

    async def clash(tx: Tx) -> None:
        async with tx.transaction():
            await tx.execute("INSERT INTO teams(name, name_key, username, password_digest, validated, created_at)"
                             " VALUES ('A', 'a', 'a', ?, 1, 0)", (hashlib.sha256(b"a").digest(),))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await services.store.run(clash)
    assert await version(services) == before  # the counter moves with its cause, or not at all
    await services.store.execute("DELETE FROM board_version")
    await services.teams.create("Back", validated=True)
    assert await version(services) >= 1
