"""Fake Discord objects for cog tests, built on the real discord.py classes' specs.

Each fake is a `unittest.mock.NonCallableMock` with `spec_set` = the discord.py class it stands
for (as python-discord/bot's tests/helpers.py builds its mocks): reading or setting an attribute
the real class does not have raises AttributeError, `isinstance(fake, discord.Member)` holds,
and a coroutine method of the real class is an AsyncMock until the fake implements it. So a fake
cannot lack what the bot uses, and the bot never needs `getattr(obj, "x", None)` to survive one.

What the fakes implement (creating roles and channels, sending, replying, ...) behaves like
Discord and records what was sent; every call to it is first bound to the real method's
signature, so the bot cannot pass an argument the real method would refuse.

The recordings (`sent`, `dms`, `replies`, ...) are the only names a fake has that the real
class has not; each fake lists them in `RECORDS`, and a name
listed there must not exist on the real class (checked when the fake is defined).

Ids are ints as in Discord. Every reply (initial response or follow-up) lands in
`interaction.replies` with its `ephemeral` flag, so a test asserts on what the user saw.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import unittest.mock
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
import discord
import yarl

_ids = itertools.count(10_000)

ALL = discord.Permissions.all()


def new_id() -> int:
    return next(_ids)


def http_error(status: int, code: int = 0, message: str = "refused", *, headers: dict | None = None,
               method: str = "POST", path: str = "/api/v10/channels/1/messages"):
    """The exception discord.py raises for a Discord error answer (Forbidden for 403, ...), as the
    answer to `method path`."""
    response = unittest.mock.NonCallableMock(spec=aiohttp.ClientResponse, status=status, reason="error",
                                             headers=headers or {}, method=method, url=yarl.URL(path))
    cls = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.DiscordServerError if status >= 500
                                                                else discord.HTTPException)
    return cls(response, {"code": code, "message": message})


def _checked_against(real, fake):
    """`fake`, refusing a call that `real` would refuse (TypeError, as Python raises it)."""
    signature = inspect.signature(real)
    if inspect.iscoroutinefunction(fake):
        @functools.wraps(fake)
        async def checked_coroutine(self, *args, **kwargs):
            signature.bind(self, *args, **kwargs)
            return await fake(self, *args, **kwargs)

        return checked_coroutine

    @functools.wraps(fake)
    def checked(self, *args, **kwargs):
        signature.bind(self, *args, **kwargs)
        return fake(self, *args, **kwargs)

    return checked


class Faked(unittest.mock.NonCallableMock):
    """A mock with the real class as spec_set. Subclasses set SPEC and may list RECORDS."""

    SPEC: ClassVar[type]
    RECORDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "SPEC" not in vars(cls):
            return  # unittest.mock's per-instance subclass, or a test's own variant
        real = set(dir(cls.SPEC))
        for name in vars(cls):
            if name.startswith("_") or name in ("SPEC", "RECORDS"):
                continue
            if name not in real and name not in cls.RECORDS:
                raise TypeError(f"{cls.__name__}.{name}: discord.{cls.SPEC.__name__} has no {name!r}")
        for name in cls.RECORDS:
            if name in real:
                raise TypeError(f"{cls.__name__} records {name!r}, which discord.{cls.SPEC.__name__} has")
        for name, fake in list(vars(cls).items()):
            original = getattr(cls.SPEC, name, None)
            if name.startswith("_") or not inspect.isfunction(fake) or not inspect.isfunction(original):
                continue
            setattr(cls, name, _checked_against(original, fake))

    def __init__(self) -> None:
        super().__init__(spec_set=self.SPEC)

    def _record(self, name: str, value: Any) -> None:
        assert name in self.RECORDS, name
        self.__dict__[name] = value

    def _get_child_mock(self, **kwargs):
        # an attribute the fake does not implement: AsyncMock for the real class's coroutines
        if inspect.iscoroutinefunction(getattr(self.SPEC, kwargs.get("_new_name") or "", None)):
            return unittest.mock.AsyncMock(**kwargs)
        return unittest.mock.MagicMock(**kwargs)

    def __eq__(self, other: object) -> bool:  # discord.py's Hashable: equal by id
        return isinstance(other, type(self).__mro__[1]) and getattr(other, "id", None) == self.id

    def __hash__(self) -> int:
        return hash(self.id) >> 22 if isinstance(self.id, int) else id(self)


@dataclass
class Reply:
    content: str | None
    embed: discord.Embed | None = None
    embeds: list = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    file: Any = None
    kind: str = "message"  # message | followup | edit | modal | delete
    allowed_mentions: discord.AllowedMentions | None = None
    id: int = field(default_factory=new_id)

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


def _reply(content=None, *, embed=None, embeds=None, view=None, ephemeral=False, file=None, kind="message",
           allowed_mentions=None, **_) -> Reply:
    return Reply(content, embed, list(embeds or []), view, ephemeral, file, kind, allowed_mentions)


class FakeMessage(Faked):
    SPEC = discord.WebhookMessage
    RECORDS = ("shown",)

    def __init__(self, reply: Reply, channel=None):
        super().__init__()
        self.id, self.channel = reply.id, channel
        self._record("shown", reply)

    @property
    def content(self):
        return self.shown.content

    async def edit(self, *, content=None, embed=None, view=None, **kwargs):
        if content is not None:
            self.shown.content = content
        if embed is not None:
            self.shown.embed = embed
        self.shown.view = view
        return self


class FakeRole(Faked):
    SPEC = discord.Role
    RECORDS = ("deleted",)

    def __init__(self, name: str, guild: FakeGuild | None = None, *, id: int | None = None, position: int = 1,
                 permissions: discord.Permissions | None = None):
        super().__init__()
        self.id, self.name, self.guild, self.position = id or new_id(), name, guild, position
        self.permissions = permissions or discord.Permissions.none()
        self.mentionable = False
        self._record("deleted", False)

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    async def delete(self, *, reason: str | None = None) -> None:
        self._record("deleted", True)
        if self.guild:
            self.guild.roles = [r for r in self.guild.roles if r is not self]

    async def edit(self, *, name: str | None = None, **kwargs):
        if name:
            self.name = name
        return self


class FakeChannel(Faked):
    """A text channel. `fail_next` makes the next send raise (as Discord refusing)."""

    SPEC = discord.TextChannel
    RECORDS = ("sent", "deleted", "fail_next")

    def __init__(self, name: str, guild: FakeGuild, *, category: FakeCategory | None = None, overwrites=None, topic=None):
        super().__init__()
        self.id, self.name, self.guild, self.category = new_id(), name, guild, category
        self.overwrites = dict(overwrites or {})
        self.topic = topic
        self._record("sent", [])
        self._record("deleted", False)
        self._record("fail_next", None)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def permissions_for(self, member) -> discord.Permissions:
        return member.guild_permissions

    async def send(self, content: str | None = None, **kwargs):
        if self.fail_next is not None:
            error = self.fail_next
            self._record("fail_next", None)
            raise error
        reply = _reply(content, **kwargs)
        self.sent.append(reply)
        return FakeMessage(reply, self)

    async def set_permissions(self, target, *, overwrite=None, reason=None, **perms) -> None:
        if overwrite is None and not perms:
            self.overwrites.pop(target, None)
        else:
            self.overwrites[target] = overwrite or discord.PermissionOverwrite(**perms)

    async def edit(self, *, name: str | None = None, category=None, topic=None, **kwargs):
        if name:
            self.name = name
        if topic is not None:
            self.topic = topic
        if category is not None:
            self.category = category
        return self

    async def delete(self, *, reason: str | None = None) -> None:
        self._record("deleted", True)
        self.guild.texts.remove(self)
        if self.category:
            self.category.channels = [c for c in self.category.channels if c is not self]

    @property
    def threads(self) -> list[FakeThread]:
        return [t for t in self.guild.threads if t.parent is self]

    async def create_thread(self, *, name: str, type=None, invitable: bool = True, auto_archive_duration=None,
                            reason=None, **kwargs) -> FakeThread:
        thread = FakeThread(name, self, private=type == discord.ChannelType.private_thread)
        self.guild.threads.append(thread)
        return thread


class FakeThread(Faked):
    """A thread; `people` records who was added (a private thread is seen by them only)."""

    SPEC = discord.Thread
    RECORDS = ("sent", "people", "deleted", "private")

    def __init__(self, name: str, parent: FakeChannel, *, private: bool = True):
        super().__init__()
        self.id, self.name, self.parent, self.guild = new_id(), name, parent, parent.guild
        self._record("sent", [])
        self._record("people", set())
        self._record("deleted", False)
        self._record("private", private)

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    async def send(self, content: str | None = None, **kwargs):
        reply = _reply(content, **kwargs)
        self.sent.append(reply)
        return FakeMessage(reply, self)

    async def add_user(self, user, /) -> None:
        self.people.add(user.id)

    async def remove_user(self, user, /) -> None:
        self.people.discard(user.id)

    async def edit(self, *, name: str | None = None, **kwargs):
        if name:
            self.name = name
        return self

    async def delete(self, **kwargs) -> None:
        self._record("deleted", True)
        self.guild.threads = [t for t in self.guild.threads if t is not self]


class FakeCategory(Faked):
    SPEC = discord.CategoryChannel

    def __init__(self, name: str, guild: FakeGuild, overwrites=None):
        super().__init__()
        self.id, self.name, self.guild = new_id(), name, guild
        self.overwrites = dict(overwrites or {})
        self.channels: list[FakeChannel] = []

    @property
    def text_channels(self) -> list[FakeChannel]:
        return list(self.channels)


class FakeMember(Faked):
    SPEC = discord.Member
    RECORDS = ("dms", "dms_closed")

    def __init__(self, name: str, guild: FakeGuild | None, *, roles=(), administrator: bool = False, bot: bool = False):
        super().__init__()
        self.id, self.name, self.display_name, self.global_name = new_id(), name, name, name
        self.guild, self.bot = guild, bot
        self.roles: list[FakeRole] = [*([guild.default_role] if guild else []), *roles]
        self._record("dms", [])
        self._record("dms_closed", False)
        self.guild_permissions = ALL if bot else discord.Permissions(administrator=administrator,
                                                                     manage_guild=administrator)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def top_role(self) -> FakeRole:
        return max(self.roles, key=lambda r: r.position)

    async def add_roles(self, *roles, reason: str | None = None) -> None:
        for role in roles:
            if role not in self.roles:
                self.roles.append(role)

    async def remove_roles(self, *roles, reason: str | None = None) -> None:
        self.roles = [r for r in self.roles if r not in roles]

    async def send(self, content: str | None = None, **kwargs):
        if self.dms_closed:
            raise http_error(403, 50007, "Cannot send messages to this user")
        reply = _reply(content, **kwargs)
        self.dms.append(reply)
        return FakeMessage(reply)


class FakeGuild(Faked):
    """A guild whose member cache knows the members made with `join` (as discord.py's knows the
    members it has seen); `fetch_member` asks "Discord" for the others."""

    SPEC = discord.Guild
    RECORDS = ("join", "known", "fill", "texts")

    def __init__(self, name: str = "Hackathon", *, owner_id: int | None = None):
        super().__init__()
        self.id, self.name = new_id(), name
        self.owner_id = owner_id or new_id()
        self.default_role = FakeRole("@everyone", self, id=self.id, position=0)
        self.roles: list[FakeRole] = [self.default_role]
        self._record("texts", [])  # the text channels; `channels` adds the categories, as discord.py's
        self.categories: list[FakeCategory] = []
        self.threads: list[FakeThread] = []
        self._record("known", {})
        bot_role = FakeRole("Hackbot", self, position=10_000, permissions=ALL)
        self.roles.append(bot_role)
        self.me = FakeMember("Hackbot", self, roles=[bot_role], bot=True)

    def join(self, name: str, **kwargs) -> FakeMember:
        """A new member of the guild, known to the cache."""
        person = FakeMember(name, self, **kwargs)
        self.known[person.id] = person
        return person

    def fill(self, *, channels: int = 0, roles: int = 0) -> None:
        """Channels and roles of the server's own: a server that meets Discord's caps sooner."""
        for n in range(channels):
            self.texts.append(FakeChannel(f"existing-{n}", self))
        for n in range(roles):
            self.roles.append(FakeRole(f"Existing {n}", self, position=1))

    @property
    def members(self) -> list[FakeMember]:
        return list(self.known.values())

    @property
    def channels(self) -> list:
        return [*self.texts, *self.categories]

    @property
    def text_channels(self) -> list[FakeChannel]:
        return list(self.texts)

    def get_role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def get_channel(self, channel_id: int):
        return next((c for c in self.channels if c.id == channel_id), None)

    def get_channel_or_thread(self, channel_id: int):
        return self.get_channel(channel_id) or next((t for t in self.threads if t.id == channel_id), None)

    async def fetch_channel(self, channel_id: int):
        found = self.get_channel_or_thread(channel_id)
        if found is None:
            raise http_error(404, 10003, "Unknown Channel", method="GET", path=f"/api/v10/channels/{channel_id}")
        return found

    def get_member(self, member_id: int) -> FakeMember | None:
        return self.known.get(member_id)

    async def fetch_member(self, member_id: int) -> FakeMember:
        member = self.known.get(member_id)
        if member is None:
            raise http_error(404, 10007, "Unknown Member")
        return member

    async def create_role(self, *, name: str, mentionable: bool = False, reason: str | None = None,
                          permissions: discord.Permissions | None = None, **kwargs) -> FakeRole:
        if len(self.roles) >= 250:
            raise http_error(400, 30005, "Maximum number of guild roles reached (250)", path=f"/api/v10/guilds/{self.id}/roles")
        role = FakeRole(name, self, position=len(self.roles), permissions=permissions)
        role.mentionable = mentionable
        self.roles.append(role)
        return role

    async def create_category(self, name: str, *, overwrites=None, reason: str | None = None, **kwargs) -> FakeCategory:
        if len(self.channels) >= 500:
            raise http_error(400, 30013, "Maximum number of guild channels reached (500)")
        category = FakeCategory(name, self, overwrites)
        self.categories.append(category)
        return category

    async def create_text_channel(self, name: str, *, category=None, overwrites=None, topic=None, reason=None, **kw):
        if category is not None and len(category.channels) >= 50:
            raise http_error(400, 50035, "Maximum number of channels in category reached (50)")
        if len(self.channels) >= 500:
            raise http_error(400, 30013, "Maximum number of guild channels reached (500)")
        channel = FakeChannel(name, self, category=category, overwrites=overwrites, topic=topic)
        self.texts.append(channel)
        if category is not None:
            category.channels.append(channel)
        return channel


class FakeResponse(Faked):
    SPEC = discord.InteractionResponse
    RECORDS = ("deferred", "modal", "choices", "interaction")

    def __init__(self, interaction: FakeInteraction):
        super().__init__()
        self._record("interaction", interaction)
        self._record("deferred", None)
        self._record("modal", None)
        self._record("choices", None)
        self.__dict__["_done"] = False

    def is_done(self) -> bool:
        return self.__dict__["_done"]

    def _answer(self) -> None:
        if self.__dict__["_done"]:
            raise http_error(400, 40060, "Interaction has already been acknowledged.")
        self.__dict__["_done"] = True

    async def send_message(self, content=None, *, ephemeral=False, **kwargs) -> None:
        self._answer()
        reply = _reply(content, ephemeral=ephemeral, **kwargs)
        self.interaction.replies.append(reply)
        self.interaction.__dict__["_original"] = reply

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._answer()
        self._record("deferred", {"ephemeral": ephemeral, "thinking": thinking})

    async def send_modal(self, modal) -> None:
        self._answer()
        self._record("modal", modal)
        self.interaction.replies.append(Reply(None, kind="modal", view=modal))

    async def edit_message(self, *, content=None, embed=None, view=None, **kwargs) -> None:
        self._answer()
        self.interaction.replies.append(Reply(content, embed, [], view, True, kind="edit"))

    async def autocomplete(self, choices) -> None:
        self._answer()
        self._record("choices", list(choices))


class FakeFollowup(Faked):
    SPEC = discord.Webhook
    RECORDS = ("interaction",)

    def __init__(self, interaction: FakeInteraction):
        super().__init__()
        self._record("interaction", interaction)

    async def send(self, content=None, *, ephemeral=False, wait=False, **kwargs):
        interaction = self.interaction
        deferred = interaction.response.deferred
        if deferred is not None and not interaction.__dict__["_followed"]:
            ephemeral = deferred["ephemeral"]  # the first follow-up keeps the defer's ephemerality
        interaction.__dict__["_followed"] = True
        reply = _reply(content, ephemeral=ephemeral, kind="followup", **kwargs)
        interaction.replies.append(reply)
        return FakeMessage(reply)


class FakeAttachment(Faked):
    SPEC = discord.Attachment
    RECORDS = ("reads", "data")

    def __init__(self, filename: str, data: bytes, *, size: int | None = None):
        super().__init__()
        self.id, self.filename = new_id(), filename
        self._record("data", data)
        self.size = len(data) if size is None else size
        self._record("reads", 0)

    async def read(self, *, use_cached: bool = False) -> bytes:
        self._record("reads", self.reads + 1)
        return self.data


class FakeInteraction(Faked):
    SPEC = discord.Interaction
    RECORDS = ("replies", "last")

    def __init__(self, client, user: FakeMember, *, guild: FakeGuild | None = None, channel=None):
        super().__init__()
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
        self.data = {}
        self._record("replies", [])
        self.__dict__["_original"] = None
        self.__dict__["_followed"] = False
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    @property
    def last(self) -> Reply:
        assert self.replies, "the bot sent no reply"
        return self.replies[-1]

    async def edit_original_response(self, *, content=None, embed=None, view=None, **kwargs):
        reply = Reply(content, embed, [], view, True, kind="edit")
        self.replies.append(reply)
        return FakeMessage(reply)

    async def original_response(self):
        return FakeMessage(self.__dict__["_original"] or self.last)

    async def delete_original_response(self) -> None:
        self.replies.append(Reply(None, kind="delete"))
