"""Judging under concurrency, in separate OS processes: one process declares conflicts while
another writes reviews of the same judge and teams. Plain functions, importable when spawned."""

from __future__ import annotations

import asyncio

from tests.core.workers import BARRIER_TIMEOUT, _open_services, _report


def conflict_or_review_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
                              role: str, judge: str, teams: list[int]) -> None:
    """role "conflict": the judge declares a conflict with every team at once (the reviews each
    ended); role "review": the judge's reviews of every team written straight into the table at
    once, ("ok", team) or ("refused", team)."""
    async def main():
        from bot.core.store import IntegrityError

        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def review(team: int):
                try:
                    await services.store.execute(
                        "INSERT INTO review_assignments(round, judge, team_id, assigned_at) VALUES ('initial', ?, ?, 0)",
                        (judge, team))
                    return ("ok", team)
                except IntegrityError:
                    return ("refused", team)

            if role == "conflict":
                return await asyncio.gather(*(services.judging.declare_conflict(judge, t) for t in teams))
            return await asyncio.gather(*(review(t) for t in teams))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))
