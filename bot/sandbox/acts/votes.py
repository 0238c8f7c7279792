"""The public vote ([[votes]], NumHack's Community Favorite): the organizers import the attendee
list (`hackbot vote codes import`, as they run it), open the vote with /vote open once the
projects act has ruled the projects eligible (its announcement: link, QR code, Vote button), members of the server vote with
/vote cast and the Vote button's form, attendees vote on the web page with their codes; then
/vote close and `hackbot vote report`.

Simulated voters include the three a stuffed vote is made of, each refused with its reason and
shown in the report: an account made today (Discord), a team member voting for their own team
(with the code the attendee list gave them: their Discord id links it to their team), and a
code used a second time. The report's `votes`: the refusals as the voters read them, whether the
results stayed hidden (API) before and after the close, and `hackbot vote report --json`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import aiohttp

from bot.config import EventConfig
from bot.core.store import Store
from bot.core.vote_rules import DISCORD_EPOCH_MS
from bot.sandbox.client import SandboxError, until
from bot.sandbox.rehearse import Act, Moment, Rehearsal
from bot.sandbox.state import Member, User

MEMBERS = 6  # server members with old accounts who vote in Discord
ATTENDEES = 4  # attendees outside the server who vote on the web page
CLI_TIMEOUT = 120  # seconds for an organizer's command


def _old_id(serial: int) -> int:
    """A Discord id of an account made in 2020."""
    ms = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | serial


class Votes(Act):
    name = "votes"

    def __init__(self) -> None:
        self.imported = ""
        self.cast: list[str] = []  # how each accepted ballot went in
        self.refusals: list[dict[str, str]] = []  # who, door, what they were told
        self.hidden_while_open: bool | None = None
        self.hidden_after_close: bool | None = None
        self.announcement = False
        self.qr_code = False
        self.report_json: dict[str, Any] = {}
        self.problems: list[str] = []
        self.codes: list[str] = []
        self.opened = ""
        self.insider: Any = None
        self.importing: asyncio.Task[list[str]] | None = None

    def applies(self, config: EventConfig) -> bool:
        return bool(config.votes) and config.projects is not None

    def moments(self, play: Rehearsal) -> list[Moment]:
        timeline, vote = play.timeline, play.config.votes[0]
        projects = play.config.projects
        # the rehearsal's event file holds real times; moments are in event time. The organizers
        # open the vote once the projects are in, earlier than the file says: a compressed
        # timeline leaves the vote's own window a second or two of real time.
        # after the projects act (bot/sandbox/acts/projects.py) has ruled the projects eligible
        if projects is not None and projects.closes is not None:
            closes = timeline.event(projects.closes)
            opens = timeline.event(projects.opens) if projects.opens else timeline.start
            start = closes + (closes - opens) * 0.3 + timedelta(minutes=1)
        else:
            start = timeline.start + (timeline.end - timeline.start) * 0.8
        start = min(max(start, timeline.start), timeline.event(vote.opens))
        # the attendee list is imported once the teams have formed (10), long before the vote
        return [Moment(timeline.start, 12, lambda: self.prepare(play)), Moment(start, 60, lambda: self.play(play))]

    async def prepare(self, play: Rehearsal) -> None:
        """Import the attendee list: four attendees outside the server, and a team member whose
        Discord id the list gives (so the code is theirs, and their team is known)."""
        if not play.teams:
            return
        self.insider = play.teams[0].members[0]
        attendees = [(f"Attendee {k}", f"attendee{k}@example.org", "") for k in range(ATTENDEES)]
        attendees.append(("Team member", "member@example.org", str(self.insider.user.id)))
        # in the background: an organizer's command takes seconds, the other acts' moments go on meanwhile
        self.importing = asyncio.create_task(self._import_codes(play, play.config.votes[0].id, attendees))

    async def play(self, play: Rehearsal) -> None:
        try:
            await self._play(play)
        except (SandboxError, aiohttp.ClientError, OSError) as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")
            play.log(f"vote: stopped: {exc}")

    async def _play(self, play: Rehearsal) -> None:
        config, sandbox, organizer = play.config, play.sandbox, play.organizer
        vote = config.votes[0]
        teams = play.teams
        if self.importing is not None:
            self.codes = await self.importing
        if len(teams) < 2 or len(self.codes) <= ATTENDEES:
            self.problems.append("the vote needs two teams with projects and the attendees' codes")
            return
        own = await self._project_of(play, teams[0].name)
        if own is None:
            self.problems.append(f"{teams[0].name} has no eligible project (the projects act did not hand it in)")
            return
        codes = self.codes

        opened = await play.ask(organizer, "vote open", vote=vote.id)
        play.log(f"organizers: /vote open: {opened.splitlines()[0][:100]}")
        self.opened = opened.splitlines()[0][:300] if opened else ""
        post = next((m for m in reversed(sandbox.state.channel_messages(config.discord.announcements_channel))
                     if vote.title in m.text() and m.buttons()), None)
        self.announcement = post is not None
        self.qr_code = bool(post and any(a["filename"].endswith(".png") for a in post.attachments))
        self.hidden_while_open = await self._hidden(play, vote.id)

        # members of the server with old accounts: /vote cast, choices from the autocomplete
        members = []
        for k in range(MEMBERS):
            member = Member(User(_old_id(k + 1), f"voter{k + 1}"), joined_at=datetime(2020, 6, 1, tzinfo=UTC).isoformat())
            sandbox.state.members[member.user.id] = member
            members.append(member)
        ballot = await sandbox.autocomplete(members[0], "vote cast", "choice", "", vote=vote.id)
        ids = [c["value"] for c in ballot]
        rest = ids[1:] or ids
        for k, member in enumerate(members[:-1]):
            # a crowd favourite (the ballot's first project) on every first choice, the others spread,
            # so that the vote decides its prize as a real one would rather than ending in a tie
            chosen = [ids[0], *[rest[(k + i) % len(rest)] for i in range(min(vote.max_choices or 1, 2, len(ids)) - 1)]]
            picks = {f"choice{'' if i == 0 else f'_{i + 1}'}": choice for i, choice in enumerate(chosen)}
            if vote.kind == "single":
                picks = {"choice": ids[0] if k % 2 == 0 else rest[k % len(rest)]}
            self._took(await play.ask(member, "vote cast", vote=vote.id, **picks), f"voter{k + 1}", "discord")
        if post is not None:  # the last member votes with the announcement's button
            clicked = await sandbox.click(members[-1], post, "Vote")
            await until(lambda: clicked.modal, what="the ballot form")
            field = "Your choice" if vote.kind == "single" else ("First choice" if vote.kind == "ranked" else "Choice 1")
            answer = await sandbox.reply_text(await sandbox.submit_modal(members[-1], clicked, {field: ids[0]}))
            self._took(answer, members[-1].user.name, "button")

        # an account made today: refused, with its age
        fresh = sandbox.user("fresh-account")
        self._took(await play.ask(fresh, "vote cast", vote=vote.id, choice=ids[0]), "an account made today", "discord")

        # attendees on the web page with their codes; a code used twice; a team member for their own team
        other = next(i for i in ids if int(i) != own)
        async with aiohttp.ClientSession() as http:
            for k in range(ATTENDEES):
                self._took(await self._web(http, play, vote.id, codes[k], [ids[(k + 1) % len(ids)]]),
                           f"attendee {k}", "web")
            self._took(await self._web(http, play, vote.id, codes[0], [other]), "a code used a second time", "web")
            self._took(await self._web(http, play, vote.id, codes[ATTENDEES], [str(own)]),
                       "a team member voting for their own team", "web")

        closed = await play.ask(organizer, "vote close", vote=vote.id)
        play.log(f"organizers: /vote close: {closed.splitlines()[0][:100]}")
        self.hidden_after_close = await self._hidden(play, vote.id)
        self.report_json = await self._report(play, vote.id)
        play.log(f"vote: {len(self.cast)} ballot(s) taken, {len(self.refusals)} refused with their reasons")

    def _took(self, answer: str, who: str, door: str) -> None:
        text = answer.strip()
        if "recorded" in text or "replaced your previous one" in text:
            self.cast.append(f"{who} ({door})")
        else:
            self.refusals.append({"voter": who, "door": door, "told": text.splitlines()[0][:300] if text else ""})

    async def _import_codes(self, play: Rehearsal, vote_id: str, attendees: list[tuple[str, str, str]]) -> list[str]:
        folder = play.config.base_dir
        listing, out = folder / "attendees.csv", folder / "ballot-codes.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["name", "email", "discord_id"])
        writer.writerows(attendees)
        listing.write_text(buffer.getvalue(), encoding="utf-8")
        out.unlink(missing_ok=True)
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "vote", "codes", "import", vote_id, str(listing), "--out", str(out),
            "--config", str(folder / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await command.communicate()
        self.imported = err.decode().strip().splitlines()[-1] if err.strip() else ""
        play.log(f"organizers: hackbot vote codes import {vote_id}: {self.imported[:100]}")
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))) if out.exists() else []
        by_email = {row["email"]: row["code"] for row in rows}
        return [by_email.get(email, "") for _, email, _ in attendees]

    async def _project_of(self, play: Rehearsal, team: str) -> int | None:
        store = await Store.open(play.db, readonly=True)
        try:
            found = await store.fetchval(
                "SELECT p.id FROM projects p JOIN teams t ON t.id = p.team_id WHERE t.name = ?"
                " AND p.status = 'submitted' AND p.moderation = 'eligible'", (team,))
            return None if found is None else int(found)
        finally:
            await store.close()

    async def _web(self, http: aiohttp.ClientSession, play: Rehearsal, vote_id: str, code: str,
                   choices: list[str]) -> str:
        form = aiohttp.FormData([("code", code), *[("choice", c) for c in choices],
                                 *[(f"rank{n + 1}", c) for n, c in enumerate(choices)]])
        async with http.post(f"{play.web_url}vote/{vote_id}", data=form) as response:
            page = await response.text()
        start = page.find('id="notice">')
        if start < 0:
            return f"HTTP {response.status}: no answer on the page"
        return unescape(page[start + len('id="notice">'): page.find("</div>", start)])

    async def _hidden(self, play: Rehearsal, vote_id: str) -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{play.web_url}api/votes/{vote_id}") as response:
            body = await response.json()
        return body.get("results") is None

    async def _report(self, play: Rehearsal, vote_id: str) -> dict[str, Any]:
        folder = play.config.base_dir
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "vote", "report", vote_id, "--json",
            "--config", str(folder / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(command.communicate(), CLI_TIMEOUT)
        except TimeoutError:
            command.kill()
            await command.wait()
            self.problems.append(f"hackbot vote report did not answer within {CLI_TIMEOUT} s")
            return {}
        try:
            return json.loads(out.decode())
        except ValueError:
            self.problems.append(f"hackbot vote report failed: {err.decode().strip()[-300:]}")
            return {}

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {
            "codes_imported": self.imported,
            "opened": self.opened, "announcement": self.announcement, "qr_code": self.qr_code,
            "ballots_taken": self.cast, "refused": self.refusals,
            "results_hidden_while_open": self.hidden_while_open,
            "results_hidden_after_close": self.hidden_after_close,
            "report": self.report_json, "problems": self.problems,
        }


ACT = Votes()
