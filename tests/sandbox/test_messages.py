"""Message bodies the double refuses as Discord does: 400, code 50035, the nested `errors` at the
field, recorded with the route and the reason; and the pings a message makes."""

from __future__ import annotations

import pytest

from bot.sandbox import Sandbox
from tests.sandbox.conftest import error_at

ROUTE = "POST /channels/{channel}/messages"


async def test_content_over_2000_characters(sandbox, raw):
    status, body, _ = await raw.send({"content": "x" * 2001})
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    assert error_at(body, "content") == {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
    [refusal] = sandbox.state.refusals()
    assert refusal.route == ROUTE and refusal.code == 50035 and "content: Must be 2000" in refusal.reason
    assert sandbox.state.channel_messages("general") == []
    status, _, _ = await raw.send({"content": "x" * 2000})
    assert status == 200


@pytest.mark.parametrize(("embed", "path", "limit"), [
    ({"title": "t" * 257}, ("embeds", 0, "title"), 256),
    ({"description": "d" * 4097}, ("embeds", 0, "description"), 4096),
    ({"fields": [{"name": "n", "value": "v"}] * 26}, ("embeds", 0, "fields"), 25),
    ({"fields": [{"name": "n", "value": "v"}] * 3 + [{"name": "n", "value": "v" * 1025}]},
     ("embeds", 0, "fields", 3, "value"), 1024),
    ({"fields": [{"name": "n" * 257, "value": "v"}]}, ("embeds", 0, "fields", 0, "name"), 256),
    ({"footer": {"text": "f" * 2049}}, ("embeds", 0, "footer", "text"), 2048),
    ({"author": {"name": "a" * 257}}, ("embeds", 0, "author", "name"), 256),
])
async def test_embed_limits(raw, embed, path, limit):
    status, body, _ = await raw.send({"embeds": [embed]})
    assert status == 400 and error_at(body, *path)["message"] == f"Must be {limit} or fewer in length."


async def test_more_than_ten_embeds_and_more_than_6000_characters_in_all(raw):
    status, body, _ = await raw.send({"embeds": [{"title": "x"}] * 11})
    assert status == 400 and error_at(body, "embeds")["message"] == "Must be 10 or fewer in length."
    two = [{"description": "d" * 3000}, {"description": "d" * 2990, "title": "t" * 11}]
    status, body, _ = await raw.send({"embeds": two})
    assert status == 400 and error_at(body, "embeds") == {
        "code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
    status, _, _ = await raw.send({"embeds": [{"description": "d" * 3000}, {"description": "d" * 3000}]})
    assert status == 200


async def test_an_empty_field_value_is_required(raw):
    status, body, _ = await raw.send({"embeds": [{"fields": [{"name": "n", "value": ""}]}]})
    assert status == 400 and error_at(body, "embeds", 0, "fields", 0, "value")["code"] == "BASE_TYPE_REQUIRED"


async def test_an_empty_message_is_refused_with_50006(raw):
    status, body, _ = await raw.send({"content": ""})
    assert (status, body["code"]) == (400, 50006)


async def test_at_most_100_ids_in_allowed_mentions(raw):
    ids = [str(10**17 + n) for n in range(101)]
    status, body, _ = await raw.send({"content": "hi", "allowed_mentions": {"parse": [], "roles": ids}})
    assert status == 400 and error_at(body, "allowed_mentions", "roles")["message"] == "Must be 100 or fewer in length."
    status, _, _ = await raw.send({"content": "hi", "allowed_mentions": {"parse": [], "roles": ids[:100]}})
    assert status == 200


def button(custom_id: str, label: str = "Go") -> dict:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


async def test_component_limits(raw):
    rows = [{"type": 1, "components": [button(f"b{n}")]} for n in range(6)]
    status, body, _ = await raw.send({"content": "hi", "components": rows})
    assert status == 400 and error_at(body, "components")["message"] == "Must be 5 or fewer in length."
    crowded = [{"type": 1, "components": [button(f"b{n}") for n in range(6)]}]
    status, body, _ = await raw.send({"content": "hi", "components": crowded})
    assert status == 400 and "components" in body["errors"]["components"]["0"]
    for bad, path in [(button("x" * 101), ("components", 0, "components", 0, "custom_id")),
                      (button("ok", "l" * 81), ("components", 0, "components", 0, "label"))]:
        status, body, _ = await raw.send({"content": "hi", "components": [{"type": 1, "components": [bad]}]})
        assert status == 400 and error_at(body, *path)
    twice = [{"type": 1, "components": [button("same"), button("same")]}]
    status, body, _ = await raw.send({"content": "hi", "components": twice})
    assert status == 400 and error_at(body, "components", 0, "components", 1, "custom_id")["code"] == (
        "COMPONENT_CUSTOM_ID_DUPLICATED")


async def test_pings_follow_allowed_mentions_and_mentionable_roles(sandbox, raw):
    role = sandbox.state.add_role("Team Ants")  # not mentionable, as the bot creates team roles
    mention = f"<@&{role['id']}> won"
    await raw.send({"content": mention, "allowed_mentions": {"parse": []}})
    await raw.send({"content": mention, "allowed_mentions": {"parse": [], "roles": [role["id"]]}})
    quiet, loud = sandbox.state.channel_messages("general")
    assert quiet.mention_roles == [] and loud.mention_roles == [int(role["id"])]  # the bot has Mention All Roles
    sandbox.state.roles[sandbox.state.bot_role_id]["permissions"] = str(
        int(sandbox.state.roles[sandbox.state.bot_role_id]["permissions"]) & ~(1 << 17))
    await raw.send({"content": mention, "allowed_mentions": {"parse": [], "roles": [role["id"]]}})
    assert sandbox.state.channel_messages("general")[-1].mention_roles == []  # message.mdx:714


async def test_the_permissive_switch_is_for_the_doubles_own_tests():
    async with Sandbox(strict=False) as sandbox:
        import aiohttp

        from tests.sandbox.conftest import Raw

        async with aiohttp.ClientSession() as http:
            status, _, _ = await Raw(sandbox, http).send({"content": "x" * 2500})
        assert status == 200 and sandbox.state.refused == []
