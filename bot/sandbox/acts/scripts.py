"""Teams' scripts call the HTTP API, as the Hackathon42 participants' scripts do: just after the
Discord reveals of each phase, every active team's captain gets the API password with /token,
and the team's script asks POST /reveal/ again for the datums it revealed (a re-read answers the
same label and costs nothing) and reads GET /api/leaderboard. The requests go round the web
processes (`hackbot rehearse --web N`), as a proxy in front of them spreads them."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import aiohttp

from bot.config import EventConfig
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal


class Scripts(Act):
    name = "scripts"

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.wrong: list[str] = []  # answers that are not what the API promises

    def applies(self, config: EventConfig) -> bool:
        return any(ds.reveal_budget > 0 for ds in config.datasets)

    def moments(self, play: Rehearsal) -> list[Moment]:
        found = []
        for phase in play.config.phases:
            datasets = [ds for ds in play.config.datasets_in_phase(phase.id) if ds.reveal_budget > 0]
            if not datasets:
                continue
            starts, ends = play.phase_window(phase)
            teams = min(play.cast.active or play.cast.teams, play.cast.teams)
            asks = teams * (1 + sum(ds.reveal_budget for ds in datasets) // 4)  # HTTP is quicker than a slash command
            # after the reveals act's moment (a tenth into the phase, order 30)
            found.append(Moment(starts + (ends - starts) * 0.1, 31, self._run(play, phase, datasets),
                                asks * ASK_SECONDS, f"teams' scripts in phase {phase.id}"))
        return found

    def _run(self, play: Rehearsal, phase, datasets):
        async def run() -> None:
            async with aiohttp.ClientSession() as http:
                for team in play.active_teams:
                    answer = await play.ask(team.captain, "token")
                    username = re.search(r"username: `([^`]+)`", answer)
                    password = re.search(r"password: `([^`]+)`", answer)
                    if username is None or password is None:
                        self.wrong.append(f"{team.name}: /token gave no credentials: {answer.splitlines()[0][:200]}")
                        continue
                    for ds in datasets:
                        for datum in range(ds.reveal_budget):
                            form = {"username": username.group(1), "password": password.group(1),
                                    "exercise_id": str(ds.id), "datum_id": str(datum)}
                            url = play.web_url
                            async with http.post(url + "reveal/", data=form) as response:
                                body = await response.json(content_type=None)
                            play.served(url)
                            self.statuses[response.status] += 1
                            if response.status != 200 or body.get("datum_id") != datum or "label" not in body:
                                self.wrong.append(f"{team.name}: POST /reveal/ dataset {ds.id} datum {datum}: "
                                                  f"{response.status} {str(body)[:200]}")
                    url = play.web_url
                    async with http.get(url + "api/leaderboard") as response:
                        self.statuses[response.status] += 1
                        if response.status != 200:
                            self.wrong.append(f"{team.name}: GET /api/leaderboard: {response.status}")
                    play.served(url)
                play.log(f"{len(play.active_teams)} teams' scripts re-read their labels over HTTP in phase {phase.id}")
        return run

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"requests": sum(self.statuses.values()), "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "wrong": self.wrong[:20]}


ACT = Scripts()
