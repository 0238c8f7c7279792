"""Several `hackbot run --role web` processes over one database (issue 10, section 4): the
failed-login limit is one limit across processes, requests spread over 4 processes get the same
answers as one process (`previously revealed` included), and a phase set by `hackbot phase set`
holds for the very next request in every process."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from pathlib import Path

import pytest
import requests

from bot.config import load_event
from bot.core.services import Services
from tests.web.conftest import hackbot_env, hidden_y
from tests.web.processes import COMMAND, WebProcess, web_processes
from tests.web.test_cli import live_event


@pytest.fixture
def event_file(tmp_path, data_root) -> Path:
    return live_event(tmp_path / "event.toml", data_root)


def make_teams(event: Path, db: str, *names: str) -> list[tuple[str, str]]:
    async def create() -> list[tuple[str, str]]:
        services = await Services.open(load_event(event), db)
        try:
            made = [await services.teams.create(name, validated=True) for name in names]
            return [(c.team.username, c.password) for c in made]
        finally:
            await services.close()

    return asyncio.run(create())


def reveal(url: str, username: str, password: str, exercise_id: int, datum_id: int) -> tuple[int, dict]:
    res = requests.post(f"{url}/reveal/", data={"username": username, "password": password,
                                                "exercise_id": exercise_id, "datum_id": datum_id}, timeout=10)
    return res.status_code, res.json()


def test_three_web_processes_share_one_failed_login_limit(event_file, db, tmp_path):
    (alpha, alpha_pw), (beta, beta_pw) = make_teams(event_file, db, "Alpha", "Beta")
    with web_processes(event_file, db, 3, tmp_path) as processes:
        urls = itertools.cycle(p.url for p in processes)
        limit = 5  # LoginLimiter's pair_limit
        statuses = [reveal(next(urls), alpha, f"typo{i}", 3, 1)[0] for i in range(limit)]
        assert statuses == [401] * limit  # 2 failures on two processes, 1 on the third
        # the right password, on each process in turn: refused by all three, one limit
        for process in processes:
            status, body = reveal(process.url, alpha, alpha_pw, 3, 1)
            assert status == 429 and "too many failed logins" in body["error"], body
        # another team from the same address is not affected, on any process
        assert [reveal(p.url, beta, beta_pw, 3, 1)[0] for p in processes] == [200, 200, 200]


SEQUENCE = [(3, 10), (3, 11), (3, 10), (0, 4), (3, 12), (3, 13), (3, 11), (3, 14), (3, 15), (3, 12), (0, 4), (0, 5)]


def play(urls: list[str], team: tuple[str, str]) -> list[tuple[int, dict]]:
    spread = itertools.cycle(urls)
    return [reveal(next(spread), *team, ds, datum) for ds, datum in SEQUENCE]


@pytest.mark.parametrize("databases", ["postgres"], indirect=True)
def test_four_web_processes_on_postgresql_answer_as_one(event_file, databases, data_root, tmp_path):
    spread_db, single_db = databases.new(), databases.new()
    [spread_team] = make_teams(event_file, spread_db, "Spread")
    [single_team] = make_teams(event_file, single_db, "Single")
    (tmp_path / "one").mkdir()
    with web_processes(event_file, single_db, 1, tmp_path / "one") as [one]:
        alone = play([one.url], single_team)
    with web_processes(event_file, spread_db, 4, tmp_path) as processes:
        spread = play([p.url for p in processes], spread_team)
        assert spread == alone
        y = hidden_y(data_root, "mock", 3)
        assert spread[2] == (200, {"exercise_id": 3, "datum_id": 10, "label": int(y[10]), "previously revealed": [11]})
        assert spread[6] == (200, {"exercise_id": 3, "datum_id": 11, "label": int(y[11]),
                                   "previously revealed": [10, 12, 13]})
        assert spread[8][0] == 403 and "5 of 5 labels already revealed" in spread[8][1]["error"]  # the 6th datum
        assert spread[9][0] == 200  # re-reading is free, even after the budget is spent

        # a phase set from the command line holds for the very next request in every process
        assert {requests.get(f"{p.url}/healthz", timeout=5).json()["phase"] for p in processes} == {"mock"}
        status, body = reveal(processes[0].url, *spread_team, 12, 1)
        assert status == 403, body  # dataset 12 is in phase "real" only
        done = subprocess.run([*COMMAND, "phase", "set", "real", "--config", str(event_file)], cwd=tmp_path,
                              env=hackbot_env(HACKBOT_DB=spread_db), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        for i, process in enumerate(processes):  # dataset 12's budget is 3: the 4th re-reads datum 0
            status, body = reveal(process.url, *spread_team, 12, i % 3)
            assert status == 200, (process.url, body)
        assert {requests.get(f"{p.url}/healthz", timeout=5).json()["phase"] for p in processes} == {"real"}


def test_a_web_process_says_its_role_and_never_connects_to_discord(event_file, db, tmp_path):
    env = {"DISCORD_TOKEN": "not-a-token", "HACKBOT_DISCORD_API": "http://127.0.0.1:9"}  # nothing listens there
    process = WebProcess(event_file, db, tmp_path / "web.log", env)
    try:
        process.wait_ready()
        assert requests.get(f"{process.url}/api/leaderboard", timeout=5).status_code == 200
    finally:
        assert process.stop() == 0, process.output()
    assert "role web" in process.output()


def test_the_bot_role_without_a_token_says_what_to_do(event_file, db, tmp_path):
    done = subprocess.run([*COMMAND, "run", "--role", "bot", "--config", str(event_file)], cwd=tmp_path,
                          env=hackbot_env(HACKBOT_DB=db), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "needs DISCORD_TOKEN" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_trusted_proxies_setting_is_refused_by_name(event_file, db, tmp_path):
    done = subprocess.run([*COMMAND, "run", "--role", "web", "--config", str(event_file)], cwd=tmp_path,
                          env=hackbot_env(HACKBOT_DB=db, HACKBOT_TRUSTED_PROXIES="127.0.0.1, proxy.local"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "'proxy.local' is neither an IP address nor a network" in done.stderr, done.stderr
