"""The addresses teams hand in: a repository URL made canonical, a demo URL checked against hosts.

Repository URLs become `https://<host>/<owner>/<name>` (GitHub's shape): the scheme is forced
to https, the host lowercased and stripped of `www.`, and `.git`, trailing paths (`/tree/main`,
`/issues`...), the query and the fragment are dropped. `git@github.com:owner/name.git` and an
address without a scheme (`github.com/owner/name`) are read too, and so is one that Discord users
wrap in `<...>` to suppress its embed. Every refusal is an `UrlRefused` whose `reason` names the
rule and whose message says what to paste instead; a refused address is never echoed back with
its credentials.

Hosts have a style: `github` (owner and name are the first two path segments; GitHub's name
rules), `gitlab` (a namespace path of groups and subgroups, ended by `/-/` before a page such as
`/-/tree/main`), or `plain` (the first two segments, as Codeberg, Gitea or Bitbucket). An event
file lists hosts as `"github.com"`, `"gitlab.com"` (styles known), or `"gitlab:git.example.org"`
for a self-hosted GitLab.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from bot.core.errors import BadInput

MAX_URL_LENGTH = 2000  # characters, as typed; browsers and proxies cap URLs about here

HostStyle = Literal["github", "gitlab", "plain"]
KNOWN_STYLES: dict[str, HostStyle] = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "codeberg.org": "plain",
    "bitbucket.org": "plain",
}

DEFAULT_REPO_HOSTS: tuple[str, ...] = ("github.com",)
DEFAULT_DEMO_HOSTS: tuple[str, ...] = ("youtube.com", "youtu.be", "vimeo.com", "loom.com", "drive.google.com")

# GitHub's rules: an account name has 1-39 letters, digits or hyphens and does not start with a
# hyphen (new accounts also may not end with one nor hold "--", but older accounts do, and refusing
# a real repository is worse than accepting a name GitHub would answer 404 for); a repository
# name has 1-100 letters, digits, '.', '_' or '-' and is neither '.' nor '..'.
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
GITHUB_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# GitLab: each namespace segment and the project path: letters, digits, '_', '-', '.'; not
# starting with '-' or '.', not ending in '.git' or '.atom'.
GITLAB_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")

# The first path segment of github.com pages that are not an account.
GITHUB_RESERVED = frozenset({
    "about", "account", "apps", "blog", "codespaces", "collections", "contact", "customer-stories",
    "dashboard", "enterprise", "events", "explore", "features", "github-copilot", "issues", "join",
    "login", "logout", "marketplace", "new", "notifications", "organizations", "orgs", "pricing",
    "pulls", "readme", "search", "security", "sessions", "settings", "signup", "site", "sponsors",
    "stars", "team", "topics", "trending", "users",
})

SECRET_QUERY_KEYS = frozenset({
    "token", "access_token", "private_token", "auth", "password", "passwd", "pwd", "secret", "api_key", "apikey", "key",
})


class UrlRefused(BadInput):
    """An address that cannot be used; `reason` names the rule (not_a_url, too_long, credentials,
    host_not_allowed, gist, account_page, not_a_repository, bad_name, secret_in_query, no_video)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RepoHost:
    name: str  # lowercase host, e.g. "github.com"
    style: HostStyle


def repo_host(spec: str) -> RepoHost:
    """'github.com' -> RepoHost('github.com', 'github'); 'gitlab:git.example.org' -> a GitLab host."""
    text = spec.strip().lower()
    style_prefix, sep, rest = text.partition(":")
    if sep:
        if style_prefix not in ("github", "gitlab", "plain"):
            raise ValueError(f"{spec!r}: write a host ('gitlab.com') or style:host ('gitlab:git.example.org')")
        text = rest
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+", text):
        raise ValueError(f"{spec!r} is not a host name; write it like 'github.com'")
    if text.startswith("www."):
        raise ValueError(f"{spec!r}: write the host without 'www.' ({text[4:]})")
    if sep:
        return RepoHost(text, style_prefix)  # type: ignore[arg-type]
    return RepoHost(text, KNOWN_STYLES.get(text, "gitlab" if text.startswith("gitlab.") else "plain"))


@dataclass(frozen=True)
class RepoRef:
    """A repository's canonical address. `owner` is the namespace (GitLab: 'group/subgroup')."""

    host: str
    owner: str
    name: str

    @property
    def url(self) -> str:
        return f"https://{self.host}/{self.owner}/{self.name}"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> str:
        """What two submissions of one repository share: GitHub and GitLab names ignore case."""
        return self.url.lower()

    def __str__(self) -> str:
        return self.url


def _hosts(allowed: Iterable[str | RepoHost]) -> dict[str, RepoHost]:
    hosts = [h if isinstance(h, RepoHost) else repo_host(h) for h in allowed]
    return {h.name: h for h in hosts}


@dataclass(frozen=True)
class _Parsed:
    host: str  # lowercase, no trailing dot
    path: str
    query: str
    fragment: str


def _split(text: str, what: str) -> _Parsed:
    """The common reading of a pasted address; refuses what no host rule could accept."""
    example = "https://github.com/owner/repository" if what == "repository" else "https://youtu.be/<video>"
    if not isinstance(text, str):
        raise UrlRefused("not_a_url", f"the {what} address must be text")
    raw = text.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise UrlRefused(
            "too_long", f"the {what} address has {len(raw)} characters; at most {MAX_URL_LENGTH}: paste the short address"
        )
    if raw.startswith("<") and raw.endswith(">"):  # Discord users wrap links to suppress the embed
        raw = raw[1:-1].strip()
    if not raw:
        raise UrlRefused("not_a_url", f"the {what} address is empty; paste it, e.g. {example}")
    if any(c.isspace() or not c.isprintable() for c in raw):
        raise UrlRefused("not_a_url", f"that is not a {what} address (it contains spaces); paste one, e.g. {example}")
    scp = re.fullmatch(r"git@([A-Za-z0-9.-]+):(?!//)([^:]*)", raw)
    if scp:  # git@github.com:owner/name.git, as `git clone` takes it
        raw = f"https://{scp.group(1)}/{scp.group(2)}"
    elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw):
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", raw)
        if scheme and not re.match(r"^[^/:]*\.[^/:]*:\d", raw):  # not "github.com:443/..."
            name = scheme.group(1).lower()
            if name in ("http", "https"):
                raise UrlRefused("not_a_url", f"that is not a {what} address ('://' must follow {name}:); paste e.g. {example}")
            raise UrlRefused("not_a_url", f"a {name}: address is not a web address; paste an https:// one, e.g. {example}")
        raw = "https://" + raw  # "github.com/owner/name", as typed in a hurry
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise UrlRefused("not_a_url", f"that is not a {what} address; paste one, e.g. {example}") from None
    scheme_name = parts.scheme.lower()
    if scheme_name not in ("http", "https"):
        raise UrlRefused("not_a_url", f"a {scheme_name}:// address is not a web address; paste an https:// one, e.g. {example}")
    if "@" in parts.netloc:
        raise UrlRefused(
            "credentials",
            f"the {what} address contains a user name or password before '@'; remove it (and if it was a token, "
            "revoke it: it has been pasted in public)",
        )
    host = (parts.hostname or "").lower().rstrip(".")
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", host):
        raise UrlRefused("not_a_url", f"that is not a {what} address (no valid host name); paste one, e.g. {example}")
    if port is not None and port not in (80, 443):  # the default ports, whatever the scheme typed
        raise UrlRefused("host_not_allowed", f"{host}:{port} is not an allowed host; paste the usual address, without a port")
    return _Parsed(host, parts.path, parts.query, parts.fragment)


def normalize_repo_url(text: str, allowed_hosts: Sequence[str | RepoHost] = DEFAULT_REPO_HOSTS) -> RepoRef:
    """A pasted repository address -> its canonical RepoRef, or UrlRefused with what to do."""
    hosts = _hosts(allowed_hosts)
    parsed = _split(text, "repository")
    host = parsed.host.removeprefix("www.")
    segments = [s for s in parsed.path.split("/") if s]
    if host in ("gist.github.com", "gist.githubusercontent.com"):
        raise UrlRefused("gist", "that is a gist; put the code in a repository (https://github.com/new) and paste its address")
    if host.endswith(".github.io"):
        account = host.removesuffix(".github.io")
        raise UrlRefused(
            "not_a_repository",
            f"that is a GitHub Pages site; paste the repository's address instead, e.g. https://github.com/{account}/<repository>",
        )
    spec = hosts.get(host)
    if spec is None:
        allowed = ", ".join(sorted(hosts)) or "none"
        raise UrlRefused("host_not_allowed", f"repositories on {host} are not accepted here; allowed: {allowed}")
    if spec.style == "gitlab":
        return _gitlab_ref(host, segments)
    if not segments:
        raise UrlRefused("not_a_repository", f"that is {host}'s home page; paste your repository's address, e.g. https://{host}/owner/repository")
    first = segments[0]
    if spec.style == "github" and first.lower() in GITHUB_RESERVED:
        if first.lower() in ("orgs", "organizations") and len(segments) > 1:
            raise UrlRefused(
                "account_page",
                f"that is the page of the organisation {segments[1]}, not a repository; "
                f"paste the repository's address, e.g. https://{host}/{segments[1]}/<repository>",
            )
        raise UrlRefused("not_a_repository", f"{host}/{first} is a {host} page, not a repository; paste https://{host}/owner/repository")
    if len(segments) == 1:
        raise UrlRefused(
            "account_page",
            f"that is the page of the account {first}, not a repository; "
            f"add the repository's name: https://{host}/{first}/<repository>",
        )
    owner, name = first, _strip_git(segments[1])
    if not GITHUB_OWNER.fullmatch(owner):
        raise UrlRefused("bad_name", f"{owner!r} is not a valid account name (letters, digits and single hyphens, at most 39)")
    if not GITHUB_NAME.fullmatch(name) or name in (".", ".."):
        raise UrlRefused("bad_name", f"{name!r} is not a valid repository name (letters, digits, '.', '_' and '-', at most 100)")
    return RepoRef(host, owner, name)


def _strip_git(name: str) -> str:
    while name.lower().endswith(".git"):  # all of them, so that the result normalises to itself
        name = name[:-4]
    return name


def _gitlab_ref(host: str, segments: list[str]) -> RepoRef:
    if "-" in segments:  # /group/sub/project/-/tree/main: the project path ends before '/-/'
        segments = segments[: segments.index("-")]
    if segments and segments[0].lower() in ("groups", "users", "explore", "dashboard", "help", "admin", "snippets"):
        raise UrlRefused("not_a_repository", f"{host}/{segments[0]} is a {host} page, not a project; paste https://{host}/group/project")
    if not segments:
        raise UrlRefused("not_a_repository", f"that is {host}'s home page; paste your project's address, e.g. https://{host}/group/project")
    if len(segments) == 1:
        raise UrlRefused(
            "account_page",
            f"that is the page of the group or user {segments[0]}, not a project; "
            f"add the project's name: https://{host}/{segments[0]}/<project>",
        )
    segments[-1] = _strip_git(segments[-1])
    if len(segments) > 21:  # GitLab nests subgroups 20 deep at most
        raise UrlRefused("bad_name", "that path is deeper than GitLab allows; paste the project's address")
    for segment in segments:
        if not GITLAB_SEGMENT.fullmatch(segment) or segment.endswith((".git", ".atom")):
            raise UrlRefused("bad_name", f"{segment!r} is not a valid group or project name on {host}")
    return RepoRef(host, "/".join(segments[:-1]), segments[-1])


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    return any(host == a or host.endswith("." + a) for a in allowed)


def normalize_demo_url(text: str, allowed_hosts: Sequence[str] = DEFAULT_DEMO_HOSTS) -> str:
    """A pasted demo address -> https, lowercase host, nothing else changed; or UrlRefused.

    A host is allowed when it is one of `allowed_hosts` or a subdomain of one (www.youtube.com,
    m.youtube.com, player.vimeo.com). The query is kept (YouTube's video id lives in it) unless it
    carries a key that looks like a secret; the fragment is kept (a start time, `#t=30`).
    """
    allowed = [a.lower().removeprefix("www.") for a in allowed_hosts]
    parsed = _split(text, "demo")
    host = parsed.host
    if not _host_allowed(host, allowed):
        raise UrlRefused(
            "host_not_allowed",
            f"demos on {host} are not accepted here; upload the video to one of: {', '.join(allowed)}, and paste its link",
        )
    secret = sorted({k for k, _ in parse_qsl(parsed.query, keep_blank_values=True) if k.lower() in SECRET_QUERY_KEYS})
    if secret:
        raise UrlRefused(
            "secret_in_query", f"the demo address carries {', '.join(secret)}=...; share the video publicly, paste its share link"
        )
    if parsed.path.strip("/") == "" and not parsed.query:
        raise UrlRefused("no_video", f"that is {host}'s home page; paste the link of your video")
    return urlunsplit(("https", host, parsed.path, parsed.query, parsed.fragment))
