"""Judges play every round of [judging]: members with each panel's role run /judge next, score
the project it shows with /judge score (rubric rounds; levels from the team's skill, a judge's
own generosity and some noise), rank their list with /judge rank (ranking rounds) or pick the
better of the two projects it shows with /judge choose (pairwise rounds), and check
/judge progress. One judge recuses from a team, and `hackbot judging check` runs before each
round. Where a round hears teams who ask to pitch, the weakest team asks (/project pitch) before
the round's pool is final, twice (the second answer says it asked already). The report's
`judging`: the scores given, refused answers, recusals, each round's order as `hackbot judging
results` computes it, the interviews (slots seen, members told and reminded) and the pitches.

Projects: the rounds judge eligible projects, handed in by the projects act (/project submit,
then /admin moderate). A team without any project when judging starts gets one from
`stand_in_projects`, written straight into the bot's database (counted in the report).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import sys
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.config import EventConfig, JudgingRound
from bot.core.judging import pool_final_at
from bot.core.store import Store
from bot.sandbox.rehearse import ASK_SECONDS, CLI_SECONDS, Act, Moment, Rehearsal

MAX_JUDGES = 4  # per panel: enough for 3 reviews a project, few enough to play in seconds
_SCORE_LINE = re.compile(r"/judge score team:(.+?) scores:")
_INTERVIEWS = re.compile(r"\*\*: (\d+) interview\(s\)")
_RANK_LINE = re.compile(r"`(\d+)\.` (?:✓ )?\*\*(.+?)\*\*")
_PAIR_LINE = re.compile(r"A is better: `/judge choose better:(.+?) worse:(.+?)`")


async def stand_in_projects(play: Rehearsal) -> int:
    """STAND-IN for the projects act (issue 11): one submitted, eligible project for each team
    that has none when judging starts (the projects act did not hand one in), in the event's
    categories in turn, every other team opting into the opt-in prizes. The number written is
    in the report (`stand_in_projects`): 0 when the projects act provided every project."""
    config = play.config
    categories = config.projects.categories if config.projects else []
    opt_ins = config.projects.opt_in_prizes if config.projects else []
    store = await Store.open(play.db)
    try:
        teams = await store.fetchall("SELECT id, name FROM teams ORDER BY id")
        written = 0
        for n, (team_id, name) in enumerate(teams):
            category = categories[n % len(categories)] if categories else None
            written += await store.execute(
                "INSERT INTO projects(team_id, status, title, summary, repo_url, demo_url, category, opt_ins, moderation,"
                " created_by, created_at, updated_by, updated_at) VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, 'eligible',"
                " 'rehearsal', 0, 'rehearsal', 0) ON CONFLICT (team_id) DO NOTHING",
                (team_id, f"{name}'s project", "A rehearsal project.", f"https://github.com/rehearsal/team-{team_id}",
                 f"https://example.org/demo/{team_id}", category, json.dumps(opt_ins if n % 2 == 0 else [])))
        return written
    finally:
        await store.close()


class Judging(Act):
    name = "judging"

    def __init__(self) -> None:
        self.scores = 0
        self.rankings = 0
        self.choices = 0
        self.code_review: list[str] = []
        self.refused: list[str] = []
        self.recused: list[str] = []
        self.progress: list[str] = []
        self.checks: dict[str, str] = {}
        self.results: dict[str, list[str]] = {}
        self.stand_in = 0
        self.interviews: dict[str, dict[str, Any]] = {}
        self.pitches: list[str] = []
        self.rng = np.random.default_rng(12)

    def applies(self, config: EventConfig) -> bool:
        return bool(config.judging.rounds)

    def moments(self, play: Rehearsal) -> list[Moment]:
        # the event file's copy holds real times (compressed); moments are in event time
        def event(when: datetime) -> datetime:
            return play.timeline.event(when)

        moments = []
        span = play.timeline.end - play.timeline.start
        rounds = play.config.judging.rounds
        if play.config.projects is not None:
            first = min([event(r.opens) for r in rounds if r.opens] or [play.timeline.end - span * 0.2])
            closes = play.config.projects.closes or play.config.submissions.closes
            when = max(first - span * 0.02, event(closes) if closes else play.timeline.start + span * 0.5)
            moments.append(Moment(min(when, first), 60, lambda: self.projects(play)))
        for rnd in rounds:
            final = pool_final_at(play.config, rnd) if rnd.shortlist is not None and rnd.shortlist.requests else None
            if final is not None:
                moments.append(Moment(max(event(final) - span * 0.03, play.timeline.start + span * 0.3), 59,
                                      functools.partial(self.ask_to_pitch, play), 2 * ASK_SECONDS,
                                      f"a team asks to pitch in round {rnd.id}"))
        for rnd in rounds:
            start = event(rnd.opens) if rnd.opens else play.timeline.end - span * 0.15
            # room for every judge to score (or rank) before the round closes: /judge next and /judge score
            # for each review, /judge progress twice, and the CLI's check
            judges = self.judge_count(play, rnd)
            projects = min(play.cast.teams, rnd.shortlist.top) if rnd.shortlist else play.cast.teams
            per_judge = projects if rnd.reviews_per_project == "all" or rnd.mode != "rubric" else \
                -(-projects * int(rnd.reviews_per_project) // max(judges, 1))
            takes = judges * (2 * per_judge + 3 + (rnd.interviews is not None)) * ASK_SECONDS + CLI_SECONDS
            moments.append(Moment(start + timedelta(seconds=1), 61, functools.partial(self.judge_round, play, rnd),
                                  takes, f"judges score round {rnd.id}"))
            if rnd.closes is not None:
                # a second pass halfway: projects ruled eligible after the opening (late ones) are balanced in
                halfway = start + (event(rnd.closes) - start) / 2
                moments.append(Moment(halfway, 61, functools.partial(self.judge_round, play, rnd, again=True),
                                      judges * 4 * ASK_SECONDS, f"judges' second pass in round {rnd.id}"))
                moments.append(Moment(event(rnd.closes) + timedelta(seconds=1), 62,
                                      functools.partial(self.read_results, play, rnd), CLI_SECONDS,
                                      f"results of round {rnd.id}"))
        return moments

    async def ask_to_pitch(self, play: Rehearsal) -> None:
        team = min(play.teams, key=lambda t: t.skill)
        for member in (team.captain, team.members[-1]):
            answer = await play.ask(member, "project pitch", note="rehearsal: a method worth hearing")
            self.pitches.append(answer.splitlines()[0][:160])
        play.log(f"{team.name} asked to pitch: {self.pitches[-2:]}")

    async def projects(self, play: Rehearsal) -> None:
        self.stand_in = await stand_in_projects(play)
        play.log(f"(stand-in for teams without a project) {self.stand_in} eligible project(s) written")

    @staticmethod
    def panel_judges(panel, rnd: JudgingRound) -> int:
        return min(MAX_JUDGES, max(panel.expected_judges or 3, 3 if rnd.reviews_per_project != "all" else 2))

    def judge_count(self, play: Rehearsal, rnd: JudgingRound) -> int:
        return sum(self.panel_judges(panel, rnd) for panel in play.config.judging.panels_of(rnd))

    def judges(self, play: Rehearsal, rnd: JudgingRound) -> list:
        members = []
        for panel in play.config.judging.panels_of(rnd):
            role = panel.role or play.config.discord.judge_role
            members += [play.sandbox.user(f"judge-{panel.id}-{n + 1}", roles=[role])
                        for n in range(self.panel_judges(panel, rnd))]
        return members

    async def cli(self, play: Rehearsal, *args: str) -> str:
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
        out, err = await command.communicate()
        return out.decode().strip() if command.returncode in (0, 1) and out.strip() else err.decode().strip()

    async def judge_round(self, play: Rehearsal, rnd: JudgingRound, *, again: bool = False) -> None:
        judges = self.judges(play, rnd)
        skills = {t.name: t.skill for t in play.teams}
        for judge in judges:  # each judge signs in first, so that the plan spreads the reviews among all
            await play.ask(judge, "judge progress")
        if rnd.interviews is not None and not again:  # then reads the interview slots (booked on first ask)
            shown = [await play.ask(judge, "judge interviews") for judge in judges]
            booked = [int(m.group(1)) for text in shown for m in [_INTERVIEWS.search(text)] if m]
            self.interviews[rnd.id] = {"judges_shown": booked, "first": shown[0].splitlines()[:3] if shown else []}
            play.log(f"round {rnd.id}: the judges see {booked} interview(s) each")
        if not again:
            self.checks[rnd.id] = (await self.cli(play, "judging", "check", "--round", rnd.id)).splitlines()[-1][:200]
            play.log(f"hackbot judging check --round {rnd.id}: {self.checks[rnd.id]}")
        for k, judge in enumerate(judges):
            generosity = (k - (len(judges) - 1) / 2) * 0.4
            if rnd.mode == "rubric":
                # the last judge finds the weakest team broke the checklist's last rule (the code review)
                suspect = min(play.teams, key=lambda t: t.skill).name if k == len(judges) - 1 and not again else None
                await self.score_all(play, rnd, judge, skills, generosity, recuse=k == 0 and not self.recused and not again,
                                     suspect=suspect)
            elif rnd.mode == "pairwise":
                await self.choose_all(play, judge, skills)
            else:
                await self.rank_all(play, judge, skills)
            self.progress.append((await play.ask(judge, "judge progress")).splitlines()[0][:120])
        play.log(f"round {rnd.id}{' (second pass)' if again else ''}: {len(judges)} judge(s) done "
                 f"({self.scores} scores, {self.rankings} rankings, {self.choices} pairwise choices so far)")

    async def score_all(self, play: Rehearsal, rnd: JudgingRound, judge, skills: dict[str, float], generosity: float, *,
                        recuse: bool, suspect: str | None = None) -> None:
        for _ in range(200):
            shown = await play.ask(judge, "judge next")
            match = _SCORE_LINE.search(shown)
            if match is None:
                if "Every review is done" not in shown and "no review" not in shown:
                    self.refused.append(shown.splitlines()[0][:120])
                return
            team = match.group(1)
            if recuse:
                recuse = False
                answer = await play.ask(judge, "judge recuse", team=team, note="rehearsal: a former colleague")
                self.recused.append(answer.splitlines()[0][:120])
                continue
            quality = 1 + 4 * skills.get(team, 0.5)
            levels = np.clip(np.rint(quality + generosity + self.rng.normal(0, 0.5, len(rnd.criteria))), 1, 5).astype(int)
            checklist = " ".join("fail" if team == suspect and n == len(rnd.checklist) - 1 else "pass"
                                 for n, _ in enumerate(rnd.checklist))
            answer = await play.ask(judge, "judge score", team=team, scores=" ".join(map(str, levels)),
                                    **({"checklist": checklist} if checklist else {}))
            if answer.startswith(("Scored", "Changed")):
                self.scores += 1
            else:
                self.refused.append(answer.splitlines()[0][:120])
                return

    async def choose_all(self, play: Rehearsal, judge, skills: dict[str, float]) -> None:
        """A pairwise round: /judge next shows two projects; the judge picks the better (the more
        skilled team, but for a judge's noise) with /judge choose, until every pair is done."""
        for _ in range(200):
            shown = await play.ask(judge, "judge next")
            match = _PAIR_LINE.search(shown)
            if match is None:
                if "Every comparison is done" not in shown and "no review" not in shown:
                    self.refused.append(shown.splitlines()[0][:120])
                return
            a, b = match.group(1), match.group(2)
            noisy = {t: skills.get(t, 0.5) + self.rng.normal(0, 0.1) for t in (a, b)}
            better, worse = (a, b) if noisy[a] >= noisy[b] else (b, a)
            answer = await play.ask(judge, "judge choose", better=better, worse=worse)
            if answer.startswith(("Chose", "Changed")):
                self.choices += 1
            else:
                self.refused.append(answer.splitlines()[0][:120])
                return

    async def rank_all(self, play: Rehearsal, judge, skills: dict[str, float]) -> None:
        shown = await play.ask(judge, "judge next")
        items = [(int(n), name) for n, name in _RANK_LINE.findall(shown)]
        if items and "Rank them" in shown and shown.count("✓") == len(items):
            return  # ranked already (a second pass)
        if not items:
            if "no review" not in shown:
                self.refused.append(shown.splitlines()[0][:120])
            return
        noisy = {n: skills.get(name, 0.5) + self.rng.normal(0, 0.05) for n, name in items}
        order = sorted(noisy, key=lambda n: -noisy[n])
        answer = await play.ask(judge, "judge rank", order=" ".join(map(str, order)))
        if answer.startswith(("Ranked", "Changed")):
            self.rankings += 1
        else:
            self.refused.append(answer.splitlines()[0][:120])

    async def read_results(self, play: Rehearsal, rnd: JudgingRound) -> None:
        out = await self.cli(play, "judging", "results", rnd.id)
        self.results[rnd.id] = [line.strip() for line in out.splitlines()[1:] if line.strip()][:25]
        play.log(f"round {rnd.id} closed: {len(self.results[rnd.id]) - 1} project(s) ranked")
        if rnd.checklist:
            await self.decide_code_review(play, rnd)

    async def decide_code_review(self, play: Rehearsal, rnd: JudgingRound) -> None:
        """The organizers read the checklist failures (`hackbot judging rule`) and uphold each one
        awaiting a decision: the team then wins no prize (the winners act sees it passed over)."""
        listed = (await self.cli(play, "judging", "rule")).splitlines()
        awaiting = [line for line in listed if line.startswith(f"- {rnd.id} ") and "awaiting" in line]
        for line in awaiting:
            match = re.match(rf"- {re.escape(rnd.id)} (.+?): (\S+) failed for", line)
            if match is None:
                self.refused.append(f"could not read the failure: {line[:120]}")
                continue
            team, item = match.group(1), match.group(2)
            answer = await self.cli(play, "judging", "rule", rnd.id, team, item, "--uphold",
                                    "--reason", "rehearsal: the code shows it")
            self.code_review.append(" ".join(answer.split())[-200:])
        play.log(f"round {rnd.id}: {len(awaiting)} code-review failure(s) upheld by the organizers")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"scores": self.scores, "rankings": self.rankings, "choices": self.choices, "refused": self.refused,
                "recused": self.recused, "code_review": self.code_review,
                "progress": self.progress[:10], "checks": self.checks, "results": self.results,
                "stand_in_projects": self.stand_in, "interviews": self.interviews_report(play), "pitches": self.pitches}

    def interviews_report(self, play: Rehearsal) -> dict[str, Any]:
        """Per round: the interviews each judge saw, the members told their slot by direct message, and
        the members and judges reminded of it."""
        texts = [(m.channel_id, m.text()) for messages in play.sandbox.state.messages.values() for m in messages]
        told = {channel for channel, text in texts if "your interview for" in text and "reminder" not in text}
        reminded = {channel for channel, text in texts if "reminder, your interview" in text}
        judges = {channel for channel, text in texts if text.startswith("Interview reminder")}
        return {rnd: {**seen, "members_told": len(told), "members_reminded": len(reminded), "judges_reminded": len(judges)}
                for rnd, seen in self.interviews.items()}


ACT = Judging()
