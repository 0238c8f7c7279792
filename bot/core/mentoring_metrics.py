"""Numbers about help tickets and mentors, and a proposal of mentors for teams. Pure: no database.

**Waits and durations.** A ticket still waiting, or closed without being claimed (cancelled,
stale), tells us only that its wait was *at least* that long. Dropping such tickets would make
the queue look faster than it is exactly when it is slow, so the times to claim and to resolve
are estimated with the Kaplan-Meier estimator, which counts them as right-censored: the
q-quantile is the smallest time t with estimated P(duration <= t) >= q. Without censored tickets
it is the plain empirical quantile (numpy's "inverted_cdf"). When fewer than q of the tickets
can be known to have finished by the longest time seen, the quantile is unknown: it is reported
as "more than" that time.

- time to claim: from opening to the first claim (a release does not reset it);
- time to resolve: from opening to resolution (what the team lived through);
- estimated wait for a new ticket: the median time to claim of the recent tickets sharing a tag
  with it (at least `min_samples` claimed ones), else of all recent tickets, else unknown.

**Mentors' ratings** (1-5 after a resolved ticket) are ranked by a Bayesian average: the mean of
a mentor's ratings and of `PRIOR_WEIGHT` = 5 imaginary ratings at the prior mean, which is the
mean of every rating given at the event (3, the middle of the scale, before any). One 5 from a
single ticket thus sits near the event's mean (with an event mean of 4.2: (5 x 4.2 + 5) / 6 = 4.33),
below a mentor with 40 ratings averaging 4.7 ((5 x 4.2 + 188) / 45 = 4.64). The raw mean and the
count are reported beside it.

**Assignment of mentors to teams.** Each team gets one mentor; a mentor takes at most
ceil(teams / mentors) teams (or their own lower capacity). Among the assignments within those
loads, the proposal maximises, in this order: the number of (team topic, mentor tag) matches,
then the balance of loads (each further team of a mentor costs more than the one before), then
a tie-break drawn from the seed. It is solved exactly as a minimum-cost assignment (the Hungarian
algorithm over mentor slots), so the same teams, mentors and seed give the same proposal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

PRIOR_WEIGHT = 5  # imaginary ratings at the prior mean
DEFAULT_PRIOR_MEAN = 3.0  # the middle of the 1-5 scale, before any rating is given

Outcome = Literal["open", "resolved", "cancelled", "stale"]
Basis = Literal["same tags", "all tickets"]


@dataclass(frozen=True)
class TicketRecord:
    id: int
    tags: tuple[str, ...]
    opened_at: datetime
    claimed_at: datetime | None = None  # the first claim
    closed_at: datetime | None = None
    outcome: Outcome = "open"  # "open" also while claimed and not yet closed
    mentor: int | None = None  # who resolved it
    rating: int | None = None  # 1-5, given by the team after resolution


def _fold(tags: Iterable[str]) -> set[str]:
    return {t.casefold() for t in tags}


# --- Kaplan-Meier quantiles -----------------------------------------------------------------

def km_quantile(durations: Sequence[float] | np.ndarray, observed: Sequence[bool] | np.ndarray, q: float) -> float | None:
    """The q-quantile of a duration under right-censoring: the smallest observed duration t with
    1 - S(t) >= q, S the Kaplan-Meier survival estimate. None when the estimate never reaches q."""
    if not 0 < q <= 1:
        raise ValueError("q must be in (0, 1]")
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(observed, dtype=bool)
    if d.shape != e.shape or d.ndim != 1:
        raise ValueError("durations and observed must be 1-D and of the same length")
    if d.size == 0:
        return None
    order = np.lexsort((~e, d))  # by duration; at equal durations, events before censorings
    d, e = d[order], e[order]
    at_risk = d.size - np.arange(d.size)
    survival = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
    reached = np.flatnonzero(e & (1.0 - survival >= q - 1e-12))
    return float(d[reached[0]]) if reached.size else None


@dataclass(frozen=True)
class Quantile:
    value: timedelta | None  # None: not known yet
    at_least: timedelta | None = None  # when unknown: the longest duration seen (the quantile is beyond it)

    def __str__(self) -> str:
        if self.value is not None:
            return _minutes(self.value)
        return f"more than {_minutes(self.at_least)}" if self.at_least is not None else "no data"


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _quantile(spans: list[tuple[float, bool]], q: float) -> Quantile:
    if not spans:
        return Quantile(None)
    value = km_quantile([s for s, _ in spans], [o for _, o in spans], q)
    if value is None:
        return Quantile(None, timedelta(seconds=max(s for s, _ in spans)))
    return Quantile(timedelta(seconds=value))


def claim_spans(tickets: Iterable[TicketRecord], now: datetime) -> list[tuple[float, bool]]:
    """(seconds from opening to claim, claimed?) per ticket; an unclaimed one is censored."""
    out = []
    for t in tickets:
        if t.claimed_at is not None:
            out.append(((t.claimed_at - t.opened_at).total_seconds(), True))
        else:
            end = t.closed_at if t.closed_at is not None else now
            out.append((max(0.0, (end - t.opened_at).total_seconds()), False))
    return out


def resolve_spans(tickets: Iterable[TicketRecord], now: datetime) -> list[tuple[float, bool]]:
    """(seconds from opening to resolution, resolved?) per ticket; any other one is censored."""
    out = []
    for t in tickets:
        end = t.closed_at if t.closed_at is not None else now
        out.append((max(0.0, (end - t.opened_at).total_seconds()), t.outcome == "resolved"))
    return out


# --- the estimated wait ---------------------------------------------------------------------

@dataclass(frozen=True)
class WaitEstimate:
    median: Quantile
    basis: Basis | Literal["no history"]
    samples: int  # claimed tickets it rests on


def estimated_wait(
    tickets: Sequence[TicketRecord],
    tags: Iterable[str],
    now: datetime,
    *,
    recent: timedelta = timedelta(hours=6),
    min_samples: int = 3,
) -> WaitEstimate:
    """The median time to claim of tickets opened in the last `recent` that share a tag with `tags`."""
    wanted = _fold(tags)
    pool = [t for t in tickets if now - recent <= t.opened_at <= now]
    same = [t for t in pool if wanted & _fold(t.tags)]
    bases: tuple[tuple[Basis, list[TicketRecord]], ...] = (("same tags", same), ("all tickets", pool))
    if not wanted:  # a ticket without tags is compared with every ticket, and says so
        bases = bases[1:]
    for basis, group in bases:
        claimed = sum(1 for t in group if t.claimed_at is not None)
        if claimed >= min_samples:
            return WaitEstimate(_quantile(claim_spans(group, now), 0.5), basis, claimed)
    return WaitEstimate(Quantile(None), "no history", 0)


# --- per-tag metrics ------------------------------------------------------------------------

@dataclass(frozen=True)
class TagMetrics:
    tag: str  # "(all)" for every ticket
    opened: int
    claimed: int
    resolved: int
    waiting: int  # open and unclaimed now
    claim_median: Quantile
    claim_p90: Quantile
    resolve_median: Quantile
    resolve_p90: Quantile


def _metrics(tag: str, group: list[TicketRecord], now: datetime) -> TagMetrics:
    claims, resolves = claim_spans(group, now), resolve_spans(group, now)
    return TagMetrics(
        tag=tag,
        opened=len(group),
        claimed=sum(1 for t in group if t.claimed_at is not None),
        resolved=sum(1 for t in group if t.outcome == "resolved"),
        waiting=sum(1 for t in group if t.outcome == "open" and t.claimed_at is None),
        claim_median=_quantile(claims, 0.5),
        claim_p90=_quantile(claims, 0.9),
        resolve_median=_quantile(resolves, 0.5),
        resolve_p90=_quantile(resolves, 0.9),
    )


def tag_metrics(tickets: Sequence[TicketRecord], tags: Sequence[str], now: datetime) -> list[TagMetrics]:
    """One row per event tag (a ticket with several tags counts in each), then one for all tickets."""
    rows = [_metrics(tag, [t for t in tickets if tag.casefold() in _fold(t.tags)], now) for tag in tags]
    return rows + [_metrics("(all)", list(tickets), now)]


def uncovered_tags(tags: Sequence[str], on_duty: Mapping[int, Iterable[str]]) -> list[str]:
    """The event's tags that no mentor on duty covers, in the event's order."""
    covered = set().union(*(_fold(t) for t in on_duty.values())) if on_duty else set()
    return [tag for tag in tags if tag.casefold() not in covered]


# --- mentors' ratings -----------------------------------------------------------------------

@dataclass(frozen=True)
class MentorRating:
    mentor: int
    count: int
    mean: float
    score: float  # the Bayesian average that ranks mentors


def mentor_ratings(
    ratings: Mapping[int, Sequence[int]], *, prior_weight: float = PRIOR_WEIGHT, prior_mean: float | None = None
) -> list[MentorRating]:
    """Mentors best first by Bayesian average (see the module docstring); ties: more ratings, then id."""
    every = [r for rs in ratings.values() for r in rs]
    if any(not 1 <= r <= 5 for r in every):
        raise ValueError("ratings are 1 to 5")
    m = prior_mean if prior_mean is not None else (sum(every) / len(every) if every else DEFAULT_PRIOR_MEAN)
    out = [
        MentorRating(mentor, len(rs), sum(rs) / len(rs), (prior_weight * m + sum(rs)) / (prior_weight + len(rs)))
        for mentor, rs in ratings.items() if rs
    ]
    return sorted(out, key=lambda r: (-r.score, -r.count, r.mentor))


# --- mentors for teams ----------------------------------------------------------------------

@dataclass(frozen=True)
class TeamTopics:
    team: int
    topics: tuple[str, ...]  # from the members' matchmaking profiles and the project's category


@dataclass(frozen=True)
class MentorTags:
    mentor: int
    tags: tuple[str, ...]
    capacity: int | None = None  # at most this many teams (None: the balanced share)


@dataclass(frozen=True)
class Pairing:
    team: int
    mentor: int
    shared: tuple[str, ...]  # the team's topics the mentor covers; empty: no mentor covers them


@dataclass(frozen=True)
class AssignmentProposal:
    pairs: tuple[Pairing, ...]
    unassigned: tuple[int, ...]  # teams left without a mentor (too few places)
    loads: dict[int, int]  # mentor -> teams
    cap: int  # the balanced share: ceil(teams / mentors)

    @property
    def unmatched(self) -> tuple[int, ...]:
        """Teams paired with a mentor who covers none of their topics."""
        return tuple(p.team for p in self.pairs if not p.shared)


def hungarian(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost assignment of every row to a distinct column (rows <= columns); the column of
    each row. The O(n^2 m) shortest augmenting path method with potentials, vectorized over columns."""
    n, m = cost.shape
    if n > m:
        raise ValueError("more rows than columns")
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    p = np.zeros(m + 1, dtype=np.int64)  # p[j]: the row (1-based) holding column j; 0: free
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            masked = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(masked)) + 1
            delta = masked[j1 - 1]
            held = np.flatnonzero(used)
            u[p[held]] += delta
            v[held] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = int(way[j0])
            p[j0] = p[j1]
            j0 = j1
    out = np.full(n, -1, dtype=np.int64)
    for j in range(1, m + 1):
        if p[j]:
            out[p[j] - 1] = j - 1
    return out


def propose_assignments(
    teams: Sequence[TeamTopics],
    mentors: Sequence[MentorTags],
    *,
    seed: int = 0,
    conflicts: Iterable[tuple[int, int]] = (),
) -> AssignmentProposal:
    """One mentor per team, loads balanced, topics matched (see the module docstring).
    `conflicts`: (team, mentor) pairs never proposed (a mentor who is a member of the team)."""
    n_teams = len(teams)
    if not mentors or not teams:
        return AssignmentProposal((), tuple(t.team for t in teams), {m.mentor: 0 for m in mentors}, 0)
    cap = math.ceil(n_teams / len(mentors))
    slots = [(mi, k) for mi, m in enumerate(mentors) for k in range(min(cap, m.capacity if m.capacity is not None else cap))]
    forbidden = set(conflicts)
    team_topics = [_fold(t.topics) for t in teams]
    mentor_tags = [_fold(m.tags) for m in mentors]
    matches = np.array([[len(tt & mt) for mt in mentor_tags] for tt in team_topics], dtype=np.float64)
    # lexicographic objective as one cost: matches first, then balance, then the seed's tie-break
    w_match = float(n_teams * cap + 1)
    jitter = np.random.default_rng(seed).random((n_teams, len(mentors))) * (0.5 / (n_teams + 1))
    slot_mentor = np.array([mi for mi, _ in slots], dtype=np.int64)
    slot_rank = np.array([k for _, k in slots], dtype=np.float64)
    # a place left empty (a dummy column, one per team) costs more than any set of real pairs; a
    # conflict costs more still. Kept near the data's scale so that the seed's jitter stays exact.
    no_place = (w_match * (matches.max(initial=0) + 1) + cap + 1) * (n_teams + 1)
    cost = np.full((n_teams, len(slots) + n_teams), no_place)
    if slots:
        cost[:, : len(slots)] = -w_match * matches[:, slot_mentor] + slot_rank[None, :] + jitter[:, slot_mentor]
        for ti, team in enumerate(teams):
            for mi, mentor in enumerate(mentors):
                if (team.team, mentor.mentor) in forbidden:
                    cost[ti, : len(slots)][slot_mentor == mi] = 2 * no_place
    columns = hungarian(cost)
    pairs, unassigned = [], []
    loads = {m.mentor: 0 for m in mentors}
    for ti, col in enumerate(columns):
        if col >= len(slots) or cost[ti, col] >= no_place:
            unassigned.append(teams[ti].team)
            continue
        mentor = mentors[slots[col][0]]
        loads[mentor.mentor] += 1
        shared = tuple(t for t in teams[ti].topics if t.casefold() in mentor_tags[slots[col][0]])
        pairs.append(Pairing(teams[ti].team, mentor.mentor, shared))
    return AssignmentProposal(tuple(pairs), tuple(unassigned), loads, cap)
