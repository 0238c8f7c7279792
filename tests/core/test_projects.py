"""Projects over a real database (SQLite and PostgreSQL): submitting, drafts, versions with their
authors, the lock at 23:59 AoE, extensions, two members editing at once, moderation, the
repository checks against the local GitHub double (and GitHub down), the deadline commit
snapshot, the draft reminders sent once, the gallery hidden before the deadline, the export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_event
from bot.core.errors import BadInput, NotAllowed, NotFound
from bot.core.github import GitHubClient, GitHubRepoChecker
from bot.core.projects import EditConflict, ProjectInput, eligible_projects
from bot.core.services import Services
from bot.core.store import IntegrityError
from bot.sandbox.github import GitHubDouble, GitHubState
from tests.core.helpers import Clock
from tests.core.project_helpers import CLOSES, OPENS, WORK, edit_worker, write_project_event
from tests.core.workers import run_processes

REPO = "https://github.com/crew/project"
DEMO = "https://youtu.be/dQw4w9WgXcQ"


def good(title: str = "Galaxy sorter", **changes) -> ProjectInput:
    fields = dict(title=title, summary="Sorts galaxies by shape.", repo=REPO, demo=DEMO, category="build",
                  opt_ins=("Modal",), answers=(("stack", "numpy, jax"),))
    fields.update(changes)
    return ProjectInput(**fields)


@pytest.fixture
def clock() -> Clock:
    return Clock(WORK)


@pytest.fixture
async def github(clock):
    double = GitHubDouble(GitHubState(clock=clock))
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def env(tmp_path, clock, db, github):
    path = write_project_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    client = GitHubClient(base_url=github.url, clock=clock, timeout=5)
    services.projects.checker = GitHubRepoChecker(client)
    yield services, github.state, clock
    await client.close()
    await services.close()


def a_good_repo(state: GitHubState, full_name: str = "crew/project", **options):
    repo = state.add_repo(full_name, created_at=OPENS + timedelta(minutes=30), **options)
    for i in range(3):
        repo.commit(f"step {i}", OPENS + timedelta(minutes=40 + i))
    return repo


async def team(services, name: str = "Crew", members: tuple[str, ...] = ("100", "101")):
    t = (await services.teams.create(name, captain=members[0])).team
    for m in members[1:]:
        await services.teams.add_member(t.id, m)
    return t


async def test_a_team_submits_a_complete_project_and_a_verified_repository_has_no_warnings(env):
    services, gh, _ = env
    a_good_repo(gh)
    crew = await team(services)
    saved = await services.projects.save(crew.id, "100", good(repo="git@github.com:crew/project.git"), submit=True,
                                         expected_version=None)
    p = saved.project
    assert saved.created and p.status == "submitted" and p.version == 1
    assert p.repo_url == REPO and p.category == "Build" and p.opt_ins == ("modal",) and p.answers == {"stack": "numpy, jax"}
    assert saved.check is not None and saved.check.status == "verified" and p.verified is True and p.warnings == ()
    assert p.moderation == "pending" and p.deadline == CLOSES


async def test_missing_fields_are_named_and_a_draft_may_lack_them(env):
    services, *_ = env
    crew = await team(services)
    with pytest.raises(BadInput, match="add a repository URL, a demo URL, a category"):
        await services.projects.save(crew.id, "100", ProjectInput("Half done"), submit=True, expected_version=None)
    assert await services.projects.of_team(crew.id) is None  # nothing was written
    draft = (await services.projects.save(crew.id, "100", ProjectInput("Half done"), submit=False,
                                          expected_version=None)).project
    assert draft.status == "draft" and draft.repo_url is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"category": "Cooking"}, "'Cooking' is not a category of this event; choose one of: Build, Train, Analyse"),
    ({"opt_ins": ("gpu",)}, "not a prize to opt into"),
    ({"repo": "https://gist.github.com/crew/abc123"}, "gist"),
    ({"repo": "https://gitlab.com/crew/project"}, "gitlab.com"),
    ({"repo": "https://user:secret@github.com/crew/project"}, "credentials|password|token"),
    ({"demo": "https://example.com/video.mp4"}, "demos on example.com are not accepted"),
    ({"title": "   "}, "a title has 1 to 100 characters"),
    ({"answers": (("colour", "blue"),)}, "'colour' is not a question"),
])
async def test_every_refusal_says_what_to_fix_and_writes_nothing(env, changes, message):
    services, *_ = env
    crew = await team(services)
    with pytest.raises(BadInput, match=message):
        await services.projects.save(crew.id, "100", good(**changes), submit=True, expected_version=None)
    assert await services.projects.of_team(crew.id) is None


async def test_every_change_is_a_version_with_its_author(env):
    services, gh, clock = env
    a_good_repo(gh)
    crew = await team(services)
    p = (await services.projects.save(crew.id, "100", good(), submit=False, expected_version=None)).project
    clock.advance(minutes=5)
    p = (await services.projects.save(crew.id, "101", good(), submit=True, expected_version=p.version)).project
    clock.advance(minutes=5)
    p = (await services.projects.save(crew.id, "100", good("Galaxy sorter 2"), submit=None,
                                      expected_version=p.version)).project
    assert p.status == "submitted" and p.title == "Galaxy sorter 2" and p.updated_by == "100"
    history = await services.projects.history(p.id)
    assert [(v.version, v.author, v.change, v.status) for v in history] == [
        (1, "100", "created", "draft"), (2, "101", "submitted", "submitted"), (3, "100", "edited", "submitted")]
    p = await services.projects.withdraw(crew.id, "101", p.version)
    assert p.status == "withdrawn" and (await services.projects.history(p.id))[-1].author == "101"
    assert await services.store.run(eligible_projects) == []


async def test_an_edit_of_a_version_someone_else_replaced_is_refused_and_loses_nothing(env):
    services, *_ = env
    crew = await team(services)
    p = (await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)).project
    # both members opened version 1; member 101 saves first
    await services.projects.save(crew.id, "101", good("By 101"), submit=None, expected_version=p.version)
    with pytest.raises(EditConflict, match="101 saved version 2 .you edited version 1.; nothing of yours was saved"):
        await services.projects.save(crew.id, "100", good("By 100"), submit=None, expected_version=p.version)
    now = await services.projects.of_team(crew.id)
    assert now.title == "By 101" and now.version == 2
    with pytest.raises(EditConflict, match="already has a project"):
        await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)


async def test_the_lock_at_23_59_aoe_accepts_at_11_58_utc_the_next_day_and_refuses_at_12_00(env):
    services, _, clock = env
    crew = await team(services)
    clock.set(datetime(2030, 3, 4, 11, 58, tzinfo=UTC))
    p = (await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)).project
    clock.set(datetime(2030, 3, 4, 12, 0, tzinfo=UTC))
    with pytest.raises(NotAllowed, match="closed at 2030-03-04 11:59 UTC"):
        await services.projects.save(crew.id, "100", good("Late"), submit=None, expected_version=p.version)
    with pytest.raises(NotAllowed, match="closed at"):
        await services.projects.withdraw(crew.id, "100", p.version)
    assert (await services.projects.of_team(crew.id)).title == "Galaxy sorter"
    # the database holds the lock too: a version written after the deadline is refused by it
    with pytest.raises(IntegrityError, match="project closed"):
        await services.store.execute(
            "INSERT INTO project_versions(project_id, version, status, title, summary, opt_ins, answers, author, at)"
            " VALUES (?, 9, 'submitted', 't', '', '[]', '{}', 'x', ?)", (p.id, clock().timestamp()))


async def test_projects_open_at_their_time(env):
    services, _, clock = env
    crew = await team(services)
    clock.set(OPENS - timedelta(minutes=1))
    with pytest.raises(NotAllowed, match="projects open at 2030-03-01 12:00 UTC"):
        await services.projects.save(crew.id, "100", good(), submit=False, expected_version=None)


async def test_an_extension_lets_one_team_edit_after_the_deadline_and_judges_see_why(env):
    services, _, clock = env
    crew, other = await team(services), await team(services, "Other", ("200",))
    p = (await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)).project
    q = (await services.projects.save(other.id, "200", good("Other"), submit=True, expected_version=None)).project
    with pytest.raises(BadInput, match="say why"):
        await services.projects.extend("Crew", CLOSES + timedelta(hours=6), " ", "orga")
    await services.projects.extend("Crew", CLOSES + timedelta(hours=6), "power cut in Lagos", "orga")
    clock.set(CLOSES + timedelta(hours=1))
    p = (await services.projects.save(crew.id, "101", good("Fixed"), submit=None, expected_version=p.version)).project
    assert p.title == "Fixed" and p.extended and "power cut in Lagos" in p.extension_reason
    with pytest.raises(NotAllowed, match="closed at"):
        await services.projects.save(other.id, "200", good("Late"), submit=None, expected_version=q.version)
    await services.projects.moderate("Crew", "eligible", "", "orga")
    pool = await services.store.run(eligible_projects)
    assert [x.extension_reason for x in pool] == [p.extension_reason]


async def test_moderation_tells_the_team_why_and_only_eligible_projects_enter_the_pool(env):
    services, *_ = env
    crew, other, third = await team(services), await team(services, "Other", ("200",)), await team(services, "Third", ("300",))
    for t, who in ((crew, "100"), (other, "200"), (third, "300")):
        await services.projects.save(t.id, who, good(f"P{who}"), submit=True, expected_version=None)
    with pytest.raises(BadInput, match="say why"):
        await services.projects.moderate("Other", "ineligible", "", "orga")
    ruled = await services.projects.moderate("Other", "ineligible", "the repository is not under an open licence", "orga")
    assert "not eligible" in ruled.notice and "not under an open licence" in ruled.notice
    await services.projects.moderate("Crew", "eligible", "", "orga")
    await services.projects.moderate("Third", "maybe", "repo created before the start", "orga")
    assert [p.team_name for p in await services.store.run(eligible_projects)] == ["Crew"]
    assert [p.team_name for p in await services.projects.queue()][:1] == ["Third"]
    with pytest.raises(NotFound):
        await services.projects.moderate("Nobody", "eligible", "", "orga")


async def test_a_verdict_queues_one_notice_to_the_team_channel_with_it(env):
    services, *_ = env
    crew = await team(services)
    await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)

    async def notices() -> list[tuple[str, str, dict]]:
        rows = await services.store.fetchall("SELECT kind, lane, payload FROM outbox WHERE kind = 'team.notice' ORDER BY id")
        return [(k, lane, json.loads(payload)) for k, lane, payload in rows]

    ruled = await services.projects.moderate("Crew", "ineligible", "no licence", "orga")
    assert ruled.notice_key is not None
    assert await notices() == [("team.notice", f"team:{crew.id}", {"team_id": crew.id, "content": ruled.notice})]
    again = await services.projects.moderate("Crew", "ineligible", " no licence ", "orga")  # a double click
    assert again.notice_key is None and len(await notices()) == 1
    changed = await services.projects.moderate("Crew", "eligible", "", "orga")
    assert changed.notice_key is not None and [n[2]["content"] for n in await notices()][-1] == changed.notice
    assert len(await notices()) == 2 and (await services.outbox.delivery(changed.notice_key)).status == "pending"
    await services.projects.withdraw(crew.id, "100", changed.project.version)
    with pytest.raises(NotAllowed, match="withdrawn, not submitted"):
        await services.projects.moderate("Crew", "maybe", "", "orga")
    assert len(await notices()) == 2


async def test_the_organizers_see_which_required_fields_a_project_lacks(env):
    services, *_ = env
    crew = await team(services)
    p = (await services.projects.save(crew.id, "100", good(demo=None), submit=False, expected_version=None)).project
    assert services.projects.missing_fields(p) == ["a demo URL"]
    p = (await services.projects.save(crew.id, "100", good(), submit=True, expected_version=p.version)).project
    assert services.projects.missing_fields(p) == []


async def test_repository_warnings_are_shown_at_once_with_what_to_change(env):
    services, gh, _ = env
    gh.add_repo("crew/project", created_at=OPENS - timedelta(days=30), license="BSD-3-Clause", readme=None).commit(
        "init", OPENS - timedelta(days=30))
    crew = await team(services)
    saved = await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    codes = {n.code for n in saved.project.warnings}
    assert codes == {"licence_not_allowed", "no_readme"}
    assert any("use one of MIT" in n.message for n in saved.project.warnings)
    assert {n.code for n in saved.project.flags} == {"created_before_start", "first_commit_before_start"}
    assert saved.project.status == "submitted" and saved.project.verified is False  # flagged, never refused


async def test_a_private_or_missing_repository_is_a_warning(env):
    services, gh, _ = env
    gh.add_repo("crew/project", private=True)
    crew = await team(services)
    saved = await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    assert [n.code for n in saved.project.warnings] == ["not_found"]


async def test_github_down_accepts_the_project_unverified_and_a_later_run_verifies_it(env):
    services, gh, clock = env
    a_good_repo(gh)
    gh.fail_next(503, count=10)
    crew = await team(services)
    saved = await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    assert saved.project.status == "submitted" and saved.project.verified is None
    assert [n.kind for n in saved.project.checks] == ["unverified"]
    assert "checked again" in saved.project.checks[0].message
    gh.scripted.clear()
    assert await services.projects.recheck_due() == 0  # not due yet
    clock.advance(minutes=10)
    assert await services.projects.recheck_due() == 1
    p = await services.projects.of_team(crew.id)
    assert p.verified is True and p.checks == ()
    assert await services.projects.recheck_due() == 0  # verified: not checked again


async def test_the_deadline_snapshot_records_the_last_commit_before_it_and_counts_those_after(env):
    services, gh, clock = env
    repo = a_good_repo(gh)
    crew = await team(services)
    await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    before = repo.commit("last fix", CLOSES - timedelta(minutes=5))
    assert await services.projects.snapshot_due() == 0  # the deadline has not passed
    clock.set(CLOSES + timedelta(minutes=10))
    repo.commit("after 1", CLOSES + timedelta(minutes=2))
    repo.commit("after 2", CLOSES + timedelta(minutes=3))
    assert await services.projects.snapshot_due() == 1
    assert await services.projects.snapshot_due() == 0  # recorded once
    p = await services.projects.of_team(crew.id)
    assert p.deadline_commit == before.sha
    clock.advance(hours=2)
    assert await services.projects.count_after_due() == 1
    assert (await services.projects.of_team(crew.id)).commits_after_deadline == 2


async def test_a_draft_is_reminded_24_h_and_1_h_before_the_deadline_once_each(env, tmp_path, db, clock):
    services, *_ = env
    crew, done = await team(services), await team(services, "Done", ("200",))
    await services.projects.save(crew.id, "100", ProjectInput("Draft"), submit=False, expected_version=None)
    await services.projects.save(done.id, "200", good(), submit=True, expected_version=None)
    clock.set(CLOSES - timedelta(hours=25))
    assert await services.projects.draft_reminders_due() == []
    clock.set(CLOSES - timedelta(hours=23))
    first = await services.projects.draft_reminders_due()
    assert [(r.project.team_name, r.before) for r in first] == [("Crew", timedelta(hours=24))]
    assert "still a draft" in first[0].text()
    # a second process on the same database does not send it again
    other = await Services.open(services.config, db, clock=clock)
    try:
        assert await other.projects.draft_reminders_due() == []
        clock.set(CLOSES - timedelta(minutes=30))
        assert [r.before for r in await other.projects.draft_reminders_due()] == [timedelta(hours=1)]
        assert await services.projects.draft_reminders_due() == []
    finally:
        await other.close()
    # each claimed reminder is queued once for the team's channel, whichever process claimed it
    rows = await services.store.fetchall("SELECT lane, payload FROM outbox WHERE kind = 'team.notice' ORDER BY id")
    assert [(lane, json.loads(p)["team_id"]) for lane, p in rows] == [(f"team:{crew.id}", crew.id)] * 2
    assert "still a draft" in json.loads(rows[0][1])["content"] and "about 24 hours" in json.loads(rows[0][1])["content"]
    assert "about 1 hour)" in json.loads(rows[1][1])["content"]


async def test_the_gallery_is_hidden_before_the_deadline_and_filters_by_category(env):
    services, *_ = env
    crew, other = await team(services), await team(services, "Other", ("200",))
    await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    await services.projects.save(other.id, "200", good("Trainer", category="Train"), submit=True, expected_version=None)
    assert await services.projects.gallery() == []
    services.clock.set(CLOSES)  # type: ignore[attr-defined]
    assert [p.title for p in await services.projects.gallery()] == ["Galaxy sorter", "Trainer"]
    assert [p.title for p in await services.projects.gallery("train")] == ["Trainer"]


async def test_export_json_and_devpost_csv_leave_drafts_out(env):
    services, *_ = env
    crew, other = await team(services), await team(services, "Other", ("200",))
    await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)
    await services.projects.save(other.id, "200", ProjectInput("Draft"), submit=False, expected_version=None)
    data = json.loads(await services.projects.export("json"))
    assert [(r["team"], r["repo_url"], r["category"]) for r in data] == [("Crew", REPO, "Build")]
    rows = list(csv.DictReader(io.StringIO(await services.projects.export("devpost-csv"))))
    assert [(r["Project Title"], r["Video Demo Link"], r["Opt-In Prizes"]) for r in rows] == [("Galaxy sorter", DEMO, "modal")]
    with pytest.raises(BadInput, match="json or devpost-csv"):
        await services.projects.export("xml")


async def test_members_editing_at_once_from_four_processes_one_wins_the_others_are_told(tmp_path, db, clock):
    path = write_project_event(tmp_path / "event")
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        crew = await team(services, members=("100", "101", "102"))
        p = (await services.projects.save(crew.id, "100", good(), submit=True, expected_version=None)).project
    finally:
        await services.close()
    authors = ["100", "101", "102", "100"]
    results = await asyncio.to_thread(run_processes, edit_worker, [
        ((str(path), db, clock().isoformat()), (crew.id, author, p.version)) for author in authors])
    won = [r for r in results if r[0] == "ok"]
    lost = [r for r in results if r[0] == "EditConflict"]
    assert len(won) == 1 and len(lost) == 3, results
    assert all("the project changed while you edited it" in r[1] for r in lost)
    services = await Services.open(load_event(path), db, clock=clock)
    try:
        now = await services.projects.of_team(crew.id)
        history = await services.projects.history(now.id)
        assert now.version == 2 and now.title == f"Edited by {won[0][1]}" and [v.author for v in history] == ["100", won[0][1]]
    finally:
        await services.close()
