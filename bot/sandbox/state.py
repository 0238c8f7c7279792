"""What the Discord double remembers: one guild, its roles, channels, threads and members, the
messages the bot posted, the slash commands it registered, every interaction with its answers,
and every request it refused (`refused`), with the route and the reason.

Plain data, read directly by tests in the same process (and dumped by GET /_sandbox/state).
`strict` (the default) refuses what Discord refuses; only the double's own unit tests turn it off.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.discord_limits import ACK_DEADLINE
from bot.sandbox import permissions as perms

EPHEMERAL = 1 << 6
ADMINISTRATOR = perms.ADMINISTRATOR
ALL_PERMISSIONS = perms.ALL
TEXT, DM, CATEGORY, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 4, 11, 12
THREAD_TYPES = (PUBLIC_THREAD, PRIVATE_THREAD)

_counter = itertools.count(1)


def snowflake() -> int:
    """Ids that look like Discord's (a millisecond timestamp in the high bits), unique per process."""
    return ((int(time.time() * 1000) - 1420070400000) << 22) | (next(_counter) & 0x3FFFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class User:
    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "username": self.name, "global_name": self.name, "discriminator": "0",
            "avatar": None, "bot": self.bot, "public_flags": 0,
        }


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)
    dms_open: bool = True  # False: "Allow direct messages from server members" is off (50007)

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user.payload(), "roles": [str(r) for r in self.roles], "joined_at": self.joined_at,
            "deaf": False, "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
        }


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    content: str = ""
    embeds: list[dict] = field(default_factory=list)
    components: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    flags: int = 0
    interaction_id: int | None = None  # set on interaction responses and follow-ups
    mention_roles: list[int] = field(default_factory=list)  # the roles this message pinged
    mention_everyone: bool = False
    deleted: bool = False
    edits: int = 0
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def text(self) -> str:
        """The content and the embeds' text, as a person would read them."""
        parts = [self.content or ""]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for f in embed.get("fields", []):
                parts += [f.get("name", ""), f.get("value", "")]
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[dict]:
        found = []

        def walk(components):
            for c in components or []:
                if c.get("type") == 2:
                    found.append(c)
                walk(c.get("components"))

        walk(self.components)
        return found

    def selects(self) -> list[dict]:
        """The string select menus (type 3) of the message."""
        return [c for row in self.components or [] for c in row.get("components") or [] if c.get("type") == 3]

    def payload(self, guild_id: int | None = None) -> dict[str, Any]:
        data = {
            "id": str(self.id), "channel_id": str(self.channel_id), "author": self.author.payload(),
            "content": self.content, "timestamp": self.timestamp, "edited_timestamp": self.edited_timestamp,
            "tts": False, "mention_everyone": self.mention_everyone, "mentions": [],
            "mention_roles": [str(r) for r in self.mention_roles], "attachments": self.attachments,
            "embeds": self.embeds, "pinned": False, "type": 0 if self.interaction_id is None else 20,
            "flags": self.flags, "components": self.components,
        }
        if self.interaction_id is not None:
            data["webhook_id"] = None
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data


@dataclass
class Refusal:
    """A request the double answered with an error, as Discord would have."""

    method: str
    route: str  # the route's template, e.g. "POST /channels/{channel}/messages"
    path: str
    status: int
    code: int  # Discord's JSON error code (50035, 50013, ...); 0 for a 429 or a 5xx
    reason: str  # what a person reads: the field and the limit, the permission missing, ...
    injected: bool = False  # asked for by a test (fault injection), not the bot's doing

    def __str__(self) -> str:
        return f"{self.route} -> {self.status} {self.code}: {self.reason}" + (" (injected)" if self.injected else "")


@dataclass
class Interaction:
    id: int
    token: str
    kind: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    user: User
    channel_id: int
    name: str  # command path, custom_id of the button, or of the modal
    payload: dict
    dispatched: float = field(default_factory=time.monotonic)
    acknowledged: float | None = None  # seconds after dispatch of the first response
    response_type: int | None = None  # 4 message, 5 deferred, 6 deferred update, 7 update, 9 modal
    original: Message | None = None  # the message the first response made (or the one it updates)
    followups: list[Message] = field(default_factory=list)
    modal: dict | None = None
    choices: list[dict] | None = None  # an autocomplete's answer
    errors: list[str] = field(default_factory=list)  # what Discord refused (late, twice, ...)

    @property
    def failed(self) -> bool:
        """What the user sees as "This interaction failed": no first response within 3 s."""
        if self.acknowledged is not None:
            return self.acknowledged > ACK_DEADLINE
        return time.monotonic() - self.dispatched > ACK_DEADLINE

    def messages(self) -> list[Message]:
        found = [self.original] if self.original is not None else []
        return found + self.followups

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "kind": self.kind, "name": self.name, "user": self.user.name,
            "acknowledged": self.acknowledged, "response_type": self.response_type, "errors": self.errors,
            "messages": [m.text() for m in self.messages()],
        }


@dataclass
class SandboxState:
    strict: bool = True  # refuse what Discord refuses; False only in the double's own unit tests
    guild_id: int = field(default_factory=snowflake)
    guild_name: str = "Hackbot sandbox"
    bot: User = field(default_factory=lambda: User(snowflake(), "hackbot", bot=True))
    owner: User = field(default_factory=lambda: User(snowflake(), "owner"))
    roles: dict[int, dict] = field(default_factory=dict)
    channels: dict[int, dict] = field(default_factory=dict)  # threads too (type 11, 12)
    thread_members: dict[int, set[int]] = field(default_factory=dict)  # thread id -> user ids
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, list[Message]] = field(default_factory=dict)  # per channel (DM channels too)
    dm_channels: dict[int, int] = field(default_factory=dict)  # user id -> DM channel id
    commands: list[dict] = field(default_factory=list)  # the last bulk overwrite, with ids
    interactions: dict[int, Interaction] = field(default_factory=dict)
    by_token: dict[str, Interaction] = field(default_factory=dict)
    attachments: dict[int, tuple[str, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    refused: list[Refusal] = field(default_factory=list)
    bot_role_id: int = 0

    def __post_init__(self) -> None:
        self.roles[self.guild_id] = self._role(self.guild_id, "@everyone", permissions=perms.EVERYONE_DEFAULT,
                                               position=0)
        # the bot's own role, above every role made after it (new roles go to the bottom)
        self.bot_role_id = int(self.add_role("Hackbot", permissions=perms.BOT_PERMISSIONS, managed=True)["id"])
        for name in ("general", "announcements", "hackbot-log"):
            self.add_channel(name)
        self.members[self.bot.id] = Member(self.bot, [self.bot_role_id])
        self.members[self.owner.id] = Member(self.owner)

    # --- building the guild ---------------------------------------------------------------
    @staticmethod
    def _role(role_id: int, name: str, *, permissions: int = 0, position: int = 1, **extra) -> dict:
        return {
            "id": str(role_id), "name": name, "color": extra.get("color", 0), "colors": {"primary_color": 0},
            "hoist": bool(extra.get("hoist", False)), "position": position, "permissions": str(permissions),
            "managed": bool(extra.get("managed", False)), "mentionable": bool(extra.get("mentionable", False)),
            "flags": 0, "icon": None, "unicode_emoji": None,
        }

    def add_role(self, name: str, *, permissions: int = 0, **extra) -> dict:
        """A new role at the bottom (position 1), as Discord places a created role."""
        for role in self.roles.values():
            if role["position"] >= 1:
                role["position"] += 1
        role_id = snowflake()
        role = self._role(role_id, name, permissions=permissions, position=1, **extra)
        self.roles[role_id] = role
        return role

    def add_channel(self, name: str, *, type: int = TEXT, parent_id: int | None = None, **extra) -> dict:
        channel_id = snowflake()
        channel = {
            "id": str(channel_id), "type": type, "guild_id": str(self.guild_id), "name": name,
            "position": len(self.channels), "permission_overwrites": extra.get("permission_overwrites", []),
            "parent_id": str(parent_id) if parent_id else None, "topic": extra.get("topic"), "nsfw": False,
            "rate_limit_per_user": 0, "flags": 0,
        }
        if type in THREAD_TYPES:
            channel.update({
                "owner_id": str(self.bot.id), "member_count": 0, "message_count": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": extra.get("auto_archive_duration", 10080),
                                    "archive_timestamp": iso_now(), "locked": False, "invitable": False},
            })
            del channel["permission_overwrites"], channel["topic"], channel["position"]
            self.thread_members[channel_id] = set()
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def add_member(self, name: str, *, roles: list[int] | None = None) -> Member:
        member = Member(User(snowflake(), name), list(roles or []))
        self.members[member.user.id] = member
        return member

    def fill(self, *, channels: int = 0, roles: int = 0) -> None:
        """Objects of the server's own (not the bot's): a server that already has many channels
        or roles, to meet Discord's caps sooner."""
        for n in range(channels):
            self.add_channel(f"existing-{n + 1}")
        for n in range(roles):
            self.add_role(f"Existing {n + 1}")

    def role_named(self, name: str) -> dict | None:
        return next((r for r in self.roles.values() if r["name"] == name), None)

    def channel_named(self, name: str) -> dict | None:
        return next((c for c in self.channels.values() if c["name"] == name), None)

    def guild_channels(self) -> list[dict]:
        """The channels that count towards the server's 500: threads do not."""
        return [c for c in self.channels.values() if c["type"] not in THREAD_TYPES]

    def threads(self) -> list[dict]:
        return [c for c in self.channels.values() if c["type"] in THREAD_TYPES]

    # --- permissions -------------------------------------------------------------------------
    def top_position(self, user_id: int) -> int:
        member = self.members.get(user_id)
        if member is None:
            return 0
        return max([0, *(self.roles[r]["position"] for r in member.roles if r in self.roles)])

    def guild_permissions(self, user_id: int) -> int:
        member = self.members.get(user_id)
        if member is None:
            return 0
        role_bits = [int(self.roles[r]["permissions"]) for r in member.roles if r in self.roles]
        return perms.base(int(self.roles[self.guild_id]["permissions"]), role_bits, owner=user_id == self.owner.id)

    def channel_permissions(self, user_id: int, channel_id: int) -> int:
        channel = self.channels.get(channel_id)
        guild_bits = self.guild_permissions(user_id)
        if channel is None:
            return guild_bits
        if channel["type"] in THREAD_TYPES:  # a thread has its parent's permissions
            return self.channel_permissions(user_id, int(channel["parent_id"]))
        member = self.members.get(user_id)
        roles = [str(r) for r in member.roles] if member else []
        return perms.in_channel(guild_bits, channel.get("permission_overwrites") or [], str(self.guild_id), roles,
                                str(user_id))

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id), "name": self.guild_name, "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": str(self.owner.id), "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "features": [], "mfa_level": 0,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "unavailable": False, "large": False,
            "member_count": len(self.members), "joined_at": iso_now(), "emojis": [], "stickers": [],
            "roles": list(self.roles.values()), "channels": self.guild_channels(),
            # GUILD_CREATE lists the active threads the bot can see (private ones it is in, or with
            # Manage Threads); the double's threads never archive
            "members": [m.payload() for m in self.members.values()], "threads": self.threads(), "presences": [],
            "voice_states": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    # --- what tests read ------------------------------------------------------------------
    def channel_messages(self, name_or_id: str | int) -> list[Message]:
        if isinstance(name_or_id, str):
            channel = self.channel_named(name_or_id)
            if channel is None:
                return []
            name_or_id = int(channel["id"])
        return [m for m in self.messages.get(int(name_or_id), []) if not m.deleted]

    def failed_interactions(self) -> list[Interaction]:
        return [i for i in self.interactions.values() if i.failed]

    def snapshot(self) -> dict[str, Any]:
        return {
            "guild_id": str(self.guild_id),
            "roles": [r["name"] for r in self.roles.values()],
            "channels": {c["name"]: [m.text() for m in self.channel_messages(int(c["id"]))] for c in self.channels.values()},
            "commands": [c["name"] for c in self.commands],
            "interactions": [i.summary() for i in self.interactions.values()],
            "failed": [str(i.id) for i in self.failed_interactions()],
            "refused": [str(r) for r in self.refused],
        }

    def refusals(self, *, injected: bool = False) -> list[Refusal]:
        """What the double refused; by default only what the bot caused (not a test's injected faults)."""
        return [r for r in self.refused if r.injected == injected]

    def take_refusals(self) -> list[Refusal]:
        """The refusals the bot caused so far, forgotten: for a test that provokes one on purpose."""
        taken = self.refusals()
        self.refused = [r for r in self.refused if r.injected]
        return taken
