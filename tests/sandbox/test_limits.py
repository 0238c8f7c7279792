"""Rate limits (per-route buckets, the global 50 a second, Discord's headers and 429 bodies) and
the faults a test injects on a named route."""

from __future__ import annotations

import asyncio
import random
import socket
import time

from bot.sandbox import ratelimit


async def test_a_channels_message_bucket_counts_down_then_429(sandbox, raw):
    remaining = []
    for n in range(5):
        status, _, headers = await raw.send({"content": f"m{n}"})
        assert status == 200
        remaining.append(int(headers["X-RateLimit-Remaining"]))
        assert headers["X-RateLimit-Limit"] == "5" and headers["X-RateLimit-Bucket"]
        assert float(headers["X-RateLimit-Reset-After"]) <= 5.0 and float(headers["X-RateLimit-Reset"]) > time.time()
    assert remaining == [4, 3, 2, 1, 0]
    status, body, headers = await raw.send({"content": "one too many"})
    assert status == 429 and body["global"] is False and body["code"] == 0 and 0 < body["retry_after"] <= 5
    assert headers["X-RateLimit-Scope"] == "user" and headers["Via"] and int(headers["Retry-After"]) >= 1
    assert sandbox.state.refusals()[-1].status == 429 and "bucket" in sandbox.state.refusals()[-1].reason
    status, _, _ = await raw.send({"content": "another channel"}, "announcements")
    assert status == 200  # buckets are per channel


def test_the_global_limit_is_50_a_second_and_interactions_are_exempt():
    now = [0.0]
    limiter = ratelimit.RateLimiter(clock=lambda: now[0])
    verdicts = [limiter.check("POST /channels/{channel}/messages", f"c{n}") for n in range(51)]
    assert all(v.allowed for v in verdicts[:50])
    assert not verdicts[50].allowed and verdicts[50].global_
    assert verdicts[50].headers["X-RateLimit-Global"] == "true" and verdicts[50].headers["X-RateLimit-Scope"] == "global"
    assert limiter.check("POST /interactions/{id}/{token}/callback", "i1").allowed
    now[0] = 1.01
    assert limiter.check("POST /channels/{channel}/messages", "c99").allowed


def test_requests_count_when_they_arrived_not_when_a_backlog_is_handled():
    """A stalled loop handles the requests that arrived meanwhile in a bunch, and nearly in order:
    counted at their arrival, 45 a second stay under the global 50; counted at handling, the
    second that ends after the stall held 1.3 s of them (the 2,500-team rehearsal's 429)."""
    now = [100.0]
    limiter = ratelimit.RateLimiter(clock=lambda: now[0])
    arrivals = [n / 45 for n in range(90)]  # the bot's pace, 2 s of it
    stalled = [t for t in arrivals if t < 0.3]  # arrived while the loop was stalled
    handled = stalled[::-1] + [t for t in arrivals if t >= 0.3]  # handled after it, not quite in order
    for t in handled:
        now[0] = max(t, 0.3)  # the handler runs at the end of the stall, or as the request comes
        assert limiter.check("GET /users/@me", f"m{t}", now=t).allowed
    counted_late = ratelimit.RateLimiter(clock=lambda: now[0])
    verdicts = []
    for t in handled:
        now[0] = max(t, 0.3)
        verdicts.append(counted_late.check("GET /users/@me", f"m{t}"))
    assert not all(v.allowed for v in verdicts)  # what the double did before: a 429 to a bot within the limits


def test_51_arrivals_in_a_second_are_refused_in_whatever_order_they_are_handled():
    limiter = ratelimit.RateLimiter(clock=lambda: 10.0)
    arrivals = [n / 51 for n in range(51)]  # 51 within 1 s
    order = list(arrivals)
    random.Random(4).shuffle(order)
    verdicts = [limiter.check("GET /users/@me", f"m{t}", now=t) for t in order]
    assert sum(not v.allowed for v in verdicts) == 1
    refused = next(v for v in verdicts if not v.allowed)
    assert refused.global_ and 0 < refused.retry_after <= 1.0


async def test_a_backlog_after_the_loop_stalled_is_counted_as_it_arrived(sandbox):
    """The bot sends 40 requests a second over its pooled connections while the double's loop
    is stalled (a garbage collection of the driver's heap, in a rehearsal): the stall's backlog
    is handled at once, and still nothing is refused, since the kernel stamped each request's
    arrival. The sender is a thread of its own, so the stall does not hold it."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    request = (f"GET /api/v10/users/@me HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bot {sandbox.token}\r\n"
               "Content-Length: 0\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    warm = asyncio.Event()

    def read_answer(conn: socket.socket) -> int:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        while len(rest) < length:
            rest += conn.recv(65536)
        return int(head.split(b" ")[1])

    def bot(n: int = 80) -> list[int]:
        conns = [socket.create_connection((host, int(port))) for _ in range(n)]
        try:
            for conn in conns:  # pooled connections, accepted by the double before the stall
                conn.sendall(f"GET /attachments/0/none HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode())
                read_answer(conn)
            loop.call_soon_threadsafe(warm.set)
            for conn in conns:
                conn.sendall(request)
                time.sleep(1 / 40)  # at least 25 ms apart, whatever the machine does
            return [read_answer(conn) for conn in conns]
        finally:
            for conn in conns:
                conn.close()

    sent = asyncio.create_task(asyncio.to_thread(bot))
    await warm.wait()
    time.sleep(0.6)  # noqa: ASYNC251  # the double's loop stalls, on purpose: the thread sends meanwhile
    statuses = await sent
    assert statuses == [200] * len(statuses)
    assert sandbox.state.refusals() == []


async def test_faults_on_a_named_route(sandbox, raw):
    route = "POST /channels/{channel}/messages"
    sandbox.faults.forbid(route)
    status, body, _ = await raw.send({"content": "hi"})
    assert (status, body["code"]) == (403, 50013)
    assert (await raw.send({"content": "hi"}))[0] == 200  # once
    sandbox.faults.server_error(route, status=502, where=str(raw.channel("announcements")))
    assert (await raw.send({"content": "hi"}))[0] == 200  # another channel
    assert (await raw.send({"content": "hi"}, "announcements"))[0] == 502
    sandbox.faults.rate_limit(route, 0.25, global_=True)
    status, body, _ = await raw.send({"content": "hi"})
    assert status == 429 and body["retry_after"] == 0.25 and body["global"] is True
    sandbox.faults.slow(route, 0.3, times=1)
    started = time.monotonic()
    assert (await raw.send({"content": "slow"}, "hackbot-log"))[0] == 200
    assert time.monotonic() - started >= 0.3
    assert [r.status for r in sandbox.state.refusals(injected=True)] == [403, 502, 429]
    assert sandbox.state.refusals() == []  # nothing the bot caused
