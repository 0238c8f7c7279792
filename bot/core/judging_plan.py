"""How much judging an event needs, and whether it finds the right winners: `hackbot judging plan`.

Pure: the event file and a few numbers in, a structured result out; no database.

For each round: the projects it expects (the round's `expected_projects`, else the shortlist's
largest size, else `[judging.simulation] projects`), its judges (the panels' `expected_judges`),
the reviews that makes, judge-hours at `minutes_per_review`, the busiest judge's hours, and
whether they fit in what each judge has: the round's window (opens -> closes), or `judge_hours`
when it is smaller. When it does not fit, the judges each panel would need.

The simulation (`simulate=True`) plays the round many times with judges as the event expects
them: true project qualities ~ N(0, quality_sd), each judge's offset ~ N(0, offset_sd), each
score = 3 + quality + offset + N(0, noise_sd) rounded and clipped to the 1-5 scale (rubric
rounds); a ranking judge orders the projects by quality + N(0, noise_sd). The reviews follow
`plan_reviews` (one plan for the round's numbers; qualities, offsets and noise are redrawn every
run). What the round must find: for a round that awards prizes, the true top k (k = the most
places of its prizes) as its top k; for a round that feeds a shortlist of m, the true top k of
the prizes decided later, inside its top m. It reports how often it finds them all, what share
it finds on average, and the same for the raw mean, for this many reviews per project and a few
more or fewer: the answer to "how many judges and reviews do we need?".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bot.config import EventConfig, JudgingPanel, JudgingRound, JudgingSimulation
from bot.core.assignment import ALL, Judge, Project, plan_reviews
from scoring.jury import bradley_terry, fit_additive, rankings_to_pairs, raw_mean


@dataclass(frozen=True)
class PanelLoad:
    panel: str
    judges: int | None  # None: unknown (no expected_judges and no --judges)
    projects: int  # projects in its scope
    reviews: int
    reviews_per_judge: int  # the busiest judge's
    hours_per_judge: float  # the busiest judge's
    judges_needed: int | None  # the fewest judges whose busiest one fits (None: more judges do not help)


@dataclass(frozen=True)
class SimulationPoint:
    reviews_per_project: int | Literal["all"]
    hours_per_judge: float
    found: float  # share of runs whose top `chosen` holds the whole true top k (additive model / Bradley-Terry)
    recall: float  # mean share of the true top k inside the aggregate's top `chosen`
    found_raw: float  # the same with the raw mean (rubric) or the share of comparisons won (ranking, pairwise)
    recall_raw: float


@dataclass(frozen=True)
class Simulation:
    runs: int
    top_k: int  # the true top k that must be found ...
    chosen: int  # ... inside the aggregate's top `chosen` (the shortlist the round feeds, or k)
    points: tuple[SimulationPoint, ...]  # the round's reviews per project, and a few others


@dataclass(frozen=True)
class RoundPlan:
    round: str
    title: str
    mode: str
    projects: int
    projects_note: str  # where the number of projects comes from
    panels: tuple[PanelLoad, ...]
    reviews: int
    judge_hours: float
    hours_per_judge: float  # the busiest judge's
    available_hours: float | None  # what each judge has: the window, or judge_hours when smaller
    fits: bool | None  # None: cannot tell (no window, or judges unknown)
    verdict: str
    top_k: int  # what the round must find (see the module docstring) ...
    chosen: int  # ... inside its top `chosen`
    simulation: Simulation | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)


def plan_judging(config: EventConfig, *, projects: int | None = None, judges: int | None = None,
                 simulate: bool = False, runs: int | None = None, seed: int = 0) -> list[RoundPlan]:
    """A plan for every judging round. `projects` / `judges` override the event file's estimates
    (judges: per panel)."""
    expected = projects or config.judging.simulation.projects
    categories = {p.category for p in config.prizes if p.category}
    categories |= {c for panel in config.judging.panels for c in panel.categories}
    plans = []
    sizes: dict[str, int] = {}
    for rnd in config.judging.rounds:
        count, note = _round_projects(rnd, expected, sizes, len(categories), projects)
        sizes[rnd.id] = count
        plans.append(plan_round(config, rnd, projects=count, projects_note=note, judges=judges,
                                n_categories=len(categories), simulate=simulate, runs=runs, seed=seed))
    return plans


def _round_projects(rnd: JudgingRound, expected: int | None, sizes: dict[str, int], n_categories: int,
                    override: int | None) -> tuple[int, str]:
    if rnd.expected_projects is not None and override is None:
        return rnd.expected_projects, "expected_projects"
    if rnd.shortlist:
        source = sizes.get(rnd.shortlist.source, expected or 0)
        size = rnd.shortlist.top + rnd.shortlist.per_category * n_categories
        extra = " + ties" if rnd.shortlist.ties else ""
        extra += " + requests" if rnd.shortlist.requests else ""
        return min(size, source) if source else size, f"shortlist: up to top {rnd.shortlist.top}" + (
            f" + {rnd.shortlist.per_category} per category" if rnd.shortlist.per_category else "") + extra
    if expected is None:
        return 0, "unknown: set [judging.simulation] projects or pass --projects"
    return expected, "--projects" if override else "[judging.simulation] projects"


def _top_k(config: EventConfig, rnd: JudgingRound) -> tuple[int, int]:
    """(k, m): the round must find the true top k inside its top m (see the module docstring)."""
    direct = [p.places for p in config.prizes if p.source == rnd.id]
    if direct:
        return max(direct), max(direct)
    fed = [r for r in config.judging.rounds if r.shortlist and r.shortlist.source == rnd.id]
    if fed:
        chosen = max(r.shortlist.top for r in fed if r.shortlist)
        later = [p.places for p in config.prizes if p.source in {r.id for r in fed}]
        return min(max(later, default=3), chosen), chosen
    return 3, 3


def _panel_scope(panel: JudgingPanel, rnd: JudgingRound, projects: int, n_categories: int) -> int:
    if panel.categories and n_categories:
        return math.ceil(projects * min(1.0, len(panel.categories) / n_categories))
    return projects


def _reviews_of(rnd: JudgingRound, scope: int, judges: int) -> tuple[int, int]:
    """(reviews in all, the busiest judge's reviews) for a panel of `judges` over `scope` projects."""
    if judges <= 0 or scope <= 0:
        return 0, 0
    if rnd.reviews_per_project == ALL:
        return scope * judges, scope
    per = min(int(rnd.reviews_per_project), judges)
    total = scope * per
    if rnd.mode == "pairwise":  # a comparison covers two projects
        total = math.ceil(total / 2)
    return total, math.ceil(total / judges)


def plan_round(config: EventConfig, rnd: JudgingRound, *, projects: int, projects_note: str = "",
               judges: int | None = None, n_categories: int = 0, simulate: bool = False, runs: int | None = None,
               seed: int = 0) -> RoundPlan:
    minutes = rnd.minutes_per_review
    window = (rnd.closes - rnd.opens).total_seconds() / 3600 if rnd.opens and rnd.closes else None
    available = min(h for h in (window, rnd.judge_hours) if h is not None) if (window or rnd.judge_hours) else None
    loads: list[PanelLoad] = []
    problems: list[str] = []
    for panel in config.judging.panels_of(rnd):
        count = judges if judges is not None else panel.expected_judges
        scope = _panel_scope(panel, rnd, projects, n_categories)
        if count is None:
            problems.append(f"panel {panel.id}: how many judges? set expected_judges or pass --judges")
            loads.append(PanelLoad(panel.id, None, scope, 0, 0, 0.0, None))
            continue
        total, busiest = _reviews_of(rnd, scope, count)
        needed = None
        if available and rnd.reviews_per_project != ALL and scope:
            per = int(rnd.reviews_per_project)
            reviews_needed = scope * per / (2 if rnd.mode == "pairwise" else 1)
            needed = max(per if rnd.mode != "pairwise" else 2, math.ceil(reviews_needed * minutes / 60 / available))
        loads.append(PanelLoad(panel.id, count, scope, total, busiest, busiest * minutes / 60, needed))
    reviews = sum(p.reviews for p in loads)
    hours_per_judge = max((p.hours_per_judge for p in loads), default=0.0)
    known = all(p.judges is not None for p in loads) and projects > 0
    fits = None if available is None or not known else hours_per_judge <= available + 1e-9
    if projects <= 0:
        problems.append("how many projects? set [judging.simulation] projects or pass --projects")
    verdict = _verdict(rnd, fits, hours_per_judge, available, loads)
    top_k, chosen = _top_k(config, rnd)
    simulation = None
    if simulate and known and projects > 1 and loads:
        simulation = simulate_round(rnd, projects=projects, judges=sum(p.judges or 0 for p in loads), top_k=top_k,
                                    chosen=chosen, sim=config.judging.simulation, runs=runs, seed=seed)
    return RoundPlan(round=rnd.id, title=rnd.title or rnd.id, mode=rnd.mode, projects=projects, projects_note=projects_note,
                     panels=tuple(loads), reviews=reviews, judge_hours=reviews * minutes / 60,
                     hours_per_judge=hours_per_judge, available_hours=available, fits=fits, verdict=verdict,
                     top_k=top_k, chosen=chosen,
                     simulation=simulation, problems=tuple(problems))


def _verdict(rnd: JudgingRound, fits: bool | None, hours: float, available: float | None, loads: list[PanelLoad]) -> str:
    if fits is None:
        if available is None:
            return f"the busiest judge needs {hours:.1f} h; the round has no window (set opens and closes)"
        return "cannot tell: the number of judges or projects is unknown"
    if fits:
        return f"fits: the busiest judge needs {hours:.1f} h of the {available:.1f} h each has"
    short = [f"{p.panel} {p.judges_needed}" for p in loads if p.judges_needed and p.judges and p.judges_needed > p.judges]
    if short:
        return (f"does not fit: the busiest judge needs {hours:.1f} h of the {available:.1f} h each has; "
                f"judges needed: {', '.join(short)}")
    return (f"does not fit: the busiest judge needs {hours:.1f} h of the {available:.1f} h each has, and every judge "
            "reviews every project: shorten the reviews, widen the window or shortlist fewer projects")


# --- the simulation -------------------------------------------------------------------------

def simulate_round(rnd: JudgingRound, *, projects: int, judges: int, top_k: int, sim: JudgingSimulation,
                   chosen: int | None = None, runs: int | None = None, seed: int = 0) -> Simulation:
    """How often the round's aggregate finds the true top k in its top `chosen` (see the module docstring)."""
    runs = runs or sim.runs
    k = max(1, min(top_k, projects - 1))
    m = max(k, min(chosen or k, projects - 1))
    if rnd.reviews_per_project == ALL:
        options: list[int | Literal["all"]] = ["all"]
    else:
        r = int(rnd.reviews_per_project)
        options = [n for n in (r - 1, r, r + 1, r + 2) if 1 <= n <= judges]
    points = []
    for option in options:
        found, recall, found_raw, recall_raw = _play(rnd.mode, option, projects, judges, k, m, sim, runs, seed)
        pairs = 2 if rnd.mode == "pairwise" else 1
        per_judge = projects if option == ALL else math.ceil(projects * int(option) / judges / pairs)
        points.append(SimulationPoint(option, per_judge * rnd.minutes_per_review / 60, found, recall, found_raw, recall_raw))
    return Simulation(runs=runs, top_k=k, chosen=m, points=tuple(points))


def _design(mode: str, per_project: int | str, projects: int, judges: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(project, judge) of every review, as plan_reviews would assign them."""
    plan = plan_reviews([Project(f"{i:05d}", f"p{i}", f"t{i}") for i in range(projects)],
                        [Judge(f"{k:05d}", f"j{k}") for k in range(judges)], per_project, seed=seed)
    return (np.array([int(r.project) for r in plan.reviews], dtype=np.int64),
            np.array([int(r.judge) for r in plan.reviews], dtype=np.int64))


def _play(mode: str, per_project: int | str, projects: int, judges: int, k: int, m: int, sim: JudgingSimulation,
          runs: int, seed: int) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(seed)
    found = recall = found_raw = recall_raw = 0.0
    if mode == "rubric":
        p, j = _design(mode, per_project, projects, judges, seed)
    for _ in range(runs):
        quality = rng.normal(0, sim.quality_sd, projects)
        truth = set(np.argsort(-quality, kind="stable")[:k].tolist())
        if mode == "rubric":
            offset = rng.normal(0, sim.offset_sd, judges)
            y = np.clip(np.round(3 + quality[p] + offset[j] + rng.normal(0, sim.noise_sd, len(p))), 1, 5)
            model = fit_additive(p, j, y, projects, judges).quality
            baseline = raw_mean(p, y, projects)
        else:
            winner, loser = _comparisons(mode, per_project, quality, judges, sim.noise_sd, rng)
            model = bradley_terry(winner, loser, projects)
            baseline = np.bincount(winner, minlength=projects) / np.maximum(
                np.bincount(np.concatenate([winner, loser]), minlength=projects), 1)  # share of comparisons won
        for estimate, is_model in ((model, True), (baseline, False)):
            chosen = set(np.argsort(-np.nan_to_num(estimate, nan=-np.inf), kind="stable")[:m].tolist())
            hit = len(chosen & truth) / k
            if is_model:
                found += hit == 1.0
                recall += hit
            else:
                found_raw += hit == 1.0
                recall_raw += hit
    return found / runs, recall / runs, found_raw / runs, recall_raw / runs


def _comparisons(mode: str, per_project: int | str, quality: np.ndarray, judges: int, noise: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = len(quality)
    if mode == "ranking":  # every judge orders every project (or a random subset of per_project)
        size = n if per_project == ALL else max(2, min(n, int(per_project) * n // max(judges, 1)))
        rankings = []
        for _ in range(judges):
            subset = rng.choice(n, size=size, replace=False)
            perceived = quality[subset] + rng.normal(0, noise, size)
            rankings.append(subset[np.argsort(-perceived)])
        winner, loser, _ = rankings_to_pairs(rankings)
        return winner, loser
    # pairwise: each project in per_project comparisons with random opponents
    count = max(1, n * (n if per_project == ALL else int(per_project)) // 2)
    a = rng.integers(0, n, count)
    b = (a + rng.integers(1, n, count)) % n
    a_wins = quality[a] + rng.normal(0, noise, count) > quality[b] + rng.normal(0, noise, count)
    return np.where(a_wins, a, b), np.where(a_wins, b, a)
