"""`hackbot rehearse`: the event file's problems, its compressed copy, and a short real run."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import main
from bot.config import load_event
from bot.sandbox import SandboxState
from bot.sandbox import rehearse as rehearsal
from bot.sandbox.rehearse import (
    Act,
    Moment,
    Rehearsal,
    Timeline,
    compress_event,
    dump_toml,
    event_problems,
    load_acts,
    rehearse,
    stretch_knots,
    until,
)

NOW = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)

FLAWED = """
[event]
name = "Flawed"
timezone = "UTC"

[[phases]]
id = "main"
starts = 2031-05-02T10:00:00Z
data_dir = "nowhere"

[submissions]
closes = 2031-05-01T18:00:00Z

[[datasets]]
id = 7
name = "ghost"
points = 1

[[schedule]]
title = "Kick-off"
at = 2031-05-02T10:00:00Z
remind_before = ["1d"]

[[schedule]]
title = "Lunch"
at = 2031-05-02T12:00:00Z
remind_before = ["10m"]
"""

SHORT = """
[event]
name = "Short rehearsal"
timezone = "UTC"

[teams]
max_size = 3

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

[[schedule]]
title = "Halfway"
at = "now+40m"
remind_before = ["10m"]
"""


def test_problems_in_an_event_file(tmp_path):
    path = tmp_path / "flawed.toml"
    path.write_text(FLAWED)
    problems = "\n".join(event_problems(path, now=NOW))
    assert "'Kick-off': the reminder 1 day" in problems and "before the event starts" in problems
    assert "Lunch" not in problems  # its reminder falls after the start
    assert "dataset 7 (ghost) has no data in phase 'main'" in problems
    assert "submissions close (2031-05-01 18:00 UTC) before phase 'main' starts" in problems


def test_the_compressed_copy_keeps_the_event_in_order(tmp_path):
    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    path, config, timeline = compress_event(source, tmp_path / "rehearsal", speed=600, now=NOW, rows=50)
    assert timeline.speed == 600
    phase, item = config.phases[0], config.schedule[0]
    assert phase.starts == NOW + rehearsal.LEAD
    assert config.submissions.closes == phase.starts + timedelta(seconds=6)  # 1 h / 600
    assert item.at == phase.starts + timedelta(seconds=4) and item.remind_before == [timedelta(seconds=1)]
    assert config.event.grace >= rehearsal.MIN_GRACE
    assert (config.resolve(phase.data_dir) / "01_tiny").is_dir() or any(config.resolve(phase.data_dir).iterdir())
    assert tomllib.loads(dump_toml(tomllib.loads(path.read_text()))) == tomllib.loads(path.read_text())
    assert load_event(path, check_data=False).event.name == "Short rehearsal"


def test_rehearse_runs_the_event_through_the_real_bot(tmp_path, monkeypatch):
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=4))
    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["rehearse", "--config", str(source), "--speed", "600", "--teams", "2",
                                       "--keep", str(tmp_path / "kept"), "--report", str(report)])
    out = result.output
    assert result.exit_code == 0, out + (tmp_path / "kept" / "bot.log").read_text(errors="replace")[-3000:]
    assert "team Rehearsal 1 formed" in out and "team Rehearsal 2 formed" in out
    assert "revealed 2 labels in phase main" in out
    assert "Rehearsal 1 submitted dataset 1: accuracy" in out
    assert "#announcements: Halfway" in out  # the reminder, posted by the bot's own scheduler
    assert "organizers posted the winners" in out
    assert "Final leaderboard" in out and out.index("Rehearsal 1 ") < out.rindex("Rehearsal 2 ")
    assert "0 failed" in out and "0 refused Discord requests" in out, out
    assert "dataset 1 (tiny) has no data" in out  # the file names a data folder that does not exist
    written = json.loads(report.read_text())
    assert written["interactions"] >= 2 + 2 * 3 + 2 + 2 and written["failed"] == []
    assert written["refused_discord_requests"] == [] and written["reminders"] == 1
    assert any("tiny" in p for p in written["problems"])
    assert [row["team"] for row in written["leaderboard"]["teams"]] == ["Rehearsal 1", "Rehearsal 2"]
    page = written["board_page"]  # the page as a phone gets it: gzipped, 304 while nothing changed
    assert page["status"] == 200 and page["gzip"] is True and page["etag_304"] is True and page["bytes"] > 1000
    acts = written["acts"]
    assert acts["teams"]["formed"] == 2 and acts["reveals"]["labels"] == 4 and acts["submissions"]["submitted"] == 2
    assert acts["winners"]["posted"] is True
    # every Discord side effect went through the outbox and was sent: 2 team spaces, the reminder,
    # the winners, and the notice written by a command-line process (twice, one key: posted once)
    box = written["outbox"]
    assert box["failed"] == 0 and box["left"] == 0 and box["sent"] == box["enqueued"] >= 2 + 1 + 1 + 1
    assert box["time_to_drain_s"] is not None and "outbox: " in out and "0 failed; each sent" in out
    assert acts["outbox_post"]["posted"] == 1 and "not posted twice" in acts["outbox_post"]["cli_answers"][1]


def test_a_report_that_cannot_be_written_is_refused_before_the_rehearsal(tmp_path):
    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    missing = tmp_path / "no-such-folder" / "report.json"
    result = CliRunner().invoke(main, ["rehearse", "--config", str(source), "--keep", str(tmp_path / "kept"),
                                       "--report", str(missing)])
    assert result.exit_code == 1
    assert f"cannot write the report to {missing}" in result.output and "does not exist" in result.output
    assert not (tmp_path / "kept").exists()  # refused at once: nothing was rehearsed


def test_acts_are_found_as_modules_of_bot_sandbox_acts():
    assert [act.name for act in load_acts()] == ["controls", "judging", "outbox_post", "perks", "phases", "projects",
                                                 "reveals", "scripts", "submissions", "teams", "tickets", "votes", "winners"]


class Mentors(Act):
    """A later feature's simulated people, plugged in without touching the core loop."""

    name = "mentors"

    def __init__(self):
        self.seen_teams = -1

    def moments(self, play: Rehearsal) -> list[Moment]:
        async def drop_by() -> None:
            self.seen_teams = len(play.teams)
            play.log("a mentor drops by every team")

        return [Moment(play.timeline.start, 15, drop_by)]  # after the teams form (10), before phases (20)

    def report(self, play: Rehearsal) -> dict[str, Any]:
        return {"teams_visited": self.seen_teams}


async def test_a_crowded_server_rehearsal_sends_nothing_discord_would_refuse(tmp_path, monkeypatch):
    """The suite's size of the 2,000-team rehearsal (benchmarks/bench_rehearsal.py): 40 teams in a
    server already at 470 channels and 235 roles, so team spaces move to threads and roles run out,
    most teams tied on the leaderboard; plus an act of a later feature."""
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=4))
    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    crowded = SandboxState()
    crowded.fill(channels=470, roles=235)
    mentors = Mentors()
    report = await rehearse(source, tmp_path / "run", speed=600, teams=40, size=1, active=2, state=crowded,
                            acts=[*load_acts(), mentors], say=lambda text: None)
    assert report["refused_discord_requests"] == [] and report["failed"] == []
    teams = report["acts"]["teams"]
    assert teams["formed"] == 40 and teams["in_threads"] > 0
    assert teams["server_channels"] <= 500 and teams["server_roles"] <= 250
    assert report["acts"]["winners"]["posted"] and report["acts"]["winners"]["teams_pinged"] > 0
    assert report["acts"]["mentors"] == {"teams_visited": 40}
    assert len(report["leaderboard"]["teams"]) == 40


HELP_AND_PERKS = """
[mentoring]
tags = ["Build", "Train", "Analyse"]

[[perks]]
id = "credits"
title = "Cloud credits"
who = "validated_team"
low_stock = 1
"""


async def test_a_rehearsal_plays_mentors_tickets_and_perks(tmp_path, monkeypatch):
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=4))
    source = tmp_path / "short.toml"
    source.write_text(SHORT + HELP_AND_PERKS)
    report = await rehearse(source, tmp_path / "run", speed=600, teams=3, say=lambda text: None)
    assert report["refused_discord_requests"] == [] and report["failed"] == []
    tickets = report["acts"]["tickets"]
    assert tickets["opened"] == 3 and tickets["claimed"] == 3 and tickets["resolved"] == 3, tickets
    assert tickets["median_time_to_claim_s"] is not None and tickets["refused"] == []
    perks = report["acts"]["perks"]
    assert perks["claimed"] == perks["distinct"] == 3 and perks["repeat_gets_same_code"], perks
    assert perks["low_stock_warnings"] == 2 and perks["codes_in_public_messages"] == 0


VOTE = """
[projects]
opens = "now"
closes = "now+40m"
categories = ["Build", "Train"]

[[prizes]]
id = "community"
title = "Community Favorite"
source = "vote"

[[votes]]
id = "community"
title = "Community Favorite"
opens = "now+55m"
closes = "now+24h"
kind = "approval"
max_choices = 2
codes = true
prize = "community"
"""


async def test_a_rehearsal_plays_the_vote_with_its_stuffers_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=4))
    source = tmp_path / "short.toml"
    source.write_text(SHORT + VOTE)
    # slower than the other short rehearsals: the teams hand their projects in before the vote
    report = await rehearse(source, tmp_path / "run", speed=60, teams=3, say=lambda text: None)
    assert report["refused_discord_requests"] == [] and report["failed"] == []
    votes = report["acts"]["votes"]
    assert votes["problems"] == [] and votes["announcement"] and votes["qr_code"], (votes, report["acts"]["projects"])
    projects = report["acts"]["projects"]
    assert projects["told_verdict_once"] == projects["submitted"] == projects["eligible"] > 0, projects
    assert len(votes["ballots_taken"]) == 10  # 6 members (one by the Vote button), 4 attendees with codes
    told = {r["voter"]: r["told"] for r in votes["refused"]}
    assert "this vote needs accounts at least 7 days old" in told["an account made today"]
    assert "this ballot code was already used at" in told["a code used a second time"]
    assert "you cannot vote for your own team's project" in told["a team member voting for their own team"]
    assert votes["results_hidden_while_open"] and votes["results_hidden_after_close"]
    counted = votes["report"]
    assert counted["phase"] == "closed" and counted["standing"] == 10 and counted["ballots_cast"] == 13
    assert {"account_too_new", "code_used", "own_team"} <= set(counted["refused"])
    assert sum(p["counted"] for p in counted["projects"]) == 5 * 2 + 1 + 4  # two choices each in Discord, one by form and web
JUDGED = """
[projects]
closes = "now+20m"
categories = ["Build", "Train"]

[[judging.panels]]
id = "jury"
role = "Judges"

[[judging.panels]]
id = "final"
role = "Final panel"

[[judging.rounds]]
id = "initial"
mode = "rubric"
opens = "now+25m"
closes = "now+50m"
reviews_per_project = 2
panels = ["jury"]

[[judging.rounds.criteria]]
id = "impact"
title = "Impact"

[[judging.rounds.criteria]]
id = "execution"
title = "Execution"

[[judging.rounds]]
id = "final"
mode = "ranking"
opens = "now+52m"
closes = "now+80m"
reviews_per_project = "all"
panels = ["final"]

[judging.rounds.shortlist]
source = "initial"
top = 2
ties = false

[[judging.panels]]
id = "demo"
role = "Demo judges"

[[judging.rounds]]
id = "demo"
mode = "pairwise"                     # the judges see two demos at a time: which is better?
opens = "now+25m"
closes = "now+50m"
reviews_per_project = 2
panels = ["demo"]

[[prizes]]
id = "build"
title = "Best Build"
source = "initial"
category = "Build"
excludes = ["grand"]

[[prizes]]
id = "grand"
title = "Grand prize"
source = "final"

[[prizes]]
id = "board"
title = "Leaderboard"
source = "leaderboard"

[[prizes]]
id = "demo"
title = "Best demo"
source = "demo"
"""


async def test_a_rehearsal_plays_judges_and_reveals_every_prize(tmp_path, monkeypatch):
    monkeypatch.setattr(rehearsal, "LEAD", timedelta(seconds=30))  # the bot starts before the event does
    source = tmp_path / "judged.toml"
    source.write_text(SHORT.replace('closes = "now+1h"', 'closes = "now+20m"') + JUDGED)
    lines: list[str] = []
    acts = [act for act in load_acts() if act.name != "projects"]  # its projects come from the judging act's stand-in
    report = await rehearse(source, tmp_path / "run", speed=20, teams=4, say=lines.append, acts=acts)
    assert report["refused_discord_requests"] == [] and report["failed"] == [], report["failed"]
    judging = report["acts"]["judging"]
    assert judging["scores"] >= 6 and judging["rankings"] >= 3 and judging["refused"] == [], \
        (judging, report["acts"].get("projects"), "\n".join(lines[-40:]))
    assert judging["recused"] and "recused" in judging["recused"][0]
    # the pairwise round: 3 judges, each comparing their projects two by two on /judge next's pairs
    assert judging["choices"] >= 4, (judging, "\n".join(lines[-40:]))
    demo = judging["results"]["demo"]  # hackbot judging results: Bradley-Terry ranks with their intervals
    assert len(demo) == 5 and all(line.split()[1].count("-") == 1 for line in demo[1:]), demo
    prizes = report["prizes"]
    assert [p["id"] for p in prizes] == ["build", "grand", "board", "demo"]
    assert all(p["winners"] and "undecided" not in p for p in prizes), prizes
    assert set(prizes[0]["winners"]).isdisjoint(prizes[1]["winners"])  # the Build prize excludes the grand winner
    winners = report["acts"]["winners"]
    assert winners["revealed"] == ["Best Build", "Grand prize", "Leaderboard", "Best demo"]
    assert winners["winners_in_public_before_reveal"] == []
    assert any("sent" in line for line in winners["notices"])  # told privately before the reveal


HACKATHON42 = Path(__file__).resolve().parents[2] / "config" / "hackathon42.toml"


async def test_hackathon42_rehearses_to_every_prize(tmp_path):
    """The Hackathon42 preset, its two days shortened (the mock phase an hour before the real one)
    and three of its datasets: teams reveal and submit in both phases, hand in their code, the jury
    interviews the shortlist (each team booked into a slot and told it), and both prizes
    (leaderboard and jury, 1st and 2nd) are decided, frozen, told privately and revealed. The
    rehearsal gives each act the real time it needs (Moment.takes): no LEAD or speed is tuned."""
    raw = tomllib.loads(HACKATHON42.read_text(encoding="utf-8"))
    raw["datasets"] = [d for d in raw["datasets"] if d["id"] in (0, 3, 12)]
    mock = datetime(2022, 10, 16, 13, 0)
    raw["phases"][0]["starts"] = raw["schedule"][0]["at"] = mock
    source = tmp_path / "hackathon42.toml"
    source.write_text(dump_toml(raw), encoding="utf-8")
    lines: list[str] = []
    report = await rehearse(source, tmp_path / "run", speed=300, teams=3, say=lines.append)
    transcript = "\n".join(lines[-60:])
    assert report["failed"] == [] and report["refused_discord_requests"] == [], (report["failed"], transcript)
    judging = report["acts"]["judging"]
    assert judging["scores"] >= 3 * 2 and judging["refused"] == [], (judging, transcript)
    interviews = judging["interviews"]["interview"]  # every judge sees the three teams' slots; each member told
    assert interviews["judges_shown"] == [3, 3, 3, 3] and interviews["members_told"] == 3 * 2, (interviews, transcript)
    # reminded before their slot, through the outbox: the members, and the judges of the room
    assert interviews["members_reminded"] == 3 * 2 and interviews["judges_reminded"] == 4, (interviews, transcript)
    # the weakest team asked to pitch before the pool was final; asking again changes nothing
    assert "asked to pitch" in judging["pitches"][0] and "already" in judging["pitches"][1], judging["pitches"]
    # a judge marks a rule of the code review failed for that team; the organizers uphold it (hackbot judging rule)
    assert len(judging["code_review"]) == 1 and "upheld by cli" in judging["code_review"][0], (judging, transcript)
    prizes = report["prizes"]
    assert [p["id"] for p in prizes] == ["leaderboard", "jury"]
    assert all(len(p["winners"]) == 2 and "undecided" not in p for p in prizes), (prizes, transcript)
    winners = report["acts"]["winners"]
    assert winners["revealed"] == ["Leaderboard prize", "Jury prize"], (winners, transcript)
    assert winners["winners_in_public_before_reveal"] == []
    assert winners["notices"] and all(" sent " in f" {line} " for line in winners["notices"]), winners["notices"]


def test_the_timeline_slows_down_where_an_act_needs_room():
    start = datetime(2022, 10, 16, 14, 0, tzinfo=UTC)
    judging, closes, end = start + timedelta(hours=4), start + timedelta(hours=7), start + timedelta(hours=8)
    knots = stretch_knots(start, 3600.0, [start, closes, end], {judging: 20.0})
    timeline = Timeline(start, end, 3600.0, NOW, knots)
    assert timeline.real(start) == NOW and timeline.real(judging) == NOW + timedelta(seconds=4)  # uniform before
    assert (timeline.real(closes) - timeline.real(judging)).total_seconds() == 20.0  # the judges' room
    assert (timeline.real(end) - timeline.real(closes)).total_seconds() == 1.0  # uniform again after
    for when in (start - timedelta(hours=1), judging + timedelta(minutes=7), end + timedelta(hours=2)):
        assert abs((timeline.event(timeline.real(when)) - when).total_seconds()) < 1e-3
    assert stretch_knots(start, 3600.0, [start, end], {judging: 0.5}) == ()  # room enough already: uniform


class Stalls(Act):
    """An act whose moment times out (the double never answers it)."""

    name = "stalls"

    def moments(self, play: Rehearsal) -> list[Moment]:
        async def wait_forever() -> None:
            await until(lambda: False, timeout=0.2, what="an answer that never comes")

        return [Moment(play.timeline.start, 14, wait_forever, what="waits for an answer")]


async def test_an_act_that_times_out_is_a_failure_in_the_report_and_the_rehearsal_goes_on(tmp_path):
    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    mentors = Mentors()
    acts = [act for act in load_acts() if act.name == "teams"] + [Stalls(), mentors]
    report = await rehearse(source, tmp_path / "run", speed=600, teams=2, acts=acts, say=lambda text: None)
    [failed] = report["failed"]
    assert failed["kind"] == "act" and failed["name"].startswith("stalls: waits for an answer at ")
    assert failed["errors"] == ["SandboxError: timed out after 0 s waiting for an answer that never comes"]
    assert report["acts"]["mentors"] == {"teams_visited": 2}  # the next moment played all the same


def test_a_terminated_rehearsal_leaves_no_bot_running(tmp_path):
    """`timeout` or `kill` (SIGTERM) ends `hackbot rehearse` as an exit, which stops its bot: the bot
    runs in its own session, which the signal does not reach, and Python's default for SIGTERM dies
    at once, skipping every cleanup (the bot then lingered until it noticed its Discord was gone)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "short.toml"
    source.write_text(SHORT)
    keep = tmp_path / "kept"
    rehearsal_process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "rehearse", "--config", str(source), "--keep", str(keep), "--teams", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def bots() -> list[int]:  # `hackbot run` processes of this rehearsal: their command line names its event copy
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                args = (Path("/proc") / pid / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"run" in args and str(keep / "event.toml").encode() in args:
                found.append(int(pid))
        return found

    try:
        waited = 0.0
        while not bots() and rehearsal_process.poll() is None and waited < 180:
            time.sleep(0.2)
            waited += 0.2
        started = bots()
        assert started, "the rehearsal's bot never started"
        rehearsal_process.send_signal(signal.SIGTERM)
        assert rehearsal_process.wait(timeout=60) == 128 + signal.SIGTERM  # an exit, its cleanup run; not -15
        waited = 0.0
        while bots() and waited < 30:  # a bot stopping cleanly takes a moment
            time.sleep(0.2)
            waited += 0.2
        assert bots() == [], "the bot outlived its rehearsal"
    finally:
        if rehearsal_process.poll() is None:
            rehearsal_process.kill()
        for pid in bots():
            os.killpg(pid, signal.SIGKILL)
