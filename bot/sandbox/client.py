"""Driving the double as Discord's users would: slash commands built from the tree the bot
registered, button clicks, modal submits; and waiting, with a bound, for what the bot does.

Also `BotProcess`: the real `hackbot run` in a subprocess, pointed at the double.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

from bot.sandbox.faults import Faults
from bot.sandbox.server import SandboxServer
from bot.sandbox.state import (
    Interaction,
    Member,
    Message,
    SandboxState,
    snowflake,
)

WAIT = 15.0


class SandboxError(AssertionError):
    pass


async def until(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "a condition") -> Any:
    """Poll `predicate` until it returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SandboxError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


class Sandbox:
    """The double plus a test driver. `async with Sandbox() as sandbox:` serves on a free port."""

    def __init__(self, state: SandboxState | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 strict: bool = True):
        self.server = SandboxServer(state or SandboxState(strict=strict), host=host, port=port)
        self.state = self.server.state

    async def __aenter__(self) -> Self:
        await self.server.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str:
        return self.server.token

    @property
    def faults(self) -> Faults:
        """Errors and delays to inject on named routes (bot/sandbox/faults.py)."""
        return self.server.faults

    async def close_gateway(self, code: int = 4000) -> None:
        """Drop the bot's gateway connection; with a resumable code it resumes and gets what it missed."""
        await self.server.gateway.close(code)

    # --- the guild ------------------------------------------------------------------------
    def user(self, name: str, *, roles: Sequence[str] = ()) -> Member:
        role_ids = []
        for role_name in roles:
            role = self.state.role_named(role_name) or self.state.add_role(role_name)
            role_ids.append(int(role["id"]))
        return self.state.add_member(name, roles=role_ids)

    def organizer(self, name: str = "orga", role: str = "Organizers") -> Member:
        return self.user(name, roles=[role])

    async def edit_role(self, role_id: int, **changes: Any) -> dict:
        """An organizer changes a role in the server settings: the bot hears of it (GUILD_ROLE_UPDATE)."""
        role = self.state.roles[role_id]
        role.update({k: str(v) if k == "permissions" else v for k, v in changes.items()})
        await self.server.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.state.guild_id), "role": role})
        return role

    async def take_from_bot(self, bits: int) -> None:
        """The bot loses permissions: from its own role and from @everyone."""
        for role_id in (self.state.bot_role_id, self.state.guild_id):
            await self.edit_role(role_id, permissions=int(self.state.roles[role_id]["permissions"]) & ~bits)

    # --- waiting for the bot --------------------------------------------------------------
    async def wait_connected(self, identifies: int = 1, timeout: float = 30.0) -> None:
        await until(lambda: self.server.identified >= identifies and self.server.gateway.ready,
                    timeout, "the bot to connect to the gateway")

    async def wait_commands(self, timeout: float = 30.0) -> None:
        await until(lambda: self.state.commands, timeout, "the bot to register its slash commands")

    async def wait_for_message(self, channel: str | int, predicate: Callable[[Message], bool] = lambda m: True,
                               timeout: float = WAIT) -> Message:
        def found():
            return next((m for m in self.state.channel_messages(channel) if predicate(m)), None)

        return await until(found, timeout, f"a message in {channel}")

    async def answer(self, interaction: Interaction, timeout: float = WAIT, *, index: int = -1) -> Message:
        """The interaction's visible answer once it has text (a deferred one: once filled)."""
        def ready():
            messages = [m for m in interaction.messages() if m.text() and not m.deleted]
            return messages[index] if messages else None

        return await until(ready, timeout, f"an answer to {interaction.name}")

    async def reply_text(self, interaction: Interaction, timeout: float = WAIT) -> str:
        return (await self.answer(interaction, timeout)).text()

    # --- users acting ---------------------------------------------------------------------
    def _base(self, member: Member, kind: int, data: dict, channel_id: int | None) -> dict:
        s = self.state
        if not channel_id:
            general = s.channel_named("general")
            if general is None:
                raise SandboxError("the sandbox guild has no #general channel: pass the channel to act in")
            channel_id = int(general["id"])
        permissions = s.channel_permissions(member.user.id, channel_id)
        channel = s.channels.get(channel_id, {"id": str(channel_id), "type": 0, "name": "dm"})
        return {
            "id": str(snowflake()), "application_id": str(s.bot.id), "type": kind, "data": data,
            "guild_id": str(s.guild_id), "channel_id": str(channel_id), "channel": channel,
            "member": member.payload() | {"permissions": str(permissions)},
            "token": "itoken-" + secrets.token_urlsafe(24), "version": 1, "locale": "en-US", "guild_locale": "en-US",
            "app_permissions": str(s.channel_permissions(s.bot.id, channel_id)), "entitlements": [],
            "authorizing_integration_owners": {"0": str(s.guild_id)},
            "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
            "guild": {"id": str(s.guild_id), "locale": "en-US", "features": []},
        }

    async def _dispatch(self, member: Member, kind: int, name: str, payload: dict) -> Interaction:
        interaction = Interaction(
            id=int(payload["id"]), token=payload["token"], kind=kind, user=member.user,
            channel_id=int(payload["channel_id"]), name=name, payload=payload,
        )
        self.state.interactions[interaction.id] = interaction
        self.state.by_token[interaction.token] = interaction
        interaction.dispatched = time.monotonic()
        await self.server.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def _option(self, spec: dict, value: Any, resolved: dict) -> dict:
        kind = spec["type"]
        if kind == 11:  # attachment: value is (filename, bytes)
            name, data = value
            attachment = self.server.add_attachment(name, data)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            value = attachment["id"]
        elif kind == 6:  # user
            member = value if isinstance(value, Member) else self.state.members[int(value)]
            resolved.setdefault("users", {})[str(member.user.id)] = member.user.payload()
            resolved.setdefault("members", {})[str(member.user.id)] = {
                k: v for k, v in member.payload().items() if k != "user"} | {"permissions": "0"}
            value = str(member.user.id)
        elif kind == 4:
            value = int(value)
        elif kind == 10:
            value = float(value)
        elif kind == 5:
            value = bool(value)
        else:
            value = str(value)
        return {"type": kind, "name": spec["name"], "value": value}

    def command_data(self, path: str, options: dict[str, Any], *, focused: str | None = None) -> dict:
        """The `data` of a slash command, e.g. path "team create" with options {"name": "x"}; with
        `focused`, of an autocomplete: that option is what is being typed (a partial string), and
        required options may be missing (application-commands.mdx:1054)."""
        words = path.split()
        command = next((c for c in self.state.commands if c["name"] == words[0]), None)
        if command is None:
            raise SandboxError(f"/{words[0]} is not registered (registered: {[c['name'] for c in self.state.commands]})")
        resolved: dict = {}
        specs, leaf = command.get("options") or [], []
        nest: list[dict] = []
        for word in words[1:]:
            sub = next((o for o in specs if o["name"] == word and o["type"] in (1, 2)), None)
            if sub is None:
                raise SandboxError(f"/{path}: no subcommand {word!r}")
            entry = {"type": sub["type"], "name": word, "options": []}
            nest.append(entry)
            specs = sub.get("options") or []
        unknown = set(options) - {o["name"] for o in specs}
        if unknown:
            raise SandboxError(f"/{path} has no option(s) {sorted(unknown)}")
        for spec in specs:
            if spec["name"] == focused:
                if not spec.get("autocomplete"):
                    raise SandboxError(f"/{path}: option {focused!r} has no autocomplete")
                leaf.append({"type": spec["type"], "name": spec["name"], "value": str(options.get(spec["name"]) or ""),
                             "focused": True})
            elif spec["name"] in options and options[spec["name"]] is not None:
                leaf.append(self._option(spec, options[spec["name"]], resolved))
            elif spec.get("required") and focused is None:
                raise SandboxError(f"/{path} needs option {spec['name']!r}")
        if focused is not None and focused not in {o["name"] for o in leaf}:
            raise SandboxError(f"/{path} has no option {focused!r}")
        top = leaf
        for entry in reversed(nest):
            entry["options"] = top
            top = [entry]
        data = {"id": command["id"], "name": command["name"], "type": 1, "guild_id": str(self.state.guild_id),
                "options": top}
        if resolved:
            data["resolved"] = resolved
        return data

    async def invoke(self, member: Member, path: str, *, channel_id: int | None = None, **options) -> Interaction:
        """`/path option:value ...` as `member`; e.g. invoke(alice, "reveal", exercise_id=3, datum_id=4)."""
        payload = self._base(member, 2, self.command_data(path, options), channel_id)
        return await self._dispatch(member, 2, path, payload)

    async def autocomplete(self, member: Member, path: str, option: str, typed: str = "", *,
                           channel_id: int | None = None, timeout: float = WAIT, **options) -> list[dict]:
        """What Discord shows under `option` of `/path` while `member` types `typed`: the choices
        the bot answers (each {"name", "value"})."""
        data = self.command_data(path, {**options, option: typed}, focused=option)
        payload = self._base(member, 4, data, channel_id)
        interaction = await self._dispatch(member, 4, f"{path} [{option}]", payload)
        await until(lambda: interaction.response_type is not None or interaction.errors, timeout,
                    f"the choices of /{path} {option}")
        if interaction.choices is None:
            raise SandboxError(f"/{path} {option}: no choices ({interaction.errors})")
        return interaction.choices

    async def click(self, member: Member, message: Message, label: str) -> Interaction:
        button = next((b for b in message.buttons() if b.get("label") == label), None)
        if button is None:
            raise SandboxError(f"no button {label!r} on the message (buttons: {[b.get('label') for b in message.buttons()]})")
        if button.get("disabled"):
            raise SandboxError(f"button {label!r} is disabled")
        data = {"custom_id": button["custom_id"], "component_type": 2}
        payload = self._base(member, 3, data, message.channel_id)
        payload["message"] = message.payload(self.state.guild_id)
        return await self._dispatch(member, 3, button["custom_id"], payload)

    async def select(self, member: Member, message: Message, placeholder: str, values: list[str]) -> Interaction:
        """Pick `values` (option labels) in the select menu whose placeholder starts with `placeholder`."""
        menu = next((m for m in message.selects() if (m.get("placeholder") or "").startswith(placeholder)), None)
        if menu is None:
            raise SandboxError(f"no select menu {placeholder!r} on the message "
                               f"(menus: {[m.get('placeholder') for m in message.selects()]})")
        by_label = {o["label"]: o["value"] for o in menu.get("options") or []}
        unknown = [v for v in values if v not in by_label]
        if unknown:
            raise SandboxError(f"select {placeholder!r} has no option(s) {unknown} (options: {list(by_label)})")
        low, high = menu.get("min_values", 1), menu.get("max_values", 1)
        if not low <= len(values) <= high:  # Discord's client lets a member pick only within these bounds
            raise SandboxError(f"select {placeholder!r} takes {low} to {high} values, not {len(values)}")
        data = {"custom_id": menu["custom_id"], "component_type": 3, "values": [by_label[v] for v in values]}
        payload = self._base(member, 3, data, message.channel_id)
        payload["message"] = message.payload(self.state.guild_id)
        return await self._dispatch(member, 3, menu["custom_id"], payload)

    async def submit_modal(self, member: Member, opened: Interaction, values: dict[str, str]) -> Interaction:
        """Fill the modal `opened` answered with: text inputs by custom_id or label."""
        if opened.modal is None:
            raise SandboxError(f"{opened.name} did not open a modal")

        def fill(components):
            out = []
            for c in components or []:
                if c.get("type") == 4:
                    key = next((k for k in (c.get("custom_id"), c.get("label")) if k in values), None)
                    out.append({"type": 4, "custom_id": c["custom_id"], "value": values.get(key, c.get("value") or "")})
                elif c.get("type") == 18:  # label wrapping one component
                    inner = dict(c["component"])
                    if inner.get("type") == 4 and c.get("label") in values:
                        inner["label"] = c["label"]
                    out.append({"type": 18, "component": fill([inner])[0]})
                else:
                    out.append({"type": c.get("type"), "components": fill(c.get("components"))})
            return out

        data = {"custom_id": opened.modal["custom_id"], "components": fill(opened.modal.get("components"))}
        payload = self._base(member, 5, data, opened.channel_id)
        return await self._dispatch(member, 5, opened.modal["custom_id"], payload)


_LIVE: set[int] = set()  # bot process groups still running: killed when this process exits


@atexit.register
def _kill_leftovers() -> None:
    for pid in list(_LIVE):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def _exit_on(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _exit_cleanly_on_terminate() -> None:
    """SIGTERM and SIGHUP (`timeout`, `kill`, a closed terminal) end this process as an exit does,
    so its bots are stopped: Python's default for them dies at once, skipping the atexit above and
    leaving `hackbot run` children (in their own sessions, which Ctrl-C does not reach) running.
    A handler the program set itself is kept."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _exit_on)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def until_healthy(process: asyncio.subprocess.Process, url: str, timeout: float,
                        output: Callable[[], str]) -> None:
    """Until a `hackbot run` process answers `url` (its /healthz), or it exits (SandboxError with its output)."""
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            if process.returncode is not None:
                raise SandboxError(f"hackbot run exited ({process.returncode}):\n{output()}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise SandboxError(f"timed out after {timeout:.0f} s waiting for {url}:\n{output()}")
            await asyncio.sleep(0.1)


class BotProcess:
    """`hackbot run` as a real subprocess, pointed at the double; its output goes to `log`."""

    def __init__(self, sandbox: Sandbox, config: Path, db: Path | str, log: Path, *, port: int | None = None,
                 env: dict[str, str] | None = None, role: str | None = None):
        self.sandbox, self.config, self.db, self.log_path = sandbox, config, db, log
        self.role = role  # `hackbot run --role`; None: the default (all)
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self._log: io.BufferedWriter | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DISCORD_TOKEN": self.sandbox.token, "HACKBOT_DISCORD_API": self.sandbox.url,
            "HACKBOT_GUILD_ID": str(self.sandbox.state.guild_id), "PYTHONUNBUFFERED": "1",
            "HACKBOT_DB": str(self.db),  # a file or a URL: in the environment, a password stays out of `ps`
        })
        env.update(self.extra_env)
        return env

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", *args, "--config", str(self.config)]

    async def sync(self, timeout: float = 60.0) -> None:
        """`hackbot sync` against the double: registers the slash commands."""
        proc = await asyncio.create_subprocess_exec(
            *self._command("sync"), env=self.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        if proc.returncode != 0:
            raise SandboxError(f"hackbot sync failed:\n{out.decode(errors='replace')}")

    async def start(self, timeout: float = 60.0, *, standby: bool = False) -> None:
        """Start `hackbot run` and wait until it holds the gateway (identified, guild cached), or
        with `standby`, until it says it stands by (another process holds the gateway lease)."""
        identifies = self.sandbox.server.identified + 1
        self._log = self._open_log()
        _exit_cleanly_on_terminate()
        role = ("--role", self.role) if self.role else ()
        self.process = process = await asyncio.create_subprocess_exec(
            *self._command("run"), "--port", str(self.port), *role, env=self.env(),
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _LIVE.add(process.pid)
        if self.role == "web":  # no gateway: up once its web server answers
            try:
                await until_healthy(process, f"http://127.0.0.1:{self.port}/healthz", timeout, self.output)
            except BaseException:
                await self.stop()
                raise
            return
        if standby:
            try:
                await until(lambda: process.returncode is not None or "standing by" in self.output(), timeout,
                            "the bot to stand by")
                if process.returncode is not None:
                    raise SandboxError(f"hackbot run exited ({process.returncode}):\n{self.output()}")
            except BaseException:
                await self.stop()
                raise
            return
        try:
            await until(lambda: process.returncode is not None or self.sandbox.server.identified >= identifies,
                        timeout, "the bot to identify")
            if process.returncode is not None:
                raise SandboxError(f"hackbot run exited ({process.returncode}):\n{self.output()}")
            # READY then GUILD_CREATE: give discord.py a moment to fill its guild cache
            await self.sandbox.wait_connected(identifies)
            await asyncio.sleep(0.3)
        except BaseException:
            await self.stop()
            raise

    def _open_log(self) -> io.BufferedWriter:
        return self.log_path.open("ab")

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    async def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer would: nothing of the bot's runs after it."""
        if self.process is None:
            return
        if self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()
        _LIVE.discard(self.process.pid)
        self.process = None
        if self._log is not None:
            self._log.close()

    async def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C: the bot closes cleanly
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        _LIVE.discard(self.process.pid)
        self.process = None
        if self._log is not None:
            self._log.close()
