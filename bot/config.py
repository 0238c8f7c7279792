"""The event file (config/*.toml) and the process settings, as pydantic models.

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
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    except (ZoneInfoNotFoundError, ValueError):
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


class Dataset(Section):
    id: int = Field(ge=0)
    name: str = Field(min_length=1)
    points: float = Field(gt=0)
    default_score: float = Field(default=0.8, ge=0, le=1)
    reveal_budget: int = Field(default=5, ge=0)
    phases: list[str] | None = None  # None: every phase

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
    title: str = Field(min_length=1)
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


class EventConfig(Section):
    event: EventSection
    teams: TeamsSection = TeamsSection()
    phases: list[Phase] = []
    datasets: list[Dataset] = []
    submissions: SubmissionsSection = SubmissionsSection()
    leaderboard: LeaderboardSection = LeaderboardSection()
    schedule: list[ScheduleItem] = []
    discord: DiscordSection = DiscordSection()
    matchmaking: MatchmakingSection = MatchmakingSection()
    base_dir: Path = Path(".")  # the event file's folder; set by load_event, not by the file

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> EventConfig:
        problems: list[tuple[str, str]] = []
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


class Settings(BaseSettings):
    """The process's environment: secrets and where things are. Built in main, passed down."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    hackbot_config: Path | None = None  # no default event: commands ask for one (only `demo` has its own)
    hackbot_db: Path | None = None  # None: .hackbot/<event file name>.sqlite3
    hackbot_guild_id: int | None = None
    hackbot_host: str = "127.0.0.1"
    hackbot_port: int = 8080
    hackbot_public_url: str | None = None  # what participants type, e.g. https://lb.example.org
    hackbot_discord_api: str | None = None  # a Discord-API double (bot/sandbox), e.g. http://127.0.0.1:8765

    @field_validator("discord_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
