"""`hackbot vote ...` run as an organizer runs it, on the NumHack preset (its Community Favorite):
codes made once and never shown again, the report per project, open and close."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_event
from bot.core.services import Services
from tests.core.helpers import Clock
from tests.core.vote_helpers import old_account
from tests.web.test_cli import hackbot

JOINED = datetime(2024, 1, 1, tzinfo=UTC)  # long before NumHack's vote
NUMHACK = Path(__file__).resolve().parents[2] / "config" / "numhack.toml"


async def test_codes_are_shown_once_and_the_report_counts_every_ballot(tmp_path, db):
    (tmp_path / "attendees.csv").write_text(
        "Name,Email,Discord ID\nAda,ada@example.org,\nBob,bob@example.org,123\nEve,not-an-email,\n", encoding="utf-8")
    options = ("--config", str(NUMHACK), "--db", db)
    made = hackbot("vote", "codes", "import", "community", "attendees.csv", "--out", "codes.csv", *options,
                   cwd=tmp_path)
    assert made.returncode == 2, made.stderr
    assert "attendees.csv:4: the email address is not one" in made.stderr
    assert "2 new code(s) for community (0 attendee(s) hold one already); 2 code(s) in all" in made.stderr
    rows = (tmp_path / "codes.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "name,email,discord_id,code" and [r.split(",")[0] for r in rows[1:]] == ["Ada", "Bob"]
    codes = [r.split(",")[3] for r in rows[1:]]
    assert not any(code in made.stdout + made.stderr for code in codes)
    again = hackbot("vote", "codes", "import", "community", "attendees.csv", *options, cwd=tmp_path)
    assert again.stdout == "" and "0 new code(s) for community (2 attendee(s) hold one already)" in again.stderr
    kept = hackbot("vote", "codes", "import", "community", "attendees.csv", "--out", "codes.csv", *options,
                   cwd=tmp_path)
    assert kept.returncode == 1 and "never overwrites" in kept.stderr

    config = load_event(NUMHACK)
    vote = config.votes[0]
    clock = Clock(vote.opens + timedelta(hours=1))
    services = await Services.open(config, db, clock=clock)
    try:
        projects = []
        for i in range(2):
            clock.set(config.teams.formation_opens + timedelta(days=1))  # type: ignore[operator]
            team = (await services.teams.create(f"Team {i}", captain=str(old_account(900 + i)))).team.id
            projects.append(await services.store.fetchval(
                "INSERT INTO projects(team_id, status, title, category, moderation, created_by, created_at,"
                " updated_by, updated_at) VALUES (?, 'submitted', ?, 'Build', 'eligible', 'u', 0, 'u', 0) RETURNING id",
                (team, f"Project {i}")))
        clock.set(vote.opens + timedelta(hours=1))
        await services.votes.cast_discord("community", old_account(1), JOINED, [projects[0], projects[1]])
        await services.votes.cast_code("community", codes[0], [projects[0]], "10.1.1.1")
        for attempt in (lambda: services.votes.cast_discord("community", old_account(900), JOINED, [projects[0]]),
                        lambda: services.votes.cast_code("community", codes[0], [projects[1]], "10.1.1.2")):
            try:
                await attempt()
            except Exception as exc:  # noqa: BLE001 - refused, as the report will show
                assert "refused" in str(exc)
    finally:
        await services.close()

    report = hackbot("vote", "report", "community", "--json", *options, cwd=tmp_path)
    body = json.loads(report.stdout)
    assert body["phase"] == "closed" and body["standing"] == 2 and body["ballots_cast"] == 4
    assert body["refused"] == {"code_used": 1, "own_team": 1}
    first = next(p for p in body["projects"] if p["title"] == "Project 0")
    assert (first["counted"], first["refused"]) == (2, {"own_team": 1})
    table = hackbot("vote", "report", "community", *options, cwd=tmp_path)
    assert "Community Favorite (closed): 4 ballot(s) cast, 2 standing" in table.stdout
    assert not any(code in table.stdout + report.stdout for code in codes)
    reopened = hackbot("vote", "open", "community", *options, cwd=tmp_path)
    assert reopened.returncode == 1 and "a closed vote does not open again" in reopened.stderr
    closed = hackbot("vote", "close", "community", *options, cwd=tmp_path)
    assert closed.returncode == 0 and "Community Favorite closed at 2024-12-05 16:30 UTC" in closed.stdout
