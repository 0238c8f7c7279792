"""How the double answers: JSON exactly as discord.py reads it, and the names of its routes."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

API = "/api/v10"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly "application/json": discord.py compares the header verbatim (no charset)
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def route_of(request: web.Request) -> str:
    """The route's name: "POST /channels/{channel}/messages"."""
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    return f"{request.method} {canonical.removeprefix(API)}"
