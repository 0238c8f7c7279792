"""Planning the judging (bot/core/judging_plan.py) and `hackbot judging plan`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import JudgingSimulation, load_event
from bot.core.judging_plan import plan_judging, simulate_round
from tests.test_config_judging import CONFIG_DIR

HACKBOT = Path(sys.executable).with_name("hackbot")


def numhack():
    return load_event(CONFIG_DIR / "numhack.toml", check_data=False)


def test_numhack_rounds_reviews_hours_and_window():
    initial, final, modal = plan_judging(numhack())
    assert (initial.projects, initial.reviews, initial.judge_hours) == (60, 180, 45.0)  # 60 x 3 x 15 min
    (jury,) = initial.panels
    assert (jury.judges, jury.reviews_per_judge, jury.hours_per_judge) == (12, 15, 3.75)
    assert initial.available_hours == 6.0 and initial.fits  # judge_hours = 6 within a 5.5-day window
    assert jury.judges_needed == 8  # 45 judge-hours / 6 h each
    assert (initial.top_k, initial.chosen) == (3, 6)  # it must put the final's top 3 in the shortlist of 6
    assert final.projects == 15 and "shortlist" in final.projects_note  # 6 + 3 per category, at most
    assert final.reviews == 15 * 5 and final.panels[0].judges_needed is None  # every judge ranks every project
    assert modal.projects == 15 and modal.top_k == 1


def test_too_few_judges_does_not_fit_and_says_how_many_are_needed():
    initial = plan_judging(numhack(), judges=4)[0]
    assert initial.fits is False
    assert initial.panels[0].reviews_per_judge == 45 and initial.hours_per_judge == 11.25  # 180 reviews / 4 judges
    assert "does not fit" in initial.verdict and "judges needed: jury 8" in initial.verdict


def test_a_round_where_everyone_reviews_everything_cannot_be_fixed_with_judges():
    config = numhack()
    final = config.judging.rounds[1].model_copy(update={"judge_hours": 2.0})
    config = config.model_copy(update={"judging": config.judging.model_copy(
        update={"rounds": [config.judging.rounds[0], final, config.judging.rounds[2]]})})
    plan = plan_judging(config)[1]
    assert plan.fits is False and "every judge reviews every project" in plan.verdict


def test_unknown_numbers_are_reported_not_guessed():
    config = numhack()
    config = config.model_copy(update={"judging": config.judging.model_copy(
        update={"simulation": JudgingSimulation(projects=None)})})
    initial = plan_judging(config)[0]
    assert initial.fits is None and any("--projects" in p for p in initial.problems)
    assert plan_judging(config, projects=30)[0].reviews == 90


def test_simulation_more_reviews_find_more_and_the_model_beats_the_raw_mean():
    config = numhack()
    initial = config.judging.rounds[0]
    sim = JudgingSimulation(quality_sd=0.8, offset_sd=1.0, noise_sd=0.5)
    result = simulate_round(initial, projects=40, judges=10, top_k=3, chosen=6, sim=sim, runs=150, seed=1)
    by_reviews = {p.reviews_per_project: p for p in result.points}
    assert list(by_reviews) == [2, 3, 4, 5]
    assert by_reviews[5].recall > by_reviews[2].recall
    assert by_reviews[5].hours_per_judge > by_reviews[2].hours_per_judge
    assert sum(p.recall for p in result.points) > sum(p.recall_raw for p in result.points)
    again = simulate_round(initial, projects=40, judges=10, top_k=3, chosen=6, sim=sim, runs=150, seed=1)
    assert again == result


def test_simulated_rankings_without_noise_always_find_the_top():
    final = numhack().judging.rounds[1]
    exact = simulate_round(final, projects=12, judges=3, top_k=3, sim=JudgingSimulation(noise_sd=0.0), runs=30)
    assert [(p.found, p.recall) for p in exact.points] == [(1.0, 1.0)]
    noisy = simulate_round(final, projects=12, judges=3, top_k=3, sim=JudgingSimulation(noise_sd=2.0), runs=30)
    assert noisy.points[0].found < 1.0


def _hackbot(*args: str) -> subprocess.CompletedProcess:
    command = [str(HACKBOT)] if HACKBOT.exists() else [sys.executable, "-m", "bot.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_hackbot_judging_plan_prints_every_round_and_the_simulation():
    done = _hackbot("judging", "plan", "--config", str(CONFIG_DIR / "numhack.toml"), "--simulate", "--runs", "20")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "round initial (rubric): 60 projects ([judging.simulation] projects)" in out
    assert "180 reviews, 45.0 judge-hours; fits" in out
    assert "20 simulated runs: how often round initial finds the true top 3 inside its top 6" in out
    assert "round final (ranking)" in out and "round modal (rubric)" in out
    json_out = _hackbot("judging", "plan", "--config", str(CONFIG_DIR / "hackathon42.toml"), "--json")
    assert json_out.returncode == 0 and '"round": "interview"' in json_out.stdout


def test_hackbot_judging_plan_without_rounds_says_what_to_add():
    done = _hackbot("judging", "plan", "--config", str(CONFIG_DIR / "demo.toml"))
    assert done.returncode == 1 and "add them to plan the judging" in " ".join(done.stderr.split())
