"""Failed logins over real HTTP: limited per address and team and per team, never per address
alone (the venue's one address serves every team), and a wrong username answers exactly as a
wrong password does: status, body, headers, the database work done, and the time taken."""

from __future__ import annotations

import asyncio
import gc
import re
import statistics
import time
import warnings

import aiohttp
import pytest

from bot.core.errors import TooManyAttempts
from bot.core.ratelimit import LoginLimiter
from bot.core.store import Store
from bot.web.api import parse_proxies
from bot.web.server import start_web
from tests.web.test_api import assert_error, curl, post, reveal_form, submit_form

VENUE = "127.0.0.1"  # every team's scripts, as at Hackathon42 in École 42


def client_from(address: str) -> aiohttp.ClientSession:
    """A client with its own loopback source address (request.remote differs)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def test_one_teams_failures_never_refuse_another_teams_login_from_the_venue(server):
    teams = [await server.team(f"Venue Team {i}") for i in range(6)]
    (careless, careless_pw), others = teams[0], teams[1:]
    limiter = server.services.logins
    url = f"{server.url}/reveal/"
    async with client_from(VENUE) as venue:
        statuses = [(await post(url, reveal_form(careless, f"typo{i}", 3, 1), session=venue))[0]
                    for i in range(2 * limiter.team_limit)]
        assert statuses == [401] * limiter.pair_limit + [429] * (2 * limiter.team_limit - limiter.pair_limit)
        for username, password in others:  # same address, right password: served
            status, body, _ = await post(url, reveal_form(username, password, 3, 1), session=venue)
            assert status == 200, body
        # and a typo of another team is its own 401, not the careless team's 429
        status, body, _ = await post(url, reveal_form(others[0][0], "typo", 3, 1), session=venue)
        assert_error(status, body, 401, "wrong username or password")
        status, body, _ = await post(f"{server.url}/submit/", submit_form(others[1][0], others[1][1], 3, b"0\n"),
                                     session=venue)
        assert status == 400 and "too few rows" in body["error"]  # logged in: the file is read
        # the careless team itself waits out its own failures at the venue
        status, body, _ = await post(url, reveal_form(careless, careless_pw, 3, 1), session=venue)
        assert_error(status, body, 429, "wait")


async def test_per_address_and_team_limit(server):
    """One address failing on one team is refused on that team, with Retry-After; the same team
    from another address, and another team from this address, are served."""
    alpha, alpha_pw = await server.team("Alpha")
    beta, beta_pw = await server.team("Beta")
    url = f"{server.url}/reveal/"
    limit = server.services.logins.pair_limit
    async with client_from("127.0.0.50") as client:
        for n in range(limit):
            status, body, _ = await post(url, reveal_form(alpha, f"guess{n}", 3, 1), session=client)
            assert_error(status, body, 401)
        status, body, headers = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=client)
        message = assert_error(status, body, 429, "too many failed logins", "other teams are not affected")
        assert 1 <= int(headers["Retry-After"]) <= 60 and f"wait {headers['Retry-After']} s" in message
        status, body, _ = await post(f"{server.url}/submit/", submit_form(alpha, alpha_pw, 3, b"0\n"), session=client)
        assert_error(status, body, 429)
        status, body, _ = await post(url, reveal_form(beta, beta_pw, 3, 1), session=client)
        assert status == 200, body
    async with client_from("127.0.0.51") as elsewhere:
        status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=elsewhere)
        assert status == 200, body


async def test_per_team_limit_cannot_lock_a_rival_out(server):
    """Failures on one team from many addresses refuse those addresses on that team; an address
    that never failed on it (the team's own script) still logs in."""
    alpha, alpha_pw = await server.team("Rival Target")
    url = f"{server.url}/reveal/"
    limiter = server.services.logins
    attackers = [f"127.0.0.{10 + n}" for n in range(limiter.team_limit)]
    for address in attackers:  # one failure each: no address reaches the per-address limit
        async with client_from(address) as client:
            status, body, _ = await post(url, reveal_form(alpha, "guess", 3, 1), session=client)
            assert_error(status, body, 401)
    async with client_from(attackers[0]) as client:
        status, body, _ = await post(url, reveal_form(alpha, "guess again", 3, 1), session=client)
        assert_error(status, body, 429)
    async with client_from("127.0.0.99") as team_script:
        status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=team_script)
        assert status == 200, body


async def test_curl_from_the_venue_after_another_team_was_refused(server):
    careless, _ = await server.team("Careless")
    careful, careful_pw = await server.team("Careful")
    for i in range(server.services.logins.pair_limit + 1):
        await post(f"{server.url}/reveal/", reveal_form(careless, f"x{i}", 3, 1))
    status, body = await curl("-F", f"username={careful}", "-F", f"password={careful_pw}", "-F", "exercise_id=3",
                              "-F", "datum_id=1", f"{server.url}/reveal/")
    assert status == 200, body


async def test_login_limiter_windows(db):
    now = [1000.0]
    store = await Store.open(db)
    try:
        limiter = LoginLimiter(store, pair_limit=2, team_limit=3, window=60, clock=lambda: now[0])
        await limiter.failed("10.0.0.1", "alpha")
        await limiter.check("10.0.0.1", "alpha")
        await limiter.failed("10.0.0.1", "alpha")
        with pytest.raises(TooManyAttempts) as exc:
            await limiter.check("10.0.0.1", "alpha")
        assert 59 <= exc.value.retry_after <= 60
        for other in ("beta", "gamma", "delta"):  # that address, other teams: fine
            await limiter.check("10.0.0.1", other)
        await limiter.check("10.0.0.2", "alpha")  # the team, another address that never failed on it
        await limiter.failed("10.0.0.2", "alpha")  # the team's third failure overall: the team limit
        with pytest.raises(TooManyAttempts):
            await limiter.check("10.0.0.2", "alpha")  # an address that failed on it is refused...
        await limiter.check("10.0.0.3", "alpha")  # ...one that never did is not
        now[0] += 30
        with pytest.raises(TooManyAttempts) as exc:
            await limiter.check("10.0.0.1", "alpha")
        assert 29 <= exc.value.retry_after <= 31
        now[0] += 30.01  # the failures leave the window
        await limiter.check("10.0.0.1", "alpha")
        await limiter.check("10.0.0.2", "alpha")
    finally:
        await store.close()


async def test_login_limiter_forgets_failures_that_left_the_window(db):
    now = [0.0]
    store = await Store.open(db)
    try:
        limiter = LoginLimiter(store, window=1, clock=lambda: now[0])
        for i in range(300):  # a username spray
            await limiter.failed(f"10.0.{i // 256}.{i % 256}", f"user{i}"[:300] * 50)
        now[0] += 2
        await limiter.failed("10.9.9.9", "last")
        assert await store.fetchall("SELECT client, username FROM login_failures") == [("10.9.9.9", "last")]
    finally:
        await store.close()


async def test_successful_logins_are_not_counted(server):
    alpha, alpha_pw = await server.team("Alpha")
    async with aiohttp.ClientSession() as s:
        for i in range(3 * server.services.logins.team_limit):
            status, body, _ = await post(f"{server.url}/reveal/", reveal_form(alpha, alpha_pw, 3, i % 5), session=s)
            assert status == 200, body


async def test_429_leaves_no_unawaited_coroutine(server):
    """Regression (found at f5d9639): reveal()/submit() built the service coroutine before
    _with_login() called logins.check(); on 429 it was dropped ('coroutine ... was never awaited')."""
    alpha, _ = await server.team("Alpha")
    async with aiohttp.ClientSession() as s:
        for i in range(server.services.logins.pair_limit):
            await post(f"{server.url}/reveal/", reveal_form(alpha, f"guess{i}", 3, 1), session=s)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status, _, _ = await post(f"{server.url}/reveal/", reveal_form(alpha, "again", 3, 1), session=s)
            status2, _, _ = await post(f"{server.url}/submit/", submit_form(alpha, "again", 3, b"0\n"), session=s)
            gc.collect()
    assert (status, status2) == (429, 429)
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


# --- a wrong username and a wrong password cannot be told apart ------------------------------

async def _answer(session: aiohttp.ClientSession, url: str, form) -> tuple[int, bytes, dict]:
    async with session.post(url, data=form) as res:
        headers = {k: v for k, v in res.headers.items() if k.lower() != "date"}
        return res.status, await res.read(), headers


async def _trace(tx, callback) -> None:
    tx.conn.set_trace_callback(callback)  # SqliteTx.conn: the database thread's sqlite3 connection


@pytest.mark.parametrize("path", ["/reveal/", "/submit/"])
async def test_wrong_username_and_wrong_password_answer_alike(server, path):
    username, password = await server.team("Known Team")
    url = f"{server.url}{path}"

    def form(user: str, pw: str):
        return reveal_form(user, pw, 3, 1) if path == "/reveal/" else submit_form(user, pw, 3, b"0\n" * 500)

    # SQLite's trace shows each statement run for a request (the same hop functions run on
    # PostgreSQL, whose driver has no such trace across its pool: the answers are compared there)
    statements: list[str] = []
    tracing = server.services.store.dialect == "sqlite"
    if tracing:
        await server.services.store.run(_trace, statements.append)
    try:
        async with aiohttp.ClientSession() as s:
            answers, work = {}, {}
            for kind, user, pw in (("wrong password", username, password + "x"), ("wrong username", "known_teamx", password)):
                statements.clear()
                answers[kind] = await _answer(s, url, form(user, pw))
                # the trace shows bound values: only the username literal (and the times) may differ
                work[kind] = [re.sub(r"'[^']*'|\b\d+\.\d+\b", "?", " ".join(sql.split())) for sql in statements]
    finally:
        if tracing:
            await server.services.store.run(_trace, None)
    assert answers["wrong password"] == answers["wrong username"]  # status, body bytes, headers
    assert answers["wrong password"][0] == 401
    assert work["wrong password"] == work["wrong username"], work
    assert work["wrong password"] or not tracing


async def test_wrong_username_and_wrong_password_take_the_same_time(server):
    """Interleaved requests of both kinds over one connection: their median times agree within a
    generous factor (a wall-clock bound would fail on a busy machine; a ratio of medians of
    interleaved samples does not move with the machine's load)."""
    username, password = await server.team("Timed Team")
    url = f"{server.url}/reveal/"
    times: dict[str, list[float]] = {"password": [], "username": []}
    server.services.logins.pair_limit = server.services.logins.team_limit = 10**9  # keep every sample a 401
    async with aiohttp.ClientSession() as s:
        for i in range(150):
            for kind in ("password", "username") if i % 2 else ("username", "password"):
                user = username if kind == "password" else f"timed_team_{i}"
                form = reveal_form(user, f"wrong{i}", 3, 1)
                start = time.perf_counter()
                status, _, _ = await _answer(s, url, form)
                times[kind].append(time.perf_counter() - start)
                assert status == 401
    ratio = statistics.median(times["username"]) / statistics.median(times["password"])
    assert 0.67 < ratio < 1.5, (ratio, statistics.median(times["username"]), statistics.median(times["password"]))


async def test_concurrent_failures_from_the_venue_keep_other_teams_in(server):
    """Many teams' scripts at once from one address, one of them failing in a loop."""
    teams = [await server.team(f"Busy {i}") for i in range(8)]
    url = f"{server.url}/reveal/"
    async with client_from(VENUE) as venue:
        async def failing():
            return [(await post(url, reveal_form(teams[0][0], "wrong", 3, 1), session=venue))[0] for _ in range(30)]

        async def working(username, password):
            return [(await post(url, reveal_form(username, password, 3, d), session=venue))[0] for d in range(5)]

        results = await asyncio.gather(failing(), *(working(u, p) for u, p in teams[1:]))
    assert set(results[0]) == {401, 429}
    assert all(statuses == [200] * 5 for statuses in results[1:])


# --- behind a reverse proxy (HACKBOT_TRUSTED_PROXIES) ----------------------------------------

async def test_behind_a_trusted_proxy_the_limit_keys_on_the_forwarded_client(server):
    alpha, alpha_pw = await server.team("Proxied")
    proxied = await start_web(server.services, "127.0.0.1", 0, trusted_proxies=parse_proxies("127.0.0.1, ::1"))
    try:
        url = f"http://127.0.0.1:{proxied.addresses[0][1]}/reveal/"

        def via(client: str) -> dict:  # as nginx sends it: what the client claimed, then its address
            return {"X-Forwarded-For": f"198.51.100.77, {client}"}

        async with aiohttp.ClientSession() as s:
            for i in range(server.services.logins.pair_limit):
                status, _, _ = await post(url, reveal_form(alpha, f"typo{i}", 3, 1), session=s, headers=via("203.0.113.5"))
                assert status == 401
            status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=s, headers=via("203.0.113.5"))
            assert_error(status, body, 429, "too many failed logins")
            # another client behind the same proxy (the same peer address) is not refused
            status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=s, headers=via("203.0.113.6"))
            assert status == 200, body
            # the address the client put in the header itself is never the key
            status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=s,
                                         headers={"X-Forwarded-For": "203.0.113.5, 203.0.113.9"})
            assert status == 200, body
    finally:
        await proxied.cleanup()


async def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(server):
    alpha, alpha_pw = await server.team("Spoofer")
    url = f"{server.url}/reveal/"
    async with aiohttp.ClientSession() as s:
        for i in range(server.services.logins.pair_limit):  # a new forged address each time
            status, _, _ = await post(url, reveal_form(alpha, f"typo{i}", 3, 1), session=s,
                                      headers={"X-Forwarded-For": f"203.0.113.{i}"})
            assert status == 401
        status, body, _ = await post(url, reveal_form(alpha, alpha_pw, 3, 1), session=s,
                                     headers={"X-Forwarded-For": "203.0.113.200"})
        assert_error(status, body, 429)


def test_trusted_proxies_setting_is_parsed_or_refused_by_name():
    assert [str(n) for n in parse_proxies("127.0.0.1, 10.0.0.0/8 ::1")] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert parse_proxies(None) == () and parse_proxies("  ") == ()
    with pytest.raises(ValueError, match="'nginx' is neither an IP address nor a network"):
        parse_proxies("127.0.0.1,nginx")


async def test_an_unknown_username_is_limited_as_a_known_one(server):
    """The limiter's gate is read in the login statement: a username that does not exist meets
    the same limit (a 429 after the same failures), so the limit does not tell them apart."""
    known, _ = await server.team("Known For Limits")
    url = f"{server.url}/reveal/"
    answers = {}
    async with aiohttp.ClientSession() as s:
        for user in (known, "nobody_by_that_name"):
            answers[user] = [(await post(url, reveal_form(user, f"typo{i}", 3, 1), session=s))[0]
                             for i in range(server.services.logins.pair_limit + 2)]
    assert answers[known] == answers["nobody_by_that_name"] == [401] * server.services.logins.pair_limit + [429] * 2
