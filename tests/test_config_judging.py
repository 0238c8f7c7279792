"""The event file's [judging] and [[prizes]]: the presets, and every refusal with its key and fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_event

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HACKBOT = Path(sys.executable).with_name("hackbot")

BASE = """
[event]
name = "Judged event"

[[judging.panels]]
id = "jury"

[[judging.rounds]]
id = "first"
mode = "rubric"
[[judging.rounds.criteria]]
id = "idea"
title = "Idea"
"""


def problems_of(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_event(path, now=NOW, check_data=False)
    return info.value.problems


def load(tmp_path: Path, text: str):
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    return load_event(path, now=NOW, check_data=False)


# --- the presets ------------------------------------------------------------------------------

def test_numhack_preset_judging_and_prizes():
    config = load_event(CONFIG_DIR / "numhack.toml", check_data=False)
    initial, final, modal = config.judging.rounds
    assert (initial.id, initial.mode, initial.reviews_per_project) == ("initial", "rubric", 3)
    assert [c.title for c in initial.criteria] == [
        "Innovation and Creativity", "Impact", "Technical Execution", "Usability", "Presentation and Documentation"]
    assert all(len(c.levels) == 5 for c in initial.criteria)
    assert initial.opens == datetime(2024, 11, 25, 12, tzinfo=UTC)
    assert final.mode == "ranking" and final.shortlist is not None
    assert (final.shortlist.source, final.shortlist.top, final.shortlist.per_category) == ("initial", 6, 3)
    assert final.closes == datetime(2024, 12, 4, 11, 59, tzinfo=UTC)  # Dec 3 23:59 AoE
    assert [p.id for p in config.judging.panels_of(final)] == ["final"]
    assert modal.opt_in == "modal" and [p.opt_in for p in config.judging.panels_of(modal)] == ["modal"]

    prizes = {p.id: p for p in config.prizes}
    assert list(prizes) == ["build", "train", "analyse", "modal", "community", "top3"]  # reveal order
    assert prizes["top3"].places == 3 and prizes["top3"].source == "final"
    assert {prizes[c].category for c in ("build", "train", "analyse")} == {"Build", "Train", "Analyse"}
    assert all(prizes[c].excludes == ["top3"] for c in ("build", "train", "analyse"))
    assert prizes["modal"].opt_in and prizes["modal"].source == "modal"
    assert prizes["community"].source == "vote"


def test_hackathon42_preset_judging_and_prizes():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    (interview,) = config.judging.rounds
    assert interview.shortlist is not None
    assert (interview.shortlist.source, interview.shortlist.top, interview.shortlist.requests) == ("leaderboard", 20, True)
    assert [c.id for c in interview.checklist] == ["datasets-apart", "no-pretrained", "no-hand-labels"]
    assert interview.reviews_per_project == "all"
    assert interview.interviews is not None and (interview.interviews.minutes, interview.interviews.rooms) == (7, 1)
    prizes = {p.id: p for p in config.prizes}
    assert (prizes["leaderboard"].source, prizes["leaderboard"].places) == ("leaderboard", 2)
    assert prizes["leaderboard"].rewards == ["€700", "€400"]
    assert (prizes["jury"].source, prizes["jury"].rewards) == ("interview", ["€600", "€300"])
    assert not prizes["jury"].excludes and not prizes["leaderboard"].excludes  # a team may win both


def _config_check(path: Path) -> subprocess.CompletedProcess:
    command = [str(HACKBOT)] if HACKBOT.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run([*command, "config", "check", str(path)], capture_output=True, text=True, timeout=60)


def test_config_check_accepts_both_presets(tmp_path):
    numhack = _config_check(CONFIG_DIR / "numhack.toml")
    assert numhack.returncode == 0, numhack.stderr
    assert "OK" in numhack.stdout
    assert "round initial (rubric" in numhack.stdout and "prize top3" in numhack.stdout
    # Hackathon42's data folders are not in the repository: give it empty ones.
    shutil.copy(CONFIG_DIR / "hackathon42.toml", tmp_path / "hackathon42.toml")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets2").mkdir()
    h42 = _config_check(tmp_path / "hackathon42.toml")
    assert h42.returncode == 0, h42.stderr
    assert "round interview (rubric" in h42.stdout and "prize jury" in h42.stdout


# --- refusals ---------------------------------------------------------------------------------

def test_a_minimal_judged_event_loads(tmp_path):
    config = load(tmp_path, BASE + '[[prizes]]\nid = "best"\ntitle = "Best"\nsource = "first"\n')
    assert config.prizes[0].places == 1 and config.judging.rounds[0].reviews_per_project == 3
    assert config.judging.rounds[0].weights == [1.0]


@pytest.mark.parametrize(("extra", "key", "words"), [
    ("reviews_per_projects = 2\n", "judging.rounds[0].reviews_per_projects", "unknown key"),
    ('reviews_per_project = "three"\n', "judging.rounds[0].reviews_per_project", 'such as 3, or "all"'),
    ("reviews_per_project = 0\n", "judging.rounds[0].reviews_per_project", "whole number"),
    ('mode = "vote"\n', "judging.rounds[0].mode", "change the value"),
    ("minutes_per_review = 0\n", "judging.rounds[0].minutes_per_review", "greater than 0"),
])
def test_round_field_refusals(tmp_path, extra, key, words):
    text = BASE.replace('mode = "rubric"\n', 'mode = "rubric"\n' + extra) if "mode =" not in extra else \
        BASE.replace('mode = "rubric"\n', extra)
    problems = dict(problems_of(tmp_path, text))
    assert key in problems, problems
    assert words in problems[key]


def test_interviews_need_a_start_and_at_least_one_room(tmp_path):
    problems = dict(problems_of(tmp_path, BASE + "[judging.rounds.interviews]\nminutes = 7\n"))
    assert "set the round's opens or interviews.starts" in problems["judging.rounds[0].interviews.starts"]
    problems = dict(problems_of(tmp_path, BASE + "[judging.rounds.interviews]\nstarts = 2024-06-02T10:00:00Z\nrooms = 0\n"))
    assert "judging.rounds[0].interviews.rooms" in problems
    problems = dict(problems_of(tmp_path, BASE + '[judging.rounds.interviews]\nstarts = 2024-06-02T10:00:00Z\n'
                                                 'remind_before = ["0m"]\n'))
    assert "reminders come before the slot" in problems["judging.rounds[0].interviews.remind_before"]


def test_a_rubric_needs_criteria_and_a_ranking_has_none(tmp_path):
    no_criteria = '[event]\nname = "x"\n[[judging.rounds]]\nid = "r"\nmode = "rubric"\n'
    problems = dict(problems_of(tmp_path, no_criteria))
    assert "at least one [[judging.rounds.criteria]]" in problems["judging.rounds[0].criteria"]
    ranking = BASE.replace('mode = "rubric"', 'mode = "ranking"')
    problems = dict(problems_of(tmp_path, ranking))
    assert 'set mode = "rubric"' in problems["judging.rounds[0].criteria"]


def test_calibration_teams_are_named_once(tmp_path):
    config = load(tmp_path, BASE.replace('mode = "rubric"\n', 'mode = "rubric"\ncalibration = ["Sample team"]\n'))
    assert config.judging.rounds[0].calibration == ["Sample team"]
    twice = BASE.replace('mode = "rubric"\n', 'mode = "rubric"\ncalibration = ["Sample team", "sample  TEAM", " "]\n')
    problems = dict(problems_of(tmp_path, twice))
    assert "listed twice" in problems["judging.rounds[0].calibration[1]"]
    assert "name a team" in problems["judging.rounds[0].calibration[2]"]


def test_levels_describe_five_scores(tmp_path):
    problems = dict(problems_of(tmp_path, BASE + 'levels = ["bad", "good"]\n'))
    assert "five non-empty texts (got 2)" in problems["judging.rounds[0].criteria[0].levels"]


def test_criteria_weights_are_positive_and_ids_distinct(tmp_path):
    problems = dict(problems_of(tmp_path, BASE + 'weight = 0\n'))
    assert "greater than 0" in problems["judging.rounds[0].criteria[0].weight"]
    twice = BASE + '[[judging.rounds.criteria]]\nid = "idea"\ntitle = "Again"\n'
    problems = dict(problems_of(tmp_path, twice))
    assert "criterion 'idea' is listed twice" in problems["judging.rounds[0].criteria[1].id"]


def test_a_round_closes_after_it_opens(tmp_path):
    text = BASE.replace('mode = "rubric"\n', 'mode = "rubric"\nopens = 2024-11-25T12:00:00Z\ncloses = "2024-11-25 11:00 UTC"\n')
    problems = dict(problems_of(tmp_path, text))
    assert "is not after opens" in problems["judging.rounds[0].closes"]


def test_rounds_name_defined_panels_and_earlier_rounds(tmp_path):
    text = BASE.replace('mode = "rubric"\n', 'mode = "rubric"\npanels = ["jurry"]\n') + (
        '[[judging.rounds]]\nid = "second"\nmode = "ranking"\n'
        '[judging.rounds.shortlist]\nsource = "third"\ntop = 5\n'
        '[[judging.rounds]]\nid = "third"\nmode = "ranking"\n'
    )
    problems = dict(problems_of(tmp_path, text))
    assert "'jurry' is not defined (panels: 'jury')" in problems["judging.rounds[0].panels"]
    message = problems["judging.rounds[1].shortlist.source"]
    assert "'third'" in message and "earlier rounds: 'first'" in message


def test_round_and_panel_ids_are_distinct_and_not_a_source_name(tmp_path):
    text = BASE + '[[judging.panels]]\nid = "jury"\n[[judging.rounds]]\nid = "vote"\nmode = "ranking"\n'
    problems = dict(problems_of(tmp_path, text))
    assert "listed twice" in problems["judging.panels[1].id"]
    assert "names a prize source" in problems["judging.rounds[1].id"]


def test_ids_are_slugs(tmp_path):
    problems = dict(problems_of(tmp_path, BASE.replace('id = "first"', 'id = "First round"')))
    assert "judging.rounds[0].id" in problems


def test_prize_sources_exclusions_and_opt_ins_are_checked(tmp_path):
    text = BASE + (
        '[[prizes]]\nid = "a"\ntitle = "A"\nsource = "leaderboard"\nexcludes = ["a", "zz"]\n'
        '[[prizes]]\nid = "b"\ntitle = "B"\nsource = "frist"\n'
        '[[judging.panels]]\nid = "sponsor"\nopt_in = "b"\n'
    )
    problems = problems_of(tmp_path, text)
    keys = [k for k, _ in problems]
    assert keys.count("prizes[0].excludes") == 2
    messages = dict(problems)
    assert "no leaderboard" in messages["prizes[0].source"]
    assert "'frist' is not a source" in messages["prizes[1].source"] and "'first'" in messages["prizes[1].source"]
    assert "not an opt-in prize" in messages["judging.panels[1].opt_in"]
    assert any("cannot exclude itself" in m for k, m in problems if k == "prizes[0].excludes")
    assert any("'zz' is not a prize id" in m for k, m in problems if k == "prizes[0].excludes")


def test_exclusions_cannot_go_round_in_a_circle(tmp_path):
    text = BASE + (
        '[[prizes]]\nid = "a"\ntitle = "A"\nsource = "first"\nexcludes = ["c"]\n'
        '[[prizes]]\nid = "b"\ntitle = "B"\nsource = "first"\nexcludes = ["a"]\n'
        '[[prizes]]\nid = "c"\ntitle = "C"\nsource = "first"\nexcludes = ["b"]\n'
    )
    problems = dict(problems_of(tmp_path, text))
    assert "a -> c -> b -> a" in problems["prizes"]


def test_prize_ids_distinct_and_rewards_fit_the_places(tmp_path):
    text = BASE + (
        '[[prizes]]\nid = "a"\ntitle = "A"\nsource = "vote"\nrewards = ["$1", "$2"]\n'
        '[[prizes]]\nid = "b"\ntitle = "B"\nsource = "manual"\n'
        '[[prizes]]\nid = "b"\ntitle = "B again"\nsource = "manual"\n'
    )
    problems = dict(problems_of(tmp_path, text))
    assert "2 rewards for 1 place(s)" in problems["prizes[0]"]
    text = text.replace('rewards = ["$1", "$2"]', 'places = 2\nrewards = ["$1", "$2"]')
    problems = dict(problems_of(tmp_path, text))
    assert "prize 'b' is listed twice" in problems["prizes[2].id"]


def test_a_leaderboard_shortlist_needs_a_leaderboard(tmp_path):
    text = BASE + '[judging.rounds.shortlist]\nsource = "leaderboard"\ntop = 20\n'
    problems = dict(problems_of(tmp_path, text))
    assert "no leaderboard" in problems["judging.rounds[0].shortlist.source"]


def test_no_panels_means_one_panel_of_every_judge(tmp_path):
    config = load(tmp_path, BASE.replace('[[judging.panels]]\nid = "jury"\n', ""))
    assert [p.id for p in config.judging.panels_of(config.judging.rounds[0])] == ["judges"]
