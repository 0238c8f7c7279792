"""A tenth into each phase, every active team reveals until its budgets are spent, and once more:
that one is refused."""

from __future__ import annotations

from typing import Any

from bot.config import EventConfig
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal


class Reveals(Act):
    name = "reveals"

    def __init__(self) -> None:
        self.labels = 0
        self.refused = 0

    def applies(self, config: EventConfig) -> bool:
        return any(ds.reveal_budget > 0 for ds in config.datasets)

    def moments(self, play: Rehearsal) -> list[Moment]:
        found = []
        for phase in play.config.phases:
            if not play.config.datasets_in_phase(phase.id):
                continue
            starts, ends = play.phase_window(phase)
            asks = min(play.cast.active or play.cast.teams, play.cast.teams) * sum(
                ds.reveal_budget + 1 for ds in play.config.datasets_in_phase(phase.id))
            found.append(Moment(starts + (ends - starts) * 0.1, 30, self._reveal_all(play, phase), asks * ASK_SECONDS,
                                f"reveals in phase {phase.id}"))
        return found

    def _reveal_all(self, play: Rehearsal, phase):
        async def reveal_all() -> None:
            for team in play.active_teams:
                spent = 0
                for ds in play.config.datasets_in_phase(phase.id):
                    for datum in range(ds.reveal_budget + 1):  # one more than the budget: refused
                        member = team.members[datum % len(team.members)]
                        answer = await play.ask(member, "reveal", exercise_id=ds.id, datum_id=datum)
                        got = "label **" in answer
                        spent += got
                        self.refused += not got
                self.labels += spent
                play.log(f"{team.name} revealed {spent} labels in phase {phase.id} (budgets spent, one more refused)")
        return reveal_all

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"labels": self.labels, "refused_as_expected": self.refused}


ACT = Reveals()
