"""The double's guild routes: channels, threads, roles, members and direct messages, with the
server's caps, the permission model and the role hierarchy.

- channels: Manage Channels; at most 500 in the server (30013, opcodes-and-status-codes.mdx:210;
  threads do not count, channel.mdx:253) and 50 in a category (400 50035
  CHANNEL_PARENT_MAX_CHANNELS, as observed: discord-api-docs PR #1289); a text channel's name
  is stored lower case with dashes (discord_limits.channel_name); an overwrite may only allow or
  deny what the bot has, and Manage Roles in an overwrite needs Administrator (guild.mdx:891);
- threads: a private thread (type 12) in a text channel needs Create Private Threads; adding a
  member needs to be able to send in it (channel.mdx:687);
- roles: Manage Roles; at most 250 (30005); a role's permissions at most the bot's; a role at
  or above the bot's highest role cannot be edited, deleted, given or taken (permissions.mdx:110-115);
- direct messages: a member who closed them answers 50007.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot import discord_limits as limits
from bot.sandbox import permissions as perms
from bot.sandbox import validate
from bot.sandbox.answers import json_response
from bot.sandbox.state import CATEGORY, PRIVATE_THREAD, PUBLIC_THREAD, TEXT, THREAD_TYPES, Member, snowflake

if TYPE_CHECKING:
    from bot.sandbox.server import SandboxServer


class GuildRoutes:
    def __init__(self, server: SandboxServer):
        self.server = server
        self.state = server.state

    def add(self, r: web.UrlDispatcher, a: str) -> None:
        r.add_get(a + "/channels/{channel}", self.get_channel)
        r.add_patch(a + "/channels/{channel}", self.edit_channel)
        r.add_delete(a + "/channels/{channel}", self.delete_channel)
        r.add_put(a + "/channels/{channel}/permissions/{target}", self.set_permission)
        r.add_delete(a + "/channels/{channel}/permissions/{target}", self.delete_permission)
        r.add_post(a + "/channels/{channel}/threads", self.create_thread)
        r.add_put(a + "/channels/{channel}/thread-members/{user}", self.add_thread_member)
        r.add_delete(a + "/channels/{channel}/thread-members/{user}", self.remove_thread_member)
        r.add_get(a + "/channels/{channel}/thread-members/{user}", self.get_thread_member)
        r.add_get(a + "/guilds/{guild}/channels", self.list_channels)
        r.add_post(a + "/guilds/{guild}/channels", self.create_channel)
        r.add_get(a + "/guilds/{guild}/roles", self.list_roles)
        r.add_post(a + "/guilds/{guild}/roles", self.create_role)
        r.add_patch(a + "/guilds/{guild}/roles/{role}", self.edit_role)
        r.add_delete(a + "/guilds/{guild}/roles/{role}", self.delete_role)
        r.add_get(a + "/guilds/{guild}/members/{user}", self.get_member)
        r.add_put(a + "/guilds/{guild}/members/{user}/roles/{role}", self.add_member_role)
        r.add_delete(a + "/guilds/{guild}/members/{user}/roles/{role}", self.remove_member_role)
        r.add_post(a + "/users/@me/channels", self.open_dm)

    # --- helpers -------------------------------------------------------------------------------
    @property
    def strict(self) -> bool:
        return self.state.strict

    def _bot_has(self, request: web.Request, need: int, channel_id: int | None = None) -> web.Response | None:
        if not self.strict:
            return None
        s = self.state
        have = s.guild_permissions(s.bot.id) if channel_id is None else s.channel_permissions(s.bot.id, channel_id)
        if have & need == need:
            return None
        where = "the server" if channel_id is None else f"#{s.channels[channel_id]['name']}"
        return self.server.missing(request, need & ~have, where)

    def _grantable(self, request: web.Request, bits: int, what: str, channel_id: int | None = None) -> web.Response | None:
        """guild.mdx:891, channel.mdx:483: only permissions the bot has can be allowed or denied."""
        if not self.strict:
            return None
        s = self.state
        have = s.guild_permissions(s.bot.id) if channel_id is None else s.channel_permissions(s.bot.id, channel_id)
        if have & perms.ADMINISTRATOR:
            return None
        beyond = bits & ~have
        if channel_id is not None or what.startswith("an overwrite"):
            beyond |= bits & perms.MANAGE_ROLES  # "only possible for guild administrators"
        if beyond:
            return self.server.refuse(request, 403, 50013, "Missing Permissions",
                                      reason=f"{what} grants {', '.join(perms.names(beyond)) or bin(beyond)}, "
                                      "which the bot does not have")
        return None

    def _below_bot(self, request: web.Request, role_id: int, doing: str) -> web.Response | None:
        if not self.strict:
            return None
        s = self.state
        role, top = s.roles[role_id], s.top_position(s.bot.id)
        if role["position"] >= top and not s.guild_permissions(s.bot.id) & perms.ADMINISTRATOR:
            return self.server.refuse(request, 403, 50013, "Missing Permissions",
                                      reason=f"cannot {doing} @{role['name']}: it is not below the bot's highest role "
                                      "(role hierarchy)")
        return None

    def _known_channel(self, request: web.Request) -> dict | None:
        return self.state.channels.get(int(request.match_info["channel"]))

    @staticmethod
    def _overwrites(items) -> list[dict]:
        return [{"id": str(o["id"]), "type": int(o.get("type", 0)), "allow": str(o.get("allow", 0)),
                 "deny": str(o.get("deny", 0))} for o in items or []]

    def _overwrite_refusal(self, request: web.Request, overwrites: list[dict], channel_id: int | None = None):
        for o in overwrites:
            refused = self._grantable(request, int(o["allow"]) | int(o["deny"]), f"an overwrite for {o['id']}",
                                      channel_id)
            if refused is not None:
                return refused
        return None

    def _parent_full(self, request: web.Request, parent: int | None) -> web.Response | None:
        if not self.strict or parent is None:
            return None
        inside = sum(1 for c in self.state.guild_channels() if c.get("parent_id") == str(parent))
        if inside >= limits.CATEGORY_CHANNELS:
            form = validate.Form()
            form.add(("parent_id",), "CHANNEL_PARENT_MAX_CHANNELS",
                     f"Maximum number of channels in category reached ({limits.CATEGORY_CHANNELS})")
            return self.server.invalid(request, form)
        return None

    # --- channels -----------------------------------------------------------------------------
    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._known_channel(request)
        if channel is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        return self.server_json(channel)

    @staticmethod
    def server_json(data, status: int = 200) -> web.Response:
        return json_response(data, status)

    async def list_channels(self, request: web.Request) -> web.Response:
        return self.server_json(self.state.guild_channels())

    async def create_channel(self, request: web.Request) -> web.Response:
        payload, _ = await self.server.body(request)
        kind = int(payload.get("type") or TEXT)
        parent = int(payload["parent_id"]) if payload.get("parent_id") else None
        overwrites = self._overwrites(payload.get("permission_overwrites"))
        refused = self._bot_has(request, perms.MANAGE_CHANNELS)
        if refused is None and overwrites:
            refused = self._bot_has(request, perms.MANAGE_ROLES) or self._overwrite_refusal(request, overwrites)
        if refused is not None:
            return refused
        if self.strict:
            form = validate.channel(payload)
            if form:
                return self.server.invalid(request, form)
            if len(self.state.guild_channels()) >= limits.GUILD_CHANNELS:
                return self.server.refuse(request, 400, 30013,
                                          f"Maximum number of guild channels reached ({limits.GUILD_CHANNELS})")
            refused = self._parent_full(request, parent)
            if refused is not None:
                return refused
        name = payload["name"]
        if kind == TEXT:
            name = limits.channel_name(name)
        channel = self.state.add_channel(name, type=kind, parent_id=parent, topic=payload.get("topic"),
                                         permission_overwrites=overwrites)
        await self.server.dispatch("CHANNEL_CREATE", channel)
        return self.server_json(channel, status=201)

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self._known_channel(request)
        payload, _ = await self.server.body(request)
        if channel is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        channel_id = int(channel["id"])
        thread = channel["type"] in THREAD_TYPES
        refused = self._bot_has(request, perms.MANAGE_THREADS if thread else perms.MANAGE_CHANNELS, channel_id)
        if refused is None and "permission_overwrites" in payload:
            overwrites = self._overwrites(payload["permission_overwrites"])
            refused = self._bot_has(request, perms.MANAGE_ROLES, channel_id) or self._overwrite_refusal(
                request, overwrites, channel_id)
        if refused is None and self.strict:
            form = validate.channel({"name": channel["name"], **payload}, thread=thread)
            if form:
                return self.server.invalid(request, form)
            if payload.get("parent_id") and payload["parent_id"] != channel.get("parent_id"):
                refused = self._parent_full(request, int(payload["parent_id"]))
        if refused is not None:
            return refused
        for key in ("name", "topic", "parent_id", "position", "nsfw"):
            if key in payload:
                channel[key] = payload[key]
        if "name" in payload and channel["type"] == TEXT:
            channel["name"] = limits.channel_name(payload["name"])
        if "permission_overwrites" in payload:
            channel["permission_overwrites"] = self._overwrites(payload["permission_overwrites"])
        await self.server.dispatch("THREAD_UPDATE" if thread else "CHANNEL_UPDATE", channel)
        return self.server_json(channel)

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self._known_channel(request)
        if channel is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        thread = channel["type"] in THREAD_TYPES
        refused = self._bot_has(request, perms.MANAGE_THREADS if thread else perms.MANAGE_CHANNELS, int(channel["id"]))
        if refused is not None:
            return refused
        self.state.channels.pop(int(channel["id"]))
        await self.server.dispatch("THREAD_DELETE" if thread else "CHANNEL_DELETE", channel)
        return self.server_json(channel)

    async def set_permission(self, request: web.Request) -> web.Response:
        channel = self._known_channel(request)
        payload, _ = await self.server.body(request)
        if channel is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        channel_id = int(channel["id"])
        target = request.match_info["target"]
        overwrite = {"id": target, "type": int(payload.get("type", 0)), "allow": str(payload.get("allow", 0)),
                     "deny": str(payload.get("deny", 0))}
        refused = self._bot_has(request, perms.MANAGE_ROLES, channel_id) or self._overwrite_refusal(
            request, [overwrite], channel_id)
        if refused is not None:
            return refused
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != target]
        channel["permission_overwrites"] = [*overwrites, overwrite]
        await self.server.dispatch("CHANNEL_UPDATE", channel)
        return web.Response(status=204)

    async def delete_permission(self, request: web.Request) -> web.Response:
        channel = self._known_channel(request)
        if channel is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        refused = self._bot_has(request, perms.MANAGE_ROLES, int(channel["id"]))
        if refused is not None:
            return refused
        target = request.match_info["target"]
        channel["permission_overwrites"] = [o for o in channel["permission_overwrites"] if o["id"] != target]
        await self.server.dispatch("CHANNEL_UPDATE", channel)
        return web.Response(status=204)

    # --- threads ------------------------------------------------------------------------------
    async def create_thread(self, request: web.Request) -> web.Response:
        parent = self._known_channel(request)
        payload, _ = await self.server.body(request)
        if parent is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        kind = int(payload.get("type") or PRIVATE_THREAD)  # channel.mdx:622: defaults to a private thread
        if self.strict and (parent["type"] != TEXT or kind not in THREAD_TYPES):
            return self.server.refuse(request, 400, 50024, "Cannot execute action on this channel type",
                                      reason=f"a thread of type {kind} in #{parent['name']} (type {parent['type']})")
        need = perms.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else perms.CREATE_PUBLIC_THREADS
        refused = self._bot_has(request, perms.VIEW_CHANNEL | need, int(parent["id"]))
        if refused is None and self.strict:
            form = validate.channel(payload, thread=True)
            if form:
                refused = self.server.invalid(request, form)
        if refused is not None:
            return refused
        thread = self.state.add_channel(payload["name"], type=kind, parent_id=int(parent["id"]),
                                        auto_archive_duration=payload.get("auto_archive_duration") or 4320)
        self.state.thread_members[int(thread["id"])].add(self.state.bot.id)
        thread["member_count"] = 1
        await self.server.dispatch("THREAD_CREATE", thread | {"newly_created": True})
        return self.server_json(thread, status=201)

    def _thread(self, request: web.Request) -> dict | None:
        channel = self._known_channel(request)
        return channel if channel is not None and channel["type"] in THREAD_TYPES else None

    async def add_thread_member(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        if thread is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        user = request.match_info["user"]
        user_id = self.state.bot.id if user == "@me" else int(user)
        if user_id not in self.state.members:
            return self.server.not_found(request, 10013, "Unknown User")
        refused = self._bot_has(request, perms.VIEW_CHANNEL | perms.SEND_MESSAGES_IN_THREADS, int(thread["id"]))
        if refused is not None:
            return refused
        members = self.state.thread_members[int(thread["id"])]
        members.add(user_id)
        thread["member_count"] = len(members)
        return web.Response(status=204)

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        if thread is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        user = request.match_info["user"]
        user_id = self.state.bot.id if user == "@me" else int(user)
        # channel.mdx:697: Manage Threads, or being the creator of a private thread
        own = thread["type"] == PRIVATE_THREAD and thread.get("owner_id") == str(self.state.bot.id)
        refused = None if own or user == "@me" else self._bot_has(request, perms.MANAGE_THREADS, int(thread["id"]))
        if refused is not None:
            return refused
        members = self.state.thread_members[int(thread["id"])]
        members.discard(user_id)
        thread["member_count"] = len(members)
        return web.Response(status=204)

    async def get_thread_member(self, request: web.Request) -> web.Response:
        thread = self._thread(request)
        if thread is None:
            return self.server.not_found(request, 10003, "Unknown Channel")
        user_id = int(request.match_info["user"])
        if user_id not in self.state.thread_members[int(thread["id"])]:
            return self.server.not_found(request, 10007, "Unknown Member")
        return self.server_json({"id": thread["id"], "user_id": str(user_id), "join_timestamp": thread.get(
            "thread_metadata", {}).get("archive_timestamp"), "flags": 0})

    # --- roles and members ---------------------------------------------------------------------
    async def list_roles(self, request: web.Request) -> web.Response:
        return self.server_json(list(self.state.roles.values()))

    async def create_role(self, request: web.Request) -> web.Response:
        payload, _ = await self.server.body(request)
        bits = int(payload.get("permissions") or 0)
        refused = self._bot_has(request, perms.MANAGE_ROLES) or self._grantable(request, bits, "the new role")
        if refused is None and self.strict:
            form = validate.role(payload)
            if form:
                return self.server.invalid(request, form)
            if len(self.state.roles) >= limits.GUILD_ROLES:
                return self.server.refuse(request, 400, 30005,
                                          f"Maximum number of guild roles reached ({limits.GUILD_ROLES})")
        if refused is not None:
            return refused
        role = self.state.add_role(
            payload.get("name") or "new role", permissions=bits,
            color=payload.get("color", 0), hoist=payload.get("hoist", False), mentionable=payload.get("mentionable", False),
        )
        await self.server.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.state.guild_id), "role": role})
        return self.server_json(role)

    async def edit_role(self, request: web.Request) -> web.Response:
        payload, _ = await self.server.body(request)
        role_id = int(request.match_info["role"])
        role = self.state.roles.get(role_id)
        if role is None:
            return self.server.not_found(request, 10011, "Unknown Role")
        refused = self._bot_has(request, perms.MANAGE_ROLES) or self._below_bot(request, role_id, "edit")
        if refused is None and "permissions" in payload:
            refused = self._grantable(request, int(payload["permissions"] or 0), f"@{role['name']}")
        if refused is None and self.strict:
            form = validate.role(payload)
            if form:
                refused = self.server.invalid(request, form)
        if refused is not None:
            return refused
        for key in ("name", "color", "hoist", "mentionable"):
            if key in payload:
                role[key] = payload[key]
        if "permissions" in payload:
            role["permissions"] = str(payload["permissions"])
        await self.server.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.state.guild_id), "role": role})
        return self.server_json(role)

    async def delete_role(self, request: web.Request) -> web.Response:
        role_id = int(request.match_info["role"])
        if role_id not in self.state.roles:
            return self.server.not_found(request, 10011, "Unknown Role")
        refused = self._bot_has(request, perms.MANAGE_ROLES) or self._below_bot(request, role_id, "delete")
        if refused is not None:
            return refused
        self.state.roles.pop(role_id)
        for member in self.state.members.values():
            if role_id in member.roles:
                member.roles.remove(role_id)
        await self.server.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(self.state.guild_id), "role_id": str(role_id)})
        return web.Response(status=204)

    def _member(self, request: web.Request) -> Member | None:
        return self.state.members.get(int(request.match_info["user"]))

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._member(request)
        if member is None:
            return self.server.not_found(request, 10007, "Unknown Member")
        return self.server_json(member.payload())

    async def add_member_role(self, request: web.Request) -> web.Response:
        member, role_id = self._member(request), int(request.match_info["role"])
        if member is None:
            return self.server.not_found(request, 10007, "Unknown Member")
        if role_id not in self.state.roles:
            return self.server.not_found(request, 10011, "Unknown Role")
        refused = self._bot_has(request, perms.MANAGE_ROLES) or self._below_bot(request, role_id, "give")
        if refused is not None:
            return refused
        if role_id not in member.roles:
            member.roles.append(role_id)
        return web.Response(status=204)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        member, role_id = self._member(request), int(request.match_info["role"])
        if member is None:
            return self.server.not_found(request, 10007, "Unknown Member")
        if role_id in self.state.roles:
            refused = self._bot_has(request, perms.MANAGE_ROLES) or self._below_bot(request, role_id, "take away")
            if refused is not None:
                return refused
        if role_id in member.roles:
            member.roles.remove(role_id)
        return web.Response(status=204)

    async def open_dm(self, request: web.Request) -> web.Response:
        payload, _ = await self.server.body(request)
        user_id = int(payload["recipient_id"])
        member = self.state.members.get(user_id)
        if member is None:
            return self.server.not_found(request, 10013, "Unknown User")
        channel_id = self.state.dm_channels.setdefault(user_id, snowflake())
        self.state.messages.setdefault(channel_id, [])
        return self.server_json({
            "id": str(channel_id), "type": 1, "recipients": [member.user.payload()], "last_message_id": None,
        })


__all__ = ["CATEGORY", "PUBLIC_THREAD", "GuildRoutes"]
