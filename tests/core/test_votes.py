"""The votes service: one ballot per person, refusals stored with their reasons, codes spent
once, the close freezing the result, and vote_standings (the contract judging reads)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.config import load_event
from bot.core.errors import BadInput, NotAllowed
from bot.core.prizes import Standing
from bot.core.services import Services
from bot.core.store import IntegrityError
from bot.core.votes import BallotRefused, vote_standings
from tests.core.vote_helpers import CLOSES, DURING, OLD_MEMBER, OPENS, add_projects, old_account, snowflake, write_vote_event


@pytest.fixture
async def open_vote(tmp_path, clock, databases):
    opened: list[Services] = []

    async def factory(**options) -> Services:
        path = write_vote_event(tmp_path / f"event{len(opened)}", **options)
        services = await Services.open(load_event(path), databases.new(), clock=clock)
        opened.append(services)
        clock.set(DURING)
        return services

    yield factory
    for services in opened:
        await services.close()


async def standings(services) -> list[Standing] | None:
    return await services.store.run(vote_standings, "fav")


async def test_standings_are_none_until_the_close_then_rank_the_counted_ballots(open_vote, clock):
    services = await open_vote(kind="approval", max_choices=2)
    (a, _), (b, _), (c, _), (d, _) = await add_projects(services, 4)
    ballots = [[a, b], [a, c], [b], [a]]
    for k, choice in enumerate(ballots):
        await services.votes.cast_discord("fav", old_account(k), OLD_MEMBER, choice)
    assert await standings(services) is None
    clock.set(CLOSES - timedelta(minutes=1))
    await services.votes.close("fav", by="organizer")
    assert await standings(services) == [
        Standing(str(a), 1, 3.0), Standing(str(b), 2, 2.0), Standing(str(c), 3, 1.0), Standing(str(d), 4, 0.0)]


async def test_a_ranked_tie_on_points_goes_to_more_votes_else_a_shared_rank(open_vote, clock):
    services = await open_vote(kind="ranked", max_choices=3)
    (a, _), (b, _), (c, _), (d, _) = await add_projects(services, 4)
    # Borda with m = 3: a = 3 (one first choice), b = 2 + 1 = 3 (on two ballots), c = 1 + 2 = 3 (two), d = 0
    for k, choice in enumerate([[a], [b, c], [c, b]]):
        await services.votes.cast_discord("fav", old_account(k), OLD_MEMBER, choice)
    clock.set(CLOSES + timedelta(seconds=1))  # closed by the first use after the close time
    await services.votes.status("fav")
    result = await standings(services)
    assert result is not None
    assert [(s.project, s.rank, s.score) for s in result] == [
        (str(b), 1, 5.0), (str(c), 1, 5.0), (str(a), 3, 3.0), (str(d), 4, 0.0)]


async def test_a_new_ballot_replaces_the_previous_one_until_the_close(open_vote, clock):
    services = await open_vote(kind="single", max_choices=None)
    (a, _), (b, _) = await add_projects(services, 2)
    voter = old_account(1)
    first = await services.votes.cast_discord("fav", voter, OLD_MEMBER, [a])
    clock.advance(minutes=5)
    second = await services.votes.cast_discord("fav", voter, OLD_MEMBER, [b])
    assert (first.replaced, second.replaced) == (False, True)
    assert second.choices == ("Project 001",)
    assert await services.store.fetchall("SELECT choices FROM ballots") == [(json.dumps([b]),)]
    assert await services.store.fetchval("SELECT count(*) FROM ballot_log") == 2
    await services.votes.close("fav", by="organizer")
    closed_at = (await services.votes.state("fav")).closes_at
    clock.advance(minutes=5)
    with pytest.raises(NotAllowed, match=f"voting closed at {closed_at:%Y-%m-%d %H:%M} UTC"):
        await services.votes.cast_discord("fav", voter, OLD_MEMBER, [a])
    assert await standings(services) == [Standing(str(b), 1, 1.0), Standing(str(a), 2, 0.0)]


async def test_the_database_refuses_any_ballot_change_after_the_close(open_vote):
    services = await open_vote()
    (a, _), = await add_projects(services, 1)
    await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [a])
    await services.votes.close("fav", by="organizer")
    for sql in ("UPDATE ballots SET choices = '[]'", "DELETE FROM ballots",
                "UPDATE vote_state SET pool = '[]'", "UPDATE vote_state SET closed_at = 0"):
        with pytest.raises(IntegrityError):
            await services.store.execute(sql)


async def test_every_eligibility_refusal_is_told_and_stored_with_its_reason(open_vote, clock):
    services = await open_vote()
    (a, team_a), (b, _) = await add_projects(services, 2)
    new = snowflake(DURING - timedelta(days=1), 7)
    with pytest.raises(BallotRefused, match="your Discord account is 1 day old; this vote needs accounts at least "
                                            "7 days old; it will not be before the vote closes") as too_new:
        await services.votes.cast_discord("fav", new, OLD_MEMBER, [a])
    assert "ask the organizers for a ballot code" in too_new.value.message
    with pytest.raises(BallotRefused, match=r"you joined this server at .* after the vote opened") as late:
        await services.votes.cast_discord("fav", old_account(2), OPENS + timedelta(minutes=1), [a])
    with pytest.raises(BallotRefused, match=r"you cannot vote for your own team's project \(Project 000\)") as own:
        await services.votes.cast_discord("fav", int(team_a[0]), OLD_MEMBER, [a, b])
    assert [r.code for r in too_new.value.reasons + late.value.reasons + own.value.reasons] == [
        "account_too_new", "joined_after_open", "own_team"]
    rows = await services.store.fetchall("SELECT status, reasons FROM ballot_log ORDER BY id")
    assert [(s, [c for c, _ in json.loads(r)]) for s, r in rows] == [
        ("refused", ["account_too_new"]), ("refused", ["joined_after_open"]), ("refused", ["own_team"])]
    assert await services.store.fetchval("SELECT count(*) FROM ballots") == 0
    report = await services.votes.report("fav")
    assert report.refused == {"account_too_new": 1, "joined_after_open": 1, "own_team": 1}
    by_id = {p.project: p for p in report.projects}
    assert by_id[a].refused == {"account_too_new": 1, "joined_after_open": 1, "own_team": 1}
    assert by_id[b].refused == {"own_team": 1}


async def test_a_voter_whose_join_date_is_unknown_is_counted_apart(open_vote, clock):
    services = await open_vote()
    (a, _), = await add_projects(services, 1)
    receipt = await services.votes.cast_discord("fav", old_account(3), None, [a])
    assert receipt.status == "unverified"
    assert "counted apart" in receipt.message and "did not say when you joined" in receipt.message
    await services.votes.cast_discord("fav", old_account(4), OLD_MEMBER, [a])
    status = await services.votes.status("fav")
    assert (status.counted, status.unverified, status.results) == (1, 1, None)
    report = await services.votes.report("fav")
    assert (report.projects[0].counted, report.projects[0].unverified) == (1, 1)
    await services.votes.close("fav", by="organizer")
    assert await standings(services) == [Standing(str(a), 1, 1.0)]


async def test_bad_choices_are_refused_without_a_trace(open_vote):
    services = await open_vote(max_choices=2)
    (a, _), (b, _), (c, _) = await add_projects(services, 3)
    with pytest.raises(BadInput, match="choose at most 2 projects; you chose 3"):
        await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [a, b, c])
    with pytest.raises(BadInput, match="is not on this ballot"):
        await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [999])
    assert await services.store.fetchval("SELECT count(*) FROM ballot_log") == 0


async def test_before_it_opens_a_ballot_is_refused_with_the_opening_time(open_vote, clock):
    services = await open_vote()
    (a, _), = await add_projects(services, 1)
    clock.set(OPENS - timedelta(hours=1))
    with pytest.raises(NotAllowed, match=f"voting opens at {OPENS:%Y-%m-%d %H:%M} UTC"):
        await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [a])
    await services.votes.open("fav", by="organizer")  # opened early by an organizer
    assert (await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [a])).status == "counted"


async def test_codes_are_issued_once_stored_as_digests_and_cast_one_ballot(open_vote, clock):
    services = await open_vote()
    (a, team_a), (b, _) = await add_projects(services, 2)
    csv_text = f"name,email,discord_id\nAda,ada@example.org,\nBob,bob@example.org,{team_a[0]}\nCy,,\n"
    made = await services.votes.import_codes("fav", csv_text)
    assert [c.name for c in made.issued] == ["Ada", "Bob"]
    assert made.errors == [(4, "neither an email nor a Discord id")]
    again = await services.votes.import_codes("fav", csv_text)
    assert (again.issued, again.already, again.total) == ([], 2, 2)
    stored = await services.store.fetchall("SELECT digest FROM vote_codes")
    assert all(made.issued[0].code.encode() not in bytes(d) for (d,) in stored)
    ada, bob = made.issued[0].code, made.issued[1].code

    receipt = await services.votes.cast_code("fav", ada.lower().replace("-", " "), [a], "10.0.0.1")
    assert receipt.status == "counted"
    with pytest.raises(BallotRefused, match="this ballot code was already used at .*each code casts one ballot"):
        await services.votes.cast_code("fav", ada, [b], "10.0.0.2")
    with pytest.raises(BallotRefused, match="not one of this vote's codes"):
        await services.votes.cast_code("fav", "AAAA-BBBB-CCCC", [b], "10.0.0.3")
    # Bob is on team A (his Discord id is in the list): refused, and his code is not spent
    with pytest.raises(BallotRefused, match="your own team's project"):
        await services.votes.cast_code("fav", bob, [a], "10.0.0.4")
    assert (await services.votes.cast_code("fav", bob, [b], "10.0.0.4")).status == "counted"
    report = await services.votes.report("fav")
    assert report.refused == {"code_unknown": 1, "code_used": 1, "own_team": 1}
    assert await services.store.fetchall("SELECT voter, choices FROM ballots ORDER BY log_id") == [
        (await services.store.fetchval("SELECT voter FROM vote_codes WHERE voter LIKE 'email:%'"), json.dumps([a])),
        (f"discord:{team_a[0]}", json.dumps([b]))]


async def test_a_code_and_a_discord_ballot_of_one_person_are_one_ballot(open_vote):
    services = await open_vote(kind="single", max_choices=None)
    (a, _), (b, _) = await add_projects(services, 2)
    person = old_account(42)
    made = await services.votes.import_codes("fav", f"email,discord_id\ncy@example.org,{person}\n")
    await services.votes.cast_discord("fav", person, OLD_MEMBER, [a])
    receipt = await services.votes.cast_code("fav", made.issued[0].code, [b], "10.0.0.9")
    assert receipt.replaced
    assert await services.store.fetchall("SELECT voter, door, choices FROM ballots") == [
        (f"discord:{person}", "web", json.dumps([b]))]


async def test_results_stay_hidden_until_the_close(open_vote, clock):
    services = await open_vote()
    (a, _), = await add_projects(services, 1)
    await services.votes.cast_discord("fav", old_account(1), OLD_MEMBER, [a])
    status = await services.votes.status("fav")
    assert (status.state.phase, status.turnout, status.results) == ("open", 1, None)
    with pytest.raises(NotAllowed, match="hidden until the vote closes"):
        await services.votes.results("fav")
    await services.votes.close("fav", by="organizer")
    assert [(r.title, r.rank, r.points) for r in await services.votes.results("fav")] == [("Project 000", 1, 1)]
