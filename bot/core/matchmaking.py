"""Team matchmaking: from a pool of people looking for a team, fill the teams that recruit, then
form new teams. Pure numpy: no database, no Discord.

The objective (higher is better) is a sum over the people placed of the quality of their team,
minus a penalty per team for its size away from the target; a team is scored on all its members,
those a recruiting team already had included:

    objective  = sum over teams of  size x quality - SIZE x |size - target|   (SIZE = 1)
    quality    = TOPIC          if its members share at least one topic (W_TOPIC = 10)
               + EXTRA_TOPIC    per further shared topic, at most 2 more (1 each)
               + MIX            per distinct experience level beyond the first (2 each)
               - ALL_NEWCOMERS  if every member is a newcomer while the pool has experts (6)
               - TZ             per hour of time-zone spread beyond `max_tz_spread_hours`
                                (0.5 each, at most 3 in all)

A person who gave no topic is open to any topic. A person whose time zone is unknown does not
count in the spread. The pool's random assignment (same team sizes, people shuffled) and a
greedy one (people sorted by their first topic, cut into teams in order) are scored the same
way, and reported beside the objective, so that an organizer sees what matching bought.

The search: a seeded greedy construction (topic buckets, experience interleaved inside each
bucket) followed by a local search of moves and swaps, scored in batches of thousands of
candidates at once; the best non-overlapping improving candidates of each batch are applied.
The number of rounds depends only on the pool size, never on the clock: the same pool and seed
give the same teams.

Sizes: new teams get sizes within [min_size, max_size], as close to `target_size` as the pool
allows, and never a team of one when the event allows solo teams (a team of one is no match).
When the pool cannot be split within the bounds (two people and a minimum of three),
the people left over are reported in `unplaced` and the result carries a warning saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

LEVELS: tuple[str, ...] = ("newcomer", "some", "expert")

W_TOPIC = 10.0
W_EXTRA_TOPIC = 1.0
MAX_EXTRA_TOPICS = 2
W_MIX = 2.0
W_ALL_NEWCOMERS = 6.0
W_TZ = 0.5
MAX_TZ_PENALTY = 3.0
W_SIZE = 1.0
MAX_TOPICS = 63  # topic sets are bit masks in a uint64


@dataclass(frozen=True)
class Person:
    id: str
    topics: tuple[str, ...] = ()
    experience: str = "some"
    tz_offset_minutes: int | None = None
    open_to_existing: bool = True
    name: str = ""
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecruitingTeam:
    id: int
    name: str
    members: tuple[Person, ...]  # the members it has (their profiles, or bare Persons)


@dataclass(frozen=True)
class ProposedTeam:
    members: list[str]  # the people placed here by the matcher
    shared_topics: list[str]
    score: float
    existing_team: int | None = None  # a recruiting team's id: `members` join it
    existing_members: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)  # the experience levels of everyone in it


@dataclass(frozen=True)
class MatchResult:
    teams: list[ProposedTeam]
    unplaced: list[str]
    objective: float
    random_objective: float
    greedy_objective: float
    warnings: list[str]

    def as_json(self) -> dict:
        return {
            "teams": [
                {"members": t.members, "shared_topics": t.shared_topics, **(
                    {"existing_team": t.existing_team} if t.existing_team is not None else {})}
                for t in self.teams
            ],
            "unplaced": self.unplaced,
            "objective": round(self.objective, 3),
            "random_objective": round(self.random_objective, 3),
            "greedy_objective": round(self.greedy_objective, 3),
            "warnings": self.warnings,
        }


# --- encoding ---------------------------------------------------------------------------------

class _Pool:
    """People as arrays; the pool's people first, then the recruiting teams' fixed members."""

    def __init__(self, people: list[Person], fixed: list[Person], topics: list[str]):
        names = list(dict.fromkeys(topics))
        for person in [*people, *fixed]:
            for topic in person.topics:
                if topic not in names:
                    names.append(topic)
        self.topics = names[:MAX_TOPICS]
        index = {t: i for i, t in enumerate(self.topics)}
        everyone = [*people, *fixed]
        all_topics = np.uint64((1 << len(self.topics)) - 1) if self.topics else np.uint64(0)
        masks = np.zeros(len(everyone) + 1, dtype=np.uint64)
        for i, person in enumerate(everyone):
            bits = 0
            for topic in person.topics:
                if topic in index:
                    bits |= 1 << index[topic]
            masks[i] = np.uint64(bits) if bits else all_topics  # no topic given: open to any
        masks[-1] = ~np.uint64(0)  # the padding slot: neutral for AND
        self.masks = masks
        level = {name: i for i, name in enumerate(LEVELS)}
        exp = np.full(len(everyone) + 1, -1, dtype=np.int8)
        exp[: len(everyone)] = [level.get(p.experience, 1) for p in everyone]
        self.exp = exp
        tz = np.full(len(everyone) + 1, np.nan)
        tz[: len(everyone)] = [np.nan if p.tz_offset_minutes is None else p.tz_offset_minutes / 60 for p in everyone]
        self.tz = tz
        self.pad = len(everyone)  # index of the padding slot
        self.experts_exist = bool((self.exp[: len(people)] == 2).any())

    def topic_names(self, mask: int) -> list[str]:
        return [t for i, t in enumerate(self.topics) if mask >> i & 1]


def _scores(rows: np.ndarray, pool: _Pool, target: int, tz_limit: float) -> np.ndarray:
    """The score of each team; rows is (teams, slots) of person indices, pool.pad for empty."""
    filled = rows != pool.pad
    size = filled.sum(axis=1)
    shared = np.bitwise_and.reduce(pool.masks[rows], axis=1)
    n_shared = np.bitwise_count(shared).astype(np.float64)
    n_shared[size == 0] = 0
    # the team's quality, per member + W_EXTRA_TOPIC * np.clip(n_shared - 1, 0, MAX_EXTRA_TOPICS)
    score = np.where(n_shared >= 1, W_TOPIC, 0.0)
    exp = pool.exp[rows]
    present = np.stack([((exp == level) & filled).any(axis=1) for level in range(3)], axis=1)
    distinct = present.sum(axis=1)
    score += W_MIX * np.maximum(distinct - 1, 0)
    if pool.experts_exist:
        score -= W_ALL_NEWCOMERS * ((distinct == 1) & present[:, 0])
    tz = pool.tz[rows]
    known = ~np.isnan(tz)
    hi = np.where(known, tz, -np.inf).max(axis=1)
    lo = np.where(known, tz, np.inf).min(axis=1)
    spread = np.where(known.any(axis=1), hi - lo, 0.0)
    score -= np.minimum(W_TZ * np.maximum(spread - tz_limit, 0.0), MAX_TZ_PENALTY)
    # each member counts the team's quality: more, smaller teams do not score more
    score = size * score - W_SIZE * np.abs(size - target)
    return np.where(size > 0, score, 0.0)


# --- sizes ------------------------------------------------------------------------------------

def team_sizes(n: int, min_size: int, max_size: int, target: int) -> tuple[list[int], int]:
    """Sizes of the new teams for n people, and how many people cannot be placed."""
    if n <= 0:
        return [], 0
    lo, hi = -(-n // max_size), n // min_size
    if lo <= hi:
        count = min(max(int(n / target + 0.5), lo), hi)
        base, extra = divmod(n, count)
        return [base + 1] * extra + [base] * (count - extra), 0
    # no split fits the bounds: as many full-enough teams as possible, the rest unplaced
    count = hi
    return [max_size] * count, n - count * max_size


SMALL_POOL = 400  # up to this many people, one team more and one fewer are tried as well


def _size_options(n: int, min_size: int, max_size: int, target: int) -> list[tuple[list[int], int]]:
    sizes, left_out = team_sizes(n, min_size, max_size, target)
    options = [(sizes, left_out)]
    if left_out or n > SMALL_POOL or not sizes:
        return options
    lo, hi = -(-n // max_size), n // min_size
    for count in (len(sizes) - 1, len(sizes) + 1):
        if lo <= count <= hi and count >= 1:
            base, extra = divmod(n, count)
            options.append(([base + 1] * extra + [base] * (count - extra), 0))
    return options


# --- the matcher ------------------------------------------------------------------------------

def match(
    pool: list[Person],
    recruiting_teams: Sequence[RecruitingTeam] = (),
    *,
    min_size: int,
    max_size: int,
    target_size: int | None = None,
    topics: Sequence[str] = (),
    max_tz_spread_hours: float = 6.0,
    seed: int = 0,
) -> MatchResult:
    target = min(max(target_size or max_size, min_size), max_size)
    people = sorted({p.id: p for p in pool}.values(), key=lambda p: p.id)  # one entry per person
    teams_in = sorted(recruiting_teams, key=lambda t: t.id)
    fixed = [m for t in teams_in for m in t.members]
    enc = _Pool(people, fixed, list(topics))
    rng = np.random.default_rng([seed, 1 << 20])
    n = len(people)
    warnings: list[str] = []

    # recruiting teams first: their fixed members, then room up to the target size
    recruit_rows: list[list[int]] = []
    cursor = n
    for team in teams_in:
        recruit_rows.append(list(range(cursor, cursor + len(team.members))))
        cursor += len(team.members)
    open_people = [i for i, p in enumerate(people) if p.open_to_existing]
    room = [max(0, min(target, max_size) - len(r)) for r in recruit_rows]

    order = _greedy_order(people, enc, rng)
    taken = np.zeros(n, dtype=bool)
    if recruit_rows and open_people:
        _fill_recruiting(recruit_rows, room, open_people, order, taken, enc, target, max_tz_spread_hours, rng)
    # new teams from the others; never leave fewer than can form a team
    rest = [i for i in order if not taken[i]]
    # a team of one is no match: new teams have two people at least when the pool allows it
    low = max(min_size, 2) if min_size < 2 and len(rest) >= 2 else min_size
    if team_sizes(len(rest), low, max_size, target)[1] and low != min_size:
        low = min_size
    slots = max([max_size, *(len(r) for r in recruit_rows)])
    n_rec = len(recruit_rows)
    rec_rows = np.full((n_rec, slots), enc.pad, dtype=np.int64)
    for t, row in enumerate(recruit_rows):
        rec_rows[t, : len(row)] = row

    best = None
    for k, (sizes, left_out) in enumerate(_size_options(len(rest), low, max_size, target)):
        new_rows = np.full((len(sizes), slots), enc.pad, dtype=np.int64)
        pos = 0
        for t, size in enumerate(sizes):
            new_rows[t, :size] = rest[pos : pos + size]
            pos += size
        rows = np.vstack([rec_rows, new_rows])
        fixed_count = np.array([len(r) for r in recruit_rows] + [0] * len(sizes), dtype=np.int64)
        searched = _local_search(rows, enc, n, n_rec, fixed_count, low, max_size, target, max_tz_spread_hours,
                                 people, np.random.default_rng([seed, k]))
        total = float(_scores(searched, enc, target, max_tz_spread_hours).sum())
        if best is None or total > best[0] + 1e-9:
            best = (total, rows, searched, fixed_count, rest[pos:], left_out)
    if best is None:  # _size_options always offers one split at least
        raise RuntimeError(f"no team sizes to try for {len(rest)} people")
    _, start_rows, rows, fixed_count, unplaced_idx, left_out = best
    if left_out:
        warnings.append(
            f"{left_out} {'person' if left_out == 1 else 'people'} could not be placed: {len(rest)} left "
            f"to form new teams of {low} to {max_size}; place them by hand or let them join a team"
        )
    greedy_rows = _greedy_baseline(people, enc, start_rows, n_rec, fixed_count)
    scores = _scores(rows, enc, target, max_tz_spread_hours)
    random_objective = float(np.mean([
        _scores(_random_rows(rows, n, fixed_count, people, enc, np.random.default_rng([seed, 100 + k])), enc, target,
                max_tz_spread_hours).sum()
        for k in range(5)
    ]))
    greedy_objective = float(_scores(greedy_rows, enc, target, max_tz_spread_hours).sum())

    result_teams: list[ProposedTeam] = []
    for t, row in enumerate(rows):
        members = [int(i) for i in row if i != enc.pad]
        placed = [people[i].id for i in members if i < n]
        if t < n_rec and not placed:
            continue
        shared = int(np.bitwise_and.reduce(enc.masks[row]))
        result_teams.append(ProposedTeam(
            members=placed,
            shared_topics=enc.topic_names(shared) if members else [],
            score=float(scores[t]),
            existing_team=teams_in[t].id if t < n_rec else None,
            existing_members=[m.id for m in teams_in[t].members] if t < n_rec else [],
            levels=[LEVELS[enc.exp[i]] for i in members],
        ))
    no_topic = [t for t in result_teams if not t.shared_topics]
    if no_topic:
        warnings.append(
            f"{len(no_topic)} team(s) share no topic: the matcher found no arrangement where they do "
            f"(e.g. {', '.join(no_topic[0].members + no_topic[0].existing_members)})"
        )
    return MatchResult(
        teams=result_teams,
        unplaced=[people[i].id for i in unplaced_idx],
        objective=float(scores.sum()),
        random_objective=random_objective,
        greedy_objective=greedy_objective,
        warnings=warnings,
    )


def _first_topic(mask: int, popularity: np.ndarray) -> int:
    """The person's rarest topic: rare topics are the hardest to share, so they go first."""
    bits = [i for i in range(len(popularity)) if mask >> i & 1]
    return min(bits, key=lambda i: (popularity[i], i)) if bits else -1


def _greedy_order(people: list[Person], enc: _Pool, rng: np.random.Generator) -> list[int]:
    """People grouped by topic bucket; inside a bucket, experience levels interleaved."""
    n = len(people)
    if n == 0:
        return []
    k = len(enc.topics)
    masks = enc.masks[:n]
    popularity = np.array([int(((masks >> np.uint64(i)) & np.uint64(1)).sum()) for i in range(k)])
    buckets: dict[int, list[int]] = {}
    for i in rng.permutation(n):
        buckets.setdefault(_first_topic(int(masks[i]), popularity), []).append(int(i))
    order: list[int] = []
    for topic in sorted(buckets, key=lambda t: (popularity[t] if t >= 0 else 0, t)):
        members = buckets[topic]
        by_level = [[i for i in members if enc.exp[i] == level] for level in (2, 0, 1)]
        while any(by_level):
            for queue in by_level:
                if queue:
                    order.append(queue.pop())
    return order


def _fill_recruiting(recruit_rows, room, open_people, order, taken, enc, target, tz_limit, rng) -> None:
    """Each recruiting team in turn takes the open people who raise its score most."""
    is_open = set(open_people)
    candidates = np.array([i for i in order if i in is_open], dtype=np.int64)
    for t, row in enumerate(recruit_rows):
        for _ in range(room[t]):
            free = candidates[~taken[candidates]]
            if len(free) == 0:
                return
            base = np.array(row + [enc.pad], dtype=np.int64)
            now = _scores(base[None, :], enc, target, tz_limit)[0] if row else -np.inf
            trial = np.tile(base, (len(free), 1))
            trial[:, len(row)] = free
            gains = _scores(trial, enc, target, tz_limit) + 1e-9 * rng.random(len(free))  # seeded tie-break
            if gains.max() < now - 1e-6:
                break  # nobody fits better than leaving the place free
            best = int(free[int(np.argmax(gains))])
            row.append(best)
            taken[best] = True


def _greedy_baseline(people, enc, rows, n_rec, fixed_count) -> np.ndarray:
    """The same team sizes, filled with the placed people sorted by their first topic."""
    placed = rows[n_rec:][rows[n_rec:] != enc.pad]
    placed = placed[placed < len(people)]
    rec_placed = rows[:n_rec][(rows[:n_rec] != enc.pad)] if n_rec else np.array([], dtype=np.int64)
    rec_placed = rec_placed[rec_placed < len(people)]
    everyone = np.concatenate([rec_placed, placed]).astype(np.int64)
    index = {t: i for i, t in enumerate(enc.topics)}
    key = [min((index.get(t, 99) for t in people[i].topics), default=99) for i in everyone]
    ordered = everyone[np.argsort(np.array(key), kind="stable")] if len(everyone) else everyone
    return _refill(rows, ordered, len(people), fixed_count)


def _random_rows(rows, n, fixed_count, people, enc, rng) -> np.ndarray:
    movable = rows[(rows != enc.pad) & (rows < n)]
    return _refill(rows, rng.permutation(movable), n, fixed_count)


def _refill(rows: np.ndarray, ordered: np.ndarray, n: int, fixed_count: np.ndarray) -> np.ndarray:
    """Same shape and same number of placed people per team, filled from `ordered`."""
    out = rows.copy()
    pos = 0
    for t in range(len(rows)):
        slots = np.nonzero(rows[t] < n)[0]
        slots = slots[slots >= fixed_count[t]]
        out[t, slots] = ordered[pos : pos + len(slots)]
        pos += len(slots)
    return out


def _local_search(rows, enc, n, n_rec, fixed_count, min_size, max_size, target, tz_limit, people, rng) -> np.ndarray:
    """Moves and swaps of placed people, in seeded batches; improving, non-overlapping ones apply."""
    teams, slots = rows.shape
    if teams < 2 or n == 0:
        return rows
    rows = rows.copy()
    open_ok = np.array([p.open_to_existing for p in people] + [False], dtype=bool)
    scores = _scores(rows, enc, target, tz_limit)
    batch = int(min(max(4 * n, 256), 16384))
    rounds = 60 if n > 2000 else 100
    stale = 0
    is_rec = np.arange(teams) < n_rec
    team_min = np.where(is_rec, fixed_count, min_size)  # a recruiting team keeps its own members
    for _ in range(rounds):
        # where each placed person sits
        placed_team, placed_slot = np.nonzero((rows != enc.pad) & (rows < n) & (np.arange(slots) >= fixed_count[:, None]))
        if len(placed_team) == 0:
            break
        pick = rng.integers(0, len(placed_team), batch)
        a_team, a_slot = placed_team[pick], placed_slot[pick]
        b_team = rng.integers(0, teams, batch)
        b_slot = rng.integers(0, slots, batch)
        ok = a_team != b_team
        b_slot = np.maximum(b_slot, fixed_count[b_team])  # never a fixed member
        ok &= b_slot < slots
        b_slot = np.minimum(b_slot, slots - 1)
        a_person = rows[a_team, a_slot]
        b_person = rows[b_team, b_slot]
        b_empty = b_person == enc.pad
        size = (rows != enc.pad).sum(axis=1)
        # a move (into an empty slot) keeps both teams within bounds
        ok &= ~b_empty | ((size[a_team] - 1 >= team_min[a_team]) & (size[b_team] + 1 <= max_size))
        ok &= (b_person == enc.pad) | (b_person < n)
        # only people open to it go into recruiting teams
        ok &= ~is_rec[b_team] | open_ok[a_person]
        ok &= ~is_rec[a_team] | b_empty | open_ok[np.minimum(b_person, n)]
        if not ok.any():
            continue
        idx = np.nonzero(ok)[0]
        a_team, a_slot, b_team, b_slot, a_person, b_person = (
            a_team[idx], a_slot[idx], b_team[idx], b_slot[idx], a_person[idx], b_person[idx]
        )
        new_a = rows[a_team].copy()
        new_b = rows[b_team].copy()
        r = np.arange(len(idx))
        new_a[r, a_slot] = b_person
        new_b[r, b_slot] = a_person
        delta = (_scores(new_a, enc, target, tz_limit) + _scores(new_b, enc, target, tz_limit)
                 - scores[a_team] - scores[b_team])
        good = np.nonzero(delta > 1e-9)[0]
        if len(good) == 0:
            stale += 1
            if stale >= 4:
                break
            continue
        stale = 0
        good = good[np.argsort(-delta[good], kind="stable")]
        touched = np.zeros(teams, dtype=bool)
        for g in good:
            ta, tb = a_team[g], b_team[g]
            if touched[ta] or touched[tb]:
                continue
            touched[ta] = touched[tb] = True
            rows[ta], rows[tb] = new_a[g], new_b[g]
        scores[touched] = _scores(rows[touched], enc, target, tz_limit)
    return _compact(rows, enc.pad)


def _compact(rows: np.ndarray, pad: int) -> np.ndarray:
    """Members first in each row (a move may leave a hole before the last member)."""
    order = np.argsort(rows == pad, axis=1, kind="stable")
    return np.take_along_axis(rows, order, axis=1)
