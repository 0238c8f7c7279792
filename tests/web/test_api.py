"""The HTTP API over a REAL server on loopback, called the way the Hackathon42 README calls it
(curl -F, requests.post(data=...)) and with aiohttp.ClientSession.

Every refusal is JSON {"error": "..."} with the status of DESIGN.md, never a 500 on bad input.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import timedelta

import aiohttp
import numpy as np
import pytest
import requests

from tests.web.conftest import CLOSES, CURL, MAX_BYTES, REAL, ROWS, valid_csv

README_KEYS = {"exercise_id", "datum_id", "label", "previously revealed"}


# --- clients ------------------------------------------------------------------------------

async def curl(*args: str) -> tuple[int, dict]:
    """Run the real curl binary; (status, parsed JSON body)."""
    proc = await asyncio.create_subprocess_exec(
        CURL, "-sS", "-w", "\n%{http_code}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    body, _, status = out.decode().rpartition("\n")
    return int(status), json.loads(body)


async def post(url: str, data, *, session: aiohttp.ClientSession | None = None, **kwargs):
    """POST with aiohttp; (status, JSON body, headers). Every answer of the API is JSON."""
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.post(url, data=data, **kwargs) as res:
            raw = await res.read()
            assert res.content_type == "application/json", (res.status, raw[:200])
            return res.status, json.loads(raw), res.headers
    finally:
        if own:
            await session.close()


def reveal_form(username: str, password: str, exercise_id, datum_id) -> dict:
    return {"username": username, "password": password, "exercise_id": str(exercise_id), "datum_id": str(datum_id)}


def submit_form(username: str, password: str, exercise_id, content: bytes, filename: str = "labels.csv"):
    form = aiohttp.FormData()
    form.add_field("username", username)
    form.add_field("password", password)
    form.add_field("exercise_id", str(exercise_id))
    form.add_field("file", content, filename=filename, content_type="text/csv")
    return form


def assert_error(status: int, body: dict, expected: int, *words: str) -> str:
    assert status == expected, (status, body)
    assert set(body) == {"error"}, body
    message = body["error"]
    assert isinstance(message, str) and message.strip()
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


# --- the two README calls, verbatim -------------------------------------------------------

async def test_readme_curl_multipart_reveal(server):
    username, password = await server.team("Curl Team")
    status, body = await curl(
        "-F", f"username={username}", "-F", f"password={password}",
        "-F", "exercise_id=3", "-F", "datum_id=456", f"http://127.0.0.1:{server.port}/reveal/",
    )
    assert status == 200, body
    assert set(body) == README_KEYS
    assert body == {
        "exercise_id": 3, "datum_id": 456, "label": int(server.y(3)[456]), "previously revealed": [],
    }
    assert type(body["label"]) is int


async def test_readme_python_requests_reveal(server):
    username, password = await server.team("Requests Team")
    url = f"{server.url}/reveal/"

    def readme_script():
        res = requests.post(url, data={'username': username, 'password': password, 'exercise_id': 0, 'datum_id': 4})
        return res.status_code, res.headers["Content-Type"], json.loads(res.content)

    status, content_type, answer = await asyncio.to_thread(readme_script)
    assert status == 200, answer
    assert content_type.startswith("application/json")
    assert set(answer) == README_KEYS
    assert answer == {"exercise_id": 0, "datum_id": 4, "label": int(server.y(0)[4]), "previously revealed": []}


async def test_labels_are_the_datasets_own_values(server):
    """Dataset 2 has labels {4, 5, 6} (MNIST digits), not {0, 1}: the label is the row's value."""
    username, password = await server.team("Digits")
    y = server.y(2)
    assert set(np.unique(y)) == {4, 5, 6}
    for datum in (0, 1, 2, 499):
        status, body, _ = await post(f"{server.url}/reveal", reveal_form(username, password, 2, datum))
        assert status == 200, body
        assert body["label"] == int(y[datum])


# --- previously revealed, budget, re-reveal ------------------------------------------------

async def test_previously_revealed_in_reveal_order_and_re_reveal_free(server):
    username, password = await server.team("Order")
    y = server.y(3)
    order = [456, 7, 300, 0, 123]  # deliberately not sorted
    async with aiohttp.ClientSession() as session:
        for i, datum in enumerate(order):
            status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, datum), session=session)
            assert status == 200, body
            assert body == {"exercise_id": 3, "datum_id": datum, "label": int(y[datum]),
                            "previously revealed": order[:i]}
        # budget (5) spent: a sixth distinct datum is refused, naming what was revealed
        status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 9), session=session)
        message = assert_error(status, body, 403, "5 of 5", "re-reveal")
        assert "456, 7, 300, 0, 123" in message
        # re-revealing is free, answers the same label, and lists the others in reveal order
        for _ in range(3):
            status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 7), session=session)
            assert status == 200, body
            assert body == {"exercise_id": 3, "datum_id": 7, "label": int(y[7]),
                            "previously revealed": [456, 300, 0, 123]}
        # budgets are per dataset: dataset 0 is untouched
        status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 0, 9), session=session)
        assert status == 200 and body["previously revealed"] == []
    team = await server.services.teams.authenticate(username, password)
    assert await server.services.reveals.revealed(team, "mock", 3) == order


async def test_http_and_discord_doors_share_one_budget(server):
    username, password = await server.team("Two Doors")
    team = await server.services.teams.authenticate(username, password)
    for datum in (1, 2, 3):
        await server.services.reveals.reveal(team, 3, datum)  # as the Discord cog does
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 4))
    assert status == 200 and body["previously revealed"] == [1, 2, 3]
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 5))
    assert status == 200 and body["previously revealed"] == [1, 2, 3, 4]
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 6))
    assert_error(status, body, 403, "5 of 5")


# --- 400 ----------------------------------------------------------------------------------

async def test_400_bad_reveal_input(server):
    username, password = await server.team("Bad Input")
    url = f"{server.url}/reveal/"
    async with aiohttp.ClientSession() as s:
        form = reveal_form(username, password, 3, 1)
        del form["datum_id"]
        status, body, _ = await post(url, form, session=s)
        assert_error(status, body, 400, "datum_id")

        form = reveal_form(username, password, 3, 1)
        del form["username"]
        status, body, _ = await post(url, form, session=s)
        assert_error(status, body, 400, "username")

        for bad in ("three", "3.0", "", "0x3", "1e3"):
            status, body, _ = await post(url, reveal_form(username, password, bad, 1), session=s)
            assert_error(status, body, 400, "exercise_id")

        status, body, _ = await post(url, reveal_form(username, password, 3, "4,5"), session=s)
        assert_error(status, body, 400, "datum_id")

        for datum in (ROWS, ROWS + 1000, -1):
            status, body, _ = await post(url, reveal_form(username, password, 3, datum), session=s)
            assert_error(status, body, 400, "out of range", f"{ROWS} rows")
    # nothing was spent by refused requests
    team = await server.services.teams.authenticate(username, password)
    assert await server.services.reveals.revealed(team, "mock", 3) == []


async def test_400_urlencoded_submit_is_refused(server):
    username, password = await server.team("Urlencoded")
    csv = valid_csv(server.y(3)).decode()
    status, body, _ = await post(f"{server.url}/submit/", {
        "username": username, "password": password, "exercise_id": "3", "file": csv,
    })
    assert_error(status, body, 400, "multipart")
    # the same with curl --data (urlencoded)
    status, body = await curl("--data", f"username={username}&password={password}&exercise_id=3",
                              f"{server.url}/submit/")
    assert_error(status, body, 400, "multipart")


async def test_400_malformed_csv_names_the_line_and_does_not_use_the_submission(server, tmp_path):
    username, password = await server.team("Malformed")
    y = server.y(3)
    lines = [str(int(v)) for v in y]
    cases = {
        "header": (b"label\n" + "\n".join(lines).encode(), "line 1"),
        "float on line 17": ("\n".join(lines[:16] + ["1.0"] + lines[17:]).encode(), "line 17"),
        "second column on line 3": ("\n".join(lines[:2] + ["1,0"] + lines[3:]).encode(), "line 3"),
        "label outside the set on line 250": ("\n".join(lines[:249] + ["7"] + lines[250:]).encode(), "line 250"),
        "too few rows": ("\n".join(lines[:-10]).encode(), str(ROWS)),
    }
    for content, words in cases.values():
        path = tmp_path / "labels.csv"
        path.write_bytes(content)
        status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                                  "-F", "exercise_id=3", "-F", f"file=@{path}", f"{server.url}/submit/")
        assert_error(status, body, 400, words, "did not use your submission")
    # none of them used the one submission
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(y)))
    assert status == 200, body
    assert body == {"exercise_id": 3, "rows": ROWS, "accuracy": 1.0}


async def test_txt_file_refused_with_the_reason_then_csv_accepted(server, tmp_path):
    username, password = await server.team("Txt Team")
    y = server.y(0)
    txt = tmp_path / "labels.txt"
    txt.write_bytes(valid_csv(y))
    status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                              "-F", "exercise_id=0", "-F", f"file=@{txt}", f"{server.url}/submit/")
    message = assert_error(status, body, 400, "labels.txt", ".csv")
    assert "not a .csv" in message
    # the refusal did not use the submission: a valid .csv is accepted, with its accuracy (live)
    csv = tmp_path / "labels.csv"
    csv.write_bytes(valid_csv(y, wrong=50))
    status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                              "-F", "exercise_id=0", "-F", f"file=@{csv}", f"{server.url}/submit/")
    assert status == 200, body
    assert body == {"exercise_id": 0, "rows": ROWS, "accuracy": pytest.approx(1 - 50 / ROWS)}


async def test_submission_accuracy_absent_while_leaderboard_hidden(start_server):
    server = await start_server(visibility="hidden")
    username, password = await server.team("Hidden Team")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 0, valid_csv(server.y(0), wrong=123)))
    assert status == 200, body
    assert body == {"exercise_id": 0, "rows": ROWS}
    # the score exists (organizers see it) but no participant-facing answer carries it
    standings = await server.services.leaderboard.standings(organizer=True)
    assert standings.rows[0].cells[0].score == pytest.approx(1 - 123 / ROWS)


# --- 401 ----------------------------------------------------------------------------------

async def test_401_bad_password_and_unknown_user(server, tmp_path):
    username, password = await server.team("Login")
    url = f"{server.url}/reveal/"
    async with aiohttp.ClientSession() as s:
        status, body, _ = await post(url, reveal_form(username, password + "x", 3, 1), session=s)
        assert_error(status, body, 401, "wrong username or password")
        status, body, _ = await post(url, reveal_form("no_such_team", password, 3, 1), session=s)
        assert_error(status, body, 401, "wrong username or password")
        # a stranger learns nothing about the event: a bad login wins over every other refusal
        for exercise_id, datum in ((7, 1), (12, 1), (3, 10_000)):
            status, body, _ = await post(url, reveal_form("no_such_team", "x", exercise_id, datum), session=s)
            assert_error(status, body, 401)
        status, body, _ = await post(f"{server.url}/submit/", submit_form(username, "nope", 3, b"0\n"), session=s)
        assert_error(status, body, 401, "wrong username or password")
    status, body = await curl("-F", f"username={username}", "-F", "password=wrong",
                              "-F", "exercise_id=3", "-F", "datum_id=456", f"{server.url}/reveal/")
    assert_error(status, body, 401)


# --- 403 ----------------------------------------------------------------------------------

async def test_403_team_not_validated(server):
    username, password = await server.team("Unvalidated", validated=False)
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 1))
    assert_error(status, body, 403, "not validated")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3))))
    assert_error(status, body, 403, "not validated")
    await server.services.teams.validate("Unvalidated")
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 1))
    assert status == 200 and body["previously revealed"] == []
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3))))
    assert status == 200, body


async def test_403_dataset_not_in_this_phase_then_open_in_real(server):
    username, password = await server.team("Phases")
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 12, 1))
    assert_error(status, body, 403, "not part of the current phase", "real")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 12, b"0\n"))
    assert_error(status, body, 403, "not part of the current phase")
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 5))
    assert status == 200

    server.clock.set(REAL + timedelta(minutes=1))
    y12 = server.y(12, "real")
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 12, 1))
    assert status == 200, body
    assert body == {"exercise_id": 12, "datum_id": 1, "label": int(y12[1]), "previously revealed": []}
    # a new phase: new data (its own labels), a fresh budget, an empty leaderboard
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 5))
    assert status == 200 and body["previously revealed"] == [] and body["label"] == int(server.y(3, "real")[5])
    async with aiohttp.ClientSession() as s, s.get(f"{server.url}/api/leaderboard") as res:
        board = await res.json()
    assert board["phase"] == "real"
    assert [d["id"] for d in board["datasets"]] == [0, 2, 3, 12]


async def test_403_after_closes(server):
    username, password = await server.team("Late")
    server.clock.set(CLOSES)
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 3, 1))
    assert_error(status, body, 403, "closed")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3, "real"))))
    assert_error(status, body, 403, "closed")


# --- 404, 409 -----------------------------------------------------------------------------

async def test_404_unknown_dataset(server):
    username, password = await server.team("Unknown Dataset")
    for exercise_id in (7, 999, 10**18 - 1):
        status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, exercise_id, 1))
        assert_error(status, body, 404, f"no dataset {exercise_id}", "0, 2, 3, 12")
    # past 18 digits no id exists: refused as input, by the same rule as a label in a file
    status, body, _ = await post(f"{server.url}/reveal/", reveal_form(username, password, 10**18, 1))
    assert_error(status, body, 400, "at most 18 digits")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 7, b"0\n"))
    assert_error(status, body, 404, "no dataset 7")


async def test_409_second_submission(server, tmp_path):
    username, password = await server.team("Twice")
    y = server.y(3)
    path = tmp_path / "labels.csv"
    path.write_bytes(valid_csv(y, wrong=10))
    args = ("-F", f"username={username}", "-F", f"password={password}", "-F", "exercise_id=3",
            "-F", f"file=@{path}", f"{server.url}/submit/")
    status, body = await curl(*args)
    assert status == 200 and body["accuracy"] == pytest.approx(0.98)
    path.write_bytes(valid_csv(y))  # a better file does not replace the first
    status, body = await curl(*args)
    assert_error(status, body, 409, "already submitted", "dataset 3")
    standings = await server.services.leaderboard.standings()
    assert standings.rows[0].cells[2].score == pytest.approx(0.98)


async def _submit_and_hang_up(port: int, username: str, password: str, exercise_id: int, content: bytes) -> None:
    """Send a whole submission over TCP and close the connection without reading the answer, as
    a script whose Wi-Fi dropped does."""
    boundary = "cutConnection"
    fields = (("username", username), ("password", password), ("exercise_id", str(exercise_id)))
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields)
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="labels.csv"\r\n\r\n'
    data = body.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /submit/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}"
            f"\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + data)
    await writer.drain()
    writer.close()  # gone before the answer


@pytest.mark.parametrize("visibility", ["live", "hidden"])
async def test_409_after_a_cut_connection_names_when_it_was_recorded(start_server, visibility):
    server = await start_server(visibility=visibility)
    username, password = await server.team("Flaky Wifi")
    content = valid_csv(server.y(3), wrong=50)
    await _submit_and_hang_up(server.port, username, password, 3, content)
    for _ in range(200):  # the server finishes the request the client left
        if (await server.services.leaderboard.standings(organizer=True)).rows[0].cells[2].submitted:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the submission of the cut connection was not recorded")
    server.clock.advance(minutes=3)
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, content))
    message = assert_error(status, body, 409, "already submitted", "dataset 3", "recorded at 2030-03-01 13:00 UTC",
                           "that submission counts")
    if visibility == "live":
        assert "accuracy 0.9000" in message
    else:
        assert "accuracy" not in message  # hidden until the organizers announce


# --- 413 ----------------------------------------------------------------------------------

async def test_413_file_over_max_bytes_with_content_length(server, tmp_path):
    username, password = await server.team("Big")
    big = tmp_path / "big.csv"
    big.write_bytes(b"0\n" * (MAX_BYTES // 2 * 3))  # 1.5 x max_bytes
    status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                              "-F", "exercise_id=3", "-F", f"file=@{big}", f"{server.url}/submit/")
    assert_error(status, body, 413, "limit", f"{MAX_BYTES:,}")
    status, body, _ = await post(f"{server.url}/submit/",
                                 submit_form(username, password, 3, b"1\n" * (5 * MAX_BYTES)))
    assert_error(status, body, 413)
    # 50 x max_bytes announced by Content-Length: refused before the body is sent (curl reads the answer)
    big.write_bytes(b"0\n" * (25 * MAX_BYTES))
    status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                              "-F", "exercise_id=3", "-F", f"file=@{big}", f"{server.url}/submit/")
    assert_error(status, body, 413, f"{MAX_BYTES:,}")
    # refused, not used: a valid file is accepted afterwards
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3))))
    assert status == 200, body


async def test_413_chunked_upload_refused_before_the_whole_body_is_read(server):
    username, password = await server.team("Chunked")
    boundary = "hackbotTestBoundary42"
    total = 50 * MAX_BYTES
    sent = 0

    async def body():
        nonlocal sent
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in (("username", username), ("password", password), ("exercise_id", "3"))
        ) + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="labels.csv"\r\n\r\n'
        yield head.encode()
        chunk = b"0\n" * 512
        while sent < total:
            yield chunk
            sent += len(chunk)
            await asyncio.sleep(0.001)  # a slow client: the whole body would take >= 1 s
        yield f"\r\n--{boundary}--\r\n".encode()

    headers_sent = {}

    async def on_headers(session, ctx, params):
        headers_sent.update(params.headers)

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(on_headers)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        status, answer, _ = await asyncio.wait_for(post(
            f"{server.url}/submit/", body(), session=session,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        ), 20)
    assert headers_sent.get("Transfer-Encoding") == "chunked" and "Content-Length" not in headers_sent
    assert_error(status, answer, 413, "limit")
    # the answer came while the client was still streaming: far less than the body was sent
    assert sent < 5 * MAX_BYTES, sent
    # and the submission is not used
    status, answer, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3))))
    assert status == 200, answer


async def test_file_just_under_max_bytes_is_accepted(server, tmp_path):
    """Regression (found at f5d9639): submit() checked request.content_length against max_bytes, so the
    limit meant for the file was applied to the whole multipart body and a valid file just under
    max_bytes was refused with 413 ("the file is 20,034 bytes" for a 19,500-byte file)."""
    username, password = await server.team("Padded")
    y = server.y(3)
    pad = (MAX_BYTES - 500) // ROWS - 2  # spaces around a label are tolerated by the parser
    content = b"".join(b" " * pad + str(int(v)).encode() + b"\n" for v in y)
    assert MAX_BYTES - 600 < len(content) <= MAX_BYTES
    path = tmp_path / "labels.csv"
    path.write_bytes(content)
    status, body = await curl("-F", f"username={username}", "-F", f"password={password}",
                              "-F", "exercise_id=3", "-F", f"file=@{path}", f"{server.url}/submit/")
    assert status == 200, body
    assert body["accuracy"] == 1.0


@pytest.mark.parametrize("shape", ["many-small-fields", "nameless-part"])
async def test_chunked_upload_of_other_parts_is_refused_before_the_whole_body_is_read(server, shape):
    username, password = await server.team("Chunked Fields")
    boundary = "hackbotTestBoundary43"
    total = 50 * MAX_BYTES
    sent = 0

    async def body():
        nonlocal sent
        yield "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in (("username", username), ("password", password), ("exercise_id", "3"))
        ).encode()
        if shape == "nameless-part":
            yield f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n".encode()
        i = 0
        while sent < total:
            if shape == "many-small-fields":
                chunk = (f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n'.encode()
                         + b"x" * 1000 + b"\r\n")
            else:
                chunk = b"x" * 1024
            i += 1
            yield chunk
            sent += len(chunk)
            await asyncio.sleep(0.001)
        yield f"\r\n--{boundary}--\r\n".encode()

    status, answer, _ = await asyncio.wait_for(post(
        f"{server.url}/submit/", body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    ), 30)
    assert 400 <= status < 500 and set(answer) == {"error"}
    assert sent < 5 * MAX_BYTES, f"the server read {sent:,} bytes ({sent // MAX_BYTES} x max_bytes) before answering {status}"


# --- concurrency over HTTP ----------------------------------------------------------------

async def test_concurrent_reveals_over_http_spend_exactly_the_budget(server):
    username, password = await server.team("Racers")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        results = await asyncio.gather(*(
            post(f"{server.url}/reveal/", reveal_form(username, password, 3, datum), session=s)
            for datum in range(40)
        ))
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] * 5 + [403] * 35
    team = await server.services.teams.authenticate(username, password)
    revealed = await server.services.reveals.revealed(team, "mock", 3)
    assert len(revealed) == 5
    y = server.y(3)
    for status, body, _ in results:
        if status == 200:
            assert body["label"] == int(y[body["datum_id"]])
            assert set(body["previously revealed"]) < set(revealed)


async def test_concurrent_reveals_of_many_teams_each_get_their_own_answer(server):
    """Requests arriving together are read and written in groups (one statement or one commit
    for several): each still gets exactly the answer it would get alone, a refused or hostile one
    (a wrong password, a NUL byte in a username, an unknown dataset) included."""
    teams = [await server.team(f"Crowd {i}") for i in range(6)]
    y = server.y(3)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        for rnd, wanted in enumerate([0, 0, 10]):  # reveal, re-read, reveal another
            forms = [reveal_form(u, p, 3, wanted + i) for i, (u, p) in enumerate(teams)]
            forms += [reveal_form(teams[0][0], "wrong", 3, 7), reveal_form("crowd\x000", teams[0][1], 3, 7),
                      reveal_form(teams[1][0], teams[1][1], 99, 7)]
            results = await asyncio.gather(*(post(f"{server.url}/reveal/", f, session=s) for f in forms))
            for i, (status, body, _) in enumerate(results[:6]):
                assert status == 200, body
                assert body["datum_id"] == wanted + i and body["label"] == int(y[wanted + i])
                assert body["previously revealed"] == ([] if rnd < 2 else [i])
            assert [r[0] for r in results[6:]] == [401, 401, 404]
    for i, (username, password) in enumerate(teams):
        team = await server.services.teams.authenticate(username, password)
        assert await server.services.reveals.revealed(team, "mock", 3) == [i, 10 + i]


async def test_concurrent_submissions_over_http_one_wins(server):
    username, password = await server.team("Double Click")
    y = server.y(0)
    async with aiohttp.ClientSession() as s:
        results = await asyncio.gather(*(
            post(f"{server.url}/submit/", submit_form(username, password, 0, valid_csv(y, wrong=w)), session=s)
            for w in range(6)
        ))
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] + [409] * 5, results
    winner = next(body for status, body, _ in results if status == 200)
    board = (await server.services.leaderboard.standings()).rows[0]
    assert board.cells[0].submitted and board.cells[0].score == pytest.approx(winner["accuracy"])


# --- never a 500 --------------------------------------------------------------------------

GARBAGE = [
    pytest.param("POST", {}, b"", id="empty-body"),
    pytest.param("POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"", id="empty-form"),
    pytest.param("POST", {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 20, id="binary-junk"),
    pytest.param("POST", {"Content-Type": "text/plain"}, b"\x00\xff" * 3000, id="text-plain-junk"),
    pytest.param("POST", {"Content-Type": "application/json"}, b'{"username": "a", "password": "b"}', id="json"),
    pytest.param("POST", {"Content-Type": "application/x-www-form-urlencoded"},
                 b"username=" + b"a" * (MAX_BYTES * 10), id="huge-field"),
    pytest.param("POST", {"Content-Type": "application/x-www-form-urlencoded"},
                 b"username=a&password=b&exercise_id=" + b"9" * 6000 + b"&datum_id=1", id="huge-integer"),
    pytest.param("POST", {"Content-Type": "application/x-www-form-urlencoded"},
                 b"username=%zz&password=%ff&exercise_id=%&datum_id=&&==", id="bad-percent-escapes"),
    pytest.param("POST", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b"--abc--\r\n", id="multipart-no-parts"),
    pytest.param("GET", {}, b"", id="GET"),
    pytest.param("PUT", {"Content-Type": "application/x-www-form-urlencoded"}, b"username=a", id="PUT"),
]

# Regressions (found at f5d9639): each of these reached the catch-all of errors_as_json as a
# ValueError / UnicodeDecodeError / LookupError raised by aiohttp's form parsing: a 500 on bad input.
MALFORMED = [
    pytest.param("/reveal/", {"Content-Type": "application/x-www-form-urlencoded"}, b"\xff\xfe\x00junk=\x80",
                 id="reveal-urlencoded-not-utf8"),
    pytest.param("/reveal/", {"Content-Type": "application/x-www-form-urlencoded; charset=no-such-charset"},
                 b"username=a&password=b&exercise_id=3&datum_id=1", id="reveal-unknown-charset"),
    pytest.param("/reveal/", {"Content-Type": "multipart/form-data"}, b"junk", id="reveal-multipart-no-boundary"),
    pytest.param("/submit/", {"Content-Type": "multipart/form-data"}, b"junk", id="submit-multipart-no-boundary"),
    pytest.param("/reveal/", {"Content-Type": "multipart/form-data; boundary=abc"}, b"junk",
                 id="reveal-multipart-no-starting-boundary"),
    pytest.param("/submit/", {"Content-Type": "multipart/form-data; boundary=abc"}, b"junk",
                 id="submit-multipart-no-starting-boundary"),
    pytest.param("/reveal/", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b'--abc\r\nContent-Disposition: form-data; name="username"\r\n\r\nalpha',
                 id="reveal-multipart-truncated"),
    pytest.param("/submit/", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b'--abc\r\nContent-Disposition: form-data; name="username"\r\n\r\nalpha',
                 id="submit-multipart-truncated"),
    pytest.param("/reveal/", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b"--abc\r\n\r\nvalue\r\n--abc--\r\n", id="reveal-multipart-part-without-name"),
    pytest.param("/submit/", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b"--abc\r\n\r\nvalue\r\n--abc--\r\n", id="submit-multipart-part-without-name"),
    pytest.param("/reveal/", {"Content-Type": "multipart/form-data; boundary=abc"},
                 b'--abc\r\nContent-Type: multipart/mixed; boundary=def\r\nContent-Disposition: form-data; '
                 b'name="files"\r\n\r\n--def\r\nContent-Disposition: file; filename="a.csv"\r\n\r\n1\r\n'
                 b"--def--\r\n--abc--\r\n", id="reveal-nested-multipart"),
]


@pytest.mark.parametrize("path", ["/reveal/", "/submit/", "/reveal", "/submit"])
async def test_garbage_is_refused_with_4xx_json(server, path):
    await server.team("Victim")
    async with aiohttp.ClientSession() as s:
        for param in GARBAGE:
            method, headers, body = param.values
            async with s.request(method, f"{server.url}{path}", data=body, headers=headers,
                                 skip_auto_headers=["Content-Type"]) as res:
                raw = await res.read()
                assert 400 <= res.status < 500, (param.id, res.status, raw[:200])
                assert res.content_type == "application/json", (param.id, raw[:200])
                assert set(json.loads(raw)) == {"error"}


@pytest.mark.parametrize(("path", "headers", "body"), MALFORMED)
async def test_malformed_form_bodies_are_4xx_not_500(server, path, headers, body):
    async with aiohttp.ClientSession() as s, s.post(f"{server.url}{path}", data=body, headers=headers) as res:
        raw = await res.read()
    assert 400 <= res.status < 500, (res.status, raw[:200])
    assert set(json.loads(raw)) == {"error"}


@pytest.mark.parametrize("path", ["/reveal/", "/submit/"])
@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_nul_byte_in_the_login_is_a_4xx_not_500(server, path, field):
    """PostgreSQL's text cannot hold a NUL byte: a login carrying one is refused like any wrong login."""
    name, password = await server.team("Nul")
    form = {"username": name, "password": password, "exercise_id": "1", "datum_id": "1"}
    form[field] = form[field][:2] + "\x00" + form[field][2:]
    data = aiohttp.FormData(form)
    if path == "/submit/":
        data.add_field("file", b"0\n", filename="a.csv")
    async with aiohttp.ClientSession() as s, s.post(f"{server.url}{path}", data=data) as res:
        raw = await res.read()
    assert 400 <= res.status < 500, (res.status, raw[:200])
    assert set(json.loads(raw)) == {"error"}


NUL_GETS = ["/?team=a%00b", "/?phase=a%00b", "/?view=a%00b", "/api/leaderboard?team=a%00b", "/schedule?team=a%00b",
            "/organizers/mentoring?key=a%00b", "/organizers/reminders?key=a%00b", "/organizers/projects?key=a%00b",
            "/projects?category=a%00b", "/projects/1%00", "/vote/a%00b", "/api/votes/a%00b", "/judge/a%00b",
            "/judge/?token=a%00b", "/judge/bundle/1%00", "/api/projects/mine?username=a%00b&password=b"]
NUL_POSTS = ["/vote/a%00b", "/judge/score", "/judge/rank", "/judge/choose", "/organizers/projects?key=a%00b",
             "/api/projects", "/api/bundles"]


async def test_a_nul_byte_anywhere_is_never_a_500(server):
    """Every page and endpoint refuses a NUL byte in its path, query or form like any unknown value."""
    async with aiohttp.ClientSession() as s:
        for url in NUL_GETS:
            async with s.get(f"{server.url}{url}") as res:
                assert res.status < 500, (url, res.status, (await res.read())[:200])
        for url in NUL_POSTS:
            form = {"username": "a\x00b", "password": "b\x00", "token": "a\x00b", "code": "a\x00b",
                    "team": "1\x00", "key": "a\x00b", "choice": "a\x00b", "ballot": "a\x00b"}
            async with s.post(f"{server.url}{url}", data=form) as res:
                assert res.status < 500, (url, res.status, (await res.read())[:200])


# --- leaderboard and health ---------------------------------------------------------------

async def _get_json(url: str):
    async with aiohttp.ClientSession() as s, s.get(url) as res:
        assert res.content_type == "application/json"
        return res.status, await res.json()


async def test_healthz_shape(server):
    status, body = await _get_json(f"{server.url}/healthz")
    assert status == 200
    assert body == {"status": "ok", "event": "Web Test Event", "phase": "mock"}
    server.clock.set(REAL)
    assert (await _get_json(f"{server.url}/healthz"))[1]["phase"] == "real"


async def test_api_leaderboard_shape_live(server):
    a_user, a_pw = await server.team("Alpha")
    b_user, b_pw = await server.team("Beta")
    await server.team("Gamma")
    await server.team("Not Validated", validated=False)
    y3, y0 = server.y(3), server.y(0)
    assert (await post(f"{server.url}/submit/", submit_form(a_user, a_pw, 3, valid_csv(y3))))[0] == 200
    assert (await post(f"{server.url}/submit/", submit_form(b_user, b_pw, 0, valid_csv(y0, wrong=250))))[0] == 200
    status, board = await _get_json(f"{server.url}/api/leaderboard")
    assert status == 200
    assert board["phase"] == "mock" and board["visibility"] == "live"
    assert board["datasets"] == [
        {"id": 0, "name": "toy_dataset", "points": 1, "default_score": 0.8, "groups": True},
        {"id": 2, "name": "digits_456", "points": 1, "default_score": 0.8, "groups": True},
        {"id": 3, "name": "random_row", "points": 2, "default_score": 0.8, "groups": True},
    ]
    assert board["total_teams"] == 3 and board["submitted_teams"] == 2
    teams = board["teams"]
    assert [t["team"] for t in teams] == ["Alpha", "Gamma", "Beta"]  # unvalidated teams are not listed
    assert [t["rank"] for t in teams] == [1, 2, 3]
    assert [t["total"] for t in teams] == pytest.approx([0.8 + 0.8 + 2.0, 0.8 + 0.8 + 1.6, 0.5 + 0.8 + 1.6])
    alpha = teams[0]["scores"]
    assert alpha == {"0": {"submitted": False, "score": 0.8, "worst_group": None},
                     "2": {"submitted": False, "score": 0.8, "worst_group": None},
                     "3": {"submitted": True, "score": 1.0, "worst_group": 1.0}}
    beta = teams[2]["scores"]["0"]
    assert beta["submitted"] is True and beta["score"] == 0.5
    assert 0 <= beta["worst_group"] <= 0.5  # the worst group is no better than the whole
    assert teams[1]["last_submitted"] is None and teams[0]["last_submitted"].endswith("Z")
    # another phase by query; unknown phase is a JSON 404
    status, real = await _get_json(f"{server.url}/api/leaderboard?phase=real")
    assert status == 200 and real["phase"] == "real" and len(real["datasets"]) == 4
    assert all(not c["submitted"] for t in real["teams"] for c in t["scores"].values())
    status, body = await _get_json(f"{server.url}/api/leaderboard?phase=nope")
    assert status == 404 and set(body) == {"error"}


async def test_api_leaderboard_hidden_gives_no_scores(start_server):
    server = await start_server(visibility="hidden")
    a_user, a_pw = await server.team("Alpha")
    await server.team("Beta")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(a_user, a_pw, 3, valid_csv(server.y(3), wrong=37)))
    assert status == 200 and "accuracy" not in body
    status, board = await _get_json(f"{server.url}/api/leaderboard")
    assert board["visibility"] == "hidden"
    assert [t["team"] for t in board["teams"]] == ["Alpha", "Beta"]
    for t in board["teams"]:
        assert t["rank"] is None and t["total"] is None
        assert all(c["score"] is None for c in t["scores"].values())
    assert board["teams"][0]["scores"]["3"]["submitted"] is True
    # no number that looks like a score anywhere in the answers, page included
    acc = f"{1 - 37 / ROWS:.3f}"
    async with aiohttp.ClientSession() as s, s.get(f"{server.url}/") as res:
        page = await res.text()
    raw = json.dumps(board)
    for text in (raw, page):
        assert acc not in text
        assert not re.search(r"\b[01]\.\d{3}\b", text), "a score-like number is shown"


# --- secrets ------------------------------------------------------------------------------

LEAK_WINDOW = 16  # consecutive hidden labels that must never appear together


def _ints(text: str) -> list[int]:
    return [int(t) for t in re.findall(r"-?\d+", text)]


class LeakDetector:
    """Finds any run of LEAK_WINDOW consecutive hidden labels (any separators) in a text."""

    def __init__(self, label_arrays: list[np.ndarray]):
        self.windows = {
            tuple(int(v) for v in y[i:i + LEAK_WINDOW])
            for y in label_arrays for i in range(len(y) - LEAK_WINDOW + 1)
        }

    def leaks(self, text: str) -> bool:
        ints = _ints(text)
        return any(tuple(ints[i:i + LEAK_WINDOW]) in self.windows for i in range(len(ints) - LEAK_WINDOW + 1))


def _longest_int_list(value) -> int:
    if isinstance(value, list):
        own = len(value) if value and all(isinstance(v, int) for v in value) else 0
        return max([own] + [_longest_int_list(v) for v in value])
    if isinstance(value, dict):
        return max([0] + [_longest_int_list(v) for v in value.values()])
    return 0


async def test_no_hidden_labels_or_password_in_any_response_or_log(server, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.access", "aiohttp.server", "aiohttp.web", "aiohttp.internal", "bot", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    username, password = await server.team("Secret Keepers")
    other, other_pw = await server.team("Others", validated=False)
    y = {ds: server.y(ds) for ds in (0, 2, 3)}
    budget = max(ds.reveal_budget for ds in server.services.config.datasets)
    responses: list[tuple[int, str]] = []

    async def call(method: str, path: str, **kwargs):
        async with session.request(method, f"{server.url}{path}", **kwargs) as res:
            responses.append((res.status, str(dict(res.headers)) + "\n" + (await res.read()).decode("utf-8", "replace")))
            return res.status

    async with aiohttp.ClientSession() as session:
        for ds in (0, 2, 3):
            for datum in (0, 1, 2, 3, 4, 5, 6, 0, 3):  # past the budget, and re-reveals
                await call("POST", "/reveal/", data=reveal_form(username, password, ds, datum))
        await call("POST", "/reveal/", data=reveal_form(username, password + "typo", 3, 1))  # a near miss
        await call("POST", "/reveal/", data=reveal_form(other, other_pw, 3, 1))
        await call("POST", "/reveal/", data=reveal_form(username, password, 3, 10**9))
        await call("POST", "/reveal/", data=reveal_form(username, password, 7, 1))
        await call("POST", "/reveal/", data=reveal_form(username, password, "x", 1))
        await call("POST", "/submit/", data=submit_form(username, password, 3, valid_csv(y[3])[:-30], "labels.csv"))
        await call("POST", "/submit/", data=submit_form(username, password, 3, valid_csv(y[3]), "labels.txt"))
        await call("POST", "/submit/", data=submit_form(username, password, 3, b"1\n" * MAX_BYTES))
        assert await call("POST", "/submit/", data=submit_form(username, password, 3, valid_csv(y[3], wrong=9))) == 200
        await call("POST", "/submit/", data=submit_form(username, password, 3, valid_csv(y[3])))
        await call("POST", "/submit/", data={"username": username, "password": password, "exercise_id": "0"})
        await call("GET", "/api/leaderboard")
        await call("GET", "/healthz")
        await call("GET", "/")
        await call("GET", "/reveal/")
    status, _ = await curl("-F", f"username={username}", "-F", f"password={password}",
                           "-F", "exercise_id=2", "-F", "datum_id=456", f"{server.url}/reveal/")
    assert status == 403  # budget of dataset 2 spent above
    statuses = {s for s, _ in responses}
    assert {200, 400, 401, 403, 404, 405, 409, 413} <= statuses, statuses
    assert not any(s >= 500 for s in statuses)

    detector = LeakDetector(list(y.values()))
    logs = []
    for record in caplog.records:
        logs.append(record.getMessage())
        if record.exc_info:
            logs.append(logging.Formatter().formatException(record.exc_info))
    log_text = "\n".join(logs)
    # the checks can fail: they catch a planted leak of each kind
    assert detector.leaks(json.dumps({"labels": y[3].tolist()}))
    assert detector.leaks("labels: " + " ".join(map(str, y[0][100:100 + LEAK_WINDOW])))
    assert detector.leaks("\n".join(map(str, y[2])))
    assert _longest_int_list(json.loads(json.dumps({"a": [{"b": y[3][:budget + 1].tolist()}]}))) > budget
    assert password in log_text + password

    for _status, text in responses:
        assert password not in text
        assert not detector.leaks(text), text[:300]
        body = text.split("\n", 1)[1]
        if body.startswith(("{", "[")):
            assert _longest_int_list(json.loads(body)) <= budget, body[:300]
    if server.services.store.dialect == "sqlite":  # aiosqlite logs every call at DEBUG; asyncpg logs none
        assert caplog.records, "logging was not captured"
    assert password not in log_text
    assert other_pw not in log_text
    assert not detector.leaks(log_text)
    # API passwords are stored only as digests
    store = server.services.store
    if store.dialect == "sqlite":
        raw_db = b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))
    else:  # every row of every table as PostgreSQL writes it out
        raw_db = b""
        for table in await store.tables():
            raw_db += "".join(r[0] for r in await store.fetchall(f"SELECT CAST(t AS TEXT) FROM {table} t")).encode()
    assert b"Secret Keepers" in raw_db, "the database's contents were not read"
    assert password.encode() not in raw_db and other_pw.encode() not in raw_db


async def test_submit_missing_field_message_names_the_submit_fields(server):
    """Regression (found at f5d9639): /submit/ shared the reveal's hint and asked for 'datum_id'."""
    form = aiohttp.FormData()
    form.add_field("password", "x")
    form.add_field("exercise_id", "3")
    form.add_field("file", b"0\n", filename="labels.csv")
    status, body, _ = await post(f"{server.url}/submit/", form)
    message = assert_error(status, body, 400, "username", "file")
    assert "datum_id" not in message
