"""`hackbot leaderboard` as an organizer runs it: --top N, the 80-column layout, --csv."""

from __future__ import annotations

import csv
import io

from bot.config import load_event
from bot.core.services import Services
from bot.core.synth import synthetic_board
from tests.web.conftest import hackbot_env, valid_csv
from tests.web.test_cli import hackbot, live_event


async def _board(tmp_path, data_root):
    event = live_event(tmp_path / "event.toml", data_root)
    db = tmp_path / "board.sqlite3"
    services = await Services.open(load_event(event), str(db))
    try:
        names = await synthetic_board(services.store, services.config, services.registry, "mock", teams=30,
                                        now=services.clock().timestamp())
        exact = (await services.teams.create("Exact Answers", validated=True)).team
        y = services.registry.get("mock", 3).y
        await services.submissions.submit(exact, 3, "l.csv", valid_csv(y), source="test")
        standings = await services.leaderboard.standings(organizer=True)
    finally:
        await services.close()
    return ("--config", str(event), "--db", str(db)), names, standings


async def test_top_n_in_80_columns(tmp_path, data_root):
    common, names, standings = await _board(tmp_path, data_root)
    result = hackbot("leaderboard", "--narrow", "--top", "5", *common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    body = lines[2:]
    expected = [row for row in standings.rows if row.rank <= 5]
    assert len(body) == len(expected) >= 5
    for line, row in zip(body, expected, strict=True):
        assert line.split()[0] == str(row.rank) and f"{row.total:.3f}" in line
    # the long name is cut to fit, its total still on the line
    long = next(row for row in standings.rows if len(row.team) == 64)
    everyone = hackbot("leaderboard", "--narrow", *common, cwd=tmp_path).stdout
    line = next(line for line in everyone.splitlines() if line.split()[1:3] == long.team.split()[:2])
    assert f"{long.total:.3f}" in line and "…" in line and len(line) <= 80
    # a team's best datasets: Exact Answers submitted dataset 3 perfectly
    exact = next(line for line in everyone.splitlines() if "Exact Answers" in line)
    assert "3:1.000" in exact and " 1/3 " in exact
    # the full table on demand
    wide = hackbot("leaderboard", "--wide", *common, cwd=tmp_path, env=hackbot_env(COLUMNS="200"))
    assert wide.returncode == 0 and "~: a default score" in wide.stdout
    lines = wide.stdout.splitlines()
    assert lines[1].split() == ["#", "team", "total", "0", "2", "3"]
    # every dataset's column: Exact Answers submitted dataset 3 only, the other two count their defaults
    exact = next(line for line in lines if "Exact Answers" in line).split()
    assert exact[-3].startswith("~") and exact[-2].startswith("~") and exact[-1] == "1.000"
    cut = next(line for line in lines if line.split()[1:3] == long.team.split()[:2])
    assert "…" in cut and f"{long.total:.3f}" in cut and f"{standings.rows[0].total:.3f}" in lines[2]


async def test_csv_holds_every_team_and_score(tmp_path, data_root):
    common, names, standings = await _board(tmp_path, data_root)
    result = hackbot("leaderboard", "--csv", *common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["rank", "team", "total", "submitted", "last_submitted", "0_toy_dataset", "2_digits_456",
                       "3_random_row"]
    assert [r[1] for r in rows[1:]] == [row.team for row in standings.rows]
    for r, row in zip(rows[1:], standings.rows, strict=True):
        assert int(r[0]) == row.rank and abs(float(r[2]) - row.total) < 1e-6
        assert int(r[3]) == sum(c.submitted for c in row.cells)
        assert (r[4] == "") == (row.last_submitted is None)
    top = hackbot("leaderboard", "--csv", "--top", "2", *common, cwd=tmp_path)
    assert len(list(csv.reader(io.StringIO(top.stdout)))) == 1 + len([r for r in standings.rows if r.rank <= 2])
    both = hackbot("leaderboard", "--csv", "--json", *common, cwd=tmp_path)
    assert both.returncode != 0 and "choose one of --json and --csv" in both.stderr
