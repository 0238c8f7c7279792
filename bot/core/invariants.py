"""The event's invariants, checked on a database as it is: what the constraints and triggers hold,
read back. `hackbot db copy` checks them on both sides of a copy, and the tests after many
concurrent writers. Each check is one query written once for both dialects."""

from __future__ import annotations

from bot.core.store import Store, Tx

# (what must hold, a query listing the rows that break it)
CHECKS: list[tuple[str, str]] = [
    (
        "no team reveals more than the budget of a dataset in a phase",
        "SELECT r.phase, r.team_id, r.dataset_id, count(*), d.reveal_budget FROM reveals r"
        " JOIN phase_datasets d ON d.phase = r.phase AND d.dataset_id = r.dataset_id"
        " GROUP BY r.phase, r.team_id, r.dataset_id, d.reveal_budget HAVING count(*) > d.reveal_budget",
    ),
    (
        "every revealed datum is a row of its dataset",
        "SELECT r.id, r.phase, r.dataset_id, r.datum_id FROM reveals r"
        " JOIN phase_datasets d ON d.phase = r.phase AND d.dataset_id = r.dataset_id WHERE r.datum_id >= d.rows",
    ),
    (  # 0007: a dataset's total limit (1: Hackathon42's one submission), refused files counted where they count
        "no team over a dataset's submission limit in a phase",
        "SELECT s.phase, s.team_id, s.dataset_id, count(*), d.total_limit FROM submissions s"
        " JOIN phase_datasets d ON d.phase = s.phase AND d.dataset_id = s.dataset_id WHERE d.total_limit IS NOT NULL"
        " GROUP BY s.phase, s.team_id, s.dataset_id, d.total_limit HAVING count(*) > d.total_limit",
    ),
    (
        "no team over a dataset's daily submission limit",
        "SELECT s.phase, s.team_id, s.dataset_id, s.day_start, count(*) FROM submissions s"
        " JOIN phase_datasets d ON d.phase = s.phase AND d.dataset_id = s.dataset_id WHERE d.per_day IS NOT NULL"
        " GROUP BY s.phase, s.team_id, s.dataset_id, s.day_start, d.per_day HAVING count(*) > d.per_day",
    ),
    (
        "a final pick is one of the team's own submissions for the dataset",
        "SELECT f.phase, f.team_id, f.dataset_id FROM final_picks f JOIN submissions s ON s.id = f.submission_id"
        " WHERE s.phase != f.phase OR s.team_id != f.team_id OR s.dataset_id != f.dataset_id",
    ),
    (
        "one team per person",
        "SELECT user_id, count(*) FROM team_members GROUP BY user_id HAVING count(*) > 1",
    ),
    (
        "no team over the event's max_size",
        "SELECT team_id, count(*) FROM team_members GROUP BY team_id"
        " HAVING count(*) > (SELECT max_size FROM team_limits WHERE id = 1)",
    ),
    (
        "one captain at most per team",
        "SELECT team_id, count(*) FROM team_members WHERE is_captain = 1 GROUP BY team_id HAVING count(*) > 1",
    ),
    (
        "a reminder being sent names the process that claimed it",
        "SELECT id FROM reminders WHERE status = 'sending' AND claimed_by IS NULL",
    ),
    (
        "one open help ticket per team",
        "SELECT team_id, count(*) FROM tickets WHERE status IN ('open', 'claimed') GROUP BY team_id HAVING count(*) > 1",
    ),
    (
        "one claimed help ticket per mentor",
        "SELECT claimed_by, count(*) FROM tickets WHERE status = 'claimed' GROUP BY claimed_by HAVING count(*) > 1",
    ),
    (  # never quotes a code: perk codes are secrets
        "one perk code per claimant and perk",
        "SELECT perk, claimant, count(*) FROM perk_codes WHERE claimant IS NOT NULL"
        " GROUP BY perk, claimant HAVING count(*) > 1",
    ),
]

# PostgreSQL's triggers keep counters (0001, 0005): they must agree with the rows they count.
POSTGRES_CHECKS: list[tuple[str, str]] = [
    (
        "the reveal counters match the reveals",
        "SELECT c.phase, c.team_id, c.dataset_id, c.revealed, count(r.id) FROM reveal_counts c"
        " LEFT JOIN reveals r ON r.phase = c.phase AND r.team_id = c.team_id AND r.dataset_id = c.dataset_id"
        " GROUP BY c.phase, c.team_id, c.dataset_id, c.revealed HAVING c.revealed != count(r.id)"
        " UNION ALL SELECT r.phase, r.team_id, r.dataset_id, 0, count(*) FROM reveals r"
        " WHERE NOT EXISTS (SELECT 1 FROM reveal_counts c WHERE c.phase = r.phase AND c.team_id = r.team_id"
        " AND c.dataset_id = r.dataset_id) GROUP BY r.phase, r.team_id, r.dataset_id",
    ),
    (
        "the submission counters match the submissions and counted refusals",
        "SELECT c.phase, c.team_id, c.dataset_id, c.used, x.n FROM submission_counts c"
        " LEFT JOIN (SELECT phase, team_id, dataset_id, count(*) AS n FROM"
        " (SELECT phase, team_id, dataset_id FROM submissions UNION ALL"
        "  SELECT phase, team_id, dataset_id FROM submission_failures) a GROUP BY phase, team_id, dataset_id) x"
        " ON x.phase = c.phase AND x.team_id = c.team_id AND x.dataset_id = c.dataset_id"
        " WHERE c.day_start = -1 AND c.used != coalesce(x.n, 0)",
    ),
    (
        "the team size counters match the members",
        "SELECT s.team_id, s.members, count(m.user_id) FROM team_sizes s LEFT JOIN team_members m ON m.team_id = s.team_id"
        " GROUP BY s.team_id, s.members HAVING s.members != count(m.user_id)"
        " UNION ALL SELECT m.team_id, 0, count(*) FROM team_members m"
        " WHERE NOT EXISTS (SELECT 1 FROM team_sizes s WHERE s.team_id = m.team_id) GROUP BY m.team_id",
    ),
]

MAX_SHOWN = 5  # offending rows quoted per broken invariant


async def _check(tx: Tx) -> list[str]:
    problems = []
    checks = CHECKS + (POSTGRES_CHECKS if tx.dialect == "postgres" else [])
    for rule, query in checks:
        rows = await tx.fetchall(query)
        if rows:
            shown = "; ".join(str(tuple(row)) for row in rows[:MAX_SHOWN])
            more = f" and {len(rows) - MAX_SHOWN} more" if len(rows) > MAX_SHOWN else ""
            problems.append(f"{rule}: broken by {len(rows)} row(s): {shown}{more}")
    return problems


async def check(store: Store) -> list[str]:
    """The invariants this database breaks, one line each (empty: all hold). One snapshot."""
    return await store.run(_check_in_snapshot)


async def _check_in_snapshot(tx: Tx) -> list[str]:
    async with tx.transaction():
        return await _check(tx)
