"""Projects: what teams hand in for the judged prizes (issue 11).

This module starts with what judging and voting read: the pool of eligible projects. A project
is in the pool when it is submitted (not a draft, not withdrawn) and the organizers marked it
eligible; the values stored on `projects` are its counting version (edits stop at the deadline,
so the last version written before it is the one on the row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.store import Tx

POOL_COLUMNS = ("p.id, p.team_id, t.name, p.title, p.summary, p.category, p.opt_ins, p.repo_url, p.demo_url, "
                "p.deadline_commit, p.commits_after_deadline, p.extension_reason, p.version")


@dataclass(frozen=True)
class EligibleProject:
    id: int
    team_id: int
    team_name: str
    title: str
    summary: str
    category: str | None
    opt_ins: tuple[str, ...]  # the [[prizes]] ids the team opted into
    repo_url: str | None
    demo_url: str | None
    deadline_commit: str | None  # the repository's commit at the deadline, what judges see
    commits_after_deadline: int | None
    extension_reason: str  # why an organizer extended this team's deadline ("" when not)
    version: int


def _eligible(row: tuple[Any, ...]) -> EligibleProject:
    return EligibleProject(
        id=row[0], team_id=row[1], team_name=row[2], title=row[3], summary=row[4], category=row[5],
        opt_ins=tuple(json.loads(row[6])), repo_url=row[7], demo_url=row[8], deadline_commit=row[9],
        commits_after_deadline=row[10], extension_reason=row[11], version=row[12],
    )


async def eligible_projects(tx: Tx, *, category: str | None = None, opt_in: str | None = None) -> list[EligibleProject]:
    """The projects that enter judging and voting, by id; only one category's, or only those
    opted into one prize, when asked."""
    sql = (f"SELECT {POOL_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id "
           "WHERE p.status = 'submitted' AND p.moderation = 'eligible'")
    params: list[Any] = []
    if category is not None:
        sql += " AND p.category = ?"
        params.append(category)
    sql += " ORDER BY p.id"
    pool = [_eligible(row) for row in await tx.fetchall(sql, params)]
    if opt_in is not None:
        pool = [p for p in pool if opt_in in p.opt_ins]
    return pool
