"""Teams form at the start of the event: each captain runs /team create, the others /team join;
where the event asks for it, an organizer validates each team (/admin team validate)."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.config import EventConfig
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal, SimTeam


class FormTeams(Act):
    name = "teams"

    def __init__(self) -> None:
        self.refused: list[str] = []
        self.threads = 0
        self.seconds = 0.0

    def applies(self, config: EventConfig) -> bool:
        return True

    def moments(self, play: Rehearsal) -> list[Moment]:
        asks = play.cast.size + play.config.teams.require_validation
        # room for a small cast; thousands of teams form for as long as they take (the benchmark's measure)
        takes = min(play.cast.teams * asks * ASK_SECONDS, 60.0)
        return [Moment(play.timeline.start, 10, lambda: self.form(play), takes, "teams form")]

    async def form(self, play: Rehearsal) -> None:
        started = time.monotonic()
        config, cast = play.config, play.cast
        size = max(config.teams.min_size, min(cast.size, config.teams.max_size))
        quiet = cast.teams > 50  # past 50 teams the transcript says how many, not each one
        for n in range(cast.teams):
            members = [play.sandbox.user(f"team{n + 1}-{m + 1}") for m in range(size)]
            team = SimTeam(f"Rehearsal {n + 1}", members, skill=max(0.3, 0.95 - 0.12 * n))
            answer = await play.ask(team.captain, "team create", name=team.name)
            code = re.search(r"Join code: `([^`]+)`", answer)
            if code is None:
                self.refused.append(answer.splitlines()[0])
                play.log(f"{team.name}: /team create refused: {answer.splitlines()[0]}")
                continue
            for member in members[1:]:
                await play.ask(member, "team join", team=team.name, code=code.group(1))
            if config.teams.require_validation:  # the organizers check the team, as the event asks
                await play.ask(play.organizer, "admin team validate", name=team.name)
            play.teams.append(team)
            if not quiet:
                play.log(f"team {team.name} formed ({len(members)} members)")
            elif len(play.teams) % 100 == 0:
                play.log(f"{len(play.teams)} teams formed")
        self.threads = len(play.sandbox.state.threads())
        self.seconds = time.monotonic() - started
        if quiet:
            play.log(f"{len(play.teams)} teams formed ({self.threads} in private threads past the channel cap)")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        state = play.sandbox.state
        return {"formed": len(play.teams), "refused": self.refused, "in_threads": self.threads,
                "seconds": round(self.seconds, 1),
                "server_channels": len(state.guild_channels()), "server_roles": len(state.roles)}


ACT = FormTeams()
