"""A burst of /reveal: many users, one second, the real bot. Shared by tests/e2e and
benchmarks/bench_burst.py.

Teams are formed in the database before the bot starts (the burst measures /reveal, not team
creation); every member of a team reveals a different datum of the same dataset, so each team
asks for more labels than its budget and exactly `budget` answers per team carry a label.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from pathlib import Path

from bot.config import load_event
from bot.core.services import Services
from bot.sandbox.client import BotProcess, Sandbox, until
from bot.sandbox.events import write_e2e_event
from bot.sandbox.state import ACK_DEADLINE, Interaction


@dataclass
class BurstResult:
    interactions: list[Interaction]
    labels_per_team: dict[str, int]
    budget: int
    spread: float  # seconds between the first and the last dispatch

    @property
    def latencies(self) -> list[float]:
        return sorted(i.acknowledged for i in self.interactions if i.acknowledged is not None)

    def percentile(self, p: float) -> float:
        values = self.latencies
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    @property
    def failed(self) -> list[Interaction]:
        return [i for i in self.interactions if i.failed or i.errors]

    def summary(self) -> str:
        lat = self.latencies
        return (
            f"{len(self.interactions)} /reveal in {self.spread:.2f} s: acknowledged {len(lat)}, failed {len(self.failed)}; "
            f"ack latency p50 {self.percentile(50) * 1000:.0f} ms, p99 {self.percentile(99) * 1000:.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms, mean {statistics.mean(lat) * 1000:.0f} ms (Discord allows {ACK_DEADLINE:.0f} s); "
            f"labels per team <= budget {self.budget}: {max(self.labels_per_team.values()) <= self.budget}"
        )


async def seed_teams(config_path: Path, db: Path, sandbox: Sandbox, teams: int, size: int) -> dict[str, list]:
    """`teams` open teams of `size` members each, in the database and in the double's guild."""
    services = await Services.open(load_event(config_path), db)
    rosters: dict[str, list] = {}
    try:
        for t in range(teams):
            members = [sandbox.user(f"t{t}m{m}") for m in range(size)]
            name = f"Burst{t:03d}"
            await services.teams.create(name, captain=str(members[0].user.id))
            await services.roster.set_open(str(members[0].user.id), True)
            for member in members[1:]:
                await services.roster.join(str(member.user.id), name, None)
            rosters[name] = members
    finally:
        await services.close()
    return rosters


async def outbox_drained(config_path: Path, db: Path, timeout: float = 120.0) -> None:
    """Wait until the bot has sent the Discord side effects of the seeded teams."""
    services = await Services.open(load_event(config_path), db)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not (await services.outbox.status()).drained:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the bot did not send the seeded teams' side effects in time")
            await asyncio.sleep(0.2)
    finally:
        await services.close()


async def burst(sandbox: Sandbox, rosters: dict[str, list], *, dataset_id: int, budget: int,
                window: float = 1.0, timeout: float = 60.0) -> BurstResult:
    users = [(team, n, member) for team, members in rosters.items() for n, member in enumerate(members)]
    sent: list[tuple[str, Interaction]] = []
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(k: int, team: str, n: int, member) -> None:
        await asyncio.sleep(window * k / len(users))
        sent.append((team, await sandbox.invoke(member, "reveal", exercise_id=dataset_id, datum_id=n)))

    await asyncio.gather(*(one(k, *u) for k, u in enumerate(users)))
    spread = loop.time() - start
    await until(lambda: all(i.messages() and i.messages()[0].text() for _, i in sent), timeout,
                "every /reveal of the burst to be answered")
    labels: dict[str, int] = {team: 0 for team in rosters}
    for team, interaction in sent:
        if "label **" in interaction.messages()[0].text():
            labels[team] += 1
    return BurstResult([i for _, i in sent], labels, budget, spread)


async def run_burst(folder: Path, *, teams: int = 60, size: int = 5, budget: int = 3,
                    window: float = 1.0) -> tuple[BurstResult, str]:
    """The whole measurement in `folder`: event file, double, bot process, burst; and the bot's log."""
    config = write_e2e_event(folder / "event", budget=budget, max_size=size, reminder_in="now+30d", before="1h")
    db = folder / "hackbot.sqlite3"
    async with Sandbox() as sandbox:
        rosters = await seed_teams(config, db, sandbox, teams, size)
        process = BotProcess(sandbox, config, db, folder / "bot.log")
        await process.sync()
        await process.start()
        try:
            await outbox_drained(config, db)  # the teams' spaces and welcomes: not part of the burst
            return await burst(sandbox, rosters, dataset_id=3, budget=budget, window=window), process.output()
        finally:
            await process.stop()
