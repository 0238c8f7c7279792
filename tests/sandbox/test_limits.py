"""Rate limits (per-route buckets, the global 50 a second, Discord's headers and 429 bodies) and
the faults a test injects on a named route."""

from __future__ import annotations

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
