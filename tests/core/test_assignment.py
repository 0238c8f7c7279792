"""Who reviews what (bot/core/assignment.py): coverage, balance, conflicts, determinism, late arrivals."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.assignment import (
    Conflict,
    Judge,
    Plan,
    Project,
    conflict_reasons,
    extend_plan,
    plan_reviews,
    shortlist,
)
from bot.core.prizes import Standing

CATEGORIES = ("Build", "Train", "Analyse")


def projects_(n: int, *, calibration: int = 0, opt_in_every: int = 0) -> list[Project]:
    out = []
    for i in range(n):
        out.append(Project(
            id=f"p{i:02d}", name=f"Team {i}: project", team=f"t{i:02d}", category=CATEGORIES[i % 3],
            opt_ins=frozenset({"modal"}) if opt_in_every and i % opt_in_every == 0 else frozenset(),
            affiliations=frozenset({f"school {i % 7}"}), calibration=i < calibration,
        ))
    return out


def judges_(n: int, panel: str = "jury", **kwargs) -> list[Judge]:
    return [Judge(id=f"{panel}-{k}", name=f"{panel.title()} {k}", panel=panel, **kwargs) for k in range(n)]


def spread(plan: Plan, panel: str) -> int:
    loads = [load for judge, load in plan.loads.items() if plan.panels[judge] == panel]
    return max(loads) - min(loads)


def check_invariants(plan: Plan, projects: list[Project], judges: list[Judge], per_project: int,
                     conflicts: list[Conflict], fixed: frozenset[tuple[str, str]] = frozenset()) -> None:
    """What must hold of every plan: no conflict, no duplicate, scope, coverage or a named shortfall,
    and no hand-over of a review (except the `fixed` ones, kept from an earlier plan) that would
    even out two judges' loads."""
    forbidden = conflict_reasons(projects, judges, conflicts)
    by_id = {j.id: j for j in judges}
    projects_by_id = {p.id: p for p in projects}
    pairs = [(r.judge, r.project) for r in plan.reviews]
    assert len(pairs) == len(set(pairs)), "a judge reviews a project twice"
    assert not set(pairs) & forbidden.keys(), "a conflict was assigned"
    for review in plan.reviews:
        project = projects_by_id[review.project]
        assert review.calibration == project.calibration
        if not project.calibration:
            assert by_id[review.judge].sees(project), "a judge saw a project outside their panel's scope"
    short = {(s.project, s.panel) for s in plan.shortfalls}
    for panel in {j.panel for j in judges}:
        members = [j for j in judges if j.panel == panel]
        for project in projects:
            if project.calibration or not members[0].sees(project):
                continue
            got = sum(1 for judge, p in pairs if p == project.id and by_id[judge].panel == panel)
            possible = sum(1 for j in members if (j.id, project.id) not in forbidden)
            assert got == min(per_project, possible)
            assert ((project.id, panel) in short) == (possible < per_project)
        # balanced as far as the conflicts allow: no single hand-over would even the loads out
        loads = {j.id: plan.loads[j.id] for j in members}
        holding = {j.id: {p for judge, p in pairs if judge == j.id and not projects_by_id[p].calibration} for j in members}
        for giver in members:
            for taker in members:
                if loads[giver.id] - loads[taker.id] >= 2:
                    movable = [p for p in holding[giver.id] if p not in holding[taker.id]
                               and (taker.id, p) not in forbidden and (giver.id, p) not in fixed]
                    assert not movable, f"{giver.id} ({loads[giver.id]}) could hand {movable[0]} to {taker.id}"


# --- the plan -------------------------------------------------------------------------------

def test_every_project_gets_its_reviews_and_loads_differ_by_at_most_one():
    projects, judges = projects_(61), judges_(9)
    plan = plan_reviews(projects, judges, 3, seed=4)
    assert plan.ok and not plan.problems()
    assert Counter(r.project for r in plan.reviews) == {p.id: 3 for p in projects}
    assert sorted(set(plan.loads.values())) == [20, 21]  # 183 reviews over 9 judges
    check_invariants(plan, projects, judges, 3, [])


def test_the_same_seed_gives_the_same_plan_whatever_the_input_order():
    projects, judges = projects_(30), judges_(7)
    conflicts = [Conflict("jury-2", "t04", "declared")]
    first = plan_reviews(projects, judges, 3, conflicts, seed=11)
    again = plan_reviews(projects[::-1], judges[::-1], 3, conflicts, seed=11)
    assert first == again
    assert plan_reviews(projects, judges, 3, conflicts, seed=12).reviews != first.reviews


def test_conflicts_are_hard_exclusions_with_their_reasons():
    projects = projects_(12)
    judges = [Judge("ada", "Ada", "jury", affiliations=frozenset({"  School 3 "})),  # shares p03's and p10's school
              *judges_(4)]
    conflicts = [Conflict("ada", "t00", "declared"), Conflict("ada", "t01", "mentored"), Conflict("ada", "t02", "recused")]
    reasons = conflict_reasons(projects, judges, conflicts)
    assert reasons[("ada", "p00")] == "declared a conflict with team t00"
    assert reasons[("ada", "p01")] == "mentored team t01"
    assert reasons[("ada", "p02")] == "recused from team t02"
    assert reasons[("ada", "p03")] == "shares the affiliation 'school 3'"
    assert ("ada", "p10") in reasons and ("ada", "p04") not in reasons
    plan = plan_reviews(projects, judges, 3, conflicts, seed=0)
    assert not {(r.judge, r.project) for r in plan.reviews} & reasons.keys()
    check_invariants(plan, projects, judges, 3, conflicts)


def test_a_project_everybody_is_conflicted_with_is_named_with_the_reasons():
    projects = projects_(6)
    judges = judges_(3)
    conflicts = [Conflict(j.id, "t05", "declared") for j in judges[:2]] + [Conflict(judges[2].id, "t05", "mentored")]
    conflicts.append(Conflict(judges[0].id, "t04", "recused"))
    plan = plan_reviews(projects, judges, 3, conflicts, seed=0)
    assert not plan.ok
    by_project = {s.project: s for s in plan.shortfalls}
    assert set(by_project) == {"p04", "p05"}
    assert by_project["p05"].assigned == 0 and by_project["p04"].assigned == 2
    message = by_project["p05"].message
    assert message.startswith("Team 5: project needs 3 review(s) from panel jury and can get no review")
    assert "Jury 0: declared a conflict with team t05" in message and "Jury 2: mentored team t05" in message
    assert "add a judge to panel jury" in message
    assert "can get only 2" in by_project["p04"].message and "Jury 0: recused from team t04" in by_project["p04"].message
    assert plan.problems() == [s.message for s in plan.shortfalls]


def test_category_and_sponsor_judges_see_only_their_projects():
    projects = projects_(30, opt_in_every=4)
    judges = (judges_(6) + judges_(2, "train", categories=frozenset({"Train"}))
              + judges_(2, "modal", opt_in="modal"))
    plan = plan_reviews(projects, judges, 2, seed=3)
    assert plan.ok
    seen = plan.by_judge()
    assert all(p.category == "Train" for j in ("train-0", "train-1") for p in projects if p.id in seen[j])
    opted = {p.id for p in projects if "modal" in p.opt_ins}
    assert set(seen["modal-0"]) | set(seen["modal-1"]) == opted
    assert set(seen["modal-0"]) <= opted
    train = [p for p in projects if p.category == "Train"]
    per_project = plan.by_project()
    for project in train:  # reviewed by both its category panel and the general panel
        assert sum(j.startswith("train") for j in per_project[project.id]) == 2
        assert sum(j.startswith("jury") for j in per_project[project.id]) == 2
    for panel in ("jury", "train", "modal"):
        assert spread(plan, panel) <= 1
    check_invariants(plan, projects, judges, 2, [])


def test_calibration_projects_are_reviewed_by_every_judge_and_flagged():
    projects = projects_(20, calibration=2, opt_in_every=5)
    judges = judges_(5) + judges_(2, "modal", opt_in="modal")
    conflicts = [Conflict("jury-1", "t01", "declared")]
    plan = plan_reviews(projects, judges, 3, conflicts, seed=5)
    assert plan.calibration == ("p00", "p01")
    calibration = [r for r in plan.reviews if r.calibration]
    assert {(r.judge, r.project) for r in calibration} == {
        (j.id, p) for j in judges for p in ("p00", "p01") if (j.id, p) != ("jury-1", "p01")}
    assert spread(plan, "jury") <= 1  # calibration reviews are not in the loads
    check_invariants(plan, projects, judges, 3, conflicts)


def test_all_means_every_judge_without_a_conflict():
    projects, judges = projects_(8), judges_(4)
    plan = plan_reviews(projects, judges, "all", [Conflict("jury-0", "t03", "declared")], seed=0)
    assert len(plan.reviews) == 8 * 4 - 1
    assert plan.ok
    with pytest.raises(ValueError, match="whole number >= 1 or 'all'"):
        plan_reviews(projects, judges, 0)


def test_balance_follows_chains_when_a_direct_hand_over_is_forbidden():
    # jury-0 may review only p00..p02; the others are free. Loads still even out.
    projects, judges = projects_(9), judges_(3)
    conflicts = [Conflict("jury-0", f"t{i:02d}", "declared") for i in range(3, 9)]
    plan = plan_reviews(projects, judges, 2, conflicts, seed=1)
    assert plan.loads["jury-0"] == 3  # all it can take
    assert sorted(plan.loads.values()) == [3, 7, 8]
    check_invariants(plan, projects, judges, 2, conflicts)


def test_no_judge_on_a_panel_is_reported():
    projects = projects_(3)
    plan = plan_reviews(projects, [], 2)
    assert plan.reviews == () and plan.shortfalls == ()  # no panel, nothing planned
    judges = judges_(1, "train", categories=frozenset({"Train"}))
    plan = plan_reviews(projects, judges, 2)
    assert [s.project for s in plan.shortfalls] == ["p01"]
    assert "can get only 1" in plan.shortfalls[0].message


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="project 'p00' is listed twice"):
        plan_reviews(projects_(2) + projects_(1), judges_(2), 1)


# --- late projects and judges ----------------------------------------------------------------

def test_late_projects_and_judges_keep_the_existing_reviews():
    projects, judges = projects_(30), judges_(6)
    first = plan_reviews(projects, judges, 3, seed=2)
    late_projects = projects + [Project(f"late{i}", f"Late {i}", f"tl{i}") for i in range(6)]
    late_judges = [*judges, Judge("jury-late", "Late judge", "jury")]
    second = extend_plan(first, late_projects, late_judges, 3, seed=2)
    assert set(first.reviews) <= set(second.reviews)
    assert second.ok
    new = set(second.reviews) - set(first.reviews)
    assert len(new) == 18 and {r.project for r in new} == {f"late{i}" for i in range(6)}
    assert second.loads["jury-late"] == 6  # the late judge takes the new work first (others have 15)
    check_invariants(second, late_projects, late_judges, 3, [], fixed=frozenset((r.judge, r.project) for r in first.reviews))


def test_late_judges_take_over_movable_reviews():
    projects, judges = projects_(30), judges_(6)
    first = plan_reviews(projects, judges, 3, seed=2)
    late_judges = [*judges, Judge("jury-late", "Late judge", "jury")]
    movable = {(r.judge, r.project) for r in first.reviews}  # nobody has opened a review yet
    second = extend_plan(first, projects, late_judges, 3, seed=2, movable=movable)
    assert spread(second, "jury") <= 1 and second.loads["jury-late"] >= 12
    assert Counter(r.project for r in second.reviews) == {p.id: 3 for p in projects}
    check_invariants(second, projects, late_judges, 3, [])


def test_a_recusal_after_the_plan_drops_that_review_and_replaces_it():
    projects, judges = projects_(12), judges_(4)
    first = plan_reviews(projects, judges, 2, seed=0)
    judge = first.reviews[0].judge
    project = first.reviews[0].project
    team = next(p.team for p in projects if p.id == project)
    second = extend_plan(first, projects, judges, 2, [Conflict(judge, team, "recused")], seed=0)
    assert [(r.judge, r.project) for r in second.dropped] == [(judge, project)]
    assert judge not in second.by_project()[project] and len(second.by_project()[project]) == 2
    assert set(first.reviews) - set(second.reviews) == {first.reviews[0]}


# --- properties -----------------------------------------------------------------------------

@st.composite
def rounds(draw):
    n_projects = draw(st.integers(0, 25))
    n_judges = draw(st.integers(1, 8))
    projects = projects_(n_projects, calibration=draw(st.integers(0, min(2, n_projects))),
                         opt_in_every=draw(st.sampled_from([0, 2, 3])))
    judges = judges_(n_judges)
    if draw(st.booleans()):
        judges += judges_(draw(st.integers(1, 3)), "build", categories=frozenset({"Build"}))
    per_project = draw(st.integers(1, 4))
    conflicts = draw(st.lists(st.builds(
        Conflict, st.sampled_from([j.id for j in judges]), st.sampled_from([f"t{i:02d}" for i in range(max(n_projects, 1))]),
        st.sampled_from(["declared", "mentored", "recused"])), max_size=20))
    return projects, judges, per_project, conflicts, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=120)
@given(rounds())
def test_plan_properties(case):
    projects, judges, per_project, conflicts, seed = case
    plan = plan_reviews(projects, judges, per_project, conflicts, seed)
    check_invariants(plan, projects, judges, per_project, conflicts)
    assert plan_reviews(list(reversed(projects)), list(reversed(judges)), per_project, conflicts[::-1], seed) == plan
    if not conflicts:  # without conflicts, perfectly even within each panel
        for panel in {j.panel for j in judges}:
            assert spread(plan, panel) <= 1


@settings(max_examples=60)
@given(rounds(), st.integers(0, 6), st.integers(0, 3))
def test_extend_properties(case, late_projects, late_judges):
    projects, judges, per_project, conflicts, seed = case
    first = plan_reviews(projects, judges, per_project, conflicts, seed)
    more_projects = projects + [Project(f"late{i}", f"Late {i}", f"late-team-{i}", category=CATEGORIES[i % 3])
                                for i in range(late_projects)]
    more_judges = judges + [Judge(f"jury-late-{k}", f"Late {k}", "jury") for k in range(late_judges)]
    second = extend_plan(first, more_projects, more_judges, per_project, conflicts, seed)
    assert set(first.reviews) <= set(second.reviews)
    check_invariants(second, more_projects, more_judges, per_project, conflicts,
                     fixed=frozenset((r.judge, r.project) for r in first.reviews))
    forbidden = conflict_reasons(more_projects, more_judges, conflicts)
    assert not {(r.judge, r.project) for r in second.reviews} & forbidden.keys()
    assert extend_plan(first, more_projects[::-1], more_judges[::-1], per_project, conflicts, seed) == second


# --- shortlists -----------------------------------------------------------------------------

def test_shortlist_top_k_per_category_ties_and_requests():
    projects = {p.id: p for p in projects_(12, calibration=1)}
    # p00 is calibration; p01..p11 ranked in order, p05 and p06 exactly tied at rank 5
    ranks = {f"p{i:02d}": i for i in range(12)}
    ranks["p06"] = 5
    intervals = {f"p{i:02d}": (max(1, i - 1), i + 1) for i in range(12)}
    standings = [Standing(p, r, low=intervals[p][0], high=intervals[p][1]) for p, r in ranks.items()]
    chosen = shortlist(standings, projects, top=4, ties=False)
    assert [e.project for e in chosen] == ["p01", "p02", "p03", "p04"]  # the calibration project never enters
    chosen = shortlist(standings, projects, top=5, ties=False)
    assert [e.project for e in chosen] == ["p01", "p02", "p03", "p04", "p05", "p06"]  # exact tie with the 5th
    with_ties = {e.project: e.reasons for e in shortlist(standings, projects, top=4, ties=True)}
    assert with_ties["p05"] == ("tied with the 4th",) and with_ties["p06"] == ("tied with the 4th",)
    assert "p07" not in with_ties  # its interval (6..8) does not reach the 4th's (3..5)
    per_category = shortlist(standings, projects, top=2, per_category=1, ties=False, requests={"p11", "p00", "nope"})
    reasons = {e.project: e.reasons for e in per_category}
    assert reasons == {"p01": ("top 2", "top 1 in Train"), "p02": ("top 2", "top 1 in Analyse"),
                       "p03": ("top 1 in Build",), "p11": ("asked to be heard",)}
    assert [e.project for e in per_category] == ["p01", "p02", "p03", "p11"]
