"""The schedule on the web: GET /schedule (a page) and GET /schedule.ics (a calendar to subscribe to).

The page shows each time in the event's timezone, and a small script adds the viewer's own;
the posted-reminders log (what was posted, late, failed or skipped, and why; how the offline run
without a Discord token shows what it would have posted) is an organizers' page,
GET /organizers/reminders?key=... (an organizer link, as for /organizers/mentoring).
The calendar is iCalendar (RFC 5545) in UTC, one VEVENT per item with a UID stable per item, so
that Google Calendar and Thunderbird update an item rather than duplicate it when a subscription
refreshes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from html import escape

from aiohttp import web
from icalendar import Alarm, Calendar, Event, vDuration

from bot.core.errors import BadInput
from bot.core.schedule import PostedReminder, ScheduleEntry, due_time, merged, web_link
from bot.core.teams import username_for
from bot.web.api import SERVICES
from bot.web.organizers import NAV_CSS, PRIVATE_HEADERS, organizers_nav, refused

POSTED_SHOWN = 50
PRODID = "-//Hackbot//Hackathon schedule//EN"
REFRESH = timedelta(hours=1)  # how often calendar clients should fetch the feed again
_DISCORD_TIME = re.compile(r"&lt;t:(-?\d{1,12})(?::([tTdDfFsSR]))?&gt;")

_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --line: #d0d7de; --muted: #57606a; --now: #1a7f37;
  --bad: #cf222e; --warn: #9a6700; --link: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --line: #30363d; --muted: #9198a1;
  --now: #3fb950; --bad: #ff7b72; --warn: #d29922; --link: #6cb6ff; } }
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 900px; padding: 0 1rem;
  background: var(--bg); color: var(--fg); }
a { color: var(--link); }
.also { color: var(--muted); font-size: .9rem; }
h1 { margin: 0 0 .2rem; font-size: 1.6rem; }
h2 { margin: 1.8rem 0 .6rem; font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.sub { color: var(--muted); margin-bottom: 1rem; }
ol.items { list-style: none; padding: 0; margin: 0; }
li.item { padding: .6rem 0; border-bottom: 1px solid var(--line); }
li.item .title { font-weight: 600; font-size: 1.05rem; }
li.item .when { color: var(--muted); font-variant-numeric: tabular-nums; }
li.item .local { display: block; font-size: .9rem; }
li.item .desc { white-space: pre-wrap; margin-top: .2rem; }
li.past .title { font-weight: 500; }
li.now .title::before { content: "now · "; color: var(--now); }
.empty { color: var(--muted); padding: 1rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.text { white-space: pre-wrap; }
td.text .reason { color: var(--bad); white-space: normal; margin-top: .3rem; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
.status-sent { color: var(--now); } .status-late { color: var(--warn); }
.status-failed { color: var(--bad); } .status-skipped { color: var(--muted); }
"""

# Each <time datetime="..."> keeps the event-timezone text the server wrote; the script adds the
# viewer's own time beside it (class "local"), or replaces a Discord timestamp's text with it.
_SCRIPT = """
(() => {
  const full = new Intl.DateTimeFormat(undefined, {weekday: "short", year: "numeric", month: "short",
    day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  const clock = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const note = document.getElementById("viewer-zone");
  if (note && zone) note.textContent = "Your time zone: " + zone + ".";
  const relative = (date) => {
    const rtf = new Intl.RelativeTimeFormat(undefined, {numeric: "auto"});
    const seconds = (date - Date.now()) / 1000;
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
    }
    return rtf.format(Math.round(seconds), "second");
  };
  for (const el of document.querySelectorAll("time[datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (isNaN(date)) continue;
    if (el.dataset.style) {
      el.title = el.textContent;
      el.textContent = el.dataset.style === "R" ? relative(date) : full.format(date);
      continue;
    }
    if (el.classList.contains("ends")) continue;  // written with its start
    const local = el.parentElement.querySelector(".local");
    if (!local) continue;
    const ends = el.parentElement.querySelector("time.ends");
    let until = "";
    if (ends) {
      const end = new Date(ends.getAttribute("datetime"));
      until = " – " + (end.toDateString() === date.toDateString() ? clock.format(end) : full.format(end));
    }
    local.textContent = "your time: " + full.format(date) + until + " (" + relative(date) + ")";
  }
})();
"""


AOE = timezone(timedelta(hours=-12), "AoE")  # Anywhere on Earth: UTC-12


def _zone_text(when: datetime, tz) -> str:
    """The time in the event's zone; AoE is labelled AoE (not "UTC-12:00"), and a time that is
    23:59 somewhere-on-earth in an event of another zone says so too ("(23:59 AoE)")."""
    local = when.astimezone(tz)
    name = "AoE" if local.utcoffset() == AOE.utcoffset(None) else (local.tzname() or "")
    text = f"{local:%a %d %b %Y, %H:%M} {name}".strip()
    if name != "AoE" and f"{when.astimezone(AOE):%H:%M}" == "23:59":
        text += f" ({when.astimezone(AOE):%a %d %b}, 23:59 AoE)"
    return text


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe_link(link: str | None) -> str | None:
    """Only what core accepts as a web address becomes a link (never a javascript: URL); an older
    row that core would refuse today is shown as text."""
    try:
        return web_link(link)
    except BadInput:
        return None


def _when_html(entry: ScheduleEntry, tz) -> str:
    text = f'<time datetime="{_iso(entry.at)}">{escape(_zone_text(entry.at, tz))}</time>'
    if entry.ends is not None and entry.ends > entry.at:
        ends = entry.ends.astimezone(tz)
        same_day = ends.date() == entry.at.astimezone(tz).date()
        shown = f"{ends:%H:%M} {ends.tzname() or ''}".strip() if same_day else _zone_text(entry.ends, tz)
        text += f' – <time class="ends" datetime="{_iso(entry.ends)}">{escape(shown)}</time>'
    return f'<div class="when">{text}<span class="local"></span></div>'


def _item_html(entry: ScheduleEntry, tz, now: datetime) -> str:
    past = (entry.ends or entry.at) < now
    happening = entry.at <= now and not past and entry.ends is not None
    classes = "item past" if past else ("item now" if happening else "item")
    parts = [f'<li class="{classes}" id="item-{entry.id}">', f'<div class="title">{escape(entry.title)}</div>']
    if entry.also:
        parts.append(f'<div class="also">also: {escape("; ".join(entry.also))}</div>')
    parts.append(_when_html(entry, tz))
    if entry.description:
        parts.append(f'<div class="desc">{escape(entry.description)}</div>')
    link = _safe_link(entry.link)
    if link:
        parts.append(f'<div class="link"><a href="{escape(link)}" rel="noopener">{escape(link)}</a></div>')
    elif entry.link:
        parts.append(f'<div class="link">{escape(entry.link)}</div>')
    parts.append("</li>")
    return "".join(parts)


def _discord_text_html(text: str, tz) -> str:
    """A reminder's text, escaped, with Discord timestamps (<t:UNIX:F>) made readable."""

    def replace(match: re.Match) -> str:
        when = datetime.fromtimestamp(int(match.group(1)), UTC)
        style = match.group(2) or "f"
        return f'<time datetime="{_iso(when)}" data-style="{style}">{escape(_zone_text(when, tz))}</time>'

    return _DISCORD_TIME.sub(replace, escape(text))


def _posted_html(posted: list[PostedReminder], tz) -> str:
    if not posted:
        return '<p class="empty" id="no-reminders">No reminder posted yet.</p>'
    rows = []
    for reminder in posted:
        sent = (
            f'<time datetime="{_iso(reminder.sent_at)}" data-style="f">{escape(_zone_text(reminder.sent_at, tz))}</time>'
            if reminder.sent_at
            else "—"
        )
        reason = f'<div class="reason">{escape(reminder.reason)}</div>' if reminder.reason else ""
        due = f'<time datetime="{_iso(reminder.due)}" data-style="f">{escape(_zone_text(reminder.due, tz))}</time>'
        rows.append(
            f'<tr class="reminder" data-item="{reminder.item_id}"><td class="when">{due}</td><td class="when">{sent}</td>'
            f'<td class="status status-{escape(reminder.status)}">{escape(reminder.status)}</td>'
            f'<td class="item">{escape(reminder.title)}</td>'
            f'<td class="text">{_discord_text_html(reminder.text, tz)}{reason}</td></tr>'
        )
    return (
        '<table id="posted"><thead><tr><th>Due</th><th>Sent</th><th>Status</th><th>Item</th><th>Text</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def render_schedule(
    entries: list[ScheduleEntry], event_name: str, timezone_name: str, tz, now: datetime, *, host: str = "",
) -> str:
    entries = merged(entries)
    upcoming = [e for e in entries if (e.ends or e.at) >= now]
    past = [e for e in entries if (e.ends or e.at) < now]
    upcoming_html = "".join(_item_html(e, tz, now) for e in upcoming) or '<li class="empty">Nothing more is scheduled.</li>'
    past_html = "".join(_item_html(e, tz, now) for e in reversed(past)) or '<li class="empty">Nothing yet.</li>'
    name = escape(event_name)
    zone_label = "AoE (UTC-12)" if timezone_name.strip().lower() == "aoe" else timezone_name
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{name}: every session, deadline and phase, in the event's time and yours.">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="alternate" type="text/calendar" title="{name} schedule" href="/schedule.ics">
<title>{name} schedule</title><style>{_CSS}</style></head>
<body>
<header>
<h1>{name} — schedule</h1>
<p class="sub">Times in the event's timezone, {escape(zone_label)}.
<span id="viewer-zone"></span>
{_calendar_links(host)} · <a href="/">leaderboard</a>
· updated {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</p>
</header>
<main>
<h2>Coming up</h2>
<ol class="items" id="upcoming">{upcoming_html}</ol>
<h2>Past</h2>
<ol class="items" id="past">{past_html}</ol>
</main>
<script>{_SCRIPT}</script>
</body></html>"""


def render_posted(posted: list[PostedReminder], event_name: str, timezone_name: str, tz, now: datetime,
                  nav: str = "") -> str:
    """The organizers' log of the schedule's reminders: when each was due and sent, its status
    (sent, late, failed, skipped) with the reason, and the text as Discord showed it."""
    name = escape(event_name)
    zone_label = "AoE (UTC-12)" if timezone_name.strip().lower() == "aoe" else timezone_name
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>{name}: posted reminders (organizers)</title><style>{_CSS}{NAV_CSS}</style></head>
<body>
{nav}
<header>
<h1>{name}: posted reminders</h1>
<p class="sub">For organizers only: do not share this page's address. The last {POSTED_SHOWN} reminders, \
newest first; times in the event's timezone, {escape(zone_label)}. <span id="viewer-zone"></span>
<a href="/schedule">the public schedule</a> · updated {now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</p>
</header>
<main>
{_posted_html(posted, tz)}
</main>
<script>{_SCRIPT}</script>
</body></html>"""


def _calendar_links(host: str) -> str:
    """Subscribe (webcal://, which calendar apps open and refresh) or download the .ics."""
    subscribe = f'<a href="webcal://{escape(host)}/schedule.ics">Subscribe in your calendar app</a> · ' if host else ""
    return subscribe + '<a href="/schedule.ics">Download the calendar (.ics)</a>'


def _ical_timezone_name(timezone_name: str) -> str | None:
    """X-WR-TIMEZONE wants an IANA name: "AoE" is Etc/GMT+12 (POSIX signs are inverted)."""
    lowered = timezone_name.strip().lower()
    if lowered == "aoe":
        return "Etc/GMT+12"
    if lowered in ("utc", "z"):
        return "UTC"
    return timezone_name.strip()


def uid_slug(event_name: str) -> str:
    """Part of every UID, so that two events' items never overwrite each other in one calendar."""
    return username_for(event_name).replace("_", "-")


def calendar_bytes(entries: list[ScheduleEntry], event_name: str, timezone_name: str, now: datetime,
                   tz=UTC) -> bytes:
    """The schedule as iCalendar: every time in UTC, a VALARM per reminder at the moment the
    Discord reminder is due (an absolute trigger: "1d" before keeps the wall-clock time across a
    daylight-saving change, as the reminders do). No METHOD: a published feed without an ORGANIZER
    fails libical's checks with METHOD:PUBLISH, and a subscription needs no method."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{event_name} schedule")
    zone = _ical_timezone_name(timezone_name)
    if zone:
        cal.add("x-wr-timezone", zone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    stamp = now.astimezone(UTC).replace(microsecond=0)
    event_slug = uid_slug(event_name)
    for entry in merged(entries):
        event = Event()
        event.add("uid", f"item-{entry.id}.{event_slug}@hackbot")
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.at.astimezone(UTC))
        if entry.ends is not None and entry.ends > entry.at:  # a moment (a deadline) has no DTEND
            event.add("dtend", entry.ends.astimezone(UTC))
        event.add("summary", entry.title)
        # Google Calendar ignores URL: the link goes in the description too
        description = "\n\n".join(part for part in (entry.description, entry.link) if part)
        if description:
            event.add("description", description)
        link = _safe_link(entry.link)
        if link:
            event.add("url", link, parameters={"VALUE": "URI"})
        for before in sorted(set(entry.remind_before), reverse=True):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", entry.title)
            # VALUE=DATE-TIME: a TRIGGER is a duration unless it says otherwise (RFC 5545 3.8.6.3);
            # without it libical drops the alarm ("Can't parse as DURATION")
            alarm.add("trigger", due_time(entry.at, before, tz).astimezone(UTC).replace(microsecond=0),
                      parameters={"VALUE": "DATE-TIME"})
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


async def schedule_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    entries = sorted(await services.schedule.items() + await services.interviews.schedule_entries(), key=lambda e: e.at)
    event = services.config.event
    html = render_schedule(entries, event.name, event.timezone, event.tz, services.clock(), host=request.host)
    return web.Response(text=html, content_type="text/html")


async def posted_reminders_page(request: web.Request) -> web.Response:
    """GET /organizers/reminders?key=...: the posted-reminders log, for organizers only."""
    if (no := await refused(request)) is not None:
        return no
    services = request.app[SERVICES]
    posted = await services.schedule.posted(limit=POSTED_SHOWN)
    event = services.config.event
    nav = organizers_nav(request.query.get("key", ""), "/organizers/reminders",
                         projects=services.config.projects is not None)
    html = render_posted(posted, event.name, event.timezone, event.tz, services.clock(), nav)
    return web.Response(text=html, content_type="text/html", headers=PRIVATE_HEADERS)


async def schedule_ics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    event = services.config.event
    entries = await services.schedule.items() + await services.interviews.schedule_entries()  # the block, no team
    body = calendar_bytes(sorted(entries, key=lambda e: e.at), event.name, event.timezone, services.clock(), event.tz)
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": 'inline; filename="schedule.ics"'},
    )
