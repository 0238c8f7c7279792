"""The double's gateway: HELLO, IDENTIFY, READY and GUILD_CREATE over zlib-stream, heartbeats,
RESUME replaying what was missed with the sequence continuing, and INVALID_SESSION."""

from __future__ import annotations

import json
import zlib

import aiohttp


class Client:
    """A gateway connection as discord.py opens it."""

    def __init__(self, ws, compress: bool):
        self.ws, self.inflate = ws, zlib.decompressobj() if compress else None

    async def receive(self) -> dict:
        if self.inflate is None:
            return json.loads(await self.ws.receive_str())
        return json.loads(self.inflate.decompress(await self.ws.receive_bytes()))

    async def identify(self, token: str) -> list[dict]:
        assert (await self.receive())["op"] == 10  # HELLO
        await self.ws.send_json({"op": 2, "d": {"token": token, "intents": 1, "properties": {}}})
        return [await self.receive(), await self.receive()]


async def test_gateway_handshake_with_zlib_stream(sandbox):
    async with aiohttp.ClientSession() as http, \
            http.ws_connect(f"{sandbox.url}/gateway?v=10&encoding=json&compress=zlib-stream") as ws:
        client = Client(ws, compress=True)
        ready, guild = await client.identify(sandbox.token)
        assert ready["t"] == "READY" and guild["t"] == "GUILD_CREATE" and (ready["s"], guild["s"]) == (1, 2)
        assert {c["name"] for c in guild["d"]["channels"]} >= {"general", "announcements"}
        await ws.send_json({"op": 1, "d": 2})
        assert (await client.receive())["op"] == 11  # heartbeat ACK


async def test_resume_replays_what_was_missed_and_the_sequence_continues(sandbox):
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{sandbox.url}/gateway") as ws:
            client = Client(ws, compress=False)
            ready, _ = await client.identify(sandbox.token)
            session = ready["d"]["session_id"]
            await sandbox.server.dispatch("CHANNEL_CREATE", {"id": "1", "name": "seen"})
            seen = await client.receive()
            assert seen["s"] == 3
            await sandbox.close_gateway(4000)  # resumable
            closing = await ws.receive()
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4000
        for n in range(2):  # dispatched while the bot is away
            await sandbox.server.dispatch("CHANNEL_CREATE", {"id": str(10 + n), "name": f"missed-{n}"})
        async with http.ws_connect(ready["d"]["resume_gateway_url"]) as ws:
            client = Client(ws, compress=False)
            assert (await client.receive())["op"] == 10
            await ws.send_json({"op": 6, "d": {"token": sandbox.token, "session_id": session, "seq": 3}})
            replayed = [await client.receive() for _ in range(3)]
        assert [(e["t"], e["s"]) for e in replayed] == [("CHANNEL_CREATE", 4), ("CHANNEL_CREATE", 5), ("RESUMED", 6)]
        assert [e["d"].get("name") for e in replayed[:2]] == ["missed-0", "missed-1"]
        assert sandbox.server.gateway.resumed == 1


async def test_resuming_an_unknown_session_is_an_invalid_session(sandbox):
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{sandbox.url}/gateway") as ws:
        client = Client(ws, compress=False)
        assert (await client.receive())["op"] == 10
        await ws.send_json({"op": 6, "d": {"token": sandbox.token, "session_id": "nope", "seq": 7}})
        assert await client.receive() == {"op": 9, "d": False, "s": None, "t": None}
        assert sandbox.server.gateway.invalid_sessions == 1


async def test_a_wrong_token_closes_with_4004(sandbox):
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{sandbox.url}/gateway") as ws:
        client = Client(ws, compress=False)
        assert (await client.receive())["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 1, "properties": {}}})
        await ws.receive()
        assert ws.close_code == 4004
