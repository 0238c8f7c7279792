"""An event with a [projects] section (NumHack's rules, its deadline at 23:59 AoE), for the
project tests and their worker processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_event
from bot.core.synth import synthesize_event
from tests.core.helpers import T0, event_toml

OPENS = T0  # 2030-03-01 12:00 UTC
CLOSES = datetime(2030, 3, 4, 11, 59, tzinfo=UTC)  # "2030-03-03 23:59 AoE"

PROJECTS = """
[projects]
opens = 2030-03-01T12:00:00Z
closes = "2030-03-03 23:59 AoE"
required = ["repo", "demo"]
licences = ["MIT", "Apache-2.0", "GPL-*", "CC-BY-SA-4.0"]
categories = ["Build", "Train", "Analyse"]
opt_in_prizes = ["modal"]
remind_drafts_before = ["24h", "1h"]

[[projects.questions]]
id = "stack"
question = "Which libraries did you use?"
required = false

[[prizes]]
id = "modal"
title = "Modal sponsor award"
source = "manual"
opt_in = true
"""


def write_project_event(folder: Path, extra: str = PROJECTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "event.toml"
    path.write_text(event_toml() + extra, encoding="utf-8")
    synthesize_event(load_event(path, check_data=False), rows=50)
    return path


WORK = OPENS + timedelta(hours=2)


def edit_worker(index: int, config_path: str, db_path: str, now_iso: str, barrier, queue, team_id: int,
                author: str, version: int) -> None:
    """One member's edit of the version it read, at the same moment as the other processes'."""
    import asyncio

    from bot.core.projects import ProjectInput
    from tests.core.workers import BARRIER_TIMEOUT, _open_services, _outcome, _report

    async def main():
        services = await _open_services(config_path, db_path, now_iso)
        try:
            barrier.wait(BARRIER_TIMEOUT)
            try:
                saved = await services.projects.save(
                    team_id, author, ProjectInput(f"Edited by {author}", repo="https://github.com/crew/p",
                                                  demo="https://youtu.be/x", category="Train"),
                    submit=None, expected_version=version)
                return ("ok", author, saved.project.version)
            except Exception as exc:  # noqa: BLE001
                return (*_outcome(exc), author)
        finally:
            await services.close()

    _report(queue, index, lambda: asyncio.run(main()))
