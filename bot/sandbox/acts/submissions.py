"""Halfway through each phase, every active team submits each dataset with /submit and confirms."""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np

from bot.config import EventConfig
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal, SimTeam


class Submissions(Act):
    name = "submissions"

    def __init__(self) -> None:
        self.submitted = 0
        self.refused: list[str] = []

    def applies(self, config: EventConfig) -> bool:
        return bool(config.datasets)

    def moments(self, play: Rehearsal) -> list[Moment]:
        found = []
        for phase in play.config.phases:
            if not play.config.datasets_in_phase(phase.id):
                continue
            starts, ends = play.phase_window(phase)
            asks = 2 * min(play.cast.active or play.cast.teams, play.cast.teams) * len(play.config.datasets_in_phase(phase.id))
            found.append(Moment(starts + (ends - starts) * 0.5, 40, self._submit_all(play, phase), asks * ASK_SECONDS,
                                f"submissions in phase {phase.id}"))
        return found

    @staticmethod
    def predictions(play: Rehearsal, phase, ds, team: SimTeam) -> bytes:
        folder = next(f for f in play.config.resolve(phase.data_dir).iterdir()
                      if f.name.split("_", 1)[0].isdigit() and int(f.name.split("_", 1)[0]) == ds.id)
        y = np.load(folder / "y_val.npy")
        rng = random.Random(f"{team.name}{ds.id}{phase.id}")
        labels = sorted({int(v) for v in y})
        guesses = [int(v) if rng.random() < team.skill else rng.choice(labels) for v in y]
        return ("\n".join(map(str, guesses)) + "\n").encode()

    def _submit_all(self, play: Rehearsal, phase):
        async def submit_all() -> None:
            sandbox = play.sandbox
            for team in play.active_teams:
                for ds in play.config.datasets_in_phase(phase.id):
                    asked = await sandbox.invoke(team.captain, "submit", exercise_id=ds.id,
                                                 file=("predictions.csv", self.predictions(play, phase, ds, team)))
                    play.interactions += 1
                    question = await sandbox.answer(asked, timeout=30)
                    if not question.buttons():
                        self.refused.append(question.text().splitlines()[0][:100])
                        play.log(f"{team.name}: /submit {ds.id} refused: {question.text().splitlines()[0][:100]}")
                        continue
                    await sandbox.answer(await sandbox.click(team.captain, question, "Submit"), timeout=30)
                    play.interactions += 1
                    self.submitted += 1
                    text = question.text()
                    accuracy = re.search(r"Accuracy \*\*([0-9.]+)\*\*", text)
                    shown = f"accuracy {accuracy.group(1)}" if accuracy else text.splitlines()[0][:80]
                    play.log(f"{team.name} submitted dataset {ds.id}: {shown}")
        return submit_all

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"submitted": self.submitted, "refused": self.refused}


ACT = Submissions()
