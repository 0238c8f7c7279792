"""The Discord side of the event: its roles and channels, and each team's private space.

Everything here runs after the database commit and is idempotent: an object is looked up by
the id stored with the team, then by name (a side effect that died before the ids were stored
left it there), and created only when missing. `reconcile` runs the same steps over every team
on start, so a failed side effect is repaired rather than retried by hand. The database stays
the source of truth: a team's role and channel ids are stored with it (TeamRoster.set_discord).

Discord limits shape the layout: at most 50 channels in a category, so team channels fill
category buckets "Teams", "Teams 2", ...; at most 250 roles in a server, so past ROLE_LIMIT
teams a team gets no role and its members are let into its channel one by one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import discord

from bot.config import EventConfig
from bot.core.errors import NotFound
from bot.core.services import Services
from bot.core.teams import Team, TeamInfo, username_for

log = logging.getLogger(__name__)
T = TypeVar("T")

ROLE_LIMIT = 200  # teams with a role; Discord allows 250 roles per server, organizers need some too
ROLE_CACHE_LAG = 60.0  # seconds a role just created is trusted before the cache has it
CATEGORY_LIMIT = 50  # channels per category, Discord's limit
REASON = "hackbot: event setup"
TEAM_ACCESS = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, read_message_history=True, attach_files=True, embed_links=True
)
HIDDEN = discord.PermissionOverwrite(view_channel=False)


@dataclass
class TeamSpace:
    role: discord.Role | None  # None past ROLE_LIMIT: members have per-member overwrites instead
    channel: discord.TextChannel | None
    created: list[str] = field(default_factory=list)


@dataclass
class Repair:
    created: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class _GuildState:
    """Per-guild locks, and the roles created here: discord.py caches a new role only when the
    gateway announces it, so `guild.get_role` may not know it for a moment."""

    def __init__(self) -> None:
        self.create_lock = asyncio.Lock()  # role count and bucket choice: no 51st channel, no role past the limit
        self.team_locks: dict[int, asyncio.Lock] = {}
        self.roles: dict[int, tuple[discord.Role, float]] = {}  # id -> (role, when created)
        # team id -> (role id, channel id) last ensured: what to delete when a team disbands
        # while its space was being made, before the ids reached the database
        self.made: dict[int, tuple[int | None, int | None]] = {}

    def team_lock(self, team_id: int) -> asyncio.Lock:
        return self.team_locks.setdefault(team_id, asyncio.Lock())


_states: dict[int, _GuildState] = {}


def _state(guild: discord.Guild) -> _GuildState:
    return _states.setdefault(guild.id, _GuildState())


async def best_effort(action: Awaitable[T], what: str) -> T | None:
    """Run a side effect whose failure must not undo a committed command: log it and go on;
    reconcile (on start, or /admin setup) repairs what it left missing."""
    try:
        return await action
    except discord.HTTPException:
        log.warning("Discord refused to %s", what, exc_info=True)
        return None


# --- names ----------------------------------------------------------------------------------

def channel_name(team: Team) -> str:
    return "team-" + username_for(team.name).replace("_", "-")


def role_name(config: EventConfig, team: Team) -> str:
    """"Rocket" -> "Team Rocket". Never the name of an event role: the organizer check goes by
    role name, so a team called "Organizers" must not get a role called "Organizers"."""
    name = team.name if team.name.casefold().startswith("team ") else f"Team {team.name}"
    reserved = {config.discord.organizer_role.casefold(), config.discord.judge_role.casefold(), "@everyone"}
    return f"{name} (team)" if name.casefold() in reserved else name


def _topic(team: Team) -> str:
    # the marker finds the channel again if its id was never stored
    return f"Private channel of team {team.name}. [hackbot team {team.id}]"


def _marker(team: Team) -> str:
    return f"[hackbot team {team.id}]"


def bucket_name(config: EventConfig, n: int) -> str:
    return config.discord.team_category if n == 1 else f"{config.discord.team_category} {n}"


# --- the event's own objects -----------------------------------------------------------------

def find_role(guild: discord.Guild, name: str) -> discord.Role | None:
    return discord.utils.get(guild.roles, name=name)


def find_text_channel(guild: discord.Guild, name: str) -> discord.TextChannel | None:
    return discord.utils.get(guild.text_channels, name=name)


def announcements_channel(guild: discord.Guild | None, config: EventConfig) -> discord.TextChannel:
    name = config.discord.announcements_channel
    channel = find_text_channel(guild, name) if guild is not None else None
    if channel is None:
        raise NotFound(
            f"there is no #{name} channel in this server; /admin setup creates it "
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
    if find_role(guild, section.judge_role) is None:
        judge = await guild.create_role(
            name=section.judge_role, permissions=discord.Permissions.none(), mentionable=True, reason=REASON
        )
        created.append(f"role @{judge.name}")
    if find_text_channel(guild, section.announcements_channel) is None:
        speak = discord.PermissionOverwrite(view_channel=True, send_messages=True, embed_links=True)
        channel = await guild.create_text_channel(
            section.announcements_channel,
            overwrites={
                guild.default_role: discord.PermissionOverwrite(send_messages=False),
                organizer: speak,
                guild.me: speak,
            },
            topic=f"Announcements of {config.event.name}",
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    if find_text_channel(guild, section.log_channel) is None:
        see = discord.PermissionOverwrite(view_channel=True, send_messages=True)
        channel = await guild.create_text_channel(
            section.log_channel,
            overwrites={guild.default_role: discord.PermissionOverwrite(view_channel=False), organizer: see, guild.me: see},
            topic=f"Hackbot's reports to the organizers of {config.event.name}",
            reason=REASON,
        )
        created.append(f"channel #{channel.name}")
    if discord.utils.get(guild.categories, name=section.team_category) is None:
        category = await guild.create_category(
            section.team_category, overwrites=_category_overwrites(guild, config), reason=REASON
        )
        created.append(f"category {category.name}")
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
    """The team's role and private channel, created or repaired, named after the team as it is
    now (so a rename is this call too). `members` are Member objects already at hand."""
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
        if space.role is not None:
            if space.role not in member.roles:
                await member.add_roles(space.role, reason=f"joined team {team.name}")
        elif space.channel is not None:
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
        channel = _stored_channel(guild, info.discord_channel_id)
        if channel is not None and any(target.id == member.id for target in channel.overwrites):
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
    channel = _stored_channel(guild, channel_id)
    if channel is not None:
        try:
            await channel.delete(reason="hackbot: team disbanded or removed")
            removed.append(f"channel #{channel.name}")
        except discord.NotFound:
            pass
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
            log.warning("could not repair the space of team %s: %s", snapshot.team.name, exc)
            repair.failed.append(f"team {snapshot.team.name}: {exc}")
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
    if fresh is not None and time.monotonic() - fresh[1] < ROLE_CACHE_LAG:
        return fresh[0]
    state.roles.pop(role_id, None)
    return None


def _stored_channel(guild: discord.Guild, channel_id: int | None):
    return guild.get_channel(channel_id) if channel_id is not None else None


def _team_categories(guild: discord.Guild, config: EventConfig) -> list:
    base = config.discord.team_category
    return [c for c in guild.categories if c.name == base or c.name.startswith(base + " ")]


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


def _adoptable_channel(guild: discord.Guild, config: EventConfig, team: Team) -> discord.TextChannel | None:
    for category in _team_categories(guild, config):
        for channel in category.text_channels:
            if (channel.topic or "").endswith(_marker(team)):
                return channel
    return None


async def _bucket(guild: discord.Guild, config: EventConfig, created: list[str]):
    """The first team category with room for one more channel, made when all are full."""
    n = 1
    while True:
        name = bucket_name(config, n)
        category = discord.utils.get(guild.categories, name=name)
        if category is None:
            category = await guild.create_category(name, overwrites=_category_overwrites(guild, config), reason=REASON)
            created.append(f"category {name}")
            return category
        if len(category.channels) < CATEGORY_LIMIT:
            return category
        n += 1


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


async def _ensure(
    guild: discord.Guild, config: EventConfig, services: Services, info: TeamInfo, known: dict
) -> TeamSpace:
    team, state = info.team, _state(guild)
    space = TeamSpace(_stored_role(guild, info.discord_role_id), _stored_channel(guild, info.discord_channel_id))
    # a team keeps the kind of space it was given: a role, or per-member overwrites
    per_member = info.discord_role_id is None and info.discord_channel_id is not None
    wants_role = not per_member

    if (wants_role and space.role is None) or space.channel is None:
        async with state.create_lock:
            everyone = await services.roster.infos()
            if info.discord_role_id is None and info.discord_channel_id is None:
                with_roles = sum(1 for o in everyone if o.discord_role_id is not None and o.team.id != team.id)
                wants_role = with_roles < ROLE_LIMIT
            if wants_role and space.role is None:
                claimed = {o.discord_role_id for o in everyone if o.team.id != team.id and o.discord_role_id}
                space.role = _adoptable_role(guild, config, role_name(config, team), claimed)
                if space.role is None:
                    space.role = await guild.create_role(
                        name=role_name(config, team), permissions=discord.Permissions.none(), reason=REASON
                    )
                    state.roles[space.role.id] = (space.role, time.monotonic())
                    space.created.append(f"role @{space.role.name}")
                for user_id in info.members:
                    member = await _resolve_member(guild, user_id, known)
                    if member is not None and space.role not in member.roles:
                        await member.add_roles(space.role, reason=f"member of team {team.name}")
            if space.channel is None:
                space.channel = _adoptable_channel(guild, config, team)
            if space.channel is not None and space.role is not None and space.role.id != info.discord_role_id:
                # a role made anew: the channel's overwrite still names the one that was deleted
                await space.channel.set_permissions(space.role, overwrite=TEAM_ACCESS, reason=REASON)
            if space.channel is None:
                overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
                    guild.default_role: HIDDEN, guild.me: TEAM_ACCESS,
                }
                organizer = find_role(guild, config.discord.organizer_role)
                if organizer is not None:
                    overwrites[organizer] = TEAM_ACCESS
                if space.role is not None:
                    overwrites[space.role] = TEAM_ACCESS
                else:
                    for user_id in info.members:
                        target = known.get(int(user_id)) or discord.Object(id=int(user_id), type=discord.Member)
                        overwrites[target] = TEAM_ACCESS
                space.channel = await guild.create_text_channel(
                    channel_name(team),
                    category=await _bucket(guild, config, space.created),
                    overwrites=overwrites,
                    topic=_topic(team),
                    reason=REASON,
                )
                space.created.append(f"channel #{space.channel.name}")
            role_id = space.role.id if space.role is not None else None
            state.made[team.id] = (role_id, space.channel.id)
            if (role_id, space.channel.id) != (info.discord_role_id, info.discord_channel_id):
                await services.roster.set_discord(team.id, role_id, space.channel.id)

    # names follow the team's (a rename, or a rename while the bot was down)
    if space.role is not None and space.role.name != role_name(config, team):
        await space.role.edit(name=role_name(config, team), reason="hackbot: team renamed")
    if space.channel.name != channel_name(team):
        await space.channel.edit(name=channel_name(team), topic=_topic(team), reason="hackbot: team renamed")
    return space
