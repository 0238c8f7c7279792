"""The HTTP API, compatible with the Hackathon42 leaderboard server: thin doors onto the services.

POST /reveal/ and POST /submit/ take the same form fields as the Hackathon42 server
(urlencoded or multipart, as curl -F sends); errors are JSON {"error": "..."} with the status
of DESIGN.md, never a 500 on bad input.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid

from aiohttp import web

from bot.core.errors import BadInput, HackbotError, TooLarge, TooManyAttempts, Unavailable
from bot.core.ratelimit import LoginGated
from bot.core.services import Services
from bot.web.boards import BOARDS, JsonView
from bot.web.cached import send
from bot.web.faults import FaultReport
from bot.web.forms import MULTIPART_OVERHEAD, read_form

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
FAULTS: web.AppKey[FaultReport] = web.AppKey("faults", FaultReport)
_REVEAL_FIELDS = "send the form fields username, password, exercise_id and datum_id"
_SUBMIT_FIELDS = "send the form fields username, password, exercise_id and the file field 'file'"


def error_response(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except TooManyAttempts as exc:
        return error_response(exc.status, exc.message, {"Retry-After": str(max(1, round(exc.retry_after)))})
    except Unavailable as exc:  # the team hears that nothing was recorded; the organizers hear why
        request.app[FAULTS].refused(exc.reason, request.method, request.path)
        return error_response(503, f"{exc.message} (the organizers have been told)", {"Retry-After": "60"})
    except HackbotError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPRequestEntityTooLarge:
        allowed = request.app[SERVICES].submissions.max_bytes + MULTIPART_OVERHEAD  # the app's client_max_size
        return error_response(
            413, f"the request body is larger than the {allowed:,} bytes allowed; a reveal is a few short "
            "fields, and a submission's file must fit the event's limit",
        )
    except web.HTTPException as exc:
        if exc.status >= 400 and request.path.startswith(("/reveal", "/submit", "/api")):
            return error_response(exc.status, exc.reason)
        raise
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s on %s %s", error_id, request.method, request.path)
        return error_response(500, f"internal error {error_id}; tell an organizer this id")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_PROXIES: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies", tuple)


def parse_proxies(text: str | None) -> tuple[Network, ...]:
    """HACKBOT_TRUSTED_PROXIES: addresses or networks separated by commas or spaces
    ("127.0.0.1, 10.0.0.0/8"). ValueError names an entry that is neither."""
    networks = []
    for entry in (text or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"HACKBOT_TRUSTED_PROXIES: {entry!r} is neither an IP address nor a network "
                             "(such as 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: web.Request) -> str:
    """The address the login limiter keys on: the peer's, unless the peer is a trusted proxy
    (HACKBOT_TRUSTED_PROXIES); then the nearest address in X-Forwarded-For that is not a trusted
    proxy itself (a client can put anything at the front of that header, but not after its own
    address, which the proxy appends)."""
    peer = request.remote or "unknown"
    proxies = request.app.get(TRUSTED_PROXIES, ())
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted(hop, proxies):
            return hop
    return peer


async def _with_login(request: web.Request, username: str, action, *args, gated: bool = False):
    """Run a login-checked action(*args) under the failed-login rate limit. `gated`: the action
    takes the limiter's gate (`gate=`) and reads it in its own login statement, so a client
    without recent failures costs no hop of the limiter's; one with failures is checked then."""
    services = request.app[SERVICES]
    client = client_address(request)
    try:
        if gated:
            try:
                return await action(*args, gate=services.logins.gate(client))
            except LoginGated:
                await services.logins.check(client, username)
                return await action(*args)
        await services.logins.check(client, username)
        return await action(*args)
    except HackbotError as exc:
        if exc.status == 401:
            await services.logins.failed(client, username)
        raise


async def reveal(request: web.Request) -> web.Response:
    form = await read_form(request, expected=_REVEAL_FIELDS, file_limit=None)
    username, password = form.text("username", _REVEAL_FIELDS), form.text("password", _REVEAL_FIELDS)
    dataset_id = form.integer("exercise_id", _REVEAL_FIELDS)
    datum_id = form.integer("datum_id", _REVEAL_FIELDS)
    services = request.app[SERVICES]
    result = await _with_login(
        request, username, services.reveals.reveal_with_login, username, password, dataset_id, datum_id, gated=True
    )
    return web.json_response(result.to_api())


async def submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    limit = services.submissions.max_bytes
    if request.content_length is not None and request.content_length > limit + MULTIPART_OVERHEAD:
        # refused before reading the body; the form fields and part headers get some room
        raise TooLarge(f"the upload is {request.content_length:,} bytes; the file limit is {limit:,} bytes")
    form = await read_form(request, expected=_SUBMIT_FIELDS, file_limit=limit)
    username = form.text("username", _SUBMIT_FIELDS)
    password = form.text("password", _SUBMIT_FIELDS)
    dataset_id = form.integer("exercise_id", _SUBMIT_FIELDS)
    if form.file is None:
        raise BadInput("missing the file field 'file'; send the CSV as multipart form data (curl -F file=@labels.csv)")
    result = await _with_login(
        request, username, services.submissions.submit_with_login, username, password, dataset_id,
        form.filename or "", form.file,
    )
    body: dict = {"exercise_id": result.dataset_id, "rows": result.rows}
    if result.score_visible:  # the dataset's board visibility decides (blind: no score at all)
        body["accuracy"] = result.score
    if result.left is not None:
        body["submissions_left"] = result.left
    return web.json_response(body)


def _count(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput(f"{name}={raw!r} is not allowed; use a whole number from {low} to {high:,}")
    return int(raw)


async def leaderboard_json(request: web.Request) -> web.Response:
    """The board as JSON: `limit` and `offset` page through the teams, `team` keeps those whose
    name holds it (any case). Served from the board's cache, gzipped, 304 on a matching ETag."""
    services = request.app[SERVICES]
    limit = _count(request, "limit", None, 1, 100_000)
    offset = _count(request, "offset", 0, 0, 10_000_000) or 0
    team = request.query.get("team", "").strip()
    if len(team) > 64:
        raise BadInput("team= is longer than any team name (64 characters); send part of the name")
    rendered = await request.app[BOARDS].rendered(request.query.get("phase"), JsonView(limit, offset, team))
    return send(request, rendered, "application/json", services.clock())


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await services.store.fetchone("SELECT 1")
    phase = await services.phases.current(services.clock())
    return web.json_response({"status": "ok", "event": services.config.event.name, "phase": phase.id if phase else None})
