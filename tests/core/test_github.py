"""The repository checks against the local GitHub double, over real HTTP on loopback."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.github import GitHubClient, GitHubRepoChecker, last_page
from bot.core.repo_checks import RepoCheck, RepoPolicy, RepoUnavailable
from bot.core.urls import RepoRef, normalize_repo_url
from bot.sandbox.github import GitHubDouble, GitHubState
from tests.core.helpers import Clock

START = datetime(2024, 11, 22, 12, 0, tzinfo=UTC)  # NumHack's work starts (Nov 22, 00:00 AoE)
NOW = START + timedelta(days=1)
POLICY = RepoPolicy(licences=("MIT", "Apache-2.0", "GPL-*", "CC-BY-SA-4.0"), work_starts=START)
TOKEN = "ghp_sandboxtoken"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def github(clock):
    double = GitHubDouble(GitHubState(clock=clock))
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def client(github, clock):
    async with GitHubClient(base_url=github.url, clock=clock, timeout=5) as client:
        yield client


@pytest.fixture
def checker(client) -> GitHubRepoChecker:
    return GitHubRepoChecker(client)


def ref(full_name: str) -> RepoRef:
    return normalize_repo_url(f"https://github.com/{full_name}")


def a_good_repo(state: GitHubState, full_name: str = "crew/project", *, commits: int = 5, **options):
    repo = state.add_repo(full_name, created_at=START + timedelta(hours=1), **options)
    for i in range(commits):
        repo.commit(f"step {i}", START + timedelta(hours=2 + i), additions=200)
    return repo


def codes(findings) -> list[str]:
    return [f.code for f in findings]


async def test_a_good_public_repository_is_verified_without_warnings_or_flags(github, checker):
    repo = a_good_repo(github.state)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "verified" and check.ok
    assert check.warnings == () and check.flags == ()
    facts = check.facts
    assert facts.found and not facts.private and facts.licence == "MIT" and facts.readme_path == "README.md"
    assert facts.commit_count == 5
    assert facts.first_commit.sha == repo.commits[0].sha and facts.first_commit.additions == 200
    assert facts.head.sha == repo.commits[-1].sha
    assert facts.created_at == START + timedelta(hours=1)
    assert len(github.state.requests) <= 5


async def test_owner_and_name_are_matched_without_case_and_reported_as_github_spells_them(github, checker):
    a_good_repo(github.state, "NumFOCUS/NumHack-Demo")
    check = await checker.check(ref("numfocus/numhack-demo"), POLICY)
    assert check.ok and check.facts.full_name == "NumFOCUS/NumHack-Demo"


async def test_a_missing_repository_is_a_warning_saying_what_to_do(checker):
    check = await checker.check(ref("crew/nothing"), POLICY)
    assert check.status == "verified" and not check.ok
    assert codes(check.warnings) == ["not_found"]
    assert "make it public" in check.warnings[0].message and "https://github.com/crew/nothing" in check.warnings[0].message


async def test_a_private_repository_is_a_404_without_a_token_and_private_with_one(github, client, clock):
    a_good_repo(github.state, private=True)
    check = await GitHubRepoChecker(client).check(ref("crew/project"), POLICY)
    assert codes(check.warnings) == ["not_found"]
    assert github.state.requests[-1] == ("/repos/crew/project", "", 404)
    async with GitHubClient(base_url=github.url, token=TOKEN, clock=clock) as with_token:
        check = await GitHubRepoChecker(with_token).check(ref("crew/project"), POLICY)
    assert codes(check.warnings) == ["private"]
    assert "Change visibility" in check.warnings[0].message


async def test_no_licence_or_one_github_cannot_name_is_a_warning(github, checker):
    a_good_repo(github.state, "crew/none", license=None)
    a_good_repo(github.state, "crew/odd", license="NOASSERTION")
    check = await checker.check(ref("crew/none"), POLICY)
    assert codes(check.warnings) == ["no_licence"]
    assert "MIT, Apache-2.0, GPL-*, CC-BY-SA-4.0" in check.warnings[0].message and "LICENSE" in check.warnings[0].message
    check = await checker.check(ref("crew/odd"), POLICY)
    assert codes(check.warnings) == ["licence_unknown"]


@pytest.mark.parametrize(("licence", "allowed"), [
    ("MIT", True), ("Apache-2.0", True), ("GPL-3.0", True), ("GPL-2.0", True), ("CC-BY-SA-4.0", True),
    ("LGPL-3.0", False), ("AGPL-3.0", False), ("BSD-3-Clause", False), ("Unlicense", False),
])
async def test_the_licence_allow_list_with_wildcards(github, checker, licence, allowed):
    a_good_repo(github.state, license=licence)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.ok is allowed
    if not allowed:
        assert codes(check.warnings) == ["licence_not_allowed"]
        assert f"under {licence}" in check.warnings[0].message


async def test_an_event_without_a_licence_list_does_not_check_licences(github, checker):
    a_good_repo(github.state, license=None)
    assert (await checker.check(ref("crew/project"), RepoPolicy(work_starts=START))).ok


async def test_a_missing_or_empty_readme_is_a_warning(github, checker):
    a_good_repo(github.state, "crew/bare", readme=None)
    a_good_repo(github.state, "crew/short", readme="# x\n")
    assert codes((await checker.check(ref("crew/bare"), POLICY)).warnings) == ["no_readme"]
    check = await checker.check(ref("crew/short"), POLICY)
    assert codes(check.warnings) == ["readme_too_short"] and "4 bytes" in check.warnings[0].message


async def test_an_empty_repository_asks_for_a_push(github, checker):
    github.state.add_repo("crew/empty", created_at=START + timedelta(hours=1))
    check = await checker.check(ref("crew/empty"), POLICY)
    assert codes(check.warnings) == ["empty", "no_readme"]
    assert check.facts.commit_count == 0 and check.facts.first_commit is None


async def test_a_repository_older_than_the_event_is_flagged_for_organizers_never_refused(github, checker):
    repo = github.state.add_repo("crew/old", created_at=START - timedelta(days=30))
    repo.commit("initial work", START - timedelta(days=29), additions=300)
    repo.commit("hackathon", START + timedelta(hours=3), additions=100)
    check = await checker.check(ref("crew/old"), POLICY)
    assert check.status == "verified" and check.ok  # the team is told nothing to change
    assert codes(check.flags) == ["created_before_start", "first_commit_before_start"]
    assert "2024-10-23 12:00 UTC" in check.flags[0].message and "2024-11-22 12:00 UTC" in check.flags[0].message


async def test_one_giant_commit_is_flagged(github, checker):
    repo = github.state.add_repo("crew/dump", created_at=START + timedelta(hours=1))
    repo.commit("everything", START + timedelta(hours=40), additions=24_000, files=[f"f{i}.py" for i in range(120)])
    check = await checker.check(ref("crew/dump"), POLICY)
    assert check.ok and codes(check.flags) == ["giant_first_commit"]
    assert "24,000 lines in 120 files" in check.flags[0].message and "1 commit(s)" in check.flags[0].message


async def test_a_commit_touching_more_files_than_github_lists_on_a_page_is_flagged(github, checker):
    repo = github.state.add_repo("crew/many", created_at=START + timedelta(hours=1))
    repo.commit("vendored", START + timedelta(hours=2), additions=900, files=[f"f{i}.js" for i in range(450)])
    check = await checker.check(ref("crew/many"), POLICY)
    assert codes(check.flags) == ["giant_first_commit"] and check.facts.first_commit.files == 300


async def test_web_uploads_are_flagged_and_merges_on_github_are_not(github, checker):
    repo = github.state.add_repo("crew/upload", created_at=START + timedelta(hours=1))
    repo.upload(START + timedelta(hours=2))
    repo.upload(START + timedelta(hours=5))
    repo.commit("Update README.md", START + timedelta(hours=6), committer="web-flow")
    check = await checker.check(ref("crew/upload"), POLICY)
    assert codes(check.flags) == ["web_uploads"]
    assert check.facts.uploads == 2 and check.facts.sampled_commits == 3
    assert "2 of the 3 latest commits" in check.flags[0].message

    merged = a_good_repo(github.state, "crew/merged", commits=4)
    for i in range(3):
        merged.commit(f"Merge pull request #{i}", START + timedelta(hours=10 + i), committer="web-flow", merge_of="f" * 40)
    check = await checker.check(ref("crew/merged"), POLICY)
    assert check.flags == () and check.facts.uploads == 0


async def test_a_fork_is_flagged_with_its_upstream(github, checker):
    github.state.add_repo("upstream/lib", created_at=START - timedelta(days=400))
    a_good_repo(github.state, "crew/lib", fork_of="upstream/lib")
    check = await checker.check(ref("crew/lib"), POLICY)
    assert codes(check.flags) == ["fork"] and "upstream/lib" in check.flags[0].message


async def test_history_across_pages_is_counted_and_its_first_commit_found(github, checker):
    repo = a_good_repo(github.state, commits=0)
    for i in range(234):
        repo.commit(f"c{i}", START + timedelta(minutes=10 + i), additions=5)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.facts.commit_count == 234
    assert check.facts.first_commit.sha == repo.commits[0].sha and check.facts.first_commit.message == "c0"
    assert check.facts.head.sha == repo.commits[-1].sha
    assert check.facts.sampled_commits == 100


async def test_github_down_gives_unverified_then_the_recheck_verifies(github, checker, clock):
    a_good_repo(github.state)
    github.state.fail_next(503)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and not check.ok and check.facts is None
    assert "503" in check.reason and "checked again" in check.reason
    assert check.retry_at == NOW + timedelta(minutes=5)
    clock.advance(minutes=5)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "verified" and check.ok


async def test_a_spent_rate_limit_is_honoured_until_its_reset(github, checker, clock):
    a_good_repo(github.state)
    github.state.spend(leave=1)  # one request left in this hour
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "unverified"
    reset = github.state.buckets[""].reset
    assert check.retry_at == reset.replace(microsecond=0)
    assert "GITHUB_TOKEN" in check.reason  # it says how to raise the limit
    sent = len(github.state.requests)
    assert sent == 1  # x-ratelimit-remaining reached 0: nothing more was sent
    clock.advance(minutes=30)
    assert (await checker.check(ref("crew/project"), POLICY)).status == "unverified"
    assert len(github.state.requests) == sent  # still waiting: GitHub was not asked
    clock.set(reset + timedelta(seconds=1))
    assert (await checker.check(ref("crew/project"), POLICY)).ok


async def test_a_403_for_a_spent_limit_blocks_until_the_reset(github, checker, clock):
    a_good_repo(github.state)
    github.state.spend()
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and github.state.requests[-1][2] == 403
    assert check.retry_at == github.state.buckets[""].reset.replace(microsecond=0)


@pytest.mark.parametrize("status", [403, 429])
async def test_a_secondary_limit_waits_its_retry_after(github, checker, clock, status):
    a_good_repo(github.state)
    github.state.secondary_limit(retry_after=30, status=status)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and check.retry_at == NOW + timedelta(seconds=30)
    clock.advance(seconds=29)
    await checker.check(ref("crew/project"), POLICY)
    assert len(github.state.requests) == 1
    clock.advance(seconds=1)
    assert (await checker.check(ref("crew/project"), POLICY)).ok


async def test_a_secondary_limit_without_retry_after_waits_a_minute(github, checker):
    a_good_repo(github.state)
    github.state.secondary_limit(retry_after=None)
    check = await checker.check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and check.retry_at == NOW + timedelta(minutes=1)


async def test_a_slow_github_times_out_as_unverified(github, clock):
    a_good_repo(github.state)
    github.state.slow_next(1.0)
    async with GitHubClient(base_url=github.url, clock=clock, timeout=0.2) as client:
        check = await GitHubRepoChecker(client).check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and "did not answer within 0.2 s" in check.reason


async def test_an_unreachable_github_is_unverified(clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with GitHubClient(base_url=f"http://127.0.0.1:{port}", clock=clock) as client:
        check = await GitHubRepoChecker(client).check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and "could not be reached" in check.reason


async def test_a_bad_token_is_reported_without_the_token(github, clock):
    a_good_repo(github.state)
    async with GitHubClient(base_url=github.url, token="ghp_wrongwrongwrong", clock=clock) as client:
        check = await GitHubRepoChecker(client).check(ref("crew/project"), POLICY)
    assert check.status == "unverified" and "GITHUB_TOKEN" in check.reason
    assert "ghp_wrong" not in check.reason and "ghp_wrong" not in json.dumps(check.to_dict())


async def test_a_token_is_sent_and_uses_its_own_bucket(github, clock):
    a_good_repo(github.state)
    github.state.spend()  # the anonymous bucket is spent; the token's is not
    async with GitHubClient(base_url=github.url, token=TOKEN, clock=clock) as client:
        check = await GitHubRepoChecker(client).check(ref("crew/project"), POLICY)
        assert check.ok and client.remaining == 5000 - len(github.state.requests)


async def test_other_hosts_are_unsupported(checker):
    gitlab = normalize_repo_url("https://gitlab.com/g/p", ["gitlab.com"])
    check = await checker.check(gitlab, POLICY)
    assert check.status == "unsupported" and "gitlab.com" in check.reason


async def test_the_deadline_snapshot_and_commits_after_it(github, checker, clock):
    repo = a_good_repo(github.state)
    deadline = START + timedelta(days=3)
    for i in range(3):
        repo.commit(f"late {i}", deadline + timedelta(minutes=5 + i))
    snap = await checker.snapshot(ref("crew/project"), at=deadline)
    assert snap.sha == repo.commits[4].sha and snap.message == "step 4"
    head = await checker.snapshot(ref("crew/project"))
    assert head.sha == repo.commits[-1].sha
    after = await checker.after(ref("crew/project"), snap.sha)
    assert (after.ahead_by, after.rewritten, after.found) == (3, False, True)
    assert (await checker.after(ref("crew/project"), head.sha)).ahead_by == 0


async def test_a_force_push_after_the_deadline_is_seen(github, checker):
    repo = a_good_repo(github.state)
    snap = repo.commits[-1]
    repo.force_push(keep=3)
    repo.commit("rewritten", START + timedelta(days=4))
    after = await checker.after(ref("crew/project"), snap.sha)
    assert after.rewritten and after.ahead_by == 1


async def test_snapshot_of_an_empty_repository_and_after_a_deleted_one(github, checker):
    github.state.add_repo("crew/empty")
    assert await checker.snapshot(ref("crew/empty")) is None
    after = await checker.after(ref("crew/gone"), "a" * 40)
    assert not after.found


async def test_snapshot_raises_unavailable_for_the_caller_to_retry(github, checker):
    a_good_repo(github.state)
    github.state.fail_next(502)
    with pytest.raises(RepoUnavailable) as info:
        await checker.snapshot(ref("crew/project"), at=NOW)
    assert info.value.reason == "down" and info.value.retry_at == NOW + timedelta(minutes=5)


async def test_a_check_survives_a_round_trip_through_json(github, checker):
    repo = github.state.add_repo("crew/old", created_at=START - timedelta(days=3), license="BSD-3-Clause")
    repo.upload(START - timedelta(days=2))
    check = await checker.check(ref("crew/old"), POLICY)
    assert check.warnings and check.flags
    assert RepoCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check
    unverified = RepoCheck("https://github.com/a/b", "unverified", NOW, retry_at=NOW, reason="down")
    assert RepoCheck.from_dict(json.loads(json.dumps(unverified.to_dict()))) == unverified


def test_last_page_reads_githubs_link_header():
    link = ('<https://api.github.com/repositories/1/commits?per_page=1&page=2>; rel="next", '
            '<https://api.github.com/repositories/1/commits?per_page=1&page=57>; rel="last"')
    assert last_page(link) == 57
    assert last_page('<https://api.github.com/x?page=1>; rel="prev"') is None
    assert last_page(None) is None
