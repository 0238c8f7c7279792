"""At the end, the organizers preview the winners with /winners announce and post them."""

from __future__ import annotations

from typing import Any

from bot.config import EventConfig
from bot.discord_limits import channel_name
from bot.sandbox.client import until
from bot.sandbox.rehearse import Act, Moment, Rehearsal


class Winners(Act):
    name = "winners"

    def __init__(self) -> None:
        self.posted = False
        self.messages = 0
        self.pinged = 0

    def applies(self, config: EventConfig) -> bool:
        return bool(config.datasets)

    def moments(self, play: Rehearsal) -> list[Moment]:
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
        await until(lambda: "Posted in" in preview.text() or "nothing was posted" in preview.text(), timeout=120,
                    what="the winners to be posted")
        self.posted = "Posted in" in preview.text()
        # the announcement's messages: every line names a winner and its points
        posted = [m for m in sandbox.state.channel_messages(channel)
                  if m.id not in before and m.interaction_id is None and " points" in m.text()]
        self.messages = len(posted)
        self.pinged = len({r for m in posted for r in m.mention_roles})
        play.log("organizers posted the winners" if self.posted else "the winners were not posted: " + preview.text()[:100])

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"posted": self.posted, "messages": self.messages, "teams_pinged": self.pinged}


ACT = Winners()
