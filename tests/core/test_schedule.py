"""The schedule: the event file's items and the event's automations kept in the database
(idempotently), live items, time zones (AoE, daylight saving) and deadlines the services hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_event
from bot.core.clock import fmt_utc
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.reminders import Reminder, ReminderRunner
from bot.core.schedule import ScheduleService, due_time
from bot.core.services import Services
from bot.core.store import Store
from bot.core.synth import synthesize_event
from bot.posting import discord_time
from tests.core.helpers import CLOSES, REAL, ROWS, T0, Clock, csv_bytes, hidden_y, new_team
from tests.core.reminder_workers import open_schedule, write_schedule_event

START = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Recorder:
    def __init__(self, clock):
        self.clock, self.posts = clock, []

    async def __call__(self, reminder: Reminder) -> None:
        self.posts.append((reminder, self.clock()))


async def rows(store: Store) -> tuple[list, list]:
    return (await store.fetchall("SELECT * FROM schedule_items ORDER BY id"),
            await store.fetchall("SELECT * FROM reminders ORDER BY id"))


async def reminder_rows(store: Store) -> dict[tuple[str, float], tuple[str, datetime]]:
    """(title, offset seconds) -> (status, due)."""
    found = await store.fetchall(
        "SELECT i.title, r.offset_s, r.status, r.due FROM reminders r JOIN schedule_items i ON i.id = r.item_id"
    )
    return {(t, o): (s, datetime.fromtimestamp(d, UTC)) for t, o, s, d in found}


@pytest.fixture
async def live(tmp_path, db):
    """(ScheduleService, clock) over an event with no items, in Europe/Paris."""
    clock = Clock(START)
    store, _, schedule = await open_schedule(
        write_schedule_event(tmp_path / "e", timezone="Europe/Paris"), db, clock
    )
    yield schedule, clock
    await store.close()


# --- the event file ------------------------------------------------------------------------

FILE_V1 = f"""
[teams]
formation_opens = {z(START + timedelta(hours=1))}
formation_closes = {z(START + timedelta(days=1))}

[submissions]
closes = {z(START + timedelta(days=2))}

[[schedule]]
title = "Keynote"
at = {z(START + timedelta(hours=2))}
remind_before = ["1h", "10m"]
mention = ["Participants"]
channel = "talks"

[[schedule]]
title = "Lunch"
at = {z(START + timedelta(hours=3))}
remind_before = ["10m"]

[[schedule]]
title = "Workshop"
at = {z(START + timedelta(hours=5))}
remind_before = ["1h"]

[[schedule]]
title = "Workshop"
at = {z(START + timedelta(hours=6))}
description = "the same title again, later"
"""

FILE_V2 = (
    FILE_V1.replace(f'title = "Keynote"\nat = {z(START + timedelta(hours=2))}',
                    f'title = "Keynote"\nat = {z(START + timedelta(hours=4))}')
    .replace(f'[[schedule]]\ntitle = "Lunch"\nat = {z(START + timedelta(hours=3))}\nremind_before = ["10m"]\n', "")
    .replace(
        'remind_before = ["1h"]\n\n[[schedule]]\ntitle = "Workshop"',
        'remind_before = ["30m"]\n\n[[schedule]]\ntitle = "Workshop"',
    )
)


async def test_sync_from_config_twice_changes_nothing(tmp_path, db):
    clock = Clock(START)
    path = write_schedule_event(tmp_path / "e", extra=FILE_V1)
    store, config, schedule = await open_schedule(path, db, clock)
    try:
        before = await rows(store)
        await schedule.sync_from_config()
        await ScheduleService(store, load_event(path), clock).sync_from_config()  # another start
        assert await rows(store) == before
        titles = [e.title for e in await schedule.items()]
        assert titles == ["Team formation opens", "Keynote", "Lunch", "Workshop", "Workshop",
                          "Team formation closes", "Submissions close"]
        assert [e.source for e in await schedule.items()].count("config") == 4
        assert len(before[1]) == 2 + 1 + 1 + 1 + 3 + 3  # Keynote, Lunch, Workshop, opens, closes x2
    finally:
        await store.close()


async def test_an_edited_event_file_replans_pending_reminders_and_never_resends(tmp_path, db):
    clock = Clock(START)
    store, config, schedule = await open_schedule(write_schedule_event(tmp_path / "e", extra=FILE_V1), db, clock)
    poster = Recorder(clock)
    try:
        clock.set(START + timedelta(hours=1))
        await ReminderRunner(store, config, schedule, poster, clock=clock).tick()
        assert [(r.item.title, r.offset) for r, _ in poster.posts] == [
            ("Keynote", timedelta(hours=1)), ("Team formation opens", timedelta(0))]

        # the organizers move the keynote, drop lunch, change the workshop's reminder; restart
        path2 = write_schedule_event(tmp_path / "e2", extra=FILE_V2)
        schedule2 = ScheduleService(store, load_event(path2), clock)
        await schedule2.sync_from_config()
        planned = await reminder_rows(store)
        assert planned[("Keynote", 3600)] == ("sent", START + timedelta(hours=1))  # kept as it was
        assert planned[("Keynote", 600)] == ("pending", START + timedelta(hours=3, minutes=50))
        assert planned[("Lunch", 600)][0] == "cancelled"
        assert planned[("Workshop", 3600)][0] == "cancelled"
        assert planned[("Workshop", 1800)] == ("pending", START + timedelta(hours=4, minutes=30))
        assert "Lunch" not in [e.title for e in await schedule2.items()]
        [keynote] = [e for e in await schedule2.items() if e.title == "Keynote"]
        assert keynote.at == START + timedelta(hours=4) and keynote.mention == ["Participants"]

        runner = ReminderRunner(store, load_event(path2), schedule2, poster, clock=clock)
        while clock() < START + timedelta(hours=7):
            clock.advance(minutes=10)
            await runner.tick()
        assert [(r.item.title, r.offset, when - START) for r, when in poster.posts[2:]] == [
            ("Keynote", timedelta(minutes=10), timedelta(hours=3, minutes=50)),
            ("Workshop", timedelta(minutes=30), timedelta(hours=4, minutes=30)),
        ]  # the keynote's 1h reminder was not posted a second time
    finally:
        await store.close()


async def test_automations_announce_phases_deadlines_and_the_formation_window(open_services, clock):
    services = await open_services(formation_opens=T0 + timedelta(hours=2), formation_closes=T0 + timedelta(days=1))
    items = {e.title: e for e in await services.schedule.items() if e.source == "automation"}
    first = "Phase 'mock' starts: the competition is open"
    second = "Phase 'real' starts: new datasets, the leaderboard starts from zero"
    assert set(items) == {first, second, "Submissions close", "Team formation opens", "Team formation closes"}
    assert items[first].at == T0 and items[second].at == REAL
    assert items[second].description == "Datasets: 0 (toy), 3 (three), 5 (digits), 12 (late), 888 (big)"
    assert items["Submissions close"].at == CLOSES
    assert items["Submissions close"].remind_before == [timedelta(hours=1), timedelta(minutes=10)]
    assert "label reveals are refused" in items["Submissions close"].description
    with pytest.raises(NotAllowed, match="event file"):
        await services.schedule.edit(items["Submissions close"].id, title="Later")
    with pytest.raises(NotAllowed):
        await services.schedule.remove(items[second].id)

    poster = Recorder(clock)
    runner = ReminderRunner(services.store, services.config, services.schedule, poster, clock=clock)
    while clock() < CLOSES + timedelta(hours=1):
        clock.advance(minutes=10)
        await runner.tick()
    assert [(r.kind, r.item.title, when) for r, when in poster.posts] == [
        ("opens", "Team formation opens", T0 + timedelta(hours=2)),
        ("countdown", "Team formation closes", T0 + timedelta(hours=23)),
        ("countdown", "Team formation closes", T0 + timedelta(hours=23, minutes=50)),
        ("deadline", "Team formation closes", T0 + timedelta(days=1)),
        ("phase", second, REAL),
        ("countdown", "Submissions close", CLOSES - timedelta(hours=1)),
        ("countdown", "Submissions close", CLOSES - timedelta(minutes=10)),
        ("deadline", "Submissions close", CLOSES),
    ]  # the mock phase had started before the bot: not announced an hour late
    countdown = poster.posts[-2][0].text()
    unix = int(CLOSES.timestamp())
    assert countdown.splitlines()[:2] == ["Submissions close", f"at {fmt_utc(CLOSES)}"]
    assert poster.posts[-2][0].text(discord_time).splitlines()[1] == f"at <t:{unix}:F> (<t:{unix}:R>)"


async def test_an_automation_the_event_file_already_has_is_not_doubled(tmp_path, db):
    opens, closes = START + timedelta(days=1), START + timedelta(days=3)
    extra = f"""
[teams]
formation_opens = {z(opens)}

[submissions]
closes = {z(closes)}

[[schedule]]
title = "Team formation opens"
at = {z(opens)}
remind_before = ["1d"]

[[schedule]]
title = "Project submissions due"
at = {z(closes)}
remind_before = ["1d", "1h"]
"""
    store, _, schedule = await open_schedule(write_schedule_event(tmp_path / "e", extra=extra), db, Clock(START))
    try:
        items = [(e.title, e.source, e.remind_before) for e in await schedule.items()]
        assert items == [
            ("Team formation opens", "config", [timedelta(days=1)]),
            ("Project submissions due", "config", [timedelta(days=1), timedelta(hours=1)]),
            ("Submissions close", "automation", [timedelta(minutes=10)]),  # its 1h countdown is the file's
        ]
    finally:
        await store.close()


# --- live items ----------------------------------------------------------------------------

async def test_add_edit_remove_a_live_item(live):
    schedule, clock = live
    changes = []
    schedule.on_change(lambda: changes.append(1))
    at = START + timedelta(days=1)
    item = await schedule.add(
        "  Office   hours ", at, ends=at + timedelta(hours=1), description="Ask us anything", channel="#help",
        mention=["@Participants", "Mentors", "Participants"], link="https://meet.example.org/x",
        remind_before=["10m", timedelta(hours=1), "10m"],
    )
    assert (item.title, item.at, item.ends, item.channel, item.mention, item.source) == (
        "Office hours", at, at + timedelta(hours=1), "help", ["Participants", "Mentors"], "live")
    assert item.remind_before == [timedelta(hours=1), timedelta(minutes=10)]
    assert await reminder_rows(schedule.store) == {
        ("Office hours", 3600): ("pending", at - timedelta(hours=1)),
        ("Office hours", 600): ("pending", at - timedelta(minutes=10)),
    }

    later = at + timedelta(hours=2)
    edited = await schedule.edit(item.id, at=later, ends=None, remind_before=["30m"])
    assert (edited.at, edited.ends, edited.remind_before, edited.description) == (
        later, None, [timedelta(minutes=30)], "Ask us anything")
    assert await reminder_rows(schedule.store) == {
        ("Office hours", 3600): ("cancelled", at - timedelta(hours=1)),
        ("Office hours", 600): ("cancelled", at - timedelta(minutes=10)),
        ("Office hours", 1800): ("pending", later - timedelta(minutes=30)),
    }
    assert (await schedule.items())[0] == edited

    removed = await schedule.remove(item.id)
    assert removed == edited and await schedule.items() == []
    assert {s for s, _ in (await reminder_rows(schedule.store)).values()} == {"cancelled"}
    assert len(changes) == 3
    with pytest.raises(NotFound):
        await schedule.remove(item.id)
    with pytest.raises(NotFound):
        await schedule.edit(999, title="x")


async def test_a_live_item_is_refused_with_a_reason(live):
    schedule, clock = live
    soon = START + timedelta(hours=1)
    cases = [
        (dict(title=" ", at=soon), "title"),
        (dict(title="x", at=soon, ends=soon - timedelta(minutes=1)), "ends"),
        (dict(title="x", at=START - timedelta(hours=2)), "in the past"),
        (dict(title="x", at="tomorrow"), "not a time"),
        (dict(title="x", at=soon, link="example.org"), "https://"),
        (dict(title="x", at=soon, mention=["@everyone"]), "cannot mention @everyone"),
        (dict(title="x", at=soon, remind_before=["5 minutes"]), "not a duration"),
    ]
    for kwargs, message in cases:
        with pytest.raises(BadInput, match=message):
            await schedule.add(kwargs.pop("title"), kwargs.pop("at"), **kwargs)
    item = await schedule.add("x", soon)
    with pytest.raises(BadInput, match="cannot change source"):
        await schedule.edit(item.id, source="config")
    assert len(await schedule.items()) == 1


async def test_upcoming_lists_what_has_not_ended(live):
    schedule, clock = live
    for hours, length in [(1, None), (2, 3), (4, None), (5, None)]:
        at = START + timedelta(hours=hours)
        await schedule.add(f"At {hours}", at, ends=at + timedelta(hours=length) if length else None)
    clock.set(START + timedelta(hours=4, minutes=30))
    assert [e.title for e in await schedule.upcoming()] == ["At 2", "At 5"]  # At 2 runs until 5:00
    assert [e.title for e in await schedule.upcoming(limit=1)] == ["At 2"]
    assert len(await schedule.items()) == 4


async def test_posted_lists_the_newest_first(live):
    schedule, clock = live
    for k in range(3):
        await schedule.add(f"Item {k}", START + timedelta(minutes=10 * (k + 1)), remind_before=["0m"])
    poster = Recorder(clock)
    runner = ReminderRunner(schedule.store, schedule.config, schedule, poster, clock=clock)
    for k in range(3):
        clock.set(START + timedelta(minutes=10 * (k + 1)))
        await runner.tick()
    assert [p.title for p in await schedule.posted()] == ["Item 2", "Item 1", "Item 0"]
    assert [p.title for p in await schedule.posted(limit=2)] == ["Item 2", "Item 1"]


# --- time zones ----------------------------------------------------------------------------

async def test_naive_times_are_in_the_event_timezone_and_aoe_is_utc_minus_12(live):
    schedule, _ = live
    paris = await schedule.add("Paris", "2030-06-03 18:00", remind_before=["1h"])
    assert paris.at == datetime(2030, 6, 3, 16, 0, tzinfo=UTC)  # CEST
    naive = await schedule.add("Naive", datetime(2030, 12, 3, 18, 0))
    assert naive.at == datetime(2030, 12, 3, 17, 0, tzinfo=UTC)  # CET
    aoe = await schedule.add("AoE", "2030-06-04 23:59 AoE")
    assert aoe.at == datetime(2030, 6, 5, 11, 59, tzinfo=UTC)


@pytest.mark.parametrize(("written", "utc_item", "utc_due"), [
    # autumn: 1 day before the Sunday of the change is 25 hours before it
    ("2024-10-27T10:00:00", datetime(2024, 10, 27, 9, 0, tzinfo=UTC), datetime(2024, 10, 26, 8, 0, tzinfo=UTC)),
    # spring: 23 hours before
    ("2024-03-31T10:00:00", datetime(2024, 3, 31, 8, 0, tzinfo=UTC), datetime(2024, 3, 30, 9, 0, tzinfo=UTC)),
])
async def test_a_reminder_across_a_dst_change_fires_at_the_written_local_time(tmp_path, db, written, utc_item, utc_due):
    clock = Clock(utc_due - timedelta(days=2))
    extra = f'[[schedule]]\ntitle = "Ceremony"\nat = {written}\nremind_before = ["1d"]\n'
    store, config, schedule = await open_schedule(
        write_schedule_event(tmp_path / "e", timezone="Europe/Paris", extra=extra), db, clock
    )
    try:
        [item] = await schedule.items()
        assert item.at == utc_item
        poster = Recorder(clock)
        runner = ReminderRunner(store, config, schedule, poster, clock=clock)
        clock.set(utc_due - timedelta(seconds=1))
        assert await runner.tick() == 0
        clock.set(utc_due)
        assert await runner.tick() == 1
        [(reminder, when)] = poster.posts
        local = when.astimezone(PARIS)
        assert (local.hour, local.minute) == (10, 0)  # as written, the day before
        assert reminder.due == utc_due
    finally:
        await store.close()


def test_hours_before_are_exact_hours_across_a_dst_change():
    # 03:30 CEST on the spring-forward night is 01:30 UTC; one hour before is 00:30 UTC
    at = datetime(2024, 3, 31, 3, 30, tzinfo=PARIS)
    assert due_time(at, timedelta(hours=1), PARIS) == datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert due_time(at, timedelta(days=1, hours=1), PARIS) == datetime(2024, 3, 30, 1, 30, tzinfo=UTC)


AOE_EVENT = """
[event]
name = "AoE deadline"
timezone = "UTC"

[teams]
formation_closes = "2024-11-17 23:59 AoE"

[[phases]]
id = "main"
starts = 2024-11-20T00:00:00Z
data_dir = "data"

[[datasets]]
id = 0
name = "toy"
points = 1

[submissions]
closes = "2024-11-24 23:59 AoE"
"""


async def test_an_aoe_deadline_holds_in_the_services_whatever_the_scheduler_does(tmp_path, db):
    path = tmp_path / "event.toml"
    path.write_text(AOE_EVENT, encoding="utf-8")
    synthesize_event(load_event(path, check_data=False), rows=ROWS)
    clock = Clock(datetime(2024, 11, 25, 11, 58, tzinfo=UTC))
    services = await Services.open(load_event(path), db, clock=clock)  # no runner at all
    try:
        data = csv_bytes(hidden_y(services.config, "main", 0))
        blue, _ = await new_team(services, "Blue")
        red, _ = await new_team(services, "Red")
        assert (await services.submissions.submit(blue, 0, "p.csv", data, source="http")).accuracy == 1.0
        clock.set(datetime(2024, 11, 25, 12, 0, tzinfo=UTC))
        with pytest.raises(NotAllowed, match="closed at 2024-11-25 11:59 UTC"):
            await services.submissions.submit(red, 0, "p.csv", data, source="http")
        with pytest.raises(NotAllowed, match="closed"):
            await services.reveals.reveal(red, 0, 1)

        clock.set(datetime(2024, 11, 18, 11, 58, tzinfo=UTC))
        await services.teams.create("Green", captain="u1")
        clock.set(datetime(2024, 11, 18, 12, 0, tzinfo=UTC))
        with pytest.raises(NotAllowed, match="team formation closed"):
            await services.teams.create("Yellow", captain="u2")

        closes = {e.title: e.at for e in await services.schedule.items()}
        assert closes["Submissions close"] == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)
        assert closes["Team formation closes"] == datetime(2024, 11, 18, 11, 59, tzinfo=UTC)
    finally:
        await services.close()
