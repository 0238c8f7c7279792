"""The pure part of the repository checks: licence patterns and what findings the facts give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.repo_checks import CommitFacts, RepoFacts, RepoPolicy, assess, licence_allowed, valid_licence_pattern

START = datetime(2024, 11, 22, 12, tzinfo=UTC)
spdx_ids = st.from_regex(r"[A-Za-z][A-Za-z0-9.+-]{0,30}", fullmatch=True)


@given(spdx_ids)
def test_an_id_matches_itself_in_any_case_and_the_lone_star(spdx):
    assert licence_allowed(spdx, [spdx])
    assert licence_allowed(spdx.lower(), [spdx.upper()])
    assert licence_allowed(spdx, ["*"])


@given(spdx_ids, spdx_ids)
def test_a_prefix_pattern_matches_exactly_the_ids_with_that_prefix(prefix, spdx):
    assert licence_allowed(spdx, [prefix + "*"]) == spdx.lower().startswith(prefix.lower())


def test_wildcards_as_an_event_writes_them():
    patterns = ["MIT", "Apache-2.0", "GPL-*", "CC-BY-SA-4.0"]
    assert licence_allowed("GPL-3.0", patterns) and licence_allowed("GPL-2.0-or-later", patterns)
    assert not licence_allowed("LGPL-3.0", patterns) and not licence_allowed("AGPL-3.0", patterns)
    assert not licence_allowed("MIT-0", patterns)  # no implicit prefix match
    assert not licence_allowed("MIT", [])


def test_valid_patterns():
    assert all(valid_licence_pattern(p) for p in ["MIT", "GPL-*", "CC-BY-SA-4.0", "GPL-2.0+"])
    assert not any(valid_licence_pattern(p) for p in ["", "*", "**", "GPL 3", "MIT;rm"])


def commit(day: float, *, additions: int = 10, files: int = 1) -> CommitFacts:
    at = START + timedelta(days=day)
    return CommitFacts("a" * 40, "x", at, at, "me", "me", 1, additions, 0, files)


def test_facts_that_are_fine_give_nothing():
    facts = RepoFacts("t/p", "https://github.com/t/p", True, licence="MIT", readme_path="README.md", readme_bytes=500,
                      created_at=START, commit_count=3, first_commit=commit(0.1), sampled_commits=3)
    assert assess(facts, RepoPolicy(licences=("MIT",), work_starts=START)) == ((), ())


def test_thresholds_come_from_the_policy():
    facts = RepoFacts("t/p", "https://github.com/t/p", True, licence="MIT", readme_path="README.md", readme_bytes=500,
                      created_at=START, commit_count=1, first_commit=commit(0.1, additions=1500, files=12), sampled_commits=1)
    assert assess(facts, RepoPolicy()) == ((), ())
    _, flags = assess(facts, RepoPolicy(giant_commit_lines=1000))
    assert [f.code for f in flags] == ["giant_first_commit"]
    _, flags = assess(facts, RepoPolicy(giant_commit_files=10))
    assert [f.code for f in flags] == ["giant_first_commit"]


def test_without_a_start_time_nothing_is_early():
    facts = RepoFacts("t/p", "https://github.com/t/p", True, readme_path="README.md", readme_bytes=500,
                      created_at=START - timedelta(days=300), commit_count=1, first_commit=commit(-300), sampled_commits=1)
    assert assess(facts, RepoPolicy()) == ((), ())
    _, flags = assess(facts, RepoPolicy(work_starts=START))
    assert [f.code for f in flags] == ["created_before_start", "first_commit_before_start"]


def test_a_missing_repository_gives_one_warning_only():
    warnings, flags = assess(RepoFacts("t/p", "https://github.com/t/p", False), RepoPolicy(licences=("MIT",), work_starts=START))
    assert [w.code for w in warnings] == ["not_found"] and flags == ()
