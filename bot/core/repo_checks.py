"""What Hackbot checks about a submitted repository, and the interface a checker implements.

A check gathers `RepoFacts` (from GitHub's REST API in `bot.core.github`), then `assess` turns
them into findings, purely. Findings come in two kinds:

- **warnings** go to the team at once, each saying what to change (the repository is missing
  or private, it has no commits, no licence or one the event does not accept, no README);
- **flags** go to the organizers and are never a refusal (the repository was created, or its
  first commit dated, before the work could start; one giant first commit; the code arrived
  as file uploads through GitHub's web page; a fork).

A check that cannot run (GitHub down, rate limited, a timeout) is `unverified` with the time
to try again: the project is accepted and checked later. A host no checker knows is
`unsupported`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.core.clock import fmt_utc
from bot.core.urls import RepoRef

CheckStatus = Literal["verified", "unverified", "unsupported"]

UPLOAD_MESSAGE = "Add files via upload"  # GitHub's default message for files uploaded on its web page
WEB_FLOW = "web-flow"  # the GitHub account that commits what is done on github.com (edits, uploads, merges)

_SPDX_PATTERN = re.compile(r"^[A-Za-z0-9.+*-]+$")


def licence_allowed(spdx_id: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """SPDX ids compare without case (as SPDX says); '*' in a pattern matches any run of characters."""
    for pattern in patterns:
        regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
        if re.match(regex, spdx_id, re.IGNORECASE):
            return True
    return False


def valid_licence_pattern(pattern: str) -> bool:
    return bool(_SPDX_PATTERN.match(pattern)) and pattern.strip("*") != ""


@dataclass(frozen=True)
class RepoPolicy:
    """What an event asks of a repository (from its [projects] section)."""

    licences: tuple[str, ...] = ()  # SPDX ids or patterns ('GPL-*'); empty: no licence check
    work_starts: datetime | None = None  # created or first committed before this: flagged
    require_readme: bool = True
    readme_min_bytes: int = 100  # a README shorter than this explains nothing
    giant_commit_lines: int = 5000  # a first commit adding this many lines is flagged
    giant_commit_files: int = 200  # ... or touching this many files
    upload_share: float = 0.5  # flagged when at least this share of the sampled commits are web uploads


@dataclass(frozen=True)
class CommitFacts:
    sha: str
    message: str  # the first line
    authored_at: datetime
    committed_at: datetime
    author_login: str | None
    committer_login: str | None
    parents: int
    additions: int | None = None  # known when the commit was fetched alone
    deletions: int | None = None
    files: int | None = None

    @property
    def via_web(self) -> bool:
        return self.committer_login == WEB_FLOW

    @property
    def is_upload(self) -> bool:
        """Files uploaded on GitHub's web page: committed by web-flow, not a merge, GitHub's default message."""
        return self.via_web and self.parents <= 1 and self.message.startswith(UPLOAD_MESSAGE)


@dataclass(frozen=True)
class RepoFacts:
    """What GitHub said about a repository; plain data, stored with the check."""

    full_name: str
    html_url: str
    found: bool
    private: bool = False
    fork_of: str | None = None
    created_at: datetime | None = None
    pushed_at: datetime | None = None
    default_branch: str = ""
    licence: str | None = None  # SPDX id as GitHub reports it; "NOASSERTION": a licence file GitHub cannot name
    readme_path: str | None = None
    readme_bytes: int | None = None
    commit_count: int = 0
    first_commit: CommitFacts | None = None
    head: CommitFacts | None = None
    sampled_commits: int = 0  # the most recent commits looked at for web uploads
    uploads: int = 0


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class RepoCheck:
    url: str
    status: CheckStatus
    checked_at: datetime
    warnings: tuple[Finding, ...] = ()
    flags: tuple[Finding, ...] = ()
    facts: RepoFacts | None = None
    retry_at: datetime | None = None  # unverified: when to check again
    reason: str = ""  # unverified or unsupported: why, for the team and the organizers

    @property
    def ok(self) -> bool:
        return self.status == "verified" and not self.warnings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (datetimes as ISO 8601 strings), for the database."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepoCheck:
        facts = data.get("facts")
        return cls(
            url=data["url"],
            status=data["status"],
            checked_at=datetime.fromisoformat(data["checked_at"]),
            warnings=tuple(Finding(**f) for f in data.get("warnings", ())),
            flags=tuple(Finding(**f) for f in data.get("flags", ())),
            facts=_facts_from(facts) if facts else None,
            retry_at=datetime.fromisoformat(data["retry_at"]) if data.get("retry_at") else None,
            reason=data.get("reason", ""),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _commit_from(data: dict[str, Any] | None) -> CommitFacts | None:
    if not data:
        return None
    return CommitFacts(**{
        **data,
        "authored_at": datetime.fromisoformat(data["authored_at"]),
        "committed_at": datetime.fromisoformat(data["committed_at"]),
    })


def _facts_from(data: dict[str, Any]) -> RepoFacts:
    return RepoFacts(**{
        **data,
        "created_at": datetime.fromisoformat(data["created_at"]) if data.get("created_at") else None,
        "pushed_at": datetime.fromisoformat(data["pushed_at"]) if data.get("pushed_at") else None,
        "first_commit": _commit_from(data.get("first_commit")),
        "head": _commit_from(data.get("head")),
    })


def _licences_text(patterns: tuple[str, ...]) -> str:
    return ", ".join(patterns)


def assess(facts: RepoFacts, policy: RepoPolicy) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(warnings for the team, flags for the organizers) from what GitHub said."""
    warnings: list[Finding] = []
    flags: list[Finding] = []
    url = facts.html_url
    if not facts.found:
        warnings.append(Finding(
            "not_found",
            f"{url} was not found, or it is private: make it public (Settings > General > Danger Zone > "
            "Change visibility) or check the address",
        ))
        return tuple(warnings), ()
    if facts.private:
        warnings.append(Finding(
            "private", f"{url} is private: make it public (Settings > General > Danger Zone > Change visibility)"
        ))
    if facts.commit_count == 0:
        warnings.append(Finding("empty", f"{url} has no commits yet: push your code"))
    if policy.licences:
        allowed = _licences_text(policy.licences)
        if facts.licence is None:
            warnings.append(Finding(
                "no_licence",
                f"{url} has no licence GitHub recognises: add a LICENSE file with one of {allowed} "
                "(on GitHub: Add file > Create new file, name it LICENSE, then Choose a license template)",
            ))
        elif facts.licence == "NOASSERTION":
            warnings.append(Finding(
                "licence_unknown",
                f"{url} has a licence file GitHub cannot identify: use the unmodified text of one of {allowed}",
            ))
        elif not licence_allowed(facts.licence, policy.licences):
            warnings.append(Finding(
                "licence_not_allowed", f"{url} is under {facts.licence}, which this event does not accept: use one of {allowed}"
            ))
    if policy.require_readme:
        if facts.readme_path is None:
            warnings.append(Finding(
                "no_readme", f"{url} has no README: add a README.md saying what the project does and how to run it"
            ))
        elif facts.readme_bytes is not None and facts.readme_bytes < policy.readme_min_bytes:
            warnings.append(Finding(
                "readme_too_short",
                f"{url}'s {facts.readme_path} has {facts.readme_bytes} bytes: say what the project does and how to run it",
            ))

    start = policy.work_starts
    if start is not None and facts.created_at is not None and facts.created_at < start:
        flags.append(Finding(
            "created_before_start", f"repository created {fmt_utc(facts.created_at)}, before the work started ({fmt_utc(start)})"
        ))
    first = facts.first_commit
    if start is not None and first is not None and first.authored_at < start:
        flags.append(Finding(
            "first_commit_before_start",
            f"first commit {first.sha[:7]} dated {fmt_utc(first.authored_at)}, before the work started ({fmt_utc(start)}) "
            "(commit dates are set by the committer's machine)",
        ))
    if first is not None and (
        (first.additions or 0) >= policy.giant_commit_lines or (first.files or 0) >= policy.giant_commit_files
    ):
        flags.append(Finding(
            "giant_first_commit",
            f"the first commit {first.sha[:7]} adds {first.additions or 0:,} lines in {first.files or 0} files "
            f"({facts.commit_count} commit(s) in all): the code may have been written elsewhere or before",
        ))
    if facts.uploads and (
        facts.uploads / max(1, facts.sampled_commits) >= policy.upload_share or (first is not None and first.is_upload)
    ):
        flags.append(Finding(
            "web_uploads",
            f"{facts.uploads} of the {facts.sampled_commits} latest commits are files uploaded through GitHub's web page "
            f"('{UPLOAD_MESSAGE}'): the history before the upload is not visible",
        ))
    if facts.fork_of:
        flags.append(Finding("fork", f"a fork of {facts.fork_of}: judge what the team added"))
    return tuple(warnings), tuple(flags)


@dataclass(frozen=True)
class AfterSnapshot:
    """What happened on the default branch after the deadline commit."""

    ahead_by: int  # commits after the snapshot
    rewritten: bool  # the snapshot commit is no longer in the branch's history (a force push)
    found: bool = True  # False: the repository is gone, or private now


class RepoUnavailable(Exception):
    """A checker could not ask its host now; `retry_at` says when to try again."""

    def __init__(self, reason: str, message: str, retry_at: datetime):
        super().__init__(message)
        self.reason = reason  # "down", "unreachable", "rate_limited", "bad_token", "forbidden"
        self.message = message
        self.retry_at = retry_at


class RepoChecker(Protocol):
    """Checks a submitted repository. Implementations: `bot.core.github.GitHubRepoChecker`."""

    async def check(self, ref: RepoRef, policy: RepoPolicy) -> RepoCheck:
        """Never raises for the host's troubles: an unreachable host gives status 'unverified'."""
        ...

    async def snapshot(self, ref: RepoRef, at: datetime | None = None) -> CommitFacts | None:
        """The latest commit on the default branch (at `at`, by commit date, when given); None if empty.
        Raises RepoUnavailable: the caller (the deadline job) tries again at `retry_at`."""
        ...

    async def after(self, ref: RepoRef, sha: str) -> AfterSnapshot:
        """How many commits the default branch has gained since `sha`. Raises RepoUnavailable."""
        ...

