"""Looking for a team: profiles, the pool, recruiting teams, CSV import, and applying a match
through the database (one transaction per team; nobody in two teams)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.config import ConfigError, load_event
from bot.core.errors import BadInput, NotAllowed
from bot.core.lfg import parse_tz
from bot.core.services import Services
from bot.core.store import IntegrityError
from tests.core.helpers import T0, write_event

TOPICS = ["Generative everything", "Simulation-based everything", "Anomaly detection"]


@pytest.fixture
async def lfg_services(tmp_path, clock, databases):
    opened = []

    async def factory(*, max_size: int = 4, extra: str = "") -> Services:
        path = write_event(tmp_path / f"event{len(opened)}", max_size=max_size)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\n[matchmaking]\ntopics = {TOPICS!r}\n{extra}".replace("'", '"'))
        services = await Services.open(load_event(path), databases.new(), clock=clock)
        opened.append(services)
        return services

    yield factory
    for services in opened:
        await services.close()


@pytest.fixture
async def services(lfg_services) -> Services:
    return await lfg_services()


async def join_pool(services, user, topics=("Anomaly detection",), experience="some", tz="UTC", **kw):
    return await services.lfg.set_profile(user, topics=list(topics), experience=experience, timezone=tz, **kw)


def test_target_size_must_fit_the_team_bounds(tmp_path):
    path = write_event(tmp_path / "e", max_size=4)
    with path.open("a") as f:
        f.write("\n[matchmaking]\ntarget_size = 9\n")
    with pytest.raises(ConfigError) as info:
        load_event(path)
    assert "matchmaking.target_size" in str(info.value)


def test_the_presets_list_their_topics():
    assert load_event("config/numhack.toml").matchmaking.topics == ["Build", "Train", "Analyse"]
    astro = load_event("config/astroxml.toml").matchmaking.topics
    assert len(astro) == 5 and "Super resolution everything" in astro


def test_time_zones_by_name_or_offset():
    assert parse_tz("UTC+5:30", T0) == (330, None)
    assert parse_tz("-8", T0) == (-480, None)
    assert parse_tz("Europe/Paris", T0) == (60, "Europe/Paris")  # March: winter time
    assert parse_tz("", T0) == (None, None)
    with pytest.raises(BadInput, match="not a time zone"):
        parse_tz("Mars/Olympus", T0)


async def test_profile_topics_are_checked_against_the_event_file(services):
    profile = await join_pool(services, "1", topics=["anomaly DETECTION", "Generative everything"], tz="UTC-3")
    assert profile.topics == ["Anomaly detection", "Generative everything"]
    assert profile.tz_offset_minutes == -180
    with pytest.raises(BadInput, match="unknown topic 'Cooking'.*Anomaly detection"):
        await join_pool(services, "2", topics=["Cooking"])
    with pytest.raises(BadInput, match="experience"):
        await join_pool(services, "2", experience="guru")


async def test_leave_list_and_people_in_a_team_are_not_in_the_pool(services):
    await join_pool(services, "1")
    await join_pool(services, "2", topics=["Generative everything"])
    await join_pool(services, "1", experience="expert")  # an update, not a second entry
    grouped = await services.lfg.by_topic()
    assert [p.user_id for p in grouped["Anomaly detection"]] == ["1"]
    assert grouped["Anomaly detection"][0].experience == "expert"
    creds = await services.teams.create("Solo")
    await services.teams.add_member(creds.team.id, "2")  # joined by hand
    assert [p.user_id for p in await services.lfg.looking()] == ["1"]
    with pytest.raises(NotAllowed, match="in a team already"):
        await join_pool(services, "2")
    assert await services.lfg.leave("1") and not await services.lfg.leave("1")
    assert await services.lfg.looking() == []


async def test_only_a_captain_sets_recruiting(services):
    await services.teams.create("Rockets", captain="cap")
    team = (await services.teams.list())[0]
    await services.teams.add_member(team.id, "mate")
    with pytest.raises(NotAllowed, match="captain"):
        await services.lfg.set_recruiting("mate", True)
    with pytest.raises(NotAllowed, match="not in a team"):
        await services.lfg.set_recruiting("nobody", True)
    await services.lfg.set_recruiting("cap", True)
    [recruiting] = await services.lfg.recruiting_teams()
    assert recruiting.name == "Rockets" and [m.id for m in recruiting.members] == ["cap", "mate"]


async def test_import_keeps_good_rows_and_names_the_bad_lines(services):
    text = (
        "discord_id,name,topics,experience,timezone,skills\n"
        "101,Ann,Anomaly detection;Generative everything,newcomer,Europe/Paris,python;jax\n"
        "102,Bob,Cooking,expert,UTC,\n"
        "abc,Cy,Anomaly detection,some,UTC,\n"
        "103,Dee,Anomaly detection,wizard,UTC,\n"
        "104,Eve,Anomaly detection,expert,Atlantis/Nowhere,\n"
        "105,Fay,Anomaly detection\n"
        "106,Gus,,expert,+2,sql\n"
    )
    saved, errors = await services.lfg.import_csv(text)
    assert saved == 2
    assert [line for line, _ in errors] == [3, 4, 5, 6, 7]
    assert "Cooking" in errors[0][1] and "digits" in errors[1][1] and "wizard" in errors[2][1]
    ann = await services.lfg.profile("101")
    assert ann.skills == ["python", "jax"] and ann.tz_name == "Europe/Paris" and ann.name == "Ann"
    assert (await services.lfg.profile("106")).tz_offset_minutes == 120


async def test_apply_creates_teams_with_a_captain_and_empties_the_pool(services):
    for i in range(8):
        await join_pool(services, f"{i}", topics=[TOPICS[i % 2]], experience=["newcomer", "expert"][i // 4])
    result = await services.lfg.propose(seed=1)
    assert len(result.teams) == 2 and all(t.shared_topics for t in result.teams)
    applied = await services.lfg.apply(result)
    assert applied.notes == []
    infos = await services.roster.infos()
    assert sorted(len(i.members) for i in infos) == [4, 4]
    for info in infos:
        assert info.captain == info.members[0]
        assert int(info.captain) >= 4, "the most experienced member captains the team"
        assert info.team.name.startswith(("Generative everything", "Simulation-based everything"))
    assert await services.lfg.looking() == []


async def test_a_person_who_joined_by_hand_meanwhile_is_not_matched_again(services):
    for i in range(4):
        await join_pool(services, f"{i}")
    result = await services.lfg.propose(seed=0)
    creds = await services.teams.create("Hand made", captain="x")
    await services.teams.add_member(creds.team.id, "0")  # between the preview and the confirm
    applied = await services.lfg.apply(result)
    placed = {u for t in applied.teams for u in t.newcomers}
    assert "0" not in placed and placed == {"1", "2", "3"}
    assert [note.users for note in applied.notes] == [("0",)]
    assert "0 joined a team meanwhile" in applied.notes[0].text()
    assert not any("<@" in note.text() for note in applied.notes)  # the core writes no Discord markup
    assert (await services.teams.team_of("0")).name == "Hand made"


async def test_recruiting_teams_are_filled_and_stop_recruiting_when_full(services):
    await join_pool(services, "cap", experience="expert")  # kept: read for the team's score
    await services.teams.create("Rockets", captain="cap")
    await services.lfg.set_recruiting("cap", True)
    for i in range(3):
        await join_pool(services, f"p{i}", open_to_existing=True)
    result = await services.lfg.propose(seed=0)
    filled = [t for t in result.teams if t.existing_team is not None]
    assert filled and "cap" not in {u for t in result.teams for u in t.members}
    applied = await services.lfg.apply(result)
    rockets = next(t for t in applied.teams if t.existing)
    assert rockets.members[0] == "cap" and len(rockets.members) == 4
    assert await services.lfg.recruiting_teams() == []


async def test_a_join_racing_with_the_confirm_leaves_nobody_in_two_teams(services):
    for round_ in range(10):
        ids = [f"r{round_}-{i}" for i in range(8)]
        for user in ids:
            await join_pool(services, user)
        result = await services.lfg.propose(seed=round_)
        creds = await services.teams.create(f"Open {round_}", captain=f"cap{round_}")

        async def join(user, team_id=creds.team.id):
            with contextlib.suppress(NotAllowed):
                await services.teams.add_member(team_id, user)

        await asyncio.gather(services.lfg.apply(result), *(join(u) for u in ids[:3]))
        rows = await services.store.fetchall(
            "SELECT user_id, count(*) FROM team_members GROUP BY user_id HAVING count(*) > 1"
        )
        assert rows == []
        for user in ids:
            assert await services.teams.team_of(user) is not None or await services.lfg.profile(user) is not None


async def test_placement_and_joins_follow_the_databases_team_size_bound(services):
    """The bound the database holds decides, not the event file this process read: another
    process started with a smaller max_size (3 here, this one read 4) wrote it. A placement
    proposed before (2 + 2) takes only the place left; /team join is refused past it."""
    await join_pool(services, "cap", experience="expert")
    rockets = await services.teams.create("Rockets", captain="cap")
    await services.teams.add_member(rockets.team.id, "mate")
    await services.lfg.set_recruiting("cap", True)
    for i in range(2):
        await join_pool(services, f"p{i}", open_to_existing=True)
    result = await services.lfg.propose(seed=0)
    [filling] = [t for t in result.teams if t.existing_team == rockets.team.id]
    assert len(filling.members) == 2  # 2 + 2 = 4 by this process's event file
    await services.store.execute("UPDATE team_limits SET max_size = 3")
    applied = await services.lfg.apply(result)
    [placed] = [t for t in applied.teams if t.team.id == rockets.team.id]
    assert len(placed.members) == 3 and len(placed.newcomers) == 1
    left = [u for u in filling.members if u not in placed.newcomers]
    assert [p.user_id for p in await services.lfg.looking()] == left  # still in the pool
    with pytest.raises(NotAllowed, match=r"this team is full \(3 members\)"):
        await services.teams.add_member(rockets.team.id, "late")
    # and the database refuses past it whatever the code checked before
    with pytest.raises(IntegrityError, match="^team is full$"):
        await services.store.execute("INSERT INTO team_members(team_id, user_id, joined_at) VALUES (?, 'late', 0)",
                                      (rockets.team.id,))
