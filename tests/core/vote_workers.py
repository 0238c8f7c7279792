"""Ballots cast from separate OS processes (see tests/core/workers.py for the pattern): each
process opens its own Services on the same database, waits at the barrier, then casts."""

from __future__ import annotations

import asyncio

from tests.core.workers import BARRIER_TIMEOUT, _open_services, _outcome, _report


def ballot_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
                  ballots: list[tuple]) -> None:
    """ballots: ("discord", user id, [project ids]) or ("code", code, [project ids], address)."""
    from tests.core.vote_helpers import OLD_MEMBER

    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(ballot: tuple):
                try:
                    if ballot[0] == "discord":
                        r = await services.votes.cast_discord("fav", ballot[1], OLD_MEMBER, ballot[2])
                    else:
                        r = await services.votes.cast_code("fav", ballot[1], ballot[2], ballot[3])
                    return ("ok", ballot[0], r.status, r.replaced)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), ballot[0])

            return await asyncio.gather(*(one(b) for b in ballots))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))
