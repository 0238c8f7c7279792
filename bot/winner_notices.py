"""Judges reminded of their open reviews before a round closes (once each per round, a direct
message through the outbox), interview slots booked and reminded (bot/core/interviews.py), and
the winners' emails, sent once each when due ([winners] notify_at) to the team's addresses
(`hackbot team import`'s emails) over SMTP when the environment gives SMTP_HOST: each is claimed
in the database before it is sent, so two processes or a restart never send it twice. The
winners' direct messages are outbox rows written by the freeze itself (bot/core/winners.py),
sent by the outbox's drainer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.core.mail import MailError, SmtpSettings, send_mail
from bot.core.winners import notice_text

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
        """One pass: the judges' reminders queued, the winners' emails due sent. Returns how many.
        The winners' direct messages are outbox rows the freeze wrote (bot/core/winners.py)."""
        winners = self.bot.services.winners
        sent = await self.remind_judges()
        sent += await self.bot.services.interviews.book_due()  # each team told its interview slot
        sent += await self.bot.services.interviews.remind_due()  # and reminded of it, with its judges
        if not self.bot.config.prizes:
            return sent
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
        """Judges with open reviews, once per round before its close (bot/core/judging.py says when):
        a direct message through the outbox, keyed by round and judge."""
        queued = 0
        for judge, work in await self.bot.services.judging.claim_reminders():
            closes = f" closes <t:{int(work.closes.timestamp())}:R>" if work.closes else ""
            text = (f"Judging reminder: {work.done} of {work.total} reviews done in "
                    f"{work.round.title or work.round.id}; the round{closes}. /judge next shows the next one.")
            queued += await self.bot.services.outbox.enqueue(
                "dm", f"judging-reminder:{work.round.id}:{judge.user_id}", {"user_id": str(judge.user_id), "content": text})
        return queued
