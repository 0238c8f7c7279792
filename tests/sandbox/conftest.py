"""The double on its own (no bot process): requests sent by hand, as discord.py sends them."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox
from bot.sandbox.state import Interaction


class Raw:
    """Requests to the double's API with the bot's token; answers as (status, JSON, headers)."""

    def __init__(self, sandbox: Sandbox, http: aiohttp.ClientSession):
        self.sandbox, self.http = sandbox, http

    async def __call__(self, method: str, path: str, body: Any = None, *, auth: bool = True):
        headers = {"Authorization": f"Bot {self.sandbox.token}"} if auth else {}
        url = f"{self.sandbox.url}/api/v10{path}"
        async with self.http.request(method, url, json=body, headers=headers) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return response.status, data, response.headers

    @property
    def guild(self) -> int:
        return self.sandbox.state.guild_id

    def channel(self, name: str = "general") -> int:
        return int(self.sandbox.state.channel_named(name)["id"])

    async def send(self, body: dict, channel: str = "general"):
        return await self("POST", f"/channels/{self.channel(channel)}/messages", body)

    async def answer(self, interaction: Interaction, body: dict):
        return await self("POST", f"/interactions/{interaction.id}/{interaction.token}/callback?with_response=1", body,
                          auth=False)


@pytest.fixture
async def sandbox():
    async with Sandbox() as double:
        yield double


@pytest.fixture
async def raw(sandbox):
    async with aiohttp.ClientSession() as http:
        yield Raw(sandbox, http)


def error_at(body: dict, *path) -> dict:
    """The first {code, message} of Discord's nested `errors` at `path`."""
    node = body["errors"]
    for key in path:
        node = node[str(key)]
    return node["_errors"][0]
