"""`hackbot perks ...`, `hackbot mentoring ...` and `hackbot organizers ...`, run as an organizer
runs them, on the NumHack preset (its [mentoring] and its Modal credits). Perk codes never
appear in what the commands print."""

from __future__ import annotations

import json
from pathlib import Path

from bot.config import load_event
from bot.core.services import Services
from tests.web.test_cli import hackbot

NUMHACK = Path(__file__).resolve().parents[2] / "config" / "numhack.toml"
CODES = [f"MODAL-{i:03d}-SECRET" for i in range(12)]


async def team(services: Services, name: str, captain: str, *, validated: bool = False) -> None:
    """A team as `hackbot team import` makes them (NumHack's team formation is closed by now)."""
    created = (await services.teams.create(name, validated=validated)).team
    await services.store.execute(
        "INSERT INTO team_members(team_id, user_id, is_captain, joined_at) VALUES (?, ?, 1, 0)", (created.id, captain)
    )


async def test_perks_import_status_and_claims_never_print_a_code(tmp_path, db):
    (tmp_path / "codes.csv").write_text("code\n" + "\n".join(CODES) + "\nhas a space\n", encoding="utf-8")
    options = ("--config", str(NUMHACK), "--db", db)
    imported = hackbot("perks", "import", "modal-credits", "codes.csv", *options, cwd=tmp_path)
    assert imported.returncode == 2, imported.stderr
    assert "codes.csv:14: contains spaces" in imported.stderr
    assert "12 code(s) added to modal-credits (0 already there); 12 left to claim" in imported.stdout
    again = hackbot("perks", "import", "modal-credits", "codes.csv", *options, cwd=tmp_path)
    assert "0 code(s) added to modal-credits (12 already there)" in again.stdout

    services = await Services.open(load_event(NUMHACK), db)
    try:
        await team(services, "Rocket", "1001", validated=True)
        claim = await services.perks.claim("modal-credits", "1001")
    finally:
        await services.close()
    status = hackbot("perks", "status", *options, cwd=tmp_path)
    row = next(line for line in status.stdout.splitlines() if "modal-credits" in line)
    assert [cell.strip() for cell in row.split("│")[3:6]] == ["12", "1", "11"]
    claims = hackbot("perks", "claims", "modal-credits", *options, cwd=tmp_path)
    assert "Rocket" in claims.stdout and "1001" in claims.stdout and "1 claim(s)" in claims.stdout
    unknown = hackbot("perks", "import", "gpu", "codes.csv", *options, cwd=tmp_path)
    assert unknown.returncode == 1 and "no perk 'gpu'; the event's perks: modal-credits" in unknown.stderr
    for done in (imported, again, status, claims, unknown):
        assert not any(code in done.stdout + done.stderr for code in CODES + [claim.code])


async def test_mentoring_report_assign_and_an_organizer_link(tmp_path, db):
    options = ("--config", str(NUMHACK), "--db", db)
    services = await Services.open(load_event(NUMHACK), db)
    try:
        for i in range(3):
            await team(services, f"Team {i}", f"{100 + i}")
        await services.mentoring.set_mentor("7001", tags=["Train"], on_duty=True)
        await services.mentoring.set_mentor("7002", tags=["Build"])
        n = (await services.mentoring.open_ticket("100", "GPU out of memory", ["Train"])).ticket.number
        await services.mentoring.claim(n, "7001")
        await services.mentoring.resolve(n, "7001")
        await services.mentoring.rate(n, "100", 5)
        await services.mentoring.open_ticket("101", "still waiting", ["Modal"])
    finally:
        await services.close()

    report = hackbot("mentoring", "report", "--json", *options, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    rows = {r["tag"]: r for r in data["tags"]}
    assert rows["Train"]["resolved"] == 1 and rows["Modal"]["waiting"] == 1 and rows["(all)"]["opened"] == 2
    assert data["uncovered_tags"] == ["Build", "Analyse", "Modal"] and data["open"] == 1
    assert [m["mentor"] for m in data["mentors"]] == ["7001"]
    table = hackbot("mentoring", "report", *options, cwd=tmp_path)
    assert "No mentor on duty for: Build, Analyse, Modal" in table.stdout

    proposal = hackbot("mentoring", "assign", *options, cwd=tmp_path)
    assert proposal.returncode == 0, proposal.stderr
    fingerprint = proposal.stdout.split("fingerprint ")[1].split(":")[0]
    assert "3 team(s)" in proposal.stdout
    stale = hackbot("mentoring", "assign", "--apply", "0000000000", *options, cwd=tmp_path)
    assert stale.returncode == 1 and "the proposal changed since" in stale.stderr
    applied = hackbot("mentoring", "assign", "--apply", fingerprint, *options, cwd=tmp_path)
    assert "3 assignment(s) recorded" in applied.stdout, applied.stderr

    link = hackbot("organizers", "link", "--label", "Ana", *options, cwd=tmp_path)
    url = link.stdout.strip()
    assert url.startswith("http://127.0.0.1:8080/organizers/mentoring?key=")
    token = url.split("key=")[1]
    services = await Services.open(load_event(NUMHACK), db)
    try:
        assert await services.organizer_links.valid(token)
        stored = await services.store.fetchall("SELECT digest, label FROM organizer_links")
        assert len(stored) == 1 and stored[0][1] == "Ana" and token.encode() not in bytes(stored[0][0])
    finally:
        await services.close()
    revoked = hackbot("organizers", "revoke", *options, cwd=tmp_path)
    assert "1 link(s) revoked" in revoked.stdout


def test_the_commands_are_there_when_run_as_a_module(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot.cli", "perks", "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "import" in done.stdout, done.stderr
