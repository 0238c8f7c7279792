"""[projects], [[votes]], [mentoring] and [[perks]] in the event file, and the presets that use them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, EventConfig, load_event
from bot.core.repo_checks import RepoPolicy
from bot.core.vote_rules import FlagPolicy, VoterRules

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HEAD = '[event]\nname = "Test event"\n'
VOTE = "[[votes]]\nid='v'\ntitle='V'\nopens=2024-01-01\ncloses=2024-01-02\n"


def load(tmp_path: Path, text: str) -> EventConfig:
    path = tmp_path / "event.toml"
    path.write_text(HEAD + text, encoding="utf-8")
    return load_event(path, now=NOW, check_data=False)


def problems_of(tmp_path: Path, text: str) -> dict[str, str]:
    """key -> message (the messages of a key repeated are joined)."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    out: dict[str, str] = {}
    for key, message in info.value.problems:
        out[key] = f"{out[key]} | {message}" if key in out else message
    return out


# --- defaults and the sections' shapes -------------------------------------------------------

def test_an_event_without_the_sections_has_none_of_them(tmp_path):
    config = load(tmp_path, "")
    assert config.projects is None and config.mentoring is None and config.votes == [] and config.perks == []


def test_project_defaults(tmp_path):
    projects = load(tmp_path, "[projects]\n").projects
    assert projects.required == ["repo"] and projects.repo_hosts == ["github.com"]
    assert projects.demo_hosts == ["youtube.com", "youtu.be", "vimeo.com", "loom.com", "drive.google.com"]
    assert projects.remind_drafts_before == [timedelta(hours=24), timedelta(hours=1)]
    assert projects.bundles is None and projects.licences == []


def test_deadlines_in_aoe_and_the_repository_policy(tmp_path):
    projects = load(tmp_path, """
[projects]
opens = "2024-11-22 00:00 AoE"
closes = "2024-11-24 23:59 AoE"
licences = ["MIT", "GPL-*"]
[projects.checks]
giant_commit_lines = 2000
""").projects
    assert projects.closes == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)
    policy = projects.repo_policy()
    assert policy == RepoPolicy(licences=("MIT", "GPL-*"), work_starts=datetime(2024, 11, 22, 12, tzinfo=UTC),
                                giant_commit_lines=2000)


@pytest.mark.parametrize(("section", "key"), [
    ("[projects]\nrepo_url = 1", "projects.repo_url"),
    ("[projects.bundles]\nmax_mb = 3", "projects.bundles.max_mb"),
    ("[projects.checks]\ngiant = 3", "projects.checks.giant"),
    (f"{VOTE}kidn='single'", "votes[0].kidn"),
    (f"{VOTE}[votes.eligibility]\nage='7d'", "votes[0].eligibility.age"),
    ("[mentoring]\ntag = ['x']", "mentoring.tag"),
    ("[[mentoring.escalation]]\nafter='1m'\nnotify='mentors'\nping=true", "mentoring.escalation[0].ping"),
    ("[[perks]]\nid='p'\ntitle='P'\nper='team'", "perks[0].per"),
])
def test_unknown_keys_are_refused_with_their_path(tmp_path, section, key):
    problems = problems_of(tmp_path, section)
    assert key in problems and "unknown key" in problems[key]


# --- each problem with its key and the fix ---------------------------------------------------

def test_project_problems_name_the_key_and_the_fix(tmp_path):
    problems = problems_of(tmp_path, """
[projects]
required = ["repo", "video"]
repo_hosts = ["https://github.com"]
demo_hosts = ["YouTube"]
licences = ["GPL 3"]
categories = ["Build", "build"]
""")
    assert "projects.required[1]" in problems
    assert "write a host" in problems["projects.repo_hosts"]
    assert "youtube.com" in problems["projects.demo_hosts"]
    assert "SPDX" in problems["projects.licences"]
    assert "listed twice" in problems["projects.categories"]
    # once every value is valid, the section's coherence
    problems = problems_of(tmp_path, """
[projects]
opens = 2024-11-24T00:00:00Z
closes = 2024-11-22T00:00:00Z
work_starts = 2024-11-23T00:00:00Z
required = ["repo", "repo"]
opt_in_prizes = ["modal", "modal"]
remind_drafts_before = ["0m"]
""")
    assert "closes (2024-11-22 00:00 UTC) is not after opens (2024-11-24 00:00 UTC)" in problems["projects.closes"]
    assert "is not before closes" in problems["projects.work_starts"]
    assert "listed twice" in problems["projects.required"] and "listed twice" in problems["projects.opt_in_prizes[1]"]
    assert "give durations" in problems["projects.remind_drafts_before"]


def test_too_many_categories_for_a_select_menu(tmp_path):
    cats = ", ".join(f'"c{i}"' for i in range(26))
    assert "at most 25" in problems_of(tmp_path, f"[projects]\ncategories = [{cats}]")["projects.categories"]


def test_question_labels_fit_a_discord_modal(tmp_path):
    problems = problems_of(tmp_path, f"[[projects.questions]]\nid = 'q'\nquestion = '{'x' * 46}'")
    assert "projects.questions[0].question" in problems


def test_a_vote_is_coherent(tmp_path):
    base = "[projects]\ncategories = ['Build']\n[[votes]]\nid = 'cf'\ntitle = 'Community'\n"
    problems = problems_of(tmp_path, base + "opens = 2024-12-05T10:00:00Z\ncloses = 2024-12-05T09:00:00Z\nkind = 'approval'")
    assert "is not after opens" in problems["votes[0].closes"]
    assert "needs max_choices" in problems["votes[0].max_choices"]
    problems = problems_of(tmp_path, base + "opens = 2024-12-05\ncloses = 2024-12-06\nmax_choices = 2")
    assert "single-choice vote takes one choice" in problems["votes[0].max_choices"]
    problems = problems_of(tmp_path, base + "opens = 2024-12-05\ncloses = 2024-12-06\ncategories = ['Train']")
    assert "'Train' is not a project category (categories: 'Build')" in problems["votes[0].categories"]


def test_a_vote_needs_projects_and_distinct_ids(tmp_path):
    vote = "[[votes]]\nid = 'cf'\ntitle = 'C'\nopens = 2024-12-05\ncloses = 2024-12-06\n"
    problems = problems_of(tmp_path, vote + vote)
    assert "add a [projects] section" in problems["votes[0]"] and "add a [projects] section" in problems["votes[1]"]
    assert "vote 'cf' is listed twice" in problems["votes[1].id"]


def test_vote_rules_and_flags_come_from_the_file(tmp_path):
    vote = load(tmp_path, """
[projects]
[[votes]]
id = "cf"
title = "Community Favorite"
opens = "2024-12-05 09:00 America/Los_Angeles"
closes = "2024-12-05 10:00 America/Los_Angeles"
kind = "ranked"
[votes.eligibility]
min_account_age = "3d"
exclude_own_team = false
[votes.flags]
burst_size = 8
""").votes[0]
    assert vote.opens == datetime(2024, 12, 5, 17, tzinfo=UTC)
    assert vote.voter_rules() == VoterRules(timedelta(days=3), True, False)
    assert vote.flag_policy() == FlagPolicy(burst_size=8)
    assert vote.results == "hidden" and vote.codes is False


PRIZES = """
[[prizes]]
id = "modal"
title = "Modal"
source = "manual"
opt_in = true
[[prizes]]
id = "community"
title = "Community"
source = "vote"
[[prizes]]
id = "jury"
title = "Jury"
source = "manual"
"""


def test_opt_ins_and_vote_prizes_name_the_right_prizes(tmp_path):
    vote = "[[votes]]\nid = 'cf'\ntitle = 'C'\nopens = 2024-12-05\ncloses = 2024-12-06\nprize = '{}'\n"
    config = load(tmp_path, PRIZES + "[projects]\nopt_in_prizes = ['modal']\n" + vote.format("community"))
    assert config.votes[0].prize == "community" and config.projects.opt_in_prizes == ["modal"]
    problems = problems_of(tmp_path, PRIZES + "[projects]\nopt_in_prizes = ['jury', 'sponsor']\n" + vote.format("jury"))
    assert "'jury' is not an opt-in prize (opt-in prizes: 'modal')" in problems["projects.opt_in_prizes[0]"]
    assert "set opt_in = true" in problems["projects.opt_in_prizes[1]"]
    assert "'jury' is not a prize decided by a vote (prizes with source = \"vote\": 'community')" in problems["votes[0].prize"]
    two = vote.format("community") + vote.format("community").replace("'cf'", "'cf2'")
    assert "two votes decide the prize 'community'" in problems_of(tmp_path, PRIZES + "[projects]\n" + two)["votes"]


def test_mentoring_escalation_must_go_forward_and_end_before_stale(tmp_path):
    problems = problems_of(tmp_path, """
[mentoring]
tags = ["Build"]
stale_after = "5m"
[[mentoring.escalation]]
after = "30m"
notify = "organizers"
[[mentoring.escalation]]
after = "10m"
notify = "mentors"
""")
    assert "order they come" in problems["mentoring.escalation"]
    assert "make stale_after longer" in problems["mentoring.stale_after"]
    assert "mentoring.escalation[0].notify" in problems_of(tmp_path, "[[mentoring.escalation]]\nafter='1m'\nnotify='everyone'")


def test_mentoring_defaults_escalate_to_all_mentors_then_organizers(tmp_path):
    mentoring = load(tmp_path, "[mentoring]\ntags = ['Build']").mentoring
    assert [(s.after, s.notify) for s in mentoring.escalation] == [
        (timedelta(0), "specialists"), (timedelta(minutes=10), "mentors"), (timedelta(minutes=30), "organizers")]
    assert mentoring.stale_after == timedelta(hours=3) and not mentoring.assign_to_teams


def test_perks(tmp_path):
    perks = load(tmp_path, "[[perks]]\nid = 'credits'\ntitle = 'Credits'\nwho = 'member'\nopens = '2024-11-22 09:00 AoE'").perks
    assert perks[0].who == "member" and perks[0].opens == datetime(2024, 11, 22, 21, tzinfo=UTC)
    problems = problems_of(tmp_path, "[[perks]]\nid = 'Credits!'\ntitle = 'C'\nwho = 'everyone'")
    assert set(problems) == {"perks[0].id", "perks[0].who"}
    problems = problems_of(tmp_path, "[[perks]]\nid = 'x'\ntitle = 'X'\n[[perks]]\nid = 'x'\ntitle = 'Y'")
    assert "perk 'x' is listed twice" in problems["perks[1].id"]


def test_bundles_need_datasets_to_explain(tmp_path):
    problems = problems_of(tmp_path, "[projects.bundles]\ndatasets = [4]")
    assert "explanations per dataset need [[datasets]]" in problems["projects.bundles.explanations"]
    assert "dataset 4 is not defined" in problems["projects.bundles.datasets"]
    assert load(tmp_path, "[projects.bundles]\nexplanations = 'one'").projects.bundles.explanations == "one"


# --- the presets -----------------------------------------------------------------------------

def test_numhack_preset():
    config = load_event(CONFIG_DIR / "numhack.toml", check_data=False)
    p = config.projects
    assert p.required == ["repo", "demo"]
    assert p.licences == ["MIT", "Apache-2.0", "GPL-*", "CC-BY-SA-4.0"]
    assert p.categories == ["Build", "Train", "Analyse"] and p.opt_in_prizes == ["modal"]
    assert p.closes == datetime(2024, 11, 25, 11, 59, tzinfo=UTC)  # Nov 24 23:59 AoE, the seed's "Nov 25 noon UTC"
    assert p.repo_policy().work_starts == datetime(2024, 11, 22, 12, tzinfo=UTC)
    [vote] = config.votes
    assert (vote.id, vote.title, vote.kind, vote.max_choices, vote.codes, vote.prize) == (
        "community", "Community Favorite", "approval", 3, True, "community")
    announcement = next(s for s in config.schedule if s.title.startswith("Winner announcement"))
    assert vote.closes <= announcement.at
    assert config.mentoring.tags == ["Build", "Train", "Analyse", "Modal"] and config.mentoring.assign_to_teams
    [perk] = config.perks
    assert (perk.id, perk.who) == ("modal-credits", "validated_team")


def test_hackathon42_preset_takes_a_bundle_per_team():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    bundles = config.projects.bundles
    assert bundles.explanations == "per_dataset" and bundles.datasets is None
    assert bundles.max_bytes == 10 * 1024 * 1024
    assert config.projects.required == [] and config.projects.closes == config.submissions.closes


def test_astroxml_preset_mentoring_tags():
    config = load_event(CONFIG_DIR / "astroxml.toml", check_data=False)
    assert config.mentoring.tags == [*config.matchmaking.topics, "PyTorch", "JAX"]
    assert len(config.mentoring.tags) == 7


@pytest.mark.parametrize("name", ["hackathon42", "numhack", "astroxml", "demo"])
def test_hackbot_config_check_accepts_every_preset(tmp_path, name):
    """As an organizer runs it, with the preset's data folders in place."""
    shutil.copy(CONFIG_DIR / f"{name}.toml", tmp_path / "event.toml")
    for phase in load_event(tmp_path / "event.toml", check_data=False).phases:
        if phase.data_dir is not None:
            (tmp_path / phase.data_dir).mkdir(parents=True, exist_ok=True)
    hackbot = Path(sys.executable).with_name("hackbot")
    command = [str(hackbot)] if hackbot.exists() else [sys.executable, "-m", "bot.cli"]
    result = subprocess.run([*command, "config", "check", "event.toml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    if name == "numhack":
        assert "vote community (approval, up to 3)" in result.stdout and "perk modal-credits" in result.stdout
    if name == "hackathon42":
        assert "bundles: a zip of at most 10,485,760 bytes" in result.stdout
