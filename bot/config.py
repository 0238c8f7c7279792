"""The event file (config/*.toml), as pydantic models (the process settings: bot/settings.py).

Times in the file are timezone-aware: ISO 8601 with an offset, naive (read in the event's
timezone), a string ending in a zone ("2024-11-24 23:59 AoE"), or relative to the moment the
file is loaded ("now", "now-1h", "now+2d") so that a demo is always live. Durations are
strings such as "1h", "10m", "1h30m". Unknown keys are errors.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.core.repo_checks import RepoPolicy, valid_licence_pattern
from bot.core.urls import repo_host
from bot.core.vote_rules import FlagPolicy, VoterRules

AOE = timezone(timedelta(hours=-12), "AoE")  # Anywhere on Earth: UTC-12 (Etc/GMT+12)
DEFAULT_MAX_SUBMISSION_BYTES = 10 * 1024 * 1024


class ConfigError(Exception):
    """An event file that cannot be used; each problem names the file, the key and the fix."""

    def __init__(self, path: Path | str, problems: list[tuple[str, str]]):
        self.path = str(path)
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s)"]
        lines += [f"  {key}: {message}" for key, message in self.problems]
        return "\n".join(lines)


# --- time and duration values -------------------------------------------------------------

def parse_timezone(name: str) -> tzinfo:
    if name.strip().lower() == "aoe":
        return AOE
    if name.strip().upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise ValueError(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Paris', 'UTC' or 'AoE'"
        ) from None


_DURATION_PART = re.compile(r"([0-9]+)\s*(d|h|m|s)")
_DURATION = re.compile(r"^\s*(([0-9]+)\s*(d|h|m|s)\s*)+$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Bounds that keep every sum of a time and a duration (a reminder before an item, a grace after
# it, "now+7d") within what datetime and the database hold, with room for years of events.
MAX_DURATION = timedelta(days=36_500)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) and len(value) <= 100 and _DURATION.match(value.lower()):
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value.lower()))
        if seconds > MAX_DURATION.total_seconds():
            raise ValueError(f"{value!r} is longer than {MAX_DURATION.days:,} days; write a shorter duration")
        return timedelta(seconds=seconds)
    raise ValueError(f"{str(value)[:60]!r} is not a duration; write it like \"1h\", \"10m\", \"1h30m\" or \"2d\"")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_RELATIVE = re.compile(r"^now\s*(?:([+-])\s*(.+))?$", re.IGNORECASE)
_ZONE_SUFFIX = re.compile(r"^(.*\d)\s+([A-Za-z][A-Za-z_/+-]*)$")


def parse_event_time(value: Any, tz: tzinfo, now: datetime) -> datetime:
    """Any accepted way of writing a time -> an aware datetime in UTC, between 1970 and 9000."""
    try:
        when = _parse_event_time(value, tz, now)
    except OverflowError:
        when = None
    if when is None or not EARLIEST <= when < LATEST:
        raise ValueError(
            f"{str(value)[:60]!r} is out of range: write a time between {EARLIEST:%Y-%m-%d} and "
            f"{LATEST:%Y-%m-%d} (UTC)"
        )
    return when


def _parse_event_time(value: Any, tz: tzinfo, now: datetime) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        relative = _RELATIVE.match(text)
        if relative:
            sign, amount = relative.groups()
            if sign is None:
                return now.astimezone(UTC)
            delta = parse_duration(amount)
            return (now + delta if sign == "+" else now - delta).astimezone(UTC)
        zone = _ZONE_SUFFIX.match(text)
        if zone:
            text, tz = zone.group(1), parse_timezone(zone.group(2))
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{str(value)[:60]!r} is not a time; write ISO 8601 such as 2024-11-22T12:00:00+01:00, "
                "a naive time in the event's timezone, or \"now+1h\""
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        raise ValueError(
            f"{str(value)[:60]!r} is not a time; write a date and time such as 2024-11-22T12:00:00 "
            "(a time of day alone is not enough)"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _event_time(value: Any, info: ValidationInfo) -> datetime:
    context = info.context or {}
    return parse_event_time(value, context.get("tz", UTC), context.get("now") or datetime.now(UTC))


EventTime = Annotated[datetime, BeforeValidator(_event_time)]


# --- the sections of an event file --------------------------------------------------------

class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventSection(Section):
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    description: str = ""
    grace: Duration = timedelta(minutes=15)  # how late a missed reminder may still be posted

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    @property
    def tz(self) -> tzinfo:
        return parse_timezone(self.timezone)


class TeamsSection(Section):
    min_size: int = Field(default=1, ge=1)
    max_size: int = Field(default=5, ge=1)
    require_validation: bool = False
    formation_opens: EventTime | None = None
    formation_closes: EventTime | None = None
    merges_close: EventTime | None = None  # team merges (`hackbot team merge`); None: until submissions close

    @model_validator(mode="after")
    def _bounds(self) -> TeamsSection:
        if self.max_size < self.min_size:
            raise ValueError(f"max_size ({self.max_size}) is below min_size ({self.min_size}); raise max_size")
        return self


class Phase(Section):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = ""
    starts: EventTime
    data_dir: Path | None = None  # relative to the event file's folder


# --- competition controls of a dataset (issue 16) -----------------------------------------
# Several submissions, which one counts, the public/private split, visibility and freeze.
# Every default is Hackathon42's rule: one submission, everything public, a live board.

CountingRule = Literal["best_public", "last", "final_pick"]
Visibility = Literal["live", "hidden", "blind"]
_VISIBILITIES = ("live", "hidden", "blind")


class SubmissionPolicy(Section):
    """A dataset's `submissions`: "one_shot" (one scored submission; a refused file does not
    use it), "unlimited", or limits {per_day = 5, total = 50, count_failed = false}. A day is
    a calendar day in the event's timezone; count_failed also counts refused files."""

    per_day: int | None = Field(default=None, ge=1)
    total: int | None = Field(default=None, ge=1)
    count_failed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value == "one_shot":
                return {"total": 1}
            if value == "unlimited":
                return {}
            raise ValueError(
                f"{value!r} is not a submissions setting; write \"one_shot\", \"unlimited\" or limits "
                "such as { per_day = 5, total = 50, count_failed = false }"
            )
        if isinstance(value, dict) and not {"per_day", "total"} & value.keys():
            unknown = sorted(set(value) - {"count_failed"})
            typo = f" ({', '.join(unknown)} is not a key of it)" if unknown else ""
            raise ValueError(f"set per_day and/or total in the table{typo}, or write submissions = \"unlimited\"")
        return value

    @model_validator(mode="after")
    def _per_day_within_total(self) -> SubmissionPolicy:
        if self.per_day is not None and self.total is not None and self.per_day > self.total:
            raise ValueError(f"per_day ({self.per_day}) is above total ({self.total}); lower per_day or raise total")
        return self

    @property
    def one_shot(self) -> bool:
        """Hackathon42's rule: one scored submission per team, dataset and phase."""
        return self.total == 1 and not self.count_failed


ONE_SHOT = SubmissionPolicy(total=1)


def _visibility(value: Any) -> Any:
    """ "live", "hidden" or "blind" for every phase, or a table of them by phase id."""
    def check(v: Any, where: str) -> None:
        if v not in _VISIBILITIES:
            raise ValueError(f"{where}{v!r} is not a visibility; use \"live\", \"hidden\" or \"blind\"")
    if isinstance(value, dict):
        for phase_id, v in value.items():
            check(v, f"phase {phase_id!r}: ")
    elif value is not None:
        check(value, "")
    return value


def _competition_problems(config: EventConfig) -> list[tuple[str, str]]:
    """What a dataset's competition controls say about the rest of the file."""
    problems: list[tuple[str, str]] = []
    phase_ids = [p.id for p in config.phases]
    closes = config.submissions.closes
    for i, ds in enumerate(config.datasets):
        if isinstance(ds.visibility, dict):
            for phase_id in ds.visibility:
                if phase_id not in phase_ids:
                    known = ", ".join(repr(p) for p in phase_ids) or "none defined"
                    problems.append((f"datasets[{i}].visibility", f"names phase {phase_id!r}, which is not defined "
                                     f"(phases: {known}); fix the name"))
        for key, when in (("freeze", ds.freeze), ("final_pick_closes", ds.final_pick_closes)):
            if when is not None and closes is not None and when > closes:
                problems.append((f"datasets[{i}].{key}", f"{when:%Y-%m-%d %H:%M} UTC is after submissions close "
                                 f"({closes:%Y-%m-%d %H:%M} UTC); move it before the close or remove it"))
    return problems


class Dataset(Section):
    id: int = Field(ge=0)
    name: str = Field(min_length=1)
    points: float = Field(gt=0)
    default_score: float = Field(default=0.8, ge=0, le=1)
    reveal_budget: int = Field(default=5, ge=0)
    phases: list[str] | None = None  # None: every phase
    # competition controls (issue 16; see SubmissionPolicy above)
    submissions: SubmissionPolicy = ONE_SHOT
    counts: CountingRule = "best_public"  # which submission counts; final_pick falls back to best_public
    final_pick_closes: EventTime | None = None  # None: picks close with the submissions
    private_fraction: float = Field(default=0.0, ge=0, lt=1)
    split_seed: int | None = Field(default=None, ge=0, lt=2**64)  # secret, like the labels
    visibility: Annotated[Visibility | dict[str, Visibility] | None, BeforeValidator(_visibility)] = None
    freeze: EventTime | None = None  # after it the public board stops moving

    @model_validator(mode="after")
    def _competition_controls(self) -> Dataset:
        problems: list[tuple[str, str]] = []
        if self.private_fraction > 0 and self.split_seed is None:
            problems.append(("split_seed", "required with a private_fraction: add a secret integer (e.g. the output of "
                             "python -c 'import secrets; print(secrets.randbits(63))') and keep this file private"))
        if self.private_fraction == 0 and self.split_seed is not None:
            problems.append(("split_seed", "has no effect without a private_fraction; remove it or set "
                             "private_fraction (e.g. 0.7)"))
        if self.counts == "final_pick" and self.submissions.one_shot:
            problems.append(("counts", "with one_shot submissions there is only one to count; remove counts or "
                             "allow several submissions"))
        if self.final_pick_closes is not None and self.counts != "final_pick":
            problems.append(("final_pick_closes", f"only used when counts = \"final_pick\" (it is {self.counts!r}); "
                             "set counts or remove final_pick_closes"))
        if problems:
            raise _Problems(problems)
        return self

    def visibility_in(self, phase_id: str, default: Visibility) -> Visibility:
        """The board's visibility for this dataset in a phase; `default`: [leaderboard].visibility."""
        if isinstance(self.visibility, dict):
            return self.visibility.get(phase_id, default)
        return self.visibility or default

    @property
    def folder(self) -> str:
        return f"{self.id:02d}_{self.name}"


class SubmissionsSection(Section):
    opens: EventTime | None = None
    closes: EventTime | None = None
    max_bytes: int = Field(default=DEFAULT_MAX_SUBMISSION_BYTES, gt=0)


class LeaderboardSection(Section):
    visibility: Literal["live", "hidden"] = "live"


class ScheduleItem(Section):
    title: str = Field(min_length=1, max_length=200)  # as the schedule table holds it (bot/core/schedule.MAX_TITLE)
    at: EventTime
    ends: EventTime | None = None
    description: str = ""
    remind_before: list[Duration] = []
    channel: str | None = None
    mention: list[str] = []
    link: str | None = None


class MatchmakingSection(Section):
    """Team matchmaking (/team lfg, /match run, `hackbot match`)."""

    topics: list[str] = []
    target_size: int | None = None  # None: teams.max_size
    max_tz_spread_hours: float = Field(default=6, ge=0, le=26)
    at: EventTime | None = None  # when the matcher runs by itself, on the schedule's clock

    @field_validator("topics")
    @classmethod
    def _distinct_topics(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(t.split()) for t in value]
        if any(not t or len(t) > 100 for t in cleaned):
            raise ValueError("a topic has 1 to 100 characters")
        if len({t.casefold() for t in cleaned}) != len(cleaned):
            raise ValueError("a topic is listed twice; list each once")
        if len(cleaned) > 25:
            raise ValueError("at most 25 topics (a Discord select menu holds 25 options)")
        return cleaned


class DiscordSection(Section):
    organizer_role: str = "Organizers"
    judge_role: str = "Judges"
    announcements_channel: str = "announcements"
    log_channel: str = "hackbot-log"  # organizers only: reminders that could not be posted, ...
    team_category: str = "Teams"


# --- judging and prizes (issue 12) ---------------------------------------------------------
# One block: the panels of judges, the judging rounds, the prizes, and `judging_problems`, the
# checks that need the whole file (EventConfig._consistent calls it).

LEADERBOARD_SOURCE = "leaderboard"
VOTE_SOURCE = "vote"
MANUAL_SOURCE = "manual"
RESERVED_SOURCES = (LEADERBOARD_SOURCE, VOTE_SOURCE, MANUAL_SOURCE)
JudgingMode = Literal["rubric", "ranking", "pairwise"]
Slug = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _reviews_per_project(value: Any) -> Any:
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValueError(
        f"{value!r} is not a number of reviews; write a whole number such as 3, or \"all\" "
        "(every judge of the round's panels reviews every project)"
    )


ReviewsPerProject = Annotated[int | Literal["all"], BeforeValidator(_reviews_per_project)]


def _duplicates(ids: list[str], key: str, what: str) -> list[tuple[str, str]]:
    seen: set[str] = set()
    problems = []
    for i, item in enumerate(ids):
        if item in seen:
            problems.append((f"{key}[{i}].id", f"{what} {item!r} is listed twice; give each {what} its own id"))
        seen.add(item)
    return problems


class Criterion(Section):
    """One criterion of a rubric, scored 1 to 5."""

    id: Slug
    title: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)
    description: str = ""
    levels: list[str] = []  # what 1, 2, 3, 4 and 5 mean, in that order (shown on the judge's form)

    @field_validator("levels")
    @classmethod
    def _five_levels(cls, value: list[str]) -> list[str]:
        if value and (len(value) != 5 or any(not level.strip() for level in value)):
            raise ValueError(f"levels describe the scores 1 to 5: list five non-empty texts (got {len(value)})")
        return value


class ChecklistItem(Section):
    """A rule the reviewer checks (pass / fail with a note); a failure goes to the organizers."""

    id: Slug
    text: str = Field(min_length=1)


class Shortlist(Section):
    """A round's pool drawn from an earlier result: the top `top` overall, the top `per_category`
    of each category, plus (ties) any project statistically tied with the k-th, plus (requests)
    the teams that asked to be heard."""

    source: str = Field(min_length=1)  # an earlier round's id, or "leaderboard"
    top: int = Field(ge=1)
    per_category: int = Field(default=0, ge=0)
    ties: bool = True
    requests: bool = False


class Interviews(Section):
    """A round heard in interviews (Hackathon42: "the jury interviews the top 20 teams"): each team
    of the round's pool is booked into a slot of `minutes` from `starts` (default: the round's
    opens), in `rooms` rooms heard at once; the round's judges are split among the rooms. The
    database holds it: a team is booked once a round, a room hears one team at a time, a judge
    sits in one room (bot/core/interviews.py)."""

    minutes: float | None = Field(default=None, gt=0)  # default: the round's minutes_per_review
    rooms: int = Field(default=1, ge=1, le=50)
    starts: EventTime | None = None
    # each team's members and its room's judges get a direct message this long before the slot
    remind_before: list[Duration] = [timedelta(minutes=10)]

    @field_validator("remind_before")
    @classmethod
    def _before(cls, value: list[timedelta]) -> list[timedelta]:
        if any(d <= timedelta(0) for d in value):
            raise ValueError("reminders come before the slot; give durations such as \"10m\" (or [] for none)")
        return value


class JudgingPanel(Section):
    """A group of judges. Loads are balanced within a panel; a panel with categories or an
    opt-in prize only ever sees those projects (category and sponsor judges)."""

    id: Slug
    title: str = ""
    role: str | None = None  # the Discord role of its members (default: [discord] judge_role)
    categories: list[str] = []  # only projects of these categories (empty: every category)
    opt_in: str | None = None  # only projects that opted into this prize (a prize id)
    expected_judges: int | None = Field(default=None, ge=1)  # for `hackbot judging plan`


class JudgingRound(Section):
    id: Slug
    title: str = ""
    mode: JudgingMode
    opens: EventTime | None = None
    closes: EventTime | None = None
    reviews_per_project: ReviewsPerProject = 3  # pairwise: the comparisons each project is in
    minutes_per_review: float = Field(default=10.0, gt=0)
    judge_hours: float | None = Field(default=None, gt=0)  # what each judge can give this round
    expected_projects: int | None = Field(default=None, ge=1)  # for `hackbot judging plan` (default: estimated)
    panels: list[str] = []  # the panels that judge it (empty: every panel)
    categories: list[str] = []  # the pool: only these categories (empty: every category)
    opt_in: str | None = None  # the pool: only the projects opted into this prize
    shortlist: Shortlist | None = None  # the pool: drawn from an earlier result (None: all eligible)
    criteria: list[Criterion] = []  # rubric mode
    checklist: list[ChecklistItem] = []
    interviews: Interviews | None = None  # the pool is heard in booked interview slots
    # teams (by name) whose projects every judge of the round reviews, to measure each judge's
    # scale (the model's judge offsets); they never win a prize and never enter a shortlist
    calibration: list[str] = []

    @model_validator(mode="after")
    def _coherent(self) -> JudgingRound:
        problems: list[tuple[str, str]] = []
        if self.interviews is not None and self.interviews.starts is None and self.opens is None:
            problems.append(("interviews.starts", "interviews need a start: set the round's opens or interviews.starts"))
        if self.mode == "rubric" and not self.criteria:
            problems.append(("criteria", "a rubric round needs at least one [[judging.rounds.criteria]]; add its criteria"))
        if self.mode != "rubric" and self.criteria:
            problems.append(("criteria", f"a {self.mode} round has no criteria; remove them or set mode = \"rubric\""))
        problems += _duplicates([c.id for c in self.criteria], "criteria", "criterion")
        problems += _duplicates([c.id for c in self.checklist], "checklist", "checklist item")
        seen: set[str] = set()
        for i, team in enumerate(self.calibration):
            key = " ".join(team.split()).casefold()
            if not key:
                problems.append((f"calibration[{i}]", "name a team (its name as in /team info), not an empty text"))
            elif key in seen:
                problems.append((f"calibration[{i}]", f"team {team!r} is listed twice; list each calibration team once"))
            seen.add(key)
        if self.opens and self.closes and self.closes <= self.opens:
            problems.append(("closes", f"closes ({self.closes:%Y-%m-%d %H:%M} UTC) is not after opens "
                                       f"({self.opens:%Y-%m-%d %H:%M} UTC); fix one of them"))
        if self.mode == "pairwise" and self.reviews_per_project == "all":
            problems.append(("reviews_per_project", "a pairwise round needs a number of comparisons per project, not \"all\""))
        if problems:
            raise _Problems(problems)
        return self

    @property
    def weights(self) -> list[float]:
        return [c.weight for c in self.criteria]


class JudgingSimulation(Section):
    """What `hackbot judging plan --simulate` assumes: scores on the 1-5 scale."""

    projects: int | None = Field(default=None, ge=1)  # the projects the organizers expect
    quality_sd: float = Field(default=0.8, gt=0)  # how far projects' true scores spread
    offset_sd: float = Field(default=0.75, ge=0)  # how far judges' generosity spreads
    noise_sd: float = Field(default=0.75, ge=0)  # one judge's disagreement with themself
    runs: int = Field(default=200, ge=1)


class JudgingSection(Section):
    panels: list[JudgingPanel] = []
    rounds: list[JudgingRound] = []  # in the order they run
    simulation: JudgingSimulation = JudgingSimulation()

    @model_validator(mode="after")
    def _coherent(self) -> JudgingSection:
        problems = _duplicates([p.id for p in self.panels], "panels", "panel")
        problems += _duplicates([r.id for r in self.rounds], "rounds", "round")
        panel_ids = [p.id for p in self.panels]
        earlier: list[str] = []
        for i, rnd in enumerate(self.rounds):
            if rnd.id in RESERVED_SOURCES:
                problems.append((f"rounds[{i}].id", f"{rnd.id!r} names a prize source; call the round something else"))
            for name in rnd.panels:
                if name not in panel_ids:
                    known = ", ".join(repr(p) for p in panel_ids) or "none defined"
                    problems.append((f"rounds[{i}].panels", f"panel {name!r} is not defined (panels: {known}); "
                                                            "add a [[judging.panels]] entry or fix the name"))
            if rnd.shortlist and rnd.shortlist.source != LEADERBOARD_SOURCE and rnd.shortlist.source not in earlier:
                known = ", ".join(repr(r) for r in earlier) or "none"
                problems.append((f"rounds[{i}].shortlist.source",
                                 f"{rnd.shortlist.source!r} is neither \"leaderboard\" nor a round listed before this one "
                                 f"(earlier rounds: {known}); fix the name or list the rounds in the order they run"))
            earlier.append(rnd.id)
        if problems:
            raise _Problems(problems)
        return self

    def round(self, round_id: str) -> JudgingRound | None:
        return next((r for r in self.rounds if r.id == round_id), None)

    def panels_of(self, rnd: JudgingRound) -> list[JudgingPanel]:
        """The panels that judge a round (every panel when it names none; one implicit panel,
        `judges`, when the event defines none)."""
        if not self.panels:
            return [JudgingPanel(id="judges", title="Judges")]
        return [p for p in self.panels if not rnd.panels or p.id in rnd.panels]


class Prize(Section):
    """A prize; `[[prizes]]` are listed in the order they are revealed."""

    id: Slug
    title: str = Field(min_length=1)
    places: int = Field(default=1, ge=1)
    source: str = Field(min_length=1)  # "leaderboard", "vote", "manual", or a judging round's id
    category: str | None = None  # only projects of this category compete
    opt_in: bool = False  # only projects that opted into this prize compete
    excludes: list[str] = []  # a winner of one of these prizes cannot win this one (decided after them)
    rewards: list[str] = []  # what each place receives, e.g. ["€700", "€400"]
    description: str = ""

    @model_validator(mode="after")
    def _coherent(self) -> Prize:
        if len(self.rewards) > self.places:
            raise ValueError(f"{len(self.rewards)} rewards for {self.places} place(s); "
                             "list one reward per place or raise places")
        return self


class WinnersSection(Section):
    """How the winners are told: each winning team privately (DM, its channel when DMs are closed,
    and email where its members gave one) at `notify_at` (None: when the organizers confirm the
    results), then the public reveal, one prize at a time (/winners reveal next)."""

    notify_at: EventTime | None = None
    email_subject: str = Field(default="You won a prize", min_length=1, max_length=200)


def judging_problems(config: EventConfig) -> list[tuple[str, str]]:
    """The checks of [judging] and [[prizes]] that need the rest of the file."""
    problems = _duplicates([p.id for p in config.prizes], "prizes", "prize")
    rounds = [r.id for r in config.judging.rounds]
    prize_ids = [p.id for p in config.prizes]
    sources = ", ".join(repr(s) for s in (*RESERVED_SOURCES, *rounds))
    for i, prize in enumerate(config.prizes):
        if prize.source not in RESERVED_SOURCES and prize.source not in rounds:
            problems.append((f"prizes[{i}].source", f"{prize.source!r} is not a source (known: {sources}); "
                                                     "name a judging round's id or fix the spelling"))
        if prize.source == LEADERBOARD_SOURCE and not config.datasets:
            problems.append((f"prizes[{i}].source", "the event has no leaderboard (no [[datasets]]); "
                                                     "choose another source or add the datasets"))
        for other in prize.excludes:
            if other == prize.id:
                problems.append((f"prizes[{i}].excludes", "a prize cannot exclude itself; remove its own id"))
            elif other not in prize_ids:
                problems.append((f"prizes[{i}].excludes", f"{other!r} is not a prize id (prizes: "
                                                           f"{', '.join(repr(p) for p in prize_ids)}); fix the name"))
    cycle = _exclusion_cycle(config.prizes)
    if cycle:
        problems.append(("prizes", f"the exclusions go round in a circle ({' -> '.join(cycle)}): each prize is decided "
                                   "after those it excludes; remove one of them"))
    opt_in_prizes = {p.id for p in config.prizes if p.opt_in}
    opt_ins = [(f"judging.panels[{i}].opt_in", p.opt_in) for i, p in enumerate(config.judging.panels)]
    opt_ins += [(f"judging.rounds[{i}].opt_in", r.opt_in) for i, r in enumerate(config.judging.rounds)]
    for key, opt_in in opt_ins:
        if opt_in is not None and opt_in not in opt_in_prizes:
            known = ", ".join(repr(p) for p in sorted(opt_in_prizes)) or "none"
            problems.append((key, f"{opt_in!r} is not an opt-in prize (opt-in prizes: {known}); "
                                  "set opt_in = true on that prize or fix the name"))
    for i, rnd in enumerate(config.judging.rounds):
        if rnd.shortlist and rnd.shortlist.source == LEADERBOARD_SOURCE and not config.datasets:
            problems.append((f"judging.rounds[{i}].shortlist.source",
                             "the event has no leaderboard (no [[datasets]]); shortlist from a round instead"))
    return problems


def _exclusion_cycle(prizes: list[Prize]) -> list[str]:
    """A cycle in "decided after" (prize -> the prizes it excludes), or []."""
    after = {p.id: [x for x in p.excludes if x != p.id] for p in prizes}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in after.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and nxt in after:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for prize in prizes:
        if prize.id not in state:
            found = visit(prize.id)
            if found:
                return found
    return []


# --- projects, votes, mentoring and perks (issues 11, 13, 14) --------------------------------
# One block: what teams hand in ([projects], [projects.bundles]), the public votes ([[votes]]),
# the help queue ([mentoring]) and the perks handed out by code ([[perks]]); `engagement_problems`
# holds the checks that need the rest of the file (EventConfig._consistent calls it).

ProjectField = Literal["repo", "demo", "description"]
DEFAULT_BUNDLE_BYTES = 10 * 1024 * 1024  # Discord's default upload limit


def _fmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _repeated(ids: list[str], key: str, what: str) -> list[tuple[str, str]]:
    """Plain values listed twice (ids of [[...]] entries: `_duplicates`)."""
    seen: set[str] = set()
    problems = []
    for i, item in enumerate(ids):
        if item.casefold() in seen:
            problems.append((f"{key}[{i}]", f"{what} {item!r} is listed twice; list each once"))
        seen.add(item.casefold())
    return problems


def _labels(value: list[str], what: str, *, max_length: int = 100, max_items: int = 25) -> list[str]:
    """Names shown in a Discord select menu: 1-100 characters, distinct, at most 25."""
    cleaned = [" ".join(v.split()) for v in value]
    if any(not v or len(v) > max_length for v in cleaned):
        raise ValueError(f"a {what} has 1 to {max_length} characters")
    if len({v.casefold() for v in cleaned}) != len(cleaned):
        raise ValueError(f"a {what} is listed twice; list each once")
    if len(cleaned) > max_items:
        raise ValueError(f"at most {max_items} {what}s (a Discord select menu holds {max_items} options)")
    return cleaned


class ProjectBundles(Section):
    """Hackathon42: one zip of code per team, and a written explanation per dataset, for the jury
    and the code review of the top teams. Seen by organizers and judges only."""

    max_bytes: int = Field(default=DEFAULT_BUNDLE_BYTES, gt=0)
    explanations: Literal["per_dataset", "one", "none"] = "per_dataset"
    datasets: list[int] | None = None  # which [[datasets]] need an explanation (None: every one)
    explanation_max_chars: int = Field(default=4000, ge=1, le=4000)  # a Discord text input holds 4000


class ExtraQuestion(Section):
    id: Slug
    question: str = Field(min_length=1, max_length=45)  # a Discord modal label holds 45 characters
    required: bool = False
    max_chars: int = Field(default=1000, ge=1, le=4000)


class RepoCheckSettings(Section):
    """When a repository is flagged for organizers (never refused): see bot/core/repo_checks.py."""

    require_readme: bool = True
    readme_min_bytes: int = Field(default=100, ge=0)
    giant_commit_lines: int = Field(default=5000, ge=1)
    giant_commit_files: int = Field(default=200, ge=1)
    upload_share: float = Field(default=0.5, gt=0, le=1)


class ProjectsSection(Section):
    """What teams hand in for the judged prizes (/project submit, POST /api/projects)."""

    opens: EventTime | None = None
    closes: EventTime | None = None  # the deadline: projects lock; the last version before it counts
    work_starts: EventTime | None = None  # repositories created or first committed before: flagged (default: opens)
    required: list[ProjectField] = ["repo"]  # besides a title and a summary
    repo_hosts: list[str] = ["github.com"]  # "github.com", "gitlab.com", or "gitlab:git.example.org"
    demo_hosts: list[str] = ["youtube.com", "youtu.be", "vimeo.com", "loom.com", "drive.google.com"]
    licences: list[str] = []  # SPDX ids; "GPL-*" matches every GPL; empty: licences are not checked
    categories: list[str] = []  # a team picks exactly one when there are some
    opt_in_prizes: list[Slug] = []  # [[prizes]] ids a team may opt into
    questions: list[ExtraQuestion] = Field(default=[], max_length=5)  # one modal holds 5 inputs
    remind_drafts_before: list[Duration] = [timedelta(hours=24), timedelta(hours=1)]
    checks: RepoCheckSettings = RepoCheckSettings()
    bundles: ProjectBundles | None = None

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return _labels(value, "category")

    @field_validator("repo_hosts")
    @classmethod
    def _repo_hosts(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one host, e.g. repo_hosts = [\"github.com\"]")
        for host in value:
            repo_host(host)  # raises ValueError saying how to write it
        return value

    @field_validator("demo_hosts")
    @classmethod
    def _demo_hosts(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one host, e.g. demo_hosts = [\"youtube.com\"]")
        for host in value:
            if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", host):
                raise ValueError(f"{host!r} is not a host name; write it in lowercase like 'youtube.com'")
        return value

    @field_validator("licences")
    @classmethod
    def _licences(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not valid_licence_pattern(pattern):
                raise ValueError(f"{pattern!r} is not an SPDX id or pattern; write ids such as \"MIT\", \"GPL-*\"")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> ProjectsSection:
        problems: list[tuple[str, str]] = []
        if self.opens and self.closes and self.closes <= self.opens:
            problems.append(("closes", f"closes ({_fmt(self.closes)}) is not after opens ({_fmt(self.opens)}); fix one of them"))
        if self.work_starts and self.closes and self.work_starts >= self.closes:
            problems.append(("work_starts", f"work_starts ({_fmt(self.work_starts)}) is not before closes "
                                            f"({_fmt(self.closes)}); fix one of them"))
        if len(set(self.required)) != len(self.required):
            problems.append(("required", "a field is listed twice; list each once"))
        problems += _repeated(self.opt_in_prizes, "opt_in_prizes", "prize")
        problems += _duplicates([q.id for q in self.questions], "questions", "question")
        if any(d <= timedelta(0) for d in self.remind_drafts_before):
            problems.append(("remind_drafts_before", "reminders come before the deadline; give durations such as \"1h\""))
        if problems:
            raise _Problems(problems)
        return self

    def repo_policy(self) -> RepoPolicy:
        """What the repository checks ask, from this section."""
        c = self.checks
        return RepoPolicy(
            licences=tuple(self.licences),
            work_starts=self.work_starts or self.opens,
            require_readme=c.require_readme,
            readme_min_bytes=c.readme_min_bytes,
            giant_commit_lines=c.giant_commit_lines,
            giant_commit_files=c.giant_commit_files,
            upload_share=c.upload_share,
        )


class VoteEligibility(Section):
    min_account_age: Duration = timedelta(days=7)
    joined_before_open: bool = True
    exclude_own_team: bool = True


class VoteFlags(Section):
    """When ballots are flagged for organizers (they still count): see bot/core/vote_rules.py."""

    new_account_age: Duration = timedelta(days=30)
    burst_window: Duration = timedelta(minutes=2)
    burst_size: int = Field(default=5, ge=2)
    addresses_per_code: int = Field(default=3, ge=2)
    codes_per_address: int = Field(default=10, ge=2)


class Vote(Section):
    """A public vote on the eligible projects (/vote in Discord; /vote/<id> on the web with codes)."""

    id: Slug
    title: str = Field(min_length=1, max_length=100)
    opens: EventTime
    closes: EventTime
    categories: list[str] = []  # the ballot: the eligible projects of these categories (empty: all)
    kind: Literal["approval", "single", "ranked"] = "single"
    max_choices: int | None = Field(default=None, ge=1)  # approval: required; ranked: default the whole ballot
    eligibility: VoteEligibility = VoteEligibility()
    codes: bool = False  # a web page for voters outside the server, with single-use ballot codes
    results: Literal["hidden", "live"] = "hidden"  # hidden: turnout only until the close
    prize: Slug | None = None  # the [[prizes]] id this vote decides
    flags: VoteFlags = VoteFlags()

    @model_validator(mode="after")
    def _coherent(self) -> Vote:
        problems: list[tuple[str, str]] = []
        if self.closes <= self.opens:
            problems.append(("closes", f"closes ({_fmt(self.closes)}) is not after opens ({_fmt(self.opens)}); fix one of them"))
        if self.kind == "approval" and self.max_choices is None:
            problems.append(("max_choices", "an approval vote needs max_choices (how many projects a voter may approve)"))
        if self.kind == "single" and self.max_choices not in (None, 1):
            problems.append(("max_choices", "a single-choice vote takes one choice; "
                                            "remove max_choices or set kind = \"approval\""))
        if problems:
            raise _Problems(problems)
        return self

    def voter_rules(self) -> VoterRules:
        e = self.eligibility
        return VoterRules(e.min_account_age, e.joined_before_open, e.exclude_own_team)

    def flag_policy(self) -> FlagPolicy:
        f = self.flags
        return FlagPolicy(f.new_account_age, f.burst_window, f.burst_size, f.addresses_per_code, f.codes_per_address)


class EscalationStep(Section):
    after: Duration  # since the ticket opened
    notify: Literal["specialists", "mentors", "organizers"]  # specialists: mentors on duty with a matching tag


class MentoringSection(Section):
    """The help queue (/help, /mentor) and, optionally, mentors assigned to teams."""

    tags: list[str] = []  # the expertise a ticket asks for and a mentor offers
    escalation: list[EscalationStep] = [
        EscalationStep(after=timedelta(0), notify="specialists"),
        EscalationStep(after=timedelta(minutes=10), notify="mentors"),
        EscalationStep(after=timedelta(minutes=30), notify="organizers"),
    ]
    stale_after: Duration = timedelta(hours=3)  # an unclaimed ticket closes with a notice (it can be reopened)
    assign_to_teams: bool = False  # /mentor assign proposes a mentor per team
    mentor_role: str = "Mentors"
    queue_channel: str = "mentor-queue"  # mentors and organizers: each ticket's post with its Claim button, the pings
    help_channel: str = "help"  # everyone reads it: the private thread of each claimed ticket lives here

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _labels(value, "tag")

    @model_validator(mode="after")
    def _coherent(self) -> MentoringSection:
        problems: list[tuple[str, str]] = []
        afters = [step.after for step in self.escalation]
        if afters != sorted(afters) or len(set(afters)) != len(afters):
            problems.append(("escalation", "list the steps in the order they come, each later than the one before"))
        if afters and self.stale_after <= afters[-1]:
            problems.append(("stale_after", f"a ticket goes stale before its last escalation step ({afters[-1]}); "
                                            "make stale_after longer"))
        if problems:
            raise _Problems(problems)
        return self


class Perk(Section):
    """Codes handed out once each (`hackbot perks import ID codes.csv`, /perk claim)."""

    id: Slug
    title: str = Field(min_length=1, max_length=100)
    who: Literal["validated_team", "team", "member"] = "validated_team"  # validated: by the organizers (/admin validate)
    description: str = ""  # shown with the code: what it is and how to redeem it
    low_stock: int = Field(default=5, ge=0)  # organizers are warned when this many codes or fewer are left
    opens: EventTime | None = None  # claims open (None: at once)


def engagement_problems(config: EventConfig) -> list[tuple[str, str]]:
    """The checks of [projects], [[votes]], [mentoring] and [[perks]] that need the rest of the file."""
    problems = _duplicates([v.id for v in config.votes], "votes", "vote")
    problems += _duplicates([p.id for p in config.perks], "perks", "perk")
    projects = config.projects
    categories = {c.casefold() for c in projects.categories} if projects else set()
    for i, vote in enumerate(config.votes):
        if projects is None:
            problems.append((f"votes[{i}]", "a vote's ballot is the event's projects: add a [projects] section"))
            continue
        for category in vote.categories:
            if category.casefold() not in categories:
                known = ", ".join(repr(c) for c in projects.categories) or "none defined"
                problems.append((f"votes[{i}].categories", f"{category!r} is not a project category (categories: {known}); "
                                                           "fix the name or add it to [projects] categories"))
    opt_in = [p.id for p in config.prizes if p.opt_in]
    for i, prize_id in enumerate(projects.opt_in_prizes if projects else []):
        if prize_id not in opt_in:
            known = ", ".join(repr(p) for p in opt_in) or "none"
            problems.append((f"projects.opt_in_prizes[{i}]", f"{prize_id!r} is not an opt-in prize (opt-in prizes: {known}); "
                                                             "set opt_in = true on that [[prizes]] entry or fix the name"))
    by_vote = [p.id for p in config.prizes if p.source == VOTE_SOURCE]
    for i, vote in enumerate(config.votes):
        if vote.prize is not None and vote.prize not in by_vote:
            known = ", ".join(repr(p) for p in by_vote) or "none"
            problems.append((f"votes[{i}].prize", f"{vote.prize!r} is not a prize decided by a vote (prizes with "
                                                  f"source = \"vote\": {known}); fix the name or that prize's source"))
    deciding = [v.prize for v in config.votes if v.prize is not None]
    for i, prize_id in enumerate(deciding):
        if prize_id in deciding[:i]:
            problems.append(("votes", f"two votes decide the prize {prize_id!r}; one vote decides a prize"))
    bundles = projects.bundles if projects else None
    if bundles is not None:
        dataset_ids = [d.id for d in config.datasets]
        if bundles.explanations == "per_dataset" and not dataset_ids:
            problems.append(("projects.bundles.explanations", "explanations per dataset need [[datasets]]; "
                                                              "add them or set explanations = \"one\""))
        for ds in bundles.datasets or []:
            if ds not in dataset_ids:
                problems.append(("projects.bundles.datasets", f"dataset {ds} is not defined; fix the id or add that dataset"))
    return problems


class EventConfig(Section):
    event: EventSection
    teams: TeamsSection = TeamsSection()
    phases: list[Phase] = []
    datasets: list[Dataset] = []
    submissions: SubmissionsSection = SubmissionsSection()
    projects: ProjectsSection | None = None  # issue 11: None, the event takes no projects
    votes: list[Vote] = []  # issue 13
    mentoring: MentoringSection | None = None  # issue 14: None, no help queue
    perks: list[Perk] = []  # issue 14
    leaderboard: LeaderboardSection = LeaderboardSection()
    schedule: list[ScheduleItem] = []
    discord: DiscordSection = DiscordSection()
    matchmaking: MatchmakingSection = MatchmakingSection()
    judging: JudgingSection = JudgingSection()  # issue 12: panels, rounds
    prizes: list[Prize] = []  # issue 12: in reveal order
    winners: WinnersSection = WinnersSection()  # issue 12: the private notices before the reveal
    base_dir: Path = Path(".")  # the event file's folder; set by load_event, not by the file

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> EventConfig:
        problems: list[tuple[str, str]] = engagement_problems(self)
        phase_ids = [p.id for p in self.phases]
        for i, phase_id in enumerate(phase_ids):
            if phase_ids.index(phase_id) != i:
                problems.append((f"phases[{i}].id", f"phase {phase_id!r} is listed twice; give each phase its own id"))
        starts = [p.starts for p in self.phases]
        if starts != sorted(starts):
            problems.append(("phases", "phases must be listed in the order they start; reorder them by 'starts'"))
        seen: set[int] = set()
        for i, ds in enumerate(self.datasets):
            if ds.id in seen:
                problems.append((f"datasets[{i}].id", f"dataset {ds.id} is listed twice; remove one or give it another id"))
            seen.add(ds.id)
            for phase_id in ds.phases or []:
                if phase_id not in phase_ids:
                    known = ", ".join(repr(p) for p in phase_ids) or "none defined"
                    problems.append((
                        f"datasets[{i}].phases",
                        f"dataset {ds.id} names phase {phase_id!r}, which is not defined (phases: {known}); "
                        "add a [[phases]] entry or fix the name",
                    ))
        target = self.matchmaking.target_size
        if target is not None and not self.teams.min_size <= target <= self.teams.max_size:
            problems.append((
                "matchmaking.target_size",
                f"{target} is outside the team size bounds [{self.teams.min_size}, {self.teams.max_size}]; "
                "choose a size within them",
            ))
        if self.datasets and not self.phases:
            problems.append(("phases", "datasets need at least one [[phases]] entry with a data_dir"))
        problems += judging_problems(self)
        context = info.context or {}
        if context.get("check_data", True):
            for i, phase in enumerate(self.phases):
                if not any(self.dataset_in_phase(ds, phase.id) for ds in self.datasets):
                    continue
                if phase.data_dir is None:
                    problems.append((f"phases[{i}].data_dir", f"phase {phase.id!r} has datasets but no data_dir; add one"))
                    continue
                folder = self.resolve(phase.data_dir)
                if not folder.is_dir():
                    problems.append((
                        f"phases[{i}].data_dir",
                        f"data folder {folder} does not exist; create it, fix the path (relative to the "
                        "event file), or write synthetic data with `hackbot datasets synth "
                        f"{folder} --config <this file>`",
                    ))
        problems += _competition_problems(self)
        if problems:
            raise _Problems(problems)
        return self

    # --- derived views ------------------------------------------------------------------

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)

    def dataset_in_phase(self, ds: Dataset, phase_id: str) -> bool:
        return ds.phases is None or phase_id in ds.phases

    def datasets_in_phase(self, phase_id: str) -> list[Dataset]:
        return [ds for ds in self.datasets if self.dataset_in_phase(ds, phase_id)]

    def dataset(self, dataset_id: int) -> Dataset | None:
        return next((ds for ds in self.datasets if ds.id == dataset_id), None)

    def phase(self, phase_id: str) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    @property
    def match_target_size(self) -> int:
        return self.matchmaking.target_size or self.teams.max_size

    def phase_at(self, when: datetime) -> Phase | None:
        """The current phase: the last one whose start has passed."""
        current = None
        for phase in self.phases:
            if phase.starts <= when:
                current = phase
        return current


class _Problems(ValueError):
    """Carries several (key, message) problems out of a model validator."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or part in ("str", "datetime", "date"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _problems_from(error: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in error.errors(include_url=False):
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _Problems):
            prefix = _format_loc(err["loc"])
            problems += [(k if prefix == "(top level)" else f"{prefix}.{k}", m) for k, m in ctx_error.problems]
            continue
        key = _format_loc(err["loc"])
        if err["type"] == "extra_forbidden":
            message = "unknown key; remove it or fix its spelling (see DESIGN.md for the event file keys)"
        elif err["type"] == "missing":
            message = "required; add it"
        elif err["type"] == "value_error":
            message = str(ctx_error) if ctx_error else err["msg"]
        else:
            message = f"{err['msg']} (got {_short(err.get('input'))}); change the value"
        problems.append((key, message))
    return problems


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def read_event_text(path: Path) -> str:
    """The event file as text, or ConfigError saying how to save it: TOML files are UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, [("(file)", "not found; check the path or set HACKBOT_CONFIG")]) from None
    except IsADirectoryError:
        raise ConfigError(path, [("(file)", "is a folder; give the path of the event's .toml file")]) from None
    except OSError as exc:
        raise ConfigError(path, [("(file)", f"cannot be read ({exc.strerror}); check its permissions")]) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(path, [("(encoding)", "the file is UTF-16 (as Notepad or PowerShell may save it); "
                                                "save it as UTF-8, which TOML requires")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark: harmless, and some editors add it
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        guess = data[exc.start:exc.start + 1].decode("latin-1")
        raise ConfigError(path, [("(encoding)", (
            f"line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}, {guess!r} in Latin-1); save the file "
            "as UTF-8, which TOML requires (in your editor: Save with encoding, UTF-8)"))]) from None


def load_event(path: Path | str, *, now: datetime | None = None, check_data: bool = True) -> EventConfig:
    """Read and validate an event file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(read_event_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [("(syntax)", f"not valid TOML: {exc}")]) from None
    if "base_dir" in raw:
        raise ConfigError(path, [("base_dir", "unknown key; remove it (paths are relative to the file's folder)")])
    event = raw.get("event")
    try:
        tz = parse_timezone(str(event.get("timezone", "UTC") if isinstance(event, dict) else "UTC"))
    except ValueError:
        tz = UTC  # the field validator reports the bad zone with its key
    context = {"tz": tz, "now": now or datetime.now(UTC), "check_data": check_data}
    try:
        return EventConfig.model_validate({**raw, "base_dir": path.parent.resolve()}, context=context)
    except ValidationError as exc:
        raise ConfigError(path, _problems_from(exc)) from None
