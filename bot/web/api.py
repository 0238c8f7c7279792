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

from bot.core.errors import BadInput, HackbotError, TooLarge, TooManyAttempts
from bot.core.services import Services

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
MULTIPART_OVERHEAD = 64 * 1024  # room for the form fields and part headers around the file
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


def _int_field(form, name: str, expected: str) -> int:
    raw = form.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise BadInput(f"missing form field {name!r}; {expected}")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise BadInput(f"{name} must be an integer, got {str(raw)[:40]!r}") from None


def _text_field(form, name: str, expected: str) -> str:
    raw = form.get(name)
    if not isinstance(raw, str) or not raw:
        raise BadInput(f"missing form field {name!r}; {expected}")
    return raw


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def _with_login(request: web.Request, username: str, action, *args):
    """Run a login-checked action(*args) under the failed-login rate limit."""
    services = request.app[SERVICES]
    services.logins.check(_client(request), username)
    try:
        return await action(*args)
    except HackbotError as exc:
        if exc.status == 401:
            services.logins.failed(_client(request), username)
        raise


async def _read_form(request: web.Request):
    try:
        return await request.post()
    except (ValueError, LookupError) as exc:  # aiohttp's parse errors: bad escapes, charset, boundary
        raise BadInput(f"the form cannot be read ({exc}); {_REVEAL_FIELDS}, urlencoded or multipart") from None


async def reveal(request: web.Request) -> web.Response:
    form = await _read_form(request)
    username, password = _text_field(form, "username", _REVEAL_FIELDS), _text_field(form, "password", _REVEAL_FIELDS)
    dataset_id = _int_field(form, "exercise_id", _REVEAL_FIELDS)
    datum_id = _int_field(form, "datum_id", _REVEAL_FIELDS)
    services = request.app[SERVICES]
    result = await _with_login(
        request, username, services.reveals.reveal_with_login, username, password, dataset_id, datum_id
    )
    return web.json_response(result.to_api())


async def submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    limit = services.submissions.max_bytes
    if request.content_length is not None and request.content_length > limit + MULTIPART_OVERHEAD:
        # refused before reading the body; the form fields and part headers get some room
        raise TooLarge(f"the upload is {request.content_length:,} bytes; the file limit is {limit:,} bytes")
    try:
        fields, filename, data = await _read_submission(request, limit)
    except ValueError as exc:  # aiohttp's multipart errors: no boundary, truncated body, ...
        raise BadInput(f"the multipart form cannot be read ({exc}); {_SUBMIT_FIELDS}") from None
    username = _text_field(fields, "username", _SUBMIT_FIELDS)
    password = _text_field(fields, "password", _SUBMIT_FIELDS)
    dataset_id = _int_field(fields, "exercise_id", _SUBMIT_FIELDS)
    if data is None:
        raise BadInput("missing the file field 'file'; send the CSV as multipart form data (curl -F file=@labels.csv)")
    result = await _with_login(
        request, username, services.submissions.submit_with_login, username, password, dataset_id, filename or "", data
    )
    body = {"exercise_id": result.dataset_id, "rows": result.rows}
    if services.config.leaderboard.visibility == "live":
        body["accuracy"] = result.accuracy
    return web.json_response(body)


async def _read_submission(request: web.Request, max_bytes: int) -> tuple[dict, str | None, bytes | None]:
    """Stream the multipart body, stopping as soon as the file, or the body, passes its limit."""
    if not request.content_type.startswith("multipart/"):
        raise BadInput("send the submission as multipart/form-data with a 'file' field (curl -F file=@labels.csv)")
    reader = await request.multipart()
    fields: dict[str, str] = {}
    filename, data = None, None
    body_left = max_bytes + MULTIPART_OVERHEAD  # the file plus room for the small fields

    async def read_part(part: BodyPartReader, limit: int, too_large: str) -> bytes:
        nonlocal body_left
        chunks, size = [], 0
        while chunk := await part.read_chunk(64 * 1024):
            size += len(chunk)
            body_left -= len(chunk)
            if size > limit or body_left < 0:
                raise TooLarge(too_large)
            chunks.append(chunk)
        return part.decode(b"".join(chunks))

    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            raise BadInput(f"every part of the form needs a name; {_SUBMIT_FIELDS}")
        if part.name == "file":
            data = await read_part(part, max_bytes, f"the file is larger than the limit of {max_bytes:,} bytes")
            filename = part.filename
        else:
            if len(fields) >= 16:
                raise BadInput(f"too many form fields; {_SUBMIT_FIELDS}")
            value = await read_part(part, 4096, f"form field {part.name!r} is too long")
            fields[part.name] = value.decode("utf-8", "replace")
    return fields, filename, data


async def leaderboard_json(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    standings = await services.leaderboard.standings(request.query.get("phase"))
    return web.json_response(standings.to_api(), dumps=lambda o: json.dumps(o, allow_nan=False))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await services.store.fetchone("SELECT 1")
    phase = await services.phases.current(services.clock())
    return web.json_response({"status": "ok", "event": services.config.event.name, "phase": phase.id if phase else None})
