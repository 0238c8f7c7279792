"""The Discord side of the outbox (bot/core/outbox.py): each kind of row, executed through
discord.py in the event's server.

Every executor may run twice for one row (a drainer killed after Discord answered but before the
row was marked): it looks up what it would make before making it (bot/guild.py stores a team's
role and channel ids and finds them again by id, name or topic marker), and every message is
sent with the row's nonce, which Discord enforces (`enforce_nonce`: a message with a nonce seen
from the bot in the past few minutes is returned, not created again; discord.py sets it whenever
a nonce is given).

Pacing: requests go through discord.py's per-route buckets (it reads X-RateLimit-Remaining and
-Reset-After and waits) and bot/pacing.py's global 45 a second, so a drain meets no 429 of its
own; a 429 or a 5xx that still comes back, or a network error, is retried by the drainer with a
backoff. 401, 403 (a permission the organizers must give, named by bot.tree.explain), 404 (the
channel or message is gone) and 50007 (DMs closed, when there is no team channel to fall back
on) are permanent: the row is marked failed with the reason and the organizers are told.

Kinds (payloads are structured; the text is written here, never by the core):
  team.space {team_id, captain}        the team's role and private channel, then a welcome
  team.join {team_id, user_id}         a member let into the space, and announced there
  team.leave {team_id, user_id}        a member taken out of the space
  team.disband {team_id, role_id, channel_id}   the space deleted
  match.placed {team_id, members, newcomers, shared_topics, levels, existing}   a matched team's
                                       space, each newcomer's DM, the ice-breaker (bot/cogs/matchmaking.py)
  team.rename {team_id}                role and channel renamed after the team
  message {channel | channel_id, content, roles, users, embeds}   a post in a channel (by name or id);
                                       embeds: discord.Embed.to_dict() of each (the leaderboard)
  dm {user_id, content, team_id}       a direct message; closed DMs (50007) fall back on the
                                       team's channel, mentioning the person
  team.notice {team_id, content}       a notice in the team's channel (a project's verdict, a draft
                                       reminder); the channel is looked up when it runs
  role.add / role.remove {user_id, role_id}
  thread.create {channel_id, name, user_ids, content}   a private thread (found by name first)
  message.edit {channel_id, message_id, content}
  reminder {reminder_id, channel, mention, text}        a schedule reminder (bot/posting.py)
  vote.open {vote_id, closes_at}       a vote's announcement: link, QR code, Vote button (bot/cogs/votes.py)
  vote.close {vote_id}                 a closed vote's public turnout (results when they may be shown)
  phase.open {phase}                   a phase's announcement (/admin phase set, hackbot phase set)
  announcement {parts: [{content, roles}]}              the winners, in the announcements channel
  ticket.post {number}                 a help ticket's post in the mentors' queue (bot/help_queue.py)
  ticket.edit {number}                 the post shown as the ticket is now
  ticket.thread {number, mentor}       the ticket's private thread opened (first claim) or joined
  ticket.note {number, note}           a line in the ticket's thread (released, resolved, cancelled)
  ticket.notice {number, kind, ...}    an escalation ping or a stale notice (bot/core/ticket_escalation.py)
  mentor.intro {team_id, mentor, shared}   a mentor's introduction in the team's channel
  report {text}                        a line in the organizers' log channel
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot import discord_limits as limits
from bot import guild as spaces
from bot.core.errors import NotFound
from bot.core.outbox import DeliveryFailed, Executor, OutboxRow, nonce
from bot.core.reminders import PostFailed
from bot.core.teams import Team
from bot.posting import event_guild, find_channel, phase_announcement, role_mentions
from bot.tree import explain

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

Result = dict[str, Any] | None
Handler = Callable[["DiscordExecutors", discord.Guild, OutboxRow], Awaitable[Result]]
DM_CLOSED = 50007
PERMANENT_STATUSES = (400, 401, 403, 404)

_HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def kinds() -> list[str]:
    return sorted(_HANDLERS)


def failure(exc: BaseException, what: str, guild: discord.Guild | None = None) -> DeliveryFailed:
    """What a discord.py error means for a row: retry (429, 5xx, network) or give up (the rest)."""
    if isinstance(exc, DeliveryFailed):
        return exc
    if isinstance(exc, discord.RateLimited):  # discord.py gave up waiting: the wait was too long
        return DeliveryFailed(True, f"rate limited by Discord ({what})", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            after = exc.response.headers.get("Retry-After")
            return DeliveryFailed(True, f"rate limited by Discord ({what})",
                                  retry_after=float(after) if after else None)
        if exc.status >= 500:
            return DeliveryFailed(True, f"Discord answered {exc.status} ({what})")
        return DeliveryFailed(False, f"could not {what}: {explain(exc, guild)}")
    return DeliveryFailed(True, f"could not reach Discord ({what}: {type(exc).__name__}: {exc})")


class DiscordExecutors:
    """`execute(row)` in the event's server (the drainer's executor); `in_guild(guild)` an
    executor bound to a guild at hand (an interaction's)."""

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @property
    def services(self):
        return self.bot.services

    async def execute(self, row: OutboxRow) -> Result:
        return await self._run(self._guild(), row)

    def in_guild(self, guild: discord.Guild) -> Executor:
        async def execute(row: OutboxRow) -> Result:
            return await self._run(guild, row)

        return execute

    def _guild(self) -> discord.Guild:
        if not self.bot.is_ready():
            raise DeliveryFailed(True, "the bot is not connected to Discord yet")
        guild = event_guild(self.bot)
        if guild is None:
            raise DeliveryFailed(False, "the event's Discord server is not known: set HACKBOT_GUILD_ID")
        return guild

    async def _run(self, guild: discord.Guild, row: OutboxRow) -> Result:
        handler = _HANDLERS.get(row.kind)
        if handler is None:
            raise DeliveryFailed(False, f"no executor for {row.kind!r} in this release")
        try:
            return await handler(self, guild, row)
        except (DeliveryFailed, discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError,
                TimeoutError) as exc:
            raise failure(exc, row.kind.replace(".", " "), guild) from exc

    # --- shared steps ------------------------------------------------------------------------

    async def team(self, team_id: int) -> Team | None:
        try:
            return await self.services.roster.by_id(team_id)
        except NotFound:
            return None  # removed meanwhile: nothing to show

    @staticmethod
    async def member(guild: discord.Guild, user_id: str | int) -> discord.Member | None:
        member = guild.get_member(int(user_id))
        if member is not None:
            return member
        try:
            return await guild.fetch_member(int(user_id))  # without the members intent
        except discord.NotFound:
            return None  # left the server

    @staticmethod
    async def send(channel: discord.abc.Messageable, row: OutboxRow, content: str, *, part: int = 0,
                   allowed: discord.AllowedMentions | None = None, **kwargs: Any) -> discord.Message:
        """A message with the row's nonce (one a part): sent at most once however often it runs."""
        tag = row.nonce if part == 0 else nonce(f"{row.key}#{part}")
        return await channel.send(content[: limits.CONTENT] or None, nonce=tag,
                                  allowed_mentions=allowed or discord.AllowedMentions.none(), **kwargs)

    async def team_channel(self, guild: discord.Guild, team_id: int | None) -> spaces.Space | None:
        if team_id is None:
            return None
        team = await self.team(int(team_id))
        if team is None:
            return None
        info = await self.services.roster.info(team)
        found = guild.get_channel_or_thread(info.discord_channel_id) if info.discord_channel_id else None
        return found if isinstance(found, (discord.TextChannel, discord.Thread)) else None


def _mention(user_id: str | int) -> str:
    return f"<@{user_id}>"


def _users(*ids: str | int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(id=int(u)) for u in ids])


def _shown(name: str) -> str:
    return discord.utils.escape_markdown(discord.utils.escape_mentions(name))


# --- teams ---------------------------------------------------------------------------------------

@handles("team.space")
async def _team_space(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    team = await ex.team(row.payload["team_id"])
    if team is None:
        return {"skipped": "the team no longer exists"}
    captain = row.payload.get("captain")
    known = [m for m in [await ex.member(guild, captain)] if m is not None] if captain else []
    space = await spaces.ensure_team_space(guild, ex.services.config, ex.services, team, members=known)
    result: dict[str, Any] = {"role_id": space.role.id if space.role else None,
                              "channel_id": space.channel.id if space.channel else None, "created": space.created,
                              "thread": isinstance(space.channel, discord.Thread)}
    if captain and space.channel is not None:
        message = await ex.send(space.channel, row, f"Welcome, team **{_shown(team.name)}**! {_mention(captain)} is "
                                "the captain.", allowed=_users(captain))
        result["message_id"] = message.id
    return result


@handles("team.join")
async def _team_join(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    team = await ex.team(row.payload["team_id"])
    user_id = row.payload["user_id"]
    member = await ex.member(guild, user_id)
    if team is None or member is None:
        return {"skipped": "the team or the member is gone"}
    if str(member.id) not in await ex.services.teams.members(team.id):
        return {"skipped": "no longer a member"}  # left before this ran: the leave row takes over
    space = await spaces.add_member_access(guild, ex.services.config, ex.services, team, member)
    result: dict[str, Any] = {"channel_id": space.channel.id if space.channel else None}
    if space.channel is not None:
        message = await ex.send(space.channel, row, f"{_mention(user_id)} joined the team.", allowed=_users(user_id))
        result["message_id"] = message.id
    return result


@handles("team.leave")
async def _team_leave(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    team = await ex.team(row.payload["team_id"])
    member = await ex.member(guild, row.payload["user_id"])
    if team is None or member is None:
        return {"skipped": "the team or the member is gone"}
    if str(member.id) in await ex.services.teams.members(team.id):
        return {"skipped": "a member again"}  # joined back before this ran
    await spaces.remove_member_access(guild, ex.services.config, ex.services, team, member)
    return {}


@handles("team.disband")
async def _team_disband(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    removed = await spaces.remove_team_space(guild, p["team_id"], p.get("role_id"), p.get("channel_id"))
    return {"removed": removed}


@handles("team.rename")
async def _team_rename(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    team = await ex.team(row.payload["team_id"])
    if team is None:
        return {"skipped": "the team no longer exists"}
    info = await ex.services.roster.info(team)
    if not info.members:
        return {"skipped": "the team has no members"}
    await spaces.ensure_team_space(guild, ex.services.config, ex.services, team)
    return {}


@handles("match.placed")
async def _match_placed(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot.cogs import matchmaking

    team = await ex.team(row.payload["team_id"])
    if team is None:
        return {"skipped": "the team no longer exists"}
    placed = matchmaking.placed_from(team, row.payload)
    members = [m for m in [await ex.member(guild, u) for u in placed.members] if m is not None]
    newcomers = [m for m in members if str(m.id) in placed.newcomers]
    config = ex.services.config
    space: spaces.TeamSpace | None = None
    if placed.existing:
        for member in newcomers:
            space = await spaces.add_member_access(guild, config, ex.services, team, member)
    else:
        space = await spaces.ensure_team_space(guild, config, ex.services, team, members=members)
    told = closed = 0
    for n, member in enumerate(newcomers, start=1):  # each DM its own nonce: a second run sends none again
        try:
            await ex.send(member, row, matchmaking.matched_dm(placed, str(member.id)), part=n)
            told += 1
        except discord.Forbidden as exc:
            if exc.code != DM_CLOSED:
                raise
            closed += 1  # their privacy settings refuse server members' messages: the channel tells them
    result: dict[str, Any] = {"told": told, "closed": closed}
    if space is not None and space.channel is not None:
        message = await ex.send(space.channel, row, matchmaking.icebreaker(placed),
                                allowed=_users(*placed.members))
        result["message_id"] = message.id
    return result


# --- messages, DMs, roles, threads -----------------------------------------------------------------

@handles("message")
async def _message(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    channel: discord.abc.Messageable | None
    if p.get("channel_id"):
        found = guild.get_channel_or_thread(int(p["channel_id"]))
        channel = found if isinstance(found, discord.abc.Messageable) else None
        if channel is None:
            raise DeliveryFailed(False, f"channel {p['channel_id']} no longer exists")
    else:
        try:
            channel = find_channel(guild, p.get("channel"), ex.services.config.discord.announcements_channel)
        except PostFailed as exc:
            raise DeliveryFailed(exc.retryable, exc.reason) from exc
    allowed = discord.AllowedMentions(everyone=False, users=[discord.Object(id=int(u)) for u in p.get("users", [])],
                                      roles=[discord.Object(id=int(r)) for r in p.get("roles", [])])
    embeds = [discord.Embed.from_dict(e) for e in p.get("embeds", [])]
    extra: dict[str, Any] = {"embed": embeds[0]} if len(embeds) == 1 else {"embeds": embeds} if embeds else {}
    message = await ex.send(channel, row, p["content"], allowed=allowed, **extra)
    return {"channel_id": message.channel.id, "message_id": message.id}


@handles("dm")
async def _dm(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    member = await ex.member(guild, p["user_id"])
    if member is None:
        raise DeliveryFailed(False, f"user {p['user_id']} is no longer in the server")
    try:
        message = await ex.send(member, row, p["content"])
        return {"dm": True, "message_id": message.id}
    except discord.Forbidden as exc:
        if exc.code != DM_CLOSED:
            raise
        fallback = await ex.team_channel(guild, p.get("team_id"))
        if fallback is None:
            raise DeliveryFailed(False, f"user {p['user_id']} does not accept direct messages and has no team channel"
                                 " to tell them in") from exc
        message = await ex.send(fallback, row, f"{_mention(p['user_id'])} {p['content']}", part=1,
                                allowed=_users(p["user_id"]))
        return {"dm": False, "channel_id": fallback.id, "message_id": message.id}


async def _role_and_member(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow):
    role = guild.get_role(int(row.payload["role_id"]))
    if role is None:
        raise DeliveryFailed(False, f"role {row.payload['role_id']} no longer exists")
    return role, await ex.member(guild, row.payload["user_id"])


@handles("role.add")
async def _role_add(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    role, member = await _role_and_member(ex, guild, row)
    if member is None:
        return {"skipped": "not in the server"}
    if role not in member.roles:
        await member.add_roles(role, reason=row.payload.get("reason") or "hackbot")
    return {}


@handles("role.remove")
async def _role_remove(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    role, member = await _role_and_member(ex, guild, row)
    if member is not None and role in member.roles:
        await member.remove_roles(role, reason=row.payload.get("reason") or "hackbot")
    return {}


@handles("thread.create")
async def _thread_create(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    parent = guild.get_channel(int(p["channel_id"]))
    if not isinstance(parent, discord.TextChannel):
        raise DeliveryFailed(False, f"channel {p['channel_id']} no longer exists")
    name = p["name"][: limits.THREAD_NAME]
    thread = discord.utils.get(parent.threads, name=name)  # made by a run that died before it was marked
    if thread is None:
        thread = await parent.create_thread(name=name, type=discord.ChannelType.private_thread, invitable=False)
    for user_id in p.get("user_ids", []):
        await thread.add_user(discord.Object(id=int(user_id)))
    if p.get("content"):
        await ex.send(thread, row, p["content"], allowed=_users(*p.get("user_ids", [])))
    return {"thread_id": thread.id}


@handles("message.edit")
async def _message_edit(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    channel = guild.get_channel_or_thread(int(p["channel_id"]))
    if not isinstance(channel, (discord.TextChannel, discord.Thread)):
        raise DeliveryFailed(False, f"channel {p['channel_id']} no longer exists")
    await channel.get_partial_message(int(p["message_id"])).edit(content=p["content"][: limits.CONTENT],
                                                                 allowed_mentions=discord.AllowedMentions.none())
    return {}


@handles("team.notice")
async def _team_notice(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    channel = await ex.team_channel(guild, row.payload["team_id"])
    if channel is None:  # no space (yet, or any more): the team reads it with /project show
        return {"skipped": "the team has no channel"}
    message = await ex.send(channel, row, row.payload["content"])
    return {"channel_id": channel.id, "message_id": message.id}


# --- the event's posts -------------------------------------------------------------------------------

@handles("reminder")
async def _reminder(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    p = row.payload
    try:
        channel = find_channel(guild, p.get("channel"), ex.services.config.discord.announcements_channel)
    except PostFailed as exc:  # neither the item's channel nor the announcements channel
        raise DeliveryFailed(exc.retryable, exc.reason) from exc
    mentions, allowed = role_mentions(guild, list(p.get("mention", [])))
    text = f"{' '.join(mentions)}\n{p['text']}" if mentions else p["text"]
    message = await ex.send(channel, row, text, allowed=allowed)
    log.info("reminder %s posted in #%s", p.get("reminder_id"), channel.name)
    return {"channel_id": channel.id, "message_id": message.id}


@handles("announcement")
async def _announcement(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    try:
        channel = spaces.announcements_channel(guild, ex.services.config)
    except NotFound as exc:
        raise DeliveryFailed(False, str(exc)) from exc
    ids = []
    for n, part in enumerate(row.payload["parts"]):
        allowed = discord.AllowedMentions(everyone=False, users=False,
                                          roles=[discord.Object(id=int(r)) for r in part.get("roles", [])])
        ids.append((await ex.send(channel, row, part["content"], part=n, allowed=allowed)).id)
    log.info("announcement %s posted in #%s (%d message(s))", row.key, channel.name, len(ids))
    return {"channel_id": channel.id, "message_ids": ids}


def _announcements(ex: DiscordExecutors, guild: discord.Guild) -> discord.TextChannel:
    try:
        return spaces.announcements_channel(guild, ex.services.config)
    except NotFound as exc:
        raise DeliveryFailed(False, str(exc)) from exc


@handles("vote.open")
async def _vote_open(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot.cogs import votes as vote_doors

    try:
        vote = ex.services.votes.vote(row.payload["vote_id"])
    except NotFound:
        return {"skipped": "the vote is no longer in the event file"}
    channel = _announcements(ex, guild)
    post = vote_doors.open_post(ex.bot.settings, vote, row.payload["closes_at"])
    message = await ex.send(channel, row, post.pop("content"), **post)
    return {"channel_id": channel.id, "message_id": message.id}


@handles("vote.close")
async def _vote_close(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot.cogs import votes as vote_doors

    try:
        status = await ex.services.votes.status(row.payload["vote_id"])  # what everyone may see
    except NotFound:
        return {"skipped": "the vote is no longer in the event file"}
    channel = _announcements(ex, guild)
    message = await ex.send(channel, row, vote_doors.status_text(status))
    return {"channel_id": channel.id, "message_id": message.id}


@handles("phase.open")
async def _phase_open(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    phase = ex.services.config.phase(row.payload["phase"])
    if phase is None:
        return {"skipped": f"phase {row.payload['phase']} is no longer in the event file"}
    channel = _announcements(ex, guild)
    message = await ex.send(channel, row, phase_announcement(phase))
    return {"channel_id": channel.id, "message_id": message.id}


@handles("ticket.post")
async def _ticket_post(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue

    try:
        ticket = await ex.services.mentoring.ticket(int(row.payload["number"]))
    except NotFound:
        return {"skipped": "the ticket no longer exists"}
    await help_queue.post_ticket(ex.bot, guild, ticket, nonce=row.nonce)
    return {}


async def _ticket(ex: DiscordExecutors, row: OutboxRow):
    try:
        return await ex.services.mentoring.ticket(int(row.payload["number"]))
    except NotFound:
        return None


@handles("ticket.edit")
async def _ticket_edit(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue

    ticket = await _ticket(ex, row)
    if ticket is None:
        return {"skipped": "the ticket no longer exists"}
    await help_queue.update_post(ex.bot, guild, ticket)  # as it is now: a second run edits to the same
    return {"status": ticket.status}


@handles("ticket.thread")
async def _ticket_thread(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue
    from bot.core.mentoring import Claim

    ticket = await _ticket(ex, row)
    if ticket is None:
        return {"skipped": "the ticket no longer exists"}
    members = tuple(await ex.services.teams.members(ticket.team_id))
    claim = Claim(ticket, row.payload["mentor"], members, (), ticket.thread_id is None)
    thread = await help_queue.open_thread(ex.bot, guild, claim, nonce=row.nonce)
    if thread is None:
        raise DeliveryFailed(False, f"no #{ex.services.config.mentoring.help_channel} channel for the ticket's thread"
                             " (/admin setup creates it)")
    return {"thread_id": thread.id}


@handles("ticket.note")
async def _ticket_note(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue

    ticket = await _ticket(ex, row)
    if ticket is None:
        return {"skipped": "the ticket no longer exists"}
    if not await help_queue.thread_note(guild, ticket, row.payload["note"], nonce=row.nonce):
        return {"skipped": "the ticket has no thread"}
    return {}


@handles("ticket.notice")
async def _ticket_notice(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue
    from bot.core.ticket_escalation import notice_from

    ticket = await _ticket(ex, row)
    if ticket is None:
        return {"skipped": "the ticket no longer exists"}
    if row.payload["kind"] == "escalation" and ticket.status != "open":
        return {"skipped": f"the ticket is {ticket.status} now"}  # claimed before the ping went out
    try:
        return await help_queue.send_notice(ex.bot, guild, notice_from(ticket, row.payload), nonce=row.nonce)
    except RuntimeError as exc:
        raise DeliveryFailed(False, str(exc)) from exc


@handles("mentor.intro")
async def _mentor_intro(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    from bot import help_queue

    p = row.payload
    channel = await ex.team_channel(guild, p["team_id"])
    if channel is None:
        return {"skipped": "the team has no channel"}  # the organizer's reply named the team
    message = await ex.send(channel, row, help_queue.intro_text(p["mentor"], p.get("shared", [])),
                            allowed=_users(p["mentor"]))
    return {"channel_id": channel.id, "message_id": message.id}


@handles("report")
async def _report(ex: DiscordExecutors, guild: discord.Guild, row: OutboxRow) -> Result:
    section = ex.services.config.discord
    try:
        channel = find_channel(guild, section.log_channel, section.announcements_channel)
    except PostFailed as exc:
        raise DeliveryFailed(exc.retryable, exc.reason) from exc
    message = await ex.send(channel, row, f"⚠️ {row.payload['text']}")
    return {"channel_id": channel.id, "message_id": message.id}
