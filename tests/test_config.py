"""The event file: what an organizer writes in config/*.toml and what the bot makes of it."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, EventConfig, load_event, parse_duration

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

MINIMAL = """
[event]
name = "Test event"
"""


def write(tmp_path: Path, text: str, name: str = "event.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **kwargs) -> EventConfig:
    kwargs.setdefault("now", NOW)
    return load_event(write(tmp_path, text), **kwargs)


def problems_of(tmp_path: Path, text: str, **kwargs) -> dict[str, str]:
    kwargs.setdefault("now", NOW)
    with pytest.raises(ConfigError) as info:
        load_event(write(tmp_path, text), **kwargs)
    return dict(info.value.problems)


def with_phase(extra: str = "", *, data_dir: str | None = None, tz: str = "UTC") -> str:
    folder = f'data_dir = "{data_dir}"\n' if data_dir else ""
    return f"""
[event]
name = "Test event"
timezone = "{tz}"

[[phases]]
id = "main"
starts = 2024-01-01T00:00:00Z
{folder}
{extra}
"""


# --- refusals ------------------------------------------------------------------------------

def test_unknown_top_level_key_is_refused(tmp_path):
    problems = problems_of(tmp_path, "leaderbord = 1\n" + MINIMAL)
    assert list(problems) == ["leaderbord"]
    assert "unknown key" in problems["leaderbord"] and "remove it" in problems["leaderbord"]


def test_unknown_key_in_event_is_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + 'time_zone = "Europe/Paris"\n')
    assert list(problems) == ["event.time_zone"]
    assert "unknown key" in problems["event.time_zone"]
    assert "spelling" in problems["event.time_zone"]


def test_unknown_key_in_a_dataset_is_refused(tmp_path):
    text = with_phase('[[datasets]]\nid = 0\nname = "toy"\npoints = 1\npoint = 2\n')
    problems = problems_of(tmp_path, text, check_data=False)
    assert list(problems) == ["datasets[0].point"]
    assert "unknown key" in problems["datasets[0].point"]


def test_base_dir_cannot_be_set_by_the_file(tmp_path):
    problems = problems_of(tmp_path, 'base_dir = "/etc"\n' + MINIMAL)
    assert "base_dir" in problems
    assert "remove it" in problems["base_dir"]


def test_event_section_of_the_wrong_shape_is_reported_not_a_crash(tmp_path):
    problems = problems_of(tmp_path, 'event = "Hackathon"\n')
    assert "event" in problems
    assert "change the value" in problems["event"]
    problems = problems_of(tmp_path, '[[event]]\nname = "Hackathon"\n')
    assert "event" in problems


def test_missing_event_name_is_refused(tmp_path):
    problems = problems_of(tmp_path, '[event]\ntimezone = "UTC"\n')
    assert problems == {"event.name": "required; add it"}


def test_dataset_listed_twice_is_refused(tmp_path):
    text = with_phase(
        '[[datasets]]\nid = 3\nname = "a"\npoints = 1\n'
        '[[datasets]]\nid = 3\nname = "b"\npoints = 2\n'
    )
    problems = problems_of(tmp_path, text, check_data=False)
    assert list(problems) == ["datasets[1].id"]
    assert "listed twice" in problems["datasets[1].id"]
    assert "another id" in problems["datasets[1].id"]


def test_phase_listed_twice_is_refused(tmp_path):
    text = with_phase('[[phases]]\nid = "main"\nstarts = 2024-02-01T00:00:00Z\n')
    problems = problems_of(tmp_path, text)
    assert "phases[1].id" in problems
    assert "listed twice" in problems["phases[1].id"]


def test_dataset_naming_an_unknown_phase_is_refused(tmp_path):
    text = with_phase('[[datasets]]\nid = 0\nname = "toy"\npoints = 1\nphases = ["rael"]\n')
    problems = problems_of(tmp_path, text, check_data=False)
    assert list(problems) == ["datasets[0].phases"]
    message = problems["datasets[0].phases"]
    assert "'rael'" in message and "'main'" in message  # names the typo and the known phases
    assert "add a [[phases]] entry or fix the name" in message


def test_datasets_without_any_phase_are_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + '[[datasets]]\nid = 0\nname = "toy"\npoints = 1\n')
    assert "phases" in problems
    assert "[[phases]]" in problems["phases"]


@pytest.mark.parametrize("points", ["0", "-1"])
def test_points_must_be_positive(tmp_path, points):
    text = with_phase(f'[[datasets]]\nid = 0\nname = "toy"\npoints = {points}\n')
    problems = problems_of(tmp_path, text, check_data=False)
    assert list(problems) == ["datasets[0].points"]
    message = problems["datasets[0].points"]
    assert "greater than 0" in message and points in message and "change the value" in message


@pytest.mark.parametrize("score", ["-0.1", "1.5"])
def test_default_score_must_be_between_0_and_1(tmp_path, score):
    text = with_phase(f'[[datasets]]\nid = 0\nname = "toy"\npoints = 1\ndefault_score = {score}\n')
    problems = problems_of(tmp_path, text, check_data=False)
    assert list(problems) == ["datasets[0].default_score"]
    message = problems["datasets[0].default_score"]
    assert score in message and "change the value" in message
    assert ("greater than or equal to 0" in message) or ("less than or equal to 1" in message)


@pytest.mark.parametrize("score", ["0", "1", "0.5"])
def test_default_score_bounds_are_inclusive(tmp_path, score):
    text = with_phase(f'[[datasets]]\nid = 0\nname = "toy"\npoints = 1\ndefault_score = {score}\n')
    config = load(tmp_path, text, check_data=False)
    assert config.datasets[0].default_score == float(score)


def test_missing_data_folder_is_refused_unless_data_is_not_checked(tmp_path):
    text = with_phase('[[datasets]]\nid = 0\nname = "toy"\npoints = 1\n', data_dir="datasets")
    problems = problems_of(tmp_path, text)
    assert list(problems) == ["phases[0].data_dir"]
    message = problems["phases[0].data_dir"]
    assert str(tmp_path / "datasets") in message  # resolved next to the event file
    assert "does not exist" in message and "create it" in message
    assert "hackbot datasets synth" in message

    config = load(tmp_path, text, check_data=False)
    assert config.resolve(config.phases[0].data_dir) == tmp_path.resolve() / "datasets"

    (tmp_path / "datasets").mkdir()
    assert load(tmp_path, text).phases[0].data_dir == Path("datasets")


def test_phase_with_datasets_but_no_data_dir_is_refused(tmp_path):
    problems = problems_of(tmp_path, with_phase('[[datasets]]\nid = 0\nname = "toy"\npoints = 1\n'))
    assert list(problems) == ["phases[0].data_dir"]
    assert "add one" in problems["phases[0].data_dir"]


def test_phase_without_datasets_needs_no_data_folder(tmp_path):
    text = with_phase(
        '[[phases]]\nid = "later"\nstarts = 2024-02-01T00:00:00Z\ndata_dir = "nowhere"\n'
        '[[datasets]]\nid = 0\nname = "toy"\npoints = 1\nphases = ["main"]\n',
        data_dir="here",
    )
    (tmp_path / "here").mkdir()
    assert [p.id for p in load(tmp_path, text).phases] == ["main", "later"]


def test_max_size_below_min_size_is_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + "[teams]\nmin_size = 3\nmax_size = 2\n")
    assert list(problems) == ["teams"]
    assert "max_size (2) is below min_size (3)" in problems["teams"]
    assert "raise max_size" in problems["teams"]


def test_unknown_timezone_is_refused(tmp_path):
    problems = problems_of(tmp_path, '[event]\nname = "x"\ntimezone = "Europe/Pariss"\n')
    assert list(problems) == ["event.timezone"]
    message = problems["event.timezone"]
    assert "'Europe/Pariss'" in message and "Europe/Paris" in message and "AoE" in message


def test_unknown_timezone_in_a_time_string_is_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + '[submissions]\ncloses = "2024-11-24 23:59 Mars"\n')
    assert list(problems) == ["submissions.closes"]
    assert "unknown timezone 'Mars'" in problems["submissions.closes"]


def test_bad_duration_in_remind_before_is_refused(tmp_path):
    text = MINIMAL + '[[schedule]]\ntitle = "Keynote"\nat = 2024-11-22T12:00:00Z\nremind_before = ["1h", "5 minutes"]\n'
    problems = problems_of(tmp_path, text)
    assert list(problems) == ["schedule[0].remind_before[1]"]
    message = problems["schedule[0].remind_before[1]"]
    assert "'5 minutes' is not a duration" in message and '"10m"' in message


@pytest.mark.parametrize("value", ['"next friday"', '"2024-13-01T00:00:00"', '"now+soon"'])
def test_bad_time_string_is_refused(tmp_path, value):
    problems = problems_of(tmp_path, MINIMAL + f"[submissions]\ncloses = {value}\n")
    assert list(problems) == ["submissions.closes"]
    message = problems["submissions.closes"]
    assert "write" in message  # says how to write it
    assert ("ISO 8601" in message) or ("duration" in message)


def test_time_of_day_without_a_date_is_refused(tmp_path):
    problems = problems_of(tmp_path, MINIMAL + "[submissions]\ncloses = 18:00:00\n")
    assert list(problems) == ["submissions.closes"]
    assert "is not a time; write" in problems["submissions.closes"]


def test_bad_time_in_a_phase_names_the_phase(tmp_path):
    text = MINIMAL + '[[phases]]\nid = "main"\nstarts = "sunday 2pm"\n'
    problems = problems_of(tmp_path, text)
    assert list(problems) == ["phases[0].starts"]
    assert "ISO 8601" in problems["phases[0].starts"]


def test_phases_out_of_order_are_refused(tmp_path):
    text = MINIMAL + (
        '[[phases]]\nid = "real"\nstarts = 2022-10-16T14:00:00\n'
        '[[phases]]\nid = "mock"\nstarts = 2022-10-14T18:00:00\n'
    )
    problems = problems_of(tmp_path, text)
    assert list(problems) == ["phases"]
    assert "in the order they start" in problems["phases"] and "reorder" in problems["phases"]


def test_invalid_toml_is_refused(tmp_path):
    problems = problems_of(tmp_path, '[event]\nname = "unterminated\n')
    assert list(problems) == ["(syntax)"]
    assert "not valid TOML" in problems["(syntax)"]
    assert "line 2" in problems["(syntax)"]  # points at the place to fix


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_event(path)
    assert info.value.problems == [("(file)", "not found; check the path or set HACKBOT_CONFIG")]
    assert str(path) in str(info.value)


def test_several_field_problems_are_reported_at_once(tmp_path):
    text = """
typo = 1

[event]
name = "x"
timezone = "Nowhere/Land"

[teams]
min_size = 4
max_size = 2

[[datasets]]
id = 0
name = "toy"
points = 0
default_score = 2

[[schedule]]
title = "Keynote"
at = "tomorrow"
remind_before = ["soon"]
"""
    problems = problems_of(tmp_path, text)
    assert set(problems) == {
        "typo",
        "event.timezone",
        "teams",
        "datasets[0].points",
        "datasets[0].default_score",
        "schedule[0].at",
        "schedule[0].remind_before[0]",
    }


def test_several_consistency_problems_are_reported_at_once(tmp_path):
    text = MINIMAL + """
[[phases]]
id = "real"
starts = 2022-10-16T14:00:00
data_dir = "missing2"

[[phases]]
id = "mock"
starts = 2022-10-14T18:00:00
data_dir = "missing"

[[datasets]]
id = 1
name = "a"
points = 1
phases = ["final"]

[[datasets]]
id = 1
name = "b"
points = 1
"""
    with pytest.raises(ConfigError) as info:
        load_event(write(tmp_path, text), now=NOW)
    problems = dict(info.value.problems)
    assert set(problems) == {
        "phases",
        "datasets[0].phases",
        "datasets[1].id",
        "phases[0].data_dir",
        "phases[1].data_dir",
    }
    rendered = str(info.value)
    assert rendered.startswith(f"{tmp_path / 'event.toml'}: 5 problem(s)")
    assert "datasets[1].id: dataset 1 is listed twice" in rendered


# --- times ---------------------------------------------------------------------------------

def closes(tmp_path: Path, value: str, tz: str = "UTC", now: datetime = NOW) -> datetime:
    text = f'[event]\nname = "x"\ntimezone = "{tz}"\n[submissions]\ncloses = {value}\n'
    result = load(tmp_path, text, now=now).submissions.closes
    assert result.utcoffset() == timedelta(0)
    return result


def test_iso_time_with_offset_is_kept_exactly(tmp_path):
    # The event's timezone does not override an explicit offset.
    expected = datetime(2024, 11, 22, 11, 0, tzinfo=UTC)
    assert closes(tmp_path, "2024-11-22T12:00:00+01:00", tz="America/New_York") == expected
    assert closes(tmp_path, '"2024-11-22T12:00:00+01:00"', tz="America/New_York") == expected
    assert closes(tmp_path, "2024-11-22T12:00:00Z", tz="Europe/Paris") == datetime(2024, 11, 22, 12, tzinfo=UTC)
    assert closes(tmp_path, '"2024-11-22T12:00:00Z"', tz="Europe/Paris") == datetime(2024, 11, 22, 12, tzinfo=UTC)


def test_naive_time_is_read_in_the_event_timezone(tmp_path):
    # October in Paris is summer time (UTC+2), January is winter time (UTC+1).
    assert closes(tmp_path, "2022-10-16T14:00:00", tz="Europe/Paris") == datetime(2022, 10, 16, 12, tzinfo=UTC)
    assert closes(tmp_path, '"2022-10-16T14:00:00"', tz="Europe/Paris") == datetime(2022, 10, 16, 12, tzinfo=UTC)
    assert closes(tmp_path, "2023-01-15T14:00:00", tz="Europe/Paris") == datetime(2023, 1, 15, 13, tzinfo=UTC)


def test_naive_time_defaults_to_utc(tmp_path):
    text = MINIMAL + "[submissions]\ncloses = 2024-11-22T12:00:00\n"
    assert load(tmp_path, text).submissions.closes == datetime(2024, 11, 22, 12, tzinfo=UTC)


def test_aoe_timezone_is_utc_minus_12(tmp_path):
    assert closes(tmp_path, "2024-11-24T23:59:00", tz="AoE") == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)


def test_time_string_with_aoe_zone(tmp_path):
    assert closes(tmp_path, '"2024-11-24 23:59 AoE"') == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)
    # The zone in the string wins over the event's timezone.
    assert closes(tmp_path, '"2024-11-24 23:59 AoE"', tz="Europe/Paris") == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)


def test_time_string_with_iana_zone(tmp_path):
    # Los Angeles in December is PST, UTC-8.
    assert closes(tmp_path, '"2024-12-05 09:00 America/Los_Angeles"') == datetime(2024, 12, 5, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, delta",
    [
        ('"now"', timedelta(0)),
        ('"now-1h"', -timedelta(hours=1)),
        ('"now+2d"', timedelta(days=2)),
        ('"now + 1h30m"', timedelta(hours=1, minutes=30)),
        ('"NOW-10m"', -timedelta(minutes=10)),
    ],
)
def test_relative_times_count_from_the_load_moment(tmp_path, value, delta):
    assert closes(tmp_path, value) == NOW + delta
    later = NOW + timedelta(days=30)
    assert closes(tmp_path, value, now=later) == later + delta


def test_relative_times_ignore_the_event_timezone_and_come_out_in_utc(tmp_path):
    paris_now = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    result = closes(tmp_path, '"now+1h"', tz="Europe/Paris", now=paris_now)
    assert result == datetime(2024, 6, 1, 13, 0, tzinfo=UTC)


def test_date_only_values_mean_midnight_in_the_event_timezone(tmp_path):
    assert closes(tmp_path, "2024-11-25") == datetime(2024, 11, 25, tzinfo=UTC)
    assert closes(tmp_path, "2024-01-22", tz="Europe/Paris") == datetime(2024, 1, 21, 23, tzinfo=UTC)
    assert closes(tmp_path, "2024-11-24", tz="AoE") == datetime(2024, 11, 24, 12, tzinfo=UTC)


def test_times_everywhere_use_the_event_timezone(tmp_path):
    text = """
[event]
name = "x"
timezone = "Europe/Paris"

[teams]
formation_opens = 2022-10-01T09:00:00
formation_closes = "2022-10-14 18:00"

[[phases]]
id = "mock"
starts = 2022-10-14T18:00:00

[submissions]
opens = 2022-10-14
closes = 2022-10-16T18:00:00

[[schedule]]
title = "Closing"
at = 2022-10-16T18:00:00
ends = 2022-10-16T19:00:00
"""
    config = load(tmp_path, text)
    assert config.teams.formation_opens == datetime(2022, 10, 1, 7, tzinfo=UTC)
    assert config.teams.formation_closes == datetime(2022, 10, 14, 16, tzinfo=UTC)
    assert config.phases[0].starts == datetime(2022, 10, 14, 16, tzinfo=UTC)
    assert config.submissions.opens == datetime(2022, 10, 13, 22, tzinfo=UTC)
    assert config.submissions.closes == datetime(2022, 10, 16, 16, tzinfo=UTC)
    assert config.schedule[0].at == datetime(2022, 10, 16, 16, tzinfo=UTC)
    assert config.schedule[0].ends == datetime(2022, 10, 16, 17, tzinfo=UTC)


# --- durations -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("1h", timedelta(hours=1)),
        ("10m", timedelta(minutes=10)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        ("1d 2h", timedelta(days=1, hours=2)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5 minutes", "1 hour", "h", "", "1.5h", "-1h", "10"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_durations_in_the_file(tmp_path):
    text = """
[event]
name = "x"
grace = "30m"

[[schedule]]
title = "Keynote"
at = 2024-11-22T12:00:00Z
remind_before = ["1d", "1h30m", "45s"]
"""
    config = load(tmp_path, text)
    assert config.event.grace == timedelta(minutes=30)
    assert config.schedule[0].remind_before == [timedelta(days=1), timedelta(hours=1, minutes=30), timedelta(seconds=45)]


def test_defaults(tmp_path):
    config = load(tmp_path, MINIMAL)
    assert config.event.timezone == "UTC"
    assert config.event.grace == timedelta(minutes=15)
    assert (config.teams.min_size, config.teams.max_size) == (1, 5)
    assert config.phases == [] and config.datasets == [] and config.schedule == []
    assert config.submissions.max_bytes == 10 * 1024 * 1024
    assert config.leaderboard.visibility == "live"
    assert config.base_dir == tmp_path.resolve()


# --- derived views -------------------------------------------------------------------------

THREE_PHASES = """
[event]
name = "x"

[[phases]]
id = "mock"
starts = 2024-01-01T00:00:00Z

[[phases]]
id = "real"
starts = 2024-01-02T00:00:00Z

[[phases]]
id = "final"
starts = 2024-01-03T00:00:00Z

[[datasets]]
id = 0
name = "everywhere"
points = 1

[[datasets]]
id = 1
name = "real_only"
points = 2
phases = ["real"]

[[datasets]]
id = 2
name = "real_and_final"
points = 3
phases = ["real", "final"]
"""


def test_phase_at(tmp_path):
    config = load(tmp_path, THREE_PHASES, check_data=False)

    def at(*args):
        phase = config.phase_at(datetime(*args, tzinfo=UTC))
        return phase.id if phase else None

    assert at(2023, 12, 31, 23, 59) is None
    assert at(2024, 1, 1) == "mock"  # a phase has started at its start time
    assert at(2024, 1, 1, 23, 59, 59) == "mock"
    assert at(2024, 1, 2) == "real"
    assert at(2024, 1, 2, 12) == "real"
    assert at(2024, 1, 3) == "final"
    assert at(2030, 1, 1) == "final"


def test_phase_at_without_phases(tmp_path):
    assert load(tmp_path, MINIMAL).phase_at(NOW) is None


def test_datasets_in_phase(tmp_path):
    config = load(tmp_path, THREE_PHASES, check_data=False)
    assert [ds.id for ds in config.datasets_in_phase("mock")] == [0]
    assert [ds.id for ds in config.datasets_in_phase("real")] == [0, 1, 2]
    assert [ds.id for ds in config.datasets_in_phase("final")] == [0, 2]
    assert config.dataset(1).name == "real_only"
    assert config.dataset(99) is None
    assert config.phase("final").starts == datetime(2024, 1, 3, tzinfo=UTC)
    assert config.phase("nope") is None
    assert config.dataset(2).folder == "02_real_and_final"


# --- the presets ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["hackathon42", "numhack", "astroxml", "demo"])
def test_presets_load(name):
    config = load_event(CONFIG_DIR / f"{name}.toml", check_data=False)
    assert config.event.name
    assert config.base_dir == CONFIG_DIR


def test_hackathon42_preset():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    points = {0: 1, 1: 1, 2: 1, 3: 2, 4: 1, 5: 2, 6: 1, 8: 1, 12: 3, 13: 3, 23: 3, 456: 3, 888: 5, 999: 6}
    assert [ds.id for ds in config.datasets] == sorted(points)
    assert {ds.id: ds.points for ds in config.datasets} == points
    assert {ds.id: ds.default_score for ds in config.datasets} == {
        i: (0.5 if i in (888, 999) else 0.8) for i in points
    }
    assert all(ds.reveal_budget == 5 for ds in config.datasets)

    assert [p.id for p in config.phases] == ["mock", "real"]
    assert [p.data_dir for p in config.phases] == [Path("datasets"), Path("datasets2")]
    real = config.phase("real")
    assert real.starts == datetime(2022, 10, 16, 12, 0, tzinfo=UTC)  # Sunday 14:00 in Paris (CEST)
    assert real.starts.astimezone(config.event.tz).weekday() == 6
    assert config.phase("mock").starts == datetime(2022, 10, 14, 16, 0, tzinfo=UTC)

    assert [ds.id for ds in config.datasets_in_phase("real")] == sorted(points)
    assert [ds.id for ds in config.datasets_in_phase("mock")] == sorted(set(points) - {12})
    assert config.dataset(12).phases == ["real"]

    assert config.teams.require_validation is True
    assert config.submissions.closes == datetime(2022, 10, 16, 16, 0, tzinfo=UTC)
    assert config.phase_at(datetime(2022, 10, 16, 11, 59, tzinfo=UTC)).id == "mock"
    assert config.phase_at(datetime(2022, 10, 16, 12, 0, tzinfo=UTC)).id == "real"


def test_hackathon42_preset_checks_its_data_folders(tmp_path):
    text = (CONFIG_DIR / "hackathon42.toml").read_text(encoding="utf-8")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_event(path)
    assert {key for key, _ in info.value.problems} == {"phases[0].data_dir", "phases[1].data_dir"}
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets2").mkdir()
    assert len(load_event(path).datasets) == 14


def test_numhack_preset():
    config = load_event(CONFIG_DIR / "numhack.toml", check_data=False)
    assert config.submissions.closes == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)
    assert (config.teams.min_size, config.teams.max_size) == (1, 5)
    assert config.phases == [] and config.datasets == []
    by_title = {item.title: item for item in config.schedule}
    announcement = by_title["Winner announcement at PyData Global"]
    assert announcement.at == datetime(2024, 12, 5, 17, tzinfo=UTC)
    assert announcement.ends == datetime(2024, 12, 5, 18, tzinfo=UTC)


def test_demo_preset_is_always_live():
    before = datetime.now(UTC)
    config = load_event(CONFIG_DIR / "demo.toml", check_data=False)
    after = datetime.now(UTC)
    phase = config.phase_at(after)
    assert phase is not None and phase.id == "main"
    assert phase.starts <= before
    assert config.submissions.closes > after
    assert [ds.id for ds in config.datasets_in_phase("main")] == [0, 3, 888]

    # Loaded at any moment, the demo is live at that moment.
    later = datetime(2031, 3, 4, 5, 6, tzinfo=UTC)
    config = load_event(CONFIG_DIR / "demo.toml", now=later, check_data=False)
    assert config.phase_at(later).id == "main"
    assert config.submissions.closes > later


# --- files of any bytes: a message with the file, the key and the fix; never a traceback ----

def test_a_latin1_file_names_the_line_and_the_fix(tmp_path):
    path = tmp_path / "event.toml"
    path.write_bytes('[event]\nname = "Café numérique"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_event(path)
    (key, message), = info.value.problems
    assert key == "(encoding)" and "line 2 is not UTF-8" in message and "save the file as UTF-8" in message
    assert str(path) in info.value.render()


def test_a_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "event.toml"
    path.write_bytes('[event]\nname = "Test"\n'.encode("utf-16"))
    with pytest.raises(ConfigError) as info:
        load_event(path)
    assert "UTF-16" in info.value.render() and "save it as UTF-8" in info.value.render()


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "event.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_event(path).event.name == "Test event"


@pytest.mark.parametrize(("line", "key", "words"), [
    ('starts = 9999-12-31T23:00:00-12:00', "phases[0].starts", "out of range"),
    ('starts = 0001-01-01T00:00:00+01:00', "phases[0].starts", "out of range"),
    ('starts = "now+99999999999d"', "phases[0].starts", "longer than 36,500 days"),
    ('starts = "now-99999999999999999999999d"', "phases[0].starts", "longer than 36,500 days"),
])
def test_times_out_of_range_are_problems(tmp_path, line, key, words):
    problems = problems_of(tmp_path, MINIMAL + f'[[phases]]\nid = "p"\n{line}\n')
    assert words in problems[key], problems


def test_a_duration_too_large_is_a_problem(tmp_path):
    problems = problems_of(tmp_path, '[event]\nname = "x"\ngrace = "99999999999999d"\n')
    assert "longer than 36,500 days" in problems["event.grace"]


_TOML_VALUES = st.one_of(
    st.sampled_from([
        '"now+99999999999d"', '"99999999999999d"', "9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+01:00",
        "1969-12-31T23:59:59Z", "9999-12-31", "23:59:00", '"now"', '"now-1h"', '"2024-11-24 23:59 AoE"',
        '"AoE"', '"Mars/Olympus"', "[]", "{}", '[""]', '["1h", "-1h"]', "inf", "-inf", "nan", "true", "-0",
        "99999999999999999999", "-9223372036854775809", '"\\u0000"', '"café"', "[[1], 2]", '{ a = 1 }',
        '"%s"' % ("x" * 5000), "0x7fffffffffffffff", "1e400",
    ]),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\n'), max_size=40)
    .map(lambda t: f'"{t}"'),
)


@st.composite
def mutated_presets(draw) -> bytes:
    preset = draw(st.sampled_from(sorted(CONFIG_DIR.glob("*.toml"))))
    lines = preset.read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "value", "value", "delete", "duplicate", "unknown-key"]))
        assignments = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
        i = draw(st.sampled_from(assignments or [0]))
        if kind == "value" and assignments:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(_TOML_VALUES)
        elif kind == "delete" and lines:
            del lines[i]
        elif kind == "duplicate" and lines:
            lines.insert(i, lines[i])
        else:
            lines.insert(i, f"{draw(st.sampled_from(['colour', 'max_sise', 'teams', 'data_dir']))} = 1")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["latin-1", "utf-16", "cp1252", "bytes", "truncate"]))
    if encoding == "bytes":
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    elif encoding == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif encoding != "utf-8":
        data = data.decode("utf-8").encode(encoding, "replace")
    return data


@settings(max_examples=300)
@given(mutated_presets())
def test_mutated_presets_get_a_message_never_a_traceback(data):
    """`hackbot config check` on an event file of any bytes: exit 0 with a summary, or exit 1 with
    the file, each problem's key and its fix."""
    from click.testing import CliRunner

    from bot.cli import main

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "event.toml"
        path.write_bytes(data)
        try:
            load_event(path)
        except ConfigError as exc:
            assert exc.problems and exc.render().startswith(str(path))
            for key, message in exc.problems:
                assert key.strip() and message.strip(), exc.problems
        result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert "problem(s)" in result.output
