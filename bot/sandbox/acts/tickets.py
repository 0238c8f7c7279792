"""Mentors on duty and help tickets ([mentoring]): mentors set their tags and go on duty; during
the event teams ask for help with /help's form; a mentor claims each ticket with the Claim button
of its post in the mentors' queue, meets the team in the private thread, the team resolves it and
rates the help. The report's `tickets`: opened, claimed, resolved, rated, and the median time to
claim (real seconds, and in event time)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.config import EventConfig
from bot.sandbox.client import SandboxError, until
from bot.sandbox.rehearse import Act, Moment, Rehearsal

MENTORS = 3
ROUNDS = (0.25, 0.5, 0.75)  # when tickets are opened, as shares of the event's timeline


class Tickets(Act):
    name = "tickets"

    def __init__(self) -> None:
        self.mentors: list = []
        self.opened = self.claimed = self.resolved = self.rated = 0
        self.claim_seconds: list[float] = []
        self.refused: list[str] = []

    def applies(self, config: EventConfig) -> bool:
        return config.mentoring is not None

    def moments(self, play: Rehearsal) -> list[Moment]:
        span = play.timeline.end - play.timeline.start
        start = play.timeline.start + timedelta(seconds=1)
        moments = [Moment(start, 20, lambda: self.on_duty(play))]
        for n, share in enumerate(ROUNDS):
            moments.append(Moment(play.timeline.start + span * share, 40, self._round(play, n)))
        return moments

    def _round(self, play: Rehearsal, n: int) -> Callable[[], Awaitable[None]]:
        return lambda: self.round(play, n)

    async def on_duty(self, play: Rehearsal) -> None:
        section = play.config.mentoring
        assert section is not None
        tags = section.tags or []
        for n in range(MENTORS):
            mentor = play.sandbox.user(f"mentor{n + 1}", roles=[section.mentor_role])
            offered = ", ".join(tags[n::MENTORS]) if tags else ""
            if offered:
                await play.ask(mentor, "mentor tags", tags=offered)
            await play.ask(mentor, "mentor on")
            self.mentors.append(mentor)
        play.log(f"{len(self.mentors)} mentors on duty")

    async def round(self, play: Rehearsal, n: int) -> None:
        """A few teams ask for help; mentors claim, meet, and the teams resolve and rate."""
        section = play.config.mentoring
        assert section is not None
        sandbox = play.sandbox
        tags = section.tags or []
        asking = [team for i, team in enumerate(play.active_teams) if i % len(ROUNDS) == n][:MENTORS]
        for i, team in enumerate(asking):
            opened = await sandbox.invoke(team.captain, "help")
            play.interactions += 1
            try:
                await until(_modal_of(opened), timeout=20, what="the help form")
            except SandboxError:
                self.refused.append((await sandbox.reply_text(opened)).splitlines()[0])
                continue
            tag = tags[(n + i) % len(tags)] if tags else ""
            form = {"What is the problem?": f"{team.name}: our model does not converge",
                    "Tags (optional, separated by commas)": tag, "Where to meet you (optional)": f"table {i + 1}"}
            asked = time.monotonic()
            answer = await sandbox.reply_text(await sandbox.submit_modal(team.captain, opened, form), timeout=30)
            play.interactions += 1
            if "Ticket **#" not in answer:
                self.refused.append(answer.splitlines()[0][:120])
                continue
            self.opened += 1
            number = int(answer.split("Ticket **#")[1].split("**")[0])
            post = await until(_post_of(sandbox, section.queue_channel, number), timeout=30, what="the queue post")
            mentor = self.mentors[i % len(self.mentors)]
            claimed = await sandbox.reply_text(await sandbox.click(mentor, post, "Claim"), timeout=30)
            play.interactions += 1
            if "You claimed" not in claimed:
                self.refused.append(claimed.splitlines()[0][:120])
                continue
            self.claimed += 1
            self.claim_seconds.append(time.monotonic() - asked)
            resolved = await play.ask(team.members[-1], "ticket resolve", ticket=number)
            if "resolved" in resolved:
                self.resolved += 1
                rated = await play.ask(team.captain, "ticket rate", ticket=number, rating=5 - (i % 2),
                                       comment="thanks")
                self.rated += "rated" in rated
        play.log(f"help tickets: {self.opened} opened, {self.claimed} claimed, {self.resolved} resolved so far")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        median = statistics.median(self.claim_seconds) if self.claim_seconds else None
        return {
            "opened": self.opened, "claimed": self.claimed, "resolved": self.resolved, "rated": self.rated,
            "median_time_to_claim_s": None if median is None else round(median, 2),
            "median_time_to_claim_event": None if median is None else str(timedelta(
                seconds=round(median * play.timeline.speed))),
            "refused": self.refused,
        }


def _modal_of(interaction: Any) -> Callable[[], Any]:
    return lambda: interaction.modal


def _post_of(sandbox: Any, channel: str, number: int) -> Callable[[], Any]:
    """The ticket's post with its buttons in the mentors' queue, once the bot has made it."""
    return lambda: next((m for m in sandbox.state.channel_messages(channel)
                         if f"Ticket #{number}**" in m.text() and m.buttons()), None)


ACT = Tickets()
