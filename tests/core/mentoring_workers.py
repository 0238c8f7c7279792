"""The help queue and the perks under concurrency, in separate OS processes (multiprocessing,
"spawn"), and the small event their tests share. Plain functions (no pytest) so that spawned
processes can import them. Each worker reports through tests/core/workers.py's protocol."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from tests.core.workers import BARRIER_TIMEOUT, _outcome, _report

TAGS = ["Build", "Train", "Analyse", "Modal"]


def mentoring_toml(*, escalation: str | None = None, stale_after: str = "3h", perks: str = "",
                   assign: bool = True) -> str:
    steps = escalation if escalation is not None else (
        'escalation = [{after = "0m", notify = "specialists"}, {after = "10m", notify = "mentors"},'
        ' {after = "30m", notify = "organizers"}]'
    )
    return f"""
[event]
name = "Mentoring test"
timezone = "UTC"

[teams]
min_size = 1
max_size = 5

[mentoring]
tags = {TAGS!r}
{steps}
stale_after = "{stale_after}"
assign_to_teams = {str(assign).lower()}
{perks}
""".replace("'", '"')


def write_mentoring_event(folder: Path, **options) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(mentoring_toml(**options), encoding="utf-8")
    return path


async def _services(config_path: str, db_path: str, now_iso: str):
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.helpers import Clock

    return await Services.open(load_event(config_path), db_path, clock=Clock(datetime.fromisoformat(now_iso)))


def claim_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
                 number: int, mentors: list[str]) -> None:
    """Each mentor claims ticket `number` at once. ("ok", mentor) or (error, message, mentor, holder)."""
    async def main():
        services = await _services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(mentor: str):
                try:
                    claim = await services.mentoring.claim(number, mentor)
                    return ("ok", claim.mentor)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), mentor, getattr(exc, "holder", None))

            return await asyncio.gather(*(one(m) for m in mentors))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


def open_ticket_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
                       users: list[str]) -> None:
    """Each user (members of one team) opens a ticket at once. ("ok", number) or (error, message, number)."""
    async def main():
        services = await _services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(user: str):
                try:
                    spot = await services.mentoring.open_ticket(user, f"help from {user}", ["Train"], "table 4")
                    return ("ok", spot.ticket.number)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), getattr(exc, "number", None))

            return await asyncio.gather(*(one(u) for u in users))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


def perk_claim_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue,
                      perk: str, users: list[str]) -> None:
    """Each user claims the perk at once. ("ok", user, code) or (error, message, user)."""
    async def main():
        services = await _services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)

            async def one(user: str):
                try:
                    claim = await services.perks.claim(perk, user)
                    return ("ok", user, claim.code)
                except Exception as exc:  # noqa: BLE001
                    return (*_outcome(exc), user)

            return await asyncio.gather(*(one(u) for u in users))
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))


def escalation_tick_worker(index: int, config_path: str, db_path: str, barrier, queue, times_iso: list[str]) -> None:
    """A TicketRunner of its own: at each shared fake time, wait for the others, then tick.
    Returns (time index, ticket, kind, step) per notice it sent."""
    from bot.config import load_event
    from bot.core.services import Services
    from bot.core.ticket_escalation import TicketRunner
    from tests.core.helpers import Clock

    async def main():
        clock = Clock(datetime.fromisoformat(times_iso[0]))
        services = await Services.open(load_event(config_path), db_path, clock=clock)
        sent: list[tuple[int, int, str, int | None]] = []
        at = [0]

        async def notify(notice) -> None:
            sent.append((at[0], notice.ticket.number, notice.kind, notice.step))

        runner = TicketRunner(services.mentoring, notify)
        try:
            for i, when in enumerate(times_iso):
                clock.set(datetime.fromisoformat(when))
                at[0] = i
                barrier.wait(BARRIER_TIMEOUT)
                await runner.tick()
            return sent
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))
