"""/schedule: what is next on the event's clock, for everyone; /agenda: the organizers' edits.

    /schedule next               the next few items
    /schedule all [past]         every item still to come (and past ones), a page at a time
    /agenda add [channel] [mention] [link]                 a form (modal) for the text and times
    /agenda edit <item> [channel] [mention] [link] [clear] the same form, filled in
    /agenda remove <item>

Times are Discord timestamps (<t:UNIX:F> and <t:UNIX:R>): every reader sees their own time
zone. Organizers type times in the event's timezone (or with an offset, or "now+1h"), read by
bot.config.parse_event_time like the event file's. Discord allows five inputs in a form, so the
reminder channel, the role to mention and the link are options of the command instead.

Discord does not allow a command that is also a group, hence `/schedule next` rather than a
bare `/schedule`; and the organizers' commands live in their own group (/agenda) so that the
whole group carries Discord's permission hint as well as the bot's own check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs import views
from bot.cogs.common import organizer_group, organizer_only, services_of, user_key
from bot.config import parse_duration, parse_event_time
from bot.core.errors import BadInput
from bot.core.schedule import ScheduleEntry, check_live
from bot.tree import ReportingView, error_message, report_error, send_ephemeral

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

NEXT_COUNT = 5  # items /schedule next shows
PAGE_SIZE = 6  # items a page of /schedule all: 6 of the longest stay under the 6000-character embed limit
MODAL_TIMEOUT = 900.0  # seconds to fill in the form
RETRY_TIMEOUT = 600.0
DESCRIPTION_SHOWN = 300  # characters of an item's description in a list
MAX_CHOICES = 25
CLEARABLE = {
    "channel": "the reminder channel (back to the announcements channel)",
    "mention": "the roles mentioned",
    "link": "the link",
}


# --- rendering ----------------------------------------------------------------------------

def timestamp(when: datetime) -> str:
    return f"{discord.utils.format_dt(when, 'F')} ({discord.utils.format_dt(when, 'R')})"


def duration_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0m"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def item_value(entry: ScheduleEntry, now: datetime, *, details: bool = False) -> str:
    """One item as an embed field's text: when (and until when), what, the link."""
    lines = [timestamp(entry.at)]
    if entry.at <= now and entry.ends is not None and now < entry.ends:
        lines[0] = f"**happening now** · started {lines[0]}"
    if entry.ends is not None:
        lines.append(f"until {discord.utils.format_dt(entry.ends, 'F')}")
    if entry.description:
        lines.append(entry.description if details else _clip(entry.description, DESCRIPTION_SHOWN))
    if entry.link:
        lines.append(_clip(entry.link, 300))
    if details:
        lines.append(reminder_summary(entry))
    return _clip("\n".join(lines), 4096 if details else 1024)  # an embed description, or a field


def reminder_summary(entry: ScheduleEntry) -> str:
    if not entry.remind_before:
        return "No reminder."
    before = ", ".join(duration_text(d) for d in sorted(entry.remind_before, reverse=True))
    where = f"#{entry.channel}" if entry.channel else "the announcements channel"
    mentioning = f", mentioning {', '.join('@' + name for name in entry.mention)}" if entry.mention else ""
    return f"Reminders {before} before, in {where}{mentioning}."


def schedule_embed(
    event_name: str, entries: list[ScheduleEntry], now: datetime, *, page: int = 0, footer: Sequence[str] = ()
) -> discord.Embed:
    embed = discord.Embed(title=_clip(f"{event_name} · schedule", 256), colour=discord.Colour.blurple())
    start = page * PAGE_SIZE
    shown = entries[start : start + PAGE_SIZE]
    if not shown:
        embed.description = "Nothing more is scheduled."
    for entry in shown:
        embed.add_field(name=_clip(entry.title, 256), value=item_value(entry, now), inline=False)
    if footer:
        embed.set_footer(text=" · ".join(footer))
    return embed


def still_to_come(entries: list[ScheduleEntry], now: datetime) -> list[ScheduleEntry]:
    return [e for e in entries if (e.ends or e.at) >= now]


def item_embed(heading: str, entry: ScheduleEntry, now: datetime) -> discord.Embed:
    embed = discord.Embed(title=_clip(f"{heading}: {entry.title}", 256), colour=discord.Colour.green())
    embed.description = item_value(entry, now, details=True)
    embed.set_footer(text=f"item {entry.id} · {entry.source}")
    return embed


# --- reading what organizers type ---------------------------------------------------------

def local_text(when: datetime | None, tz) -> str | None:
    """A time as organizers type it: in the event's timezone, no offset."""
    if when is None:
        return None
    local = when.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def time_format_hint(timezone_name: str) -> str:
    return (
        f"write it like 2024-11-22 14:00 (read in the event's timezone, {timezone_name}), "
        "with an offset such as 2024-11-22T14:00:00+01:00, or relative such as now+1h"
    )


def parse_time(label: str, value: str, config, now: datetime) -> datetime:
    try:
        return parse_event_time(value, config.event.tz, now)
    except ValueError:
        raise BadInput(
            f"{label}: {value.strip()!r} is not a time; {time_format_hint(config.event.timezone)}"
        ) from None


def parse_ends(value: str, at: datetime, config, now: datetime) -> datetime | None:
    """Empty: no end; a duration ("1h30m"): that long after the start; else a time."""
    if not value.strip():
        return None
    try:
        return at + parse_duration(value)
    except ValueError:
        pass
    try:
        return parse_event_time(value, config.event.tz, now)
    except ValueError:
        raise BadInput(
            f"Ends: {value.strip()!r} is neither a time nor a duration; write a duration such as 1h30m, "
            f"or a time: {time_format_hint(config.event.timezone)}"
        ) from None


def parse_reminders(value: str) -> list[timedelta]:
    """ "1h, 10m" -> [1h, 10m]; empty: no reminder."""
    found = []
    for part in value.replace(";", ",").split(","):
        if not part.strip():
            continue
        try:
            found.append(parse_duration(part.strip()))
        except ValueError:
            raise BadInput(
                f"Reminders: {part.strip()!r} is not a duration; list them like 1h, 10m (d, h, m, s)"
            ) from None
    return found


def check_link(link: str | None) -> str | None:
    """Refused before the form opens, not after it is filled in (ScheduleService checks it too)."""
    if link is None:
        return None
    link = link.strip()
    if not link.startswith(("https://", "http://")) or not urlparse(link).netloc:
        raise BadInput(f"link: {link[:100]!r} is not a web address; write it with https://")
    return link


# --- the form -----------------------------------------------------------------------------

class ItemModal(discord.ui.Modal):
    """Title, when, ends, reminders, description: a new item, or an item's current values."""

    def __init__(self, *, entry: ScheduleEntry | None, options: dict, config, values: dict | None = None):
        super().__init__(title="Edit schedule item" if entry else "New schedule item", timeout=MODAL_TIMEOUT)
        self.entry, self.options, self.config = entry, options, config
        tz = config.event.tz
        current = values or {}
        if entry is not None and values is None:
            current = {
                "title": entry.title,
                "when": local_text(entry.at, tz),
                "ends": local_text(entry.ends, tz),
                "reminders": ", ".join(duration_text(d) for d in sorted(entry.remind_before, reverse=True)),
                "description": entry.description,
            }
        self.title_input: discord.ui.TextInput[ItemModal] = discord.ui.TextInput(
            label="Title", max_length=200, default=current.get("title") or None
        )
        self.when_input: discord.ui.TextInput[ItemModal] = discord.ui.TextInput(
            label=_clip(f"When ({config.event.timezone})", 45),
            placeholder="2024-11-22 14:00, or 2024-11-22T14:00+01:00, or now+1h",
            max_length=100,
            default=current.get("when") or None,
        )
        self.ends_input: discord.ui.TextInput[ItemModal] = discord.ui.TextInput(
            label="Ends (optional: a time, or a duration)",
            placeholder="2024-11-22 15:30, or 1h30m",
            required=False,
            max_length=100,
            default=current.get("ends") or None,
        )
        self.reminders_input: discord.ui.TextInput[ItemModal] = discord.ui.TextInput(
            label="Remind before (optional)",
            placeholder="1h, 10m",
            required=False,
            max_length=100,
            default=current.get("reminders") or None,
        )
        self.description_input: discord.ui.TextInput[ItemModal] = discord.ui.TextInput(
            label="Description (optional)",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=1000,
            default=current.get("description") or None,
        )
        for field in (self.title_input, self.when_input, self.ends_input, self.reminders_input, self.description_input):
            self.add_item(field)

    def typed(self) -> dict:
        return {
            "title": self.title_input.value,
            "when": self.when_input.value,
            "ends": self.ends_input.value,
            "reminders": self.reminders_input.value,
            "description": self.description_input.value,
        }

    def changes(self, now: datetime) -> dict:
        """What the form says, read and checked; BadInput names the field and the format."""
        title = self.title_input.value.strip()
        if not title:
            raise BadInput("Title: give the item a title")
        at = parse_time("When", self.when_input.value, self.config, now)
        ends = parse_ends(self.ends_input.value, at, self.config, now)
        if ends is not None and ends < at:
            raise BadInput("Ends: the item ends before it starts; give a later end, or none")
        return {
            "title": title,
            "at": at,
            "ends": ends,
            "remind_before": parse_reminders(self.reminders_input.value),
            "description": self.description_input.value.strip(),
            **self.options,
        }

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        now = services.clock()
        changes = self.changes(now)
        if self.entry is None:
            title, at = changes.pop("title"), changes.pop("at")
            entry = await services.schedule.add(title, at, **changes)
            heading = "Added"
        else:
            entry = await services.schedule.edit(self.entry.id, **changes)
            heading = "Updated"
        await interaction.response.send_message(embed=item_embed(heading, entry, now), ephemeral=True)

    # Modal.on_error takes no item, unlike the BaseView.on_error that discord.py's Modal overrides
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        if isinstance(error, BadInput):
            # what was typed is not lost: a button opens the form again, filled in as submitted
            view = RetryForm(self)
            try:
                await send_ephemeral(interaction, f"{error_message(error)}\nNothing was saved.", view=view)
            except discord.HTTPException:
                log.warning("could not tell the user about an error", exc_info=True)
            return
        await report_error(interaction, error)


class RetryForm(ReportingView):
    """"Fix it": the form again, with what was typed, after a refused submission."""

    def __init__(self, modal: ItemModal):
        super().__init__(timeout=RETRY_TIMEOUT)
        self.modal = modal

    @discord.ui.button(label="Fix it", style=discord.ButtonStyle.primary)
    async def fix(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        old = self.modal
        again = ItemModal(entry=old.entry, options=old.options, config=old.config, values=old.typed())
        await interaction.response.send_modal(again)


# --- choices ------------------------------------------------------------------------------

async def item_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    services = services_of(interaction)
    typed = str(current or "").strip().casefold()
    tz = services.config.event.tz
    choices = []
    for entry in sorted(await services.schedule.items(), key=lambda e: e.at):
        if typed and typed not in str(entry.id) and typed not in entry.title.casefold():
            continue
        origin = {"config": " · event file", "automation": " · automatic"}.get(entry.source, "")
        label = f"{entry.id} · {entry.title} · {local_text(entry.at, tz)}{origin}"
        choices.append(app_commands.Choice(name=_clip(label, 100), value=entry.id))
    return choices[:MAX_CHOICES]


def channel_and_link(channel, mention, link) -> dict:
    options: dict = {}
    if channel is not None:
        options["channel"] = channel.name
    if mention is not None:
        options["mention"] = [mention.name]
    if link is not None:
        options["link"] = check_link(link)
    return options


async def draw_schedule(interaction: discord.Interaction, args: str, page: int) -> tuple[discord.Embed, int]:
    """A page of /schedule all: every item still to come, or with args "past" every item."""
    services = services_of(interaction)
    now = services.clock()
    # the interview block, and the caller's team's own slot (bot/core/interviews.py)
    interviews = await services.interviews.schedule_entries(user_key(interaction.user))
    entries = sorted(await services.schedule.items() + interviews, key=lambda e: e.at)
    past = args == "past"
    if not past:
        entries = still_to_come(entries, now)
    pages = views.page_count(len(entries), PAGE_SIZE)
    count = f"{len(entries)} item{'' if len(entries) == 1 else 's'}" + ("" if past else " to come")
    footer = ([f"page {page + 1}/{pages}"] if pages > 1 else []) + [count]
    return schedule_embed(services.config.event.name, entries, now, page=page, footer=footer), pages


PAGER = "schedule"
views.PAGERS[PAGER] = draw_schedule


# --- the cog ------------------------------------------------------------------------------

class Schedule(commands.Cog):
    schedule = app_commands.Group(name="schedule", description="The event's schedule, in your own time zone")
    agenda = organizer_group("agenda", "Organizers: add, edit or remove schedule items")

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @schedule.command(name="next", description="What is next on the event's schedule")
    async def next_items(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        now = services.clock()
        interviews = still_to_come(await services.interviews.schedule_entries(user_key(interaction.user)), now)
        entries = sorted([*await services.schedule.upcoming(limit=NEXT_COUNT + 1), *interviews],
                         key=lambda e: e.at)[: NEXT_COUNT + 1]
        footer = ["more: /schedule all"] if len(entries) > NEXT_COUNT else []
        embed = schedule_embed(services.config.event.name, entries[:NEXT_COUNT], now, footer=footer)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @schedule.command(name="all", description="Every item still to come, a page at a time")
    @app_commands.describe(past="Also list the items already over")
    async def all_items(self, interaction: discord.Interaction, past: bool = False) -> None:
        await views.send_pages(interaction, PAGER, "past" if past else "")

    @agenda.command(name="add", description="Add a schedule item: a form asks for its title, time and reminders")
    @app_commands.describe(
        channel="Where its reminders go (default: the announcements channel)",
        mention="A role to mention in its reminders",
        link="A web address for the item (stream, slides, room)",
    )
    @organizer_only()
    async def add(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        mention: discord.Role | None = None,
        link: str | None = None,
    ) -> None:
        options = channel_and_link(channel, mention, link)
        config = services_of(interaction).config
        await interaction.response.send_modal(ItemModal(entry=None, options=options, config=config))

    @agenda.command(name="edit", description="Change a schedule item: the form opens with its current values")
    @app_commands.describe(
        item="The item to change",
        channel="Move its reminders to this channel",
        mention="Mention this role in its reminders (instead of the current ones)",
        link="Its new web address",
        clear="Remove the channel, the mentions or the link",
    )
    @app_commands.choices(clear=[app_commands.Choice(name=_clip(text, 100), value=key) for key, text in CLEARABLE.items()])
    @app_commands.autocomplete(item=item_choices)
    @organizer_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        item: int,
        channel: discord.TextChannel | None = None,
        mention: discord.Role | None = None,
        link: str | None = None,
        clear: app_commands.Choice[str] | None = None,
    ) -> None:
        entry = await services_of(interaction).schedule.get(item)
        check_live(entry)  # refused before the form opens: an event-file item is edited in the file
        options = channel_and_link(channel, mention, link)
        if clear is not None:
            key = clear.value
            if key in options:
                raise BadInput(f"you both set and cleared the {key}; do one or the other")
            options[key] = [] if key == "mention" else None
        config = services_of(interaction).config
        await interaction.response.send_modal(ItemModal(entry=entry, options=options, config=config))

    @agenda.command(name="remove", description="Remove a schedule item and its reminders")
    @app_commands.describe(item="The item to remove")
    @app_commands.autocomplete(item=item_choices)
    @organizer_only()
    async def remove(self, interaction: discord.Interaction, item: int) -> None:
        services = services_of(interaction)
        entry = await services.schedule.remove(item)  # the reminder runner hears of it (on_change)
        await interaction.response.send_message(
            embed=item_embed("Removed", entry, services.clock()), ephemeral=True
        )


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Schedule(bot))
