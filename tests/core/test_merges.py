"""Team merges (issue 16): approved by an organizer before the deadline, refused with the
reason when the merged team would pass a rule, on both databases."""

from __future__ import annotations

import pytest

from bot.core import invariants
from bot.core.errors import NotAllowed
from tests.core.helpers import CLOSES, csv_bytes, hidden_y, predictions_with_errors

SEVERAL = {0: "submissions = { per_day = 2, total = 3 }", 3: 'submissions = "unlimited"'}


async def teams(services, *names: str, members: int = 1):
    made = []
    for name in names:
        creds = await services.teams.create(name, validated=True, captain=f"{name}-captain")
        for k in range(members - 1):
            await services.teams.add_member(creds.team.id, f"{name}-{k}")
        made.append(creds.team)
    return made


def good(services, dataset_id: int, wrong: int = 10) -> bytes:
    return csv_bytes(predictions_with_errors(hidden_y(services.config, "mock", dataset_id), wrong))


async def submit(services, team, dataset_id: int):
    return await services.submissions.submit(team, dataset_id, "p.csv", good(services, dataset_id), source="discord")


async def test_a_merge_moves_members_reveals_and_submissions(open_services):
    services = await open_services(controls=SEVERAL)
    blue, red = await teams(services, "Blue", "Red")
    await submit(services, blue, 0)
    await submit(services, red, 3)
    for datum in (1, 2):
        await services.reveals.reveal(blue, 3, datum)
    for datum in (2, 3):
        await services.reveals.reveal(red, 3, datum)
    merged = await services.merges.merge("blue", "Red")
    assert (merged.into, merged.absorbed, merged.members, merged.reveals, merged.submissions) == ("Blue", "Red", 2, 1, 1)
    assert sorted(await services.teams.members(blue.id)) == ["Blue-captain", "Red-captain"]
    assert sorted(await services.reveals.revealed(blue, "mock", 3)) == [1, 2, 3]
    assert await services.store.fetchval("SELECT count(*) FROM submissions WHERE team_id = ?", (blue.id,)) == 2
    assert [t.name for t in await services.teams.list()] == ["Blue"]
    assert await invariants.check(services.store) == []


async def test_each_refusal_says_why_and_changes_nothing(open_services, clock):
    services = await open_services(controls=SEVERAL, max_size=3)
    await teams(services, "Blue", "Red", members=2)
    with pytest.raises(NotAllowed, match="have 4 members together; a team has at most 3"):
        await services.merges.merge("Blue", "Red")
    services2 = await open_services()  # one-shot datasets (Hackathon42's rule)
    one, two = await teams(services2, "One", "Two")
    await submit(services2, one, 5)
    await submit(services2, two, 5)
    with pytest.raises(NotAllowed, match="both used their one submission for dataset 5"):
        await services2.merges.merge("One", "Two")
    three, four = await teams(services2, "Three", "Four")
    for datum in range(5):
        await services2.reveals.reveal(three, 3, datum)
    await services2.reveals.reveal(four, 3, 100)
    with pytest.raises(NotAllowed, match="revealed 6 distinct labels of dataset 3 in phase 'mock' together; the budget is 5"):
        await services2.merges.merge("Three", "Four")

    services3 = await open_services(controls=SEVERAL)
    a, b = await teams(services3, "A", "B")
    await submit(services3, a, 0)
    await submit(services3, b, 0)
    await submit(services3, b, 0)
    with pytest.raises(NotAllowed, match="have 3 submissions for dataset 0 on 2030-03-01 together; the daily limit is 2"):
        await services3.merges.merge("A", "B")
    clock.advance(hours=12)  # the next day: the submissions keep the day they counted in
    with pytest.raises(NotAllowed, match="on 2030-03-01 together"):
        await services3.merges.merge("A", "B")
    c, d = await teams(services3, "C", "D")
    await submit(services3, c, 0)
    await submit(services3, c, 0)
    clock.advance(hours=24)
    await submit(services3, c, 0)
    await submit(services3, d, 0)
    with pytest.raises(NotAllowed, match="have 4 submissions for dataset 0 in phase 'mock' together; the limit is 3"):
        await services3.merges.merge("C", "D")
    clock.set(CLOSES)
    with pytest.raises(NotAllowed, match="team merges closed at"):
        await services3.merges.merge("C", "D")
    assert {t.name for t in await services3.teams.list()} == {"A", "B", "C", "D"}  # nothing changed
    for s in (services, services2, services3):
        assert await invariants.check(s.store) == []
