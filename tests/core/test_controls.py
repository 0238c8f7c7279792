"""Competition controls (issue 16): limits, the counted submission, public/private scores, the
freeze, blind mode, baselines, label fixes, integrity flags and disqualification, on both
databases. Hackathon42's one-submission rule is tested, unchanged, in test_submissions.py."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

import scoring
from bot.core import competition, invariants
from bot.core.errors import AlreadyDone, BadInput, NotAllowed, TooManyAttempts
from scoring.split import private_mask
from tests.core.helpers import CLOSES, T0, csv_bytes, hidden_y, new_team, predictions_with_errors

SEED = 123456789
SEVERAL = "submissions = { per_day = 2, total = 3 }"


def labels_of(services, dataset_id: int, phase: str = "mock") -> np.ndarray:
    return services.registry.get(phase, dataset_id).labels


def file_with(services, dataset_id: int, wrong: int, seed: int = 1) -> bytes:
    y = hidden_y(services.config, "mock", dataset_id)
    return csv_bytes(predictions_with_errors(y, wrong, labels_of(services, dataset_id), seed=seed))


async def submit(services, team, dataset_id: int, data: bytes, name: str = "p.csv"):
    return await services.submissions.submit(team, dataset_id, name, data, source="discord")


async def cell(services, team_name: str, dataset_id: int, *, organizer: bool = False):
    standings = await services.leaderboard.standings("mock", organizer=organizer)
    j = [ds.id for ds in standings.datasets].index(dataset_id)
    row = next(r for r in standings.rows if r.team == team_name)
    return row.cells[j].score, standings


# --- limits -----------------------------------------------------------------------------

async def test_daily_and_total_limits_with_the_reason_and_the_next_day(open_services, clock):
    services = await open_services(controls={0: SEVERAL})
    team, _ = await new_team(services, "Blue")
    first = await submit(services, team, 0, file_with(services, 0, 20))
    assert first.left == 1  # left now: 1 today (2 in total)
    assert (await submit(services, team, 0, file_with(services, 0, 10))).left == 0
    with pytest.raises(TooManyAttempts, match="used its 2 submissions for dataset 0 today") as refused:
        await submit(services, team, 0, file_with(services, 0, 5))
    assert refused.value.retry_after > 0
    clock.advance(hours=12)  # the next calendar day (UTC: the event's timezone)
    assert (await submit(services, team, 0, file_with(services, 0, 5))).left == 0
    with pytest.raises(NotAllowed, match="used all 3 submissions for dataset 0"):
        await submit(services, team, 0, file_with(services, 0, 5))
    assert await services.store.fetchval("SELECT count(*) FROM submissions") == 3
    assert await invariants.check(services.store) == []


async def test_a_refused_file_counts_only_where_the_dataset_says_so(open_services):
    services = await open_services(controls={0: "submissions = { total = 2, count_failed = true }",
                                             3: "submissions = { total = 2 }"})
    team, _ = await new_team(services, "Blue")
    with pytest.raises(BadInput, match="used one of your submissions \\(1 left\\)"):
        await submit(services, team, 0, b"not,a,label\n")
    with pytest.raises(BadInput, match="did not use your submission"):
        await submit(services, team, 3, b"not,a,label\n")
    await submit(services, team, 0, file_with(services, 0, 0))
    with pytest.raises(NotAllowed, match="used all 2 submissions"):
        await submit(services, team, 0, file_with(services, 0, 0))
    await submit(services, team, 3, file_with(services, 3, 0))
    await submit(services, team, 3, file_with(services, 3, 1))  # the refused file did not count here


async def test_the_database_refuses_a_row_past_the_limit_whoever_writes_it(open_services):
    services = await open_services(controls={0: "submissions = { total = 2 }"})
    team, _ = await new_team(services, "Blue")
    await submit(services, team, 0, file_with(services, 0, 0))
    await submit(services, team, 0, file_with(services, 0, 0))
    from bot.core.store import IntegrityError
    with pytest.raises(IntegrityError, match="submission limit reached"):
        await services.store.execute(
            "INSERT INTO submissions(phase, team_id, dataset_id, submitted_at, day_start, rows, accuracy, filename,"
            " sha256, raw, source) VALUES ('mock', ?, 0, 0, 0, 200, 0.5, 'x.csv', ?, ?, 'raw')",
            (team.id, "0" * 64, b"0\n"),
        )


# --- which submission counts ---------------------------------------------------------------

@pytest.mark.parametrize(("rule", "expected"), [("best_public", 0.95), ("last", 0.85)])
async def test_the_counted_submission_follows_the_rule(open_services, rule, expected):
    services = await open_services(controls={0: f'submissions = "unlimited"\ncounts = "{rule}"'})
    team, _ = await new_team(services, "Blue")
    for wrong in (20, 10, 30):  # 0.90, 0.95, 0.85
        await submit(services, team, 0, file_with(services, 0, wrong))
    score, _ = await cell(services, "Blue", 0)
    assert score == pytest.approx(expected)


async def test_final_pick_counts_the_picked_one_until_the_picks_close(open_services, clock):
    closes = T0 + timedelta(hours=5)
    services = await open_services(controls={0: 'submissions = "unlimited"\ncounts = "final_pick"\n'
                                                f'final_pick_closes = {closes:%Y-%m-%dT%H:%M:%SZ}'})
    team, _ = await new_team(services, "Blue")
    for wrong in (20, 10, 30):
        await submit(services, team, 0, file_with(services, 0, wrong))
    assert (await cell(services, "Blue", 0))[0] == pytest.approx(0.95)  # no pick yet: the best public
    pick = await services.controls.final_pick(team, 0, 3)
    assert pick.score == pytest.approx(0.85)
    assert (await cell(services, "Blue", 0))[0] == pytest.approx(0.85)
    await services.controls.final_pick(team, 0, 1)  # a new pick replaces it
    assert (await cell(services, "Blue", 0))[0] == pytest.approx(0.90)
    assert [s.picked for s in await services.controls.own(team, 0)] == [True, False, False]
    with pytest.raises(BadInput, match="pick a number from 1 to 3"):
        await services.controls.final_pick(team, 0, 4)
    with pytest.raises(NotAllowed, match="counts your best public submission"):
        await services.controls.final_pick(team, 3, 1)
    clock.set(closes)
    with pytest.raises(NotAllowed, match="final picks for dataset 0 closed"):
        await services.controls.final_pick(team, 0, 2)


async def test_the_board_shows_the_worst_group_of_the_counted_submission_not_the_latest(open_services):
    services = await open_services(controls={0: 'submissions = "unlimited"\ncounts = "final_pick"'})
    team, _ = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 0)
    groups = np.load(services.registry.get("mock", 0).folder / "groups_val.npy")
    smallest, largest = (np.flatnonzero(groups == g) for g in sorted(np.unique(groups), key=lambda g: (groups == g).sum()))
    picked, latest = y.copy(), y.copy()
    picked[smallest[:20]] = 1 - picked[smallest[:20]]  # a weak worst group
    latest[largest[:5]] = 1 - latest[largest[:5]]  # the better file on every count, sent last
    expected = {name: scoring.worst_group_accuracy(pred, y, groups) for name, pred in (("picked", picked), ("latest", latest))}
    assert expected["picked"] < expected["latest"] - 0.05
    await submit(services, team, 0, csv_bytes(picked))
    await submit(services, team, 0, csv_bytes(latest))

    async def shown() -> tuple[float | None, float | None, float | None]:
        board = await services.board.board("mock")
        i = next(i for i, row in enumerate(board.rows) if row.team == "Blue")
        j = [ds.id for ds in board.datasets].index(0)
        assert board.has_groups[j]
        api = next(t for t in board.to_api()["teams"] if t["team"] == "Blue")["scores"]["0"]
        assert api["worst_group"] == board.worst[i][j]
        return board.rows[i].cells[j].score, board.worst[i][j], board.rows[i].last_submitted

    score, worst, _ = await shown()  # no pick yet: the best public submission counts, the latest here
    assert score == pytest.approx(1 - 5 / len(y)) and worst == pytest.approx(expected["latest"])
    await services.controls.final_pick(team, 0, 1)
    score, worst, _ = await shown()  # the pick counts: its score and its worst group, not the latest's
    assert score == pytest.approx(1 - 20 / len(y)) and worst == pytest.approx(expected["picked"])


async def test_the_board_reads_its_rows_and_each_submissions_pick_through_indexes(services):
    """The board's rows join final_picks on submission_id (competition.submission_rows): without an
    index, SQLite scanned every pick for every submission (13 s a chunk at 5,000 teams x 14 picks).
    The plan is asked with sequential scans off on PostgreSQL, so a small table still shows the index."""
    class Recorder:
        async def fetchall(self, sql: str, params=()) -> list[tuple]:
            self.sql, self.params = sql, params
            return []

    recorder = Recorder()
    await competition.submission_rows(recorder, "mock", 0)  # type: ignore[arg-type]

    async def plan(tx) -> tuple[str, str]:
        if tx.dialect == "sqlite":
            rows = await tx.fetchall("EXPLAIN QUERY PLAN " + recorder.sql, recorder.params)
            return tx.dialect, "\n".join(r[3] for r in rows)
        async with tx.transaction():
            await tx.execute("SET LOCAL enable_seqscan = off")
            return tx.dialect, "\n".join(r[0] for r in await tx.fetchall("EXPLAIN " + recorder.sql, recorder.params))

    dialect, shown = await services.store.run(plan)
    assert "final_picks_submission" in shown, shown
    if dialect == "sqlite":  # the rows from an index alone, not the table's pages (each holds a label file)
        assert "COVERING INDEX submissions_board_rows" in shown, shown


# --- public and private ----------------------------------------------------------------

async def test_public_private_and_full_scores_and_the_final_board(open_services, clock):
    services = await open_services(controls={3: f"private_fraction = 0.5\nsplit_seed = {SEED}"})
    team, _ = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 3)
    groups = np.load(services.registry.get("mock", 3).folder / "groups_val.npy")
    mask = private_mask(y, groups, private_fraction=0.5, seed=SEED)
    pred = y.copy()
    wrong_private = np.flatnonzero(mask)[:30]
    pred[wrong_private] = 1 - pred[wrong_private]  # every error on the private rows
    result = await submit(services, team, 3, csv_bytes(pred))
    assert result.split and result.score == 1.0  # the reply shows the public score only
    assert result.accuracy == pytest.approx(1 - 30 / len(y))
    public, private = await services.store.fetchone("SELECT public, private FROM submissions")
    assert public == 1.0 and private == pytest.approx(1 - 30 / mask.sum())
    score, standings = await cell(services, "Blue", 3)
    assert score == 1.0 and standings.board.kind == "public"
    assert "private" not in str(standings.to_api()["teams"])  # the split is never in a response
    clock.set(CLOSES)
    score, standings = await cell(services, "Blue", 3)
    assert score == pytest.approx(private) and standings.board.kind == "private"
    assert "private scores" in standings.board.note
    assert standings.to_api()["board"] == "private"


async def test_blind_mode_gives_no_score_to_the_submitter(open_services):
    services = await open_services(controls={0: 'visibility = "blind"', 3: 'visibility = "hidden"'})
    team, _ = await new_team(services, "Blue")
    blind = await submit(services, team, 0, file_with(services, 0, 20))
    assert not blind.score_visible
    with pytest.raises(AlreadyDone) as again:  # one-shot: the repeat names the first, without its score
        await submit(services, team, 0, file_with(services, 0, 20))
    assert "accuracy" not in again.value.message and "0.9" not in again.value.message
    hidden = await submit(services, team, 3, file_with(services, 3, 20))
    assert hidden.score_visible  # a dataset's own "hidden" hides the board, not the team's reply
    standings = await services.leaderboard.standings()
    assert not standings.visible and all(r.total is None and r.rank is None for r in standings.rows)
    assert (await services.leaderboard.standings(organizer=True)).visible


async def test_the_freeze_participants_see_the_board_as_it_stood_organizers_see_it_live(open_services, clock):
    freeze = T0 + timedelta(hours=2)
    services = await open_services(controls={0: f'submissions = "unlimited"\ncounts = "last"\n'
                                                f"freeze = {freeze:%Y-%m-%dT%H:%M:%SZ}"})
    team, _ = await new_team(services, "Blue")
    await submit(services, team, 0, file_with(services, 0, 20))  # 0.90 before the freeze
    clock.set(freeze + timedelta(minutes=1))
    after = await submit(services, team, 0, file_with(services, 0, 10))  # 0.95 after it
    assert after.score == pytest.approx(0.95) and after.score_visible  # the team sees its own latest score
    score, standings = await cell(services, "Blue", 0)
    assert score == pytest.approx(0.90) and standings.board.frozen
    score, standings = await cell(services, "Blue", 0, organizer=True)
    assert score == pytest.approx(0.95) and standings.board.kind == "live"


# --- baselines and disqualification ------------------------------------------------------

async def test_baselines_are_shown_never_ranked_and_disqualified_teams_leave_the_ranks(open_services):
    services = await open_services()
    blue, _ = await new_team(services, "Blue")
    red, _ = await new_team(services, "Red")
    await submit(services, blue, 0, file_with(services, 0, 20))
    await submit(services, red, 0, file_with(services, 0, 40))
    full, _ = await services.controls.add_baseline(0, "Majority class", "b.csv", file_with(services, 0, 0))
    assert full == 1.0
    standings = await services.leaderboard.standings()
    kinds = {r.team: (r.kind, r.rank) for r in standings.rows}
    assert kinds == {"Majority class": ("baseline", None), "Blue": ("team", 1), "Red": ("team", 2)}
    podium = await services.leaderboard.podium(3)
    assert [w.team for w in podium.winners] == ["Blue", "Red"]
    await services.controls.disqualify("blue", "copied Red's file")
    standings = await services.leaderboard.standings(organizer=True)
    row = next(r for r in standings.rows if r.team == "Blue")
    assert (row.kind, row.rank, row.note) == ("disqualified", None, "copied Red's file")
    assert [w.team for w in (await services.leaderboard.podium(3)).winners] == ["Red"]
    assert next(r for r in (await services.leaderboard.standings()).rows if r.team == "Blue").note is None
    await services.controls.disqualify("Blue", None)  # reversible
    assert [w.team for w in (await services.leaderboard.podium(3)).winners] == ["Blue", "Red"]


# --- label fixes ---------------------------------------------------------------------------

async def test_flipping_one_label_changes_exactly_the_affected_teams_after_confirm(open_services):
    services = await open_services()
    y = hidden_y(services.config, "mock", 0)
    datum = 7
    teams = {}
    for name, right_on_datum in (("Blue", True), ("Red", False), ("Green", True)):
        team, _ = await new_team(services, name)
        pred = predictions_with_errors(y, 10, labels_of(services, 0), seed=len(teams) + 3)
        pred[datum] = y[datum] if right_on_datum else 1 - y[datum]
        await submit(services, team, 0, csv_bytes(pred))
        teams[name] = (team, pred)
    blue = teams["Blue"][0]
    answered = (await services.reveals.reveal(blue, 0, datum)).label
    before = await services.store.fetchall("SELECT team_id, accuracy FROM submissions ORDER BY id")
    new_y = y.copy()
    new_y[datum] = 1 - y[datum]

    report = await services.controls.replace_labels(0, new_y, "datum 7 was mislabelled", confirm=False)
    assert report.changed_rows == 1 and report.files == 3 and not report.confirmed
    moved = {m.team: (m.old, m.new) for m in report.moves}
    assert set(moved) == {"Blue", "Red", "Green"}
    assert moved["Red"][1] - moved["Red"][0] == pytest.approx(1 / len(y))
    assert moved["Blue"][0] - moved["Blue"][1] == pytest.approx(1 / len(y))
    assert report.corrected_reveals == [("Blue", datum)]
    assert await services.store.fetchall("SELECT team_id, accuracy FROM submissions ORDER BY id") == before

    confirmed = await services.controls.replace_labels(0, new_y, "datum 7 was mislabelled", confirm=True)
    assert confirmed.confirmed and confirmed.new_version == 2
    after = dict(await services.store.fetchall("SELECT team_id, accuracy FROM submissions"))
    for team, pred in teams.values():
        assert after[team.id] == pytest.approx(float(np.mean(pred == new_y)))
    assert await services.store.fetchval("SELECT min(label_version) FROM submissions") == 2
    assert (await services.reveals.reveal(blue, 0, datum)).label == answered  # the answered label is kept
    red = teams["Red"][0]
    assert (await services.reveals.reveal(red, 0, datum)).label == int(new_y[datum])  # a new reveal: the fix
    standings = await services.leaderboard.standings()
    assert standings.board.label_versions == {0: 2}
    # a new submission is scored against the labels in force
    green = await submit(services, teams["Green"][0], 3, file_with(services, 3, 0))
    assert green.accuracy == 1.0


async def test_a_label_fix_is_refused_when_it_changes_nothing_or_the_row_count(services):
    y = hidden_y(services.config, "mock", 0)
    with pytest.raises(BadInput, match="ones in force"):
        await services.controls.replace_labels(0, y, "no change", confirm=True)
    with pytest.raises(BadInput, match="not the number of rows"):
        await services.controls.replace_labels(0, y[:-1], "shorter", confirm=True)
    with pytest.raises(BadInput, match="give the reason"):
        await services.controls.replace_labels(0, 1 - y, "  ", confirm=True)


# --- integrity ---------------------------------------------------------------------------

async def test_two_copied_files_are_flagged_and_two_honest_ones_are_not(open_services):
    services = await open_services(controls={0: f"private_fraction = 0.5\nsplit_seed = {SEED}"})
    copied = file_with(services, 0, 40, seed=5)
    for name, data in (("Blue", copied), ("Red", copied), ("Green", file_with(services, 0, 40, seed=6)),
                       ("Gold", file_with(services, 0, 40, seed=7))):
        team, _ = await new_team(services, name)
        await submit(services, team, 0, data)
    flags = await services.controls.integrity()
    assert [(f.dataset_id, f.team_a, f.team_b, f.agreement) for f in flags] == [(0, "Blue", "Red", 1.0)]
    assert not flags[0].explained_by_accuracy


async def test_accuracy_without_the_teams_own_revealed_datums(services):
    team, _ = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 0)
    pred = predictions_with_errors(y, 20, labels_of(services, 0))
    right = np.flatnonzero(pred == y)[:5]
    for datum in right:
        await services.reveals.reveal(team, 0, int(datum))
    await submit(services, team, 0, csv_bytes(pred))
    found = next(r for r in await services.controls.without_reveals() if r.dataset_id == 0)
    assert found.revealed == 5 and found.accuracy == pytest.approx(0.9)
    assert found.without_reveals == pytest.approx(175 / 195)


# --- exports -----------------------------------------------------------------------------

async def test_exports_carry_scores_hash_and_label_version(open_services):
    services = await open_services(controls={0: 'submissions = "unlimited"'})
    team, _ = await new_team(services, "=Evil")
    await submit(services, team, 0, file_with(services, 0, 20))
    await submit(services, team, 0, file_with(services, 0, 10))
    text = await services.controls.export_submissions()
    lines = text.splitlines()
    assert lines[0].startswith("phase,team,dataset,submitted_at,accuracy")
    assert len(lines) == 3 and all(",'=Evil,0," in line for line in lines[1:])
    assert ",1," in lines[1]  # label version 1
    board = (await services.controls.export_leaderboard()).splitlines()
    assert board[0].startswith("board,rank,team,kind,total") and "'=Evil" in board[1]
    assert "0.950000" in board[1]
