"""A local Discord: the subset of API v10 (REST + gateway) that Hackbot uses, over aiohttp, as
strict as the real one.

The real discord.py client talks to it unchanged once `point_discord_at(url)` has moved its
base route and gateway. By default (`SandboxState.strict`) it refuses what Discord refuses, with
Discord's status, JSON code and error shape: bodies over Discord's limits (50035 with the nested
`errors`, bot/sandbox/validate.py), the server's caps (30013 at 500 channels, 30005 at 250 roles,
50 channels a category), missing permissions and the role hierarchy (50013), closed DMs
(50007), callbacks that do not fit the interaction, late (10062) or twice (40060), tokens
past 15 minutes, rate limits (bot/sandbox/ratelimit.py). Every refusal is recorded in
`state.refused` with its route and reason; tests inject faults per route (bot/sandbox/faults.py).

A refusal is an answer that Discord counts against a bot or that loses what the bot meant to
do: 400, 401, 403, 429, and 404 Unknown interaction / Unknown Webhook. A 404 for a member, a
message or a channel that is not there is an answer to a question, not a refusal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import BodyPartReader, web

from bot import discord_limits as limits
from bot.sandbox import permissions as perms
from bot.sandbox import ratelimit, validate
from bot.sandbox.answers import API, json_response, route_of
from bot.sandbox.arrival import StampingListener
from bot.sandbox.faults import Faults
from bot.sandbox.gateway import Gateway, Session
from bot.sandbox.guild_routes import GuildRoutes
from bot.sandbox.state import (
    ACK_DEADLINE,
    DM,
    EPHEMERAL,
    PRIVATE_THREAD,
    THREAD_TYPES,
    Interaction,
    Message,
    Refusal,
    SandboxState,
    iso_now,
    snowflake,
)

log = logging.getLogger(__name__)

REFUSED_404 = {10062, 10015}  # unknown interaction or webhook: the answer is lost
NONCE_WINDOW = 120.0  # seconds enforce_nonce remembers a nonce ("the past few minutes": the short reading)


class SandboxServer:
    """The double's HTTP face. `url` is known once started."""

    token = "sandbox-token"

    def __init__(self, state: SandboxState | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.state = state or SandboxState()
        self.host, self.port = host, port
        self.gateway = Gateway(self.token, self._ready_events)
        self.faults = Faults()
        self.limiter = ratelimit.RateLimiter()
        self.guild_routes = GuildRoutes(self)
        self.runner: web.AppRunner | None = None
        self.listener: StampingListener | None = None
        self.url = ""

    @property
    def identified(self) -> int:
        return self.gateway.identified

    # --- life -----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/gateway", self.gateway.serve)
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
        self.guild_routes.add(r, a)
        return app

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        # connections stamped with the kernel's arrival times: the rate limits count requests as they
        # arrive, not when this process's loop (shared with whatever drives the double) handles them
        self.listener = StampingListener(self.host, self.port)
        site = web.SockSite(self.runner, self.listener)
        await site.start()
        self.port = self.listener.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        await self.gateway.stop()
        if self.runner is not None:
            await self.runner.cleanup()

    # --- plumbing -------------------------------------------------------------------------
    def refuse(self, request: web.Request, status: int, code: int, message: str, *, reason: str | None = None,
               errors: dict | None = None, injected: bool = False, headers: dict[str, str] | None = None,
               body: dict | None = None) -> web.Response:
        """Discord's error answer, recorded (when it is a refusal) with the route and the reason."""
        if status in (400, 401, 403, 429) or status >= 500 or (status == 404 and code in REFUSED_404) or injected:
            self.state.refused.append(Refusal(request.method, route_of(request), request.path, status, code,
                                              reason or message, injected))
        payload = body or {"code": code, "message": message}
        if errors is not None:
            payload["errors"] = errors
        return json_response(payload, status=status, headers=headers)

    def invalid(self, request: web.Request, form: validate.Form) -> web.Response:
        return self.refuse(request, 400, 50035, "Invalid Form Body", reason=form.reason(),
                           body=form.body())

    def missing(self, request: web.Request, bits: int, where: str = "the server") -> web.Response:
        names = ", ".join(perms.names(bits)) or "a permission"
        return self.refuse(request, 403, 50013, "Missing Permissions",
                           reason=f"the bot lacks {names} in {where}")

    def not_found(self, request: web.Request, code: int, message: str) -> web.Response:
        return self.refuse(request, 404, code, message)

    def arrived(self, request: web.Request) -> float:
        """When the request reached the double (monotonic clock): its connection's kernel stamp
        (bot/sandbox/arrival.py); the time now when it came another way (a test's own app)."""
        stamp = self.listener.arrived(request.transport) if self.listener is not None else None
        return time.monotonic() if stamp is None else stamp

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if not request.path.startswith(API):
            return await handler(request)
        route = route_of(request)
        fault = self.faults.take(route, request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429:
                self.state.requests.append((request.method, request.path, 429))
                return self.refuse(request, 429, 0, "You are being rate limited.", injected=True,
                                   body=ratelimit.body(fault.retry_after, fault.global_),
                                   headers=ratelimit.RateLimiter._limited(fault.retry_after, scope="user"))
            if fault.status:
                self.state.requests.append((request.method, request.path, fault.status))
                return self.refuse(request, fault.status, fault.code, fault.message, injected=True)
        public = (API + "/gateway", API + "/interactions/", API + "/webhooks/")  # tokens in the path
        bot_auth = request.headers.get("Authorization", "") == f"Bot {self.token}"
        if not request.path.startswith(public) and not bot_auth:
            return self.refuse(request, 401, 0, "401: Unauthorized")
        headers: dict[str, str] = {}
        if self.state.strict:
            major = "+".join(request.match_info.get(k, "") for k in ratelimit.MAJOR)
            verdict = self.limiter.check(route, major, now=self.arrived(request))
            if not verdict.allowed:
                self.state.requests.append((request.method, request.path, 429))
                scope = "global" if verdict.global_ else "bucket"
                return self.refuse(request, 429, 0, "You are being rate limited.", headers=verdict.headers,
                                   reason=f"rate limited ({scope}): retry after {verdict.retry_after:.3f} s",
                                   body=ratelimit.body(verdict.retry_after, verdict.global_))
            headers = verdict.headers
        response = await handler(request)
        response.headers.update(headers)
        self.state.requests.append((request.method, request.path, response.status))
        return response

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await self.gateway.dispatch(event, data)

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

    def _mentions(self, payload: dict, *, webhook: bool) -> tuple[list[int], bool]:
        """The roles a message pings, and whether it pings everyone (message.mdx:714-746): what the
        content mentions, as far as allowed_mentions allows (by default: everything in a channel,
        users only from an interaction or webhook), for roles that are mentionable or when the
        bot has Mention Everyone."""
        content = payload.get("content") or ""
        allowed = payload.get("allowed_mentions")
        if allowed is None:
            parse = ["users"] if webhook else ["users", "roles", "everyone"]
            allowed = {"parse": parse}
        parse = allowed.get("parse") or []
        listed = {int(r) for r in allowed.get("roles") or []}
        can_ping_all = self.state.guild_permissions(self.state.bot.id) & perms.MENTION_EVERYONE
        roles = []
        for found in validate.MENTION_ROLE.findall(content):
            role = self.state.roles.get(int(found))
            if role is None or not ("roles" in parse or int(found) in listed):
                continue
            if role["mentionable"] or can_ping_all:
                roles.append(int(found))
        everyone = ("@everyone" in content or "@here" in content) and "everyone" in parse and bool(can_ping_all)
        return list(dict.fromkeys(roles)), everyone

    def _message(self, channel_id: int, payload: dict, files, *, interaction: Interaction | None = None) -> Message:
        roles, everyone = self._mentions(payload, webhook=interaction is not None)
        message = Message(
            id=snowflake(), channel_id=channel_id, author=self.state.bot, content=payload.get("content") or "",
            embeds=payload.get("embeds") or [], components=payload.get("components") or [],
            attachments=self._attach(files), flags=int(payload.get("flags") or 0),
            interaction_id=interaction.id if interaction else None, mention_roles=roles, mention_everyone=everyone,
        )
        if not message.ephemeral:
            self.state.messages.setdefault(channel_id, []).append(message)
        return message

    def _edit(self, message: Message, payload: dict, files=()) -> None:
        for key in ("content", "embeds", "components"):
            if key in payload:
                setattr(message, key, payload[key] if payload[key] is not None else ([] if key != "content" else ""))
        if "content" in payload:  # message.mdx:1180: mentions are parsed again from the new content
            message.mention_roles, message.mention_everyone = self._mentions(
                payload, webhook=message.interaction_id is not None)
        message.edits += 1
        message.edited_timestamp = iso_now()

    def _check_message(self, request: web.Request, payload: dict, files, *, edit: bool = False) -> web.Response | None:
        if not self.state.strict:
            return None
        form, empty = validate.message(payload, has_files=bool(files), edit=edit)
        if form:
            return self.invalid(request, form)
        if empty:
            return self.refuse(request, 400, 50006, "Cannot send an empty message")
        return None

    # --- gateway --------------------------------------------------------------------------
    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({
            "url": self.url.replace("http", "ws", 1) + "/gateway", "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        })

    async def _ready_events(self, session: Session) -> list[tuple[str, dict]]:
        s = self.state
        ready = {
            "v": 10, "user": s.bot.payload(), "guilds": [{"id": str(s.guild_id), "unavailable": True}],
            "session_id": session.id, "resume_gateway_url": self.url.replace("http", "ws", 1) + "/gateway",
            "shard": [0, 1], "application": {"id": str(s.bot.id), "flags": 0}, "private_channels": [],
            "relationships": [], "user_settings": {}, "presences": [], "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        return [("READY", ready), ("GUILD_CREATE", s.guild_payload())]

    # --- identity -------------------------------------------------------------------------
    async def users_me(self, request: web.Request) -> web.Response:
        return json_response(self.state.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def application(self, request: web.Request) -> web.Response:
        s = self.state
        return json_response({
            "id": str(s.bot.id), "name": "Hackbot sandbox", "description": "", "icon": None, "bot_public": False,
            "bot_require_code_grant": False, "owner": s.owner.payload(), "verify_key": "0" * 64, "flags": 0,
            "summary": "", "team": None, "rpc_origins": [], "interactions_endpoint_url": None,
            "redirect_uris": [], "tags": [], "approximate_guild_count": 1, "bot": s.bot.payload(),
        })

    async def debug_state(self, request: web.Request) -> web.Response:
        return json_response(self.state.snapshot())

    # --- commands -------------------------------------------------------------------------
    async def bulk_overwrite(self, request: web.Request) -> web.Response:
        # a JSON array, where every other route sends an object
        commands: list[dict[str, Any]] = await request.json() if request.can_read_body else []
        if self.state.strict:
            form = validate.commands(commands)
            if form:
                return self.invalid(request, form)
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
        return json_response(registered)

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response(self.state.commands)

    # --- interactions ---------------------------------------------------------------------
    def _expired(self, interaction: Interaction) -> bool:
        return time.monotonic() - interaction.dispatched > limits.TOKEN_LIFETIME.total_seconds()

    async def callback(self, request: web.Request) -> web.Response:
        interaction = self.state.interactions.get(int(request.match_info["id"]))
        payload, files = await self.body(request)
        if interaction is None or interaction.token != request.match_info["token"]:
            return self.refuse(request, 404, 10062, "Unknown interaction", reason="no such interaction or token")
        # Discord's 3 seconds run to the callback's arrival, not to the double's handling of it
        elapsed = self.arrived(request) - interaction.dispatched
        if interaction.response_type is not None:
            interaction.errors.append("acknowledged twice")
            return self.refuse(request, 400, 40060, "Interaction has already been acknowledged.",
                               reason=f"{interaction.name}: a second first response")
        if elapsed > ACK_DEADLINE:
            interaction.errors.append(f"answered after {elapsed:.2f} s")
            return self.refuse(request, 404, 10062, "Unknown interaction",
                               reason=f"{interaction.name}: first response after {elapsed:.2f} s (Discord allows 3)")
        kind = payload.get("type")
        data = payload.get("data") or {}
        if self.state.strict:
            form = validate.Form()
            validate.callback_type(form, interaction.kind, kind, from_message="message" in interaction.payload)
            if not form:
                if kind in (4, 7):
                    form, empty = validate.message(data, has_files=bool(files), edit=kind == 7)
                    if empty and not form:
                        return self.refuse(request, 400, 50006, "Cannot send an empty message")
                    form.errors = [(("data", *path), code, message) for path, code, message in form.errors]
                elif kind == 5 and int(data.get("flags") or 0) & ~EPHEMERAL:
                    form.add(("data", "flags"), "INTERACTION_CALLBACK_FLAGS_INVALID",
                             "Only the EPHEMERAL flag may be set on a deferred response.")
                elif kind == 8:
                    validate.choices(form, data)
                elif kind == 9:
                    validate.modal(form, data)
            if form:
                interaction.errors.append(form.reason())
                return self.invalid(request, form)
        if kind == 8:  # autocomplete results: no message
            interaction.acknowledged, interaction.response_type = elapsed, kind
            interaction.choices = list(data.get("choices") or [])
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
        return json_response(answer)

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

    def _token_refusal(self, request: web.Request, interaction: Interaction | None) -> web.Response | None:
        if interaction is None or interaction.response_type is None:
            return self.refuse(request, 404, 10015, "Unknown Webhook",
                               reason="a follow-up for an interaction that was never answered")
        if self.state.strict and self._expired(interaction):
            # receiving-and-responding.mdx:351: tokens are valid for 15 minutes. The docs do not
            # say what comes after; the double answers 401 50027 Invalid Webhook Token.
            return self.refuse(request, 401, 50027, "Invalid Webhook Token",
                               reason=f"{interaction.name}: its token expired (15 minutes)")
        return None

    async def followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        payload, files = await self.body(request)
        refused = self._token_refusal(request, interaction) or self._check_message(request, payload, files)
        if refused is not None:
            return refused
        assert interaction is not None
        original = interaction.original
        if interaction.response_type == 5 and original is not None and not original.edits and not original.content:
            # the first follow-up after a "thinking" defer replaces the loading message
            original.flags = int(payload.get("flags") or original.flags)
            self._edit(original, payload, files)
            message = original
        else:
            message = self._message(interaction.channel_id, payload, files, interaction=interaction)
            interaction.followups.append(message)
        return json_response(message.payload(self.state.guild_id))

    def _webhook_message(self, request: web.Request) -> Message | None:
        interaction = self._webhook_interaction(request)
        if interaction is None:
            return None
        wanted = request.match_info["message"]
        if wanted == "@original":
            return interaction.original
        return next((m for m in interaction.messages() if str(m.id) == wanted), None) or self._find_message(int(wanted))

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        refused = self._token_refusal(request, self._webhook_interaction(request))
        if refused is not None:
            return refused
        message = self._webhook_message(request)
        if message is None or message.deleted:
            return self.not_found(request, 10008, "Unknown Message")
        return json_response(message.payload(self.state.guild_id))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        payload, files = await self.body(request)
        refused = (self._token_refusal(request, self._webhook_interaction(request))
                   or self._check_message(request, payload, files, edit=True))
        if refused is not None:
            return refused
        message = self._webhook_message(request)
        if message is None or message.deleted:
            return self.not_found(request, 10008, "Unknown Message")
        self._edit(message, payload, files)
        return json_response(message.payload(self.state.guild_id))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        refused = self._token_refusal(request, self._webhook_interaction(request))
        if refused is not None:
            return refused
        message = self._webhook_message(request)
        if message is None or message.deleted:
            return self.not_found(request, 10008, "Unknown Message")
        message.deleted = True
        return web.Response(status=204)

    # --- channel messages -------------------------------------------------------------------
    def _send_refusal(self, request: web.Request, channel_id: int) -> web.Response | None:
        """What stops the bot from posting in this channel: a closed DM, a missing permission."""
        s = self.state
        user_id = next((u for u, c in s.dm_channels.items() if c == channel_id), None)
        if user_id is not None:
            member = s.members.get(user_id)
            if member is not None and not member.dms_open:
                return self.refuse(request, 403, 50007, "Cannot send messages to this user",
                                   reason=f"{member.user.name} does not accept direct messages from server members")
            return None
        if not s.strict:
            return None
        channel = s.channels[channel_id]
        name = f"#{channel['name']}"
        if channel["type"] not in (0, 5, *THREAD_TYPES):
            return self.refuse(request, 400, 50008, "Cannot send messages in a non-text channel", reason=name)
        have = s.channel_permissions(s.bot.id, channel_id)
        if channel["type"] in THREAD_TYPES:
            need = perms.VIEW_CHANNEL | perms.SEND_MESSAGES_IN_THREADS
            if channel["type"] == PRIVATE_THREAD and s.bot.id not in s.thread_members.get(channel_id, set()) \
                    and not have & perms.MANAGE_THREADS:
                return self.refuse(request, 403, 50001, "Missing Access", reason=f"the bot is not in the thread {name}")
        else:
            need = perms.VIEW_CHANNEL | perms.SEND_MESSAGES
        if have & need != need:
            return self.missing(request, need & ~have, name)
        return None

    def _channel(self, request: web.Request) -> int | None:
        channel_id = int(request.match_info["channel"])
        known = channel_id in self.state.channels or channel_id in self.state.dm_channels.values()
        return channel_id if known else None

    async def create_message(self, request: web.Request) -> web.Response:
        channel_id = self._channel(request)
        payload, files = await self.body(request)
        if channel_id is None:
            return self.not_found(request, 10003, "Unknown Channel")
        refused = self._send_refusal(request, channel_id) or self._check_message(request, payload, files)
        if refused is not None:
            return refused
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            # message.mdx (Create Message, enforce_nonce): a nonce seen from the same author in the
            # past few minutes returns that message, and no new one is created
            seen = self.state.nonces.get((self.state.bot.id, str(nonce)))
            if seen is not None and time.monotonic() - seen[1] < NONCE_WINDOW:
                return json_response(seen[0].payload(self.state.guild_id))
        message = self._message(channel_id, payload, files)
        if nonce is not None:
            message.nonce = str(nonce)
            self.state.nonces[(self.state.bot.id, str(nonce))] = (message, time.monotonic())
        return json_response(message.payload(self.state.guild_id))

    def _channel_message(self, request: web.Request) -> Message | None:
        channel_id = int(request.match_info["channel"])
        wanted = int(request.match_info["message"])
        return next((m for m in self.state.messages.get(channel_id, []) if m.id == wanted and not m.deleted), None)

    async def get_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return self.not_found(request, 10008, "Unknown Message")
        return json_response(message.payload(self.state.guild_id))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        payload, files = await self.body(request)
        if message is None:
            return self.not_found(request, 10008, "Unknown Message")
        refused = self._check_message(request, payload, files, edit=True)
        if refused is not None:
            return refused
        self._edit(message, payload, files)
        return json_response(message.payload(self.state.guild_id))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return self.not_found(request, 10008, "Unknown Message")
        message.deleted = True
        return web.Response(status=204)

    # --- attachments ----------------------------------------------------------------------
    async def attachment(self, request: web.Request) -> web.Response:
        found = self.state.attachments.get(int(request.match_info["id"]))
        if found is None or found[0] != request.match_info["name"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found[1], content_type="application/octet-stream")


__all__ = ["API", "DM", "SandboxServer", "json_response", "route_of"]
