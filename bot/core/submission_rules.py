"""Which submission counts, and how many a team may send: the rules, without the database.

The storage mirrors these functions: the guarded INSERT counts attempts in the window that
`limit_day` returns and compares with the limits `Quota` applies, and the board picks each
team's submission by `counted`.  Tests hold the SQL to these functions.

Which submission counts, per team, dataset and phase (a dataset's `counts`):
  * best_public: the highest public score; on equal scores the earlier submission (the one
    that reached the score first), then the lower id.  Never the private score: choosing by
    it would leak it.
  * last: the latest submission; at the same instant, the higher id.
  * final_pick: the submission the team picked (`/final-pick`, until `final_pick_closes`,
    else until submissions close).  A team that picked none gets best_public, as on Kaggle.
Refused files never count: they have no score.

The daily limit counts calendar days in the event's timezone (what the event's deadlines and
schedule use and what participants read), not UTC days: a Paris event resets at midnight in
Paris, an AoE event at 12:00 UTC.  DST days are 23 or 25 hours long.  A limit's day is the
half-open window [start, end) in UTC that `limit_day` gives for the moment of the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

import numpy as np

from bot.config import CountingRule, SubmissionPolicy
from bot.core.clock import fmt_utc
from bot.core.errors import AlreadyDone, HackbotError, NotAllowed, TooManyAttempts

__all__ = ["Quota", "counted", "counted_board", "counts_against_limits", "limit_day", "quota"]


def counted(team, submitted_at, public, picked, rule: CountingRule) -> np.ndarray:
    """Bool mask over submissions (of one dataset and phase): True for the one that counts
    for its team.  ``team``: each submission's team; ``public``: its public score (NaN counts
    as the lowest); ``picked``: whether it is its team's final pick (at most one per team)."""
    team = np.asarray(team)
    at = np.asarray(submitted_at, dtype=np.float64)
    public = np.asarray(public, dtype=np.float64)
    picked = np.asarray(picked, dtype=bool)
    if not team.shape == at.shape == public.shape == picked.shape or team.ndim != 1:
        raise ValueError(f"one value per submission: team {team.shape}, submitted_at {at.shape}, "
                         f"public {public.shape}, picked {picked.shape}")
    index = np.arange(len(team))
    if rule == "last":
        keys: tuple[np.ndarray, ...] = (-index, -at)
    else:
        best = (index, at, np.where(np.isnan(public), np.inf, -public))
        if rule == "final_pick":
            picks = np.bincount(np.unique(team, return_inverse=True)[1][picked], minlength=1)
            if picks.size and picks.max() > 1:
                raise ValueError("a team has more than one final pick for this dataset; it may have one")
            keys = (*best, ~picked)
        elif rule == "best_public":
            keys = best
        else:
            raise ValueError(f"unknown counting rule {rule!r}")
    order = np.lexsort((*keys, team))  # team is the primary key; the rule's keys decide within it
    first = np.ones(len(order), dtype=bool)
    first[1:] = team[order][1:] != team[order][:-1]
    mask = np.zeros(len(team), dtype=bool)
    mask[order[first]] = True
    return mask


def counted_board(team_index, n_teams: int, submitted_at, public, shown, picked,
                  rule: CountingRule) -> tuple[np.ndarray, np.ndarray]:
    """One dataset's column of the board: for each team row 0..n_teams-1, the ``shown`` score
    (public during the event, private on the final board) of its counted submission and that
    submission's time; NaN for a team without one (the board then counts the default score).
    ``shown`` may hold several values per submission (one row each: the score and its worst-group
    accuracy), all taken from the same counted submission."""
    team_index = np.asarray(team_index, dtype=np.intp)
    mask = counted(team_index, submitted_at, public, picked, rule)
    shown = np.asarray(shown, dtype=np.float64)
    score = np.full((n_teams, *shown.shape[1:]), np.nan)
    at = np.full(n_teams, np.nan)
    score[team_index[mask]] = shown[mask]
    at[team_index[mask]] = np.asarray(submitted_at, dtype=np.float64)[mask]
    return score, at


def counts_against_limits(policy: SubmissionPolicy, *, refused: bool) -> bool:
    """Whether an attempt is counted: a scored submission always, a refused file only when
    the dataset says count_failed."""
    return not refused or policy.count_failed


def limit_day(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) in UTC of the calendar day, in the event's timezone, that holds `now`.
    Midnight is taken with fold=0: where a zone skips midnight, that is the first instant of
    the day; where midnight happens twice, the first of them."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class Quota:
    """A team's attempts on a dataset in a phase against the dataset's limits."""

    policy: SubmissionPolicy
    used_today: int  # attempts counted in today's window (see counts_against_limits)
    used_total: int  # attempts counted in the phase
    day_ends: datetime  # UTC: when the daily count starts again
    tz: tzinfo

    @property
    def left_today(self) -> int | None:
        return None if self.policy.per_day is None else max(0, self.policy.per_day - self.used_today)

    @property
    def left_total(self) -> int | None:
        return None if self.policy.total is None else max(0, self.policy.total - self.used_total)

    @property
    def left(self) -> int | None:
        """Attempts left now (None: no limit)."""
        limits = [x for x in (self.left_today, self.left_total) if x is not None]
        return min(limits) if limits else None

    def error(self, dataset_id: int, phase_id: str, now: datetime) -> HackbotError | None:
        """Why one more attempt is refused now, or None if it is allowed."""
        if self.left_total == 0:
            if self.policy.one_shot:  # the words Hackathon42's participants have always read
                return AlreadyDone(f"your team has already submitted for dataset {dataset_id} in phase {phase_id!r}; "
                                   "only one submission per dataset is allowed")
            return NotAllowed(f"your team has used all {self.policy.total} submissions for dataset {dataset_id} "
                              f"in phase {phase_id!r}")
        if self.left_today == 0:
            local = self.day_ends.astimezone(self.tz)
            return TooManyAttempts(
                f"your team has used its {self.policy.per_day} submissions for dataset {dataset_id} today; "
                f"the next one is possible from {local:%Y-%m-%d %H:%M} {local.tzname()} ({fmt_utc(self.day_ends)})",
                retry_after=max(0.0, (self.day_ends - now).total_seconds()),
            )
        return None


def quota(policy: SubmissionPolicy, used_today: int, used_total: int, now: datetime, tz: tzinfo) -> Quota:
    """The team's quota at `now`, from its counted attempts today (in `limit_day(now, tz)`)
    and in the whole phase."""
    if not 0 <= used_today <= used_total:
        raise ValueError(f"attempts today ({used_today}) must be between 0 and the phase's ({used_total})")
    return Quota(policy, used_today, used_total, limit_day(now, tz)[1], tz)
