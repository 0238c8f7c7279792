"""Who may vote, what a valid ballot is, and which ballots look stuffed. Pure: no database, no Discord.

Eligibility (`check_voter`) applies the rules of a [[votes]] entry to a Discord voter: the
account's age, read from its snowflake id (Discord's epoch 2015-01-01, milliseconds in the bits
above the 22nd); when the voter joined the server, from the interaction's member; and not the
voter's own team. Each refusal says why and what the voter can do. A rule whose input is missing
(no member on the interaction, a team lookup that failed) cannot run: the ballot is then
"unverified", stored and counted apart, never silently dropped. Web voters hold a single-use
ballot code from the organizers' attendee list: the code is their credential, and the Discord
rules do not apply to them.

Flags (`flag_ballots`) look at the log of every ballot cast and mark, for the organizers, those
that look like stuffing; a flagged ballot still counts until an organizer decides:
  * a burst: at least `burst_size` distinct new accounts (younger than `new_account_age` when
    they voted) voting for the same project within `burst_window`;
  * a shared code: one ballot code used from `addresses_per_code` or more client addresses;
  * a code collector: one client address casting ballots with `codes_per_address` or more codes
    (set it high when attendees share a venue's network).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.core.clock import fmt_utc
from bot.core.errors import BadInput, NotAllowed

DISCORD_EPOCH_MS = 1420070400000  # 2015-01-01T00:00:00Z, the start of Discord's snowflakes

Kind = Literal["approval", "single", "ranked"]


def account_created(snowflake: int) -> datetime:
    """When a Discord account (or any snowflake) was created: milliseconds since Discord's epoch
    in the bits above the 22nd."""
    if snowflake < 0:
        raise ValueError("a snowflake is a non-negative integer")
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def describe_age(age: timedelta) -> str:
    """'1 day', '12 days', '5 hours', '1 minute' (rounded down)."""
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "less than a minute"


# --- when a vote is open, and what a ballot may hold ------------------------------------------

def check_open(opens_at: datetime, closes_at: datetime, now: datetime) -> None:
    """Raise NotAllowed saying when voting opens, or when it closed."""
    if now < opens_at:
        raise NotAllowed(f"voting opens at {fmt_utc(opens_at)}")
    if now >= closes_at:
        raise NotAllowed(f"voting closed at {fmt_utc(closes_at)}")


def check_choices(
    choices: Sequence[int],
    ballot: Sequence[int],
    kind: Kind,
    max_choices: int | None = None,
    names: Mapping[int, str] | None = None,
) -> tuple[int, ...]:
    """The voter's choices (project ids, best first for a ranked vote), checked against the ballot.
    Raises BadInput saying what to change."""
    names = names or {}
    on_ballot = set(ballot)
    if not choices:
        raise BadInput("choose a project" if kind == "single" else "choose at least one project")
    seen: set[int] = set()
    for choice in choices:
        if choice in seen:
            raise BadInput(f"you chose {names.get(choice, f'project {choice}')} twice; choose each project once")
        seen.add(choice)
        if choice not in on_ballot:
            raise BadInput(f"{names.get(choice, f'project {choice}')} is not on this ballot; choose from the list")
    limit = 1 if kind == "single" else max_choices if max_choices is not None else len(on_ballot)
    if len(choices) > limit:
        if kind == "single":
            raise BadInput(f"choose one project; you chose {len(choices)}")
        verb = "rank" if kind == "ranked" else "choose"
        raise BadInput(f"{verb} at most {limit} projects; you chose {len(choices)}")
    return tuple(choices)


# --- who may vote -----------------------------------------------------------------------------

@dataclass(frozen=True)
class VoterRules:
    min_account_age: timedelta = timedelta(days=7)
    joined_before_open: bool = True
    exclude_own_team: bool = True


@dataclass(frozen=True)
class DiscordVoter:
    user_id: int
    joined_at: datetime | None  # None: not known (no member on the interaction)
    own_projects: frozenset[int] | None  # the voter's team's projects (empty: no team); None: the lookup failed


@dataclass(frozen=True)
class Refusal:
    code: str  # account_too_new, joined_after_open, own_team; or, unverified: joined_unknown, team_unknown
    message: str


@dataclass(frozen=True)
class Eligibility:
    refusals: tuple[Refusal, ...] = ()
    unverified: tuple[Refusal, ...] = ()  # the checks that could not run

    @property
    def status(self) -> Literal["eligible", "refused", "unverified"]:
        return "refused" if self.refusals else "unverified" if self.unverified else "eligible"

    @property
    def message(self) -> str:
        """What to tell the voter."""
        if self.refusals:
            return "; ".join(r.message for r in self.refusals)
        if self.unverified:
            return "your ballot is recorded; it is counted apart until the organizers can check it (" + \
                "; ".join(r.message for r in self.unverified) + ")"
        return ""


def check_voter(
    voter: DiscordVoter,
    choices: Sequence[int],
    rules: VoterRules,
    *,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
    names: Mapping[int, str] | None = None,
    code_door: bool = False,
) -> Eligibility:
    """Apply a vote's rules to a Discord voter and their choices. `code_door`: the event also takes
    ballots on the web with codes, which a refusal then mentions."""
    names = names or {}
    refusals: list[Refusal] = []
    unverified: list[Refusal] = []
    web_hint = "; if you attend the event, ask the organizers for a ballot code and vote on the web page" if code_door else ""

    if rules.min_account_age > timedelta(0):
        created = account_created(voter.user_id)
        age = now - created
        if age < rules.min_account_age:
            ready = created + rules.min_account_age
            when = (f"; it will be on {fmt_utc(ready)}" if ready < closes_at
                    else f"; it will not be before the vote closes ({fmt_utc(closes_at)}){web_hint}")
            refusals.append(Refusal(
                "account_too_new",
                f"your Discord account is {describe_age(age)} old; this vote needs accounts at least "
                f"{describe_age(rules.min_account_age)} old{when}",
            ))
    if rules.joined_before_open:
        if voter.joined_at is None:
            unverified.append(Refusal("joined_unknown", "Discord did not say when you joined this server"))
        elif voter.joined_at >= opens_at:
            refusals.append(Refusal(
                "joined_after_open",
                f"you joined this server at {fmt_utc(voter.joined_at)}, after the vote opened ({fmt_utc(opens_at)}); "
                f"this vote counts members who joined before it opened{web_hint}",
            ))
    if rules.exclude_own_team:
        if voter.own_projects is None:
            unverified.append(Refusal("team_unknown", "your team could not be looked up"))
        else:
            own = [c for c in choices if c in voter.own_projects]
            if own:
                listed = ", ".join(names.get(c, f"project {c}") for c in own)
                refusals.append(Refusal(
                    "own_team", f"you cannot vote for your own team's project ({listed}); remove it from your ballot"
                ))
    return Eligibility(tuple(refusals), tuple(unverified))


# --- flags over the ballot log ----------------------------------------------------------------

@dataclass(frozen=True)
class BallotEvent:
    """One ballot as cast (a replacement is a new event)."""

    ballot_id: int
    voter: str  # who cast it: a Discord id or a code's digest; the same voter replacing a ballot is one voter
    cast_at: datetime
    choices: tuple[int, ...]
    account_created: datetime | None = None  # Discord voters
    code: str | None = None  # web voters: the ballot code's digest (never the code)
    address: str | None = None  # web voters: a digest of the client's address


@dataclass(frozen=True)
class FlagPolicy:
    new_account_age: timedelta = timedelta(days=30)
    burst_window: timedelta = timedelta(minutes=2)
    burst_size: int = 5
    addresses_per_code: int = 3
    codes_per_address: int = 10


@dataclass(frozen=True)
class BallotFlag:
    code: Literal["new_account_burst", "shared_code", "address_many_codes"]
    message: str
    ballot_ids: tuple[int, ...]
    project: int | None = None


def _span(first: datetime, last: datetime) -> str:
    seconds = int((last - first).total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _bursts(events: list[BallotEvent], policy: FlagPolicy, names: Mapping[int, str]) -> Iterable[BallotFlag]:
    by_project: dict[int, list[BallotEvent]] = defaultdict(list)
    for event in events:
        if event.account_created is not None and event.cast_at - event.account_created < policy.new_account_age:
            for project in event.choices:
                by_project[project].append(event)
    for project, cast in sorted(by_project.items()):
        cast.sort(key=lambda e: (e.cast_at, e.ballot_id))
        marked = [False] * len(cast)
        window: dict[str, int] = defaultdict(int)  # voter -> ballots in the window
        left = 0
        for right, event in enumerate(cast):
            window[event.voter] += 1
            while event.cast_at - cast[left].cast_at > policy.burst_window:
                window[cast[left].voter] -= 1
                if not window[cast[left].voter]:
                    del window[cast[left].voter]
                left += 1
            if len(window) >= policy.burst_size:
                for k in range(left, right + 1):
                    marked[k] = True
        # one flag per run of marked ballots no further apart than the window
        runs: list[list[BallotEvent]] = []
        for event, is_marked in zip(cast, marked, strict=True):
            if not is_marked:
                continue
            if runs and event.cast_at - runs[-1][-1].cast_at <= policy.burst_window:
                runs[-1].append(event)
            else:
                runs.append([event])
        for run in runs:
            voters = len({e.voter for e in run})
            yield BallotFlag(
                "new_account_burst",
                f"{voters} accounts younger than {describe_age(policy.new_account_age)} voted for "
                f"{names.get(project, f'project {project}')} within {_span(run[0].cast_at, run[-1].cast_at)} "
                f"({fmt_utc(run[0].cast_at)} to {fmt_utc(run[-1].cast_at)})",
                tuple(e.ballot_id for e in run),
                project,
            )


def flag_ballots(
    events: Sequence[BallotEvent], policy: FlagPolicy = FlagPolicy(), names: Mapping[int, str] | None = None
) -> list[BallotFlag]:
    """Every flag the log raises; a ballot may carry several."""
    names = names or {}
    flags = list(_bursts(list(events), policy, names))
    by_code: dict[str, list[BallotEvent]] = defaultdict(list)
    by_address: dict[str, list[BallotEvent]] = defaultdict(list)
    for event in events:
        if event.code is not None:
            by_code[event.code].append(event)
            if event.address is not None:
                by_address[event.address].append(event)
    for code, cast in sorted(by_code.items()):
        addresses = {e.address for e in cast if e.address is not None}
        if len(addresses) >= policy.addresses_per_code:
            flags.append(BallotFlag(
                "shared_code",
                f"one ballot code (digest {code[:8]}) was used from {len(addresses)} addresses",
                tuple(sorted(e.ballot_id for e in cast)),
            ))
    for address, cast in sorted(by_address.items()):
        codes = {e.code for e in cast}
        if len(codes) >= policy.codes_per_address:
            flags.append(BallotFlag(
                "address_many_codes",
                f"one address (digest {address[:8]}) cast ballots with {len(codes)} different codes",
                tuple(sorted(e.ballot_id for e in cast)),
            ))
    return flags


def flags_by_ballot(flags: Iterable[BallotFlag]) -> dict[int, list[BallotFlag]]:
    out: dict[int, list[BallotFlag]] = defaultdict(list)
    for flag in flags:
        for ballot_id in flag.ballot_ids:
            out[ballot_id].append(flag)
    return dict(out)

