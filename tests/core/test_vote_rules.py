"""Voting rules as plain code: account age from the snowflake, the refusals a voter reads, and the
flags organizers see over a ballot log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import BadInput, NotAllowed
from bot.core.vote_rules import (
    DISCORD_EPOCH_MS,
    BallotEvent,
    DiscordVoter,
    FlagPolicy,
    VoterRules,
    account_created,
    check_choices,
    check_open,
    check_voter,
    describe_age,
    flag_ballots,
    flags_by_ballot,
)

OPENS = datetime(2024, 12, 5, 16, 0, tzinfo=UTC)
CLOSES = datetime(2024, 12, 5, 17, 30, tzinfo=UTC)
NOW = OPENS + timedelta(minutes=20)
RULES = VoterRules()
NAMES = {1: "Flood Watch", 2: "Tiny LLM", 3: "Bird Songs"}


def snowflake_at(when: datetime, low: int = 0) -> int:
    return ((int(when.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | low


def voter(created: datetime, joined: datetime | None = OPENS - timedelta(days=3), own=frozenset()) -> DiscordVoter:
    return DiscordVoter(snowflake_at(created, 7), joined, own)


def check(v: DiscordVoter, choices=(1,), **kwargs):
    return check_voter(v, choices, kwargs.pop("rules", RULES), opens_at=OPENS, closes_at=CLOSES, now=NOW, names=NAMES, **kwargs)


# --- snowflakes ----------------------------------------------------------------------------

def test_the_snowflake_of_discords_documentation():
    # discord.com/developers/docs/reference#snowflakes: 175928847299117063 -> 2016-04-30 11:18:25.796 UTC
    assert account_created(175928847299117063) == datetime(2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC)
    assert account_created(0) == datetime(2015, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        account_created(-1)


@given(ms=st.integers(0, 2**41), low=st.integers(0, 2**22 - 1))
def test_the_time_is_in_the_bits_above_the_22nd(ms, low):
    created = account_created((ms << 22) | low)
    assert round(created.timestamp() * 1000) == ms + DISCORD_EPOCH_MS


@pytest.mark.parametrize(("age", "text"), [
    (timedelta(days=1, hours=5), "1 day"), (timedelta(days=12), "12 days"), (timedelta(hours=5, minutes=59), "5 hours"),
    (timedelta(minutes=1), "1 minute"), (timedelta(seconds=30), "less than a minute"),
])
def test_ages_in_words(age, text):
    assert describe_age(age) == text


# --- eligibility ---------------------------------------------------------------------------

def test_an_established_member_voting_for_another_team_is_eligible():
    result = check(voter(NOW - timedelta(days=400), own=frozenset({2})), choices=(1, 3))
    assert result.status == "eligible" and result.message == ""


def test_a_new_account_is_told_its_age_the_rule_and_when_it_could_vote():
    result = check(voter(NOW - timedelta(days=1, hours=2)))
    assert result.status == "refused" and [r.code for r in result.refusals] == ["account_too_new"]
    assert result.message.startswith("your Discord account is 1 day old; this vote needs accounts at least 7 days old")
    assert "it will not be before the vote closes (2024-12-05 17:30 UTC)" in result.message


def test_an_account_old_enough_before_the_close_is_told_when():
    rules = VoterRules(min_account_age=timedelta(hours=1))
    result = check(voter(NOW - timedelta(minutes=20)), rules=rules)
    assert result.message == (
        "your Discord account is 20 minutes old; this vote needs accounts at least 1 hour old; it will be on 2024-12-05 17:00 UTC"
    )


def test_a_refusal_mentions_the_web_door_when_there_is_one():
    result = check(voter(NOW - timedelta(days=1)), code_door=True)
    assert "ballot code" in result.message


def test_joining_after_the_vote_opened_is_refused_with_both_times():
    result = check(voter(NOW - timedelta(days=90), joined=OPENS + timedelta(minutes=5)))
    assert [r.code for r in result.refusals] == ["joined_after_open"]
    assert "2024-12-05 16:05 UTC, after the vote opened (2024-12-05 16:00 UTC)" in result.message


def test_voting_for_ones_own_team_names_the_project_to_remove():
    result = check(voter(NOW - timedelta(days=90), own=frozenset({2})), choices=(3, 2))
    assert [r.code for r in result.refusals] == ["own_team"]
    assert "your own team's project (Tiny LLM); remove it" in result.message


def test_every_broken_rule_is_reported_at_once():
    result = check(voter(NOW - timedelta(hours=3), joined=NOW, own=frozenset({1})))
    assert [r.code for r in result.refusals] == ["account_too_new", "joined_after_open", "own_team"]


def test_a_check_that_cannot_run_makes_the_ballot_unverified_not_refused():
    result = check(voter(NOW - timedelta(days=90), joined=None, own=None))
    assert result.status == "unverified" and [r.code for r in result.unverified] == ["joined_unknown", "team_unknown"]
    assert "counted apart" in result.message
    refused = check(voter(NOW - timedelta(days=1), joined=None))
    assert refused.status == "refused"  # a refusal outranks what could not be checked


def test_rules_can_be_switched_off():
    rules = VoterRules(min_account_age=timedelta(0), joined_before_open=False, exclude_own_team=False)
    result = check(voter(NOW - timedelta(minutes=1), joined=None, own=None), choices=(1,), rules=rules)
    assert result.status == "eligible"


# --- ballots and the voting window ---------------------------------------------------------

def test_choices_are_checked_with_messages_that_say_what_to_change():
    ballot = [1, 2, 3]
    assert check_choices([3, 1], ballot, "approval", 2) == (3, 1)
    with pytest.raises(BadInput, match="choose at least one project"):
        check_choices([], ballot, "approval", 2)
    with pytest.raises(BadInput, match="^choose a project$"):
        check_choices([], ballot, "single")
    with pytest.raises(BadInput, match="you chose Tiny LLM twice"):
        check_choices([2, 2], ballot, "ranked", 3, names=NAMES)
    with pytest.raises(BadInput, match="project 9 is not on this ballot"):
        check_choices([9], ballot, "approval", 2)
    with pytest.raises(BadInput, match="choose at most 2 projects; you chose 3"):
        check_choices([1, 2, 3], ballot, "approval", 2)
    with pytest.raises(BadInput, match="rank at most 2 projects; you chose 3"):
        check_choices([1, 2, 3], ballot, "ranked", 2)
    with pytest.raises(BadInput, match="choose one project; you chose 2"):
        check_choices([1, 2], ballot, "single")
    assert check_choices([3, 2, 1], ballot, "ranked") == (3, 2, 1)  # no limit: the whole ballot


def test_the_voting_window():
    check_open(OPENS, CLOSES, OPENS)
    with pytest.raises(NotAllowed, match="voting opens at 2024-12-05 16:00 UTC"):
        check_open(OPENS, CLOSES, OPENS - timedelta(seconds=1))
    with pytest.raises(NotAllowed, match="voting closed at 2024-12-05 17:30 UTC"):
        check_open(OPENS, CLOSES, CLOSES)


# --- flags ---------------------------------------------------------------------------------

def discord_ballot(i: int, at: datetime, choices=(1,), age=timedelta(days=2), voter_id: str | None = None) -> BallotEvent:
    return BallotEvent(i, voter_id or f"u{i}", at, tuple(choices), account_created=at - age)


def code_ballot(i: int, at: datetime, code: str, address: str, choices=(1,)) -> BallotEvent:
    return BallotEvent(i, code, at, tuple(choices), code=code, address=address)


def test_a_burst_of_new_accounts_for_one_project_is_flagged_once():
    log = [discord_ballot(i, NOW + timedelta(seconds=10 * i)) for i in range(6)]
    log += [discord_ballot(10, NOW + timedelta(seconds=5), choices=(2,))]
    flags = flag_ballots(log, names=NAMES)
    assert len(flags) == 1 and flags[0].code == "new_account_burst" and flags[0].project == 1
    assert flags[0].ballot_ids == tuple(range(6))
    assert "6 accounts younger than 30 days voted for Flood Watch within 50 s" in flags[0].message
    assert 10 not in flags_by_ballot(flags)


def test_no_burst_below_the_size_or_from_old_accounts_or_spread_out():
    few = [discord_ballot(i, NOW + timedelta(seconds=i)) for i in range(4)]
    old = [discord_ballot(i, NOW + timedelta(seconds=i), age=timedelta(days=300)) for i in range(20)]
    slow = [discord_ballot(i, NOW + timedelta(minutes=3 * i)) for i in range(20)]
    spread = [discord_ballot(i, NOW + timedelta(seconds=i), choices=(i % 3 + 1,)) for i in range(12)]
    for log in (few, old, slow, spread):
        assert flag_ballots(log) == []


def test_one_account_replacing_its_ballot_is_not_a_burst():
    log = [discord_ballot(i, NOW + timedelta(seconds=i), voter_id="same") for i in range(10)]
    assert flag_ballots(log) == []


def test_two_bursts_an_hour_apart_are_two_flags():
    log = [discord_ballot(i, NOW + timedelta(seconds=i)) for i in range(5)]
    log += [discord_ballot(100 + i, NOW + timedelta(hours=1, seconds=i)) for i in range(5)]
    flags = flag_ballots(log)
    assert [f.ballot_ids for f in flags] == [tuple(range(5)), tuple(range(100, 105))]


def test_a_code_used_from_many_addresses_is_flagged():
    log = [code_ballot(i, NOW + timedelta(minutes=i), "c0ffee00d1gest", f"addr{i}") for i in range(3)]
    log += [code_ballot(9, NOW, "other", "addr9")]
    flags = flag_ballots(log)
    assert [f.code for f in flags] == ["shared_code"] and flags[0].ballot_ids == (0, 1, 2)
    assert "used from 3 addresses" in flags[0].message and "c0ffee00" in flags[0].message
    assert flag_ballots(log[:2] + log[3:]) == []


def test_many_codes_from_one_address_are_flagged():
    log = [code_ballot(i, NOW + timedelta(seconds=i), f"code{i}", "lan") for i in range(10)]
    flags = flag_ballots(log)
    assert [f.code for f in flags] == ["address_many_codes"] and len(flags[0].ballot_ids) == 10
    assert flag_ballots(log, FlagPolicy(codes_per_address=50)) == []


events_st = st.lists(
    st.builds(
        lambda i, sec, age_days, project, voter_n: BallotEvent(
            i, f"u{voter_n}", NOW + timedelta(seconds=sec), (project,),
            account_created=NOW + timedelta(seconds=sec) - timedelta(days=age_days)),
        st.integers(0, 10_000), st.integers(0, 900), st.integers(0, 90), st.integers(1, 3), st.integers(0, 30),
    ),
    max_size=60, unique_by=lambda e: e.ballot_id,
)


@given(events_st)
def test_every_burst_flag_holds_enough_new_accounts_for_its_project_within_the_window(events):
    policy = FlagPolicy()
    by_id = {e.ballot_id: e for e in events}
    for flag in flag_ballots(events, policy):
        flagged = [by_id[i] for i in flag.ballot_ids]
        assert all(flag.project in e.choices for e in flagged)
        assert all(e.cast_at - e.account_created < policy.new_account_age for e in flagged)
        assert len({e.voter for e in flagged}) >= policy.burst_size
        times = sorted(e.cast_at for e in flagged)
        assert all(b - a <= policy.burst_window for a, b in zip(times, times[1:], strict=False))
