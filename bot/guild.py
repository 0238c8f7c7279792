"""The Discord side of the event: its roles and channels, and each team's private space.

Everything here runs after the database commit and is idempotent: an object is looked up by
the id stored with the team, then by name (a side effect that died before the ids were stored
left it there), and created only when missing. `reconcile` runs the same steps over every team
on start, so a failed side effect is repaired rather than retried by hand. The database stays
the source of truth: a team's role and channel ids are stored with it (TeamRoster.set_discord).

Discord's limits (bot/discord_limits.py) shape the layout, and are met before Discord refuses:
- at most 50 channels in a category: team channels fill category buckets "Teams", "Teams 2", ...;
- at most 500 channels in a server: once a team channel would leave fewer than CHANNEL_HEADROOM
  free, a team's space is a private thread in #team-threads instead (threads do not count);
- at most 250 roles: once a team role would leave fewer than ROLE_HEADROOM free, a team gets no
  role, and its members are let into its channel one by one (a private thread always works so).
A text channel's name is what Discord makes of it (lower case, dashes): channels named in the
event file are found by that name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import discord

from bot import discord_limits as limits
from bot.config import EventConfig
from bot.core.errors import NotFound
from bot.core.services import Services
from bot.core.teams import Team, TeamInfo
from bot.tree import explain

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL_HEADROOM = 10  # channels of the server's 500 left for the organizers' own
ROLE_HEADROOM = 10  # roles of the server's 250 left for the organizers' own
CACHE_LAG = 10.0  # seconds an object just created is trusted before discord.py's cache has it
THREADS_CHANNEL = "team-threads"  # where team threads live once channels run out
REASON = "hackbot: event setup"
TEAM_ACCESS = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, read_message_history=True, attach_files=True, embed_links=True
)
HIDDEN = discord.PermissionOverwrite(view_channel=False)

Space = discord.TextChannel | discord.Thread


@dataclass
class TeamSpace:
    role: discord.Role | None  # None past the role headroom: members are let in one by one
    channel: Space | None  # a private text channel, or a private thread past the channel headroom
    created: list[str] = field(default_factory=list)


@dataclass
class Repair:
    created: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class _GuildState:
    """Per-guild locks, and what was created here: discord.py caches a new role or channel only
    when the gateway announces it, so for a moment the cache does not count it."""

    def __init__(self) -> None:
        self.create_lock = asyncio.Lock()  # counts and bucket choice: no 51st channel, no role past the cap
        self.team_locks: dict[int, asyncio.Lock] = {}
        self.roles: dict[int, tuple[discord.Role, float]] = {}  # id -> (role, when created)
        self.channels: dict[int, tuple[Space, float]] = {}  # id -> (channel or thread, when created)
        # team id -> (role id, channel id) last ensured: what to delete when a team disbands
        # while its space was being made, before the ids reached the database
        self.made: dict[int, tuple[int | None, int | None]] = {}

    def team_lock(self, team_id: int) -> asyncio.Lock:
        return self.team_locks.setdefault(team_id, asyncio.Lock())

    def made_here(self, guild: discord.Guild, made: discord.Role | discord.abc.GuildChannel | discord.Thread) -> None:
        """Remember an object just created until the cache has it (not when it has it already)."""
        if isinstance(made, discord.Role):
            if guild.get_role(made.id) is None:
                self.roles[made.id] = (made, time.monotonic())
        elif guild.get_channel_or_thread(made.id) is None:
            self.channels[made.id] = (made, time.monotonic())  # type: ignore[assignment]

    def fresh(self, cache: dict[int, tuple[T, float]]) -> list[T]:
        now = time.monotonic()
        for key in [k for k, (_, when) in cache.items() if now - when >= CACHE_LAG]:
            del cache[key]
        return [made for made, _ in cache.values()]


_states: dict[int, _GuildState] = {}


def _state(guild: discord.Guild) -> _GuildState:
    return _states.setdefault(guild.id, _GuildState())


async def attempt(action: Awaitable[T], what: str, guild: discord.Guild | None = None) -> tuple[T | None, str | None]:
    """Run a side effect whose failure must not undo a committed command. Returns its result,
    or None and what Discord's refusal means (bot.tree.explain); reconcile (on start, or
    /admin setup) repairs what it left missing."""
    try:
        return await action, None
    except discord.HTTPException as exc:
        problem = explain(exc, guild)
        log.warning("Discord refused to %s: %s", what, problem)
        return None, problem


async def best_effort(action: Awaitable[T], what: str, guild: discord.Guild | None = None) -> T | None:
    return (await attempt(action, what, guild))[0]


async def tell_organizers(guild: discord.Guild | None, config: EventConfig, text: str) -> None:
    """A line in the organizers' log channel, when it can be posted (never raises)."""
    channel = find_text_channel(guild, config.discord.log_channel) if guild is not None else None
    if channel is None:
        log.warning("organizers not told (no #%s channel): %s", config.discord.log_channel, text)
        return
    try:
        await channel.send(f"⚠️ {text}"[: limits.CONTENT], allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException:
        log.warning("organizers not told: %s", text, exc_info=True)


# --- names ----------------------------------------------------------------------------------

def channel_name(team: Team) -> str:
    """"Deep Blue!" -> "team-deep-blue", "数据 科学" -> "team-数据-科学", as Discord stores it; a
    name with nothing Discord keeps falls back on the team's unique API username."""
    kept = limits.channel_name(team.name)
    return limits.channel_name(f"team-{kept or team.username.replace('_', '-')}")


def thread_name(team: Team) -> str:
    return f"Team {team.name}"[: limits.THREAD_NAME]


def role_name(config: EventConfig, team: Team) -> str:
    """"Rocket" -> "Team Rocket". Never the name of an event role: the organizer check goes by
    role name, so a team called "Organizers" must not get a role called "Organizers"."""
    name = team.name if team.name.casefold().startswith("team ") else f"Team {team.name}"
    reserved = {config.discord.organizer_role.casefold(), config.discord.judge_role.casefold(), "@everyone"}
    reserved |= {p.role.casefold() for p in config.judging.panels if p.role}
    name = f"{name} (team)" if name.casefold() in reserved else name
    return name[: limits.ROLE_NAME]


def _topic(team: Team) -> str:
    # the marker finds the channel again if its id was never stored
    return f"Private channel of team {team.name}. {_marker(team)}"[-limits.CHANNEL_TOPIC :]


def _marker(team: Team) -> str:
    return f"[hackbot team {team.id}]"


def bucket_name(config: EventConfig, n: int) -> str:
    return config.discord.team_category if n == 1 else f"{config.discord.team_category} {n}"


# --- the event's own objects -----------------------------------------------------------------

def find_role(guild: discord.Guild, name: str) -> discord.Role | None:
    return discord.utils.get(guild.roles, name=name)


def find_text_channel(guild: discord.Guild, name: str) -> discord.TextChannel | None:
    """The text channel an event file or an organizer names ("Hack News", "#talks"), found by the
    name Discord gave it ("hack-news", "talks")."""
    return discord.utils.get(guild.text_channels, name=limits.channel_name(name.strip().removeprefix("#")))


def announcements_channel(guild: discord.Guild | None, config: EventConfig) -> discord.TextChannel:
    name = config.discord.announcements_channel
    channel = find_text_channel(guild, name) if guild is not None else None
    if channel is None:
        raise NotFound(
            f"there is no #{limits.channel_name(name)} channel in this server; /admin setup creates it "
            "(or set [discord] announcements_channel in the event file)"
        )
    return channel


def _category_overwrites(guild: discord.Guild, config: EventConfig) -> dict:
    overwrites = {guild.default_role: HIDDEN, guild.me: TEAM_ACCESS}
    organizer = find_role(guild, config.discord.organizer_role)
    if organizer is not None:
        overwrites[organizer] = TEAM_ACCESS
    return overwrites


async def ensure_event_objects(guild: discord.Guild, config: EventConfig) -> list[str]:
    """The organizer and judge roles, the announcements channel, the organizers' log channel and
    the first team category, each created when no object of that name exists. Returns what it
    created."""
    section, created = config.discord, []
    organizer = find_role(guild, section.organizer_role)
    if organizer is None:
        organizer = await guild.create_role(
            name=section.organizer_role, permissions=discord.Permissions.none(), mentionable=True, reason=REASON
        )
        created.append(f"role @{organizer.name}")
    # the judges' role, and each judging panel's own role (a judge is a member with one of them)
    judge_roles = [section.judge_role] + [p.role for p in config.judging.panels if p.role]
    for name in dict.fromkeys(judge_roles):
        if find_role(guild, name) is None:
            judge = await guild.create_role(name=name, permissions=discord.Permissions.none(), mentionable=True,
                                            reason=REASON)
            created.append(f"role @{judge.name}")
    if find_text_channel(guild, section.announcements_channel) is None:
        speak = discord.PermissionOverwrite(view_channel=True, send_messages=True, embed_links=True)
        channel = await guild.create_text_channel(
            limits.channel_name(section.announcements_channel),
            overwrites={
                guild.default_role: discord.PermissionOverwrite(send_messages=False),
                organizer: speak,
                guild.me: speak,
            },
            topic=f"Announcements of {config.event.name}"[: limits.CHANNEL_TOPIC],
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    if find_text_channel(guild, section.log_channel) is None:
        see = discord.PermissionOverwrite(view_channel=True, send_messages=True)
        channel = await guild.create_text_channel(
            limits.channel_name(section.log_channel),
            overwrites={guild.default_role: discord.PermissionOverwrite(view_channel=False), organizer: see, guild.me: see},
            topic=f"Hackbot's reports to the organizers of {config.event.name}"[: limits.CHANNEL_TOPIC],
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    if discord.utils.get(guild.categories, name=section.team_category) is None:
        category = await guild.create_category(
            section.team_category, overwrites=_category_overwrites(guild, config), reason=REASON
        )
        created.append(f"category {category.name}")
    if config.mentoring is not None:
        created += await ensure_help_objects(guild, config, organizer)
    return created


# what the bot needs where help tickets live: post, and make private threads and add people to them
HELP_BOT = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, embed_links=True, read_message_history=True,
    create_private_threads=True, send_messages_in_threads=True, manage_threads=True,
)


async def ensure_help_objects(guild: discord.Guild, config: EventConfig, organizer: discord.Role) -> list[str]:
    """[mentoring]: the mentors' role, the mentors' queue channel (mentors and organizers only) and
    the help channel everyone reads (the private threads of claimed tickets live in it), each
    created when no object of that name exists."""
    section, created = config.mentoring, []
    assert section is not None
    mentors = find_role(guild, section.mentor_role)
    if mentors is None:
        mentors = await guild.create_role(
            name=section.mentor_role, permissions=discord.Permissions.none(), mentionable=True, reason=REASON
        )
        created.append(f"role @{mentors.name}")
    if find_text_channel(guild, section.queue_channel) is None:
        see = discord.PermissionOverwrite(view_channel=True, send_messages=True, read_message_history=True)
        channel = await guild.create_text_channel(
            limits.channel_name(section.queue_channel),
            overwrites={guild.default_role: HIDDEN, mentors: see, organizer: see, guild.me: HELP_BOT},
            topic=f"Help tickets of {config.event.name}: claim one with its button"[: limits.CHANNEL_TOPIC],
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    if find_text_channel(guild, section.help_channel) is None:
        read = discord.PermissionOverwrite(view_channel=True, send_messages=False, send_messages_in_threads=True,
                                           read_message_history=True)
        channel = await guild.create_text_channel(
            limits.channel_name(section.help_channel),
            overwrites={guild.default_role: read, guild.me: HELP_BOT},
            topic="Ask for help with /help; a mentor meets you in a private thread here"[: limits.CHANNEL_TOPIC],
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    return created


# --- a team's space --------------------------------------------------------------------------

async def ensure_team_space(
    guild: discord.Guild,
    config: EventConfig,
    services: Services,
    team: Team,
    *,
    members: Iterable[discord.Member] = (),
) -> TeamSpace:
    """The team's role and private channel (or thread), created or repaired, named after the team
    as it is now (so a rename is this call too). `members` are Member objects already at hand."""
    state = _state(guild)
    async with state.team_lock(team.id):
        info = await services.roster.info(team)
        return await _ensure(guild, config, services, info, {m.id: m for m in members})


async def add_member_access(
    guild: discord.Guild, config: EventConfig, services: Services, team: Team, member: discord.Member
) -> TeamSpace:
    """Let a new member into the team's space (made first if a concurrent create has not yet)."""
    async with _state(guild).team_lock(team.id):
        info = await services.roster.info(team)
        space = await _ensure(guild, config, services, info, {member.id: member})
        if space.role is not None and space.role not in member.roles:
            await member.add_roles(space.role, reason=f"joined team {team.name}")
        if isinstance(space.channel, discord.Thread):
            await space.channel.add_user(member)
        elif space.role is None and space.channel is not None:
            await space.channel.set_permissions(member, overwrite=TEAM_ACCESS, reason=f"joined team {team.name}")
        return space


async def remove_member_access(
    guild: discord.Guild, config: EventConfig, services: Services, team: Team, member: discord.Member
) -> None:
    """Take a departed member out of the team's space (the team still exists)."""
    state = _state(guild)
    async with state.team_lock(team.id):
        info = await services.roster.info(team)
        if info.discord_role_id is not None:
            role = _stored_role(guild, info.discord_role_id) or discord.Object(id=info.discord_role_id)
            await member.remove_roles(role, reason=f"left team {team.name}")
        channel = await _stored_channel(guild, info.discord_channel_id)
        if isinstance(channel, discord.Thread):
            await channel.remove_user(member)
        elif channel is not None and any(target.id == member.id for target in channel.overwrites):
            await channel.set_permissions(member, overwrite=None, reason=f"left team {team.name}")


async def remove_team_space(
    guild: discord.Guild, team_id: int, role_id: int | None, channel_id: int | None
) -> list[str]:
    """Delete a disbanded or removed team's role and channel; returns what it deleted."""
    state = _state(guild)
    async with state.team_lock(team_id):  # after any ensure of this team still under way
        made = state.made.pop(team_id, (None, None))
        removed = await _delete(guild, role_id or made[0], channel_id or made[1])
    state.team_locks.pop(team_id, None)
    return removed


async def _delete(guild: discord.Guild, role_id: int | None, channel_id: int | None) -> list[str]:
    removed = []
    role = _stored_role(guild, role_id)
    if role is not None:
        try:
            await role.delete(reason="hackbot: team disbanded or removed")
            removed.append(f"role @{role.name}")
        except discord.NotFound:
            pass
        _state(guild).roles.pop(role.id, None)
    channel = await _stored_channel(guild, channel_id)
    if channel is not None:
        try:
            await channel.delete(reason="hackbot: team disbanded or removed")
            removed.append(f"thread {channel.name}" if isinstance(channel, discord.Thread) else f"channel #{channel.name}")
        except discord.NotFound:
            pass
        _state(guild).channels.pop(channel.id, None)
    return removed


async def reconcile(guild: discord.Guild, config: EventConfig, services: Services) -> Repair:
    """Create what is missing: the event's objects, then every team's role and channel."""
    repair = Repair(created=await ensure_event_objects(guild, config))
    state = _state(guild)
    for snapshot in await services.roster.infos():
        if not snapshot.members:
            continue  # a disbanded team kept for its results has no space
        try:
            async with state.team_lock(snapshot.team.id):
                info = await services.roster.info(snapshot.team)
                repair.created += (await _ensure(guild, config, services, info, {})).created
        except NotFound:
            continue  # removed meanwhile
        except discord.HTTPException as exc:
            problem = explain(exc, guild)
            log.warning("could not repair the space of team %s: %s", snapshot.team.name, problem)
            repair.failed.append(f"team {snapshot.team.name}: {problem}")
    return repair


# --- the steps ---------------------------------------------------------------------------------

def _stored_role(guild: discord.Guild, role_id: int | None) -> discord.Role | None:
    if role_id is None:
        return None
    state, role = _state(guild), guild.get_role(role_id)
    if role is not None:
        state.roles.pop(role_id, None)  # the cache has it now
        return role
    fresh = state.roles.get(role_id)
    if fresh is not None and time.monotonic() - fresh[1] < CACHE_LAG:
        return fresh[0]
    state.roles.pop(role_id, None)
    return None


async def _stored_channel(guild: discord.Guild, channel_id: int | None) -> Space | None:
    """The team's channel or thread by its stored id: from the cache, just made here, or (a thread
    archived out of the cache) asked of Discord."""
    if channel_id is None:
        return None
    state = _state(guild)
    cached = guild.get_channel_or_thread(channel_id)
    if cached is not None:
        state.channels.pop(channel_id, None)
        return cached if isinstance(cached, (discord.TextChannel, discord.Thread)) else None
    fresh = state.channels.get(channel_id)
    if fresh is not None and time.monotonic() - fresh[1] < CACHE_LAG:
        return fresh[0]
    threads = _threads_channel(guild)
    if threads is None:
        return None  # no team threads: the channel is gone
    try:
        fetched = await guild.fetch_channel(channel_id)
    except discord.NotFound:
        return None
    return fetched if isinstance(fetched, discord.Thread) else None


def _team_categories(guild: discord.Guild, config: EventConfig) -> list[discord.CategoryChannel]:
    base = config.discord.team_category
    return [c for c in guild.categories if c.name == base or c.name.startswith(base + " ")]


def _threads_channel(guild: discord.Guild) -> discord.TextChannel | None:
    return find_text_channel(guild, THREADS_CHANNEL)


def _adoptable_role(guild: discord.Guild, config: EventConfig, name: str, claimed: set[int]) -> discord.Role | None:
    """A role of this name left by a side effect that died before storing its id: never an
    event role, another team's role, or a role that grants anything."""
    reserved = {config.discord.organizer_role, config.discord.judge_role}
    for role in guild.roles:
        if (
            role.name == name
            and role.name not in reserved
            and role.id not in claimed
            and role != guild.default_role
            and role.permissions.value == 0
        ):
            return role
    return None


def _adoptable_space(guild: discord.Guild, config: EventConfig, team: Team, claimed: set[int]) -> Space | None:
    for category in _team_categories(guild, config):
        for channel in category.text_channels:
            if (channel.topic or "").endswith(_marker(team)):
                return channel
    parent = _threads_channel(guild)
    if parent is not None:
        for thread in parent.threads:
            if thread.name == thread_name(team) and thread.id not in claimed:
                return thread
    return None


def _channel_count(guild: discord.Guild) -> int:
    """The server's channels (categories included, threads not), counting those just made."""
    known = {c.id for c in guild.channels}
    made = _state(guild).fresh(_state(guild).channels)
    return len(known) + sum(1 for c in made if c.id not in known and not isinstance(c, discord.Thread))


def _role_count(guild: discord.Guild) -> int:
    known = {r.id for r in guild.roles}
    made = _state(guild).fresh(_state(guild).roles)
    return len(known) + sum(1 for r in made if r.id not in known)


def _room_for_role(guild: discord.Guild) -> bool:
    return _role_count(guild) + 1 <= limits.GUILD_ROLES - ROLE_HEADROOM


def _category_size(guild: discord.Guild, category: discord.CategoryChannel) -> int:
    known = {c.id for c in category.channels}
    made = _state(guild).fresh(_state(guild).channels)
    extra = {c.id for c in made if isinstance(c, discord.TextChannel) and c.category_id == category.id}
    return len(known | extra)


def _open_bucket(guild: discord.Guild, config: EventConfig) -> tuple[int, discord.CategoryChannel | None]:
    """The first team category with room for one more channel (and its number), or the number
    of the one to create."""
    n = 1
    while True:
        category = discord.utils.get(guild.categories, name=bucket_name(config, n))
        if category is None or _category_size(guild, category) < limits.CATEGORY_CHANNELS:
            return n, category
        n += 1


def _room_for_channel(guild: discord.Guild, config: EventConfig) -> bool:
    """A team channel (and the category it may need) still leaves CHANNEL_HEADROOM free."""
    _, category = _open_bucket(guild, config)
    needed = 1 if category is not None else 2
    return _channel_count(guild) + needed <= limits.GUILD_CHANNELS - CHANNEL_HEADROOM


async def _bucket(guild: discord.Guild, config: EventConfig, created: list[str]) -> discord.CategoryChannel:
    n, category = _open_bucket(guild, config)
    if category is not None:
        return category
    name = bucket_name(config, n)
    category = await guild.create_category(name, overwrites=_category_overwrites(guild, config), reason=REASON)
    _state(guild).made_here(guild, category)
    created.append(f"category {name}")
    return category


async def _ensure_threads_channel(guild: discord.Guild, config: EventConfig, created: list[str]) -> discord.TextChannel:
    """#team-threads: everyone sees it and may write in the threads they are in, nobody posts in
    it or makes threads of their own; organizers see every team thread (Manage Threads)."""
    channel = _threads_channel(guild)
    if channel is not None:
        return channel
    overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(
            view_channel=True, send_messages=False, create_public_threads=False, create_private_threads=False,
            send_messages_in_threads=True, read_message_history=True),
        guild.me: discord.PermissionOverwrite(
            view_channel=True, send_messages=True, create_private_threads=True, manage_threads=True,
            send_messages_in_threads=True),
    }
    organizer = find_role(guild, config.discord.organizer_role)
    if organizer is not None:
        overwrites[organizer] = discord.PermissionOverwrite(view_channel=True, manage_threads=True,
                                                            send_messages_in_threads=True)
    channel = await guild.create_text_channel(
        THREADS_CHANNEL, overwrites=overwrites, reason=REASON,
        topic=f"Each team of {config.event.name} has a private thread here: the server is full of channels"[
            : limits.CHANNEL_TOPIC],
    )
    _state(guild).made_here(guild, channel)
    created.append(f"channel #{channel.name}")
    return channel


async def _resolve_member(guild: discord.Guild, user_id: str, known: dict) -> discord.Member | None:
    member_id = int(user_id)
    if member_id in known:
        return known[member_id]
    member = guild.get_member(member_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(member_id)  # works without the members intent
    except discord.NotFound:
        return None  # left the server


async def _new_space(
    guild: discord.Guild, config: EventConfig, info: TeamInfo, role: discord.Role | None, known: dict, created: list[str]
) -> Space:
    """A private text channel in a team category, or past the channel headroom a private thread."""
    team = info.team
    if not _room_for_channel(guild, config):
        parent = await _ensure_threads_channel(guild, config, created)
        thread = await parent.create_thread(
            name=thread_name(team), type=discord.ChannelType.private_thread, invitable=False,
            auto_archive_duration=10080, reason=REASON,  # a week: the longest (discord_limits.THREAD_ARCHIVE_MINUTES)
        )
        _state(guild).made_here(guild, thread)
        for user_id in info.members:
            await thread.add_user(known.get(int(user_id)) or discord.Object(id=int(user_id)))
        created.append(f"thread {thread.name}")
        return thread
    overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
        guild.default_role: HIDDEN, guild.me: TEAM_ACCESS,
    }
    organizer = find_role(guild, config.discord.organizer_role)
    if organizer is not None:
        overwrites[organizer] = TEAM_ACCESS
    if role is not None:
        overwrites[role] = TEAM_ACCESS
    else:
        for user_id in info.members:
            target = known.get(int(user_id)) or discord.Object(id=int(user_id), type=discord.Member)
            overwrites[target] = TEAM_ACCESS
    channel = await guild.create_text_channel(
        channel_name(team), category=await _bucket(guild, config, created), overwrites=overwrites,
        topic=_topic(team), reason=REASON,
    )
    _state(guild).made_here(guild, channel)
    created.append(f"channel #{channel.name}")
    return channel


async def _ensure(
    guild: discord.Guild, config: EventConfig, services: Services, info: TeamInfo, known: dict
) -> TeamSpace:
    team, state = info.team, _state(guild)
    space = TeamSpace(_stored_role(guild, info.discord_role_id), await _stored_channel(guild, info.discord_channel_id))
    # a team keeps the kind of space it was given: a role, or members let in one by one
    per_member = info.discord_role_id is None and info.discord_channel_id is not None
    wants_role = not per_member

    if (wants_role and space.role is None) or space.channel is None:
        async with state.create_lock:
            everyone = await services.roster.infos()
            if wants_role and space.role is None and info.discord_role_id is None and not _room_for_role(guild):
                wants_role = False  # past the role headroom: this team does without
            if wants_role and space.role is None:
                claimed = {o.discord_role_id for o in everyone if o.team.id != team.id and o.discord_role_id}
                space.role = _adoptable_role(guild, config, role_name(config, team), claimed)
                if space.role is None:
                    space.role = await guild.create_role(
                        name=role_name(config, team), permissions=discord.Permissions.none(), reason=REASON
                    )
                    state.made_here(guild, space.role)
                    space.created.append(f"role @{space.role.name}")
                for user_id in info.members:
                    member = await _resolve_member(guild, user_id, known)
                    if member is not None and space.role not in member.roles:
                        await member.add_roles(space.role, reason=f"member of team {team.name}")
            if space.channel is None:
                claimed = {o.discord_channel_id for o in everyone if o.team.id != team.id and o.discord_channel_id}
                space.channel = _adoptable_space(guild, config, team, claimed)
            if (isinstance(space.channel, discord.TextChannel) and space.role is not None
                    and space.role.id != info.discord_role_id):
                # a role made anew: the channel's overwrite still names the one that was deleted
                await space.channel.set_permissions(space.role, overwrite=TEAM_ACCESS, reason=REASON)
            if space.channel is None:
                space.channel = await _new_space(guild, config, info, space.role, known, space.created)
            role_id = space.role.id if space.role is not None else None
            state.made[team.id] = (role_id, space.channel.id)
            if (role_id, space.channel.id) != (info.discord_role_id, info.discord_channel_id):
                await services.roster.set_discord(team.id, role_id, space.channel.id)

    # names follow the team's (a rename, or a rename while the bot was down)
    if space.role is not None and space.role.name != role_name(config, team):
        await space.role.edit(name=role_name(config, team), reason="hackbot: team renamed")
    if isinstance(space.channel, discord.Thread):
        if space.channel.name != thread_name(team):
            await space.channel.edit(name=thread_name(team))
    elif space.channel is not None and space.channel.name != channel_name(team):
        await space.channel.edit(name=channel_name(team), topic=_topic(team), reason="hackbot: team renamed")
    return space
