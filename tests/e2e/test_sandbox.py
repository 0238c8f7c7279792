"""The double answers like Discord where a bot can get it wrong (no bot process here: the
requests a bot would send are sent by hand, as discord.py sends them)."""

from __future__ import annotations

import json
import zlib

import aiohttp

from bot.sandbox import Sandbox


async def _interaction(sandbox: Sandbox):
    sandbox.state.commands = [{"id": "1", "name": "ping", "type": 1, "options": []}]
    return await sandbox.invoke(sandbox.user("alice"), "ping")


async def _callback(http, sandbox, interaction, body):
    url = f"{sandbox.url}/api/v10/interactions/{interaction.id}/{interaction.token}/callback?with_response=1"
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_a_second_first_response_is_refused():
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        interaction = await _interaction(sandbox)
        status, answer = await _callback(http, sandbox, interaction, {"type": 4, "data": {"content": "pong", "flags": 64}})
        assert status == 200 and answer["interaction"]["response_message_ephemeral"]
        status, answer = await _callback(http, sandbox, interaction, {"type": 4, "data": {"content": "again"}})
        assert (status, answer["code"]) == (400, 40060)
        assert (await sandbox.answer(interaction)).text() == "pong"


async def test_an_answer_after_three_seconds_fails():
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        interaction = await _interaction(sandbox)
        interaction.dispatched -= 3.2  # as if the bot took 3.2 s
        status, answer = await _callback(http, sandbox, interaction, {"type": 5, "data": {}})
        assert (status, answer["code"]) == (404, 10062)
        assert interaction.failed and sandbox.state.failed_interactions() == [interaction]


async def test_rate_limit_on_request_and_authentication():
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        channel = sandbox.state.channel_named("general")["id"]
        url = f"{sandbox.url}/api/v10/channels/{channel}/messages"
        auth = {"Authorization": f"Bot {sandbox.token}"}
        async with http.post(url, json={"content": "hi"}) as response:
            assert response.status == 401
        sandbox.state.rate_limits.append(("/messages", 0.25))
        async with http.post(url, json={"content": "hi"}, headers=auth) as response:
            assert response.status == 429 and (await response.json())["retry_after"] == 0.25
            assert response.headers["Via"]  # discord.py treats a 429 without it as a Cloudflare ban
        async with http.post(url, json={"content": "hi"}, headers=auth) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "application/json"
        assert [m.content for m in sandbox.state.channel_messages("general")] == ["hi"]


async def test_gateway_handshake_with_zlib_stream():
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        inflate = zlib.decompressobj()
        async with http.ws_connect(f"{sandbox.url}/gateway?v=10&encoding=json&compress=zlib-stream") as ws:

            async def receive():
                return json.loads(inflate.decompress(await ws.receive_bytes()))

            assert (await receive())["op"] == 10  # HELLO
            await ws.send_json({"op": 2, "d": {"token": sandbox.token, "intents": 1, "properties": {}}})
            ready, guild = await receive(), await receive()
            assert ready["t"] == "READY" and guild["t"] == "GUILD_CREATE"
            assert {c["name"] for c in guild["d"]["channels"]} >= {"general", "announcements"}
            await ws.send_json({"op": 1, "d": 2})
            assert (await receive())["op"] == 11  # heartbeat ACK
