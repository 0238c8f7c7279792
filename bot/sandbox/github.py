"""A local GitHub: the REST endpoints Hackbot's repository checks call, answering as GitHub does.

Shapes follow GitHub's REST API description (version 2022-11-28: full-repository, content-file,
commit, commit-comparison, basic-error): a private repository is a 404 to a client without a
token, an empty one answers 409 "Git Repository is empty." on its commits, lists are paginated
with a Link header, and every answer carries the x-ratelimit-* headers of a bucket per token
(60 requests an hour without one, 5,000 with). A spent bucket answers 403 with
`x-ratelimit-remaining: 0` until its reset time; a test can also script the next answers
(a 503, a secondary rate limit with `retry-after`, a slow answer).

Tests set the state directly (`GitHubState.add_repo`, `FakeRepo.commit`, `.upload`, ...), and
read `state.requests` to see what the client sent. The clock is injected so that a test moves
the reset times with the client's clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

WEB_FLOW_ID = 19864447
FILES_PER_PAGE = 300  # GitHub lists at most 300 files of a commit per page
LICENSES = {  # spdx_id -> (key, name), as GitHub's /licenses names them
    "MIT": ("mit", "MIT License"),
    "Apache-2.0": ("apache-2.0", "Apache License 2.0"),
    "GPL-2.0": ("gpl-2.0", "GNU General Public License v2.0"),
    "GPL-3.0": ("gpl-3.0", "GNU General Public License v3.0"),
    "LGPL-3.0": ("lgpl-3.0", "GNU Lesser General Public License v3.0"),
    "AGPL-3.0": ("agpl-3.0", "GNU Affero General Public License v3.0"),
    "BSD-3-Clause": ("bsd-3-clause", 'BSD 3-Clause "New" or "Revised" License'),
    "CC-BY-SA-4.0": ("cc-by-sa-4.0", "Creative Commons Attribution Share Alike 4.0 International"),
    "Unlicense": ("unlicense", "The Unlicense"),
    "NOASSERTION": ("other", "Other"),
}
DOCS = "https://docs.github.com/rest"
_ids = itertools.count(100_000)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(*parts: object) -> str:
    return hashlib.sha1("\0".join(str(p) for p in parts).encode()).hexdigest()


@dataclass
class FakeCommit:
    sha: str
    message: str
    authored_at: datetime
    committed_at: datetime
    author_login: str | None = "octocat"
    committer_login: str | None = "octocat"  # "web-flow" for what is committed on github.com
    additions: int = 10
    deletions: int = 0
    files: list[str] = field(default_factory=lambda: ["main.py"])
    parents: list[str] = field(default_factory=list)


@dataclass
class FakeRepo:
    id: int
    owner: str
    name: str
    created_at: datetime
    private: bool = False
    default_branch: str = "main"
    license: str | None = "MIT"  # an SPDX id of LICENSES, or None
    readme: str | None = (
        "# Project\n\nWhat it does and for whom.\n\n## Install\n\n    pip install -r requirements.txt\n\n"
        "## Run\n\n    python main.py --data data/ --out results/\n"
    )
    fork_of: str | None = None
    commits: list[FakeCommit] = field(default_factory=list)  # the default branch, oldest first
    every_commit: dict[str, FakeCommit] = field(default_factory=dict)  # also those a force push dropped

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def commit(
        self,
        message: str,
        at: datetime,
        *,
        by: str | None = "octocat",
        committer: str | None = None,
        additions: int = 10,
        deletions: int = 0,
        files: list[str] | None = None,
        merge_of: str | None = None,
        authored_at: datetime | None = None,
    ) -> FakeCommit:
        """Add a commit on the default branch. `committer="web-flow"` makes a commit done on github.com."""
        parents = [self.commits[-1].sha] if self.commits else []
        if merge_of:
            parents.append(merge_of)
        commit = FakeCommit(
            sha=_sha(self.full_name, len(self.every_commit), message, at.isoformat()),
            message=message,
            authored_at=authored_at or at,
            committed_at=at,
            author_login=by,
            committer_login=committer if committer is not None else by,
            additions=additions,
            deletions=deletions,
            files=files if files is not None else ["main.py"],
            parents=parents,
        )
        self.commits.append(commit)
        self.every_commit[commit.sha] = commit
        return commit

    def upload(self, at: datetime, *, files: int = 20, additions: int = 3000, by: str = "octocat") -> FakeCommit:
        """Files uploaded through GitHub's web page: committed by web-flow with GitHub's default message."""
        names = [f"src/file{i}.py" for i in range(files)]
        return self.commit("Add files via upload", at, by=by, committer="web-flow", additions=additions, files=names)

    def force_push(self, keep: int) -> None:
        """Rewrite the branch's history: keep its first `keep` commits (the rest stays known by sha)."""
        del self.commits[keep:]

    @property
    def pushed_at(self) -> datetime:
        return max([self.created_at] + [c.committed_at for c in self.commits])


@dataclass
class Scripted:
    status: int
    retry_after: int | None = None
    message: str = ""
    delay: float = 0.0  # seconds before answering (a slow GitHub)


@dataclass
class _Bucket:
    used: int = 0
    reset: datetime | None = None


@dataclass
class GitHubState:
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    repos: dict[str, FakeRepo] = field(default_factory=dict)  # lowercase full name -> repository
    tokens: set[str] = field(default_factory=lambda: {"ghp_sandboxtoken"})
    limit_anonymous: int = 60
    limit_token: int = 5000
    window: timedelta = timedelta(hours=1)
    rate_limit_status: int = 403  # GitHub answers 403 or 429 when the primary limit is spent
    scripted: list[Scripted] = field(default_factory=list)  # the next answers, in order
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # (path, query, status) answered
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def add_repo(self, full_name: str, *, created_at: datetime | None = None, **options: Any) -> FakeRepo:
        owner, name = full_name.split("/")
        repo = FakeRepo(next(_ids), owner, name, created_at or self.clock(), **options)
        self.repos[full_name.lower()] = repo
        return repo

    def fail_next(self, status: int = 503, count: int = 1, *, delay: float = 0.0) -> None:
        self.scripted += [Scripted(status, message="Service Unavailable" if status == 503 else "", delay=delay)] * count

    def slow_next(self, delay: float, count: int = 1) -> None:
        self.scripted += [Scripted(200, delay=delay)] * count

    def secondary_limit(self, retry_after: int | None = 60, status: int = 403) -> None:
        self.scripted.append(Scripted(
            status, retry_after,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        ))

    def spend(self, token: str | None = None, *, leave: int = 0) -> None:
        """Use up a bucket (anonymous, or a token's), leaving `leave` requests."""
        bucket = self._bucket(token)
        bucket.used = self._limit(token) - leave

    def _limit(self, token: str | None) -> int:
        return self.limit_token if token else self.limit_anonymous

    def _bucket(self, token: str | None) -> _Bucket:
        bucket = self.buckets.setdefault(token or "", _Bucket())
        now = self.clock()
        if bucket.reset is None or now >= bucket.reset:
            bucket.used, bucket.reset = (bucket.used if bucket.reset is None else 0), now + self.window
        return bucket


def _user(login: str) -> dict[str, Any]:
    uid = WEB_FLOW_ID if login == "web-flow" else int(_sha(login)[:7], 16)
    return {
        "login": login, "id": uid, "node_id": f"U_{uid}", "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "", "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
        "type": "User", "site_admin": False,
    }


class GitHubDouble:
    """The double's HTTP face; `url` is its base, for GitHubClient(base_url=...) or HACKBOT_GITHUB_API."""

    def __init__(self, state: GitHubState | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.state = state or GitHubState()
        self.host, self.port = host, port
        self.runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/repos/{owner}/{repo}", self.get_repo)
        r.add_get("/repos/{owner}/{repo}/readme", self.get_readme)
        r.add_get("/repos/{owner}/{repo}/commits", self.list_commits)
        r.add_get("/repos/{owner}/{repo}/commits/{ref}", self.get_commit)
        r.add_get("/repos/{owner}/{repo}/compare/{basehead}", self.compare)
        return app

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # --- plumbing -----------------------------------------------------------------------------
    def _json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            body=json.dumps(data).encode(), status=status,
            headers={"Content-Type": "application/json; charset=utf-8", "X-GitHub-Media-Type": "github.v3; format=json",
                     **(headers or {})},
        )

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return self._json({"message": message, "documentation_url": DOCS, "status": str(status)}, status, headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response = await self._answer(request, handler)
        self.state.requests.append((request.path, request.query_string, response.status))
        return response

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        state = self.state
        if state.scripted:
            script = state.scripted.pop(0)
            if script.delay:
                await asyncio.sleep(script.delay)
            if script.status >= 300:
                headers = {"Retry-After": str(script.retry_after)} if script.retry_after is not None else {}
                if script.status in (403, 429):
                    headers.update(self._limit_headers(self._token(request), count=False))
                return self._error(script.status, script.message or "error", headers)
        auth = request.headers.get("Authorization", "")
        token = self._token(request)
        if auth and token not in state.tokens:
            return self._error(401, "Bad credentials")
        bucket = state._bucket(token)
        if bucket.used >= state._limit(token):
            return self._error(
                state.rate_limit_status,
                f"API rate limit exceeded for {request.remote}. (But here's the good news: Authenticated requests get a "
                "higher rate limit. Check out the documentation for more details.)",
                self._limit_headers(token, count=False),
            )
        limits = self._limit_headers(token, count=True)
        response = await handler(request)
        response.headers.update(limits)
        return response

    @staticmethod
    def _token(request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        for prefix in ("Bearer ", "token "):
            if auth.startswith(prefix):
                return auth[len(prefix):]
        return auth or None

    def _limit_headers(self, token: str | None, *, count: bool) -> dict[str, str]:
        bucket = self.state._bucket(token)
        if count:
            bucket.used += 1
        limit = self.state._limit(token)
        assert bucket.reset is not None
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - bucket.used)),
            "x-ratelimit-reset": str(int(bucket.reset.timestamp())),
            "x-ratelimit-used": str(min(limit, bucket.used)),
            "x-ratelimit-resource": "core",
        }

    def _repo(self, request: web.Request) -> FakeRepo | None:
        repo = self.state.repos.get(f"{request.match_info['owner']}/{request.match_info['repo']}".lower())
        if repo is None or (repo.private and self._token(request) not in self.state.tokens):
            return None  # GitHub answers 404, not 403, for a private repository it will not show
        return repo

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    # --- payloads -----------------------------------------------------------------------------
    def _repo_payload(self, repo: FakeRepo, base: str, *, nested: bool = False) -> dict[str, Any]:
        full = repo.full_name
        licence = None
        if repo.license is not None:
            key, name = LICENSES[repo.license]
            licence = {"key": key, "name": name, "spdx_id": repo.license,
                       "url": None if key == "other" else f"{base}/licenses/{key}", "node_id": f"L_{key}"}
        payload: dict[str, Any] = {
            "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name, "full_name": full, "private": repo.private,
            "owner": _user(repo.owner), "html_url": f"https://github.com/{full}", "description": None, "fork": bool(repo.fork_of),
            "url": f"{base}/repos/{full}", "commits_url": f"{base}/repos/{full}/commits{{/sha}}",
            "git_url": f"git://github.com/{full}.git", "ssh_url": f"git@github.com:{full}.git",
            "clone_url": f"https://github.com/{full}.git", "homepage": None, "size": sum(c.additions for c in repo.commits) // 30,
            "stargazers_count": 0, "watchers_count": 0, "language": "Python", "forks_count": 0, "open_issues_count": 0,
            "license": licence, "visibility": "private" if repo.private else "public", "default_branch": repo.default_branch,
            "archived": False, "disabled": False, "topics": [], "has_issues": True, "is_template": False,
            "created_at": _iso(repo.created_at), "updated_at": _iso(repo.pushed_at), "pushed_at": _iso(repo.pushed_at),
        }
        if repo.fork_of and not nested:
            parent = self.state.repos.get(repo.fork_of.lower())
            upstream = self._repo_payload(parent, base, nested=True) if parent else {"full_name": repo.fork_of}
            payload["parent"] = payload["source"] = upstream
        return payload

    def _commit_payload(self, repo: FakeRepo, commit: FakeCommit, base: str, *, detail: bool = False,
                        files_page: int = 1) -> dict[str, Any]:
        full = repo.full_name

        def person(login: str | None, when: datetime, *, committer: bool = False) -> dict[str, Any]:
            if committer and login == "web-flow":
                return {"name": "GitHub", "email": "noreply@github.com", "date": _iso(when)}
            name = login or "Someone"
            return {"name": name, "email": f"{name}@users.noreply.github.com", "date": _iso(when)}

        payload: dict[str, Any] = {
            "url": f"{base}/repos/{full}/commits/{commit.sha}", "sha": commit.sha, "node_id": f"C_{commit.sha[:16]}",
            "html_url": f"https://github.com/{full}/commit/{commit.sha}",
            "comments_url": f"{base}/repos/{full}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{base}/repos/{full}/git/commits/{commit.sha}",
                "author": person(commit.author_login, commit.authored_at),
                "committer": person(commit.committer_login, commit.committed_at, committer=True),
                "message": commit.message,
                "tree": {"sha": _sha("tree", commit.sha), "url": f"{base}/repos/{full}/git/trees/{_sha('tree', commit.sha)}"},
                "comment_count": 0,
                "verification": {"verified": commit.committer_login == "web-flow", "reason": "valid" if commit.committer_login
                                 == "web-flow" else "unsigned", "signature": None, "payload": None, "verified_at": None},
            },
            "author": _user(commit.author_login) if commit.author_login else None,
            "committer": _user(commit.committer_login) if commit.committer_login else None,
            "parents": [{"sha": p, "url": f"{base}/repos/{full}/commits/{p}", "html_url": f"https://github.com/{full}/commit/{p}"}
                        for p in commit.parents],
        }
        if detail:
            per_file = max(1, commit.additions // max(1, len(commit.files)))
            start = (files_page - 1) * FILES_PER_PAGE
            payload["stats"] = {"total": commit.additions + commit.deletions, "additions": commit.additions,
                                "deletions": commit.deletions}
            payload["files"] = [
                {"sha": _sha(commit.sha, name), "filename": name, "status": "added", "additions": per_file, "deletions": 0,
                 "changes": per_file, "blob_url": f"https://github.com/{full}/blob/{commit.sha}/{name}",
                 "raw_url": f"https://github.com/{full}/raw/{commit.sha}/{name}",
                 "contents_url": f"{base}/repos/{full}/contents/{name}?ref={commit.sha}"}
                for name in commit.files[start:start + FILES_PER_PAGE]
            ]
        return payload

    @staticmethod
    def _link(base: str, path: str, query: dict[str, str], page: int, last: int) -> str:
        def url(n: int) -> str:
            params = "&".join(f"{k}={v}" for k, v in {**query, "page": str(n)}.items())
            return f"<{base}{path}?{params}>"

        rels = []
        if page > 1:
            rels += [f'{url(page - 1)}; rel="prev"', f'{url(1)}; rel="first"']
        if page < last:
            rels += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
        return ", ".join(rels)

    # --- endpoints ----------------------------------------------------------------------------
    async def get_repo(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo is None:
            return self._error(404, "Not Found")
        return self._json(self._repo_payload(repo, self._base(request)))

    async def get_readme(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo is None or repo.readme is None or not repo.commits:
            return self._error(404, "Not Found")
        data = repo.readme.encode()
        encoded = base64.encodebytes(data).decode()  # GitHub wraps the base64 in lines, too
        full, base, blob = repo.full_name, self._base(request), _sha("blob", repo.readme)
        return self._json({
            "type": "file", "encoding": "base64", "size": len(data), "name": "README.md", "path": "README.md",
            "content": encoded, "sha": blob, "url": f"{base}/repos/{full}/contents/README.md?ref={repo.default_branch}",
            "git_url": f"{base}/repos/{full}/git/blobs/{blob}",
            "html_url": f"https://github.com/{full}/blob/{repo.default_branch}/README.md",
            "download_url": f"https://raw.githubusercontent.com/{full}/{repo.default_branch}/README.md",
            "_links": {"self": f"{base}/repos/{full}/contents/README.md", "git": f"{base}/repos/{full}/git/blobs/{blob}",
                       "html": f"https://github.com/{full}/blob/{repo.default_branch}/README.md"},
        })

    async def list_commits(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo is None:
            return self._error(404, "Not Found")
        if not repo.commits:
            return self._error(409, "Git Repository is empty.")
        q = request.query
        ref = q.get("sha") or repo.default_branch
        if ref == repo.default_branch:
            history = list(reversed(repo.commits))
        elif ref in repo.every_commit:
            history = self._ancestry(repo, ref)
        else:
            return self._error(404, "Not Found")
        try:
            per_page = max(1, min(100, int(q.get("per_page", "30"))))
            page = max(1, int(q.get("page", "1")))
            since = datetime.fromisoformat(q["since"].replace("Z", "+00:00")) if "since" in q else None
            until = datetime.fromisoformat(q["until"].replace("Z", "+00:00")) if "until" in q else None
        except ValueError:
            return self._error(422, "Invalid request.")
        history = [c for c in history if (since is None or c.committed_at >= since)
                   and (until is None or c.committed_at <= until)]
        last = max(1, -(-len(history) // per_page))
        items = history[(page - 1) * per_page: page * per_page]
        base = self._base(request)
        query = {k: v for k, v in q.items() if k != "page"}
        headers = {"Link": self._link(base, f"/repositories/{repo.id}/commits", query, page, last)} if last > 1 else {}
        return self._json([self._commit_payload(repo, c, base) for c in items], headers=headers)

    @staticmethod
    def _ancestry(repo: FakeRepo, sha: str) -> list[FakeCommit]:
        out: list[FakeCommit] = []
        commit: FakeCommit | None = repo.every_commit.get(sha)
        while commit is not None:
            out.append(commit)
            commit = repo.every_commit.get(commit.parents[0]) if commit.parents else None
        return out

    async def get_commit(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo is None:
            return self._error(404, "Not Found")
        ref = request.match_info["ref"]
        commit = repo.commits[-1] if ref == repo.default_branch and repo.commits else repo.every_commit.get(ref)
        if commit is None:
            return self._error(422, f"No commit found for SHA: {ref}")
        text = request.query.get("page", "1")
        page = max(1, int(text)) if text.isdigit() else 1
        last = max(1, -(-len(commit.files) // FILES_PER_PAGE))
        base = self._base(request)
        headers = {"Link": self._link(base, f"/repositories/{repo.id}/commits/{commit.sha}", {}, page, last)} if last > 1 else {}
        return self._json(self._commit_payload(repo, commit, base, detail=True, files_page=page), headers=headers)

    async def compare(self, request: web.Request) -> web.Response:
        repo = self._repo(request)
        if repo is None:
            return self._error(404, "Not Found")
        base_ref, sep, head_ref = request.match_info["basehead"].partition("...")
        head_sha = repo.commits[-1].sha if head_ref == repo.default_branch and repo.commits else head_ref
        if not sep or base_ref not in repo.every_commit or head_sha not in repo.every_commit:
            return self._error(404, "Not Found")
        base_line = self._ancestry(repo, base_ref)
        head_line = self._ancestry(repo, head_sha)
        base_shas, head_shas = {c.sha for c in base_line}, {c.sha for c in head_line}
        ahead = [c for c in head_line if c.sha not in base_shas]
        behind = [c for c in base_line if c.sha not in head_shas]
        merge_base = next((c for c in head_line if c.sha in base_shas), head_line[-1])
        status = "identical" if not ahead and not behind else "ahead" if not behind else "behind" if not ahead else "diverged"
        base = self._base(request)
        full = repo.full_name
        return self._json({
            "url": f"{base}/repos/{full}/compare/{base_ref}...{head_ref}",
            "html_url": f"https://github.com/{full}/compare/{base_ref}...{head_ref}",
            "permalink_url": f"https://github.com/{full}/compare/{full.split('/')[0]}:{base_ref}...{head_sha}",
            "diff_url": f"https://github.com/{full}/compare/{base_ref}...{head_ref}.diff",
            "patch_url": f"https://github.com/{full}/compare/{base_ref}...{head_ref}.patch",
            "base_commit": self._commit_payload(repo, repo.every_commit[base_ref], base),
            "merge_base_commit": self._commit_payload(repo, merge_base, base),
            "status": status, "ahead_by": len(ahead), "behind_by": len(behind), "total_commits": len(ahead),
            "commits": [self._commit_payload(repo, c, base) for c in reversed(ahead)], "files": [],
        })
