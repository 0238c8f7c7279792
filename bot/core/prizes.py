"""The winners of every prize, from the ranked results of each source. Pure: no database.

`decide_winners(prizes, results, entrants)` is the one place where prizes are decided. Its rules:

Sources. A prize's `source` is "leaderboard", "vote", a judging round's id, or "manual". The
caller passes each source's ranked results (`Standing`s) under the source's name; a manual
prize's results (the organizers' picks, in order) come under `manual_key(prize)`.

Who may win. A project competes for a prize when it is an entrant (eligible), is not a
calibration project, is not disqualified (a code-review failure the organizers upheld:
Hackathon42 reviews "the code of the top teams of the leaderboard" too: it costs every prize),
is of the prize's category (if it has one), opted into the prize (if it is opt-in), and has not
won a prize this one excludes.

Order of decision. A prize is decided after the prizes it excludes (a category prize that
excludes the top 3 waits for the top 3); otherwise in the order of the event file. The results
come back in the event file's order, which is the order of the reveal.

Tie-breaks, in this order:
1. The source's own rank. Each source breaks what it can before: the leaderboard by the earlier
   last submission (scoring/ranking.py); a judging round by the model's estimate, then the raw
   mean of the scores (`rank_standings`); a vote by the number of votes.
2. The organizers' order for the prize, when given (`tie_breaks[prize id]`, e.g. after the
   jury's deliberation).
3. Otherwise the tied projects share the place (and the next place number is skipped, "1, 1,
   3"); when a shared place would give more winners than the prize has places, the prize is
   marked `needs_tie_break` and its preview says so. A project of an unresolved tie counts as a
   winner for the exclusions of later prizes (the cautious choice until the organizers decide).

The code review. A winner with a checklist failure the organizers have not decided yet leaves
its prize undecided (`awaiting_review`), its problems saying which: it cannot be frozen until they
uphold it (the team is passed over, with the reason) or dismiss it.

Close calls. When the source gives rank intervals (the bootstrap over judges), a prize whose
last winner's interval overlaps the best runner-up's lists both in `close_call`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.config import MANUAL_SOURCE, Prize

DECIMALS = 9  # estimates equal to 9 decimals are a tie, not an order made of float noise


@dataclass(frozen=True)
class Standing:
    """A project's place in a source's ranked results."""

    project: str
    rank: int  # competition rank, 1 = best; equal ranks are ties the source could not break
    score: float | None = None  # shown to the organizers
    low: int | None = None  # the rank interval from the bootstrap over judges, when there is one
    high: int | None = None


@dataclass(frozen=True)
class Entrant:
    """What a prize needs to know of an eligible project."""

    id: str
    name: str
    category: str | None = None
    opt_ins: frozenset[str] = frozenset()
    calibration: bool = False
    disqualified: str | None = None  # why it may win nothing (e.g. the code review), or None
    review_pending: str | None = None  # a failure the organizers have not decided: it may not win until they do


@dataclass(frozen=True)
class Place:
    place: int
    projects: tuple[str, ...]  # more than one: a shared place (a tie nobody broke)
    reward: str | None = None

    @property
    def tied(self) -> bool:
        return len(self.projects) > 1


@dataclass(frozen=True)
class PrizeResult:
    prize: str
    title: str
    source: str
    places: tuple[Place, ...]
    passed_over: tuple[tuple[str, str], ...] = ()  # (project, why) ranked above a winner but not eligible here
    close_call: tuple[str, ...] = ()
    needs_tie_break: bool = False
    problems: tuple[str, ...] = ()
    awaiting_review: bool = False  # a winner has a code-review failure the organizers have not decided

    @property
    def winners(self) -> tuple[str, ...]:
        return tuple(p for place in self.places for p in place.projects)

    @property
    def decided(self) -> bool:
        return bool(self.places) and not self.needs_tie_break and not self.awaiting_review


def manual_key(prize: Prize) -> str:
    """Where a manual prize's picks go in `results` (a round may share the prize's id)."""
    return f"{MANUAL_SOURCE}:{prize.id}"


def rank_standings(projects: Sequence[str], primary: Sequence[float] | np.ndarray,
                   secondary: Sequence[float] | np.ndarray | None = None, *,
                   low: Sequence[float] | np.ndarray | None = None,
                   high: Sequence[float] | np.ndarray | None = None) -> list[Standing]:
    """Standings from estimates (higher is better): ties on `primary` (to 9 decimals) broken by
    `secondary` (e.g. the raw mean), then shared. NaN estimates (not scored) are left out."""
    first = np.round(np.asarray(primary, dtype=np.float64), DECIMALS)
    second = np.zeros_like(first) if secondary is None else np.round(np.asarray(secondary, dtype=np.float64), DECIMALS)
    if first.shape != (len(projects),) or second.shape != first.shape:
        raise ValueError("one primary (and secondary) value per project")
    second = np.nan_to_num(second, nan=-np.inf)
    keep = [i for i in range(len(projects)) if not np.isnan(first[i])]
    ordered = sorted(keep, key=lambda i: (-first[i], -second[i], projects[i]))
    out: list[Standing] = []
    for pos, i in enumerate(ordered, start=1):
        prev = ordered[pos - 2] if pos > 1 else None
        same = prev is not None and first[prev] == first[i] and second[prev] == second[i]
        rank = out[-1].rank if same else pos
        lo = None if low is None or np.isnan(low[i]) else int(low[i])
        hi = None if high is None or np.isnan(high[i]) else int(high[i])
        out.append(Standing(projects[i], rank, float(first[i]), lo, hi))
    return out


def decision_order(prizes: Sequence[Prize]) -> list[Prize]:
    """Each prize after the prizes it excludes; otherwise in the file's order."""
    by_id = {p.id: p for p in prizes}
    done: list[Prize] = []
    placed: set[str] = set()
    while len(done) < len(prizes):
        ready = next((p for p in prizes if p.id not in placed
                      and all(x in placed or x not in by_id for x in p.excludes)), None)
        if ready is None:
            raise ValueError("the prizes' exclusions go round in a circle; `hackbot config check` names them")
        done.append(ready)
        placed.add(ready.id)
    return done


def decide_winners(prizes: Sequence[Prize], results: Mapping[str, Sequence[Standing]], entrants: Mapping[str, Entrant],
                   *, tie_breaks: Mapping[str, Sequence[str]] | None = None) -> list[PrizeResult]:
    """The winners of every prize, in the event file's (the reveal's) order; see the module doc."""
    tie_breaks = tie_breaks or {}
    won: dict[str, tuple[str, ...]] = {}
    decided: dict[str, PrizeResult] = {}
    for prize in decision_order(prizes):
        key = manual_key(prize) if prize.source == MANUAL_SOURCE else prize.source
        standings = results.get(key)
        if standings is None:
            decided[prize.id] = PrizeResult(prize.id, prize.title, prize.source, (),
                                            problems=(f"no results from {prize.source!r} yet",))
            won[prize.id] = ()
            continue
        result = _decide(prize, standings, entrants, won, tie_breaks.get(prize.id, ()))
        decided[prize.id] = result
        won[prize.id] = result.winners
    return [decided[p.id] for p in prizes]


def _why_not(prize: Prize, entrant: Entrant | None, won: Mapping[str, tuple[str, ...]]) -> str | None:
    if entrant is None:
        return "not an eligible project"
    if entrant.calibration:
        return "a calibration project"
    if entrant.disqualified:
        return f"disqualified: {entrant.disqualified}"
    if prize.category is not None and entrant.category != prize.category:
        return None  # another category: not a candidate at all, not worth listing
    if prize.opt_in and prize.id not in entrant.opt_ins:
        return None
    for other in prize.excludes:
        if entrant.id in won.get(other, ()):
            return f"won {other}"
    return ""


def _decide(prize: Prize, standings: Sequence[Standing], entrants: Mapping[str, Entrant],
            won: Mapping[str, tuple[str, ...]], order: Sequence[str]) -> PrizeResult:
    ranked = sorted(standings, key=lambda s: (s.rank, s.project))
    candidates: list[Standing] = []
    passed: list[tuple[Standing, str]] = []
    for standing in ranked:
        why = _why_not(prize, entrants.get(standing.project), won)
        if why == "":
            candidates.append(standing)
        elif why is not None:
            passed.append((standing, why))
    # group the candidates by the source's rank, then apply the organizers' order inside a group
    groups: list[list[Standing]] = []
    for standing in candidates:
        if groups and groups[-1][0].rank == standing.rank:
            groups[-1].append(standing)
        else:
            groups.append([standing])
    preferred = {project: n for n, project in enumerate(order)}
    split: list[list[Standing]] = []
    for group in groups:
        if len(group) > 1 and all(s.project in preferred for s in group):
            split += [[s] for s in sorted(group, key=lambda s: preferred[s.project])]
        else:
            split.append(group)
    places: list[Place] = []
    filled = 0
    needs_tie_break = False
    for group in split:
        if filled >= prize.places:
            break
        number = filled + 1
        reward = prize.rewards[number - 1] if number - 1 < len(prize.rewards) else None
        places.append(Place(number, tuple(s.project for s in group), reward))
        filled += len(group)
        if filled > prize.places:
            needs_tie_break = True
    problems: list[str] = []
    if filled < prize.places:
        problems.append(f"only {filled} eligible project(s) for {prize.places} place(s)")
    if needs_tie_break:
        tied = ", ".join(places[-1].projects)
        problems.append(f"a tie for place {places[-1].place} ({tied}) gives more winners than places; "
                        "give the organizers' order for this prize")
    winners = {p for place in places for p in place.projects}
    awaiting = [entrants[p].review_pending for p in sorted(winners) if entrants[p].review_pending]
    problems += [f"a winner's code review awaits the organizers: {why}" for why in awaiting]
    last_rank = max((s.rank for s in candidates if s.project in winners), default=0)
    passed_over = tuple((s.project, why) for s, why in passed if s.rank <= last_rank)
    close = _close_call(candidates, winners)
    return PrizeResult(prize.id, prize.title, prize.source, tuple(places), passed_over, close, needs_tie_break,
                       tuple(problems), bool(awaiting))


def _close_call(candidates: list[Standing], winners: set[str]) -> tuple[str, ...]:
    """The last winner and the best runner-up, when their rank intervals overlap."""
    inside = [s for s in candidates if s.project in winners]
    outside = [s for s in candidates if s.project not in winners]
    if not inside or not outside:
        return ()
    last, runner_up = inside[-1], outside[0]
    if last.high is None or runner_up.low is None:
        return ()
    return (last.project, runner_up.project) if runner_up.low <= last.high else ()
