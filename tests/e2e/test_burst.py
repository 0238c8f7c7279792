"""300 users send /reveal within one second to the real bot: every interaction is acknowledged
within Discord's 3 s (the double refuses later answers, as Discord does), and the budget holds."""

from __future__ import annotations

from bot.sandbox.burst import run_burst


async def test_three_hundred_reveals_in_one_second(tmp_path):
    result, log = await run_burst(tmp_path, teams=60, size=5, budget=3, window=1.0)
    assert len(result.interactions) == 300
    assert not result.failed, f"{[i.summary() for i in result.failed][:5]}\n{log[-3000:]}"
    # five members asked for five different labels: exactly the budget (3) was given per team
    assert set(result.labels_per_team.values()) == {3}, result.labels_per_team
    print(result.summary())
