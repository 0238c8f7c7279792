"""The aiohttp application over the services, and a runner the bot process starts beside Discord."""

from __future__ import annotations

import logging
import sys
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.core.services import Services
from bot.web import api, judges, moderation, openapi, organizers, pages, projects, schedule, votes
from bot.web.boards import BOARDS, BoardBuilds
from bot.web.faults import FaultReport, Report
from bot.web.forms import MULTIPART_OVERHEAD


def create_app(services: Services, *, report: Report | None = None,
               trusted_proxies: tuple[api.Network, ...] = (), board_processes: int = 0) -> web.Application:
    """The application; `board_processes` worker processes build the leaderboard (bot/web/boards.py;
    0: a thread of this process), started with the application and stopped with it."""
    # aiohttp refuses bodies past client_max_size itself; /submit/ streams and stops earlier
    app = web.Application(
        middlewares=[api.errors_as_json],
        client_max_size=services.submissions.max_bytes + MULTIPART_OVERHEAD,
    )
    app[api.SERVICES] = services
    app[api.FAULTS] = FaultReport(report)
    app[api.TRUSTED_PROXIES] = trusted_proxies  # whose X-Forwarded-For names the client (login limiter)
    builds = app[BOARDS] = BoardBuilds(services, board_processes)

    async def boards(_app: web.Application):  # a cleanup context: started with the app, stopped with it
        await builds.start()
        yield
        await builds.close()

    app.cleanup_ctx.append(boards)
    app.router.add_post("/reveal/", api.reveal)
    app.router.add_post("/reveal", api.reveal)
    app.router.add_post("/submit/", api.submit)
    app.router.add_post("/submit", api.submit)
    app.router.add_get("/api/leaderboard", api.leaderboard_json)
    app.router.add_get("/healthz", api.healthz)
    app.router.add_get("/openapi.json", openapi.openapi_json)
    app.router.add_get("/", pages.leaderboard_page)
    app.router.add_get("/favicon.svg", pages.favicon)
    app.router.add_get("/favicon.ico", pages.favicon)
    app.router.add_get("/schedule", schedule.schedule_page)
    app.router.add_get("/schedule.ics", schedule.schedule_ics)
    app.router.add_get("/organizers/mentoring", organizers.organizers_page)
    app.router.add_get("/organizers/reminders", schedule.posted_reminders_page)
    app.router.add_post("/api/projects", projects.post_project)
    app.router.add_get("/api/projects/mine", projects.my_project)
    app.router.add_post("/api/bundles", projects.post_bundle)
    app.router.add_get("/projects", projects.gallery_page)
    app.router.add_get("/projects/{id}", projects.project_page)
    app.router.add_get("/vote/{vote}", votes.vote_page)
    app.router.add_post("/vote/{vote}", votes.vote_post)
    app.router.add_get("/api/votes/{vote}", votes.vote_json)
    judges.add_routes(app)
    moderation.add_routes(app)
    return app


class OneLineServerLog(logging.LoggerAdapter):
    """aiohttp's server logger, less the 10-line tracebacks of requests that are not HTTP.

    aiohttp answers a malformed request (a bad header line, a 20 KB request line, Content-Length
    with chunked...) with 400 itself and logs the parser's traceback: a client could flood the
    log with them. Those become one line, without the request's bytes (they could carry anything).
    """

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            self.warning(f"{msg}: malformed HTTP request answered {exc_info.code}: %s", *args, _summary(exc_info))
            return
        self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            kwargs.pop("exc_info")
            msg = f"{msg}: {_summary(exc)}"
        self.logger.debug(msg, *args, **kwargs)


def _summary(exc: HttpProcessingError) -> str:
    """The parser's complaint without the bytes it quotes ("Invalid header token", ...)."""
    first = (str(exc.message).strip().splitlines() or [type(exc).__name__])[0]
    return f"{type(exc).__name__}: {first.split(': b', 1)[0].split(': bytearray', 1)[0].rstrip(':')[:120]}"


# How long a thread holds the GIL while another waits for it (Python's default: 5 ms). A board
# rebuilt in a worker thread is pure Python for about a second at 5,000 teams; at 5 ms a turn,
# each of a reveal's few hand-overs waited up to 5 ms behind it.
SWITCH_INTERVAL = 0.001


async def start_web(services: Services, host: str, port: int, *, report: Report | None = None,
                    trusted_proxies: tuple[api.Network, ...] = (), board_processes: int = 0) -> web.AppRunner:
    sys.setswitchinterval(SWITCH_INTERVAL)
    server_log = OneLineServerLog(logging.getLogger("aiohttp.server"), {})
    app = create_app(services, report=report, trusted_proxies=trusted_proxies, board_processes=board_processes)
    runner = web.AppRunner(app, access_log=None, logger=server_log)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
