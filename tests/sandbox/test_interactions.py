"""Interaction callbacks as Discord checks them: the type fits the interaction, the first answer
comes within 3 s and once, tokens last 15 minutes, modals and autocomplete within their limits;
and command registration."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox import SandboxError
from tests.sandbox.conftest import error_at

PING = {"id": "1", "name": "ping", "type": 1, "description": "ping", "options": [
    {"type": 3, "name": "what", "description": "what", "autocomplete": True}]}


@pytest.fixture
def alice(sandbox):
    sandbox.state.commands = [PING]
    return sandbox.user("alice")


async def test_a_second_first_response_is_refused(sandbox, raw, alice):
    interaction = await sandbox.invoke(alice, "ping")
    status, answer, _ = await raw.answer(interaction, {"type": 4, "data": {"content": "pong", "flags": 64}})
    assert status == 200 and answer["interaction"]["response_message_ephemeral"]
    status, answer, _ = await raw.answer(interaction, {"type": 4, "data": {"content": "again"}})
    assert (status, answer["code"]) == (400, 40060)
    assert (await sandbox.answer(interaction)).text() == "pong"


async def test_an_answer_after_three_seconds_fails(sandbox, raw, alice):
    interaction = await sandbox.invoke(alice, "ping")
    interaction.dispatched -= 3.2  # as if the bot took 3.2 s
    status, answer, _ = await raw.answer(interaction, {"type": 5, "data": {}})
    assert (status, answer["code"]) == (404, 10062)
    assert interaction.failed and sandbox.state.failed_interactions() == [interaction]
    assert "after 3.2" in sandbox.state.refusals()[-1].reason


@pytest.mark.parametrize(("kind", "callback"), [(2, 8), (2, 6), (2, 7), (4, 4), (4, 9), (5, 9), (3, 8)])
async def test_the_callback_type_must_fit_the_interaction(sandbox, raw, alice, kind, callback):
    if kind == 2:
        interaction = await sandbox.invoke(alice, "ping")
    elif kind == 4:
        interaction = await sandbox._dispatch(alice, 4, "ping [what]", sandbox._base(
            alice, 4, sandbox.command_data("ping", {"what": "x"}, focused="what"), None))
    else:
        interaction = await sandbox._dispatch(alice, kind, "x", sandbox._base(alice, kind, {"custom_id": "x"}, None))
    data = {"choices": []} if callback == 8 else {"custom_id": "m", "title": "t", "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "a", "label": "A", "style": 1}]}]} if callback == 9 else {
        "content": "hi"}
    status, body, _ = await raw.answer(interaction, {"type": callback, "data": data})
    assert status == 400 and error_at(body, "type")["code"] == "INTERACTION_CALLBACK_TYPE_INVALID"


async def test_a_follow_up_after_15_minutes_is_refused(sandbox, raw, alice):
    interaction = await sandbox.invoke(alice, "ping")
    await raw.answer(interaction, {"type": 5, "data": {"flags": 64}})
    interaction.dispatched -= 15 * 60 + 1
    status, body, _ = await raw("POST", f"/webhooks/{sandbox.state.bot.id}/{interaction.token}", {"content": "late"},
                                auth=False)
    assert (status, body["code"]) == (401, 50027) and "15 minutes" in sandbox.state.refusals()[-1].reason


def modal(**changes) -> dict:
    text = {"type": 4, "custom_id": "a", "label": "Title", "style": 1, "max_length": 200} | changes.pop("text", {})
    return {"custom_id": "m", "title": "New item", "components": [{"type": 1, "components": [text]}]} | changes


@pytest.mark.parametrize(("data", "path"), [
    (modal(title="t" * 46), ("data", "title")),
    (modal(text={"label": "l" * 46}), ("data", "components", 0, "components", 0, "label")),
    (modal(text={"value": "v" * 201}), ("data", "components", 0, "components", 0, "value")),
    (modal(text={"placeholder": "p" * 101}), ("data", "components", 0, "components", 0, "placeholder")),
    (modal(components=[{"type": 1, "components": [{"type": 4, "custom_id": f"a{n}", "label": "A", "style": 1}]}
                       for n in range(6)]), ("data", "components")),
])
async def test_modal_limits(sandbox, raw, alice, data, path):
    interaction = await sandbox.invoke(alice, "ping")
    status, body, _ = await raw.answer(interaction, {"type": 9, "data": data})
    assert status == 400 and error_at(body, *path)


async def test_autocomplete_goes_to_the_bot_and_its_choices_are_checked(sandbox, raw, alice):
    async def answer_when_asked(choices):
        interaction = await sandbox_wait(sandbox, 4)
        return await raw.answer(interaction, {"type": 8, "data": {"choices": choices}})

    asked = asyncio.create_task(sandbox.autocomplete(alice, "ping", "what", "te", timeout=2))
    await answer_when_asked([{"name": "test", "value": "test"}])
    assert await asked == [{"name": "test", "value": "test"}]
    [interaction] = [i for i in sandbox.state.interactions.values() if i.kind == 4]
    focused = interaction.payload["data"]["options"][0]
    assert focused == {"type": 3, "name": "what", "value": "te", "focused": True}

    asked = asyncio.create_task(sandbox.autocomplete(alice, "ping", "what", "", timeout=2))
    status, body, _ = await answer_when_asked([{"name": str(n), "value": str(n)} for n in range(26)])
    assert status == 400 and error_at(body, "data", "choices")["message"] == "Must be 25 or fewer in length."
    with pytest.raises(SandboxError, match="no choices"):
        await asked
    sandbox.state.take_refusals()
    asked = asyncio.create_task(sandbox.autocomplete(alice, "ping", "what", "", timeout=2))
    status, body, _ = await answer_when_asked([{"name": "n" * 101, "value": "v"}])
    assert status == 400 and error_at(body, "data", "choices", 0, "name")
    with pytest.raises(SandboxError):
        await asked


async def sandbox_wait(sandbox, kind: int):
    for _ in range(200):
        waiting = [i for i in sandbox.state.interactions.values() if i.kind == kind and i.response_type is None
                   and not i.errors]
        if waiting:
            return waiting[-1]
        await asyncio.sleep(0.01)
    raise AssertionError("no interaction dispatched")


def command(**changes) -> dict:
    return {"name": "team", "type": 1, "description": "Teams", "options": []} | changes


@pytest.mark.parametrize(("commands", "path", "code"), [
    ([command(name="Team")], (0, "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ([command(description="d" * 101)], (0, "description"), "BASE_TYPE_BAD_LENGTH"),
    ([command(options=[{"type": 3, "name": f"o{n}", "description": "o"} for n in range(26)])], (0, "options"),
     "BASE_TYPE_MAX_LENGTH"),
    ([command(options=[{"type": 3, "name": "a", "description": "a"},
                       {"type": 3, "name": "b", "description": "b", "required": True}])],
     (0, "options", 1, "required"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"),
    ([command(options=[{"type": 3, "name": "a", "description": "a", "choices": [{"name": "c", "value": "v" * 101}]}])],
     (0, "options", 0, "choices", 0, "value"), "BASE_TYPE_MAX_LENGTH"),
    ([command(), command()], (1, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME"),
    ([command(options=[{"type": 3, "name": f"o{n}", "description": "d" * 100,
                        "choices": [{"name": "n" * 100, "value": "v" * 100}] * 2} for n in range(25)])], (0,),
     "APPLICATION_COMMAND_TOO_LARGE"),
])
async def test_command_registration_limits(sandbox, raw, commands, path, code):
    status, body, _ = await raw("PUT", f"/applications/{sandbox.state.bot.id}/guilds/{raw.guild}/commands", commands)
    assert status == 400 and error_at(body, *path)["code"] == code
    assert sandbox.state.commands == []
