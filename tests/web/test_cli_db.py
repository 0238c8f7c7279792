"""`hackbot db status|migrate|copy` and `hackbot phase show|set`, run as an organizer runs them,
on SQLite and on PostgreSQL; a phase set from the command line holds for the next request of a
running `hackbot run` process."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
import requests

from bot.config import load_event
from bot.core.services import Services
from bot.core.store import migrations, redact
from tests.databases import count, execute, query
from tests.web.conftest import EVENT_NAME, free_port, hackbot_env, valid_csv
from tests.web.test_cli import COMMAND, hackbot, live_event

SECRET = "hunter2-not-shown"


def with_password(target: str) -> str:
    """The target as an organizer would type it, with a password (the test server trusts
    loopback, so it is not checked, only carried): it must never be printed."""
    if not target.startswith("postgresql://"):
        return target
    parts = urlsplit(target)
    netloc = f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@pytest.fixture
def event_file(tmp_path, data_root):
    return live_event(tmp_path / "event.toml", data_root)


def test_db_status_and_migrate(tmp_path, event_file, databases):
    target = with_password(databases.new(empty=True))
    names = [m.name for m in migrations(databases.dialect)]
    common = ("--config", str(event_file), "--db", target)
    if databases.dialect == "sqlite":
        missing = hackbot("db", "status", *common, cwd=tmp_path)
        assert missing.returncode == 0 and "no database at" in missing.stdout
    dry = hackbot("db", "migrate", "--dry-run", *common, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert f"would apply {len(names)} migration(s)" in dry.stdout
    assert all(name in dry.stdout for name in names)
    pending = hackbot("db", "status", *common, cwd=tmp_path)
    assert pending.returncode == 0, pending.stderr
    assert f"{len(names)} pending: {', '.join(names)}" in " ".join(pending.stdout.split())  # wrapped lines

    done = hackbot("db", "migrate", *common, cwd=tmp_path)
    assert done.returncode == 0 and f"applied {len(names)} migration(s)" in done.stdout, done.stderr
    status = hackbot("db", "status", *common, cwd=tmp_path)
    assert status.returncode == 0 and "up to date" in status.stdout
    assert f"{databases.dialect} database" in status.stdout
    checksums = [m.checksum[:16] for m in migrations(databases.dialect)]
    assert all(c in status.stdout for c in checksums)
    assert hackbot("db", "migrate", *common, cwd=tmp_path).stdout.count("up to date") == 1

    # an applied migration edited since: status names it (exit 1), and nothing starts on it
    asyncio.run(execute(target, "UPDATE schema_migrations SET checksum = ? WHERE version = 2", ("f" * 64,)))
    edited = hackbot("db", "status", *common, cwd=tmp_path)
    assert edited.returncode == 1 and "EDITED" in edited.stdout
    assert "0002_team_discord (version 2) was edited" in edited.stderr.replace("\n", " ")
    refused = hackbot("team", "list", *common, cwd=tmp_path)
    assert refused.returncode == 1 and "0002_team_discord" in refused.stderr and "Restore the file" in refused.stderr
    said = f"event '{EVENT_NAME}' ({event_file}); database {redact(target)}"
    for result in (dry, pending, done, status, edited, refused):
        assert SECRET not in result.stdout + result.stderr
        assert said in " ".join(result.stderr.split()), result.stderr  # what it acts on, as every command


@pytest.mark.parametrize("databases", ["postgres"], indirect=True)
async def test_db_copy_moves_an_event_from_sqlite_to_postgres(tmp_path, event_file, databases, data_root):
    source = tmp_path / "event.sqlite3"
    config = load_event(event_file)
    services = await Services.open(config, source)
    try:
        blue = await services.teams.create("Blue", validated=True, captain="u1")
        for user in ("u2", "u3"):
            await services.teams.add_member(blue.team.id, user)
        red = await services.teams.create("Red", validated=True, captain="u4")
        for datum in (4, 8, 15):
            await services.reveals.reveal(blue.team, 3, datum)
        y = np.load(next((data_root / "mock").glob("00_*")) / "y_val.npy")
        await services.submissions.submit(red.team, 0, "red.csv", valid_csv(y, wrong=50), source="test")
        await services.lfg.set_profile("u9", name="Nine", experience="expert")
        await services.store.execute("INSERT INTO team_contacts(team_id, email) VALUES (?, ?)",
                                     (blue.team.id, "blue@example.org"))  # as `hackbot team import` keeps them
        before = (await services.leaderboard.standings(organizer=True)).to_api()
    finally:
        await services.close()

    target = with_password(databases.new(empty=True))
    copied = hackbot("db", "copy", "--from", str(source), "--to", target, cwd=tmp_path, timeout=120)
    assert copied.returncode == 0, copied.stderr
    assert f"copying database {source} into {redact(target)}" in " ".join(copied.stderr.split())
    assert "the invariants hold on both sides" in copied.stdout
    assert re.search(r"reveals\s+│\s+3\s+│\s+3\s+│\s+ok", copied.stdout)
    assert re.search(r"team_members\s+│\s+4\s+│\s+4\s+│\s+ok", copied.stdout)
    assert re.search(r"team_contacts\s+│\s+1\s+│\s+1\s+│\s+ok", copied.stdout)
    assert SECRET not in copied.stdout + copied.stderr

    services = await Services.open(config, target)
    try:
        assert (await services.leaderboard.standings(organizer=True)).to_api() == before
        assert await services.teams.members(blue.team.id) == ["u1", "u2", "u3"]  # captain first, join order kept
        assert await services.reveals.revealed(blue.team, "mock", 3) == [4, 8, 15]
        # the identities go on after the copied ids, the budget after the copied reveals
        green = await services.teams.create("Green")
        assert green.team.id > red.team.id
        assert (await services.reveals.reveal(blue.team, 3, 16)).remaining == 1
        assert (await services.lfg.profile("u9")).name == "Nine"
        assert await services.store.fetchall("SELECT email FROM team_contacts WHERE team_id = ?",
                                             (blue.team.id,)) == [("blue@example.org",)]
    finally:
        await services.close()

    again = hackbot("db", "copy", "--from", str(source), "--to", target, cwd=tmp_path)
    assert again.returncode == 1 and "is not empty" in again.stderr and SECRET not in again.stderr


@pytest.mark.parametrize("databases", ["postgres"], indirect=True)
async def test_db_copy_refuses_a_source_that_breaks_an_invariant(tmp_path, event_file, databases):
    source = tmp_path / "event.sqlite3"
    services = await Services.open(load_event(event_file), source)
    try:
        team = (await services.teams.create("Blue", validated=True)).team
        for datum in range(5):
            await services.reveals.reveal(team, 3, datum)
    finally:
        await services.close()
    # the event file's budget lowered after the reveals: 5 revealed, 3 allowed
    await execute(str(source), "UPDATE phase_datasets SET reveal_budget = 3 WHERE dataset_id = 3")
    target = databases.new(empty=True)
    refused = hackbot("db", "copy", "--from", str(source), "--to", target, cwd=tmp_path)
    assert refused.returncode == 1
    assert "breaks the event's invariants" in refused.stderr
    assert "no team reveals more than the budget" in refused.stderr.replace("\n", " ")
    assert await count(target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0  # untouched


def test_phase_set_from_the_command_line_holds_for_the_next_request(tmp_path, event_file, db):
    """`hackbot phase set` in one process; a running `hackbot run` answers the next request with
    that phase (no cache of the phase in the serving process)."""
    common = ("--config", str(event_file), "--db", with_password(db))
    creds = json.loads(hackbot("team", "create", "Runner", "--validated", "--json", *common, cwd=tmp_path).stdout)
    port = free_port()
    server = subprocess.Popen([*COMMAND, "run", *common, "--port", str(port)], cwd=tmp_path, env=hackbot_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()
            try:
                health = requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "hackbot run did not answer /healthz"
                time.sleep(0.1)
        assert health.json()["phase"] == "mock"
        form = {"username": creds["username"], "password": creds["password"], "exercise_id": 12, "datum_id": 1}
        assert requests.post(f"{base}/reveal/", data=form, timeout=5).status_code == 403  # 12 is "real" only

        shown = hackbot("phase", "show", *common, cwd=tmp_path)
        assert "Current phase: mock, from the schedule." in shown.stdout
        forced = hackbot("phase", "set", "real", *common, cwd=tmp_path)
        assert forced.returncode == 0 and "The current phase is real." in forced.stdout, forced.stderr
        assert requests.get(f"{base}/healthz", timeout=5).json()["phase"] == "real"
        answer = requests.post(f"{base}/reveal/", data=form, timeout=5)
        assert answer.status_code == 200, answer.text
        shown = hackbot("phase", "show", *common, cwd=tmp_path)
        assert "Current phase: real, set by hand" in shown.stdout and "real (current)" in shown.stdout

        back = hackbot("phase", "set", "auto", *common, cwd=tmp_path)
        assert "The current phase is mock (from the schedule)." in back.stdout
        assert requests.get(f"{base}/healthz", timeout=5).json()["phase"] == "mock"
        unknown = hackbot("phase", "set", "final", *common, cwd=tmp_path)
        assert unknown.returncode == 1 and "there is no phase 'final'; the phases are: mock, real" in unknown.stderr
        said = f"event '{EVENT_NAME}' ({event_file}); database {redact(common[3])}"
        for result in (shown, forced, back, unknown):
            assert SECRET not in result.stdout + result.stderr
            assert said in " ".join(result.stderr.split()), result.stderr
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    assert SECRET not in out + err



def test_phase_set_from_the_command_line_is_announced_once(tmp_path, event_file, db):
    """`hackbot phase set` announces a phase that changed as /admin phase set does: one outbox row
    of kind phase.open, keyed by the phase, for the bot process to post; the same set again (or
    two at once) writes none."""
    common = ("--config", str(event_file), "--db", with_password(db))
    rows = "SELECT key, kind, lane, payload FROM outbox WHERE kind = 'phase.open' ORDER BY id"
    forced = hackbot("phase", "set", "real", *common, cwd=tmp_path)
    assert forced.returncode == 0 and "The current phase is real." in forced.stdout, forced.stderr
    assert "announcement is queued" in forced.stdout
    [(key, kind, lane, payload)] = asyncio.run(query(db, rows))
    assert re.fullmatch(r"phase\.open:real:[0-9.]+", key) and lane == "phases"
    assert json.loads(payload) == {"phase": "real"}

    again = hackbot("phase", "set", "real", *common, cwd=tmp_path)
    assert again.returncode == 0 and "(unchanged)" in again.stdout and "queued" not in again.stdout
    assert [r[0] for r in asyncio.run(query(db, rows))] == [key]  # not posted twice

    back = hackbot("phase", "set", "auto", *common, cwd=tmp_path)  # back to "mock": that change is announced
    assert "The current phase is mock (from the schedule)." in back.stdout
    announced = [json.loads(r[3])["phase"] for r in asyncio.run(query(db, rows))]
    assert announced == ["real", "mock"]
    both = [subprocess.Popen([*COMMAND, "phase", "set", "real", *common], cwd=tmp_path, env=hackbot_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    assert all(p.wait(timeout=60) == 0 for p in both)
    announced = [json.loads(r[3])["phase"] for r in asyncio.run(query(db, rows))]
    assert announced == ["real", "mock", "real"]  # two scripts setting it at once: one announcement
