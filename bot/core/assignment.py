"""Who reviews what in a judging round, and which projects enter it. Pure: no database, no Discord.

The rules (issue 12):
- Each panel of judges gives every project in its scope `reviews_per_project` reviews from
  distinct judges (or every judge of the panel: "all"). A panel's scope is its categories and
  its opt-in prize: category and sponsor judges only ever see those projects. A project in the
  scope of two panels is reviewed by both.
- Conflicts of interest are hard exclusions: a team the judge declared, a team the judge
  mentored or is a member of, a recusal (`/judge recuse`), and any affiliation the judge shares with a member of
  the team (compared case- and space-insensitively).
- Within a panel, judges' loads differ by at most one whenever the conflicts allow it: the
  plan moves reviews along chains of judges (judge A gives a project to B, B one to C...) until
  no chain leads from a judge to one with two fewer reviews. Calibration reviews are not
  counted in the loads (every judge does the same ones).
- Calibration projects (known projects that show each judge's scale) are reviewed by every
  judge of the round that has no conflict with them, whatever the judge's panel; they never
  win a prize (bot/core/prizes.py leaves them out).
- The same projects, judges, conflicts and seed give the same plan, whatever order they come in.
- Late projects and late judges: `extend_plan` keeps every existing review (a judge may have
  started it) except those a new conflict forbids, which it drops and replaces; new reviews go
  to the least-loaded judges, so late judges take the new work first; reviews the caller marks
  `movable` (not yet opened) may also move to balance the loads.
- A project that cannot get its reviews (too few judges without a conflict) gets the reviews it
  can, and the plan names it with the reason for every judge it could not have: this is what
  `hackbot judging check` prints.

`shortlist` draws a round's pool from an earlier result: the top k overall, the top k of each
category, any project statistically tied with a k-th (its rank interval reaches the k-th's), and
the teams that asked to be heard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bot.core.prizes import Standing

ConflictReason = Literal["declared", "mentored", "recused", "member"]
ALL = "all"


@dataclass(frozen=True)
class Project:
    id: str
    name: str  # what an organizer reads: "Team Rocket: flood maps"
    team: str  # conflicts name teams
    category: str | None = None
    opt_ins: frozenset[str] = frozenset()  # ids of the opt-in prizes it entered
    affiliations: frozenset[str] = frozenset()  # its members' schools, employers, ...
    calibration: bool = False  # reviewed by every judge, never wins


@dataclass(frozen=True)
class Judge:
    id: str
    name: str
    panel: str = "judges"
    categories: frozenset[str] = frozenset()  # the panel's scope (empty: every category)
    opt_in: str | None = None  # the panel's opt-in prize (a sponsor panel)
    affiliations: frozenset[str] = frozenset()

    def sees(self, project: Project) -> bool:
        """Whether the project is in this judge's panel's scope."""
        if self.categories and project.category not in self.categories:
            return False
        return self.opt_in is None or self.opt_in in project.opt_ins


@dataclass(frozen=True)
class Conflict:
    judge: str
    team: str
    reason: ConflictReason


@dataclass(frozen=True, order=True)
class Review:
    judge: str
    project: str
    calibration: bool = False


@dataclass(frozen=True)
class Shortfall:
    """A project that cannot get all its reviews from a panel, and why."""

    project: str
    name: str
    panel: str
    needed: int
    assigned: int
    excluded: tuple[tuple[str, str], ...]  # (judge name, why they cannot review it)

    @property
    def message(self) -> str:
        if self.excluded:
            why = "; ".join(f"{judge}: {reason}" for judge, reason in self.excluded)
        else:
            why = f"panel {self.panel} has no judge"
        got = "no review" if self.assigned == 0 else f"only {self.assigned}"
        return (f"{self.name} needs {self.needed} review(s) from panel {self.panel} and can get {got} ({why}); "
                f"add a judge to panel {self.panel} without a conflict with it")


@dataclass(frozen=True)
class Plan:
    reviews: tuple[Review, ...]  # sorted by judge, then project
    loads: Mapping[str, int]  # per judge: reviews that are not calibration
    panels: Mapping[str, str]  # judge -> panel
    calibration: tuple[str, ...]  # calibration projects: excluded from every prize
    shortfalls: tuple[Shortfall, ...]
    dropped: tuple[Review, ...] = ()  # existing reviews a new conflict forbids (extend_plan)
    seed: int = 0

    @property
    def ok(self) -> bool:
        return not self.shortfalls

    def by_judge(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {judge: [] for judge in self.panels}
        for review in self.reviews:
            out.setdefault(review.judge, []).append(review.project)
        return out

    def by_project(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for review in self.reviews:
            out.setdefault(review.project, []).append(review.judge)
        return out

    def problems(self) -> list[str]:
        """What `hackbot judging check` prints: one line per project short of reviews."""
        return [shortfall.message for shortfall in self.shortfalls]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def conflict_reasons(projects: Iterable[Project], judges: Iterable[Judge],
                     conflicts: Iterable[Conflict] = ()) -> dict[tuple[str, str], str]:
    """(judge id, project id) -> why the judge may not review the project."""
    words = {"declared": "declared a conflict with team", "mentored": "mentored team", "recused": "recused from team",
             "member": "is a member of team"}
    declared: dict[tuple[str, str], set[str]] = {}
    for conflict in conflicts:
        declared.setdefault((conflict.judge, conflict.team), set()).add(conflict.reason)
    # every reason, in one fixed order: the same conflicts in any order give the same words
    by_team = {pair: "; ".join(f"{words[r]} {pair[1]}" for r in words if r in reasons) for pair, reasons in declared.items()}
    judges = list(judges)
    out: dict[tuple[str, str], str] = {}
    for project in projects:
        theirs = {_norm(a): a for a in project.affiliations if a.strip()}
        for judge in judges:
            reason = by_team.get((judge.id, project.team))
            if reason is None:
                shared = sorted(theirs[a] for a in {_norm(a) for a in judge.affiliations} & theirs.keys())
                if shared:
                    reason = f"shares the affiliation {shared[0]!r}"
            if reason is not None:
                out[(judge.id, project.id)] = reason
    return out


def plan_reviews(projects: Sequence[Project], judges: Sequence[Judge], reviews_per_project: int | str,
                 conflicts: Iterable[Conflict] = (), seed: int = 0) -> Plan:
    """Assign the round's projects to its judges (see the module docstring)."""
    return extend_plan(None, projects, judges, reviews_per_project, conflicts, seed)


def extend_plan(existing: Plan | None, projects: Sequence[Project], judges: Sequence[Judge],
                reviews_per_project: int | str, conflicts: Iterable[Conflict] = (), seed: int = 0, *,
                movable: Collection[tuple[str, str]] = ()) -> Plan:
    """A plan for the round's current projects and judges that keeps `existing`'s reviews.

    `projects` and `judges` are all of them now (old and late). Existing reviews stay, except
    those that a conflict now forbids (returned in `dropped`) or whose judge or project left;
    (judge, project) pairs in `movable` may be moved to another judge to balance the loads."""
    if reviews_per_project != ALL and not (isinstance(reviews_per_project, int) and reviews_per_project >= 1):
        raise ValueError(f"reviews_per_project must be a whole number >= 1 or 'all', got {reviews_per_project!r}")
    _unique([p.id for p in projects], "project")
    _unique([j.id for j in judges], "judge")
    rng = np.random.default_rng(seed)
    # Sorted by id first, then shuffled by the seed: the input order never matters.
    project_list = sorted(projects, key=lambda p: p.id)
    judge_list = sorted(judges, key=lambda j: j.id)
    project_list = [project_list[i] for i in rng.permutation(len(project_list))]
    judge_list = [judge_list[i] for i in rng.permutation(len(judge_list))]
    forbidden = conflict_reasons(project_list, judge_list, conflicts)
    judge_ids = {j.id for j in judge_list}
    project_ids = {p.id for p in project_list}

    kept: set[tuple[str, str]] = set()
    dropped: list[Review] = []
    if existing is not None:
        for review in existing.reviews:
            pair = (review.judge, review.project)
            if review.judge not in judge_ids or review.project not in project_ids:
                continue
            if pair in forbidden:
                dropped.append(review)
            else:
                kept.add(pair)

    reviews: list[Review] = []
    shortfalls: list[Shortfall] = []
    calibration = [p for p in project_list if p.calibration]
    for project in calibration:
        chosen = [j for j in judge_list if (j.id, project.id) not in forbidden]
        reviews += [Review(j.id, project.id, calibration=True) for j in chosen]
        if not chosen:
            shortfalls.append(Shortfall(project.id, project.name, "(every panel)", len(judge_list), 0,
                                        tuple((j.name, forbidden[(j.id, project.id)]) for j in judge_list)))

    loads: dict[str, int] = {}
    panels: dict[str, str] = {}
    for panel in sorted({j.panel for j in judge_list}):
        members = [j for j in judge_list if j.panel == panel]
        scope = [p for p in project_list if not p.calibration and members[0].sees(p)]
        assigned, panel_shortfalls = _plan_panel(scope, members, reviews_per_project, forbidden, kept, set(movable), rng)
        shortfalls += panel_shortfalls
        for judge in members:
            panels[judge.id] = panel
            loads[judge.id] = sum(1 for (j, _) in assigned if j == judge.id)
        reviews += [Review(j, p) for (j, p) in assigned]
    shortfalls.sort(key=lambda s: (s.panel, s.name, s.project))
    return Plan(reviews=tuple(sorted(reviews)), loads=dict(sorted(loads.items())), panels=dict(sorted(panels.items())),
                calibration=tuple(sorted(p.id for p in calibration)), shortfalls=tuple(shortfalls),
                dropped=tuple(sorted(dropped)), seed=seed)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what} {item!r} is listed twice")
        seen.add(item)


def _plan_panel(scope: list[Project], members: list[Judge], per_project: int | str,
                forbidden: Mapping[tuple[str, str], str], kept: set[tuple[str, str]], movable: set[tuple[str, str]],
                rng: np.random.Generator) -> tuple[set[tuple[str, str]], list[Shortfall]]:
    """One panel: top every project up to its reviews from the least-loaded allowed judges, then
    move reviews along chains of judges until the loads are as even as the conflicts allow."""
    n_judges = len(members)
    allowed = [[k for k, j in enumerate(members) if (j.id, p.id) not in forbidden] for p in scope]
    has: list[set[int]] = [set() for _ in scope]  # judges reviewing each project
    fixed: list[set[int]] = [set() for _ in scope]  # of which: existing reviews that may not move
    load = [0] * n_judges
    for i, project in enumerate(scope):
        for k in allowed[i]:
            pair = (members[k].id, project.id)
            if pair in kept:
                has[i].add(k)
                load[k] += 1
                if pair not in movable:
                    fixed[i].add(k)
    wanted = [len(allowed[i]) if per_project == ALL else min(int(per_project), len(allowed[i])) for i in range(len(scope))]
    # Most constrained first; ties in a seeded order (scope is already shuffled).
    for i in sorted(range(len(scope)), key=lambda i: len(allowed[i])):
        missing = wanted[i] - len(has[i])
        if missing <= 0:
            continue
        tie = rng.permutation(n_judges)
        candidates = sorted((k for k in allowed[i] if k not in has[i]), key=lambda k: (load[k], tie[k]))
        for k in candidates[:missing]:
            has[i].add(k)
            load[k] += 1
    if per_project != ALL:
        _balance(scope, allowed, has, fixed, load)
    shortfalls = []
    for i, project in enumerate(scope):
        # "all": a judge with a conflict sits that project out; only a project nobody may review is short
        needed = 1 if per_project == ALL else int(per_project)
        if len(has[i]) < needed:
            excluded = tuple((j.name, forbidden[(j.id, project.id)]) for j in members if (j.id, project.id) in forbidden)
            shortfalls.append(Shortfall(project.id, project.name, members[0].panel if members else "?", needed,
                                        len(has[i]), excluded))
    assigned = {(members[k].id, project.id) for i, project in enumerate(scope) for k in has[i]}
    return assigned, shortfalls


def _balance(scope: list[Project], allowed: list[list[int]], has: list[set[int]], fixed: list[set[int]],
             load: list[int]) -> None:
    """Move reviews along chains a0 -> a1 -> ... -> ak (a_i hands a project to a_i+1) from a judge
    to one with at least two fewer reviews, until no such chain exists. Each move lowers the sum
    of squared loads, so it ends; it never assigns a judge a project twice or against a conflict."""
    n_judges = len(load)
    allowed_sets = [set(a) for a in allowed]
    while True:
        moved = False
        for source in sorted(range(n_judges), key=lambda k: -load[k]):
            path = _chain(source, scope, allowed_sets, has, fixed, load)
            if path:
                for giver, project, taker in path:
                    has[project].remove(giver)
                    has[project].add(taker)
                load[path[0][0]] -= 1
                load[path[-1][2]] += 1
                moved = True
                break
        if not moved:
            return


def _chain(source: int, scope: list[Project], allowed: list[set[int]], has: list[set[int]], fixed: list[set[int]],
           load: list[int]) -> list[tuple[int, int, int]]:
    """Breadth-first: the shortest chain of hand-overs from `source` to a judge with a load of at
    most load[source] - 2, as (giver, project index, taker) steps, or []."""
    n_judges = len(load)
    holding: list[list[int]] = [[] for _ in range(n_judges)]
    for i, judges in enumerate(has):
        for k in judges:
            if k not in fixed[i]:
                holding[k].append(i)
    came_from: dict[int, tuple[int, int]] = {}
    queue = deque([source])
    seen = {source}
    while queue:
        giver = queue.popleft()
        for i in holding[giver]:
            for taker in sorted(allowed[i] - has[i]):
                if taker in seen:
                    continue
                seen.add(taker)
                came_from[taker] = (giver, i)
                if load[taker] <= load[source] - 2:
                    steps = []
                    node = taker
                    while node != source:
                        prev, project = came_from[node]
                        steps.append((prev, project, node))
                        node = prev
                    return steps[::-1]
                queue.append(taker)
    return []


# --- the pool of a round drawn from an earlier result ---------------------------------------

@dataclass(frozen=True)
class ShortlistEntry:
    project: str
    reasons: tuple[str, ...] = field(default_factory=tuple)  # "top 6", "top 3 in Build", "tied with the 6th", ...


def shortlist(standings: Sequence[Standing], projects: Mapping[str, Project], *, top: int, per_category: int = 0,
              ties: bool = True, requests: Collection[str] = ()) -> list[ShortlistEntry]:
    """The projects an earlier result sends to the next round, best first, each with its reasons.

    Calibration projects and projects not in `projects` (not eligible) never enter. Ranks are
    competition ranks, so a project exactly tied with the k-th is in the top k. With `ties`, a
    project whose rank interval (Standing.low .. high) reaches the k-th's interval enters too."""
    eligible = [s for s in sorted(standings, key=lambda s: (s.rank, s.project))
                if s.project in projects and not projects[s.project].calibration]
    reasons: dict[str, list[str]] = {}

    def take(group: list[Standing], k: int, label: str, within: str = "") -> None:
        if k <= 0 or not group:
            return
        # competition ranks within the group: position of the first with the same source rank
        position: dict[str, int] = {}
        for pos, s in enumerate(group, start=1):
            position[s.project] = position[group[pos - 2].project] if pos > 1 and group[pos - 2].rank == s.rank else pos
        kth = group[min(k, len(group)) - 1]
        kth_high = kth.high if kth.high is not None else kth.rank
        for s in group:
            if position[s.project] <= k:
                reasons.setdefault(s.project, []).append(f"{label}{within}")
            elif ties and s.low is not None and s.low <= kth_high:
                reasons.setdefault(s.project, []).append(f"tied with the {_ordinal(k)}{within}")

    take(eligible, top, f"top {top}")
    if per_category:
        categories = sorted({c for s in eligible if (c := projects[s.project].category) is not None})
        for category in categories:
            members = [s for s in eligible if projects[s.project].category == category]
            take(members, per_category, f"top {per_category}", f" in {category}")
    for project_id in sorted(requests):
        if project_id in projects and not projects[project_id].calibration:
            reasons.setdefault(project_id, []).append("asked to be heard")
    order = {s.project: n for n, s in enumerate(eligible)}
    ranked = sorted(reasons.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return [ShortlistEntry(p, tuple(r)) for p, r in ranked]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
