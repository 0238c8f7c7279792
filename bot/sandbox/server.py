"""A local Discord: the subset of API v10 (REST + gateway) that Hackbot uses, over aiohttp.

The real discord.py client talks to it unchanged once `point_discord_at(url)` has moved its
base route and gateway. It answers like Discord where a bot can get it wrong: a first response
after 3 s is refused (10062 Unknown interaction), a second first response too (40060), and a
request can be rate limited on demand (429 with retry_after).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from bot.sandbox.state import (
    ACK_DEADLINE,
    Interaction,
    Message,
    SandboxState,
    iso_now,
    snowflake,
)

log = logging.getLogger(__name__)

API = "/api/v10"
HEARTBEAT_MS = 41250


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly "application/json": discord.py compares the header verbatim (no charset)
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


class GatewaySession:
    def __init__(self, ws: web.WebSocketResponse, compress: bool):
        self.ws = ws
        self.sequence = 0
        self.ready = False
        self.session_id = secrets.token_hex(16)
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            if self._zlib is None:
                await self.ws.send_str(data)
            else:  # zlib-stream: one shared context, each message ends with a sync flush
                await self.ws.send_bytes(self._zlib.compress(data.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        await self.send({"op": 0, "t": event, "s": self.sequence, "d": data})


class SandboxServer:
    """The double's HTTP face. `url` is known once started."""

    def __init__(self, state: SandboxState | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.state = state or SandboxState()
        self.host, self.port = host, port
        self.sessions: list[GatewaySession] = []
        self.identified = 0  # IDENTIFYs seen: a restarted bot identifies again
        self.runner: web.AppRunner | None = None
        self.url = ""

    # --- life -----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/gateway", self.gateway)
        r.add_get("/attachments/{id}/{name}", self.attachment)
        r.add_get("/_sandbox/state", self.debug_state)
        a = API
        r.add_get(a + "/gateway", self.get_gateway)
        r.add_get(a + "/gateway/bot", self.get_gateway)
        r.add_get(a + "/users/@me", self.users_me)
        r.add_get(a + "/oauth2/applications/@me", self.application)
        r.add_get(a + "/applications/@me", self.application)
        r.add_put(a + "/applications/{app}/guilds/{guild}/commands", self.bulk_overwrite)
        r.add_get(a + "/applications/{app}/guilds/{guild}/commands", self.list_commands)
        r.add_put(a + "/applications/{app}/commands", self.bulk_overwrite)
        r.add_post(a + "/interactions/{id}/{token}/callback", self.callback)
        r.add_post(a + "/webhooks/{app}/{token}", self.followup)
        r.add_get(a + "/webhooks/{app}/{token}/messages/{message}", self.get_webhook_message)
        r.add_patch(a + "/webhooks/{app}/{token}/messages/{message}", self.edit_webhook_message)
        r.add_delete(a + "/webhooks/{app}/{token}/messages/{message}", self.delete_webhook_message)
        r.add_post(a + "/channels/{channel}/messages", self.create_message)
        r.add_get(a + "/channels/{channel}/messages/{message}", self.get_message)
        r.add_patch(a + "/channels/{channel}/messages/{message}", self.edit_message)
        r.add_delete(a + "/channels/{channel}/messages/{message}", self.delete_message)
        r.add_get(a + "/channels/{channel}", self.get_channel)
        r.add_patch(a + "/channels/{channel}", self.edit_channel)
        r.add_delete(a + "/channels/{channel}", self.delete_channel)
        r.add_put(a + "/channels/{channel}/permissions/{target}", self.set_permission)
        r.add_delete(a + "/channels/{channel}/permissions/{target}", self.delete_permission)
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
        return app

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        for session in list(self.sessions):
            await session.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # --- plumbing -------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        for n, (fragment, retry_after) in enumerate(self.state.rate_limits):
            if request.path.startswith(API) and fragment in request.path:
                del self.state.rate_limits[n]
                self.state.requests.append((request.method, request.path, 429))
                return _json(
                    {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                    status=429,
                    headers={"Via": "1.1 google", "Retry-After": str(retry_after), "X-RateLimit-Scope": "user"},
                )
        public = (API + "/gateway", API + "/interactions/", API + "/webhooks/")  # tokens in the path
        bot_auth = request.headers.get("Authorization", "") == f"Bot {self.token}"
        if request.path.startswith(API) and not request.path.startswith(public) and not bot_auth:
            return _error(401, 0, "401: Unauthorized")
        response = await handler(request)
        self.state.requests.append((request.method, request.path, response.status))
        return response

    token = "sandbox-token"

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for session in [s for s in self.sessions if s.ready]:
            with contextlib.suppress(ConnectionError):
                await session.dispatch(event, data)

    @staticmethod
    async def body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        """JSON, or discord.py's multipart (payload_json + files[n])."""
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            files = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # a nested multipart: discord.py sends none
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                elif part.filename:
                    files.append((part.filename, await part.read()))
            return payload, files
        if request.can_read_body:
            return await request.json(), []
        return {}, []

    def _attach(self, files: list[tuple[str, bytes]]) -> list[dict]:
        return [self.add_attachment(name, data) for name, data in files]

    def add_attachment(self, name: str, data: bytes, content_type: str = "text/csv") -> dict:
        attachment_id = snowflake()
        self.state.attachments[attachment_id] = (name, data)
        url = f"{self.url}/attachments/{attachment_id}/{name}"
        return {
            "id": str(attachment_id), "filename": name, "size": len(data), "url": url, "proxy_url": url,
            "content_type": content_type, "ephemeral": False,
        }

    def _message(self, channel_id: int, payload: dict, files, *, interaction: Interaction | None = None) -> Message:
        message = Message(
            id=snowflake(), channel_id=channel_id, author=self.state.bot, content=payload.get("content") or "",
            embeds=payload.get("embeds") or [], components=payload.get("components") or [],
            attachments=self._attach(files), flags=int(payload.get("flags") or 0),
            interaction_id=interaction.id if interaction else None,
        )
        if not message.ephemeral:
            self.state.messages.setdefault(channel_id, []).append(message)
        return message

    @staticmethod
    def _edit(message: Message, payload: dict, files=()) -> None:
        for key in ("content", "embeds", "components"):
            if key in payload:
                setattr(message, key, payload[key] if payload[key] is not None else ([] if key != "content" else ""))
        message.edits += 1
        message.edited_timestamp = iso_now()

    # --- gateway --------------------------------------------------------------------------
    async def get_gateway(self, request: web.Request) -> web.Response:
        return _json({
            "url": self.url.replace("http", "ws", 1) + "/gateway", "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        })

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = GatewaySession(ws, compress=request.query.get("compress") == "zlib-stream")
        self.sessions.append(session)
        try:
            await session.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                        break
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:  # heartbeat
                    await session.send({"op": 11})
                elif op == 2:  # identify
                    if frame["d"].get("token", "").removeprefix("Bot ") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    self.identified += 1
                    await self._ready(session, request)
                elif op == 6:  # resume
                    session.ready = True
                    await session.dispatch("RESUMED", {})
        finally:
            self.sessions.remove(session)
        return ws

    async def _ready(self, session: GatewaySession, request: web.Request) -> None:
        s = self.state
        await session.dispatch("READY", {
            "v": 10, "user": s.bot.payload(), "guilds": [{"id": str(s.guild_id), "unavailable": True}],
            "session_id": session.session_id, "resume_gateway_url": self.url.replace("http", "ws", 1) + "/gateway",
            "shard": [0, 1], "application": {"id": str(s.bot.id), "flags": 0}, "private_channels": [],
            "relationships": [], "user_settings": {}, "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        })
        await session.dispatch("GUILD_CREATE", s.guild_payload())
        session.ready = True

    # --- identity -------------------------------------------------------------------------
    async def users_me(self, request: web.Request) -> web.Response:
        return _json(self.state.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def application(self, request: web.Request) -> web.Response:
        s = self.state
        return _json({
            "id": str(s.bot.id), "name": "Hackbot sandbox", "description": "", "icon": None, "bot_public": False,
            "bot_require_code_grant": False, "owner": s.owner.payload(), "verify_key": "0" * 64, "flags": 0,
            "summary": "", "team": None, "rpc_origins": [], "interactions_endpoint_url": None,
            "redirect_uris": [], "tags": [], "approximate_guild_count": 1, "bot": s.bot.payload(),
        })

    async def debug_state(self, request: web.Request) -> web.Response:
        return _json(self.state.snapshot())

    # --- commands -------------------------------------------------------------------------
    async def bulk_overwrite(self, request: web.Request) -> web.Response:
        # a JSON array, where every other route sends an object
        commands: list[dict[str, Any]] = await request.json() if request.can_read_body else []
        known = {c["name"]: c["id"] for c in self.state.commands}
        registered = []
        for command in commands:
            registered.append(command | {
                "id": known.get(command["name"]) or str(snowflake()), "application_id": str(self.state.bot.id),
                "guild_id": request.match_info.get("guild"), "version": str(snowflake()),
                "default_member_permissions": command.get("default_member_permissions"),
                "type": command.get("type", 1),
            })
        self.state.commands = registered
        return _json(registered)

    async def list_commands(self, request: web.Request) -> web.Response:
        return _json(self.state.commands)

    # --- interactions ---------------------------------------------------------------------
    async def callback(self, request: web.Request) -> web.Response:
        interaction = self.state.interactions.get(int(request.match_info["id"]))
        payload, files = await self.body(request)
        if interaction is None or interaction.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        elapsed = time.monotonic() - interaction.dispatched
        if interaction.response_type is not None:
            interaction.errors.append("acknowledged twice")
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if elapsed > ACK_DEADLINE:
            interaction.errors.append(f"answered after {elapsed:.2f} s")
            return _error(404, 10062, "Unknown interaction")
        kind = int(payload["type"])
        data = payload.get("data") or {}
        if kind == 8:  # autocomplete results: no message
            interaction.acknowledged, interaction.response_type = elapsed, kind
            return web.Response(status=204)
        message_payload: dict | None = None
        if kind in (4, 5):
            interaction.original = self._message(interaction.channel_id, data, files, interaction=interaction)
            if kind == 5:
                interaction.original.content = ""
            message_payload = interaction.original.payload(self.state.guild_id)
        elif kind in (6, 7):
            source = interaction.payload.get("message", {}).get("id")
            interaction.original = self._find_message(int(source)) if source else None
            if kind == 7 and interaction.original is not None:
                self._edit(interaction.original, data, files)
                message_payload = interaction.original.payload(self.state.guild_id)
        elif kind == 9:
            interaction.modal = data
        interaction.acknowledged, interaction.response_type = elapsed, kind
        answer: dict[str, Any] = {"interaction": {
            "id": str(interaction.id), "type": interaction.kind,
            "response_message_id": str(interaction.original.id) if interaction.original else None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(interaction.original and interaction.original.ephemeral),
        }}
        if message_payload is not None:
            answer["resource"] = {"type": kind, "message": message_payload}
        return _json(answer)

    def _find_message(self, message_id: int) -> Message | None:
        for interaction in self.state.interactions.values():
            for message in interaction.messages():
                if message.id == message_id:
                    return message
        for messages in self.state.messages.values():
            for message in messages:
                if message.id == message_id:
                    return message
        return None

    def _webhook_interaction(self, request: web.Request) -> Interaction | None:
        return self.state.by_token.get(request.match_info["token"])

    async def followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        payload, files = await self.body(request)
        if interaction is None or interaction.response_type is None:
            return _error(404, 10015, "Unknown Webhook")
        original = interaction.original
        if interaction.response_type == 5 and original is not None and not original.edits and not original.content:
            # the first follow-up after a "thinking" defer replaces the loading message
            original.flags = int(payload.get("flags") or original.flags)
            self._edit(original, payload, files)
            message = original
        else:
            message = self._message(interaction.channel_id, payload, files, interaction=interaction)
            interaction.followups.append(message)
        return _json(message.payload(self.state.guild_id))

    def _webhook_message(self, request: web.Request) -> Message | None:
        interaction = self._webhook_interaction(request)
        if interaction is None:
            return None
        wanted = request.match_info["message"]
        if wanted == "@original":
            return interaction.original
        return next((m for m in interaction.messages() if str(m.id) == wanted), None) or self._find_message(int(wanted))

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        if message is None or message.deleted:
            return _error(404, 10008, "Unknown Message")
        return _json(message.payload(self.state.guild_id))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        payload, files = await self.body(request)
        if message is None or message.deleted:
            return _error(404, 10008, "Unknown Message")
        self._edit(message, payload, files)
        return _json(message.payload(self.state.guild_id))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        if message is None or message.deleted:
            return _error(404, 10008, "Unknown Message")
        message.deleted = True
        return web.Response(status=204)

    # --- channels and messages ------------------------------------------------------------
    def _channel(self, request: web.Request) -> int | None:
        channel_id = int(request.match_info["channel"])
        known = channel_id in self.state.channels or channel_id in self.state.dm_channels.values()
        return channel_id if known else None

    async def create_message(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        payload, files = await self.body(request)
        if channel_id is None:
            return _error(404, 10003, "Unknown Channel")
        message = self._message(channel_id, payload, files)
        return _json(message.payload(self.state.guild_id))

    def _channel_message(self, request: web.Request) -> Message | None:
        channel_id = int(request.match_info["channel"])
        wanted = int(request.match_info["message"])
        return next((m for m in self.state.messages.get(channel_id, []) if m.id == wanted and not m.deleted), None)

    async def get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        return _json(message.payload(self.state.guild_id))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        payload, files = await self.body(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        self._edit(message, payload, files)
        return _json(message.payload(self.state.guild_id))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        message.deleted = True
        return web.Response(status=204)

    async def get_channel(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        if channel_id is None or channel_id not in self.state.channels:
            return _error(404, 10003, "Unknown Channel")
        return _json(self.state.channels[channel_id])

    async def list_channels(self, request: web.Request) -> web.Response:
        return _json(list(self.state.channels.values()))

    async def create_channel(self, request: web.Request) -> web.Response:
        payload, _ = await self.body(request)
        parent = payload.get("parent_id")
        channel = self.state.add_channel(
            payload["name"], type=int(payload.get("type") or 0), parent_id=int(parent) if parent else None,
            topic=payload.get("topic"),
            permission_overwrites=[
                {"id": str(o["id"]), "type": o.get("type", 0), "allow": str(o.get("allow", 0)), "deny": str(o.get("deny", 0))}
                for o in payload.get("permission_overwrites") or []
            ],
        )
        await self.dispatch("CHANNEL_CREATE", channel)
        return _json(channel, status=201)

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        payload, _ = await self.body(request)
        if channel_id is None or channel_id not in self.state.channels:
            return _error(404, 10003, "Unknown Channel")
        channel = self.state.channels[channel_id]
        for key in ("name", "topic", "parent_id", "position", "nsfw"):
            if key in payload:
                channel[key] = payload[key]
        if "permission_overwrites" in payload:
            channel["permission_overwrites"] = payload["permission_overwrites"]
        await self.dispatch("CHANNEL_UPDATE", channel)
        return _json(channel)

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        if channel_id is None or channel_id not in self.state.channels:
            return _error(404, 10003, "Unknown Channel")
        channel = self.state.channels.pop(channel_id)
        await self.dispatch("CHANNEL_DELETE", channel)
        return _json(channel)

    async def set_permission(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        payload, _ = await self.body(request)
        if channel_id is None or channel_id not in self.state.channels:
            return _error(404, 10003, "Unknown Channel")
        channel = self.state.channels[channel_id]
        target = request.match_info["target"]
        overwrites = [o for o in channel["permission_overwrites"] if o["id"] != target]
        overwrites.append({"id": target, "type": int(payload.get("type", 0)),
                           "allow": str(payload.get("allow", 0)), "deny": str(payload.get("deny", 0))})
        channel["permission_overwrites"] = overwrites
        await self.dispatch("CHANNEL_UPDATE", channel)
        return web.Response(status=204)

    async def delete_permission(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        if channel_id is None or channel_id not in self.state.channels:
            return _error(404, 10003, "Unknown Channel")
        channel = self.state.channels[channel_id]
        target = request.match_info["target"]
        channel["permission_overwrites"] = [o for o in channel["permission_overwrites"] if o["id"] != target]
        await self.dispatch("CHANNEL_UPDATE", channel)
        return web.Response(status=204)

    # --- roles and members ----------------------------------------------------------------
    async def list_roles(self, request: web.Request) -> web.Response:
        return _json(list(self.state.roles.values()))

    async def create_role(self, request: web.Request) -> web.Response:
        payload, _ = await self.body(request)
        role = self.state.add_role(
            payload.get("name") or "new role", permissions=int(payload.get("permissions") or 0),
            color=payload.get("color", 0), hoist=payload.get("hoist", False), mentionable=payload.get("mentionable", False),
        )
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.state.guild_id), "role": role})
        return _json(role)

    async def edit_role(self, request: web.Request) -> web.Response:
        payload, _ = await self.body(request)
        role = self.state.roles.get(int(request.match_info["role"]))
        if role is None:
            return _error(404, 10011, "Unknown Role")
        for key in ("name", "color", "hoist", "mentionable"):
            if key in payload:
                role[key] = payload[key]
        if "permissions" in payload:
            role["permissions"] = str(payload["permissions"])
        await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.state.guild_id), "role": role})
        return _json(role)

    async def delete_role(self, request: web.Request) -> web.Response:
        role_id = int(request.match_info["role"])
        if self.state.roles.pop(role_id, None) is None:
            return _error(404, 10011, "Unknown Role")
        for member in self.state.members.values():
            if role_id in member.roles:
                member.roles.remove(role_id)
        await self.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(self.state.guild_id), "role_id": str(role_id)})
        return web.Response(status=204)

    def _member(self, request: web.Request):
        return self.state.members.get(int(request.match_info["user"]))

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._member(request)
        if member is None:
            return _error(404, 10007, "Unknown Member")
        return _json(member.payload())

    async def add_member_role(self, request: web.Request) -> web.Response:
        member, role_id = self._member(request), int(request.match_info["role"])
        if member is None:
            return _error(404, 10007, "Unknown Member")
        if role_id not in self.state.roles:
            return _error(404, 10011, "Unknown Role")
        if role_id not in member.roles:
            member.roles.append(role_id)
        return web.Response(status=204)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        member, role_id = self._member(request), int(request.match_info["role"])
        if member is None:
            return _error(404, 10007, "Unknown Member")
        if role_id in member.roles:
            member.roles.remove(role_id)
        return web.Response(status=204)

    async def open_dm(self, request: web.Request) -> web.Response:
        payload, _ = await self.body(request)
        user_id = int(payload["recipient_id"])
        member = self.state.members.get(user_id)
        if member is None:
            return _error(404, 10013, "Unknown User")
        channel_id = self.state.dm_channels.setdefault(user_id, snowflake())
        self.state.messages.setdefault(channel_id, [])
        return _json({
            "id": str(channel_id), "type": 1, "recipients": [member.user.payload()], "last_message_id": None,
        })

    # --- attachments ----------------------------------------------------------------------
    async def attachment(self, request: web.Request) -> web.Response:
        found = self.state.attachments.get(int(request.match_info["id"]))
        if found is None or found[0] != request.match_info["name"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found[1], content_type="application/octet-stream")
