"""bot/pacing.py's channel pace on a clock of the test's own: a channel's window of 5 posts in 5 s
counts from when each post leaves, not from when it was given its turn."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot import pacing


def on_a_test_clock(monkeypatch) -> list[float]:
    clock = [1000.0]

    async def sleep(seconds: float) -> None:
        clock[0] += max(seconds, 0.0)

    monkeypatch.setattr(pacing, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(pacing, "asyncio", SimpleNamespace(Lock=asyncio.Lock, sleep=sleep))
    return clock


async def test_the_sixth_post_waits_five_seconds_after_the_first_one_left(monkeypatch):
    clock = on_a_test_clock(monkeypatch)
    pace = pacing.ChannelPace(limit=5, window=5.0, margin=0.25)
    first = await pace.wait("7")
    clock[0] += 1.0  # held a second by the global pace: it reaches Discord a second after its turn
    pace.left(first)
    left_at = clock[0]
    for _ in range(4):
        pace.left(await pace.wait("7"))
    pace.left(await pace.wait("7"))
    assert clock[0] >= left_at + 5.0  # Discord counts the window from the first post's arrival


async def test_other_channels_do_not_wait(monkeypatch):
    clock = on_a_test_clock(monkeypatch)
    pace = pacing.ChannelPace(limit=5, window=5.0, margin=0.25)
    for _ in range(5):
        pace.left(await pace.wait("7"))
    start = clock[0]
    pace.left(await pace.wait("8"))
    assert clock[0] == start
    pace.left(await pace.wait("7"))
    assert clock[0] >= start + 5.0
