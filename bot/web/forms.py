"""Reading the API's forms from whatever a client sends, into a clear 400/413 or the fields.

Urlencoded bodies go through aiohttp's parser; multipart bodies are streamed part by part here,
so that every refusal (a header line of 20 KB, an unknown Content-Transfer-Encoding, a body
with no line break, a nested multipart, an endless chunked upload) is a BadInput or TooLarge
with a message, answered as soon as it is known, and never reaches the catch-all as a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from bot.core.errors import BadInput, TooLarge
from scoring.parse import MAX_DIGITS, ascii_int

MULTIPART_OVERHEAD = 64 * 1024  # room for the form fields and part headers around the file
FIELD_BYTES = 4096  # username, password and ids are far shorter
MAX_FIELDS = 16
MAX_FILENAME = 255  # what file systems allow; the name is kept with the submission
# RFC 7578 forbids Content-Transfer-Encoding in multipart/form-data; curl, requests and browsers
# send none. These identity values change nothing and are accepted; anything else is refused.
_IDENTITY_ENCODINGS = {"", "7bit", "8bit", "binary"}


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    file: bytes | None = None  # the part named "file", undecoded

    def text(self, name: str, expected: str) -> str:
        value = self.fields.get(name)
        if not value:
            raise BadInput(f"missing form field {name!r}; {expected}")
        return value

    def integer(self, name: str, expected: str) -> int:
        """An id field: ASCII digits only, the same rule as a label in a submitted file."""
        raw = self.fields.get(name)
        if raw is None or raw == "":
            raise BadInput(f"missing form field {name!r}; {expected}")
        value = ascii_int(raw)
        if value is None:
            raise BadInput(
                f"{name} must be a whole number written with the digits 0-9 only (at most {MAX_DIGITS} digits, "
                f"no spaces, no '+', no '_'), got {raw[:40]!r}"
            )
        return value


async def read_form(request: web.Request, *, expected: str, file_limit: int | None) -> Form:
    """The form of a request, urlencoded or multipart. `file_limit` is the largest file part
    allowed (None: the form takes no file, and the endpoint takes urlencoded forms too)."""
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        return await _read_multipart(request, expected=expected, file_limit=file_limit)
    if file_limit is not None:
        raise BadInput("send the submission as multipart/form-data with a 'file' field (curl -F file=@labels.csv)")
    if content_type not in ("application/x-www-form-urlencoded", "application/octet-stream"):
        # aiohttp reports a missing Content-Type as application/octet-stream
        raise BadInput(f"the form is sent as {content_type!r}; {expected}, urlencoded or multipart")
    if request.body_exists and content_type == "application/octet-stream" and request.content_length != 0:
        raise BadInput(f"the request has a body but no form Content-Type; {expected}, urlencoded or multipart")
    try:
        posted = await request.post()
    except (ValueError, LookupError) as exc:  # bad escapes, an unknown charset, bytes that are not text
        raise BadInput(f"the form cannot be read ({exc}); {expected}, urlencoded or multipart") from None
    return Form({k: v for k, v in posted.items() if isinstance(v, str)})


async def _read_multipart(request: web.Request, *, expected: str, file_limit: int | None) -> Form:
    form = Form()
    body_left = (file_limit or 0) + MULTIPART_OVERHEAD  # the file plus room for the small fields
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadInput(f"a part of the form is itself a multipart body; {expected}, one part per field")
            name = part.name
            if not name:
                raise BadInput(f"every part of the form needs a name (Content-Disposition: form-data; name=...); {expected}")
            _check_part_headers(part, name)
            if name == "file" and file_limit is not None:
                filename = part.filename or ""
                if len(filename) > MAX_FILENAME:
                    raise BadInput(
                        f"the file name has {len(filename):,} characters; name the file with at most "
                        f"{MAX_FILENAME} characters, such as labels.csv"
                    )
                form.file = await _read_part(part, file_limit, f"the file is larger than the limit of {file_limit:,} bytes")
                form.filename = filename
                body_left -= len(form.file)
            else:
                if len(form.fields) >= MAX_FIELDS:
                    raise BadInput(f"too many form fields; {expected}")
                value = await _read_part(part, min(FIELD_BYTES, body_left), f"form field {name[:40]!r} is too long")
                body_left -= len(value)
                form.fields[name] = value.decode("utf-8", "replace")
    except LineTooLong:
        raise BadInput(
            "a line of the multipart body is longer than 8,190 bytes where a boundary or a part header was "
            "expected (a very long file name or header?); keep header lines and file names short, as curl -F does"
        ) from None
    except HttpProcessingError as exc:  # too many part headers, a broken chunked encoding, ...
        raise BadInput(f"the multipart form cannot be read ({_first_line(exc.message)}); {expected}") from None
    except ValueError as exc:  # no boundary, a truncated body, a missing final boundary, ...
        raise BadInput(f"the multipart form cannot be read ({str(exc)[:200]}); {expected}") from None
    return form


def _check_part_headers(part: BodyPartReader, name: str) -> None:
    encoding = part.headers.get(hdrs.CONTENT_TRANSFER_ENCODING, "").strip().lower()
    if encoding not in _IDENTITY_ENCODINGS:
        raise BadInput(
            f"part {name[:40]!r} has Content-Transfer-Encoding {encoding[:40]!r}, which multipart/form-data does "
            "not use; send the part as it is, without that header (curl -F and requests do)"
        )
    if part.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower() != "identity":
        raise BadInput(f"part {name[:40]!r} is compressed (Content-Encoding); send it uncompressed")


async def _read_part(part: BodyPartReader, limit: int, too_large: str) -> bytes:
    """The part's raw bytes, stopping as soon as they pass `limit`."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def _first_line(message: str) -> str:
    return (message.strip().splitlines() or ["malformed"])[0].rstrip(":")[:120]
