"""Perk codes over a real database (SQLite and PostgreSQL): import, one code per claimant, the
same code again, eligibility, the low-stock warnings, and 200 claims for 100 codes from 4 OS
processes."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.config import load_event
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.perks import NoCodeLeft, parse_codes
from bot.core.services import Services
from bot.core.store import IntegrityError
from tests.core.mentoring_workers import perk_claim_worker, write_mentoring_event
from tests.core.workers import run_processes

PERKS = """
[[perks]]
id = "modal-credits"
title = "$500 of Modal credits"
who = "validated_team"
low_stock = 3

[[perks]]
id = "stickers"
title = "Stickers"
who = "member"
low_stock = 0
"""


@pytest.fixture
async def env(tmp_path, clock, db):
    path = write_mentoring_event(tmp_path / "event", perks=PERKS)
    services = await Services.open(load_event(path), db, clock=clock)
    yield services, path, db, clock
    await services.close()


def codes(n: int, prefix: str = "CODE") -> str:
    return "code\n" + "".join(f"{prefix}-{i:04d}\n" for i in range(n))


def test_codes_are_read_from_the_first_column_and_bad_lines_named_without_their_content():
    found, errors = parse_codes("code,note\nAAA-1,x\n\n  BBB-2 \nhas space\n" + "Z" * 201 + "\n")
    assert found == ["AAA-1", "BBB-2"]
    assert [line for line, _ in errors] == [5, 6]
    assert all("has space" not in reason and "ZZZ" not in reason for _, reason in errors)


async def test_import_counts_and_skips_codes_already_there(env):
    services, *_ = env
    first = await services.perks.import_codes("modal-credits", codes(5))
    assert (first.added, first.already, first.left) == (5, 0, 5)
    again = await services.perks.import_codes("Modal-Credits", codes(7))
    assert (again.added, again.already, again.left) == (2, 5, 7)
    with pytest.raises(NotFound, match="modal-credits, stickers"):
        await services.perks.import_codes("gpu", codes(1))


async def test_one_code_per_team_the_same_again_and_never_anyone_elses(env):
    services, *_ = env
    await services.perks.import_codes("modal-credits", codes(10))
    a = (await services.teams.create("Alpha", captain="1001")).team
    await services.teams.add_member(a.id, "1002")
    b = (await services.teams.create("Beta", captain="2001")).team
    with pytest.raises(NotAllowed, match="validated teams"):
        await services.perks.claim("modal-credits", "1001")
    await services.teams.validate("Alpha")
    await services.teams.validate("Beta")
    first = await services.perks.claim("modal-credits", "1001")
    again = await services.perks.claim("modal-credits", "1002")  # a teammate: the team's code
    other = await services.perks.claim("modal-credits", "2001")
    assert first.new and not again.new and again.code == first.code and other.code != first.code
    assert first.code not in repr(first) and (first.left, other.left) == (9, 8)
    with pytest.raises(NotAllowed, match="/team create or /team join"):
        await services.perks.claim("modal-credits", "9999")
    claimants = await services.perks.claimants("modal-credits")
    assert [(c.name, c.claimed_by) for c in claimants] == [("Alpha", "1001"), ("Beta", "2001")]
    [stock, stickers] = await services.perks.stock()
    assert (stock.total, stock.claimed, stock.left, stock.low) == (10, 2, 8, False)
    assert (stickers.total, stickers.left) == (0, 0)
    assert b.id != a.id


async def test_member_perks_go_to_each_member(env):
    services, *_ = env
    await services.perks.import_codes("stickers", codes(3, "S"))
    team = (await services.teams.create("Alpha", captain="1001")).team
    await services.teams.add_member(team.id, "1002")
    one = await services.perks.claim("stickers", "1001")
    two = await services.perks.claim("stickers", "1002")
    assert one.code != two.code and one.new and two.new


async def test_running_low_is_reported_once_before_running_out(env):
    services, *_ = env
    await services.perks.import_codes("modal-credits", codes(5))
    warnings = []
    for i in range(6):
        await services.teams.create(f"T{i}", captain=f"{1000 + i}", validated=True)
    for i in range(5):
        claim = await services.perks.claim("modal-credits", f"{1000 + i}")
        warnings.append(claim.warning)
    assert warnings[0] is None  # 4 left: more than low_stock = 3
    assert warnings[1] is not None and "Only 3" in warnings[1] and "hackbot perks import modal-credits" in warnings[1]
    assert warnings[2:4] == [None, None]  # once per crossing
    assert warnings[4] is not None and "none is left" in warnings[4]
    with pytest.raises(NoCodeLeft, match="no \\$500 of Modal credits code is left"):
        await services.perks.claim("modal-credits", "1005")
    added = await services.perks.import_codes("modal-credits", codes(10, "MORE"))
    assert added.left == 10
    warned = [(await services.perks.claim("modal-credits", f"{1005}")).warning]
    assert warned == [None]


async def test_the_database_refuses_giving_a_code_twice(env):
    services, *_ = env
    await services.perks.import_codes("modal-credits", codes(2))
    await services.teams.create("Alpha", captain="1001", validated=True)
    await services.perks.claim("modal-credits", "1001")
    store = services.store
    with pytest.raises(IntegrityError):
        await store.execute("UPDATE perk_codes SET claimant = 'team:999' WHERE claimant IS NOT NULL")
    with pytest.raises(IntegrityError):
        await store.execute("DELETE FROM perk_codes WHERE claimant IS NOT NULL")
    with pytest.raises(IntegrityError):  # a second code for the same claimant
        await store.execute("UPDATE perk_codes SET claimant = 'team:1', claimed_at = 0 WHERE claimant IS NULL")


async def test_a_perk_not_open_yet_says_when(tmp_path, clock, db):
    later = PERKS.replace("low_stock = 0", 'low_stock = 0\nopens = "2031-01-01T00:00:00Z"')
    path = write_mentoring_event(tmp_path / "e", perks=later)
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        await services.teams.create("Alpha", captain="1001")
        with pytest.raises(NotAllowed, match="from 2031-01-01 00:00 UTC"):
            await services.perks.claim("stickers", "1001")
        with pytest.raises(BadInput, match="name the perk"):
            await services.perks.claim(None, "1001")
    finally:
        await services.close()


async def test_200_claims_for_100_codes_from_4_processes(env):
    services, path, db, clock = env
    await services.perks.import_codes("stickers", codes(100, "S"))
    users = [f"{10_000 + i}" for i in range(200)]
    for k in range(0, 200, 5):  # 40 teams of 5: "member" perks go to each member
        team = (await services.teams.create(f"T{k}", captain=users[k])).team
        for user in users[k + 1:k + 5]:
            await services.teams.add_member(team.id, user)
    args = (str(path), db, clock().isoformat())
    parts = [users[i::4] for i in range(4)]
    reports = run_processes(perk_claim_worker, [(args, ("stickers", part)) for part in parts])
    outcomes = [o for report in reports for o in report]
    won = [o for o in outcomes if o[0] == "ok"]
    refused = [o for o in outcomes if o[0] != "ok"]
    assert len(won) == 100 and len({o[2] for o in won}) == 100  # 100 distinct codes
    assert len(refused) == 100 and Counter(o[0] for o in refused) == {"NoCodeLeft": 100}
    assert all("no Stickers code is left" in o[1] for o in refused)
    # the database agrees, and a repeated claim gets the same code
    rows = dict(await services.store.fetchall("SELECT claimant, code FROM perk_codes WHERE claimant IS NOT NULL"))
    assert rows == {f"member:{user}": code for _, user, code in won}
    _, user, code = won[0]
    assert (await services.perks.claim("stickers", user)).code == code
