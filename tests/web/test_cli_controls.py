"""The organizers' competition controls through the real `hackbot` script (issue 16): a
baseline, a label fix proposed then confirmed, a disqualification and its reversal, the
integrity report and the CSV exports, on both databases."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from bot.config import load_event
from bot.core.services import Services
from tests.web.conftest import valid_csv
from tests.web.test_cli import hackbot, hackbot_parallel, live_event

CONTROLS = {0: 'submissions = { per_day = 5 }\ncounts = "last"'}


async def test_baseline_label_fix_disqualify_integrity_and_exports(tmp_path, data_root, db):
    event = live_event(tmp_path / "event.toml", data_root, require_validation=False, controls=CONTROLS)
    config = load_event(event)
    y = config.resolve(config.phase("mock").data_dir)
    y = np.load(next((y).glob("00_*")) / "y_val.npy")
    services = await Services.open(config, db)
    try:
        for name, wrong in (("Blue", 10), ("Red", 10), ("Green", 60)):
            team = (await services.teams.create(name, validated=True)).team
            await services.submissions.submit(team, 0, "p.csv", valid_csv(y, wrong), source="http")
        await services.reveals.reveal(team, 0, 40)  # Green revealed datum 40
    finally:
        await services.close()
    args = ("--config", str(event), "--db", db)
    baseline_file = tmp_path / "baseline.csv"
    baseline_file.write_bytes(valid_csv(y, 250))
    fixed = y.copy()
    fixed[[0, 40]] = 1 - fixed[[0, 40]]  # everyone was wrong on row 0; only Green on row 40
    labels_file = tmp_path / "fixed.npy"
    np.save(labels_file, fixed)

    added = hackbot("baseline", "add", "0", str(baseline_file), "--name", "Coin flip", *args, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "baseline Coin flip on dataset 0: accuracy 0.5000" in added.stdout

    proposed = hackbot("labels", "replace", "0", str(labels_file), "--reason", "two rows mislabelled", "--json",
                       *args, cwd=tmp_path)
    assert proposed.returncode == 0, proposed.stderr
    report = json.loads(proposed.stdout)
    assert report["changed_rows"] == 2 and report["files"] == 3 and not report["confirmed"]
    assert [(m["team"], m["old"], m["new"]) for m in report["moves"]] == [("Green", 0.88, 0.884)]  # +2 rows
    assert report["corrected_reveals"] == [["Green", 40]]
    board = json.loads(hackbot("leaderboard", "--json", *args, cwd=tmp_path).stdout)
    assert board["label_versions"] == {} and board["teams"][0]["scores"]["0"]["score"] == 0.98  # unchanged

    confirmed, disqualified = hackbot("labels", "replace", "0", str(labels_file), "--reason", "two rows mislabelled",
                                      "--confirm", *args, cwd=tmp_path), None
    assert confirmed.returncode == 0, confirmed.stderr
    assert "v1 -> v2 now in force" in confirmed.stdout and "Green (datum 40)" in confirmed.stdout
    disqualified = hackbot("team", "disqualify", "Red", "--reason", "same file as Blue", *args, cwd=tmp_path)
    assert disqualified.returncode == 0, disqualified.stderr

    board_out, integrity_out, subs_out, export_out = hackbot_parallel(
        ("leaderboard", "--json", *args), ("integrity", "--json", *args),
        ("export", "submissions", "--csv", *args), ("export", "leaderboard", "--csv", *args), cwd=tmp_path)
    board = json.loads(board_out.stdout)
    assert board["label_versions"] == {"0": 2}
    kinds = {t["team"]: (t["kind"], t["rank"]) for t in board["teams"]}
    assert kinds["Red"] == ("disqualified", None) and kinds["Coin flip"] == ("baseline", None)
    assert kinds["Blue"] == ("team", 1)
    blue = next(t for t in board["teams"] if t["team"] == "Blue")
    assert blue["scores"]["0"]["score"] == 0.98  # right on row 0 now, wrong on row 40: no change
    green = next(t for t in board["teams"] if t["team"] == "Green")
    assert green["scores"]["0"]["score"] == 0.884
    flags = json.loads(integrity_out.stdout)["flags"]
    assert [(f["team_a"], f["team_b"]) for f in flags] == [("Blue", "Red")]
    rows = list(csv.DictReader(io.StringIO(subs_out.stdout)))
    assert len(rows) == 3 and {r["label_version"] for r in rows} == {"2"} and all(len(r["sha256"]) == 64 for r in rows)
    exported = list(csv.DictReader(io.StringIO(export_out.stdout)))
    assert {r["team"]: r["kind"] for r in exported}["Red"] == "disqualified"

    again = hackbot("team", "requalify", "Red", *args, cwd=tmp_path)
    assert again.returncode == 0 and "ranked again" in again.stdout
    missing = hackbot("team", "disqualify", "Nobody", "--reason", "x", *args, cwd=tmp_path)
    assert missing.returncode == 1 and "there is no team 'Nobody'" in missing.stderr
    merged = hackbot("team", "merge", "Blue", "Green", *args, cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert "team Green is merged into Blue: 0 members, 1 reveal(s) and 1 submission(s) moved" in merged.stdout
    itself = hackbot("team", "merge", "Blue", "blue", *args, cwd=tmp_path)
    assert itself.returncode == 1 and "name two different teams" in itself.stderr
