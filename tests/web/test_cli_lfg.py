"""`hackbot lfg import` and `hackbot match`, run as an organizer runs them, on the NumHack preset."""

from __future__ import annotations

import json
from pathlib import Path

from tests.web.test_cli import hackbot

NUMHACK = Path(__file__).resolve().parents[2] / "config" / "numhack.toml"

CSV = """discord_id,name,topics,experience,timezone,skills
101,Ann,Build;Train,newcomer,Europe/Paris,python;pandas
102,Bob,Train,expert,UTC+5:30,pytorch
103,Cy,Build,some,-8,
104,Dee,Cooking,expert,UTC,
abc,Eve,Build,some,UTC,
105,Fay,Analyse;Build,expert,America/New_York,sql
106,Gus,Train;Build,newcomer,,
107,Hal,Train,some,UTC+1,
"""


def test_import_reports_bad_lines_then_match_prints_json(tmp_path, db):
    (tmp_path / "people.csv").write_text(CSV, encoding="utf-8")
    options = ("--config", str(NUMHACK), "--db", db)
    done = hackbot("lfg", "import", "people.csv", *options, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "people.csv:5: unknown topic 'Cooking'" in done.stderr
    assert "people.csv:6: discord_id 'abc'" in done.stderr
    assert "6 people added" in done.stdout

    preview = hackbot("match", "--dry-run", "--seed", "7", "--json", *options, cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    result = json.loads(preview.stdout)
    assert {"teams", "unplaced", "objective", "random_objective"} <= set(result)
    placed = [u for team in result["teams"] for u in team["members"]]
    assert sorted(placed + result["unplaced"]) == ["101", "102", "103", "105", "106", "107"]
    assert all(team["shared_topics"] for team in result["teams"])
    assert result["objective"] > result["random_objective"]
    again = hackbot("match", "--dry-run", "--seed", "7", "--json", *options, cwd=tmp_path)
    assert json.loads(again.stdout) == result  # same pool, same seed: same teams

    created = hackbot("match", "--seed", "7", *options, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert f"{len(result['teams'])} team(s) created" in created.stdout
    listed = hackbot("team", "list", *options, cwd=tmp_path)
    rows = [line for line in listed.stdout.splitlines() if "│" in line and any(t in line for t in ("Build", "Train", "Analyse"))]
    assert len(rows) == len(result["teams"])
    # the pool is empty now: nothing to match again
    empty = hackbot("match", "--dry-run", "--json", *options, cwd=tmp_path)
    assert json.loads(empty.stdout)["teams"] == []
