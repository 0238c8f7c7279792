"""Hostile requests over real TCP on loopback: each gets a 4xx JSON answer that says what to
change, one log line at most, and the server goes on answering (issue 9, section 3).

The requests are written byte by byte (`raw_http`), since the clients that participants use
would not send most of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp
import numpy as np
import pytest
import requests

from scoring import LabelFileError, ascii_int, parse_labels
from tests.web.conftest import MAX_BYTES, valid_csv
from tests.web.test_api import assert_error, post, reveal_form, submit_form

BOUNDARY = "hackbotHostile"


async def raw_http(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as it is over TCP; (status, headers, body) of the answer. The server may
    answer before the request is fully sent: the rest is then not written."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            for i in range(0, len(request), 65536):
                writer.write(request[i:i + 65536])
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", 0))), 20)
        return int(status_line.split()[1]), headers, body
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def http_post(path: str, body: bytes, content_type: str, *, chunked: bool = False) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    if not chunked:
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    chunks = b"".join(f"{len(body[i:i + 8192]):x}\r\n".encode() + body[i:i + 8192] + b"\r\n"
                      for i in range(0, len(body), 8192))
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"


def multipart(*parts: tuple[str, bytes]) -> bytes:
    """parts: (header lines of the part, content)."""
    out = b"".join(f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n" for headers, content in parts)
    return out + f"--{BOUNDARY}--\r\n".encode()


def field(name: str, value: str, extra: str = "") -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"{extra}', value.encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


async def assert_4xx_then_still_serving(server, caplog, request: bytes, expected: int, *words: str) -> str:
    with caplog.at_level(logging.INFO):
        status, headers, body = await raw_http(server.port, request)
    assert headers.get("content-type", "").startswith("application/json"), (status, body[:300])
    message = assert_error(status, json.loads(body), expected, *words)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    # the server goes on: a correct reveal right after
    username, password = await server.team(f"After {len(server.services.config.datasets)}-{id(request)}")
    status, answer, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 1))
    assert status == 200, answer
    return message


# --- the hostile shapes of issue 9 ----------------------------------------------------------

@pytest.mark.parametrize("path", ["/reveal/", "/submit/"])
async def test_unknown_content_transfer_encoding_is_a_400(server, caplog, path):
    username, password = await server.team("Bogus Encoding")
    body = multipart(field("username", username), field("password", password), field("exercise_id", "3"),
                     (('Content-Disposition: form-data; name="file"; filename="labels.csv"\r\n'
                       "Content-Transfer-Encoding: x-bogus") if path == "/submit/" else
                      'Content-Disposition: form-data; name="datum_id"\r\nContent-Transfer-Encoding: x-bogus',
                      b"0\n" if path == "/submit/" else b"1"))
    message = await assert_4xx_then_still_serving(server, caplog, http_post(path, body, MULTIPART), 400,
                                                  "Content-Transfer-Encoding", "x-bogus")
    assert "without that header" in message


@pytest.mark.parametrize("path", ["/reveal/", "/submit/"])
async def test_part_header_line_of_20_kb_is_a_400(server, caplog, path):
    body = multipart(field("username", "someone", "\r\nX-Padding: " + "a" * 20_000), field("exercise_id", "3"))
    await assert_4xx_then_still_serving(server, caplog, http_post(path, body, MULTIPART), 400,
                                        "longer than 8,190 bytes", "header")


@pytest.mark.parametrize("path", ["/reveal/", "/submit/"])
async def test_chunked_multipart_of_1_mb_without_a_line_break_is_a_400(server, caplog, path):
    body = f"--{BOUNDARY}\r\n".encode() + b"x" * 1_000_000
    await assert_4xx_then_still_serving(server, caplog, http_post(path, body, MULTIPART, chunked=True), 400,
                                        "longer than 8,190 bytes")


async def test_filename_of_20000_characters_is_a_400(server, caplog):
    username, password = await server.team("Long Name")
    body = multipart(field("username", username), field("password", password), field("exercise_id", "3"),
                     field("file", "0\n", f'; filename="{"a" * 20_000}.csv"'))
    await assert_4xx_then_still_serving(server, caplog, http_post("/submit/", body, MULTIPART), 400,
                                        "file name")


async def test_filename_over_255_characters_is_a_400_and_spends_nothing(server, caplog):
    """A name that fits a header line but not a file system: refused by name, the submission kept."""
    username, password = await server.team("Long But Fits")
    csv = valid_csv(server.y(3))
    body = multipart(field("username", username), field("password", password), field("exercise_id", "3"),
                     field("file", "", f'; filename="{"a" * 1000}.csv"'))
    body = body.replace(b"\r\n\r\n\r\n--", b"\r\n\r\n" + csv + b"\r\n--", 1)
    await assert_4xx_then_still_serving(server, caplog, http_post("/submit/", body, MULTIPART), 400,
                                        "1,004 characters", "at most 255")
    status, answer, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, csv))
    assert status == 200 and answer["accuracy"] == 1.0


@pytest.mark.parametrize(("path", "content_type"), [
    ("/submit/", "application/octet-stream"), ("/submit/", "text/csv"),
    ("/submit/", "application/x-www-form-urlencoded"), ("/reveal/", "application/octet-stream"),
    ("/reveal/", "text/csv"), ("/reveal/", "application/x-www-form-urlencoded"),
])
async def test_chunked_non_multipart_upload_over_the_limit_is_a_4xx(server, caplog, path, content_type):
    body = b"username=" + b"0\n" * (3 * MAX_BYTES) if "urlencoded" in content_type else b"0\n" * (3 * MAX_BYTES)
    with caplog.at_level(logging.INFO):
        status, headers, answer = await raw_http(server.port, http_post(path, body, content_type, chunked=True))
    assert status in (400, 413), (status, answer[:200])
    assert set(json.loads(answer)) == {"error"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_chunked_upload_over_the_limit_from_a_real_client_gets_the_answer(server):
    """aiohttp's client streaming a chunked text/csv body reads the 400, not a reset connection."""
    sent = 0

    async def body():
        nonlocal sent
        while sent < 5 * MAX_BYTES:
            sent += 2048
            yield b"0\n" * 1024
            await asyncio.sleep(0)

    async with aiohttp.ClientSession() as session, session.post(
        f"{server.url}/submit/", data=body(), headers={"Content-Type": "text/csv"}
    ) as res:
        answer = await res.json()
    assert_error(res.status, answer, 400, "multipart/form-data")


async def test_compressed_part_is_a_400(server, caplog):
    body = multipart(field("username", "u"), field("password", "p"), field("exercise_id", "3"),
                     field("file", "\x1f\x8b junk", '; filename="a.csv"\r\nContent-Encoding: gzip'))
    await assert_4xx_then_still_serving(server, caplog, http_post("/submit/", body, MULTIPART), 400, "compressed")


# --- integer fields: ASCII digits only, the rule of the label file --------------------------

NOT_ASCII_DIGITS = ["\u0660", "\uff10", "0_0", " 0", "0 ", "+0", "0x0", "1e0", "0.0", "", "-", "1" * 19]


@pytest.mark.parametrize("token", NOT_ASCII_DIGITS)
async def test_integer_fields_take_ascii_digits_only(server, token):
    username, password = await server.team("Digits Only")
    for form in (reveal_form(username, password, token, 1), reveal_form(username, password, 3, token)):
        status, body, _ = await post(f"{server.url}/reveal/", form)
        assert status == 400, (token, body)
        assert ("digits 0-9" in body["error"]) or ("missing form field" in body["error"] and token == "")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, token, b"0\n"))
    assert status == 400, (token, body)
    team = await server.services.teams.authenticate(username, password)
    assert await server.services.reveals.revealed(team, "mock", 3) == []  # nothing spent


def test_the_api_and_the_label_file_read_integers_by_one_rule():
    """Each token the API refuses is refused as a label in a file too (the file's only extra
    tolerance is the documented whitespace around a line), and the tokens it takes read the same."""
    for token in NOT_ASCII_DIGITS:
        if token.strip(" ") != token:
            continue  # spaces around a line are a file-format tolerance (lines are stripped)
        assert ascii_int(token) is None
        with pytest.raises(LabelFileError):
            parse_labels((token + "\n").encode(), 1, np.array([0]))
    for token in ["0", "00", "7", "-3", "9" * 18]:
        value = ascii_int(token)
        assert value == int(token)
        assert parse_labels((token + "\n").encode(), 1, np.array([value])).tolist() == [value]


async def test_ascii_digits_with_leading_zeros_are_read(server):
    username, password = await server.team("Zeros")

    def readme_script():
        return requests.post(f"{server.url}/reveal/", timeout=10,
                             data={"username": username, "password": password, "exercise_id": "03", "datum_id": "0042"})

    res = await asyncio.to_thread(readme_script)
    assert res.status_code == 200, res.text
    assert res.json()["datum_id"] == 42 and res.json()["exercise_id"] == 3


# --- a malformed HTTP request: 400 from aiohttp, one log line -------------------------------

@pytest.mark.parametrize("request_bytes", [
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", id="bad-header-line"),
    pytest.param(b"POST /reveal/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 id="length-and-chunked"),
    pytest.param(b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", id="request-line-of-10-kb"),
    pytest.param(b"POST /reveal/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"),
])
async def test_malformed_http_request_is_a_400_and_one_log_line(server, caplog, request_bytes):
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        status, _, _ = await raw_http(server.port, request_bytes)
        await asyncio.sleep(0.05)  # the log line is written after the answer
    assert status == 400
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert record.exc_info is None and "\n" not in record.getMessage(), record.getMessage()
    assert "malformed HTTP request" in record.getMessage() and "aaaa" not in record.getMessage()
