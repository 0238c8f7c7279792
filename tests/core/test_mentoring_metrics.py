"""Ticket metrics and mentor assignment on seeded histories, against references written plainly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.mentoring_metrics import (
    MentorTags,
    TeamTopics,
    TicketRecord,
    claim_spans,
    estimated_wait,
    hungarian,
    km_quantile,
    mentor_ratings,
    propose_assignments,
    tag_metrics,
    uncovered_tags,
)

NOW = datetime(2024, 1, 23, 15, 0, tzinfo=UTC)
TAGS = ["Build", "Train", "Analyse", "Modal"]
MEAN_CLAIM_MIN = {"Build": 4, "Train": 10, "Analyse": 8, "Modal": 40}


def seeded_history(seed: int = 7, n: int = 240, hours: float = 8.0) -> list[TicketRecord]:
    """Tickets over the last `hours`: claim times exponential per tag; some cancelled or still waiting."""
    rng = np.random.default_rng(seed)
    tickets = []
    for i in range(n):
        tag = TAGS[rng.integers(len(TAGS))]
        tags = (tag,) if rng.random() < 0.8 else (tag, TAGS[rng.integers(len(TAGS))])
        opened = NOW - timedelta(hours=hours * rng.random())
        wait = timedelta(minutes=float(rng.exponential(MEAN_CLAIM_MIN[tag])))
        work = timedelta(minutes=float(rng.exponential(20)))
        if opened + wait > NOW:  # still waiting
            tickets.append(TicketRecord(i, tags, opened))
        elif rng.random() < 0.1:  # the team gave up first
            tickets.append(TicketRecord(i, tags, opened, closed_at=opened + wait * 0.5, outcome="cancelled"))
        elif opened + wait + work > NOW:  # claimed, being helped
            tickets.append(TicketRecord(i, tags, opened, claimed_at=opened + wait, mentor=int(rng.integers(5))))
        else:
            tickets.append(TicketRecord(i, tags, opened, claimed_at=opened + wait, closed_at=opened + wait + work,
                                        outcome="resolved", mentor=int(rng.integers(5)), rating=int(rng.integers(3, 6))))
    return tickets


def reference_km_quantile(durations, observed, q):
    pairs = sorted(zip(durations, observed, strict=True), key=lambda p: (p[0], not p[1]))
    survival, at_risk = 1.0, len(pairs)
    for duration, seen in pairs:
        if seen:
            survival *= 1 - 1 / at_risk
            if 1 - survival >= q - 1e-12:
                return duration
        at_risk -= 1
    return None


spans_st = st.lists(st.tuples(st.integers(0, 50).map(float), st.booleans()), max_size=40)


# --- Kaplan-Meier ----------------------------------------------------------------------------

@given(st.lists(st.integers(0, 1000).map(float), min_size=1, max_size=50), st.sampled_from([0.1, 0.5, 0.9, 1.0]))
def test_without_censoring_it_is_the_empirical_quantile(durations, q):
    assert km_quantile(durations, [True] * len(durations), q) == np.quantile(durations, q, method="inverted_cdf")


@given(spans_st, st.sampled_from([0.25, 0.5, 0.9]))
def test_with_censoring_it_matches_the_reference(spans, q):
    d, o = [s for s, _ in spans], [b for _, b in spans]
    assert km_quantile(d, o, q) == reference_km_quantile(d, o, q)


def test_censored_waits_move_the_median_up():
    # claimed after 2 and 4 minutes; two others waited 1 and 3 minutes and are still waiting
    assert km_quantile([1, 2, 3, 4], [False, True, False, True], 0.5) == 4
    assert km_quantile([2, 4], [True, True], 0.5) == 2  # what ignoring the waiting tickets would say
    assert km_quantile([5, 6], [False, False], 0.5) is None
    assert km_quantile([], [], 0.5) is None
    with pytest.raises(ValueError):
        km_quantile([1], [True], 0)


# --- the estimated wait ----------------------------------------------------------------------

def test_the_estimated_wait_is_the_median_claim_of_recent_tickets_with_the_same_tags():
    history = seeded_history()
    modal = estimated_wait(history, ["Modal"], NOW)
    build = estimated_wait(history, ["build"], NOW)  # tags compare without case
    assert modal.basis == build.basis == "same tags"
    same = [t for t in history if "Modal" in t.tags and t.opened_at >= NOW - timedelta(hours=6)]
    spans = claim_spans(same, NOW)
    expected = km_quantile([s for s, _ in spans], [o for _, o in spans], 0.5)
    assert modal.median.value == timedelta(seconds=expected)
    assert modal.samples == sum(1 for t in same if t.claimed_at is not None)
    assert build.median.value < modal.median.value  # Build help comes ten times faster in this history


def test_few_tickets_with_the_tags_fall_back_to_all_then_to_nothing():
    history = [TicketRecord(i, ("Build",), NOW - timedelta(minutes=60 - i), claimed_at=NOW - timedelta(minutes=50 - i))
               for i in range(5)]
    history.append(TicketRecord(99, ("JAX",), NOW - timedelta(minutes=30), claimed_at=NOW - timedelta(minutes=1)))
    jax = estimated_wait(history, ["JAX"], NOW)
    assert jax.basis == "all tickets" and jax.samples == 6
    assert jax.median.value == timedelta(minutes=10)
    assert estimated_wait([], ["JAX"], NOW).basis == "no history"
    old = [TicketRecord(i, ("Build",), NOW - timedelta(days=2), claimed_at=NOW - timedelta(days=2)) for i in range(9)]
    assert estimated_wait(old, ["Build"], NOW).basis == "no history"  # nothing recent


def test_a_queue_that_is_stuck_says_more_than():
    stuck = [TicketRecord(i, ("Modal",), NOW - timedelta(minutes=90 + i)) for i in range(10)]
    claimed = [TicketRecord(100 + i, ("Modal",), NOW - timedelta(hours=3), claimed_at=NOW - timedelta(hours=3) +
                            timedelta(minutes=5)) for i in range(3)]
    wait = estimated_wait(stuck + claimed, ["Modal"], NOW)
    assert wait.median.value is None and wait.median.at_least == timedelta(minutes=99)
    assert str(wait.median) == "more than 99 min"


# --- metrics per tag -------------------------------------------------------------------------

def test_tag_metrics_on_a_seeded_history():
    history = seeded_history()
    rows = {row.tag: row for row in tag_metrics(history, TAGS, NOW)}
    assert list(rows) == [*TAGS, "(all)"]
    everything = rows["(all)"]
    assert everything.opened == len(history)
    assert everything.waiting == sum(1 for t in history if t.claimed_at is None and t.outcome == "open")
    assert everything.resolved == sum(1 for t in history if t.outcome == "resolved")
    for tag in TAGS:
        row = rows[tag]
        group = [t for t in history if tag in t.tags]
        assert row.opened == len(group)
        spans = claim_spans(group, NOW)
        p90 = km_quantile([s for s, _ in spans], [o for _, o in spans], 0.9)
        assert row.claim_p90.value == (timedelta(seconds=p90) if p90 is not None else None)
        assert row.claim_median.value is not None and row.resolve_median.value is not None
        if row.claim_p90.value is not None:
            assert row.claim_p90.value >= row.claim_median.value
        assert row.resolve_median.value >= row.claim_median.value
    assert rows["Modal"].claim_median.value > rows["Build"].claim_median.value
    assert sum(rows[t].opened for t in TAGS) >= everything.opened  # tickets with two tags count twice


def test_tags_nobody_on_duty_covers():
    assert uncovered_tags(TAGS, {1: ["build", "Train"], 2: ["Train"]}) == ["Analyse", "Modal"]
    assert uncovered_tags(TAGS, {}) == TAGS


# --- ratings ---------------------------------------------------------------------------------

def test_one_five_does_not_top_a_long_record():
    ratings = {1: [5], 2: [5] * 28 + [4] * 12}  # mentor 2: 40 ratings averaging 4.7
    ranked = mentor_ratings(ratings, prior_mean=4.2)
    assert [r.mentor for r in ranked] == [2, 1]
    assert ranked[1].score == pytest.approx((5 * 4.2 + 5) / 6) and ranked[1].mean == 5
    assert ranked[0].score == pytest.approx((5 * 4.2 + 188) / 45) and ranked[0].count == 40


def test_the_prior_is_the_events_mean_rating():
    ranked = mentor_ratings({1: [4, 4], 2: [2]})
    prior = 10 / 3
    assert {r.mentor: r.score for r in ranked} == pytest.approx({1: (5 * prior + 8) / 7, 2: (5 * prior + 2) / 6})
    assert mentor_ratings({}) == [] and mentor_ratings({3: []}) == []
    with pytest.raises(ValueError):
        mentor_ratings({1: [6]})


# --- assignment ------------------------------------------------------------------------------

@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.just(n), st.integers(n, 6).flatmap(lambda m: st.lists(st.lists(st.integers(-20, 20), min_size=m, max_size=m),
                                                               min_size=n, max_size=n)))))
def test_hungarian_finds_the_cheapest_assignment(data):
    _, rows = data
    cost = np.array(rows, dtype=np.float64)
    n, m = cost.shape
    columns = hungarian(cost)
    assert len(set(columns.tolist())) == n and (columns >= 0).all()
    best = min(sum(cost[i, c] for i, c in enumerate(perm)) for perm in itertools.permutations(range(m), n))
    assert cost[np.arange(n), columns].sum() == best


team_st = st.builds(TeamTopics, st.integers(0, 10**6), st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple))
mentor_st = st.builds(MentorTags, st.integers(0, 10**6), st.lists(st.sampled_from(TAGS), max_size=3, unique=True).map(tuple),
                      st.one_of(st.none(), st.integers(0, 3)))


def brute_force_matches(teams, mentors, cap) -> int:
    """The most (topic, tag) matches any assignment within the loads can reach, teams placed as many as possible."""
    caps = [min(cap, m.capacity if m.capacity is not None else cap) for m in mentors]
    best = (-1, -1)
    for choice in itertools.product(range(-1, len(mentors)), repeat=len(teams)):
        if any(choice.count(mi) > caps[mi] for mi in range(len(mentors))):
            continue
        placed = sum(1 for c in choice if c >= 0)
        score = sum(len({x.casefold() for x in t.topics} & {y.casefold() for y in mentors[c].tags})
                    for t, c in zip(teams, choice, strict=True) if c >= 0)
        best = max(best, (placed, score))
    return best[1]


@given(st.lists(team_st, min_size=1, max_size=5, unique_by=lambda t: t.team),
       st.lists(mentor_st, min_size=1, max_size=3, unique_by=lambda m: m.mentor), st.integers(0, 2**32))
def test_the_proposal_places_everyone_it_can_within_the_loads_and_matches_best(teams, mentors, seed):
    proposal = propose_assignments(teams, mentors, seed=seed)
    paired = [p.team for p in proposal.pairs]
    assert sorted(paired + list(proposal.unassigned)) == sorted(t.team for t in teams)
    for mentor in mentors:
        assert proposal.loads[mentor.mentor] <= min(proposal.cap, mentor.capacity if mentor.capacity is not None else 99)
    topics = {t.team: {x.casefold() for x in t.topics} for t in teams}
    tags = {m.mentor: {x.casefold() for x in m.tags} for m in mentors}
    assert all({s.casefold() for s in p.shared} == topics[p.team] & tags[p.mentor] for p in proposal.pairs)
    total = sum(len(p.shared) for p in proposal.pairs)
    assert total == brute_force_matches(teams, mentors, proposal.cap)
    assert propose_assignments(teams, mentors, seed=seed) == proposal  # the same seed, the same proposal


def test_loads_are_balanced_when_every_mentor_fits():
    teams = [TeamTopics(i, ("Build",)) for i in range(23)]
    mentors = [MentorTags(100 + i, ("Build", "Train")) for i in range(5)]
    proposal = propose_assignments(teams, mentors, seed=1)
    assert sorted(proposal.loads.values()) == [4, 4, 5, 5, 5] and proposal.cap == 5
    assert proposal.unmatched == () and proposal.unassigned == ()


def test_topics_win_over_balance_within_the_cap_and_seeds_change_only_ties():
    teams = [TeamTopics(i, ("Modal",)) for i in range(4)] + [TeamTopics(10 + i, ("Train",)) for i in range(4)]
    mentors = [MentorTags(1, ("Modal",)), MentorTags(2, ("Train",)), MentorTags(3, ("Train", "Modal"))]
    proposals = [propose_assignments(teams, mentors, seed=s) for s in range(6)]
    for proposal in proposals:
        assert proposal.unmatched == () and max(proposal.loads.values()) <= 3
    assert len({p.pairs for p in proposals}) > 1  # equally good proposals differ by seed


def test_teams_no_mentor_covers_are_still_paired_and_shown():
    proposal = propose_assignments([TeamTopics(1, ("JAX",)), TeamTopics(2, ("Build",))], [MentorTags(9, ("Build",))])
    assert {p.team: p.shared for p in proposal.pairs} == {1: (), 2: ("Build",)}
    assert proposal.unmatched == (1,)


def test_conflicts_and_capacity_leave_teams_unassigned_rather_than_break_rules():
    teams = [TeamTopics(i, ("Build",)) for i in range(4)]
    mentors = [MentorTags(7, ("Build",), capacity=1), MentorTags(8, ("Build",))]
    proposal = propose_assignments(teams, mentors, conflicts=[(0, 8), (1, 8)])
    assert all((p.team, p.mentor) not in {(0, 8), (1, 8)} for p in proposal.pairs)
    assert proposal.loads[7] <= 1 and proposal.loads[8] <= 2
    assert len(proposal.pairs) == 3 and len(proposal.unassigned) == 1
    assert propose_assignments(teams, []).unassigned == (0, 1, 2, 3)
