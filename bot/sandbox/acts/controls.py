"""Competition controls (issue 16), where the event file sets them: after the first round of
submissions, the organizers add a baseline with `hackbot baseline add` (the command an
organizer runs), every team submits again on each dataset that takes several submissions
(/submit), and picks its first one with /final-pick where the dataset counts the team's pick.
The report's `controls`: the extra submissions, the refusals and their reasons, the picks, the
baseline, and the board as the API shows it (its kind, the baseline unranked, no private score)."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any

import aiohttp

from bot.config import EventConfig
from bot.sandbox.acts.submissions import Submissions
from bot.sandbox.rehearse import Act, Moment, Rehearsal

BASELINE = "Rehearsal baseline"


def _controlled(config: EventConfig):
    return [ds for ds in config.datasets
            if not ds.submissions.one_shot or ds.private_fraction > 0 or ds.counts == "final_pick"]


class Controls(Act):
    name = "controls"

    def __init__(self) -> None:
        self.again = 0
        self.refused: list[str] = []
        self.picks: list[str] = []
        self.baseline = ""
        self.scores_in_replies = 0
        self.board: dict[str, Any] = {}

    def applies(self, config: EventConfig) -> bool:
        return bool(_controlled(config))

    def moments(self, play: Rehearsal) -> list[Moment]:
        found = []
        for phase in play.config.phases:
            datasets = [ds for ds in _controlled(play.config) if play.config.dataset_in_phase(ds, phase.id)]
            if not datasets:
                continue
            starts, ends = play.phase_window(phase)
            found.append(Moment(starts + (ends - starts) * 0.6, 45, self._play(play, phase, datasets)))
            found.append(Moment(starts + (ends - starts) * 0.9, 45, self._read_board(play, phase)))
        return found

    def _play(self, play: Rehearsal, phase, datasets):
        async def play_controls() -> None:
            sandbox = play.sandbox
            first = datasets[0]
            baseline = play.config.base_dir / "baseline.csv"
            ordered = sorted(play.teams, key=lambda t: t.skill)
            if ordered:  # the least skilled team's guesses stand in for an organizers' simple baseline
                baseline.write_bytes(Submissions.predictions(play, phase, first, ordered[0]))
                command = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "baseline", "add", str(first.id), str(baseline),
                    "--name", BASELINE, "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )
                out, err = await command.communicate()
                self.baseline = out.decode().strip() or err.decode().strip()
                play.log(f"organizers: hackbot baseline add {first.id}: {self.baseline[:100]}")
            for team in play.active_teams:
                for ds in datasets:
                    if ds.submissions.one_shot:
                        continue
                    asked = await sandbox.invoke(team.captain, "submit", exercise_id=ds.id,
                                                 file=("again.csv", Submissions.predictions(play, phase, ds, team)))
                    play.interactions += 1
                    question = await sandbox.answer(asked, timeout=30)
                    if not question.buttons():
                        self.refused.append(question.text().splitlines()[0][:100])
                        continue
                    answer = await sandbox.answer(await sandbox.click(team.captain, question, "Submit"), timeout=30)
                    play.interactions += 1
                    self.again += 1
                    if ds.visibility_in(phase.id, play.config.leaderboard.visibility) == "blind" and \
                            re.search(r"ccuracy \*\*", answer.text()):
                        self.scores_in_replies += 1
                    play.log(f"{team.name} submitted dataset {ds.id} again: {answer.text().splitlines()[0][:80]}")
                    if ds.counts == "final_pick":
                        picked = await play.ask(team.captain, "final-pick", exercise_id=ds.id, number=1)
                        self.picks.append(picked.splitlines()[0][:100])
                        play.log(f"{team.name}: /final-pick {ds.id} 1: {picked.splitlines()[0][:80]}")
        return play_controls

    def _read_board(self, play: Rehearsal, phase):
        async def read_board() -> None:
            url = f"{play.web_url.rstrip('/')}/api/leaderboard"
            async with aiohttp.ClientSession() as session, session.get(url, params={"phase": phase.id}) as res:
                if res.status != 200:
                    self.board = {"error": f"GET /api/leaderboard answered {res.status}"}
                    return
                board = await res.json()
            rows = board.get("teams", [])
            self.board = {
                "board": board.get("board"),
                "baselines": [r["team"] for r in rows if r.get("kind") == "baseline"],
                "baselines_ranked": any(r.get("kind") == "baseline" and r.get("rank") is not None for r in rows),
                "label_versions": board.get("label_versions"),
            }
        return read_board

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"submitted_again": self.again, "refused": self.refused, "picks": self.picks,
                "baseline": self.baseline, "scores_in_blind_replies": self.scores_in_replies, "board": self.board}


ACT = Controls()
