"""GET /schedule (the page) and GET /schedule.ics (the calendar), over real loopback HTTP.

The event runs in Europe/Paris with items from its file, one added live and the event's own
phase starts and deadline. The calendar is read back by a real iCalendar parser (the icalendar
package); the page is rendered by headless Chromium in another time zone (Asia/Tokyo), whose
script must show the viewer's own time. Reminders posted by the offline run (the core's
ReminderRunner with bot.posting.log_poster) are shown on the organizers' page of posted reminders
(/organizers/reminders, with an organizer link), never on the public schedule.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import aiohttp
import icalendar
import pytest

from bot.config import load_event
from bot.core.reminders import ReminderRunner
from bot.core.schedule import due_time, merged
from bot.core.services import Services
from bot.posting import discord_time, log_poster
from bot.web.schedule import render_schedule, uid_slug
from bot.web.server import start_web
from tests.browser import describe
from tests.web.conftest import EVENT_NAME, Server
from tests.web.test_page import chromium

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
KEYNOTE_AT = datetime(2030, 3, 1, 14, 0, tzinfo=UTC)  # 15:00 in Paris, 23:00 in Tokyo
SCHEDULE = """
[[schedule]]
title = "Opening keynote, day 1; welcome"
at = 2030-03-01T15:00:00            # naive: Europe/Paris, i.e. 14:00 UTC
ends = 2030-03-01T16:00:00
description = "Welcome <b>all</b> & co\\nSecond line"
remind_before = ["1h", "10m"]
link = "https://example.org/stream"
mention = ["Participants"]

[[schedule]]
title = "Été: café"
at = 2030-03-02T09:30:00Z

[[schedule]]
title = "Warm-up (already over)"
at = 2030-03-01T08:00:00Z
ends = 2030-03-01T09:00:00Z

[[schedule]]
title = "Odd link"
at = 2030-03-03T10:00:00Z
link = "javascript:alert(1)"
"""


@pytest.fixture
async def schedule_server(write_event, clock, db):
    """The web test event in Europe/Paris, with the schedule above and one live item."""
    path = write_event()
    text = path.read_text(encoding="utf-8").replace('timezone = "UTC"', 'timezone = "Europe/Paris"')
    path.write_text(text + SCHEDULE, encoding="utf-8")
    services = await Services.open(load_event(path), db, clock=clock)
    await services.schedule.add("Live Q&A", clock() + timedelta(hours=3), ends=clock() + timedelta(hours=4),
                                remind_before=["30m"], description="Ask us anything")
    runner = await start_web(services, "127.0.0.1", 0)
    yield Server(services, clock, runner.addresses[0][1], Path("."), runner)
    await runner.cleanup()
    await services.close()


async def get(url: str) -> tuple[int, dict, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as res:
        return res.status, dict(res.headers), await res.read()


def item_ids(html: str, section: str) -> list[int]:
    start = html.index(f'<ol class="items" id="{section}">')
    return [int(i) for i in re.findall(r'id="item-(\d+)"', html[start : html.index("</ol>", start)])]


# --- the calendar -------------------------------------------------------------------------

async def test_ics_parses_and_holds_every_item_in_utc_with_a_stable_uid(schedule_server):
    slug = uid_slug(schedule_server.services.config.event.name)
    status, headers, body = await get(f"{schedule_server.url}/schedule.ics")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]).startswith("-//Hackbot//")
    # no METHOD: METHOD:PUBLISH without an ORGANIZER fails libical's checks; a feed needs none
    assert "METHOD" not in calendar and str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"

    items = merged(await schedule_server.services.schedule.items())
    titles = {e.title for e in items}
    assert {"Opening keynote, day 1; welcome", "Été: café", "Warm-up (already over)", "Live Q&A",
            "Submissions close"} <= titles
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"item-{e.id}.{slug}@hackbot" for e in items}  # every item, once
    for entry in items:
        event = events[f"item-{entry.id}.{slug}@hackbot"]
        start = event.decoded("DTSTART")
        assert start == entry.at and start.utcoffset() == timedelta(0), entry.title
        assert entry.ends is not None  # merged() gives every item an end (a moment ends when it starts)
        assert (event.decoded("DTEND") if "DTEND" in event else entry.at) == entry.ends, entry.title
        assert str(event["SUMMARY"]) == entry.title
        assert event.decoded("DTSTAMP") == schedule_server.clock().replace(microsecond=0)
        # absolute triggers, due when the Discord reminder is (the same wall-clock time across a DST change)
        triggers = sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM"))
        tz = schedule_server.services.config.event.tz
        assert triggers == sorted(due_time(entry.at, b, tz) for b in entry.remind_before), entry.title
        assert all(str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"]) for alarm in event.walk("VALARM"))

    keynote = next(e for e in events.values() if str(e["SUMMARY"]).startswith("Opening keynote"))
    assert keynote.decoded("DTSTART") == KEYNOTE_AT  # written in the event's timezone, served in UTC
    assert str(keynote["URL"]) == "https://example.org/stream"
    description = str(keynote["DESCRIPTION"])
    assert description.startswith("Welcome <b>all</b> & co\nSecond line") and "https://example.org/stream" in description
    odd = next(e for e in events.values() if str(e["SUMMARY"]) == "Odd link")
    assert "URL" not in odd  # only web addresses become links


async def test_ics_is_written_as_rfc_5545_wants_it(schedule_server):
    """What Google Calendar and Thunderbird read: CRLF lines folded at 75 octets, UTC times."""
    _, _, body = await get(f"{schedule_server.url}/schedule.ics")
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in body.replace(b"\r\n", b"")
    body.decode("utf-8")
    unfolded = body.decode().replace("\r\n ", "").split("\r\n")
    times = [line.split(":", 1) for line in unfolded if line.startswith(("DTSTART", "DTEND", "DTSTAMP"))]
    assert times and all(re.fullmatch(r"DT(START|END|STAMP)", name) for name, _ in times)  # no TZID parameter
    assert all(re.fullmatch(r"\d{8}T\d{6}Z", value) for _, value in times)
    assert "SUMMARY:Opening keynote\\, day 1\\; welcome" in unfolded
    items = await schedule_server.services.schedule.items()
    assert unfolded.count("BEGIN:VEVENT") == unfolded.count("END:VEVENT") == len(items)


async def test_the_uid_of_an_item_survives_its_edit_and_a_removed_item_leaves(schedule_server):
    slug = uid_slug(schedule_server.services.config.event.name)
    schedule = schedule_server.services.schedule
    live = next(e for e in await schedule.items() if e.title == "Live Q&A")
    await schedule.edit(live.id, title="Live Q&A (moved)", at=live.at + timedelta(hours=1), ends=None)
    calendar = icalendar.Calendar.from_ical((await get(f"{schedule_server.url}/schedule.ics"))[2])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    moved = events[f"item-{live.id}.{slug}@hackbot"]
    assert str(moved["SUMMARY"]) == "Live Q&A (moved)" and moved.decoded("DTSTART") == live.at + timedelta(hours=1)
    assert moved.decoded("DTEND") == live.at + timedelta(hours=2)  # no end given: an hour, the default
    await schedule.remove(live.id)
    _, _, body = await get(f"{schedule_server.url}/schedule.ics")
    assert f"item-{live.id}.{slug}@hackbot".encode() not in body


# --- the page -----------------------------------------------------------------------------

async def test_page_lists_items_to_come_and_past_in_the_events_timezone(schedule_server):
    status, headers, body = await get(f"{schedule_server.url}/schedule")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    items = {e.title: e for e in await schedule_server.services.schedule.items()}
    assert item_ids(html, "upcoming") == [
        items[t].id for t in ("Opening keynote, day 1; welcome", "Live Q&A", "Été: café",
                              "Odd link", "Phase 'real' starts: new datasets, the leaderboard starts from zero",
                              "Submissions close")
    ]
    # past: most recent first (the mock phase started at 12:00 UTC, the warm-up ended at 09:00)
    assert item_ids(html, "past") == [items["Phase 'mock' starts: the competition is open"].id,
                                      items["Warm-up (already over)"].id]
    assert "Times in the event's timezone, Europe/Paris." in html
    assert '<time datetime="2030-03-01T14:00:00Z">Fri 01 Mar 2030, 15:00 CET</time>' in html
    assert "Welcome &lt;b&gt;all&lt;/b&gt; &amp; co" in html and "<b>all</b>" not in html
    assert '<a href="https://example.org/stream"' in html
    assert 'href="javascript' not in html and "javascript:alert(1)" in html  # shown, not linked
    assert '<a href="/schedule.ics">' in html
    assert "Posted reminders" not in html and 'id="no-reminders"' not in html  # the organizers' page holds them


async def test_the_posted_reminders_are_an_organizers_page(schedule_server):
    """The log of posted reminders opens with an organizer link only, like /organizers/mentoring."""
    base = schedule_server.url
    for url in (f"{base}/organizers/reminders", f"{base}/organizers/reminders?key=nope"):
        status, headers, body = await get(url)
        assert status == 403 and b"hackbot organizers link" in body and b"no-reminders" not in body
        assert headers["Cache-Control"] == "no-store"
    link = await schedule_server.services.organizer_links.create("tests")
    status, headers, body = await get(f"{base}/organizers/reminders?key={link.token}")
    assert status == 200 and b'<p class="empty" id="no-reminders">No reminder posted yet.</p>' in body
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    await schedule_server.services.organizer_links.revoke_all()
    assert (await get(f"{base}/organizers/reminders?key={link.token}"))[0] == 403


async def test_the_offline_run_shows_its_reminders_on_the_page(schedule_server, caplog):
    """No Discord: the runner posts through log_poster; the organizers' page shows what was posted."""
    services, clock = schedule_server.services, schedule_server.clock
    runner = ReminderRunner(services.store, services.config, services.schedule,  # as bot.app's offline run
                            log_poster(logging.getLogger("hackbot.offline")), clock=clock, time_format=discord_time)
    with caplog.at_level(logging.INFO, logger="hackbot.offline"):
        clock.set(KEYNOTE_AT - timedelta(minutes=55))  # the 1h reminder, 5 min late (within the grace)
        assert await runner.tick() == 1
        clock.set(KEYNOTE_AT - timedelta(minutes=10))  # the 10m reminder, on time
        assert await runner.tick() == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "hackbot.offline"]
    assert len(logged) == 2 and all("Opening keynote, day 1; welcome" in m for m in logged)
    assert all("mentioning @Participants" in m for m in logged)

    assert b'id="posted"' not in (await get(f"{schedule_server.url}/schedule"))[2]
    link = await services.organizer_links.create("tests")
    html = (await get(f"{schedule_server.url}/organizers/reminders?key={link.token}"))[2].decode()
    table = html[html.index('<table id="posted">') : html.index("</table>")]
    rows = re.findall(r'<tr class="reminder" data-item="(\d+)">(.*?)</tr>', table, re.S)
    assert len(rows) == 2
    statuses = sorted(re.search(r'class="status status-(\w+)"', row).group(1) for _, row in rows)
    assert statuses == ["late", "sent"]
    for _, row in rows:
        text = unescape(re.search(r'<td class="text">(.*?)</td>', row, re.S).group(1))
        assert "Opening keynote, day 1; welcome" in text
        # the Discord timestamp of the text is readable on the web: a <time>, not <t:...>
        assert '<time datetime="2030-03-01T14:00:00Z" data-style="F">' in text and "<t:" not in text


# --- in a real browser --------------------------------------------------------------------

@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
async def test_page_in_chromium_shows_the_viewers_own_time(schedule_server, tmp_path):
    services, clock = schedule_server.services, schedule_server.clock
    runner = ReminderRunner(services.store, services.config, services.schedule, log_poster(), clock=clock,
                            time_format=discord_time)
    clock.set(KEYNOTE_AT - timedelta(minutes=55))
    assert await runner.tick() == 1
    dom = await chromium(tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom",
                         f"{schedule_server.url}/schedule", tz="Asia/Tokyo")
    assert f"<title>{EVENT_NAME} schedule</title>" in dom
    assert "Your time zone: Asia/Tokyo." in dom
    keynote = dom[dom.index("Opening keynote, day 1; welcome") :]
    local = re.search(r'<span class="local">(.*?)</span>', keynote).group(1)
    # 14:00 UTC is 15:00 in Paris (as the server wrote) and 23:00 in Tokyo (as the script adds)
    assert "Fri 01 Mar 2030, 15:00 CET" in keynote[: keynote.index('<span class="local">')]
    assert local.startswith("your time: ") and "GMT+9" in local
    start, end = local.removeprefix("your time: ").split(" – ")
    assert re.search(r"(11:00\s*PM|23:00)", start) and re.search(r"(12:00\s*AM|00:00)", end)  # ends at 16:00 Paris
    # the posted reminders' Discord timestamps (the organizers' page), in the viewer's time too
    link = await services.organizer_links.create("tests")
    dom = await chromium(tmp_path / "profile2", "--virtual-time-budget=5000", "--dump-dom",
                         f"{schedule_server.url}/organizers/reminders?key={link.token}", tz="Asia/Tokyo")
    posted = dom[dom.index('<table id="posted">') :]
    times = re.findall(r'<time datetime="2030-03-01T14:00:00Z" data-style="F" title="([^"]*)">([^<]*)</time>', posted)
    assert times and all(title == "Fri 01 Mar 2030, 15:00 CET" and "GMT+9" in shown for title, shown in times)


@pytest.mark.usefixtures("axe_js")
async def test_the_posted_reminders_page_passes_axe_light_dark_and_on_a_phone(schedule_server, browser):
    services, clock = schedule_server.services, schedule_server.clock
    runner = ReminderRunner(services.store, services.config, services.schedule, log_poster(), clock=clock,
                            time_format=discord_time)
    clock.set(KEYNOTE_AT - timedelta(minutes=55))  # one late, one on time
    assert await runner.tick() == 1
    clock.set(KEYNOTE_AT - timedelta(minutes=10))
    assert await runner.tick() == 1
    link = await services.organizer_links.create("tests")
    for width, height, mobile, dark in ((1280, 800, False, False), (1280, 800, False, True), (390, 844, True, False)):
        page = await browser.new_page(width, height, mobile=mobile, dark=dark)
        await page.goto(f"{schedule_server.url}/organizers/reminders?key={link.token}")
        violations = await page.axe()
        assert violations == [], f"{width}px ({'dark' if dark else 'light'}):\n{describe(violations)}"
        await page.close()
    page = await browser.new_page(390, 844, mobile=True)
    await page.goto(f"{schedule_server.url}/organizers/reminders")  # the refusal too
    assert await page.axe() == []


def test_two_events_never_share_a_uid():
    """Two Hackbot events imported into one calendar must not overwrite each other's items."""
    assert uid_slug("NumHack") != uid_slug("Hackathon42")
    assert uid_slug("Hackbot demo") == "hackbot-demo"



@pytest.mark.parametrize(("link", "accepted"), [
    ("https://meet.example.org/keynote", True), ("http://example.org", True), ("  https://x.org/a  ", True),
    ("javascript:alert(1)", False), ("https://", False), ("www.example.org", False), ("ftp://example.org", False),
])
def test_one_link_rule_for_the_agenda_form_and_the_page(link, accepted):
    """bot.core.schedule.web_link decides; the page makes an anchor exactly of what it accepts."""
    from bot.core.errors import BadInput
    from bot.core.schedule import web_link
    from bot.web.schedule import _safe_link

    if accepted:
        assert web_link(link) == link.strip() == _safe_link(link)
    else:
        with pytest.raises(BadInput, match="not a web address; write it with https://"):
            web_link(link)
        assert _safe_link(link) is None


# --- issue 15: merged items, end times, AoE, a strict parser, webcal -------------------------

@pytest.fixture
async def numhack_server(tmp_path):
    from tests.core.helpers import Clock

    clock = Clock(now=datetime(2024, 11, 20, 12, tzinfo=UTC))
    services = await Services.open(load_event(REPO / "config/numhack.toml"), str(tmp_path / "nh.sqlite"), clock=clock)
    runner = await start_web(services, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", services
    await runner.cleanup()
    await services.close()


async def test_numhack_schedule_merges_automations_into_the_organizers_items(numhack_server):
    url, services = numhack_server
    items = await services.schedule.items()
    assert {"Team formation closes", "Submissions close"} <= {e.title for e in items}  # the automations exist
    shown = merged(items)
    titles = [e.title for e in shown]
    assert "Team formation closes" not in titles and "Submissions close" not in titles
    registration = next(e for e in shown if e.title == "Registration closes")
    assert registration.also == ("Team formation closes",) and registration.ends == registration.at
    due = next(e for e in shown if e.title.startswith("Project submissions due"))
    assert due.also == ("Submissions close",) and "refused" in due.description
    lengths = {e.title: e.ends - e.at for e in shown}
    assert lengths["Keynote"] == timedelta(minutes=45) and lengths["Demo 1"] == timedelta(minutes=15)
    assert lengths["Workshop: Finetuning Language Models (Andrew Siah)"] == timedelta(minutes=90)
    assert lengths["Charles talk"] == timedelta(minutes=30)

    status, _, body = await get(f"{url}/schedule")
    page = body.decode()
    assert page.count("Registration closes") == 1 and "also: Team formation closes" in page
    assert '<meta http-equiv="refresh"' not in page and "<main>" in page
    # the deadline given as 23:59 AoE says so, though the event's zone is UTC
    assert "Mon 25 Nov 2024, 11:59 UTC (Sun 24 Nov, 23:59 AoE)" in page
    host = url.removeprefix("http://")
    assert f'href="webcal://{host}/schedule.ics"' in page


async def test_the_calendar_passes_a_strict_rfc_5545_parser(numhack_server, schedule_server):
    from ical.calendar_stream import IcsCalendarStream

    for url in (numhack_server[0], schedule_server.url):
        _, _, body = await get(f"{url}/schedule.ics")
        calendar = IcsCalendarStream.calendar_from_ics(body.decode())
        assert calendar.events and all(e.uid and e.dtstart for e in calendar.events)
        assert "METHOD:" not in body.decode()  # METHOD:PUBLISH needs an ORGANIZER (libical); a feed needs none
    titles = [e.summary for e in IcsCalendarStream.calendar_from_ics(
        (await get(f"{numhack_server[0]}/schedule.ics"))[2].decode()).events]
    assert "Registration closes" in titles and "Team formation closes" not in titles


async def test_the_calendar_passes_libicals_checks(numhack_server, schedule_server):
    from tests import libical

    lib = libical.load()
    for url in (numhack_server[0], schedule_server.url):
        _, _, body = await get(f"{url}/schedule.ics")
        assert libical.problems(lib, body) == [], url
        # the check is real: the same feed published with METHOD:PUBLISH and no ORGANIZER fails it
        published = body.replace(b"VERSION:2.0\r\n", b"VERSION:2.0\r\nMETHOD:PUBLISH\r\n", 1)
        assert any("INVALID-ITIP" in p for p in libical.problems(lib, published))


async def test_an_aoe_event_labels_its_times_aoe(tmp_path):
    text = (REPO / "config/numhack.toml").read_text().replace('timezone = "UTC"', 'timezone = "AoE"', 1)
    path = tmp_path / "aoe.toml"
    path.write_text(text)
    services = await Services.open(load_event(path), str(tmp_path / "aoe.sqlite"))
    try:
        html = render_schedule(await services.schedule.items(), "AoE event", "AoE", services.config.event.tz,
                               datetime(2024, 11, 1, tzinfo=UTC))
    finally:
        await services.close()
    assert "Times in the event's timezone, AoE (UTC-12)." in html
    assert "Sun 24 Nov 2024, 23:59 AoE" in html and "UTC-12:00" not in html


async def test_the_interview_block_is_on_the_page_and_in_the_calendar_without_any_team(tmp_path, db, clock):
    """Hackathon42's interviews: the public schedule shows when the jury hears teams, never which
    team is heard when (the slots follow the hidden leaderboard's order)."""
    from tests.core.judging_helpers import CLOSES, teams_with_projects, write_judged_event
    from tests.core.test_interviews import INTERVIEWS

    services = await Services.open(load_event(write_judged_event(tmp_path / "event", INTERVIEWS)), db, clock=clock)
    runner = await start_web(services, "127.0.0.1", 0)
    try:
        await teams_with_projects(services, 3)
        await services.judging.register("900", "Judge 900", ["jury"])
        await services.interviews.book("interview")
        port = runner.addresses[0][1]
        status, _, page = await get(f"http://127.0.0.1:{port}/schedule")
        html = unescape(page.decode())
        assert status == 200 and "Interviews: Interviews" in html and "3 team(s) heard by the jury" in html
        assert "Team 0" not in html and "Team 1" not in html and "Team 2" not in html
        status, _, body = await get(f"http://127.0.0.1:{port}/schedule.ics")
        events = [e for e in icalendar.Calendar.from_ical(body).walk("VEVENT") if str(e["summary"]).startswith("Interviews")]
        assert status == 200 and len(events) == 1 and b"Team " not in body
        assert events[0].decoded("dtstart") == CLOSES and events[0].decoded("dtend") == CLOSES + timedelta(minutes=20)
    finally:
        await runner.cleanup()
        await services.close()
