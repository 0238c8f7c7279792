"""Revealing hidden labels: the budget per team, dataset and phase, and every refusal."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from bot.core.errors import BadCredentials, BadInput, NotAllowed, NotFound
from bot.core.store import IntegrityError
from tests.core.helpers import CLOSES, REAL, ROWS, T0, hidden_y, new_team
from tests.databases import count, execute, target_of


async def reveal_many(services, team, dataset_id, datums):
    return [await services.reveals.reveal(team, dataset_id, d) for d in datums]


async def test_reveal_answers_the_hidden_label(services):
    team, password = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 5)
    first = await services.reveals.reveal(team, 5, 17)
    assert first.label == int(y[17]) and first.label in (4, 5, 6)
    assert first.new and first.previously_revealed == [] and first.budget == 5 and first.remaining == 4
    http = await services.reveals.reveal_with_login("blue", password, 5, 3)
    assert http.to_api() == {"exercise_id": 5, "datum_id": 3, "label": int(y[3]), "previously revealed": [17]}


async def test_a_phase_set_elsewhere_holds_for_the_next_re_read(services, clock):
    """A team asks again for a label it revealed, after another process moved the event to the
    next phase (the override, written straight to the database): it gets the next phase's label
    and spends that phase's budget, not the answer it had before."""
    team, password = await new_team(services, "Blue")
    gate = services.logins.gate("10.0.0.7")
    for _ in range(2):
        before = await services.reveals.reveal_with_login("blue", password, 3, 40, gate=gate)
        assert before.label == int(hidden_y(services.config, "mock", 3)[40])
    await execute(target_of(services.store),
                  "INSERT INTO event_state(key, value, updated_at) VALUES ('phase_override', 'real', 0)")
    after = await services.reveals.reveal_with_login("blue", password, 3, 40, gate=gate)
    assert after.new and after.label == int(hidden_y(services.config, "real", 3)[40])
    assert await services.reveals.revealed(team, "real", 3) == [40]


async def test_budget_is_per_team_dataset_and_phase(services, clock):
    blue, _ = await new_team(services, "Blue")
    red, _ = await new_team(services, "Red")
    await reveal_many(services, blue, 3, [10, 11, 12, 13, 14])
    with pytest.raises(NotAllowed, match="5 of 5 labels already revealed for dataset 3") as spent:
        await services.reveals.reveal(blue, 3, 15)
    assert "10, 11, 12, 13, 14" in spent.value.message
    # another dataset, another team: their own budgets
    assert (await services.reveals.reveal(blue, 0, 15)).new
    assert [r.remaining for r in await reveal_many(services, red, 3, [15, 16, 17, 18, 19])] == [4, 3, 2, 1, 0]
    # the next phase: a fresh budget, and the labels of that phase's data
    clock.set(REAL)
    y_real = hidden_y(services.config, "real", 3)
    fresh = await services.reveals.reveal(blue, 3, 15)
    assert fresh.new and fresh.previously_revealed == [] and fresh.label == int(y_real[15])
    assert await services.reveals.revealed(blue, "mock", 3) == [10, 11, 12, 13, 14]
    assert await services.reveals.revealed(blue, "real", 3) == [15]


async def test_re_reveal_is_free_and_answers_the_same_label(services):
    team, _ = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 3)
    first = await reveal_many(services, team, 3, [40, 41, 42, 43, 44])
    for _ in range(3):
        again = await services.reveals.reveal(team, 3, 42)
        assert not again.new and again.label == first[2].label == int(y[42])
        assert again.remaining == 0
    with pytest.raises(NotAllowed):
        await services.reveals.reveal(team, 3, 45)
    rows = await services.store.fetchall("SELECT datum_id FROM reveals WHERE team_id = ?", (team.id,))
    assert sorted(r[0] for r in rows) == [40, 41, 42, 43, 44]


async def test_previously_revealed_in_reveal_order_without_the_current_datum(services):
    team, _ = await new_team(services, "Blue")
    answers = await reveal_many(services, team, 3, [7, 2, 9, 4])
    assert [a.previously_revealed for a in answers] == [[], [7], [7, 2], [7, 2, 9]]
    again = await services.reveals.reveal(team, 3, 2)
    assert again.previously_revealed == [7, 9, 4]
    assert again.to_api()["previously revealed"] == [7, 9, 4]


@pytest.mark.parametrize("datum", [-1, ROWS, ROWS + 1000])
async def test_datum_out_of_range(services, datum):
    team, _ = await new_team(services, "Blue")
    with pytest.raises(BadInput, match=f"{ROWS} rows, ids 0 to {ROWS - 1}"):
        await services.reveals.reveal(team, 3, datum)
    assert (await services.reveals.reveal(team, 3, ROWS - 1)).new
    assert (await services.reveals.reveal(team, 3, 0)).new


async def test_unknown_dataset(services):
    team, password = await new_team(services, "Blue")
    with pytest.raises(NotFound, match="no dataset 4"):
        await services.reveals.reveal(team, 4, 0)
    with pytest.raises(NotFound):
        await services.reveals.reveal_with_login("blue", password, 4, 0)


async def test_dataset_of_a_later_phase(services, clock):
    team, _ = await new_team(services, "Blue")
    with pytest.raises(NotAllowed) as info:
        await services.reveals.reveal(team, 12, 0)
    message = info.value.message
    assert "'mock'" in message and "'real'" in message and "2030-03-03 12:00 UTC" in message
    clock.set(REAL)
    assert (await services.reveals.reveal(team, 12, 0)).label == int(hidden_y(services.config, "real", 12)[0])


async def test_before_the_first_phase(services, clock):
    team, _ = await new_team(services, "Blue")
    clock.set(T0 - timedelta(seconds=1))
    with pytest.raises(NotAllowed, match="not started.*2030-03-01 12:00 UTC"):
        await services.reveals.reveal(team, 3, 0)
    clock.set(T0)
    assert (await services.reveals.reveal(team, 3, 0)).new


async def test_after_submissions_close(services, clock):
    team, _ = await new_team(services, "Blue")
    clock.set(CLOSES - timedelta(seconds=1))
    assert (await services.reveals.reveal(team, 3, 0)).new
    clock.set(CLOSES)
    with pytest.raises(NotAllowed, match="closed"):
        await services.reveals.reveal(team, 3, 1)
    with pytest.raises(NotAllowed, match="closed"):
        await services.reveals.reveal(team, 3, 0)  # not even a re-reveal


async def test_team_not_validated(open_services):
    services = await open_services(require_validation=True)
    team, password = await new_team(services, "Blue", validated=False)
    with pytest.raises(NotAllowed, match="not validated"):
        await services.reveals.reveal(team, 3, 0)
    with pytest.raises(NotAllowed, match="not validated"):
        await services.reveals.reveal_with_login("blue", password, 3, 0)
    assert await services.store.fetchall("SELECT * FROM reveals") == []
    await services.teams.validate("Blue")
    # the stale Team object is fine: the database decides
    assert (await services.reveals.reveal(team, 3, 0)).new
    assert (await services.reveals.reveal_with_login("blue", password, 3, 1)).new


@pytest.mark.parametrize(("dataset", "datum"), [(4, 0), (12, 0), (3, -1), (3, ROWS), (3, 0)])
async def test_bad_login_learns_nothing(services, dataset, datum):
    _, password = await new_team(services, "Blue")
    for username, pw in [("blue", "wrong"), ("nobody", password), ("", "")]:
        with pytest.raises(BadCredentials):
            await services.reveals.reveal_with_login(username, pw, dataset, datum)
    assert await services.store.fetchall("SELECT * FROM reveals") == []


async def test_bad_login_before_the_event_learns_nothing(services, clock):
    await new_team(services, "Blue")
    clock.set(T0 - timedelta(days=1))
    with pytest.raises(BadCredentials):
        await services.reveals.reveal_with_login("blue", "wrong", 3, 0)
    clock.set(CLOSES + timedelta(days=1))
    with pytest.raises(BadCredentials):
        await services.reveals.reveal_with_login("nobody", "x", 3, 0)


async def test_budget_trigger_refuses_a_raw_insert(services):
    team, _ = await new_team(services, "Blue")
    await services.close()
    target = target_of(services.store)  # a connection of its own, no Python rule in the way
    insert = "INSERT INTO reveals(phase, team_id, dataset_id, datum_id, revealed_at, source) VALUES (?, ?, ?, ?, 0, 'raw')"
    await execute(target, insert, ("mock", team.id, 3, 0))
    with pytest.raises(IntegrityError) as twice:
        await execute(target, insert, ("mock", team.id, 3, 0))  # the same datum twice
    assert twice.value.kind == "unique"
    for datum in range(1, 5):
        await execute(target, insert, ("mock", team.id, 3, datum))
    for datum in (5, 150):
        with pytest.raises(IntegrityError, match="^reveal budget spent$"):
            await execute(target, insert, ("mock", team.id, 3, datum))
    with pytest.raises(IntegrityError, match="^datum out of range$"):
        await execute(target, insert, ("real", team.id, 3, ROWS))
    await execute(target, insert, ("real", team.id, 3, 5))  # the other phase has its own budget
    assert await count(target, "SELECT count(*) FROM reveals WHERE phase = 'mock'") == 5


async def test_new_reveals_asked_together_each_see_the_ones_before(services):
    """A script's reveals sent at once (one group on SQLite, the later ones read under the write
    lock the first took): on SQLite each answer's `previously revealed` is exactly the reveals
    written before it; a datum asked twice is written once, and the budget holds."""
    await new_team(services, "Blue")
    _, password = await new_team(services, "Green")
    datums = [11, 12, 13, 11, 14, 15]
    answers = await asyncio.gather(*(services.reveals.reveal_with_login("green", password, 3, d) for d in datums))
    new = sorted((a for a in answers if a.new), key=lambda a: len(a.previously_revealed))
    order = [a.datum_id for a in new]
    assert sorted(order) == [11, 12, 13, 14, 15]
    again = [a for a in answers if not a.new]
    assert [a.datum_id for a in again] == [11]
    rows = await services.store.fetchall("SELECT datum_id FROM reveals WHERE dataset_id = 3 ORDER BY id")
    if services.store.dialect == "sqlite":  # one writer at a time: each answer knows every earlier one
        assert [r[0] for r in rows] == order
        assert [a.previously_revealed for a in new] == [order[:k] for k in range(5)]
        assert again[0].previously_revealed in [[d for d in order[:k] if d != 11] for k in range(1, 6)]
    else:  # concurrent statements: each knows those committed before it began, none that are not
        assert sorted(r[0] for r in rows) == sorted(order)
        assert all(set(a.previously_revealed) <= set(order) - {a.datum_id} for a in answers)
    y = hidden_y(services.config, "mock", 3)
    assert all(a.label == int(y[a.datum_id]) for a in answers)
    with pytest.raises(NotAllowed, match="5 of 5 labels already revealed"):
        await services.reveals.reveal_with_login("green", password, 3, 16)


@pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
async def test_a_write_lock_held_elsewhere_holds_back_new_reveals_only(services):
    """SQLite: another process holds the write lock. The reveals' groups run on the event loop's
    connection, which never waits for a lock: a re-read still answers, a new reveal waits in the
    database thread (asked twice at once, it is written once) while the event loop goes on, and is
    written when the lock is released."""
    team, password = await new_team(services, "Blue")
    first = await services.reveals.reveal_with_login("blue", password, 3, 7)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    other = sqlite3.connect(target_of(services.store), isolation_level=None)
    ticking = asyncio.create_task(ticker())
    try:
        other.execute("BEGIN IMMEDIATE")
        new = [asyncio.create_task(services.reveals.reveal_with_login("blue", password, 3, 8)) for _ in range(2)]
        again = await services.reveals.reveal_with_login("blue", password, 3, 7)
        assert not again.new and again.label == first.label and again.remaining == 4
        before = ticks
        for _ in range(20):
            await asyncio.sleep(0)
        assert ticks > before and not any(task.done() for task in new)  # the loop runs; the reveals wait
        other.execute("COMMIT")
        answers = await asyncio.gather(*new)
    finally:
        ticking.cancel()
        other.close()
    assert sorted(a.new for a in answers) == [False, True]
    assert {a.label for a in answers} == {int(hidden_y(services.config, "mock", 3)[8])}
    assert await count(target_of(services.store), "SELECT count(*) FROM reveals WHERE datum_id = 8") == 1
    assert (await services.reveals.reveal(team, 3, 9)).remaining == 2  # back on the loop's connection
