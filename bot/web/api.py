"""The HTTP API, compatible with the Hackathon42 leaderboard server: thin doors onto the services.

POST /reveal/ and POST /submit/ take the same form fields as the Hackathon42 server
(urlencoded or multipart, as curl -F sends); errors are JSON {"error": "..."} with the status
of DESIGN.md, never a 500 on bad input.
"""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import BodyPartReader, web

from bot.core.errors import BadInput, HackbotError, TooManyAttempts
from bot.core.services import Services

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
_FORM_FIELDS = "send the form fields username, password, exercise_id and datum_id"


def error_response(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except TooManyAttempts as exc:
        return error_response(exc.status, exc.message, {"Retry-After": str(max(1, round(exc.retry_after)))})
    except HackbotError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, f"the request is too large ({exc.text}); send a smaller file")
    except web.HTTPException as exc:
        if exc.status >= 400 and request.path.startswith(("/reveal", "/submit", "/api")):
            return error_response(exc.status, exc.reason)
        raise
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s on %s %s", error_id, request.method, request.path)
        return error_response(500, f"internal error {error_id}; tell an organizer this id")


def _int_field(form, name: str) -> int:
    raw = form.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise BadInput(f"missing form field {name!r}; {_FORM_FIELDS}")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise BadInput(f"{name} must be an integer, got {str(raw)[:40]!r}") from None


def _text_field(form, name: str) -> str:
    raw = form.get(name)
    if not isinstance(raw, str) or not raw:
        raise BadInput(f"missing form field {name!r}; {_FORM_FIELDS}")
    return raw


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def _with_login(request: web.Request, username: str, action):
    """Run a login-checked action under the failed-login rate limit."""
    services = request.app[SERVICES]
    services.logins.check(_client(request), username)
    try:
        return await action
    except HackbotError as exc:
        if exc.status == 401:
            services.logins.failed(_client(request), username)
        raise


async def reveal(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = _text_field(form, "username"), _text_field(form, "password")
    dataset_id, datum_id = _int_field(form, "exercise_id"), _int_field(form, "datum_id")
    services = request.app[SERVICES]
    result = await _with_login(
        request, username, services.reveals.reveal_with_login(username, password, dataset_id, datum_id)
    )
    return web.json_response(result.to_api())


async def submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    services.submissions.check_size(request.content_length)  # refuse before reading the body
    fields, filename, data = await _read_submission(request, services.submissions.max_bytes)
    username, password = _text_field(fields, "username"), _text_field(fields, "password")
    dataset_id = _int_field(fields, "exercise_id")
    if data is None:
        raise BadInput("missing the file field 'file'; send the CSV as multipart form data (curl -F file=@labels.csv)")
    result = await _with_login(
        request, username,
        services.submissions.submit_with_login(username, password, dataset_id, filename or "", data),
    )
    body = {"exercise_id": result.dataset_id, "rows": result.rows}
    if services.config.leaderboard.visibility == "live":
        body["accuracy"] = result.accuracy
    return web.json_response(body)


async def _read_submission(request: web.Request, max_bytes: int) -> tuple[dict, str | None, bytes | None]:
    """Stream the multipart body, stopping as soon as the file passes the limit."""
    if not request.content_type.startswith("multipart/"):
        raise BadInput("send the submission as multipart/form-data with a 'file' field (curl -F file=@labels.csv)")
    reader = await request.multipart()
    fields: dict[str, str] = {}
    filename, data = None, None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename, chunks, size = part.filename, [], 0
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    request.app[SERVICES].submissions.check_size(size)
                chunks.append(chunk)
            data = b"".join(chunks)
        elif part.name:
            value = await part.read(decode=True)
            if len(value) > 4096:
                raise BadInput(f"form field {part.name!r} is too long")
            fields[part.name] = value.decode("utf-8", "replace")
    return fields, filename, data


async def leaderboard_json(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    standings = await services.leaderboard.standings(request.query.get("phase"))
    return web.json_response(standings.to_api(), dumps=lambda o: json.dumps(o, allow_nan=False))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await services.store.fetchone("SELECT 1")
    phase = services.config.phase_at(services.clock())
    return web.json_response({"status": "ok", "event": services.config.event.name, "phase": phase.id if phase else None})
