"""The real `hackbot` console script, run as subprocesses (as an organizer runs it)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from bot.config import load_event
from bot.core.services import Services
from tests.web.conftest import EVENT_NAME, event_toml, free_port, hackbot_env

HACKBOT = Path(sys.executable).with_name("hackbot")


COMMAND = [str(HACKBOT)] if HACKBOT.exists() else [sys.executable, "-m", "bot.cli"]


def hackbot(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, env=env or hackbot_env(), capture_output=True, text=True, timeout=timeout,
    )


def hackbot_parallel(*invocations: tuple, cwd: Path, env: dict | None = None) -> list[subprocess.CompletedProcess]:
    """Independent invocations at once (each is a fresh interpreter: ~0.5 s of imports)."""
    procs = [
        subprocess.Popen([*COMMAND, *args], cwd=cwd, env=env or hackbot_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in invocations
    ]
    results = []
    for args, proc in zip(invocations, procs, strict=True):
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess([*COMMAND, *args], proc.returncode, out, err))
    return results


def live_event(path: Path, data_root: Path, **options) -> Path:
    """The web tests' event, but live now: phase "mock" started an hour ago (relative times)."""
    text = event_toml(data_root=data_root, **options)
    starts = iter(['"now-1h"', '"now+1d"'])
    text = re.sub(r"starts = \S+", lambda m: f"starts = {next(starts)}", text)
    text = re.sub(r"closes = \S+", 'closes = "now+2d"', text)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def event_file(tmp_path, data_root) -> Path:
    return live_event(tmp_path / "event.toml", data_root)


# --- config check -------------------------------------------------------------------------

def test_config_check_bad_file_exits_1_with_the_key_path(tmp_path, event_file):
    bad = tmp_path / "bad.toml"
    text = event_file.read_text()
    text = text.replace("max_size = 5", "max_size = 5\nmax_sise = 3", 1)
    text = text.replace("points = 2", "points = -2", 1)
    bad.write_text(text)
    no_data = tmp_path / "no_data.toml"
    no_data.write_text(event_toml(data_root=tmp_path / "missing-data"))
    result, missing, no_data_result = hackbot_parallel(
        ("config", "check", str(bad)), ("config", "check", str(tmp_path / "nope.toml")),
        ("config", "check", str(no_data)), cwd=tmp_path,
    )
    assert result.returncode == 1, result
    output = result.stdout + result.stderr
    assert "teams.max_sise" in output and "unknown key" in output
    assert "datasets[2].points" in output
    assert "2 problem(s)" in output
    assert "OK" not in result.stdout

    assert missing.returncode == 1 and "not found" in missing.stderr

    result = no_data_result
    assert result.returncode == 1
    assert "phases[0].data_dir" in result.stderr and "hackbot datasets synth" in result.stderr


def test_config_check_good_file_exits_0_with_a_summary(tmp_path, event_file):
    result = hackbot("config", "check", str(event_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert EVENT_NAME in out
    assert "validated by organizers" in out
    assert "phase mock" in out and "phase real" in out
    assert re.search(r"phase real .*datasets 0, 2, 3, 12", out)
    for name in ("toy_dataset", "digits_456", "random_row", "hard_real_only"):
        assert name in out
    assert "maximum total 5 points" in out and "leaderboard live" in out
    assert "20,000 bytes" in out
    assert out.rstrip().endswith("OK")


# --- datasets synth -----------------------------------------------------------------------

def test_datasets_synth_writes_the_hackathon42_layout(tmp_path, event_file):
    out, only_real = tmp_path / "synth", tmp_path / "only_mock"
    result, mock_only, bad_phase = hackbot_parallel(
        ("datasets", "synth", str(out), "--config", str(event_file), "--rows", "64"),
        ("datasets", "synth", str(only_real), "--config", str(event_file), "--phase", "mock", "--rows", "8"),
        ("datasets", "synth", str(tmp_path / "x"), "--config", str(event_file), "--phase", "nope"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["00_toy_dataset", "02_digits_456", "03_random_row", "12_hard_real_only"]
    assert (out / ".gitignore").read_text().splitlines()[-1] == "*"  # the hidden labels ignore themselves
    for folder in (p for p in out.iterdir() if p.is_dir()):
        names = {p.name for p in folder.iterdir()}
        assert {"X_labeled.npy", "y_labeled.npy", "X_unlabeled.npy", "X_val.npy", "y_val.npy", "groups_val.npy"} <= names
        x_val, y_val, groups = (np.load(folder / f"{n}.npy") for n in ("X_val", "y_val", "groups_val"))
        assert x_val.shape[0] == y_val.shape[0] == groups.shape[0] == 64
        assert np.issubdtype(y_val.dtype, np.integer) and set(np.unique(groups)) <= {0, 1}
    assert set(np.unique(np.load(out / "02_digits_456" / "y_val.npy"))) <= {4, 5, 6}

    assert mock_only.returncode == 0, mock_only.stderr
    assert sorted(p.name for p in only_real.iterdir() if p.is_dir()) == ["00_toy_dataset", "02_digits_456", "03_random_row"]
    assert bad_phase.returncode == 1 and "no phase 'nope'" in bad_phase.stderr
    assert not (tmp_path / "x").exists()


# --- teams, leaderboard -------------------------------------------------------------------

async def test_team_create_json_password_works_against_the_services(tmp_path, event_file, db):
    result = hackbot("team", "create", "Les Bons Élèves", "--validated", "--json",
                     "--config", str(event_file), "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    creds = json.loads(result.stdout)
    assert set(creds) == {"team", "username", "password"}
    assert creds["team"] == "Les Bons Élèves" and creds["username"] == "les_bons_eleves"
    assert len(creds["password"]) >= 32  # >= 128 bits, url-safe

    services = await Services.open(load_event(event_file), db)
    try:
        team = await services.teams.authenticate(creds["username"], creds["password"])
        assert team.validated and team.name == "Les Bons Élèves"
        reveal = await services.reveals.reveal_with_login(creds["username"], creds["password"], 3, 17)
        assert reveal.label in (0, 1)
    finally:
        await services.close()

    again = hackbot("team", "create", "les bons élèves", "--config", str(event_file), "--db", str(db), cwd=tmp_path)
    assert again.returncode == 1 and "exists already" in again.stderr


def test_team_list_validate_and_leaderboard_json(tmp_path, event_file):
    db = tmp_path / "cli.sqlite3"
    common = ("--config", str(event_file), "--db", str(db))
    # two organizers at once on a fresh database (both apply the migrations, once)
    alpha, created = hackbot_parallel(("team", "create", "Alpha", "--validated", *common),
                                      ("team", "create", "Beta", *common), cwd=tmp_path)
    assert alpha.returncode == 0, alpha.stderr
    assert created.returncode == 0 and "password:" in created.stdout, created.stderr

    listing, board = hackbot_parallel(("team", "list", *common), ("leaderboard", "--json", *common), cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split("│")[1].strip(): line for line in listing.stdout.splitlines() if line.count("│") >= 4}
    assert set(rows) >= {"Alpha", "Beta"}
    assert "yes" in rows["Alpha"] and "no" in rows["Beta"]

    assert board.returncode == 0, board.stderr
    standings = json.loads(board.stdout)
    assert standings["phase"] == "mock"
    assert [t["team"] for t in standings["teams"]] == ["Alpha"]  # Beta is not validated yet

    validated = hackbot("team", "validate", "beta", *common, cwd=tmp_path)
    assert validated.returncode == 0 and "Beta" in validated.stdout and "validated" in validated.stdout
    listing, board, real, unknown = hackbot_parallel(
        ("team", "list", *common), ("leaderboard", "--json", *common),
        ("leaderboard", "--json", "--phase", "real", *common), ("team", "validate", "Nobody", *common),
        cwd=tmp_path,
    )
    beta_line = next(line for line in listing.stdout.splitlines() if "Beta" in line)
    assert "yes" in beta_line

    standings = json.loads(board.stdout)
    assert sorted(t["team"] for t in standings["teams"]) == ["Alpha", "Beta"]
    assert all(t["total"] == pytest.approx(0.8 + 0.8 + 1.6) for t in standings["teams"])
    assert [d["id"] for d in standings["datasets"]] == [0, 2, 3]
    real = json.loads(real.stdout)
    assert real["phase"] == "real" and [d["id"] for d in real["datasets"]] == [0, 2, 3, 12]

    assert unknown.returncode == 1 and "no team named 'Nobody'" in unknown.stderr


def test_leaderboard_json_shows_scores_to_organizers_while_hidden(tmp_path, data_root):
    event = live_event(tmp_path / "hidden.toml", data_root, visibility="hidden")
    db = tmp_path / "hidden.sqlite3"
    common = ("--config", str(event), "--db", str(db))
    assert hackbot("team", "create", "Alpha", "--validated", *common, cwd=tmp_path).returncode == 0
    standings = json.loads(hackbot("leaderboard", "--json", *common, cwd=tmp_path).stdout)
    assert standings["teams"][0]["total"] == pytest.approx(3.2)


def test_environment_variables_are_honoured(tmp_path, event_file):
    db = tmp_path / "from-env" / "env.sqlite3"
    env = hackbot_env(HACKBOT_CONFIG=str(event_file), HACKBOT_DB=str(db))
    created = hackbot("team", "create", "Env Team", "--validated", "--json", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    assert db.exists()
    assert not (tmp_path / ".hackbot").exists()  # not the default location
    other_db = tmp_path / "other.sqlite3"
    listing, board, other = hackbot_parallel(
        ("team", "list"), ("leaderboard", "--json"), ("team", "list", "--db", str(other_db)), cwd=tmp_path, env=env,
    )
    assert "Env Team" in listing.stdout
    assert [t["team"] for t in json.loads(board.stdout)["teams"]] == ["Env Team"]
    # the options win over the environment
    assert other.returncode == 0 and "Env Team" not in other.stdout and other_db.exists()
    # HACKBOT_CONFIG is what the commands read: a bad one is reported
    bad_env = hackbot_env(HACKBOT_CONFIG=str(tmp_path / "missing.toml"), HACKBOT_DB=str(db))
    failed = hackbot("team", "list", cwd=tmp_path, env=bad_env)
    assert failed.returncode == 1 and "missing.toml" in failed.stderr


# --- run ----------------------------------------------------------------------------------

def test_run_serves_the_api_and_the_page(tmp_path, event_file, data_root, db):
    common = ("--config", str(event_file), "--db", str(db))
    creds = json.loads(hackbot("team", "create", "Runner", "--validated", "--json", *common, cwd=tmp_path).stdout)
    port = free_port()
    command = [str(HACKBOT)] if HACKBOT.exists() else [sys.executable, "-m", "bot.cli"]
    proc = subprocess.Popen(
        [*command, "run", *common, "--port", str(port)], cwd=tmp_path, env=hackbot_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                health = requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "hackbot run did not answer /healthz within 20 s"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "event": EVENT_NAME, "phase": "mock"}
        page = requests.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert f"{EVENT_NAME} — leaderboard" in page.text and "Runner" in page.text
        res = requests.post(f"{base}/reveal/", data={"username": creds["username"], "password": creds["password"],
                                                    "exercise_id": 3, "datum_id": 456}, timeout=5)
        assert res.status_code == 200, res.text
        y = np.load(next((data_root / "mock").glob("03_*")) / "y_val.npy")
        assert json.loads(res.content) == {"exercise_id": 3, "datum_id": 456, "label": int(y[456]),
                                           "previously revealed": []}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out and "stopped" in out
    assert creds["password"] not in out + err
