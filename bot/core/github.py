"""GitHub's REST API (version 2022-11-28) over aiohttp's client, and the repository checker on it.

`GitHubClient` sends the few GETs Hackbot needs, with an optional token (`GITHUB_TOKEN`: 5,000
requests an hour instead of 60, and private repositories the token can see), a timeout, and
GitHub's rate-limit rules as its documentation states them ("Rate limits for the REST API"):

- every response's `x-ratelimit-remaining` / `x-ratelimit-reset` are noted; at 0 remaining no
  request is sent before the reset time (epoch seconds);
- a 403 or 429 with `retry-after` waits that many seconds; with `x-ratelimit-remaining: 0`,
  until `x-ratelimit-reset`; a secondary limit without either, at least one minute.

While it waits, and when GitHub answers 5xx, times out or cannot be reached, a call raises
`RepoUnavailable` with the time to try again; it never sleeps, so a team's submission is never
held up: the check is recorded "unverified" and run again later. `base_url` points the client
at the local double (`bot.sandbox.github`, setting HACKBOT_GITHUB_API) in tests and rehearsals.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.core.clock import Clock, fmt_utc, system_clock
from bot.core.repo_checks import (
    AfterSnapshot,
    CommitFacts,
    RepoCheck,
    RepoFacts,
    RepoPolicy,
    RepoUnavailable,
    assess,
)
from bot.core.urls import RepoRef

DEFAULT_API = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100  # the most GitHub lists per page
DOWN_RETRY = timedelta(minutes=5)
SECONDARY_WAIT = timedelta(minutes=1)  # GitHub: "wait for at least one minute before retrying"
FORBIDDEN_RETRY = timedelta(hours=1)

_LAST_PAGE = re.compile(r'<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="last"')


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def last_page(link_header: str | None) -> int | None:
    """The page number of rel="last" in a Link header (GitHub's pagination), or None."""
    match = _LAST_PAGE.search(link_header or "")
    return int(match.group(1)) if match else None


def commit_facts(data: dict[str, Any]) -> CommitFacts:
    """A commit object of the REST API (list or single) -> CommitFacts."""
    commit = data["commit"]
    stats = data.get("stats")
    files = data.get("files")
    author, committer = data.get("author") or {}, data.get("committer") or {}
    return CommitFacts(
        sha=data["sha"],
        message=(commit.get("message") or "").split("\n", 1)[0],
        authored_at=parse_time((commit.get("author") or commit["committer"])["date"]),
        committed_at=parse_time((commit.get("committer") or commit["author"])["date"]),
        author_login=author.get("login"),
        committer_login=committer.get("login"),
        parents=len(data.get("parents") or ()),
        additions=stats["additions"] if stats else None,
        deletions=stats["deletions"] if stats else None,
        files=len(files) if files is not None else None,
    )


class GitHubClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_API,
        token: str | None = None,
        timeout: float = 10.0,
        clock: Clock = system_clock,
        session: aiohttp.ClientSession | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token or None
        self.timeout = timeout
        self.clock = clock
        self._session = session
        self._own_session = session is None
        self.remaining: int | None = None  # as of the last response
        self.reset_at: datetime | None = None
        self.blocked_until: datetime | None = None  # no request is sent before this time
        self.requests_sent = 0

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "hackbot",  # GitHub refuses requests without one
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _note_limits(self, headers: Any) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            self.remaining, self.reset_at = int(remaining), datetime.fromtimestamp(int(reset), UTC)
        except ValueError:
            return
        if self.remaining <= 0:
            self._block(self.reset_at)

    def _block(self, until: datetime) -> None:
        if self.blocked_until is None or until > self.blocked_until:
            self.blocked_until = until

    async def get(self, path: str, params: dict[str, str | int] | None = None) -> tuple[int, Any, Any]:
        """GET base_url + path -> (status, JSON body, headers) for 2xx, 404, 409 and 422.
        Raises RepoUnavailable for everything that says "not now"."""
        now = self.clock()
        if self.blocked_until is not None and now < self.blocked_until:
            raise RepoUnavailable(
                "rate_limited",
                f"GitHub's rate limit is spent until {fmt_utc(self.blocked_until)}; checked again then"
                + ("" if self.authenticated else " (a GITHUB_TOKEN raises the limit from 60 to 5,000 requests an hour)"),
                self.blocked_until,
            )
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self.requests_sent += 1
        try:
            async with self._session.get(
                self.base_url + path,
                params=params,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status, headers = response.status, response.headers
                text = await response.text()
        except TimeoutError:
            raise RepoUnavailable("unreachable", f"GitHub did not answer within {self.timeout:g} s", now + DOWN_RETRY) from None
        except aiohttp.ClientError as exc:
            reason = f"GitHub could not be reached ({type(exc).__name__})"
            raise RepoUnavailable("unreachable", reason, now + DOWN_RETRY) from None
        self._note_limits(headers)
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        message = body.get("message", "") if isinstance(body, dict) else ""
        if status >= 500 or (status < 300 and body is None):
            raise RepoUnavailable("down", f"GitHub answered {status}; checked again later", now + DOWN_RETRY)
        if status == 401:
            raise RepoUnavailable(
                "bad_token", "GitHub refused GITHUB_TOKEN (401 Bad credentials): fix or unset it", now + FORBIDDEN_RETRY
            )
        if status in (403, 429):
            retry_after = headers.get("retry-after")
            if retry_after is not None and retry_after.strip().isdigit():
                self._block(now + timedelta(seconds=int(retry_after)))
            elif headers.get("x-ratelimit-remaining") == "0" and self.reset_at is not None:
                self._block(self.reset_at)
            elif status == 429 or "rate limit" in message.lower():
                self._block(now + SECONDARY_WAIT)
            else:
                raise RepoUnavailable("forbidden", f"GitHub refused the request ({status}: {message})", now + FORBIDDEN_RETRY)
            assert self.blocked_until is not None
            raise RepoUnavailable(
                "rate_limited", f"GitHub is rate limiting Hackbot until {fmt_utc(self.blocked_until)}", self.blocked_until
            )
        if status >= 300 and status not in (404, 409, 422):
            raise RepoUnavailable("down", f"GitHub answered {status} ({message})", now + DOWN_RETRY)
        return status, body, headers

    # --- the endpoints ----------------------------------------------------------------------
    async def repository(self, owner: str, name: str) -> dict[str, Any] | None:
        """GET /repos/{owner}/{repo}; None when GitHub answers 404 (missing, or private to us)."""
        status, body, _ = await self.get(f"/repos/{owner}/{name}")
        return body if status == 200 else None

    async def readme(self, owner: str, name: str) -> dict[str, Any] | None:
        """GET /repos/{owner}/{repo}/readme; None when there is none."""
        status, body, _ = await self.get(f"/repos/{owner}/{name}/readme")
        return body if status == 200 else None

    async def commits(
        self,
        owner: str,
        name: str,
        *,
        sha: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        per_page: int = PER_PAGE,
        page: int = 1,
    ) -> tuple[list[dict[str, Any]], int | None] | None:
        """GET /repos/{owner}/{repo}/commits, newest first -> (commits, last page or None); None for
        an empty repository (409) or an unknown branch or repository (404, 422)."""
        params: dict[str, str | int] = {"per_page": per_page, "page": page}
        if sha:
            params["sha"] = sha
        if since:
            params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if until:
            params["until"] = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, body, headers = await self.get(f"/repos/{owner}/{name}/commits", params)
        if status != 200:
            return None
        return list(body), last_page(headers.get("link"))

    async def commit(self, owner: str, name: str, ref: str) -> dict[str, Any] | None:
        """GET /repos/{owner}/{repo}/commits/{ref}: one commit with its stats and files."""
        status, body, _ = await self.get(f"/repos/{owner}/{name}/commits/{ref}")
        return body if status == 200 else None

    async def compare(self, owner: str, name: str, base: str, head: str) -> dict[str, Any] | None:
        """GET /repos/{owner}/{repo}/compare/{base}...{head}."""
        status, body, _ = await self.get(f"/repos/{owner}/{name}/compare/{base}...{head}")
        return body if status == 200 else None


class GitHubRepoChecker:
    """RepoChecker over GitHub's REST API. Four or five requests a check."""

    host = "github.com"

    def __init__(self, client: GitHubClient, clock: Clock | None = None):
        self.client = client
        self.clock = clock or client.clock

    async def check(self, ref: RepoRef, policy: RepoPolicy) -> RepoCheck:
        now = self.clock()
        if ref.host != self.host:
            return RepoCheck(ref.url, "unsupported", now, reason=f"repositories on {ref.host} are not checked automatically")
        try:
            facts = await self._facts(ref)
        except RepoUnavailable as exc:
            return RepoCheck(
                ref.url, "unverified", now, retry_at=exc.retry_at,
                reason=f"{exc.message}; the project is saved and its repository will be checked again",
            )
        warnings, flags = assess(facts, policy)
        return RepoCheck(ref.url, "verified", now, warnings, flags, facts)

    async def _facts(self, ref: RepoRef) -> RepoFacts:
        c = self.client
        repo = await c.repository(ref.owner, ref.name)
        if repo is None:
            return RepoFacts(full_name=ref.full_name, html_url=ref.url, found=False)
        owner, name = repo["full_name"].split("/", 1)  # a renamed repository answers with its new name
        licence = repo.get("license") or None
        parent = repo.get("parent") or repo.get("source")
        readme = await c.readme(owner, name)
        branch = repo["default_branch"]
        listed = await c.commits(owner, name, sha=branch)
        count, first, head, uploads, sampled = 0, None, None, 0, 0
        if listed is not None and listed[0]:
            recent, last = listed
            sample = [commit_facts(item) for item in recent]
            head, sampled = sample[0], len(sample)
            uploads = sum(1 for commit in sample if commit.is_upload)
            oldest = recent[-1]
            count = len(recent)
            if last is not None and last > 1:
                tail = await c.commits(owner, name, sha=branch, page=last)
                if tail is not None and tail[0]:
                    oldest = tail[0][-1]
                    count = (last - 1) * PER_PAGE + len(tail[0])
            detail = await c.commit(owner, name, oldest["sha"])
            first = commit_facts(detail if detail is not None else oldest)
        return RepoFacts(
            full_name=repo["full_name"],
            html_url=repo.get("html_url") or ref.url,
            found=True,
            private=bool(repo.get("private")),
            fork_of=parent["full_name"] if repo.get("fork") and parent else None,
            created_at=parse_time(repo["created_at"]) if repo.get("created_at") else None,
            pushed_at=parse_time(repo["pushed_at"]) if repo.get("pushed_at") else None,
            default_branch=branch,
            licence=licence.get("spdx_id") if licence else None,
            readme_path=readme.get("path") if readme else None,
            readme_bytes=readme.get("size") if readme else None,
            commit_count=count,
            first_commit=first,
            head=head,
            sampled_commits=sampled,
            uploads=uploads,
        )

    async def snapshot(self, ref: RepoRef, at: datetime | None = None) -> CommitFacts | None:
        listed = await self.client.commits(ref.owner, ref.name, until=at, per_page=1)
        if listed is None or not listed[0]:
            return None
        return commit_facts(listed[0][0])

    async def after(self, ref: RepoRef, sha: str) -> AfterSnapshot:
        repo = await self.client.repository(ref.owner, ref.name)
        if repo is None:
            return AfterSnapshot(ahead_by=0, rewritten=False, found=False)
        comparison = await self.client.compare(ref.owner, ref.name, sha, repo["default_branch"])
        if comparison is None:  # the snapshot commit is gone from GitHub
            return AfterSnapshot(ahead_by=0, rewritten=True)
        return AfterSnapshot(
            ahead_by=int(comparison["ahead_by"]),
            rewritten=comparison["status"] in ("diverged", "behind"),
        )


def github_checker(api: str | None, token: str | None, clock: Clock = system_clock) -> GitHubRepoChecker:
    """The checker the bot uses: api.github.com (or a double, HACKBOT_GITHUB_API), an optional token."""
    return GitHubRepoChecker(GitHubClient(base_url=api or DEFAULT_API, token=token, clock=clock))
