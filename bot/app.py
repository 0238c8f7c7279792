"""Composition root: builds the store, the services and the web app (the Discord bot joins
them here in the next step) and runs them in one process until interrupted."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.config import EventConfig
from bot.core.clock import Clock, system_clock
from bot.core.services import Services
from bot.web.server import start_web

log = logging.getLogger(__name__)


async def serve(
    config: EventConfig,
    db_path: Path,
    host: str,
    port: int,
    *,
    discord_token: str | None = None,
    clock: Clock = system_clock,
    ready: asyncio.Event | None = None,
) -> None:
    services = await Services.open(config, db_path, clock=clock)
    try:
        runner = await start_web(services, host, port)
    except BaseException:
        await services.close()
        raise
    log.info("web server on http://%s:%s (database %s)", host, port, db_path)
    if discord_token:
        log.warning("DISCORD_TOKEN is set, but the Discord bot is not part of this version yet: web only")
    try:
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await services.close()
