"""The help queue's Discord side: each ticket's post in the mentors' queue channel (with its
persistent Claim button), the private thread of a claimed ticket in the help channel, the
escalation and stale notices, and the mentors' introductions in team channels.

Every one of these is an outbox row written in the transaction of the change that causes it
(bot/core/mentoring.py and bot/core/ticket_escalation.py decide; bot/outbox_executors.py runs
the rows through the functions here): a ticket's post, its edits, its thread, the thread's notes,
the escalation and stale notices. Each may run twice for one row (a drainer killed after Discord
answered): the post and thread ids are stored with the ticket and looked up (the thread by name
too) before anything is created, an edit shows the ticket as it is now, and every message carries
the row's nonce, which Discord enforces. A refusal from Discord never fails the command: the row
is retried or reported to the organizers (the ticket itself is safe in the database).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot import discord_limits as limits
from bot.core.mentoring import Claim, Ticket, ticket_lane
from bot.core.ticket_escalation import TicketNotice, describe
from bot.guild import find_role, find_text_channel
from bot.posting import event_guild

log = logging.getLogger(__name__)

CLAIM_ID = "hackbot:ticket:claim:{number}"
CLAIM_TEMPLATE = r"hackbot:ticket:claim:(?P<number>[0-9]+)"
RATE_TEMPLATE = r"hackbot:ticket:rate:(?P<number>[0-9]+):(?P<score>[1-5])"


def ticket_text(ticket: Ticket, *, status: str | None = None) -> str:
    """The queue post's text: never a mention (names people chose never ping)."""
    tags = ", ".join(ticket.tags) or "no tag"
    where = f"\nWhere: {ticket.place}" if ticket.place else ""
    head = f"**Ticket #{ticket.number}** · team **{discord.utils.escape_markdown(ticket.team)}** · {tags}"
    body = f"{head}\nOpened <t:{int(ticket.opened_at.timestamp())}:R>{where}\n>>> {ticket.problem}"
    if status:
        body = f"{status}\n{body}"
    return body[: limits.CONTENT]


def claim_view(number: int, *, disabled: bool = False) -> discord.ui.View:
    """The post's button: persistent (its custom_id names the ticket; bot/cogs/mentoring.py's
    ClaimButton answers it in any process, after any restart)."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Claim" if not disabled else "Claimed", style=discord.ButtonStyle.primary,
                                    custom_id=CLAIM_ID.format(number=number), disabled=disabled))
    return view


def rate_view(number: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for score in range(1, 6):
        view.add_item(discord.ui.Button(label="★" * score, style=discord.ButtonStyle.secondary,
                                        custom_id=f"hackbot:ticket:rate:{number}:{score}"))
    return view


def _channel(guild: discord.Guild, name: str) -> discord.TextChannel | None:
    return find_text_channel(guild, name)


async def post_ticket(bot: Any, guild: discord.Guild, ticket: Ticket, *, nonce: str | None = None) -> None:
    """The ticket's post in the mentors' queue channel (made once: its ids are stored; `nonce`, the
    outbox row's, makes a second run after a crash return the same message)."""
    section = bot.config.mentoring
    if ticket.post_message_id is not None:
        return
    channel = _channel(guild, section.queue_channel)
    if channel is None:
        log.warning("no #%s channel: ticket #%s is not posted (/admin setup creates it)", section.queue_channel,
                    ticket.number)
        return
    extra: dict[str, Any] = {"nonce": nonce} if nonce is not None else {}
    message = await channel.send(ticket_text(ticket), view=claim_view(ticket.number),
                                 allowed_mentions=discord.AllowedMentions.none(), **extra)
    await bot.services.mentoring.set_post(ticket.number, channel.id, message.id)


async def update_post(bot: Any, guild: discord.Guild, ticket: Ticket) -> None:
    """The post as the ticket is now: claimed by someone, back in the queue, or closed."""
    if ticket.post_channel_id is None or ticket.post_message_id is None:
        return
    channel = guild.get_channel(ticket.post_channel_id)
    if not isinstance(channel, discord.TextChannel):
        return
    message = channel.get_partial_message(ticket.post_message_id)
    if ticket.status == "claimed":
        status, view = f"🔒 Claimed by <@{ticket.claimed_by}>", claim_view(ticket.number, disabled=True)
    elif ticket.status == "open":
        status, view = "🔓 Back in the queue", claim_view(ticket.number)
    else:
        status, view = f"✅ {ticket.status.capitalize()}", None
    await message.edit(content=ticket_text(ticket, status=status), view=view,
                       allowed_mentions=discord.AllowedMentions.none())


def thread_name(ticket: Ticket) -> str:
    return re.sub(r"\s+", " ", f"ticket {ticket.number} · {ticket.team}")[: limits.THREAD_NAME]


async def open_thread(bot: Any, guild: discord.Guild, claim: Claim, *, nonce: str | None = None) -> discord.Thread | None:
    """The ticket's private thread in the help channel with the team and its mentors: made at the
    first claim, reused after (a mentor who claims again, or joins, is added). `nonce`: the outbox
    row's, so a second run sends nothing new."""
    section = bot.config.mentoring
    ticket = claim.ticket
    extra: dict[str, Any] = {"nonce": nonce} if nonce is not None else {}
    thread: discord.Thread | None = None
    if ticket.thread_id is not None:
        found = guild.get_thread(ticket.thread_id) or guild.get_channel(ticket.thread_id)
        if found is None:
            try:
                fetched = await guild.fetch_channel(ticket.thread_id)
                found = fetched if isinstance(fetched, discord.Thread) else None
            except discord.NotFound:
                found = None
        thread = found if isinstance(found, discord.Thread) else None
    if thread is None:
        channel = _channel(guild, section.help_channel)
        if channel is None:
            log.warning("no #%s channel: ticket #%s has no thread (/admin setup creates it)", section.help_channel,
                        ticket.number)
            return None
        name = thread_name(ticket)
        thread = discord.utils.get(channel.threads, name=name)  # made by a run that died before storing it
        if thread is None:
            thread = await channel.create_thread(name=name, type=discord.ChannelType.private_thread, invitable=False,
                                                 reason=f"help ticket #{ticket.number}")
        await bot.services.mentoring.set_thread(ticket.number, thread.id)
        for user_id in claim.members:
            await thread.add_user(discord.Object(id=int(user_id)))
        await thread.add_user(discord.Object(id=int(claim.mentor)))
        people = " ".join(f"<@{u}>" for u in claim.members)
        await thread.send(
            f"{people}: <@{claim.mentor}> took your ticket #{ticket.number}.\n"
            f"{ticket_text(ticket)}\n\nWhen it is solved, `/ticket resolve {ticket.number}`.",
            allowed_mentions=discord.AllowedMentions(users=True, roles=False, everyone=False), **extra,
        )
        return thread
    await thread.add_user(discord.Object(id=int(claim.mentor)))
    await thread.send(f"<@{claim.mentor}> joined ticket #{ticket.number}.",
                      allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=int(claim.mentor))]), **extra)
    return thread


NOTES = {
    "released": "Ticket #{number} is back in the queue: another mentor will take it.",
    "resolved": "Ticket #{number} is resolved. How was the help? Rate it (only your team can):",
    "cancelled": "Ticket #{number} was cancelled.",
}


async def thread_note(guild: discord.Guild, ticket: Ticket, note: str, *, nonce: str | None = None) -> bool:
    """One of NOTES in the ticket's thread (the rating buttons after a resolve); False: no thread."""
    if ticket.thread_id is None:
        return False
    thread = guild.get_thread(ticket.thread_id)
    if thread is None:
        return False
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    if note == "resolved":
        kwargs["view"] = rate_view(ticket.number)
    if nonce is not None:
        kwargs["nonce"] = nonce
    await thread.send(NOTES[note].format(number=ticket.number)[: limits.CONTENT], **kwargs)
    return True


def notice_message(guild: discord.Guild, notice: TicketNotice) -> tuple[str, discord.AllowedMentions]:
    """An escalation's message for the mentors' queue channel, and exactly whom it may ping."""
    ticket = notice.ticket
    minutes = int(notice.waited.total_seconds() // 60)
    users = [discord.Object(id=int(u)) for u in notice.mentors][: limits.MENTION_IDS]
    roles: list[discord.Role] = []
    who = " ".join(f"<@{u}>" for u in notice.mentors[: limits.MENTION_IDS])
    if notice.role:
        role = find_role(guild, notice.role)
        if role is not None:
            roles.append(role)
            who = f"{who} {role.mention}".strip()
        else:
            who = f"{who} @{notice.role}".strip()
    late = " (sent late: the bot was down)" if notice.late else ""
    where = f" (position {notice.position})" if notice.position else ""
    text = (f"{who or 'Mentors'}: ticket #{ticket.number} of team {ticket.team} ({', '.join(ticket.tags) or 'no tag'})"
            f" has waited {minutes} min{where}{late}. Claim it with its button above, or /mentor claim {ticket.number}.")
    return text[: limits.CONTENT], discord.AllowedMentions(users=users, roles=roles, everyone=False)


def discord_notifier(bot: Any):
    """The escalation runner's `notify`: the notice is an outbox row written with the step's claim
    (kind ticket.notice); run the ticket's lane now rather than wait for the drainer's poll."""

    async def notify(notice: TicketNotice) -> None:
        if not bot.drains_outbox():
            return  # the drainer of the process holding the gateway posts it
        guild = event_guild(bot)
        if guild is None:
            raise RuntimeError("the event's server is not known (set HACKBOT_GUILD_ID)")
        await bot.drainer.deliver_lane(ticket_lane(notice.ticket.number), bot.executors.in_guild(guild))

    return notify


async def send_notice(bot: Any, guild: discord.Guild, notice: TicketNotice, *, nonce: str) -> dict[str, Any]:
    """An escalation pings in the queue channel; a stale ticket's notice goes to its team (their
    channel, else the requester by DM) and its post is updated."""
    ticket = notice.ticket
    if notice.kind == "escalation":
        channel = _channel(guild, bot.config.mentoring.queue_channel)
        if channel is None:
            raise RuntimeError(f"there is no #{bot.config.mentoring.queue_channel} channel; /admin setup creates it")
        text, allowed = notice_message(guild, notice)
        message = await channel.send(text, allowed_mentions=allowed, nonce=nonce)
        return {"channel_id": channel.id, "message_id": message.id}
    await update_post(bot, guild, ticket)
    text = (f"Your help ticket #{ticket.number} waited {int(notice.waited.total_seconds() // 60)} min without a "
            f"mentor and was closed. Reopen it with `/ticket reopen {ticket.number}` if you still need help.")
    team_channel = await _team_channel(bot, guild, ticket)
    if team_channel is not None:
        message = await team_channel.send(
            f"<@{ticket.requester}> {text}", nonce=nonce,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=int(ticket.requester))]))
        return {"message_id": message.id}
    user = await bot.fetch_user(int(ticket.requester))
    message = await user.send(text, nonce=nonce)
    return {"dm": True, "message_id": message.id}


async def _team_channel(bot: Any, guild: discord.Guild, ticket: Ticket) -> discord.abc.Messageable | None:
    infos = await bot.services.roster.infos()
    info = next((i for i in infos if i.team.id == ticket.team_id), None)
    if info is None or info.discord_channel_id is None:
        return None
    channel = guild.get_channel(info.discord_channel_id) or guild.get_thread(info.discord_channel_id)
    return channel if isinstance(channel, discord.abc.Messageable) else None


def log_notifier(logger: logging.Logger | None = None):
    """Offline (no Discord token): the notices go to the log."""
    out = logger or log

    async def notify(notice: TicketNotice) -> None:
        out.info("help queue: %s", describe(notice))

    return notify


def intro_text(mentor: str, shared: list[str] | tuple[str, ...]) -> str:
    """A mentor's introduction in a team's channel (an outbox row of kind mentor.intro)."""
    topics = f" (you share: {', '.join(shared)})" if shared else ""
    return (f"Meet your mentor, <@{mentor}>{topics}. Ask them anything about your project; for a quick "
            "unblock anyone on duty can take a `/help` ticket.")
