"""Judges reminded of their open reviews before a round closes (once each per round), and the
private notices to winning teams, sent once each when due ([winners] notify_at): a direct
message to every member (the team's channel when a member's DMs are closed, Discord's 50007),
and an email to the team's addresses (`hackbot team import`'s emails) over SMTP when the
environment gives SMTP_HOST. Each notice is claimed in the database before it is sent
(bot/core/winners.py), so two processes or a restart never send it twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from bot.core.mail import MailError, SmtpSettings, send_mail
from bot.core.winners import Notice, notice_text

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


def smtp_settings(bot: Hackbot) -> SmtpSettings | None:
    s = bot.settings
    if not s.smtp_host:
        return None
    return SmtpSettings(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password.get_secret_value() if s.smtp_password
                        else None, s.smtp_from or f"hackbot@{s.smtp_host}", s.smtp_starttls)


class WinnerNotifier:
    def __init__(self, bot: Hackbot):
        self.bot = bot
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop(), name="hackbot-winner-notices")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _loop(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            try:
                await self.run_once()
            except Exception:  # a database or network hiccup: the notices stay claimed-or-pending, try again
                log.exception("winner notices: a pass failed")
            await asyncio.sleep(POLL_SECONDS)

    async def run_once(self) -> int:
        winners = self.bot.services.winners
        sent = await self.remind_judges()
        if not self.bot.config.prizes:
            return sent
        for notice in await winners.claim_notices("discord"):
            ok, detail = await self._discord(notice)
            await winners.notice_done(notice, sent=ok, detail=detail)
            sent += ok
        for notice in await winners.claim_notices("email"):
            settings = smtp_settings(self.bot)
            if settings is None:
                await winners.notice_done(notice, sent=False, detail="no SMTP settings: set SMTP_HOST (and SMTP_FROM, "
                                          "SMTP_USER, SMTP_PASSWORD) in the environment")
                continue
            try:
                await send_mail(settings, list(notice.emails), self.bot.config.winners.email_subject,
                                notice_text(self.bot.config.event.name, notice))
            except MailError as exc:
                await winners.notice_done(notice, sent=False, detail=str(exc))
            else:
                await winners.notice_done(notice, sent=True)
                sent += 1
        return sent

    async def remind_judges(self) -> int:
        """Judges with open reviews, once per round before its close (bot/core/judging.py says when)."""
        sent = 0
        for judge, work in await self.bot.services.judging.claim_reminders():
            closes = f" closes <t:{int(work.closes.timestamp())}:R>" if work.closes else ""
            text = (f"Judging reminder: {work.done} of {work.total} reviews done in "
                    f"{work.round.title or work.round.id}; the round{closes}. /judge next shows the next one.")
            try:
                dm = await self.bot.create_dm(discord.Object(id=int(judge.user_id)))
                await dm.send(text)
                sent += 1
            except (discord.HTTPException, ValueError) as exc:
                log.warning("judging reminder not delivered: %s", getattr(exc, "status", exc))
        return sent

    async def _discord(self, notice: Notice) -> tuple[bool, str]:
        text = notice_text(self.bot.config.event.name, notice)
        closed = []
        reached = 0
        for member in notice.members:
            try:
                dm = await self.bot.create_dm(discord.Object(id=int(member)))
                await dm.send(text)
                reached += 1
            except discord.Forbidden:  # 50007: DMs closed
                closed.append(member)
            except discord.HTTPException as exc:
                closed.append(member)
                log.warning("winner notice to a member of team %s failed: %s", notice.team_id, exc.status)
        if closed and notice.team_channel_id is not None:
            try:
                channel = self.bot.get_channel(notice.team_channel_id) or await self.bot.fetch_channel(notice.team_channel_id)
                if isinstance(channel, discord.abc.Messageable):
                    await channel.send(text)
                    return True, f"{reached} DM(s); posted in the team's channel for {len(closed)} with DMs closed"
            except discord.HTTPException as exc:
                return reached > 0, f"{reached} DM(s); the team's channel refused: {exc.status}"
        if closed and not reached:
            return False, "every member's DMs are closed and the team has no channel"
        return True, f"{reached} DM(s)"
