"""Fake Discord objects for cog tests: just enough of Interaction, Member, Guild and friends
for `command.callback(cog, interaction, ...)`, recording everything the bot sends or changes.

Ids are ints as in Discord. Every reply (initial response or follow-up) lands in
`interaction.replies` with its `ephemeral` flag, so a test asserts on what the user saw.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

_ids = itertools.count(10_000)


def new_id() -> int:
    return next(_ids)


@dataclass
class Reply:
    content: str | None
    embed: discord.Embed | None = None
    embeds: list = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    file: Any = None
    kind: str = "message"  # message | followup | edit | modal | autocomplete

    @property
    def text(self) -> str:
        """Everything readable in the reply: content and embed text."""
        parts = [self.content or ""]
        for embed in ([self.embed] if self.embed else []) + list(self.embeds):
            parts += [embed.title or "", embed.description or ""]
            parts += [f"{f.name} {f.value}" for f in embed.fields]
            if embed.footer and embed.footer.text:
                parts.append(embed.footer.text)
        return "\n".join(parts)


class FakeRole:
    def __init__(self, name: str, guild: FakeGuild | None = None, *, id: int | None = None, position: int = 1):
        self.id, self.name, self.guild, self.position = id or new_id(), name, guild, position
        self.mentionable = False
        self.deleted = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    async def delete(self, *, reason: str | None = None) -> None:
        self.deleted = True
        if self.guild:
            self.guild.roles = [r for r in self.guild.roles if r is not self]

    async def edit(self, *, name: str | None = None, **kwargs) -> None:
        if name:
            self.name = name

    def __eq__(self, other):
        return isinstance(other, FakeRole) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


class FakeChannel:
    def __init__(self, name: str, guild: FakeGuild, *, category: FakeCategory | None = None, overwrites=None, topic=None):
        self.id, self.name, self.guild, self.category = new_id(), name, guild, category
        self.overwrites = dict(overwrites or {})
        self.topic = topic
        self.sent: list[Reply] = []
        self.deleted = False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    async def send(self, content: str | None = None, *, embed=None, embeds=None, view=None, file=None, **kwargs):
        reply = Reply(content, embed, list(embeds or []), view, False, file)
        self.sent.append(reply)
        return FakeMessage(reply, self)

    async def set_permissions(self, target, *, overwrite=None, reason=None, **perms) -> None:
        if overwrite is None and not perms:
            self.overwrites.pop(target, None)
        else:
            self.overwrites[target] = overwrite or discord.PermissionOverwrite(**perms)

    async def edit(self, *, name: str | None = None, category=None, **kwargs) -> None:
        if name:
            self.name = name
        if category is not None:
            self.category = category

    async def delete(self, *, reason: str | None = None) -> None:
        self.deleted = True
        self.guild.channels = [c for c in self.guild.channels if c is not self]
        if self.category:
            self.category.channels = [c for c in self.category.channels if c is not self]


class FakeCategory:
    def __init__(self, name: str, guild: FakeGuild, overwrites=None):
        self.id, self.name, self.guild = new_id(), name, guild
        self.overwrites = dict(overwrites or {})
        self.channels: list[FakeChannel] = []

    @property
    def text_channels(self) -> list[FakeChannel]:
        return list(self.channels)


class FakeMessage:
    def __init__(self, reply: Reply, channel=None):
        self.id, self.reply, self.channel = new_id(), reply, channel

    @property
    def content(self):
        return self.reply.content

    async def edit(self, *, content=None, embed=None, view=None, **kwargs):
        if content is not None:
            self.reply.content = content
        if embed is not None:
            self.reply.embed = embed
        self.reply.view = view


class FakeGuild:
    def __init__(self, name: str = "Hackathon", *, owner_id: int | None = None):
        self.id, self.name = new_id(), name
        self.owner_id = owner_id or new_id()
        self.default_role = FakeRole("@everyone", self, id=self.id, position=0)
        self.roles: list[FakeRole] = [self.default_role]
        self.channels: list[FakeChannel] = []
        self.categories: list[FakeCategory] = []
        self.me = FakeMember("Hackbot", self, bot=True)

    @property
    def text_channels(self) -> list[FakeChannel]:
        return list(self.channels)

    def get_role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def get_channel(self, channel_id: int):
        return next((c for c in [*self.channels, *self.categories] if c.id == channel_id), None)

    async def create_role(self, *, name: str, mentionable: bool = False, reason: str | None = None, **kwargs) -> FakeRole:
        role = FakeRole(name, self, position=len(self.roles))
        role.mentionable = mentionable
        self.roles.append(role)
        return role

    async def create_category(self, name: str, *, overwrites=None, reason: str | None = None, **kwargs) -> FakeCategory:
        category = FakeCategory(name, self, overwrites)
        self.categories.append(category)
        return category

    async def create_text_channel(self, name: str, *, category=None, overwrites=None, topic=None, reason=None, **kw):
        if category is not None and len(category.channels) >= 50:
            raise AssertionError("Discord refuses a 51st channel in a category")
        channel = FakeChannel(name, self, category=category, overwrites=overwrites, topic=topic)
        self.channels.append(channel)
        if category is not None:
            category.channels.append(channel)
        return channel


class FakeMember:
    def __init__(self, name: str, guild: FakeGuild | None, *, roles=(), administrator: bool = False, bot: bool = False):
        self.id, self.name, self.display_name, self.guild, self.bot = new_id(), name, name, guild, bot
        self.global_name = name
        self.roles: list[FakeRole] = [*( [guild.default_role] if guild else []), *roles]
        self.guild_permissions = discord.Permissions(administrator=administrator, manage_guild=administrator)
        self.dms: list[Reply] = []

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    async def add_roles(self, *roles, reason: str | None = None) -> None:
        for role in roles:
            if role not in self.roles:
                self.roles.append(role)

    async def remove_roles(self, *roles, reason: str | None = None) -> None:
        self.roles = [r for r in self.roles if r not in roles]

    async def send(self, content: str | None = None, *, embed=None, view=None, **kwargs):
        reply = Reply(content, embed, [], view, False)
        self.dms.append(reply)
        return FakeMessage(reply)

    def __eq__(self, other):
        return isinstance(other, FakeMember) and other.id == self.id

    def __hash__(self):
        return hash(self.id)




class FakeResponse:
    def __init__(self, interaction: FakeInteraction):
        self._interaction = interaction
        self._done = False
        self.deferred: dict | None = None
        self.modal: discord.ui.Modal | None = None
        self.choices: list | None = None

    def is_done(self) -> bool:
        return self._done

    def _answer(self) -> None:
        if self._done:
            raise AssertionError("a second initial response: Discord refuses it (use followup)")
        self._done = True

    async def send_message(self, content=None, *, embed=None, embeds=None, view=None, ephemeral=False, file=None, **kw):
        self._answer()
        reply = Reply(content, embed, list(embeds or []), view, ephemeral, file)
        self._interaction.replies.append(reply)
        self._interaction._original = reply

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._answer()
        self.deferred = {"ephemeral": ephemeral, "thinking": thinking}

    async def send_modal(self, modal) -> None:
        self._answer()
        self.modal = modal
        self._interaction.replies.append(Reply(None, kind="modal", view=modal))

    async def edit_message(self, *, content=None, embed=None, view=None, **kwargs) -> None:
        self._answer()
        self._interaction.replies.append(Reply(content, embed, [], view, True, kind="edit"))

    async def autocomplete(self, choices) -> None:
        self._answer()
        self.choices = list(choices)


class FakeFollowup:
    def __init__(self, interaction: FakeInteraction):
        self._interaction = interaction

    async def send(self, content=None, *, embed=None, embeds=None, view=None, ephemeral=False, file=None, **kwargs):
        deferred = self._interaction.response.deferred
        if deferred is not None and not self._interaction._followed:
            ephemeral = deferred["ephemeral"]  # the first follow-up keeps the defer's ephemerality
        self._interaction._followed = True
        reply = Reply(content, embed, list(embeds or []), view, ephemeral, file, kind="followup")
        self._interaction.replies.append(reply)
        return FakeMessage(reply)


class FakeAttachment:
    def __init__(self, filename: str, data: bytes, *, size: int | None = None):
        self.id, self.filename, self._data = new_id(), filename, data
        self.size = len(data) if size is None else size
        self.reads = 0

    async def read(self, *, use_cached: bool = False) -> bytes:
        self.reads += 1
        return self._data


class FakeInteraction:
    def __init__(self, client, user: FakeMember, *, guild: FakeGuild | None = None, channel=None):
        self.id = new_id()
        self.client = client
        self.user = user
        self.guild = guild if guild is not None else user.guild
        self.guild_id = self.guild.id if self.guild else None
        self.channel = channel
        self.channel_id = channel.id if channel else None
        self.created_at = datetime.now(UTC)
        self.filesize_limit = 10 * 1024 * 1024
        self.namespace = discord.app_commands.Namespace.__new__(discord.app_commands.Namespace)
        self.command = None
        self.message = None
        self.data: dict = {}
        self.replies: list[Reply] = []
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)
        self._original: Reply | None = None
        self._followed = False

    @property
    def last(self) -> Reply:
        assert self.replies, "the bot sent no reply"
        return self.replies[-1]

    async def edit_original_response(self, *, content=None, embed=None, view=None, **kwargs):
        reply = Reply(content, embed, [], view, True, kind="edit")
        self.replies.append(reply)
        return FakeMessage(reply)

    async def original_response(self):
        return FakeMessage(self._original or self.last)

    async def delete_original_response(self) -> None:
        self.replies.append(Reply(None, kind="delete"))
