"""Discord's permission model, as the double applies it: a member's permissions in the guild and
in a channel (overwrites), and the role hierarchy.

Bits and rules from discord/discord-api-docs `developers/topics/permissions.mdx`: the bits
(:46-81); the overwrite order "@everyone, then roles (deny, then allow), then the member"
and ADMINISTRATOR overriding everything (the "Permission Overwrites" section); a denied
VIEW_CHANNEL denying the rest (:191); the hierarchy (:110-115): a bot manages only roles below
its highest role; equal positions are ordered by id (:225).
"""

from __future__ import annotations

CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_ROLES = 1 << 28
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL = (1 << 51) - 1

NAMES = {
    ADMINISTRATOR: "Administrator", MANAGE_CHANNELS: "Manage Channels", MANAGE_GUILD: "Manage Server",
    VIEW_CHANNEL: "View Channels", SEND_MESSAGES: "Send Messages", EMBED_LINKS: "Embed Links",
    ATTACH_FILES: "Attach Files", READ_MESSAGE_HISTORY: "Read Message History", MANAGE_ROLES: "Manage Roles",
    MENTION_EVERYONE: "Mention @everyone, @here and All Roles",
    MANAGE_THREADS: "Manage Threads", CREATE_PRIVATE_THREADS: "Create Private Threads",
    CREATE_PUBLIC_THREADS: "Create Public Threads", SEND_MESSAGES_IN_THREADS: "Send Messages in Threads",
}

# What the README's invite asks for: roles and channels, messages, the threads that team spaces
# use past Discord's channel cap, and Mention All Roles (message.mdx:714: a role that is not
# mentionable notifies its members only when the sender has MENTION_EVERYONE).
BOT_PERMISSIONS = (
    MANAGE_ROLES | MANAGE_CHANNELS | VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
    | READ_MESSAGE_HISTORY | MENTION_EVERYONE | CREATE_PRIVATE_THREADS | SEND_MESSAGES_IN_THREADS | MANAGE_THREADS
)
# @everyone of a new server: view, send, read history, embed, attach, threads (Discord's default)
EVERYONE_DEFAULT = (
    VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | EMBED_LINKS | ATTACH_FILES | CREATE_INSTANT_INVITE
    | CREATE_PUBLIC_THREADS | CREATE_PRIVATE_THREADS | SEND_MESSAGES_IN_THREADS
)


def names(bits: int) -> list[str]:
    return [name for bit, name in NAMES.items() if bits & bit]


def base(everyone: int, role_bits: list[int], *, owner: bool = False) -> int:
    """A member's permissions in the guild: @everyone's and their roles', all of them for an
    administrator or the owner."""
    total = everyone
    for bits in role_bits:
        total |= bits
    if owner or total & ADMINISTRATOR:
        return ALL
    return total


def in_channel(guild_bits: int, overwrites: list[dict], everyone_id: str, role_ids: list[str], member_id: str) -> int:
    """Apply a channel's overwrites to a member's guild permissions."""
    if guild_bits & ADMINISTRATOR:
        return ALL
    total = guild_bits
    by_id = {str(o["id"]): o for o in overwrites}
    everyone = by_id.get(everyone_id)
    if everyone is not None:
        total = (total & ~int(everyone["deny"])) | int(everyone["allow"])
    deny = allow = 0
    for role_id in role_ids:
        found = by_id.get(role_id)
        if found is not None and int(found.get("type", 0)) == 0:
            deny |= int(found["deny"])
            allow |= int(found["allow"])
    total = (total & ~deny) | allow
    mine = by_id.get(member_id)
    if mine is not None and int(mine.get("type", 1)) == 1:
        total = (total & ~int(mine["deny"])) | int(mine["allow"])
    if not total & VIEW_CHANNEL:
        return 0  # permissions.mdx:191: no View Channel, nothing else
    return total
