"""`hackbot rehearse --participants N --web 2` on PostgreSQL: the event played by one `hackbot run
--role bot` process and two `--role web` processes over one database, people joining teams with
the real /team join, the teams' scripts' HTTP requests spread over the web processes (issue 10's
rehearsal benchmark, small)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.sandbox import rehearse as rehearsal

pytestmark = pytest.mark.parametrize("databases", ["postgres"], indirect=True)

EVENT = """
[event]
name = "Crowded rehearsal"
timezone = "UTC"

[teams]
min_size = 1
max_size = 4

[[phases]]
id = "main"
starts = "now"
data_dir = "data"

[submissions]
closes = "now+1h"

[[datasets]]
id = 1
name = "tiny"
points = 1
reveal_budget = 2
"""


def test_a_rehearsal_of_100_people_on_a_bot_and_two_web_processes(tmp_path, monkeypatch, databases):
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=4))
    source = tmp_path / "crowded.toml"
    source.write_text(EVENT)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, [
        "rehearse", "--config", str(source), "--speed", "600", "--teams", "30", "--participants", "100",
        "--web", "2", "--db", databases.new(empty=True), "--keep", str(tmp_path / "kept"), "--report", str(report)])
    logs = "".join(p.read_text(errors="replace")[-2000:] for p in sorted((tmp_path / "kept").glob("*.log")))
    assert result.exit_code == 0, result.output + logs
    written = json.loads(report.read_text())
    assert written["failed"] == [] and written["refused_discord_requests"] == []
    # 30 teams of 3 or 4 (the event allows 4): 100 people, every join let in
    teams = written["acts"]["teams"]
    assert teams["formed"] == 30 and teams["members"] == 100 and teams["refused"] == []
    assert written["participants"] == 100
    # one bot process and two web processes, each web process answered the teams' scripts
    processes = written["processes"]
    assert [p["role"] for p in processes] == ["bot", "web", "web"]
    assert all(p["http_answers"] > 0 for p in processes[1:]), processes
    scripts = written["acts"]["scripts"]
    assert scripts["wrong"] == [] and scripts["statuses"] == {"200": 30 * 2 + 30}  # 2 re-reads and the board each
    # every Discord side effect written was sent, once
    box = written["outbox"]
    assert box["enqueued"] >= 30 and box["sent"] == box["enqueued"] and box["failed"] == box["left"] == 0
    assert box["duplicate_posts"] == 0 and box["drain_after_last_write_s"] is not None
    assert "processes: bot" in result.output and "outbox drained" in result.output


def test_web_processes_need_a_postgresql_database(tmp_path, databases):
    source = tmp_path / "crowded.toml"
    source.write_text(EVENT)
    result = CliRunner().invoke(main, ["rehearse", "--config", str(source), "--web", "2", "--keep", str(tmp_path / "k")])
    assert result.exit_code == 1 and "--db postgresql://" in result.output
    too_many = CliRunner().invoke(main, ["rehearse", "--config", str(source), "--teams", "3", "--participants", "13",
                                         "--keep", str(tmp_path / "k")])
    assert too_many.exit_code == 1
    assert "13 participants in 3 teams make teams of 4 to 5; the event allows 1 to 4 a team" in too_many.output
    assert not (tmp_path / "k").exists()  # refused before anything ran
