"""Answers from a board's cached renderings: the same bytes for every viewer until the board changes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bot.core.board import Rendered


def send(request: web.Request, rendered: Rendered, content_type: str, now: datetime) -> web.Response:
    """A cached rendering: 304 when the browser holds it, gzip when the browser takes it. The
    event's clock goes along (X-Server-Time), so a countdown is right on a phone whose clock is off."""
    headers = {"ETag": rendered.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache",
               "X-Server-Time": f"{now.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"}
    if rendered.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=rendered.gzipped, headers=headers, content_type=content_type, charset="utf-8")
    return web.Response(body=rendered.body, headers=headers, content_type=content_type, charset="utf-8")
