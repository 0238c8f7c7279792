"""Where reminders and organizer reports go: Discord when the bot runs, the log when it does not.

The core (bot.core.reminders.ReminderRunner) decides what is due and claims it in the database
before calling a Poster; a Poster only delivers. A delivery that fails raises PostFailed, which
says whether trying again may help (Discord 5xx, 429, a network error) or not (no such channel,
no permission): the core retries the first kind and records the second.

Reminders go to the item's channel (found by name in the event's guild), or to the
announcements channel when the item names none or its channel is gone. Organizer reports go to
the announcements channel too, for lack of an organizers' log channel in the event file (a
`[discord] log_channel` key would be the place for one): they name reminders and their failures,
never labels or credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import aiohttp
import discord

from bot import discord_limits as limits
from bot.core.reminders import Poster, PostFailed, Reminder
from bot.tree import explain

log = logging.getLogger(__name__)

Reporter = Callable[[str], Awaitable[None]]
LIMIT = limits.CONTENT


def event_guild(bot) -> discord.Guild | None:
    """HACKBOT_GUILD_ID's guild, else the bot's only guild (never a guess among several)."""
    guild_id = bot.settings.hackbot_guild_id
    if guild_id:
        return bot.get_guild(guild_id)
    guilds = list(bot.guilds)
    return guilds[0] if len(guilds) == 1 else None


def _guild_or_fail(bot) -> discord.Guild:
    guild = event_guild(bot)
    if guild is not None:
        return guild
    guild_id = bot.settings.hackbot_guild_id
    if guild_id:
        # the guild is configured but not in the cache: unavailable during an outage, or left
        raise PostFailed(retryable=True, reason=f"the event's server ({guild_id}) is not available right now")
    if not bot.guilds:
        raise PostFailed(retryable=False, reason="the bot is in no Discord server; invite it to the event's server")
    raise PostFailed(
        retryable=False,
        reason=f"the bot is in {len(bot.guilds)} servers; set HACKBOT_GUILD_ID to the event's server",
    )


def _channel_name(name: str) -> str:
    """"Hack News" or "#talks" as Discord named the channel: "hack-news", "talks"."""
    return limits.channel_name(name.strip().removeprefix("#"))


def phase_announcement(phase) -> str:
    """What /admin phase set and `hackbot phase set` post in the announcements channel (an outbox row, kind phase.open)."""
    return f"Phase '{phase.id}' is now open: new datasets, leaderboard starts from zero"


def find_channel(guild: discord.Guild, wanted: str | None, announcements: str) -> discord.TextChannel:
    """The item's channel by name, else the announcements channel; PostFailed when neither exists."""
    if wanted:
        channel = discord.utils.get(guild.text_channels, name=_channel_name(wanted))
        if channel is not None:
            return channel
        log.warning("no #%s channel in %s; posting the reminder in #%s", wanted, guild.name, announcements)
    channel = discord.utils.get(guild.text_channels, name=_channel_name(announcements))
    if channel is None:
        missing = f"#{_channel_name(wanted)} nor #{announcements}" if wanted else f"#{announcements}"
        raise PostFailed(
            retryable=False,
            reason=f"there is no {missing} channel in {guild.name}; create it or change the item's channel",
        )
    return channel


def role_mentions(guild: discord.Guild, names: list[str]) -> tuple[list[str], discord.AllowedMentions]:
    """`<@&id>` for each role found by name; an unknown role is written as plain text (no ping).
    Only these roles may ping: never @everyone, whatever the text says."""
    parts: list[str] = []
    roles: list[discord.Object] = []
    for name in names:
        key = name.strip().removeprefix("@")
        role = discord.utils.get(guild.roles, name=key)
        if role is None:
            log.warning("no role named %r in %s; the reminder names it without a ping", key, guild.name)
            parts.append(f"@{discord.utils.escape_mentions(key)}")
            continue
        parts.append(f"<@&{role.id}>")
        roles.append(discord.Object(id=role.id))
    return parts, discord.AllowedMentions(everyone=False, users=False, roles=roles)


def discord_time(when: datetime, style: str) -> str:
    """A Discord timestamp (<t:UNIX:STYLE>): every reader sees it in their own time zone."""
    return f"<t:{int(when.timestamp())}:{style}>"


def reminder_message(reminder: Reminder, mentions: list[str]) -> str:
    """The roles, then Reminder.text() with Discord timestamps: the title, its times, and, when
    posted late, the line saying so (the runner keeps the same text: it is given discord_time)."""
    text = reminder.text(discord_time)
    if mentions:
        text = f"{' '.join(mentions)}\n{text}"
    return text[:LIMIT]


def _retry_after(exc: discord.HTTPException) -> float | None:
    value = exc.response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _failure(exc: Exception, where: str, guild: discord.Guild | None = None) -> PostFailed:
    if isinstance(exc, discord.RateLimited):  # discord.py gave up waiting: the wait is too long
        return PostFailed(True, f"rate limited by Discord in {where}", retry_after=exc.retry_after)
    if isinstance(exc, discord.Forbidden):
        # what the organizers must change: the permission, named (bot.tree.explain)
        return PostFailed(retryable=False, reason=f"not posted in {where}: {explain(exc, guild)}")
    if isinstance(exc, discord.NotFound):
        return PostFailed(retryable=False, reason=f"{where} no longer exists ({exc.status})")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return PostFailed(True, f"rate limited by Discord in {where}", retry_after=_retry_after(exc))
        retryable = exc.status >= 500
        return PostFailed(retryable=retryable, reason=f"Discord answered {exc.status} in {where}: {exc.text}")
    return PostFailed(retryable=True, reason=f"could not reach Discord ({type(exc).__name__}: {exc})")


def discord_poster(bot) -> Poster:
    """Post a reminder in the event's guild; wait until the bot's guild cache is ready."""

    async def post(reminder: Reminder) -> None:
        await bot.wait_until_ready()
        guild = _guild_or_fail(bot)
        channel = find_channel(guild, reminder.item.channel, bot.config.discord.announcements_channel)
        mentions, allowed = role_mentions(guild, list(reminder.item.mention))
        where = f"#{channel.name}"
        try:
            await channel.send(reminder_message(reminder, mentions), allowed_mentions=allowed)
        except (TimeoutError, discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as exc:
            raise _failure(exc, where, guild) from exc
        log.info("reminder %s for %r posted in %s", reminder.id, reminder.item.title, where)

    return post


def log_poster(logger: logging.Logger | None = None) -> Poster:
    """The offline run's poster: the reminder goes to the log (and the web page shows it)."""
    logger = logger or log

    async def post(reminder: Reminder) -> None:
        channel = reminder.item.channel
        where = f"#{_channel_name(channel)}" if channel else "the announcements channel"
        mentions = " ".join(f"@{name}" for name in reminder.item.mention)
        logger.info(
            "reminder (offline, not posted to Discord) in %s%s: %s",
            where,
            f" mentioning {mentions}" if mentions else "",
            reminder_message(reminder, []).replace("\n", " | "),  # one line in the log
        )

    return post


def discord_reporter(bot) -> Reporter:
    """Organizer reports (a reminder that could not be posted, ...) in the organizers' private log
    channel (falling back to announcements); a report that cannot be delivered is logged, never
    raised into the reminder runner."""

    async def report(text: str) -> None:
        try:
            await bot.wait_until_ready()
            guild = _guild_or_fail(bot)
            section = bot.config.discord
            channel = find_channel(guild, section.log_channel, section.announcements_channel)
            await channel.send(f"⚠️ {text}"[:LIMIT], allowed_mentions=discord.AllowedMentions.none())
        except PostFailed as exc:
            log.warning("could not deliver a report to Discord: %s", exc.reason)
        except (TimeoutError, discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as exc:
            log.warning("could not deliver a report to Discord: %s: %s", type(exc).__name__, exc)

    return report


def log_reporter(logger: logging.Logger | None = None) -> Reporter:
    """Reports to a logger of your choice. ReminderRunner already logs every report (bot.core.reminders)
    at WARNING, so the offline run needs no reporter; this one is for tools that want them elsewhere."""
    logger = logger or log

    async def report(text: str) -> None:
        logger.warning("report: %s", text)

    return report
