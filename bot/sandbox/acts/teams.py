"""Teams form at the start of the event: each captain runs /team create, the others /team join;
where the event asks for it, an organizer validates each team (/admin team validate). Past 50
teams, several teams form at once (people do not wait for each other), each team in order."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from bot.config import EventConfig
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal, SimTeam

AT_ONCE = 8  # teams forming at the same time in a large rehearsal


class FormTeams(Act):
    name = "teams"

    def __init__(self) -> None:
        self.refused: list[str] = []
        self.done = 0
        self.members = 0
        self.threads = 0
        self.seconds = 0.0

    def applies(self, config: EventConfig) -> bool:
        return True

    def moments(self, play: Rehearsal) -> list[Moment]:
        people = play.cast.people
        asks = people + play.cast.teams * play.config.teams.require_validation
        # room for a small cast; thousands of teams form for as long as they take (the benchmark's measure)
        takes = min(asks * ASK_SECONDS, 60.0)
        return [Moment(play.timeline.start, 10, lambda: self.form(play), takes, "teams form")]

    async def form(self, play: Rehearsal) -> None:
        started = time.monotonic()
        config, cast = play.config, play.cast
        sizes = cast.sizes(config.teams.min_size, config.teams.max_size)
        quiet = cast.teams > 50  # past 50 teams the transcript says how many, not each one
        formed: list[SimTeam | None] = [None] * cast.teams
        gate = asyncio.Semaphore(AT_ONCE if quiet else 1)

        async def one(n: int) -> None:
            async with gate:
                members = [play.sandbox.user(f"team{n + 1}-{m + 1}") for m in range(sizes[n])]
                team = SimTeam(f"Rehearsal {n + 1}", members, skill=max(0.3, 0.95 - 0.12 * n))
                answer = await play.ask(team.captain, "team create", name=team.name)
                code = re.search(r"Join code: `([^`]+)`", answer)
                if code is None:
                    self.refused.append(answer.splitlines()[0])
                    play.log(f"{team.name}: /team create refused: {answer.splitlines()[0]}")
                    return
                for member in members[1:]:
                    joined = await play.ask(member, "team join", team=team.name, code=code.group(1))
                    if "joined" not in joined.lower():
                        self.refused.append(joined.splitlines()[0])
                if config.teams.require_validation:  # the organizers check the team, as the event asks
                    await play.ask(play.organizer, "admin team validate", name=team.name)
                formed[n] = team
                self.done += 1
                if not quiet:
                    play.log(f"team {team.name} formed ({len(members)} members)")
                elif self.done % 100 == 0:
                    play.log(f"{self.done} teams formed")

        await asyncio.gather(*(one(n) for n in range(cast.teams)))
        play.teams.extend(team for team in formed if team is not None)  # in order: the active ones are the first
        self.members = sum(len(team.members) for team in play.teams)
        self.threads = len(play.sandbox.state.threads())
        self.seconds = time.monotonic() - started
        if quiet:
            play.log(f"{len(play.teams)} teams of {self.members} people formed "
                     f"({self.threads} in private threads past the channel cap)")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        state = play.sandbox.state
        return {"formed": len(play.teams), "members": self.members, "refused": self.refused, "in_threads": self.threads,
                "seconds": round(self.seconds, 1),
                "server_channels": len(state.guild_channels()), "server_roles": len(state.roles)}


ACT = FormTeams()
