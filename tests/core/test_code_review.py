"""The code review's consequence (issue 12, Hackathon42's rules: no training across datasets, no
pre-trained model, no labelling by hand): a checklist item a judge marks failed is shown to the
organizers and holds back any prize the team would win until they decide; upheld, the team wins no
prize (every prize: "we will review the code of the top teams of the leaderboard" too), passed
over with the reason; dismissed, nothing changes. Decided through decide_winners, on SQLite and
PostgreSQL, from Discord's service and from `hackbot judging rule`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_event
from bot.core.errors import BadInput, NotAllowed
from bot.core.services import Services
from tests.core.helpers import Clock
from tests.core.judging_helpers import CLOSES, OPENS, open_judged, teams_with_projects, write_judged_event


@pytest.fixture
async def judged(tmp_path, db, clock):
    services = await open_judged(tmp_path / "event", db, clock)
    yield services
    await services.close()


async def score_round(services: Services, *, fail: int | None) -> list[int]:
    """Four projects, Team 0 the best (a Build project); judge 900 marks `open-licence` failed for
    Team `fail`."""
    teams = await teams_with_projects(services, 4)
    for judge in ("900", "901"):
        await services.judging.register(judge, f"Judge {judge}", ["jury"])
    for judge in ("900", "901"):
        for item in (await services.judging.work(judge))[0].items:
            n = teams.index(item.team_id)
            failed = judge == "900" and n == fail
            await services.judging.score(judge, item.team_id, f"{5 - n} {5 - n}",
                                         checklist="open-licence=fail" if failed else "open-licence=pass")
    return teams


async def build_prize(services: Services):
    return next(p for p in (await services.winners.preview()).prizes if p.id == "build")


async def test_a_failure_holds_the_prize_until_the_organizers_decide_and_upheld_it_costs_the_prize(judged, clock):
    teams = await score_round(judged, fail=0)
    assert any(i.team_id == teams[0] for i in (await judged.judging.work("900"))[0].items)  # the seeded plan
    results = await judged.judging.results("initial")
    top = next(r for r in results.rows if r.team == "Team 0")
    assert top.flags == ("open-licence failed for Judge 900: awaiting the organizers' decision",)
    clock.set(CLOSES + timedelta(hours=1))
    held = await build_prize(judged)
    assert held.winners == ["Team 0"] and not held.decided
    assert any("code review awaits the organizers" in p and "hackbot judging rule initial 'Team 0' open-licence" in p
               for p in held.problems), held.problems

    with pytest.raises(NotAllowed, match="no judge marked open-licence failed for Team 2"):
        await judged.judging.rule("initial", "Team 2", "open-licence", upheld=True, reason="x", by="org")
    with pytest.raises(BadInput, match="not a rule"):
        await judged.judging.rule("initial", "Team 0", "no-licence", upheld=True, reason="x", by="org")
    with pytest.raises(BadInput, match="say why"):
        await judged.judging.rule("initial", "Team 0", "open-licence", upheld=True, reason=" ", by="org")

    dismissed = await judged.judging.rule("initial", "Team 0", "open-licence", upheld=False,
                                          reason="the licence is in the README", by="org")
    assert dismissed.upheld is False
    kept = await build_prize(judged)
    assert kept.winners == ["Team 0"] and kept.decided

    upheld = await judged.judging.rule("initial", "Team 0", "open-licence", upheld=True,
                                       reason="no licence at the deadline commit", by="org")
    assert upheld.upheld and "upheld by org (no licence at the deadline commit)" in upheld.describe()
    lost = await build_prize(judged)
    assert lost.decided and lost.winners == ["Team 2"]  # the next Build project (Team 1 is Train)
    assert any(p.startswith("Team 0 (disqualified: code review, open-licence") and "no licence at the deadline" in p
               for p in lost.passed_over), lost.passed_over
    flags = next(r for r in (await judged.judging.results("initial")).rows if r.team == "Team 0").flags
    assert "upheld by org" in flags[0]


async def test_a_failure_of_a_team_that_wins_nothing_holds_nothing(judged, clock):
    await score_round(judged, fail=3)  # Team 3: the weakest, a Train project
    clock.set(CLOSES + timedelta(hours=1))
    build = await build_prize(judged)
    assert build.decided and build.winners == ["Team 0"]
    excluded, pending = await judged.judging.code_review()
    assert excluded == {} and list(pending.values())[0].startswith("Team 3: open-licence marked failed by Judge 900")


def test_hackbot_judging_rule_lists_the_failures_and_decides(tmp_path, db):
    path = write_judged_event(tmp_path / "event")

    async def prepare() -> None:
        services = await Services.open(load_event(path), db, clock=Clock(OPENS + timedelta(hours=1)))
        try:
            await score_round(services, fail=1)
        finally:
            await services.close()

    asyncio.run(prepare())
    listed = CliRunner().invoke(main, ["judging", "rule", "--config", str(path), "--db", db])
    assert listed.exit_code == 0 and "initial Team 1: open-licence failed for Judge 900: awaiting" in \
        " ".join(listed.output.split()), listed.output
    missing = CliRunner().invoke(main, ["judging", "rule", "initial", "Team 1", "open-licence", "--config", str(path),
                                        "--db", db])
    assert missing.exit_code != 0 and "--uphold or --dismiss" in missing.output
    decided = CliRunner().invoke(main, ["judging", "rule", "initial", "Team 1", "open-licence", "--uphold", "--reason",
                                        "trained on the test set", "--config", str(path), "--db", db])
    assert decided.exit_code == 0 and "upheld by cli (trained on the test set)" in " ".join(decided.output.split()), \
        decided.output
