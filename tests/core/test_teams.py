"""Teams, members and API credentials: what a participant and an organizer see."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from bot.core.errors import AlreadyDone, BadCredentials, BadInput, NotAllowed, NotFound
from bot.core.teams import username_for
from tests.core.helpers import T0

# --- credentials ----------------------------------------------------------------------------

async def test_create_returns_a_strong_password_shown_once(services):
    creds = await services.teams.create("Awesome Team!")
    assert creds.team.name == "Awesome Team!" and creds.team.username == "awesome_team"
    assert not creds.team.validated
    assert isinstance(creds.password, str) and len(creds.password) >= 22  # >= 128 bits, urlsafe
    assert creds.password not in repr(creds) and "hidden" in repr(creds)
    # nothing that looks the team up later carries the password
    for team in [await services.teams.get("Awesome Team!"), *(await services.teams.list())]:
        assert creds.password not in repr(team)
        assert not hasattr(team, "password")
    other = await services.teams.create("Other")
    assert other.password != creds.password


async def test_database_stores_only_a_sha256_digest(services, tmp_path):
    creds = await services.teams.create("Awesome Team!")
    row = await services.store.fetchone("SELECT password_digest FROM teams WHERE id = ?", (creds.team.id,))
    assert row[0] == hashlib.sha256(creds.password.encode()).digest() and len(row[0]) == 32
    rotated = await services.teams.rotate_password(creds.team.id)
    digest = hashlib.sha256(rotated.password.encode()).digest()

    def check(data: bytes) -> None:
        assert digest in data  # the scan does see the table's contents...
        for password in (creds.password, rotated.password):
            assert password.encode() not in data  # ...and no password in any form
            assert password.encode("utf-16-le") not in data

    if services.store.dialect == "postgres":
        # every row of every table as PostgreSQL writes it out (bytea as hex)
        text = ""
        for table in await services.store.tables():
            text += "".join(row[0] for row in await services.store.fetchall(f"SELECT CAST(t AS TEXT) FROM {table} t"))
        assert "\\x" + digest.hex() in text  # the dump does see the table's contents...
        assert creds.password not in text and rotated.password not in text  # ...and no password
        return

    def raw_bytes() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.glob(services.store.path.name + "*"))

    check(raw_bytes())  # while open: the rows may still sit in the -wal file
    await services.close()
    check(raw_bytes())  # closed: checkpointed into the database file


async def test_authenticate(services):
    creds = await services.teams.create("Awesome Team!")
    team = await services.teams.authenticate("awesome_team", creds.password)
    assert team.id == creds.team.id and team.name == "Awesome Team!"
    with pytest.raises(BadCredentials) as wrong:
        await services.teams.authenticate("awesome_team", creds.password + "x")
    with pytest.raises(BadCredentials) as unknown:
        await services.teams.authenticate("nobody", creds.password)
    with pytest.raises(BadCredentials):
        await services.teams.authenticate("Awesome Team!", creds.password)  # the name is not the login
    with pytest.raises(BadCredentials):
        await services.teams.authenticate("awesome_team", "")
    # a stranger cannot tell an unknown username from a wrong password
    assert wrong.value.message == unknown.value.message


async def test_rotate_makes_the_old_password_fail_and_the_new_work(services):
    creds = await services.teams.create("Awesome Team!")
    rotated = await services.teams.rotate_password(creds.team.id)
    assert rotated.password != creds.password and rotated.team == creds.team
    with pytest.raises(BadCredentials):
        await services.teams.authenticate("awesome_team", creds.password)
    assert (await services.teams.authenticate("awesome_team", rotated.password)).id == creds.team.id
    with pytest.raises(NotFound):
        await services.teams.rotate_password(creds.team.id + 100)


# --- names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("duplicate", ["awesome team!", "AWESOME TEAM!", "  Awesome   Team! "])
async def test_duplicate_names_refused_case_insensitively(services, duplicate):
    await services.teams.create("Awesome Team!")
    with pytest.raises(AlreadyDone, match="exists already"):
        await services.teams.create(duplicate)
    assert len(await services.teams.list()) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
async def test_bad_names_refused(services, name):
    with pytest.raises(BadInput):
        await services.teams.create(name)
    assert await services.teams.list() == []


@pytest.mark.parametrize(("name", "username"), [
    ("Awesome Team!", "awesome_team"),
    ("Équipe Été", "equipe_ete"),
    ("  The   A-Team  ", "the_a_team"),
    ("!!!", "team"),
])
def test_username_derived_from_name(name, username):
    assert username_for(name) == username


async def test_usernames_made_unique(services):
    first = await services.teams.create("Awesome Team!")
    second = await services.teams.create("Awesome-Team")
    third = await services.teams.create("awesome.team")
    assert [first.team.username, second.team.username, third.team.username] == [
        "awesome_team", "awesome_team_2", "awesome_team_3",
    ]
    # each logs in with its own username
    assert (await services.teams.authenticate("awesome_team_2", second.password)).name == "Awesome-Team"


async def test_validate(services):
    await services.teams.create("Awesome Team!")
    assert not (await services.teams.get("awesome team!")).validated
    team = await services.teams.validate("Awesome Team!")
    assert team.validated and (await services.teams.get("awesome_team")).validated
    await services.teams.validate("awesome_team", False)
    assert not (await services.teams.get("Awesome Team!")).validated
    with pytest.raises(NotFound):
        await services.teams.validate("Nobody")


# --- members --------------------------------------------------------------------------------

async def test_add_member_respects_max_size(services):  # max_size = 3
    creds = await services.teams.create("Blue", captain="u1")
    await services.teams.add_member(creds.team.id, "u2")
    await services.teams.add_member(creds.team.id, "u3")
    with pytest.raises(NotAllowed, match="full"):
        await services.teams.add_member(creds.team.id, "u4")
    assert await services.teams.members(creds.team.id) == ["u1", "u2", "u3"]
    assert await services.teams.team_of("u4") is None


async def test_one_team_per_person(services):
    blue = await services.teams.create("Blue", captain="u1")
    red = await services.teams.create("Red", captain="u2")
    with pytest.raises(NotAllowed, match="in a team already"):
        await services.teams.add_member(red.team.id, "u1")
    with pytest.raises(NotAllowed, match="in a team already"):
        await services.teams.add_member(blue.team.id, "u1")  # joining one's own team again
    with pytest.raises(NotAllowed, match="in a team already"):
        await services.teams.create("Green", captain="u2")
    assert [t.name for t in await services.teams.list()] == ["Blue", "Red"]  # Green not half-made
    assert (await services.teams.team_of("u1")).name == "Blue"
    assert await services.teams.members(red.team.id) == ["u2"]


async def test_joining_a_team_that_does_not_exist(services):
    with pytest.raises(NotFound, match="no longer exists"):
        await services.teams.add_member(999, "u1")
    assert await services.teams.team_of("u1") is None


async def test_formation_window(open_services, clock):
    opens, closes = T0 + timedelta(hours=1), T0 + timedelta(days=1)
    services = await open_services(formation_opens=opens, formation_closes=closes)
    organizer_made = await services.teams.create("Made by organizers")  # no captain: any time

    clock.set(opens - timedelta(seconds=1))
    with pytest.raises(NotAllowed, match="opens at"):
        await services.teams.create("Early", captain="u1")
    with pytest.raises(NotAllowed, match="opens at"):
        await services.teams.add_member(organizer_made.team.id, "u1")

    clock.set(opens)
    blue = await services.teams.create("Blue", captain="u1")
    clock.set(closes - timedelta(seconds=1))
    await services.teams.add_member(blue.team.id, "u2")

    clock.set(closes)
    with pytest.raises(NotAllowed, match="closed at"):
        await services.teams.create("Late", captain="u3")
    with pytest.raises(NotAllowed, match="closed at"):
        await services.teams.add_member(blue.team.id, "u3")
    assert await services.teams.members(blue.team.id) == ["u1", "u2"]
    assert {t.name for t in await services.teams.list()} == {"Blue", "Made by organizers"}


async def test_deleting_a_team_frees_its_members(services):
    blue = await services.teams.create("Blue", captain="u1")
    await services.store.execute("DELETE FROM teams WHERE id = ?", (blue.team.id,))  # by hand: no rule in the way
    await services.teams.create("Red", captain="u1")
    assert (await services.teams.team_of("u1")).name == "Red"


async def test_first_member_of_an_emptied_team_becomes_captain(services):
    """A team whose last member left keeps its results; whoever joins it next leads it."""
    creds = await services.teams.create("Kept", validated=True, captain="u1")
    await services.reveals.reveal(creds.team, 3, 1)
    departure = await services.roster.leave("u1")
    assert departure.disbanded
    await services.teams.add_member(creds.team.id, "u2")
    info = await services.roster.info(creds.team)
    assert info.captain == "u2" and info.members == ["u2"]
