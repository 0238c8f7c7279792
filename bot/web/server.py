"""The aiohttp application over the services, and a runner the bot process starts beside Discord."""

from __future__ import annotations

from aiohttp import web

from bot.core.services import Services
from bot.web import api, pages, schedule


def create_app(services: Services) -> web.Application:
    # aiohttp refuses bodies past client_max_size itself; /submit/ streams and stops earlier
    app = web.Application(
        middlewares=[api.errors_as_json],
        client_max_size=services.submissions.max_bytes + api.MULTIPART_OVERHEAD,
    )
    app[api.SERVICES] = services
    app.router.add_post("/reveal/", api.reveal)
    app.router.add_post("/reveal", api.reveal)
    app.router.add_post("/submit/", api.submit)
    app.router.add_post("/submit", api.submit)
    app.router.add_get("/api/leaderboard", api.leaderboard_json)
    app.router.add_get("/healthz", api.healthz)
    app.router.add_get("/", pages.leaderboard_page)
    app.router.add_get("/schedule", schedule.schedule_page)
    app.router.add_get("/schedule.ics", schedule.schedule_ics)
    return app


async def start_web(services: Services, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(create_app(services), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
