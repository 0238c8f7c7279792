"""Vote counts: each rule against a plain-Python reference, and the properties a voter expects."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scoring.vote import ballot_matrix, count, count_approval, count_borda, count_single, position_counts


@st.composite
def ballots_st(draw, max_candidates: int = 8, max_ballots: int = 40, full: bool = False):
    n = draw(st.integers(1, max_candidates))
    m = n if full else draw(st.integers(1, n))
    sizes = st.just(n) if full else st.integers(0, m)
    ballots = draw(st.lists(sizes.flatmap(lambda k: st.permutations(range(n)).map(lambda p: list(p[:k]))),
                            max_size=max_ballots))
    return n, m, ballots


def reference_points(kind: str, ballots: list[list[int]], n: int, m: int) -> list[int]:
    points = [0] * n
    for ballot in ballots:
        for position, candidate in enumerate(ballot):
            points[candidate] += (m - position) if kind == "ranked" else 1
    return points


def reference_groups(keys: list[tuple]) -> list[list[int]]:
    order = sorted(range(len(keys)), key=lambda c: tuple(-k for k in keys[c]))
    groups: list[list[int]] = []
    for c in order:
        if groups and keys[groups[-1][0]] == keys[c]:
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups


@given(ballots_st())
def test_approval_matches_the_reference_and_ties_are_groups(data):
    n, m, ballots = data
    tally = count_approval(ballot_matrix(ballots, n, m), n, m)
    points = reference_points("approval", ballots, n, m)
    assert tally.points.tolist() == points
    assert [list(g) for g in tally.groups] == reference_groups([(p,) for p in points])
    assert tally.ballots == len(ballots)
    assert tally.points.sum() == sum(len(b) for b in ballots)


@given(ballots_st())
def test_borda_matches_the_reference_including_the_countback(data):
    n, m, ballots = data
    matrix = ballot_matrix(ballots, n, m)
    tally = count_borda(matrix, n, m)
    points = reference_points("ranked", ballots, n, m)
    assert tally.points.tolist() == points
    positions = [[sum(1 for b in ballots if len(b) > i and b[i] == c) for i in range(m)] for c in range(n)]
    assert position_counts(matrix, n, m).tolist() == positions
    assert [list(g) for g in tally.groups] == reference_groups([(points[c], *positions[c]) for c in range(n)])
    plain = count_borda(matrix, n, m, tie_break="none")
    assert [list(g) for g in plain.groups] == reference_groups([(p,) for p in points])


@given(ballots_st(full=True))
def test_full_rankings_order_candidates_as_the_classic_borda_count(data):
    n, _, ballots = data
    tally = count_borda(ballot_matrix(ballots, n), n)
    classic = np.zeros(n, dtype=np.int64)
    for ballot in ballots:
        for i, c in enumerate(ballot):
            classic[c] += n - 1 - i
    assert (tally.points - classic == len(ballots)).all()  # one more point per ballot, for every candidate
    assert tally.points.sum() == len(ballots) * n * (n + 1) // 2


@given(ballots_st(full=True))
def test_reversing_every_full_ranking_reverses_the_points(data):
    n, _, ballots = data
    forward = count_borda(ballot_matrix(ballots, n), n)
    backward = count_borda(ballot_matrix([b[::-1] for b in ballots], n), n)
    assert (forward.points + backward.points == (n + 1) * len(ballots)).all()


@given(ballots_st(), st.randoms(use_true_random=False))
def test_the_order_of_ballots_does_not_matter(data, rnd):
    n, m, ballots = data
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    for kind in ("approval", "ranked"):
        a = count(kind, ballot_matrix(ballots, n, m), n, m)
        b = count(kind, ballot_matrix(shuffled, n, m), n, m)
        assert a.points.tolist() == b.points.tolist() and a.groups == b.groups


@given(ballots_st(), st.randoms(use_true_random=False))
def test_renaming_candidates_renames_the_result(data, rnd):
    n, m, ballots = data
    perm = list(range(n))
    rnd.shuffle(perm)
    renamed = [[perm[c] for c in b] for b in ballots]
    for kind in ("approval", "ranked"):
        a = count(kind, ballot_matrix(ballots, n, m), n, m)
        b = count(kind, ballot_matrix(renamed, n, m), n, m)
        assert all(b.points[perm[c]] == a.points[c] for c in range(n))
        assert sorted(sorted(perm[c] for c in g) for g in a.groups) == sorted(sorted(g) for g in b.groups)
        assert all(b.ranks[perm[c]] == a.ranks[c] for c in range(n))


@given(ballots_st(), st.data())
def test_raising_a_candidate_on_one_ballot_never_lowers_its_rank(data, draw):
    n, m, ballots = data
    assume(any(len(b) >= 2 for b in ballots))
    i = draw.draw(st.sampled_from([i for i, b in enumerate(ballots) if len(b) >= 2]))
    pos = draw.draw(st.integers(1, len(ballots[i]) - 1))
    raised = [list(b) for b in ballots]
    raised[i][pos - 1], raised[i][pos] = raised[i][pos], raised[i][pos - 1]
    candidate = raised[i][pos - 1]
    before = count_borda(ballot_matrix(ballots, n, m), n, m)
    after = count_borda(ballot_matrix(raised, n, m), n, m)
    assert after.points[candidate] == before.points[candidate] + 1
    assert after.ranks[candidate] <= before.ranks[candidate]


@given(ballots_st())
def test_single_is_approval_of_one(data):
    n, _, ballots = data
    firsts = [b[:1] for b in ballots]
    single = count_single(ballot_matrix(firsts, n, 1), n)
    approval = count_approval(ballot_matrix(firsts, n, 1), n, 1)
    assert single.points.tolist() == approval.points.tolist() and single.groups == approval.groups
    assert single.winners == approval.winners


@given(ballots_st())
def test_the_winners_have_the_most_points_and_ranks_count_those_above(data):
    n, m, ballots = data
    tally = count_approval(ballot_matrix(ballots, n, m), n, m)
    assert set(tally.winners) == set(np.flatnonzero(tally.points == tally.points.max()).tolist())
    for c in range(n):
        assert tally.ranks[c] == 1 + int((tally.points > tally.points[c]).sum())


def test_a_tie_is_reported_as_a_tie():
    tally = count_approval(ballot_matrix([[0, 1], [1, 0], [2]], 3, 2), 3, 2)
    assert tally.winners == (0, 1) and tally.tied
    assert tally.ranks.tolist() == [1, 1, 3]
    assert "tie" in tally.tie_break


def test_borda_countback_breaks_equal_points_by_first_choices():
    # 0: 3 + 1 = 4 points, one first choice; 1: 2 + 2 = 4 points, no first choice
    ballots = [[0, 1, 2], [2, 1, 0]]
    tally = count_borda(ballot_matrix(ballots, 3), 3)
    assert tally.points.tolist() == [4, 4, 4]
    # 0 and 2 each have one first choice; 1 has none: 0 and 2 stay tied, ahead of 1
    assert tally.groups == ((0, 2), (1,))
    assert count_borda(ballot_matrix(ballots, 3), 3, tie_break="none").groups == ((0, 1, 2),)


def test_truncated_rankings_give_the_ranked_the_same_points():
    tally = count_borda(ballot_matrix([[3], [3, 1, 0]], 5, 3), 5, 3)
    assert tally.points.tolist() == [1, 2, 0, 6, 0]
    assert tally.winners == (3,)


def test_no_ballots_and_empty_ballots():
    tally = count_approval(ballot_matrix([], 3, 2), 3, 2)
    assert tally.points.tolist() == [0, 0, 0] and tally.groups == ((0, 1, 2),) and tally.ballots == 0
    tally = count_borda(ballot_matrix([[], []], 2, 2), 2, 2)
    assert tally.ballots == 2 and tally.tied
    assert count_approval(ballot_matrix([], 0, 1), 0, 1).winners == ()


@pytest.mark.parametrize(("ballots", "message"), [
    ([[0, 0]], "twice"), ([[5]], "outside"), ([[0, 1, 2]], "at most 2"), ([[-1]], "outside"),
])
def test_bad_ballots_are_refused(ballots, message):
    with pytest.raises(ValueError, match=message):
        ballot_matrix(ballots, 3, 2)


def test_bad_matrices_are_refused():
    with pytest.raises(ValueError, match="twice"):
        count_approval(np.array([[1, 1]]), 3, 2)
    with pytest.raises(ValueError, match="gap"):
        count_borda(np.array([[-1, 1]]), 3, 2)
    with pytest.raises(ValueError, match="more than 1"):
        count_single(np.array([[0, 1]]), 3)
    with pytest.raises(ValueError, match="max_choices"):
        count("approval", np.array([[0]]), 3)
