"""Each phase opens: the transcript says so at its start (the bot announces it by itself)."""

from __future__ import annotations

from typing import Any

from bot.config import EventConfig
from bot.sandbox.rehearse import Act, Moment, Rehearsal


class Phases(Act):
    name = "phases"

    def applies(self, config: EventConfig) -> bool:
        return bool(config.phases)

    def moments(self, play: Rehearsal) -> list[Moment]:
        def opens(phase):
            async def log() -> None:
                play.log(f"phase {phase.id} ({phase.name or phase.id}) starts")
            return log

        # the event file's copy holds real times (compressed): moments are in event time
        return [Moment(play.timeline.event(phase.starts), 20, opens(phase)) for phase in play.config.phases]

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"phases": [p.id for p in play.config.phases]}


ACT = Phases()
