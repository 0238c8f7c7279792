"""Jury aggregation: rubric scores, rankings and pairwise choices in; estimates and ranks out.

Arrays in, arrays out. Projects and judges are integer indices (0..P-1, 0..J-1); the caller
maps them to teams and people. Nothing here knows of a database or Discord.

Rubric scores: the additive model
---------------------------------
Each review r (judge j scores project p) gives one number, the weighted mean of its criteria
(`review_scores`). It is read as

    score[r] = quality[p] + offset[j] + noise[r],   noise ~ N(0, s2),  offset ~ N(0, t2)

`quality` is the project's score as an average judge would give it; `offset` is how much more
(or less) generous judge j is than the average. The offsets are a random effect shrunk towards
zero; the qualities are fixed effects (no prior). `fit_additive` finds

    argmin  sum_r (score[r] - quality[p] - offset[j])^2  +  lam * sum_j offset[j]^2

exactly, with lam = s2 / t2, by eliminating the qualities and solving the J x J system of the
offsets (its matrix K + lam*I is diagonalised once, so trying another lam costs O(J^2)).

The prior strength lam is estimated from the data (empirical Bayes): s2 and t2 are the REML
estimates, found by the EM algorithm for variance components (Laird and Ware, 1982): the
offsets' posterior is Gaussian with mean the fit above and covariance s2 (K + lam I)^-1, and

    s2 <- (RSS + s2 * df) / R,        df = P_seen + J_seen - lam * tr((K + lam I)^-1)
    t2 <- (|offset|^2 + s2 * tr((K + lam I)^-1)) / J_seen

until lam moves by less than 1e-6 (relative); `noise_sd` and `offset_sd` report them. lam reads
as "pseudo-reviews at offset zero": a judge with n reviews keeps about n / (n + lam) of their
apparent generosity. The lam of the final solve is clamped to [MIN_PRIOR_STRENGTH,
MAX_PRIOR_STRENGTH]: never below 1, so a judge with a single review is
never trusted more than halfway (one score cannot tell a harsh judge from a weak project); at
the top, 1e4 means the data show no judge differences and the fit is the raw mean. Pass
`prior_strength` to fix lam instead.

Why not the raw mean: with three reviews a project, the luck of drawing a harsh judge moves a
project by as much as the judge's offset divided by three. Why not z-scores per judge: they
assume every judge saw a like sample of projects, so a judge who happened to draw strong
projects has them pushed down; and a judge with few reviews gets a mean and a spread from a
handful of numbers. The additive model compares judges through the projects they share.

Rankings and pairwise choices
-----------------------------
A ranking (a judge orders a subset, best first) is broken into all the pairs it implies
(`rankings_to_pairs`; full rank-breaking, consistent for the Plackett-Luce model). Pairs are
counted in a win matrix W (W[a, b] = times a beat b). `copeland` counts head-to-head majorities
(1 per opponent beaten, 1/2 per tie); `bradley_terry` fits strengths with choix's iterative
Luce spectral ranking on W, regularised by `alpha` (choix initialises every transition rate of
its Markov chain with alpha: loosely a Beta prior on every pair's outcome, which keeps a project
that won every comparison finite and places a project never compared at the middle).

Uncertainty: a bootstrap over judges
------------------------------------
`bootstrap_ranks` resamples the judges with replacement (each draw of a judge becomes a judge
of its own, as in a cluster bootstrap), refits, and ranks. A project's rank interval holds the
central `level` of its bootstrap ranks. `too_close_to_call(intervals, k)` marks projects whose
interval holds both a rank within the first k and one after it: the organizers should look
again before a prize is decided by that cut-off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "AdditiveFit", "RankIntervals", "additive_estimator", "bootstrap_ranks", "bradley_terry",
    "bradley_terry_estimator", "competition_ranks", "copeland", "fit_additive", "rank_intervals_additive",
    "rank_intervals_pairwise", "rankings_to_pairs", "ranks_among", "raw_mean", "review_scores", "too_close_to_call",
    "win_matrix", "zscore_mean",
]

MIN_PRIOR_STRENGTH = 1.0
MAX_PRIOR_STRENGTH = 1e4
DEFAULT_BT_ALPHA = 0.1
RANK_DECIMALS = 9  # estimates equal to 9 decimals are ties, not an order made of float noise


# --- inputs -------------------------------------------------------------------------------

def review_scores(criteria: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """One score per review: the weighted mean of its criteria (R, C) with weights (C,)."""
    scores = np.asarray(criteria, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if scores.ndim != 2 or w.shape != (scores.shape[1],):
        raise ValueError(f"expected criteria (R, C) and weights (C,), got {scores.shape} and {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"criteria weights must be >= 0 with a positive sum, got {w.tolist()}")
    bad = ~np.isfinite(scores).all(axis=1)
    if bad.any():
        raise ValueError(f"review {int(np.argmax(bad))} has a missing or non-finite criterion score")
    return scores @ (w / w.sum())


def _reviews(project: ArrayLike, judge: ArrayLike, score: ArrayLike, n_projects: int, n_judges: int):
    p = np.asarray(project)
    j = np.asarray(judge)
    y = np.asarray(score, dtype=np.float64)
    if not (p.ndim == j.ndim == y.ndim == 1 and len(p) == len(j) == len(y)):
        raise ValueError(f"project, judge and score must be 1-D of one length, got {p.shape}, {j.shape}, {y.shape}")
    if len(p) and not (np.issubdtype(p.dtype, np.integer) and np.issubdtype(j.dtype, np.integer)):
        raise ValueError("project and judge must be integer indices")
    p, j = p.astype(np.int64), j.astype(np.int64)
    if len(p) and (p.min() < 0 or p.max() >= n_projects):
        raise ValueError(f"a project index is outside 0..{n_projects - 1}")
    if len(j) and (j.min() < 0 or j.max() >= n_judges):
        raise ValueError(f"a judge index is outside 0..{n_judges - 1}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"score {int(np.argmax(~np.isfinite(y)))} is not a finite number")
    return p, j, y


# --- baselines ----------------------------------------------------------------------------

def raw_mean(project: ArrayLike, score: ArrayLike, n_projects: int) -> np.ndarray:
    """Each project's mean score (NaN when it has none): the baseline the model must beat."""
    p, _, y = _reviews(project, np.zeros(len(np.asarray(project)), dtype=np.int64), score, n_projects, 1)
    counts = np.bincount(p, minlength=n_projects)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(p, weights=y, minlength=n_projects) / counts


def zscore_mean(project: ArrayLike, judge: ArrayLike, score: ArrayLike, n_projects: int, n_judges: int) -> np.ndarray:
    """Mean over each project of the scores standardised per judge (a judge with one review or
    no spread gives 0): the other common fix, for comparison."""
    p, j, y = _reviews(project, judge, score, n_projects, n_judges)
    n_j = np.bincount(j, minlength=n_judges)
    mean_j = np.bincount(j, weights=y, minlength=n_judges) / np.maximum(n_j, 1)
    var_j = np.bincount(j, weights=(y - mean_j[j]) ** 2, minlength=n_judges) / np.maximum(n_j, 1)
    sd = np.sqrt(var_j)[j]
    z = np.divide(y - mean_j[j], sd, out=np.zeros_like(y), where=sd > 1e-12)
    return raw_mean(p, z, n_projects)


# --- the additive model -------------------------------------------------------------------

@dataclass(frozen=True)
class AdditiveFit:
    quality: np.ndarray        # (P,) a project's score as an average judge would give it; NaN: no review
    offset: np.ndarray         # (J,) what judge j adds to every score; 0 for a judge with no review
    reviews: np.ndarray        # (P,) reviews per project
    judge_reviews: np.ndarray  # (J,) reviews per judge
    noise_sd: float            # sqrt(s2): spread of one judge's score around quality + offset
    offset_sd: float           # sqrt(t2): spread of the judges' offsets
    prior_strength: float      # lam = s2 / t2 (pseudo-reviews at offset zero)
    iterations: int            # EM iterations (0 when prior_strength was given)


class _System:
    """The offsets' normal equations with the qualities eliminated, diagonalised once."""

    def __init__(self, p: np.ndarray, j: np.ndarray, y: np.ndarray, n_projects: int, n_judges: int):
        self.p, self.j, self.y = p, j, y
        counts = np.bincount(p * n_judges + j, minlength=n_projects * n_judges).reshape(n_projects, n_judges)
        self.n_p = counts.sum(axis=1).astype(np.float64)
        self.n_j = counts.sum(axis=0).astype(np.float64)
        self.seen_p = self.n_p > 0
        self.seen_j = self.n_j > 0
        inv = np.divide(1.0, self.n_p, out=np.zeros_like(self.n_p), where=self.seen_p)
        self.inv_p = inv
        self.counts = counts[:, self.seen_j].astype(np.float64)  # only judges with reviews enter the solve
        self.s_p = np.bincount(p, weights=y, minlength=n_projects)
        s_j = np.bincount(j, weights=y, minlength=n_judges)[self.seen_j]
        k = np.diag(self.n_j[self.seen_j]) - self.counts.T @ (inv[:, None] * self.counts)
        self.rhs = s_j - self.counts.T @ (inv * self.s_p)
        eigenvalues, self.vectors = np.linalg.eigh((k + k.T) / 2)
        self.eigenvalues = np.clip(eigenvalues, 0.0, None)  # K is positive semi-definite
        self.rhs_rot = self.vectors.T @ self.rhs

    def solve(self, lam: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(quality, offset, residual sum of squares, trace of (K + lam I)^-1) for this lam."""
        inv_diag = 1.0 / (self.eigenvalues + lam)
        b_seen = self.vectors @ (self.rhs_rot * inv_diag)
        offset = np.zeros(len(self.n_j))
        offset[self.seen_j] = b_seen
        quality = np.where(self.seen_p, (self.s_p - self.counts @ b_seen) * self.inv_p, np.nan)
        resid = self.y - quality[self.p] - offset[self.j]
        return quality, offset, float(resid @ resid), float(inv_diag.sum())


def fit_additive(project: ArrayLike, judge: ArrayLike, score: ArrayLike, n_projects: int, n_judges: int, *,
                 prior_strength: float | None = None, max_iter: int = 500) -> AdditiveFit:
    """Fit score = quality[project] + offset[judge] + noise; see the module docstring."""
    p, j, y = _reviews(project, judge, score, n_projects, n_judges)
    if prior_strength is not None and not prior_strength > 0:
        raise ValueError(f"prior_strength must be > 0, got {prior_strength}")
    system = _System(p, j, y, n_projects, n_judges)
    n = len(y)
    if n == 0:
        return AdditiveFit(np.full(n_projects, np.nan), np.zeros(n_judges), system.n_p.astype(np.int64),
                           system.n_j.astype(np.int64), float("nan"), 0.0, MAX_PRIOR_STRENGTH, 0)
    p_seen, j_seen = int(system.seen_p.sum()), int(system.seen_j.sum())
    iterations = 0
    if prior_strength is not None:
        lam = float(prior_strength)
        quality, offset, rss, trace = system.solve(lam)
        df = p_seen + j_seen - lam * trace
        s2 = rss / (n - df) if n - df > 1e-9 else float("nan")
        t2 = s2 / lam
    else:
        spread = float(np.var(y))
        if spread < 1e-18:  # every score equal: nothing to tell judges apart
            lam = MAX_PRIOR_STRENGTH
            quality, offset, _, _ = system.solve(lam)
            s2 = t2 = 0.0
        else:
            s2 = t2 = spread / 2
            lam = 1.0
            for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
                _, offset, rss, trace = system.solve(lam)
                df = p_seen + j_seen - lam * trace
                s2_new = (rss + s2 * df) / n
                t2 = (float(offset @ offset) + s2 * trace) / j_seen
                s2 = s2_new
                # the EM runs on the unclamped ratio; the clamp applies to the final solve only
                new = float(np.clip(s2 / t2 if t2 > 0 else np.inf, 1e-8, MAX_PRIOR_STRENGTH))
                done = abs(np.log(new / lam)) < 1e-6 or new >= MAX_PRIOR_STRENGTH
                lam = new
                if done:
                    break
            lam = float(np.clip(lam, MIN_PRIOR_STRENGTH, MAX_PRIOR_STRENGTH))
            quality, offset, _, _ = system.solve(lam)
    return AdditiveFit(
        quality=quality, offset=offset, reviews=system.n_p.astype(np.int64), judge_reviews=system.n_j.astype(np.int64),
        noise_sd=float(np.sqrt(s2)) if s2 == s2 else float("nan"), offset_sd=float(np.sqrt(max(t2, 0.0))) if t2 == t2 else 0.0,
        prior_strength=lam, iterations=iterations,
    )


# --- rankings and pairwise choices --------------------------------------------------------

def rankings_to_pairs(rankings: Sequence[ArrayLike], judges: ArrayLike | None = None, *,
                      n_projects: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(winner, loser, judge) of every pair the rankings imply; each ranking is best first.

    `judges[i]` is the judge of ranking i (default: ranking i is judge i)."""
    judge_of = np.arange(len(rankings)) if judges is None else np.asarray(judges, dtype=np.int64)
    if judge_of.shape != (len(rankings),):
        raise ValueError(f"one judge per ranking: {len(rankings)} rankings, judges of shape {judge_of.shape}")
    winners, losers, who = [], [], []
    for i, ranking in enumerate(rankings):
        order = np.asarray(ranking, dtype=np.int64)
        if order.ndim != 1:
            raise ValueError(f"ranking {i} must be a flat list of project indices")
        if len(np.unique(order)) != len(order):
            raise ValueError(f"ranking {i} lists a project twice")
        if n_projects is not None and len(order) and (order.min() < 0 or order.max() >= n_projects):
            raise ValueError(f"ranking {i} names a project outside 0..{n_projects - 1}")
        above, below = np.triu_indices(len(order), k=1)
        winners.append(order[above])
        losers.append(order[below])
        who.append(np.full(len(above), judge_of[i]))
    if not winners:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    return np.concatenate(winners), np.concatenate(losers), np.concatenate(who).astype(np.int64)


def win_matrix(winner: ArrayLike, loser: ArrayLike, n_projects: int) -> np.ndarray:
    """W[a, b] = how many times a beat b."""
    w = np.asarray(winner, dtype=np.int64)
    lo = np.asarray(loser, dtype=np.int64)
    if w.shape != lo.shape or w.ndim != 1:
        raise ValueError(f"winner and loser must be 1-D of one length, got {w.shape} and {lo.shape}")
    if len(w) and (min(w.min(), lo.min()) < 0 or max(w.max(), lo.max()) >= n_projects):
        raise ValueError(f"a project index is outside 0..{n_projects - 1}")
    if np.any(w == lo):
        raise ValueError(f"comparison {int(np.argmax(w == lo))} sets a project against itself")
    return np.bincount(w * n_projects + lo, minlength=n_projects * n_projects).reshape(n_projects, n_projects).astype(np.float64)


def copeland(winner: ArrayLike, loser: ArrayLike, n_projects: int) -> np.ndarray:
    """Copeland score: opponents beaten head to head (more wins than losses against them), plus
    1/2 per opponent met with as many wins as losses. Meaningful when every pair meets (a panel
    ranking one shortlist); with partial coverage prefer `bradley_terry`."""
    w = win_matrix(winner, loser, n_projects)
    met = (w + w.T) > 0
    return (w > w.T).sum(axis=1) + 0.5 * ((w == w.T) & met).sum(axis=1)


def bradley_terry(winner: ArrayLike, loser: ArrayLike, n_projects: int, *, alpha: float = DEFAULT_BT_ALPHA) -> np.ndarray:
    """Bradley-Terry strengths (log scale, mean zero) by choix's ILSR on the win matrix."""
    if not alpha > 0:
        raise ValueError("alpha must be > 0 (it keeps unbeaten and never-compared projects finite)")
    w = win_matrix(winner, loser, n_projects)
    if n_projects <= 1 or not w.any():
        return np.zeros(n_projects)
    import choix  # here, not at the top: it imports scipy.stats (2 s), which every `hackbot` command paid

    params = choix.ilsr_pairwise_dense(w, alpha=alpha, max_iter=1000, tol=1e-9)
    return np.asarray(params - params.mean(), dtype=np.float64)


# --- ranks and the bootstrap --------------------------------------------------------------

def competition_ranks(scores: ArrayLike) -> np.ndarray:
    """1 + the number of strictly higher scores ("1, 2, 2, 4"); NaN for a NaN score."""
    s = np.round(np.asarray(scores, dtype=np.float64), RANK_DECIMALS)
    valid = ~np.isnan(s)
    ordered = np.sort(s[valid])
    ranks = np.full(s.shape, np.nan)
    ranks[valid] = 1 + len(ordered) - np.searchsorted(ordered, s[valid], side="right")
    return ranks


@dataclass(frozen=True)
class RankIntervals:
    estimate: np.ndarray    # (P,) the full data's estimate (higher is better)
    rank: np.ndarray        # (P,) its competition rank, 1 = best (NaN: not estimable)
    low: np.ndarray         # (P,) best rank within the interval
    high: np.ndarray        # (P,) worst rank within the interval
    boot_ranks: np.ndarray  # (B, P) the ranks of every resample (NaN where a project was not estimable)
    level: float

    def top_k_probability(self, k: int) -> np.ndarray:
        """Share of resamples that rank each project within the first k."""
        seen = ~np.isnan(self.boot_ranks)
        inside = (self.boot_ranks <= k) & seen
        return np.divide(inside.sum(axis=0), seen.sum(axis=0), out=np.zeros(self.boot_ranks.shape[1]),
                         where=seen.any(axis=0))


Estimator = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (observations taken, their judges) -> (P,) estimates


def bootstrap_ranks(estimate: Estimator, judge: ArrayLike, n_judges: int, *, n_boot: int = 200,
                    level: float = 0.9, seed: int = 0) -> RankIntervals:
    """Resample the judges with replacement, refit with `estimate`, and rank (see the module doc).

    `judge[i]` is the judge of observation i (a review or a comparison). `estimate(take, judges)`
    returns the estimates from the observations `take` (indices, repeats allowed), whose judges
    are relabelled `judges` (draw d of the resample is judge d)."""
    judge_of = np.asarray(judge, dtype=np.int64)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    full = np.asarray(estimate(np.arange(len(judge_of)), judge_of), dtype=np.float64)
    by_judge = np.argsort(judge_of, kind="stable")
    counts = np.bincount(judge_of, minlength=n_judges)
    starts = np.concatenate([[0], np.cumsum(counts)])
    active = np.flatnonzero(counts)
    rng = np.random.default_rng(seed)
    boot = np.full((n_boot, len(full)), np.nan)
    for b in range(n_boot):
        drawn = rng.choice(active, size=len(active), replace=True) if len(active) else active
        take = np.concatenate([by_judge[starts[d]:starts[d + 1]] for d in drawn]) if len(drawn) else np.zeros(0, np.int64)
        relabel = np.repeat(np.arange(len(drawn)), counts[drawn])
        boot[b] = competition_ranks(estimate(take, relabel))
    low, high = _interval(boot, level)
    return RankIntervals(estimate=full, rank=competition_ranks(full), low=low, high=high, boot_ranks=boot, level=level)


def _interval(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    estimable = ~np.isnan(boot).all(axis=0)
    low = np.full(boot.shape[1], np.nan)
    high = np.full(boot.shape[1], np.nan)
    if estimable.any():
        low[estimable] = np.nanquantile(boot[:, estimable], tail, axis=0, method="lower")
        high[estimable] = np.nanquantile(boot[:, estimable], 1 - tail, axis=0, method="higher")
    return low, high


def ranks_among(intervals: RankIntervals, keep: ArrayLike) -> RankIntervals:
    """The ranks and rank intervals counted among the kept projects only (the others get NaN): a
    project that can win nothing (a calibration project) takes no place, so that the k-th rank is
    the k-th project that can win, in the full fit and in every resample."""
    mask = np.asarray(keep, dtype=bool)
    if mask.shape != intervals.estimate.shape:
        raise ValueError(f"one keep flag per project: {mask.shape} for {intervals.estimate.shape}")
    boot = np.full(intervals.boot_ranks.shape, np.nan)
    for b, row in enumerate(intervals.boot_ranks):
        kept = row[mask]
        valid = ~np.isnan(kept)
        ordered = np.sort(kept[valid])
        among = np.full(len(kept), np.nan)
        # a competition rank r among all becomes 1 + the kept projects ranked strictly better than r
        among[valid] = 1 + np.searchsorted(ordered, kept[valid], side="left")
        boot[b, mask] = among
    low, high = _interval(boot, intervals.level)
    return RankIntervals(estimate=intervals.estimate, rank=competition_ranks(np.where(mask, intervals.estimate, np.nan)),
                         low=low, high=high, boot_ranks=boot, level=intervals.level)


def additive_estimator(project: ArrayLike, score: ArrayLike, n_projects: int, *, prior_strength: float) -> Estimator:
    """The additive model's qualities as a bootstrap estimator, at a fixed prior strength (the
    full data's estimate): each refit is then one linear solve."""
    p = np.asarray(project, dtype=np.int64)
    y = np.asarray(score, dtype=np.float64)

    def estimate(take: np.ndarray, judges: np.ndarray) -> np.ndarray:
        n_j = int(judges.max()) + 1 if len(judges) else 1
        return fit_additive(p[take], judges, y[take], n_projects, n_j, prior_strength=prior_strength).quality

    return estimate


def bradley_terry_estimator(winner: ArrayLike, loser: ArrayLike, n_projects: int, *,
                            alpha: float = DEFAULT_BT_ALPHA) -> Estimator:
    """Bradley-Terry strengths as a bootstrap estimator; a project in no resampled comparison is NaN."""
    w = np.asarray(winner, dtype=np.int64)
    lo = np.asarray(loser, dtype=np.int64)

    def estimate(take: np.ndarray, judges: np.ndarray) -> np.ndarray:
        strengths = bradley_terry(w[take], lo[take], n_projects, alpha=alpha)
        compared = np.bincount(np.concatenate([w[take], lo[take]]), minlength=n_projects) > 0
        return np.where(compared, strengths, np.nan)

    return estimate


def rank_intervals_additive(project: ArrayLike, judge: ArrayLike, score: ArrayLike, n_projects: int, n_judges: int, *,
                            n_boot: int = 200, level: float = 0.9, seed: int = 0,
                            prior_strength: float | None = None) -> tuple[AdditiveFit, RankIntervals]:
    """The additive fit of all the reviews, and each project's rank interval over judges."""
    fit = fit_additive(project, judge, score, n_projects, n_judges, prior_strength=prior_strength)
    estimator = additive_estimator(project, score, n_projects, prior_strength=fit.prior_strength)
    intervals = bootstrap_ranks(estimator, judge, n_judges, n_boot=n_boot, level=level, seed=seed)
    # the bootstrap's full-data refit used the fixed lam, so it equals fit.quality
    return fit, intervals


def rank_intervals_pairwise(winner: ArrayLike, loser: ArrayLike, judge: ArrayLike, n_projects: int, n_judges: int, *,
                            n_boot: int = 200, level: float = 0.9, seed: int = 0,
                            alpha: float = DEFAULT_BT_ALPHA) -> RankIntervals:
    """Bradley-Terry strengths of all the comparisons, and each project's rank interval over judges."""
    estimator = bradley_terry_estimator(winner, loser, n_projects, alpha=alpha)
    return bootstrap_ranks(estimator, judge, n_judges, n_boot=n_boot, level=level, seed=seed)


def too_close_to_call(intervals: RankIntervals, cutoff: int) -> np.ndarray:
    """Projects whose rank interval straddles a cut-off (a prize for the first `cutoff`): their
    interval holds a rank <= cutoff and one > cutoff."""
    if cutoff < 1:
        raise ValueError(f"cutoff must be at least 1, got {cutoff}")
    with np.errstate(invalid="ignore"):
        return (intervals.low <= cutoff) & (intervals.high > cutoff)
