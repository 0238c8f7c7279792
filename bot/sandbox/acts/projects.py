"""Projects ([projects]): once projects open, each active team pushes a repository to the GitHub
double and hands its project in through /project submit (the category and opt-in select menus,
then the form); the last team saves a draft first and submits it with /project edit. Nobody
outside sees a project before the deadline (the gallery is checked). After the deadline the bot
records each repository's commit at the deadline, and the organizer rules every project eligible
with /admin moderate, so that judging and the votes find a pool; each team is told its verdict in
its channel, once (the outbox row the verdict committed with).

The report's `projects`: submitted, drafts, verified repositories, warnings, the deadline commits
recorded, the eligible pool, the teams told their verdict once, refusals, and whether the gallery
showed anything before the deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.config import EventConfig
from bot.core.projects import eligible_projects
from bot.core.services import Services
from bot.sandbox.client import until
from bot.sandbox.rehearse import ASK_SECONDS, Act, Moment, Rehearsal, SimTeam

WAIT = 30.0
SNAPSHOT_WAIT = 15.0  # real seconds


class Projects(Act):
    name = "projects"

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.refused: list[str] = []
        self.warnings = 0
        self.drafted = 0
        self.gallery_before: bool | None = None
        self.eligible = 0
        self.deadline_commits = 0
        self.verified = 0
        self.told = 0  # teams told their verdict in their channel, once

    def applies(self, config: EventConfig) -> bool:
        return config.projects is not None and config.projects.closes is not None

    def moments(self, play: Rehearsal) -> list[Moment]:
        section = play.config.projects
        assert section is not None and section.closes is not None
        # the rehearsal's event file holds real times: the moments are in event time
        closes = play.timeline.event(section.closes)
        opens = play.timeline.event(section.opens) if section.opens else play.timeline.start
        span = closes - opens
        teams = min(play.cast.active or play.cast.teams, play.cast.teams)
        return [Moment(opens + span * 0.05, 40, lambda: self.hand_in(play), (5 * teams + 2) * ASK_SECONDS,
                       "projects handed in"),
                # the organizers rule right after the deadline: judging may open a minute later (NumHack)
                Moment(closes + min(span * 0.3, timedelta(seconds=1)), 45, lambda: self.moderate(play),
                       (teams + 1) * ASK_SECONDS + 2, "projects moderated")]

    def _repo(self, play: Rehearsal, team: SimTeam, n: int) -> str:
        name = f"rehearsal-{n + 1}/project"
        repo = play.github.add_repo(name, created_at=datetime.now(UTC) - timedelta(seconds=1))
        for i in range(3):
            repo.commit(f"step {i}", datetime.now(UTC) - timedelta(seconds=1) + timedelta(milliseconds=i))
        return f"https://github.com/{name}"

    async def _form(self, play: Rehearsal, team: SimTeam, path: str, button: str, values: dict[str, str],
                    category: str | None, opt_ins: list[str]) -> str:
        sandbox = play.sandbox
        play.interactions += 1
        message = await sandbox.answer(await sandbox.invoke(team.captain, path), WAIT)
        if not message.selects() and not message.buttons():
            return message.text()
        if category is not None:
            picked = await sandbox.select(team.captain, message, "Category", [category])
            await until(lambda: picked.response_type is not None, WAIT, "the category picked")
        if opt_ins:
            picked = await sandbox.select(team.captain, message, "Opt into", opt_ins)
            await until(lambda: picked.response_type is not None, WAIT, "the opt-ins picked")
        opened = await sandbox.click(team.captain, message, button)
        await until(lambda: opened.modal is not None or opened.errors or bool(opened.messages()), WAIT, "the form")
        if opened.modal is None:
            return (await sandbox.answer(opened, WAIT)).text()
        return (await sandbox.answer(await sandbox.submit_modal(team.captain, opened, values), WAIT)).text()

    async def hand_in(self, play: Rehearsal) -> None:
        section = play.config.projects
        assert section is not None
        prizes = {p.id: p.title for p in play.config.prizes}
        teams = play.active_teams
        # every team at once: the compressed window between opens and the deadline lasts seconds
        await asyncio.gather(*(self._hand_in_one(play, team, n, len(teams), prizes) for n, team in enumerate(teams)))
        play.log(f"{len(self.submitted)} project(s) submitted ({self.drafted} saved as a draft first)")
        async with aiohttp.ClientSession() as http, http.get(play.web_url + "projects") as response:
            page = await response.text()
        self.gallery_before = any(f"{name} project" in page for name in self.submitted)

    async def _hand_in_one(self, play: Rehearsal, team: SimTeam, n: int, count: int, prizes: dict[str, str]) -> None:
        section = play.config.projects
        assert section is not None
        values = {"Title": f"{team.name} project", "Summary: what it does, for whom": f"What {team.name} built.",
                  "Repository URL": self._repo(play, team, n) + ".git", "Demo video URL": f"https://youtu.be/rehearsal{n}"}
        category = section.categories[n % len(section.categories)] if section.categories else None
        opt_ins = [prizes.get(p, p)[:100] for p in section.opt_in_prizes] if n % 2 == 0 else []
        draft_first = n == count - 1 and count > 1
        text = await self._form(play, team, "project submit", "Save as draft…" if draft_first else "Submit…",
                                values, category, opt_ins)
        if draft_first and "draft is saved" in text:
            self.drafted += 1
            text = await self._form(play, team, "project edit", "Submit…", values, None, [])
        if "Your project is submitted" in text:
            self.submitted.append(team.name)
            self.warnings += text.count("⚠️")
        else:
            self.refused.append(f"{team.name}: {text.splitlines()[0][:160]}")

    async def moderate(self, play: Rehearsal) -> None:
        queue = await play.ask(play.organizer, "admin projects")
        for name in self.submitted:
            if name not in queue:
                self.refused.append(f"{name}: not in /admin projects")
            answer = await play.ask(play.organizer, "admin moderate", team=name, verdict="eligible")
            if "now **eligible**" not in answer:
                self.refused.append(f"{name}: /admin moderate: {answer.splitlines()[0][:160]}")
        services = await Services.open(play.config, play.db, readonly=True)
        try:
            # the bot records the deadline commits by itself, on its own timer: give it a moment
            waited = 0.0
            while True:
                everything = await services.projects.all()
                recorded = sum(p.deadline_commit is not None for p in everything)
                if recorded >= len(self.submitted) or waited >= SNAPSHOT_WAIT:
                    break
                await asyncio.sleep(0.25)
                waited += 0.25
            pool = await services.store.run(eligible_projects)
            # each verdict is told in the team's channel, once (an outbox row the bot posted)
            channels = {i.team.name: i.discord_channel_id for i in await services.roster.infos()}
        finally:
            await services.close()
        self.eligible = len(pool)
        for name in self.submitted:
            said = [m for m in play.sandbox.state.channel_messages(channels.get(name) or 0)
                    if "is eligible: it enters judging" in m.content]
            self.told += len(said) == 1
        self.deadline_commits = recorded
        self.verified = sum(p.verified is True for p in everything)
        play.log(f"organizers: {self.eligible} project(s) eligible; {self.deadline_commits} deadline commit(s) recorded;"
                 f" {self.told} team(s) told in their channel")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"submitted": len(self.submitted), "drafts_then_submitted": self.drafted, "verified": self.verified,
                "warnings": self.warnings, "deadline_commits": self.deadline_commits, "eligible": self.eligible,
                "told_verdict_once": self.told,
                "gallery_showed_projects_before_deadline": self.gallery_before, "refused": self.refused}


ACT = Projects()
