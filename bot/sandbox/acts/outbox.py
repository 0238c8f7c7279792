"""The outbox from a process without the gateway: an organizer posts a notice with
`hackbot outbox post` (a command that never connects to Discord), twice with the same key, as a
script retrying would. The bot process sends it, once. The report's `outbox_post`: whether the
notice appeared in the channel, and how many times."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bot.config import EventConfig
from bot.sandbox.client import SandboxError, until
from bot.sandbox.rehearse import Act, Moment, Rehearsal

NOTICE = "Rehearsal notice from the command line: lunch is served in the hall."


class OutboxPost(Act):
    name = "outbox_post"

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.seconds: float | None = None
        self.task: asyncio.Task | None = None

    def applies(self, config: EventConfig) -> bool:
        return True

    def moments(self, play: Rehearsal) -> list[Moment]:
        span = play.timeline.end - play.timeline.start
        return [Moment(play.timeline.start + span * 0.2, 60, lambda: self.start(play))]

    async def start(self, play: Rehearsal) -> None:
        # in the background: two command-line processes take seconds of real time, hours of
        # compressed event time, and the other acts go on meanwhile
        self.task = asyncio.create_task(self.post(play), name="rehearsal-outbox-post")

    async def post(self, play: Rehearsal) -> None:
        channel = play.config.discord.announcements_channel
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(2):
            command = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "outbox", "post", "--channel", channel, "--key", "rehearsal:notice",
                NOTICE, "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await command.communicate()
            self.answers.append((out.decode().strip() or err.decode().strip()).splitlines()[-1][:160])
        play.log(f"organizers: hackbot outbox post --channel {channel} (twice, one key): {self.answers[-1][:80]}")
        try:
            await until(lambda: self._posted(play) > 0, 30, "the notice to be posted by the bot")
            self.seconds = round(loop.time() - started, 2)
        except SandboxError:  # the report says it never came
            play.log("the notice written to the outbox was not posted within 30 s")

    async def settle(self, play: Rehearsal) -> None:
        if self.task is not None:
            await self.task

    @staticmethod
    def _posted(play: Rehearsal) -> int:
        return sum(NOTICE in m.text() for messages in play.sandbox.state.messages.values() for m in messages)

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"posted": self._posted(play), "cli_answers": self.answers, "seconds_to_post": self.seconds}


ACT = OutboxPost()
