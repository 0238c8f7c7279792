"""At the end, the organizers preview the winners with /winners announce.

Without [[prizes]]: the leaderboard's podium, posted on "Post". With [[prizes]]: every prize is
previewed, "Freeze these results" freezes the decided ones (the winning teams are told
privately), then /winners reveal next posts one prize at a time until every frozen prize is out
(it stops at a prize still undecided, such as a vote not closed, and says why). The report's
top-level `prizes` lists every prize of the event file in reveal order with its winners, as
`hackbot winners preview --json` reads them from the bot's database, and `undecided` says why
for a prize without winners. The act also checks the embargo: no team's name appeared in a
public message of a prize before its reveal."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from typing import Any

from bot.config import EventConfig
from bot.discord_limits import channel_name
from bot.sandbox.client import until
from bot.sandbox.rehearse import Act, Moment, Rehearsal


class Winners(Act):
    name = "winners"

    def __init__(self) -> None:
        self.posted = False
        self._channel = ""
        self._before: set[int] = set()
        self.messages = 0
        self.pinged = 0
        self.frozen = ""
        self.revealed: list[str] = []
        self.reveal_stopped = ""
        self.prizes: list[dict[str, Any]] = []
        self.leaked: list[str] = []
        self.notices: list[str] = []

    def applies(self, config: EventConfig) -> bool:
        return bool(config.datasets) or bool(config.prizes)

    def moments(self, play: Rehearsal) -> list[Moment]:
        if play.config.prizes:  # after the last judging round's results are read
            return [Moment(play.timeline.end + timedelta(seconds=3), 90, lambda: self.announce_prizes(play))]
        return [Moment(play.timeline.end, 90, lambda: self.announce(play))]

    async def announce(self, play: Rehearsal) -> None:
        sandbox, organizer = play.sandbox, play.organizer
        channel = channel_name(play.config.discord.announcements_channel)
        before = {m.id for m in sandbox.state.channel_messages(channel)}
        play.interactions += 1
        preview = await sandbox.answer(await sandbox.invoke(organizer, "winners announce", top=3), timeout=30)
        if not preview.buttons():
            play.log(f"/winners announce refused: {preview.text().splitlines()[0][:100]}")
            return
        await sandbox.click(organizer, preview, "Post")
        play.interactions += 1
        # a long announcement (thousands of teams tied: 50 messages at a channel's 5 every 5 s) is
        # answered "queued" while the bot's drainer posts it: counted once the outbox is drained
        await until(lambda: any(t in preview.text() for t in ("Posted in", "nothing was posted", "is queued")),
                    timeout=120, what="the winners to be posted")
        self.posted = "Posted in" in preview.text() or "is queued" in preview.text()
        self._channel, self._before = channel, before
        self._count(play)
        play.log("organizers posted the winners" if self.posted else "the winners were not posted: " + preview.text()[:100])

    def _count(self, play: Rehearsal) -> None:
        """The announcement's messages (every line names a winner and its points), and the roles pinged."""
        posted = [m for m in play.sandbox.state.channel_messages(self._channel)
                  if m.id not in self._before and m.interaction_id is None and " points" in m.text()]
        self.messages = len(posted)
        self.pinged = len({r for m in posted for r in m.mention_roles})

    def public_texts(self, play: Rehearsal) -> list[str]:
        dms = set(play.sandbox.state.dm_channels.values())
        return [m.text() for messages in play.sandbox.state.messages.values() for m in messages
                if not m.ephemeral and m.channel_id not in dms]

    async def announce_prizes(self, play: Rehearsal) -> None:
        sandbox, organizer = play.sandbox, play.organizer
        play.interactions += 1
        preview = await sandbox.answer(await sandbox.invoke(organizer, "winners announce"), timeout=60)
        if any(b.get("label") == "Freeze these results" for b in preview.buttons()):
            await sandbox.click(organizer, preview, "Freeze these results")
            play.interactions += 1
            await until(lambda: "Frozen" in preview.text() or "nothing was frozen" in preview.text(), timeout=60,
                        what="the results to be frozen")
            self.frozen = preview.text().splitlines()[0][:200]
        else:
            self.frozen = "nothing to freeze: " + preview.text()[:160]
        play.log(f"organizers: {self.frozen}")
        await asyncio.sleep(3)  # the notices go out (DMs, emails) while the stream starts
        self.prizes = await self.read_prizes(play)
        before = self.public_texts(play)
        for prize in self.prizes:  # the embargo: no winner named in public before its reveal
            for team in prize["winners"]:
                if any(f"**{prize['title']}**" in text and team in text for text in before):
                    self.leaked.append(f"{prize['id']}: {team}")
        for _ in self.prizes:
            answer = await play.ask(organizer, "winners reveal next")
            if not answer.startswith("Revealed"):
                self.reveal_stopped = answer.splitlines()[0][:200]
                break
            self.revealed.append(answer.split(" in ")[0].removeprefix("Revealed ").strip())
        play.log(f"revealed {len(self.revealed)} prize(s)" + (f"; stopped: {self.reveal_stopped}" if self.reveal_stopped else ""))

    async def read_prizes(self, play: Rehearsal) -> list[dict[str, Any]]:
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "winners", "preview", "--json",
            "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await command.communicate()
        try:
            prizes = json.loads(out.decode())
        except ValueError:
            play.log(f"hackbot winners preview failed: {err.decode()[:200]}")
            return [{"id": p.id, "title": p.title, "winners": [], "undecided": "the preview failed"}
                    for p in play.config.prizes]
        notices = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "winners", "notices",
            "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self.notices = [line.strip() for line in (await notices.communicate())[0].decode().splitlines()[1:] if line.strip()]
        out_list = []
        for prize in prizes:
            entry: dict[str, Any] = {"id": prize["id"], "title": prize["title"],
                                     "winners": [t for place in prize["places"] for t in place["teams"]]}
            if not prize["decided"]:
                entry["undecided"] = "; ".join(prize["problems"]) or "not decided"
            out_list.append(entry)
        return out_list

    def report(self, play: Rehearsal) -> dict[str, Any]:
        if play.config.prizes:
            return {"frozen": self.frozen, "revealed": self.revealed, "reveal_stopped": self.reveal_stopped,
                    "winners_in_public_before_reveal": self.leaked, "notices": self.notices[:40]}
        if self._channel:  # after the outbox drained: a queued announcement is out by now
            self._count(play)
        return {"posted": self.posted and self.messages > 0, "messages": self.messages, "teams_pinged": self.pinged}

    def summary(self, play: Rehearsal) -> dict[str, Any]:
        return {"prizes": self.prizes} if play.config.prizes else {}


ACT = Winners()
