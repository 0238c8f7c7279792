"""/openapi.json describes the API, and the API keeps to it: schemathesis derives requests from
the description (valid ones and, in negative mode, ones that break it), sends them to a real
server over loopback, and checks each answer: never a 5xx (a 503 would be documented, but no
disk fills here), a documented status, content type and headers, and a body of the documented
schema. Bounded examples keep the whole module within seconds."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.config import load_event
from bot.core.services import Services
from bot.web.openapi import description
from bot.web.server import create_app, start_web
from tests.databases import Databases
from tests.web.conftest import event_toml

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 60  # per operation and mode: ~4 s for the module on the 2-core machine

schema = schemathesis.openapi.from_dict(description())
schema.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, database="none")
posts = schema.include(method="POST")


@dataclass
class FuzzServer:
    url: str
    username: str
    password: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_server(request, tmp_path_factory, data_root) -> Iterator[FuzzServer]:
    """A real server in a thread of its own (schemathesis calls it synchronously, with requests),
    on SQLite and on PostgreSQL (whose driver is strict about the types of what it is sent)."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgres" else None
    databases = Databases(request.param, folder, admin)
    db = databases.new()
    path = folder / "event.toml"
    text = event_toml(data_root=data_root, require_validation=False)
    path.write_text(text.replace("starts = 2030-03-01T12:00:00Z", 'starts = "now-1h"')
                    .replace("closes = 2030-03-05T12:00:00Z", 'closes = "now+1d"'), encoding="utf-8")
    loop = asyncio.new_event_loop()
    started, stop = threading.Event(), None
    state: dict = {}

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        services = await Services.open(load_event(path), db)
        creds = await services.teams.create("Fuzzed Team", validated=True)
        runner = await start_web(services, "127.0.0.1", 0)
        state.update(url=f"http://127.0.0.1:{runner.addresses[0][1]}", creds=creds)
        started.set()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await services.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), name="fuzz-server", daemon=True)
    thread.start()
    assert started.wait(30), "the fuzz server did not start"
    creds = state["creds"]
    yield FuzzServer(state["url"], creds.team.username, creds.password)
    loop.call_soon_threadsafe(stop.set)  # type: ignore[union-attr]
    thread.join(30)
    databases.drop_all()


_fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


@posts.parametrize()
@_fuzz
def test_posts_as_anyone(case, fuzz_server):
    """Whatever the body, from a stranger: a documented 4xx (mostly 400/401/429), never a 5xx."""
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS)


@posts.parametrize()
@_fuzz
def test_posts_as_a_logged_in_team(case, fuzz_server):
    """The same bodies with the team's real credentials: the fuzzer reaches the ids, the budget,
    the file checks and the one-submission rule (200, 400, 403, 404, 409, 413)."""
    if isinstance(case.body, dict):
        case.body = {**case.body, "username": fuzz_server.username, "password": fuzz_server.password}
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS)


@schema.include(method="GET").parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_gets(case, fuzz_server):
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS)


async def test_openapi_json_is_served_and_names_every_api_route(server):
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/openapi.json") as res:
        assert res.status == 200 and res.content_type == "application/json"
        served = await res.json()
    assert served == description()
    app = create_app(server.services)
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    api = {path for path in routes if path.startswith(("/reveal/", "/submit/", "/api/", "/healthz"))}
    assert api == set(served["paths"]), (api, set(served["paths"]))
    for operation in ("/reveal/", "/submit/"):
        documented = set(served["paths"][operation]["post"]["responses"])
        assert {"200", "400", "401", "403", "404", "413", "429", "503"} <= documented
    assert "409" in served["paths"]["/submit/"]["post"]["responses"]
