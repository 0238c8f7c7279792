"""Perks ([[perks]]): the organizers validate the teams when the perk needs it (/admin team
validate), import one code per team with `hackbot perks import` (the command an organizer runs),
then every team claims with /perk claim, and one claims again. The report's `perks`: codes
claimed, distinct, the repeated claim's answer, the organizers' low-stock warnings, and whether
any code appeared anywhere public (it must not)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import Any

from bot.config import EventConfig
from bot.sandbox.rehearse import Act, Moment, Rehearsal


class Perks(Act):
    name = "perks"

    def __init__(self) -> None:
        self.claimed: list[str] = []
        self.repeat_same = False
        self.refused: list[str] = []
        self.imported = ""

    def applies(self, config: EventConfig) -> bool:
        return bool(config.perks)

    def moments(self, play: Rehearsal) -> list[Moment]:
        span = play.timeline.end - play.timeline.start
        opens = max([play.timeline.event(p.opens) for p in play.config.perks if p.opens] or [play.timeline.start])
        when = max(opens, play.timeline.start + span * 0.3) + timedelta(seconds=1)
        return [Moment(when, 50, lambda: self.hand_out(play))]

    async def hand_out(self, play: Rehearsal) -> None:
        perk = play.config.perks[0]
        teams = play.active_teams
        if perk.who == "validated_team":
            for team in teams:
                await play.ask(play.organizer, "admin team validate", name=team.name)
        wanted = (sum(len(team.members) for team in teams) if perk.who == "member" else len(teams))
        codes = play.config.base_dir / "perk-codes.csv"
        codes.write_text("code\n" + "".join(f"REHEARSAL-{perk.id.upper()}-{n:04d}\n" for n in range(wanted)),
                         encoding="utf-8")
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "perks", "import", perk.id, str(codes),
            "--config", str(play.config.base_dir / "event.toml"), "--db", play.db,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await command.communicate()
        self.imported = out.decode().strip() or err.decode().strip()
        play.log(f"organizers: hackbot perks import {perk.id}: {self.imported[:100]}")
        for team in teams:
            answer = await play.ask(team.captain, "perk claim", perk=perk.id)
            if "`" in answer:
                self.claimed.append(answer.split("`")[1])
            else:
                self.refused.append(answer.splitlines()[0][:120])
        if teams:
            again = await play.ask(teams[0].members[-1], "perk claim", perk=perk.id)
            self.repeat_same = bool(self.claimed) and f"`{self.claimed[0]}`" in again
        play.log(f"{len(self.claimed)} team(s) claimed {perk.title}")

    def report(self, play: Rehearsal) -> dict[str, Any]:
        state = play.sandbox.state
        public = [m.text() for messages in state.messages.values() for m in messages if not m.ephemeral]
        log_channel = play.config.discord.log_channel
        warnings = [m for m in state.channel_messages(log_channel) if "code" in m.text() and "perks import" in m.text()]
        return {
            "imported": self.imported, "claimed": len(self.claimed), "distinct": len(set(self.claimed)),
            "repeat_gets_same_code": self.repeat_same, "refused": self.refused,
            "low_stock_warnings": len(warnings),
            "codes_in_public_messages": sum(any(code in text for text in public) for code in set(self.claimed)),
        }


ACT = Perks()
