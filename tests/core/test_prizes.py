"""Winners of every prize (bot/core/prizes.py): sources, exclusions, ties, calibration, close calls."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import Prize, load_event
from bot.core.prizes import (
    Entrant,
    Standing,
    decide_winners,
    decision_order,
    manual_key,
    rank_standings,
)
from tests.test_config_judging import CONFIG_DIR


def ranked(*projects: str) -> list[Standing]:
    return [Standing(p, rank) for rank, p in enumerate(projects, start=1)]


def numhack_entrants() -> dict[str, Entrant]:
    categories = {"a": "Build", "b": "Build", "c": "Train", "d": "Analyse", "e": "Train", "f": "Analyse",
                  "g": "Build", "cal": "Build"}
    return {p: Entrant(p, f"Project {p}", c, frozenset({"modal"}) if p in "bdf" else frozenset(),
                       calibration=p == "cal") for p, c in categories.items()}


def test_numhack_prizes_with_the_top_3_excluded_from_the_categories():
    config = load_event(CONFIG_DIR / "numhack.toml", check_data=False)
    final = ranked("cal", "a", "b", "c", "d", "e", "f", "g")  # the calibration project ranks first
    results = {"final": final, "modal": ranked("a", "f", "b"), "vote": ranked("g", "a")}
    outcome = {r.prize: r for r in decide_winners(config.prizes, results, numhack_entrants())}
    assert list(outcome) == ["build", "train", "analyse", "modal", "community", "top3"]  # the reveal order
    assert outcome["top3"].winners == ("a", "b", "c")  # never the calibration project
    assert [p.place for p in outcome["top3"].places] == [1, 2, 3]
    assert ("cal", "a calibration project") in outcome["top3"].passed_over
    assert outcome["build"].winners == ("g",)  # a and b won the top 3
    assert ("a", "won top3") in outcome["build"].passed_over and ("b", "won top3") in outcome["build"].passed_over
    assert outcome["train"].winners == ("e",)
    assert outcome["analyse"].winners == ("d",)
    assert outcome["modal"].winners == ("f",)  # a did not opt in; the Modal award may go to anyone who did
    assert outcome["modal"].places[0].reward == "$5,000 USD in Modal platform credits"
    assert outcome["community"].winners == ("g",)  # no exclusion: g may win Build and the vote
    assert all(r.decided and not r.problems for r in outcome.values())


def test_without_the_exclusion_a_top_3_project_wins_its_category_too():
    prizes = [Prize(id="build", title="Build", source="final", category="Build"),
              Prize(id="top3", title="Top 3", places=3, source="final")]
    outcome = {r.prize: r for r in decide_winners(prizes, {"final": ranked("a", "b", "c", "g")}, numhack_entrants())}
    assert outcome["build"].winners == ("a",) and outcome["top3"].winners == ("a", "b", "c")


def test_hackathon42_a_team_may_win_both_the_leaderboard_and_the_jury_prize():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    entrants = {t: Entrant(t, t) for t in ("t1", "t2", "t3")}
    results = {"leaderboard": ranked("t1", "t2", "t3"), "interview": ranked("t1", "t3", "t2")}
    outcome = {r.prize: r for r in decide_winners(config.prizes, results, entrants)}
    assert outcome["leaderboard"].winners == ("t1", "t2")
    assert outcome["jury"].winners == ("t1", "t3")
    assert [p.reward for p in outcome["jury"].places] == ["€600", "€300"]


def test_a_disqualified_team_wins_nothing_and_the_next_one_moves_up():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    entrants = {"t1": Entrant("t1", "t1", disqualified="trained on the other datasets"),
                "t2": Entrant("t2", "t2"), "t3": Entrant("t3", "t3")}
    results = {"leaderboard": ranked("t1", "t2", "t3"), "interview": ranked("t2", "t1", "t3")}
    outcome = {r.prize: r for r in decide_winners(config.prizes, results, entrants)}
    assert outcome["leaderboard"].winners == ("t2", "t3")
    assert outcome["leaderboard"].passed_over == (("t1", "disqualified: trained on the other datasets"),)
    assert outcome["jury"].winners == ("t2", "t3")


def test_hackathon42_a_code_review_not_decided_holds_only_the_prizes_the_team_would_win():
    config = load_event(CONFIG_DIR / "hackathon42.toml", check_data=False)
    entrants = {"t1": Entrant("t1", "t1"), "t2": Entrant("t2", "t2"),
                "t3": Entrant("t3", "t3", review_pending="t3: no-pretrained marked failed by Ada")}
    results = {"leaderboard": ranked("t1", "t2", "t3"), "interview": ranked("t3", "t1", "t2")}
    outcome = {r.prize: r for r in decide_winners(config.prizes, results, entrants)}
    assert outcome["leaderboard"].decided and outcome["leaderboard"].winners == ("t1", "t2")
    jury = outcome["jury"]
    assert jury.winners == ("t3", "t1") and not jury.decided and jury.awaiting_review
    assert jury.problems == ("a winner's code review awaits the organizers: t3: no-pretrained marked failed by Ada",)


def test_ties_inside_the_places_share_a_place():
    prize = Prize(id="top3", title="Top 3", places=3, source="final", rewards=["$3", "$2", "$1"])
    final = [Standing("a", 1), Standing("b", 1), Standing("c", 3), Standing("d", 4)]
    (result,) = decide_winners([prize], {"final": final}, {p: Entrant(p, p) for p in "abcd"})
    assert [(p.place, p.projects, p.reward) for p in result.places] == [(1, ("a", "b"), "$3"), (3, ("c",), "$1")]
    assert result.places[0].tied and result.decided and not result.needs_tie_break


def test_a_tie_across_the_last_place_needs_the_organizers_and_their_order_breaks_it():
    prize = Prize(id="top3", title="Top 3", places=3, source="final")
    final = [Standing("a", 1), Standing("b", 2), Standing("c", 3), Standing("d", 3), Standing("e", 5)]
    entrants = {p: Entrant(p, p) for p in "abcde"}
    (result,) = decide_winners([prize], {"final": final}, entrants)
    assert result.needs_tie_break and not result.decided
    assert result.places[-1].projects == ("c", "d") and result.winners == ("a", "b", "c", "d")
    assert "a tie for place 3 (c, d)" in result.problems[0] and "organizers' order" in result.problems[0]
    (broken,) = decide_winners([prize], {"final": final}, entrants, tie_breaks={"top3": ["d", "c"]})
    assert broken.winners == ("a", "b", "d") and broken.decided and not broken.problems


def test_an_unresolved_tie_excludes_both_from_the_prizes_after_it():
    prizes = [Prize(id="best", title="Best", source="final"),
              Prize(id="runner", title="Runner-up", source="final", excludes=["best"])]
    final = [Standing("a", 1), Standing("b", 1), Standing("c", 3)]
    outcome = {r.prize: r for r in decide_winners(prizes, {"final": final}, {p: Entrant(p, p) for p in "abc"})}
    assert outcome["best"].needs_tie_break
    assert outcome["runner"].winners == ("c",)


def test_a_prize_decided_after_those_it_excludes_even_when_listed_first():
    prizes = [Prize(id="cat", title="Category", source="final", excludes=["main"]),
              Prize(id="main", title="Main", source="final")]
    assert [p.id for p in decision_order(prizes)] == ["main", "cat"]
    outcome = decide_winners(prizes, {"final": ranked("a", "b")}, {p: Entrant(p, p) for p in "ab"})
    assert [(r.prize, r.winners) for r in outcome] == [("cat", ("b",)), ("main", ("a",))]
    with pytest.raises(ValueError, match="circle"):
        decision_order([Prize(id="x", title="X", source="vote", excludes=["y"]),
                        Prize(id="y", title="Y", source="vote", excludes=["x"])])


def test_missing_results_and_too_few_entrants_are_reported():
    prizes = [Prize(id="fav", title="Favourite", source="vote"),
              Prize(id="top3", title="Top 3", places=3, source="final")]
    outcome = {r.prize: r for r in decide_winners(prizes, {"final": ranked("a", "x")}, {"a": Entrant("a", "a")})}
    assert outcome["fav"].problems == ("no results from 'vote' yet",) and not outcome["fav"].decided
    assert outcome["top3"].winners == ("a",)
    assert outcome["top3"].problems == ("only 1 eligible project(s) for 3 place(s)",)


def test_manual_prizes_take_the_organizers_picks():
    prize = Prize(id="modal", title="Spirit award", source="manual")
    results = {manual_key(prize): ranked("b"), "modal": ranked("a")}  # a round may share the prize's id
    (result,) = decide_winners([prize], results, {p: Entrant(p, p) for p in "ab"})
    assert result.winners == ("b",)


def test_close_calls_come_from_the_rank_intervals():
    prize = Prize(id="top2", title="Top 2", places=2, source="final")
    final = [Standing("a", 1, low=1, high=1), Standing("b", 2, low=2, high=4), Standing("c", 3, low=2, high=4),
             Standing("d", 4, low=4, high=5)]
    (result,) = decide_winners([prize], {"final": final}, {p: Entrant(p, p) for p in "abcd"})
    assert result.close_call == ("b", "c")
    final[1] = Standing("b", 2, low=2, high=2)  # b surely 2nd, c surely not: no doubt
    final[2] = Standing("c", 3, low=3, high=4)
    (result,) = decide_winners([prize], {"final": final}, {p: Entrant(p, p) for p in "abcd"})
    assert result.close_call == ()


def test_rank_standings_break_ties_by_the_secondary_then_share():
    standings = rank_standings(["a", "b", "c", "d", "e"], [3.0, 3.0, 3.0, np.nan, 1.0],
                               [2.0, 4.0, 2.0, 0.0, 0.0], low=[1, 1, 1, np.nan, 4], high=[3, 3, 3, np.nan, 5])
    assert [(s.project, s.rank) for s in standings] == [("b", 1), ("a", 2), ("c", 2), ("e", 4)]
    assert standings[0].low == 1 and standings[-1].high == 5
    # float noise is not an order
    noisy = rank_standings(["x", "y"], [0.1 + 0.2, 0.3])
    assert [s.rank for s in noisy] == [1, 1]
