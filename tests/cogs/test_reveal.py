"""/reveal and /token as a participant sees them: ephemeral answers, the same budget as the API."""

from __future__ import annotations

import logging
import re

import pytest

from bot.core.errors import BadCredentials, Unavailable
from bot.core.store import Tx
from tests.cogs.conftest import call, cog_command
from tests.cogs.fakes import FakeInteraction
from tests.core.helpers import hidden_y
from tests.databases import sqlite_pragma


async def join_team(bot, user, name: str = "Blue", *, validated: bool = True):
    return await bot.services.teams.create(name, validated=validated, captain=str(user.id))


async def reveal(bot, it, exercise_id: int, datum_id: int):
    return (await call(bot, "reveal", it, exercise_id=exercise_id, datum_id=datum_id)).last


async def choices(bot, it, typed: str = "") -> list:
    """The autocomplete of /reveal's exercise_id, through discord.py's own dispatch."""
    it.namespace.__dict__["exercise_id"] = typed
    await cog_command(bot, "reveal")._invoke_autocomplete(it, "exercise_id", it.namespace)
    return it.response.choices


async def test_reveal_answers_the_label_the_budget_left_and_the_datums_before(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    y = hidden_y(bot.config, "mock", 3)
    await reveal(bot, interaction(alice), 3, 12)
    await reveal(bot, interaction(alice), 3, 40)
    reply = await reveal(bot, interaction(alice), 3, 7)
    assert reply.ephemeral
    assert reply.content == f"Dataset 3, datum 7: label **{y[7]}**. 2 of 5 labels left. Revealed before: 12, 40"


async def test_re_revealing_a_datum_costs_nothing(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    first = await reveal(bot, interaction(alice), 3, 12)
    again = await reveal(bot, interaction(alice), 3, 12)
    assert "4 of 5 labels left. Revealed before: none" in first.content
    assert "cost nothing" in again.content and "4 of 5 labels left" in again.content


async def test_the_discord_and_http_doors_spend_one_budget(bot, member, interaction):
    alice = member()
    creds = await join_team(bot, alice)
    await bot.services.reveals.reveal_with_login(creds.team.username, creds.password, 3, 1)
    reply = await reveal(bot, interaction(alice), 3, 2)
    assert "3 of 5 labels left. Revealed before: 1" in reply.content


async def test_a_spent_budget_is_refused_with_the_datums_revealed(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    for datum in range(5):
        await reveal(bot, interaction(alice), 3, datum)
    reply = await reveal(bot, interaction(alice), 3, 99)
    assert reply.ephemeral
    assert "5 of 5 labels already revealed for dataset 3: 0, 1, 2, 3, 4" in reply.content


async def test_someone_without_a_team_is_told_how_to_get_one(bot, member, interaction):
    reply = await reveal(bot, interaction(member()), 3, 1)
    assert reply.ephemeral and "not in a team" in reply.content and "/team create" in reply.content


async def test_a_team_not_validated_is_refused(make_bot, member):
    bot = await make_bot(require_validation=True)
    alice = member()
    await join_team(bot, alice, validated=False)
    reply = await reveal(bot, FakeInteraction(bot, alice), 3, 1)
    assert reply.ephemeral and "not validated" in reply.content


async def test_a_dataset_of_another_phase_is_refused(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    reply = await reveal(bot, interaction(alice), 12, 1)
    assert reply.ephemeral and "dataset 12 is not part of the current phase 'mock'" in reply.content
    assert "opens with phase 'real'" in reply.content


async def test_an_unknown_dataset_or_datum_is_refused(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    reply = await reveal(bot, interaction(alice), 4, 1)
    assert reply.ephemeral and "there is no dataset 4" in reply.content
    reply = await reveal(bot, interaction(alice), 3, 200)
    assert reply.ephemeral and "out of range" in reply.content


async def test_autocomplete_shows_each_dataset_of_the_phase_with_the_budget_left(bot, member, interaction):
    alice = member()
    await join_team(bot, alice)
    for datum in (5, 6):
        await reveal(bot, interaction(alice), 3, datum)
    shown = {c.value: c.name for c in await choices(bot, interaction(alice))}
    assert shown == {
        0: "0 · toy · 5/5 left",
        3: "3 · three · 3/5 left",
        5: "5 · digits · 5/5 left",
        888: "888 · big · 5/5 left",
    }  # 12 belongs to phase "real"
    assert [c.value for c in await choices(bot, interaction(alice), "thr")] == [3]


async def test_autocomplete_without_a_team_shows_full_budgets(bot, member, interaction):
    shown = [c.name for c in await choices(bot, interaction(member()))]
    assert "3 · three · 5/5 left" in shown and len(shown) == 4


async def test_token_rotates_the_password_and_shows_a_curl_line(bot, member, interaction):
    alice = member()
    creds = await join_team(bot, alice)
    reply = (await call(bot, "token", interaction(alice))).last
    assert reply.ephemeral
    username = creds.team.username
    password = re.search(r"password: `([^`]+)`", reply.content).group(1)
    assert password != creds.password and f"username: `{username}`" in reply.content
    assert "previous password no longer works" in reply.content
    assert (
        f"curl -F username={username} -F password={password} -F exercise_id=3 -F datum_id=456 "
        "http://127.0.0.1:8080/reveal/"
    ) in reply.content
    with pytest.raises(BadCredentials):
        await bot.services.teams.authenticate(username, creds.password)
    assert (await bot.services.teams.authenticate(username, password)).id == creds.team.id


async def test_token_needs_a_team(bot, member, interaction):
    reply = (await call(bot, "token", interaction(member()))).last
    assert reply.ephemeral and "not in a team" in reply.content


def test_token_curl_line_uses_the_public_url_when_set():
    from bot.cogs.reveal import api_base_url
    from bot.settings import Settings

    listening = Settings(discord_token=None, hackbot_host="0.0.0.0", hackbot_port=8080)
    assert api_base_url(listening) == "http://0.0.0.0:8080"
    public = listening.model_copy(update={"hackbot_public_url": "https://lb.example.org/"})
    assert api_base_url(public) == "https://lb.example.org"


def test_the_label_survives_a_long_list_of_earlier_reveals():
    from bot.cogs.reveal import render_reveal
    from bot.core.reveals import Reveal

    text = render_reveal(Reveal(3, 99_999, 7, list(range(10_000, 10_407 * 2, 2)), 500, True))
    assert text.startswith("Dataset 3, datum 99999: label **7**.") and len(text) <= 2000
    assert "and " in text and "more" in text and "10000, 10002" in text
async def test_a_database_that_cannot_write_records_nothing_and_says_why_to_the_log_only(bot, member, interaction,
                                                                                      caplog):
    """/reveal on a database turned read-only: the member hears that nothing was recorded (no path,
    no database words), the log says why, and the refused reveal spent nothing."""
    alice = member()
    await join_team(bot, alice)
    store = bot.services.store
    if store.dialect == "sqlite":
        await sqlite_pragma(store, "query_only = ON")
    else:
        name = await store.fetchval("SELECT current_database()")
        await store.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await store._pool.expire_connections()  # noqa: SLF001 (new sessions read the setting)
    with caplog.at_level(logging.WARNING, logger="bot.tree"):
        reply = await reveal(bot, interaction(alice), 3, 7)
    assert reply.ephemeral and reply.content == Unavailable.MESSAGE
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.tree"]
    assert len(logged) == 1 and "read-only" in logged[0] and store.target in logged[0]
    if store.dialect == "sqlite":
        await sqlite_pragma(store, "query_only = OFF")
    else:
        async def writable(tx: Tx) -> None:
            async with tx.transaction():
                await tx.execute("SET TRANSACTION READ WRITE")
                await tx.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')

        await store.run(writable)
        await store._pool.expire_connections()  # noqa: SLF001
    assert "4 of 5 labels left" in (await reveal(bot, interaction(alice), 3, 7)).content
