"""`hackbot team import FILE.csv`: a registration spreadsheet becomes teams, once.

Run as an organizer runs it (a subprocess), then checked against the database through the
services: the printed passwords log in, the members and emails are stored, a second run changes
nothing, and each bad row is reported with its line while the good rows are kept. On SQLite and
on PostgreSQL (`db`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_event
from bot.core.errors import BadCredentials
from bot.core.services import Services
from bot.core.store import IntegrityError
from bot.core.team_import import import_teams, parse_team_csv
from tests.core.helpers import Clock
from tests.databases import count, execute, query
from tests.web.conftest import T0
from tests.web.test_cli import hackbot, live_event

SHEET = """Timestamp,team,validated,members,emails,Comments
2024-11-01 10:00,Gradient Gang,true,111111111111111111;222222222222222222,ann@example.org; bob@example.org,first!
2024-11-01 10:05,Solo Act,false,333333333333333333,,
2024-11-01 10:06,,true,444444444444444444,,no name
2024-11-01 10:07,Too Many,true,1;2;3;4;5;6,,six people
2024-11-01 10:08,Bad Flag,maybe,555555555555555555,,
2024-11-01 10:09,Bad Member,true,@bob,,
2024-11-01 10:10,gradient gang,true,666666666666666666,,same team twice
2024-11-01 10:11,Thief,true,222222222222222222,,bob again
2024-11-01 10:12,Bad Mail,true,777777777777777777,not-an-email,

2024-11-01 10:13,No Members Yet,true,,team@example.org,
"""


@pytest.fixture
def event_file(tmp_path, data_root) -> Path:
    return live_event(tmp_path / "event.toml", data_root)


async def _services(event_file: Path, db: str) -> Services:
    return await Services.open(load_event(event_file), db, clock=Clock(now=T0))


async def test_import_creates_reports_and_is_idempotent(tmp_path, event_file, db):
    sheet = tmp_path / "registrations.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    common = ("--config", str(event_file), "--db", db)
    first = hackbot("team", "import", str(sheet), "--json", *common, cwd=tmp_path)
    assert first.returncode == 2, first.stderr  # bad rows: reported, good rows kept
    errors = [line for line in first.stderr.splitlines() if line.startswith(f"{sheet}:")]
    assert [e.split(":")[1] for e in errors] == ["4", "5", "6", "7", "8", "9", "10"]
    text = " ".join(first.stderr.split())
    for reason in ("the team name is empty", "lists 6 members; the event allows at most 5", "validated is 'maybe'",
                   "'@bob' is not a Discord user id", "team 'gradient gang' is listed already on line 2",
                   "member 222222222222222222 is listed already in team 'Gradient Gang' on line 2",
                   "'not-an-email' is not an email address", "ignored column(s): Timestamp, Comments",
                   "3 team(s) created, 0 updated, 0 unchanged; 7 bad row(s)"):
        assert reason in text, reason
    created = json.loads(first.stdout)
    assert [c["team"] for c in created] == ["Gradient Gang", "Solo Act", "No Members Yet"]

    services = await _services(event_file, db)
    try:
        for c in created:  # each password is the team's and logs in
            assert (await services.teams.authenticate(c["username"], c["password"])).name == c["team"]
        gang = await services.teams.get("Gradient Gang")
        assert gang.validated and not (await services.teams.get("Solo Act")).validated
        assert await services.teams.members(gang.id) == ["111111111111111111", "222222222222222222"]
        info = await services.roster.info(gang)
        assert info.captain == "111111111111111111"  # the first listed member
        emails = await services.store.fetchall("SELECT email FROM team_contacts WHERE team_id = ? ORDER BY email",
                                               (gang.id,))
        assert [e[0] for e in emails] == ["ann@example.org", "bob@example.org"]
    finally:
        await services.close()

    second = hackbot("team", "import", str(sheet), "--json", *common, cwd=tmp_path)
    assert second.returncode == 2 and json.loads(second.stdout) == []  # no password printed twice
    assert "0 team(s) created, 0 updated, 3 unchanged" in " ".join(second.stderr.split())
    services = await _services(event_file, db)
    try:
        assert len(await services.teams.list()) == 3
        for c in created:  # the first passwords still work: nothing was reset
            await services.teams.authenticate(c["username"], c["password"])
    finally:
        await services.close()


async def test_import_updates_validation_and_adds_members(tmp_path, event_file, db):
    common = ("--config", str(event_file), "--db", db)
    sheet = tmp_path / "teams.csv"
    sheet.write_text("team,validated,members\nLate Team,false,101\n", encoding="utf-8")
    first = hackbot("team", "import", str(sheet), *common, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Late Team\tlate_team\t" in first.stdout and "each password is shown once" in first.stdout
    sheet.write_text("team,validated,members\nlate team,TRUE,101;102\n", encoding="utf-8")
    second = hackbot("team", "import", str(sheet), "--json", *common, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == [] and "0 team(s) created, 1 updated" in second.stderr
    services = await _services(event_file, db)
    try:
        team = await services.teams.get("Late Team")
        assert team.validated and await services.teams.members(team.id) == ["101", "102"]
    finally:
        await services.close()


async def test_rows_the_database_refuses_are_reported_and_the_others_kept(event_file, db):
    services = await _services(event_file, db)
    try:
        await services.teams.create("Discord Team", captain="900")  # someone who joined on Discord
        full = await services.teams.create("Almost Full", captain="801")
        for user in ("802", "803", "804"):
            await services.teams.add_member(full.team.id, user)
        parsed = parse_team_csv(
            "team,validated,members\nNewcomers,true,1;2\nPoacher,true,3;900\nAlmost Full,true,805;806\n",
            services.config,
        )
        assert parsed.errors == []
        result = await import_teams(services.store, services.config, services.clock, parsed.rows)
        assert [c.team.name for c in result.created] == ["Newcomers"]
        assert result.errors == [
            (3, "member 900 is in team 'Discord Team' already; remove them there first, or fix the row"),
            (4, "team 'Almost Full' would have 6 members with this row; the event allows at most 5"),
        ]
        assert {t.name for t in await services.teams.list()} == {"Discord Team", "Almost Full", "Newcomers"}
        assert len(await services.teams.members(full.team.id)) == 4  # the refused row left no trace
        assert await services.teams.team_of("3") is None
        with pytest.raises(BadCredentials):
            await services.teams.authenticate("poacher", "x")
    finally:
        await services.close()


async def test_thousands_of_rows_in_one_import(event_file, db):
    """2,000 teams of 3 in one call (`benchmarks/bench_team_import.py` measures the speed)."""
    rows = "".join(f"Team {i},true,{3 * i + 1};{3 * i + 2};{3 * i + 3},t{i}@example.org\n" for i in range(2000))
    services = await _services(event_file, db)
    try:
        parsed = parse_team_csv("team,validated,members,emails\n" + rows, services.config)
        result = await import_teams(services.store, services.config, services.clock, parsed.rows)
        assert len(result.created) == 2000 and not result.errors
        count = await services.store.fetchone("SELECT count(*) FROM team_members")
        assert count == (6000,)
        again = await import_teams(services.store, services.config, services.clock, parsed.rows)
        assert len(again.unchanged) == 2000 and not again.created
    finally:
        await services.close()


@pytest.mark.parametrize(("text", "reason"), [
    ("name,members\nA,1\n", "the header lacks the column(s) team, validated"),
    ("", "the file is empty"),
    ("team,validated,members\nA,true,12345678901234567890123\n", "is not a Discord user id"),
    ("team,validated,members\nA,true,1;1\n", "a member is listed twice in this team"),
    ("team,validated,members\nA,true,\u0661\u0662\n", "is not a Discord user id"),
    ("team,validated,members\n" + "x" * 65 + ",true,1\n", "the team name has 1 to 64 characters"),
])
def test_bad_files_and_rows_are_named(text, reason, data_root, tmp_path):
    config = load_event(live_event(tmp_path / "e.toml", data_root))
    parsed = parse_team_csv(text, config)
    assert parsed.rows == [] and any(reason in message for _, message in parsed.errors), parsed.errors


def test_a_latin1_sheet_is_refused_with_its_line(tmp_path, event_file):
    sheet = tmp_path / "latin1.csv"
    sheet.write_bytes("team,validated,members\nÉquipe Café,true,1\n".encode("latin-1"))
    result = hackbot("team", "import", str(sheet), "--config", str(event_file), "--db", str(tmp_path / "x.sqlite3"),
                     cwd=tmp_path)
    assert result.returncode == 1 and f"{sheet}:2: not UTF-8" in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was opened


async def test_the_migration_keeps_emails_per_team(db, event_file):
    """team_contacts: an email once per team, gone with its team."""
    await (await _services(event_file, db)).close()  # created and migrated
    await execute(db, "INSERT INTO teams(id, name, name_key, username, password_digest, created_at) "
                      "VALUES (1, 'A', 'a', 'a', ?, 0)", (bytes(32),))
    await execute(db, "INSERT INTO team_contacts(team_id, email) VALUES (1, 'a@b.c')")
    with pytest.raises(IntegrityError) as twice:
        await execute(db, "INSERT INTO team_contacts(team_id, email) VALUES (1, 'a@b.c')")
    assert twice.value.kind == "unique"
    with pytest.raises(IntegrityError) as short:
        await execute(db, "INSERT INTO team_contacts(team_id, email) VALUES (1, 'a@')")
    assert short.value.kind == "check"
    await execute(db, "DELETE FROM teams WHERE id = 1")
    assert await count(db, "SELECT count(*) FROM team_contacts") == 0
    assert await query(db, "SELECT email FROM team_contacts") == []
