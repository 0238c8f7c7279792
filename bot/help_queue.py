"""The help queue's Discord side: each ticket's post in the mentors' queue channel (with its
persistent Claim button), the private thread of a claimed ticket in the help channel, the
escalation and stale notices, and the mentors' introductions in team channels.

Everything here runs AFTER the database commit that caused it (bot/core/mentoring.py decides;
this only shows), is idempotent where it can be (a ticket's post and thread ids are stored with
the ticket, and looked up before anything is created), and never fails the command that caused
it: a refusal from Discord is logged and reported to the organizers (the ticket itself is safe in
the database; /mentor queue lists it). A ticket's post is an outbox row written with the ticket
(bot/core/outbox.py, kind ticket.post); the claims' edits, threads and notices still follow the
commit directly.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot import discord_limits as limits
from bot.core.mentor_assignments import Pair
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


async def open_thread(bot: Any, guild: discord.Guild, claim: Claim) -> discord.Thread | None:
    """The ticket's private thread in the help channel with the team and its mentors: made at the
    first claim, reused after (a mentor who claims again, or joins, is added)."""
    section = bot.config.mentoring
    ticket = claim.ticket
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
        name = re.sub(r"\s+", " ", f"ticket {ticket.number} · {ticket.team}")[: limits.THREAD_NAME]
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
            allowed_mentions=discord.AllowedMentions(users=True, roles=False, everyone=False),
        )
        return thread
    await thread.add_user(discord.Object(id=int(claim.mentor)))
    await thread.send(f"<@{claim.mentor}> joined ticket #{ticket.number}.",
                      allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=int(claim.mentor))]))
    return thread


async def thread_note(guild: discord.Guild, ticket: Ticket, text: str, *, view: discord.ui.View | None = None) -> None:
    if ticket.thread_id is None:
        return
    thread = guild.get_thread(ticket.thread_id)
    if thread is None:
        return
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    if view is not None:
        kwargs["view"] = view
    await thread.send(text[: limits.CONTENT], **kwargs)


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
    """The escalation runner's `notify`: pings in the queue channel; a stale ticket's notice goes to
    its team (their channel, else the requester by DM) and its post is updated."""

    async def notify(notice: TicketNotice) -> None:
        await bot.wait_until_ready()
        guild = event_guild(bot)
        if guild is None:
            raise RuntimeError("the event's server is not known (set HACKBOT_GUILD_ID)")
        ticket = notice.ticket
        if notice.kind == "escalation":
            channel = _channel(guild, bot.config.mentoring.queue_channel)
            if channel is None:
                raise RuntimeError(f"there is no #{bot.config.mentoring.queue_channel} channel; /admin setup creates it")
            if ticket.post_message_id is None:
                # its post is an outbox row written with the ticket: run it (or wait for whoever
                # runs it) rather than post a second one
                await bot.drainer.deliver_lane(ticket_lane(ticket.number), bot.executors.in_guild(guild))
                ticket = await bot.services.mentoring.ticket(ticket.number)
                if ticket.post_message_id is None:  # a ticket opened before the outbox
                    await post_ticket(bot, guild, ticket)
            text, allowed = notice_message(guild, notice)
            await channel.send(text, allowed_mentions=allowed)
            return
        await update_post(bot, guild, ticket)
        text = (f"Your help ticket #{ticket.number} waited {int(notice.waited.total_seconds() // 60)} min without a "
                f"mentor and was closed. Reopen it with `/ticket reopen {ticket.number}` if you still need help.")
        team_channel = await _team_channel(bot, guild, ticket)
        if team_channel is not None:
            await team_channel.send(f"<@{ticket.requester}> {text}",
                                    allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=int(ticket.requester))]))
            return
        user = await bot.fetch_user(int(ticket.requester))
        await user.send(text)

    return notify


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


async def introduce(bot: Any, guild: discord.Guild, pairs: list[Pair]) -> list[str]:
    """Each team's channel gets its mentor's introduction; returns the teams that could not be told."""
    missed = []
    for pair in pairs:
        channel = guild.get_channel(pair.channel_id) if pair.channel_id else None
        if not isinstance(channel, discord.abc.Messageable):
            missed.append(pair.team)
            continue
        topics = f" (you share: {', '.join(pair.shared)})" if pair.shared else ""
        try:
            await channel.send(
                f"Meet your mentor, <@{pair.mentor}>{topics}. Ask them anything about your project; for a quick "
                "unblock anyone on duty can take a `/help` ticket.",
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=int(pair.mentor))]),
            )
        except discord.HTTPException as exc:
            log.warning("could not introduce the mentor of team %s: %s", pair.team, exc)
            missed.append(pair.team)
    return missed
