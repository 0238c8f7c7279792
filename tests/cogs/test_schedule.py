"""/schedule and /agenda as people see them, and the reminders as Discord receives them.

/schedule next and /schedule all answer with Discord timestamps (<t:UNIX:F> (<t:UNIX:R>)), a
page at a time; organizers add and edit items through a form (the modal is submitted as
Discord submits it: a components payload through Modal._scheduled_task), a time that cannot be
read is refused with the format to use and the typed text kept; the poster (bot.posting) finds
the channel and the roles, and turns Discord's failures into PostFailed for the core's retries.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest
from discord import app_commands

from bot.cogs.common import NotOrganizer
from bot.cogs.schedule import NEXT_COUNT, PAGE_SIZE, ItemModal, item_choices
from bot.core.reminders import PostFailed, Reminder, ReminderRunner
from bot.core.schedule import ScheduleEntry
from bot.posting import discord_poster, discord_reporter, log_poster, log_reporter
from tests.cogs.conftest import call, press, run_checks
from tests.cogs.fakes import FakeChannel, FakeGuild, FakeInteraction, FakeRole, http_error
from tests.core.helpers import CLOSES, REAL, T0

AGENDA = ["agenda add", "agenda edit", "agenda remove"]


def stamp(when: datetime) -> str:
    unix = int(when.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


async def click(view, button, interaction):
    await view._scheduled_task(button, interaction)
    return interaction


async def submit_modal(modal: discord.ui.Modal, interaction, **typed: str):
    """Submit a form as Discord does: every input's value (what was typed, else what it showed)."""
    fields = {
        "title": modal.title_input, "when": modal.when_input, "ends": modal.ends_input,
        "reminders": modal.reminders_input, "description": modal.description_input,
    }
    assert set(typed) <= set(fields), set(typed) - set(fields)
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": field.custom_id, "value": typed.get(name, field.default or "")}]}
        for name, field in fields.items()
    ]
    await modal._scheduled_task(interaction, rows, {})
    return interaction


def label(text_input: discord.ui.TextInput) -> str:
    return text_input.to_component_dict()["label"]


def field_names(reply) -> list[str]:
    return [f.name for f in reply.embed.fields]


async def live(bot, title: str, at: datetime, **kwargs) -> ScheduleEntry:
    return await bot.services.schedule.add(title, at, **kwargs)


# --- /schedule next and /schedule all ------------------------------------------------------

async def test_next_lists_what_is_to_come_as_discord_timestamps(bot, member, interaction, clock):
    now = clock()
    await live(bot, "Lunch", now + timedelta(hours=3), ends=now + timedelta(hours=4), description="Pizza")
    keynote = await live(bot, "Keynote", now + timedelta(hours=2), link="https://example.org/live")
    it = await call(bot, "schedule next", interaction(member()))
    reply = it.last
    assert reply.ephemeral and reply.kind == "message"
    # in time order; the event's own phase starts and deadlines are on the schedule too; the
    # phase that started an hour ago is past and not shown
    assert field_names(reply) == [
        "Keynote", "Lunch", "Phase 'real' starts: new datasets, the leaderboard starts from zero", "Submissions close",
    ]
    keynote_text, lunch_text, real, closes = (f.value for f in reply.embed.fields)
    assert keynote_text.splitlines()[0] == stamp(keynote.at)
    assert "https://example.org/live" in keynote_text
    assert lunch_text.splitlines()[:3] == [
        stamp(now + timedelta(hours=3)), f"until <t:{int((now + timedelta(hours=4)).timestamp())}:F>", "Pizza",
    ]
    assert real.startswith(stamp(REAL)) and closes.startswith(stamp(CLOSES))
    assert "Phase 'mock'" not in reply.text


async def test_next_shows_a_few_and_points_to_all(bot, member, interaction, clock):
    for i in range(NEXT_COUNT + 2):
        await live(bot, f"Talk {i}", clock() + timedelta(minutes=10 + i))
    reply = (await call(bot, "schedule next", interaction(member()))).last
    assert field_names(reply) == [f"Talk {i}" for i in range(NEXT_COUNT)]
    assert "/schedule all" in reply.embed.footer.text


async def test_next_marks_what_is_happening_now(bot, member, interaction, clock):
    workshop = await live(bot, "Workshop", clock() + timedelta(minutes=5), ends=clock() + timedelta(hours=1))
    clock.advance(minutes=20)
    reply = (await call(bot, "schedule next", interaction(member()))).last
    assert reply.embed.fields[0].name == "Workshop"
    assert reply.embed.fields[0].value.startswith(f"**happening now** · started {stamp(workshop.at)}")


async def test_next_when_nothing_more_is_scheduled(bot, member, interaction, clock):
    clock.set(CLOSES + timedelta(days=1))
    reply = (await call(bot, "schedule next", interaction(member()))).last
    assert reply.ephemeral and reply.embed.description == "Nothing more is scheduled." and not reply.embed.fields


async def test_all_pages_through_every_item_to_come(bot, member, interaction, clock):
    for i in range(14):
        await live(bot, f"Talk {i:02d}", clock() + timedelta(hours=1, minutes=i))
    alice = member()
    it = await call(bot, "schedule all", interaction(alice))
    first = it.last
    expected = [f"Talk {i:02d}" for i in range(14)] + [
        "Phase 'real' starts: new datasets, the leaderboard starts from zero", "Submissions close",
    ]
    assert first.ephemeral and field_names(first) == expected[:PAGE_SIZE]
    assert first.embed.footer.text == "page 1/3 · 16 items to come"
    assert all(f.value.startswith("<t:") and ":R>)" in f.value for f in first.embed.fields)
    assert [b.item.disabled for b in first.view.children] == [True, False]

    second = (await press(bot, first, "Next", FakeInteraction(bot, alice))).last
    assert second.kind == "edit" and field_names(second) == expected[PAGE_SIZE : 2 * PAGE_SIZE]
    third = (await press(bot, second, "Next", FakeInteraction(bot, alice))).last
    assert field_names(third) == expected[2 * PAGE_SIZE :] and third.embed.footer.text.startswith("page 3/3")
    assert [b.item.disabled for b in third.view.children] == [False, True]
    back = (await press(bot, third, "Prev", FakeInteraction(bot, alice))).last
    assert field_names(back) == expected[PAGE_SIZE : 2 * PAGE_SIZE]


async def test_a_page_of_the_longest_items_fits_in_one_embed(bot, member, interaction, clock):
    for i in range(PAGE_SIZE):
        start = clock() + timedelta(minutes=5)
        await live(bot, f"{i}" + "T" * 199, start, ends=start + timedelta(days=2), description="D" * 1000,
                   link="https://example.org/" + "x" * 1500)
    clock.advance(minutes=10)  # every one happening now: the longest text
    reply = (await call(bot, "schedule all", interaction(member()))).last
    assert len(reply.embed.fields) == PAGE_SIZE and len(reply.embed) <= 6000
    assert all(len(f.value) <= 1024 and len(f.name) <= 256 for f in reply.embed.fields)


async def test_all_with_past_items_and_on_one_page_without_buttons(bot, member, interaction):
    reply = (await call(bot, "schedule all", interaction(member()), past=True)).last
    assert field_names(reply)[0] == "Phase 'mock' starts: the competition is open"
    assert reply.embed.fields[0].value.startswith(stamp(T0))
    assert reply.view is None and reply.embed.footer.text == "3 items"


# --- /agenda: guarded ---------------------------------------------------------------------

async def test_agenda_is_for_organizers_only(bot, member, organizer, interaction):
    for name in AGENDA:
        with pytest.raises(NotOrganizer, match="'Organizers' role"):
            await run_checks(bot, name, interaction(member()))
        assert await run_checks(bot, name, interaction(organizer)), name
    group = bot.tree.get_command("agenda")
    assert group.default_permissions == discord.Permissions(manage_guild=True) and group.guild_only
    assert bot.tree.get_command("schedule").default_permissions is None  # everyone reads the schedule


# --- /agenda add --------------------------------------------------------------------------

def check_modal_payload(payload: dict) -> None:
    """Discord's limits on a modal: a title of 1-45, at most 5 rows, labels of 1-45, placeholders
    of at most 100, a value no longer than the input's max_length."""
    assert 1 <= len(payload["title"]) <= 45
    assert 1 <= len(payload["components"]) <= 5
    for row in payload["components"]:
        [text_input] = row["components"]
        assert text_input["type"] == 4 and 1 <= len(text_input["label"]) <= 45
        assert len(text_input.get("placeholder") or "") <= 100
        assert len(text_input.get("value") or "") <= text_input.get("max_length", 4000) <= 4000


async def test_the_forms_are_valid_for_discord(bot, organizer, interaction, clock):
    long_zone = bot.config.model_copy(
        update={"event": bot.config.event.model_copy(update={"timezone": "America/Argentina/ComodRivadavia"})}
    )
    check_modal_payload(ItemModal(entry=None, options={}, config=long_zone).to_dict())
    entry = await live(bot, "T" * 200, clock() + timedelta(hours=1), description="D" * 1000, remind_before=["1d", "2h"])
    check_modal_payload(ItemModal(entry=entry, options={}, config=bot.config).to_dict())


async def test_add_opens_a_form_and_its_submission_adds_the_item(bot, guild, organizer, interaction, clock):
    talks, role = FakeChannel("talks", guild), FakeRole("Participants", guild)
    it = await call(bot, "agenda add", interaction(organizer), channel=talks, mention=role, link="https://meet.example/k")
    assert it.last.kind == "modal"
    assert not [e for e in await bot.services.schedule.items() if e.source == "live"]  # nothing added yet
    modal = it.response.modal
    assert label(modal.when_input) == "When (UTC)"
    done = await submit_modal(
        modal, interaction(organizer), title="  Keynote ", when="2030-03-01 16:00", ends="45m",
        reminders="1h, 10m", description="Welcome!",
    )
    reply = done.last
    at = datetime(2030, 3, 1, 16, tzinfo=UTC)
    assert reply.ephemeral and reply.embed.title == "Added: Keynote"
    assert reply.embed.description.startswith(stamp(at))
    assert "Reminders 1h, 10m before, in #talks, mentioning @Participants." in reply.embed.description
    [entry] = [e for e in await bot.services.schedule.items() if e.source == "live"]
    assert (entry.title, entry.at, entry.ends, entry.description) == ("Keynote", at, at + timedelta(minutes=45), "Welcome!")
    assert entry.remind_before == [timedelta(hours=1), timedelta(minutes=10)]
    assert (entry.channel, entry.mention, entry.link) == ("talks", ["Participants"], "https://meet.example/k")


async def test_times_in_the_form_are_read_in_the_events_timezone(bot, organizer, interaction):
    paris = bot.config.model_copy(update={"event": bot.config.event.model_copy(update={"timezone": "Europe/Paris"})})
    modal = ItemModal(entry=None, options={}, config=paris)
    assert label(modal.when_input) == "When (Europe/Paris)"
    await submit_modal(modal, interaction(organizer), title="Demo", when="2030-03-01 16:00", ends="2030-03-01 17:30")
    [entry] = [e for e in await bot.services.schedule.items() if e.source == "live"]
    assert entry.at == datetime(2030, 3, 1, 15, tzinfo=UTC)  # CET is UTC+1
    assert entry.ends == datetime(2030, 3, 1, 16, 30, tzinfo=UTC)


async def test_a_time_that_cannot_be_read_names_the_format_and_keeps_what_was_typed(bot, organizer, interaction):
    modal = (await call(bot, "agenda add", interaction(organizer))).response.modal
    it = await submit_modal(
        modal, interaction(organizer), title="Keynote", when="friday 2pm", description="A long text typed by hand"
    )
    error = it.last
    assert error.ephemeral and error.kind == "message"
    assert "'friday 2pm' is not a time" in error.content
    assert "2024-11-22 14:00" in error.content and "UTC" in error.content and "now+1h" in error.content
    assert "Nothing was saved." in error.content
    assert not [e for e in await bot.services.schedule.items() if e.source == "live"]
    # "Fix it" opens the form again with what was typed
    retry = await click(error.view, error.view.fix, interaction(organizer))
    again = retry.response.modal
    assert again is not modal and again.title_input.default == "Keynote"
    assert again.when_input.default == "friday 2pm" and again.description_input.default == "A long text typed by hand"
    reply = (await submit_modal(again, interaction(organizer), when="now+2h")).last
    assert reply.embed.title == "Added: Keynote"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"ends": "later"}, "Ends: 'later' is neither a time nor a duration"),
        ({"reminders": "1h, soon"}, "Reminders: 'soon' is not a duration; list them like 1h, 10m"),
        ({"ends": "2030-03-01 12:00"}, "Ends: the item ends before it starts"),
        ({"when": "2020-01-01 10:00"}, "is in the past"),  # the core's rule, through the same path
    ],
)
async def test_other_bad_input_in_the_form_is_refused_with_the_reason(bot, organizer, interaction, typed, message):
    modal = (await call(bot, "agenda add", interaction(organizer))).response.modal
    it = await submit_modal(modal, interaction(organizer), **{"title": "Talk", "when": "2030-03-01 16:00", **typed})
    assert it.last.ephemeral and message in it.last.content
    assert not [e for e in await bot.services.schedule.items() if e.source == "live"]


async def test_a_bad_link_is_refused_before_the_form_opens(bot, organizer, interaction):
    it = await call(bot, "agenda add", interaction(organizer), link="javascript:alert(1)")
    assert it.last.kind == "message" and it.last.ephemeral and "not a web address" in it.last.content


async def test_an_unexpected_error_in_the_form_goes_to_the_trees_reply(bot, organizer, interaction, monkeypatch, caplog):
    modal = (await call(bot, "agenda add", interaction(organizer))).response.modal

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.services.schedule, "add", broken)
    with caplog.at_level(logging.ERROR):
        it = await submit_modal(modal, interaction(organizer), title="Talk", when="now+1h")
    assert it.last.ephemeral and "error id" in it.last.content and it.last.view is None


# --- /agenda edit and remove --------------------------------------------------------------

async def test_edit_opens_the_form_filled_in_and_saves_the_changes(bot, guild, organizer, interaction, clock):
    entry = await live(
        bot, "Lunch", datetime(2030, 3, 1, 13, 30, tzinfo=UTC), ends=datetime(2030, 3, 1, 14, 30, tzinfo=UTC),
        description="Pizza", link="https://example.org/menu", remind_before=["10m", "1h"], channel="food",
    )
    it = await call(bot, "agenda edit", interaction(organizer), item=entry.id,
                    channel=FakeChannel("general", guild), clear=app_commands.Choice(name="link", value="link"))
    modal = it.response.modal
    assert modal.title == "Edit schedule item"
    shown = {name: getattr(modal, f"{name}_input").default for name in ("title", "when", "ends", "reminders", "description")}
    assert shown == {"title": "Lunch", "when": "2030-03-01 13:30", "ends": "2030-03-01 14:30",
                     "reminders": "1h, 10m", "description": "Pizza"}
    reply = (await submit_modal(modal, interaction(organizer), title="Lunch break", when="2030-03-01 14:00", ends="1h")).last
    assert reply.ephemeral and reply.embed.title == "Updated: Lunch break"
    changed = await bot.services.schedule.get(entry.id)
    assert changed.title == "Lunch break" and changed.at == datetime(2030, 3, 1, 14, tzinfo=UTC)
    assert changed.ends == datetime(2030, 3, 1, 15, tzinfo=UTC) and changed.description == "Pizza"
    assert (changed.channel, changed.link) == ("general", None)
    assert changed.remind_before == [timedelta(hours=1), timedelta(minutes=10)]


async def test_items_of_the_event_file_and_automations_are_refused_before_the_form(bot, organizer, interaction):
    closes = next(e for e in await bot.services.schedule.items() if e.title == "Submissions close")
    it = await call(bot, "agenda edit", interaction(organizer), item=closes.id)
    assert it.last.kind == "message" and it.last.ephemeral and "event file" in it.last.content
    it = await call(bot, "agenda remove", interaction(organizer), item=closes.id)
    assert it.last.ephemeral and "event file" in it.last.content
    assert await bot.services.schedule.get(closes.id) == closes


async def test_remove_removes_the_item_and_an_unknown_item_is_named(bot, organizer, interaction, clock):
    entry = await live(bot, "Quiz", clock() + timedelta(hours=5))
    reply = (await call(bot, "agenda remove", interaction(organizer), item=entry.id)).last
    assert reply.ephemeral and reply.embed.title == "Removed: Quiz" and stamp(entry.at) in reply.embed.description
    assert entry.id not in [e.id for e in await bot.services.schedule.items()]
    again = (await call(bot, "agenda remove", interaction(organizer), item=entry.id)).last
    assert again.ephemeral and f"no schedule item {entry.id}" in again.content


async def test_item_choices_name_each_item_and_filter_by_what_is_typed(bot, organizer, interaction, clock):
    quiz = await live(bot, "Pub quiz", clock() + timedelta(hours=5))
    choices = await item_choices(interaction(organizer), "")
    assert any(c.value == quiz.id and c.name.startswith(f"{quiz.id} · Pub quiz · ") for c in choices)
    assert any(c.name.endswith("· automatic") for c in choices)
    assert [c.value for c in await item_choices(interaction(organizer), "QUIZ")] == [quiz.id]


# --- the poster ---------------------------------------------------------------------------

def channel(name, guild, *, fail: Exception | None = None) -> FakeChannel:
    """A channel of the guild that records what discord.py would send, or fails once as Discord does."""
    made = FakeChannel(name, guild)
    guild.texts.append(made)
    made.fail_next = fail
    return made


class PosterBot:
    """What the poster reads of the bot: its settings, config, guilds, and readiness."""

    def __init__(self, config, guilds, guild_id=None):
        self.config, self.guilds = config, guilds
        self.settings = SimpleNamespace(hackbot_guild_id=guild_id)
        self.waited = 0

    def get_guild(self, guild_id):
        return next((g for g in self.guilds if g.id == guild_id), None)

    async def wait_until_ready(self):
        self.waited += 1


def reminder(*, title="Keynote", channel=None, mention=(), late=False, at=None) -> Reminder:
    at = at or datetime(2030, 3, 1, 14, tzinfo=UTC)
    item = ScheduleEntry(
        id=7, title=title, at=at, ends=None, description="Room B", channel=channel, mention=list(mention),
        link=None, remind_before=[timedelta(minutes=10)], source="live",
    )
    due = at - timedelta(minutes=10)
    return Reminder(id=1, item=item, due=due, offset=timedelta(minutes=10), late=late, kind="reminder")


@pytest.fixture
def event_guild(bot):
    guild = FakeGuild()
    guild.roles.append(FakeRole("Participants", guild))
    return guild, channel("announcements", guild), channel("talks", guild)


async def test_the_poster_posts_in_the_items_channel_with_its_roles_and_timestamp(bot, event_guild):
    guild, announcements, talks = event_guild
    participants = discord.utils.get(guild.roles, name="Participants")
    poster_bot = PosterBot(bot.config, [guild])
    await discord_poster(poster_bot)(reminder(channel="talks", mention=["Participants", "Mentors"]))
    assert poster_bot.waited == 1 and not announcements.sent
    [message] = talks.sent
    lines = message.content.splitlines()
    assert lines[0] == f"<@&{participants.id}> @Mentors"  # an unknown role is named, not pinged
    assert lines[1:4] == ["Keynote", f"starts {stamp(datetime(2030, 3, 1, 14, tzinfo=UTC))}", "Room B"]
    allowed = message.allowed_mentions
    assert allowed.everyone is False and allowed.users is False and [r.id for r in allowed.roles] == [participants.id]


async def test_the_poster_falls_back_to_the_announcements_channel(bot, event_guild):
    guild, announcements, talks = event_guild
    poster = discord_poster(PosterBot(bot.config, [guild]))
    await poster(reminder())
    await poster(reminder(title="Renamed channel", channel="#gone"))
    assert [m.content.splitlines()[0] for m in announcements.sent] == ["Keynote", "Renamed channel"]
    assert not talks.sent


async def test_a_late_reminder_says_so(bot, event_guild):
    guild, announcements, _ = event_guild
    await discord_poster(PosterBot(bot.config, [guild]))(reminder(late=True))
    assert "(posted late: this was due <t:" in announcements.sent[0].content


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (http_error(503), True),
        (http_error(500), True),
        (http_error(429, headers={"Retry-After": "7.5"}), True),
        (http_error(403), False),
        (http_error(404), False),
        (http_error(400), False),
        (discord.RateLimited(120.0), True),
    ],
)
async def test_discord_failures_become_post_failed(bot, event_guild, error, retryable):
    guild, announcements, _ = event_guild
    announcements.fail_next = error
    with pytest.raises(PostFailed) as failed:
        await discord_poster(PosterBot(bot.config, [guild]))(reminder())
    assert failed.value.retryable is retryable
    assert "#announcements" in failed.value.reason
    if isinstance(error, discord.RateLimited):
        assert failed.value.retry_after == 120.0
    elif error.status == 429:
        assert failed.value.retry_after == 7.5


async def test_no_channel_at_all_is_not_retried(bot):
    guild = FakeGuild()
    with pytest.raises(PostFailed) as failed:
        await discord_poster(PosterBot(bot.config, [guild]))(reminder(channel="talks"))
    assert failed.value.retryable is False
    assert "no #talks nor #announcements channel" in failed.value.reason


async def test_the_event_guild_is_the_configured_one_or_the_only_one(bot, event_guild):
    guild, announcements, _ = event_guild
    other = FakeGuild("Other server")
    channel("announcements", other)
    await discord_poster(PosterBot(bot.config, [other, guild], guild_id=guild.id))(reminder())
    assert len(announcements.sent) == 1
    with pytest.raises(PostFailed, match="HACKBOT_GUILD_ID") as ambiguous:
        await discord_poster(PosterBot(bot.config, [other, guild]))(reminder())
    assert ambiguous.value.retryable is False
    with pytest.raises(PostFailed, match="not available") as outage:
        await discord_poster(PosterBot(bot.config, [other], guild_id=guild.id))(reminder())
    assert outage.value.retryable is True


async def test_offline_the_reminder_is_logged(caplog):
    logger = logging.getLogger("test.offline")
    with caplog.at_level(logging.INFO, logger="test.offline"):
        await log_poster(logger)(reminder(channel="talks", mention=["Participants"]))
        await log_reporter(logger)("Skipped 1 reminder")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == (
        "reminder (offline, not posted to Discord) in #talks mentioning @Participants: Keynote"
        f" | starts {stamp(datetime(2030, 3, 1, 14, tzinfo=UTC))} | Room B"
    )
    assert messages[1] == "report: Skipped 1 reminder"


async def test_reports_go_to_the_organizers_log_channel_and_never_raise(bot, event_guild):
    guild, announcements, _ = event_guild
    report = discord_reporter(PosterBot(bot.config, [guild]))
    await report("first")  # no log channel yet: the announcements channel, rather than nowhere
    assert announcements.sent[0].content == "⚠️ first"
    log_channel = channel(bot.config.discord.log_channel, guild)
    await report("Reminder 'Keynote' was NOT posted")
    assert log_channel.sent[0].content == "⚠️ Reminder 'Keynote' was NOT posted"
    assert len(announcements.sent) == 1  # participants do not see organizer reports
    announcements = log_channel
    assert announcements.sent[0].allowed_mentions.roles is False  # AllowedMentions.none()
    announcements.fail_next = http_error(503)
    await report("another")  # logged, not raised
    await discord_reporter(PosterBot(bot.config, []))("no server")


# --- the poster under the core's runner ---------------------------------------------------

async def test_the_runner_retries_a_5xx_and_records_a_missing_channel_as_failed(bot, event_guild, clock):
    guild, announcements, _ = event_guild
    schedule = bot.services.schedule
    reports: list[str] = []

    async def report(text: str) -> None:
        reports.append(text)

    runner = ReminderRunner(bot.services.store, bot.config, schedule, discord_poster(PosterBot(bot.config, [guild])),
                            clock=clock, report=report)
    await schedule.add("Standup", clock() + timedelta(minutes=10), remind_before=["10m"])
    await schedule.add("Lost", clock() + timedelta(minutes=10), remind_before=["10m"], channel="nowhere")
    announcements.fail_next = http_error(502)
    # Standup fails with a 502 (retried later); Lost falls back to #announcements and is posted
    assert await runner.tick() == 1
    clock.advance(seconds=6)
    assert await runner.tick() == 1
    posted = {p.title: p for p in await schedule.posted()}
    assert posted["Standup"].status == "sent" and posted["Lost"].status == "sent"
    assert [m.content.splitlines()[0] for m in announcements.sent] == ["Lost", "Standup"]
    assert not reports

    del guild.texts[:]  # the announcements channel deleted: nothing can be posted, not retried
    await schedule.add("Closing", clock() + timedelta(minutes=10), remind_before=["10m"])
    assert await runner.tick() == 0
    closing = next(p for p in await schedule.posted() if p.title == "Closing")
    assert closing.status == "failed" and "no #announcements channel" in closing.reason
    assert len(reports) == 1 and "Closing" in reports[0] and "not retried" in reports[0]


async def test_a_reminder_refused_for_a_missing_permission_names_it(bot, event_guild):
    guild, announcements, _ = event_guild
    announcements.fail_next = http_error(403, 50013, "Missing Permissions",
                                         path=f"/api/v10/channels/{announcements.id}/messages")
    with pytest.raises(PostFailed) as failed:
        await discord_poster(PosterBot(bot.config, [guild]))(reminder())
    assert failed.value.retryable is False
    assert "View Channel and Send Messages permission in #announcements" in failed.value.reason


async def test_a_team_sees_its_own_interview_slot_and_others_only_the_block(tmp_path, clock, databases, guild):
    """Interview slots ([judging.rounds.interviews]) on /schedule: the block for everyone, the
    team's own slot for its members only."""
    from bot.app import Hackbot
    from bot.config import load_event
    from bot.core.services import Services
    from bot.settings import Settings
    from tests.core.judging_helpers import CLOSES as JUDGING_CLOSES
    from tests.core.judging_helpers import add_project, write_judged_event
    from tests.core.test_interviews import INTERVIEWS

    path = write_judged_event(tmp_path / "interviews", INTERVIEWS)
    db = databases.new()
    services = await Services.open(load_event(path), db, clock=clock)
    settings = Settings(discord_token=None, hackbot_config=path, hackbot_db=db, hackbot_guild_id=None)
    ibot = Hackbot(settings, services.config, services=services, clock=clock, serve_web=False, run_reminders=False)
    await ibot.setup_hook()
    try:
        people = [guild.join(f"captain {n}") for n in range(3)]
        for n, person in enumerate(people):
            team = (await services.teams.create(f"Team {n}", captain=str(person.id))).team
            await add_project(services, team.id, f"Project {n}", "Build")
        await services.judging.register("900", "Judge 900", ["jury"])
        slot = next(s for s in (await services.interviews.book("interview")).slots if s.team == "Team 1")
        clock.set(JUDGING_CLOSES - timedelta(hours=1))

        def interview_fields(reply) -> list[str]:
            return [f.name for f in reply.embed.fields if "nterview" in f.name]

        mine = (await call(ibot, "schedule next", FakeInteraction(ibot, people[1]))).last
        assert interview_fields(mine) == ["Interviews: Interviews", "Your interview (Team 1): Interviews"]
        own = next(f for f in mine.embed.fields if f.name.startswith("Your interview"))
        assert own.value.startswith(stamp(slot.starts)) and f"room {slot.room}" in own.value
        other = (await call(ibot, "schedule all", FakeInteraction(ibot, people[0]))).last  # Team 0 sees its own, not Team 1's
        assert interview_fields(other) == ["Interviews: Interviews", "Your interview (Team 0): Interviews"]
        outsider = (await call(ibot, "schedule next", FakeInteraction(ibot, guild.join("visitor")))).last
        assert interview_fields(outsider) == ["Interviews: Interviews"] and "Team 1" not in outsider.text
    finally:
        await services.close()
