"""Repository and demo addresses: the canonical form, and every refusal with its reason."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.urls import (
    MAX_URL_LENGTH,
    RepoHost,
    RepoRef,
    UrlRefused,
    normalize_demo_url,
    normalize_repo_url,
    repo_host,
)

CANONICAL_GITHUB = re.compile(r"^https://github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")

owners = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,60}", fullmatch=True).filter(
    lambda n: not n.lower().endswith(".git")
)
trailing = st.sampled_from([
    "", "/", ".git", ".git/", "/tree/main", "/tree/main/src/model.py", "/issues/3", "/blob/main/README.md", "/pulls", "/actions",
    "/releases/tag/v1",
])
query = st.sampled_from(["", "?tab=readme-ov-file", "?utm_source=discord&x=1"])
fragment = st.sampled_from(["", "#readme", "#L10-L20"])
scheme = st.sampled_from(["https://", "http://", "HTTPS://", ""])
host = st.sampled_from(["github.com", "www.github.com", "GitHub.com", "WWW.GITHUB.COM", "github.com:443", "github.com."])


def refused(text: str, reason: str, **kwargs) -> UrlRefused:
    with pytest.raises(UrlRefused) as info:
        normalize_repo_url(text, **kwargs)
    assert info.value.reason == reason, info.value.message
    return info.value


def demo_refused(text: str, reason: str, **kwargs) -> UrlRefused:
    with pytest.raises(UrlRefused) as info:
        normalize_demo_url(text, **kwargs)
    assert info.value.reason == reason, info.value.message
    return info.value


# --- repository addresses: properties ------------------------------------------------------

@given(owner=owners, name=names, scheme=scheme, host=host, trailing=trailing, query=query, fragment=fragment,
       wrap=st.booleans())
def test_every_decoration_of_a_repository_address_gives_the_same_canonical_address(
    owner, name, scheme, host, trailing, query, fragment, wrap
):
    text = f"{scheme}{host}/{owner}/{name}{trailing}{query}{fragment}"
    if wrap:
        text = f"<{text}>"
    ref = normalize_repo_url(text)
    assert ref == RepoRef("github.com", owner, name)
    assert ref.url == f"https://github.com/{owner}/{name}"
    assert CANONICAL_GITHUB.match(ref.url)


@given(owner=owners, name=names, suffix=st.sampled_from(["", ".git"]))
def test_the_ssh_clone_address_gives_the_same_canonical_address(owner, name, suffix):
    assert normalize_repo_url(f"git@github.com:{owner}/{name}{suffix}").url == f"https://github.com/{owner}/{name}"


REPO_PREFIXES = ["https://github.com/", "github.com/", "git@github.com:"]


@given(st.text(max_size=120) | st.builds(lambda a, b: a + b, st.sampled_from(REPO_PREFIXES), st.text(max_size=80)))
def test_any_text_is_accepted_in_canonical_shape_or_refused_with_a_reason(text):
    try:
        ref = normalize_repo_url(text)
    except UrlRefused as exc:
        assert exc.reason and exc.message
        return
    assert CANONICAL_GITHUB.match(ref.url), ref.url
    assert "@" not in ref.url and "?" not in ref.url and "#" not in ref.url
    assert normalize_repo_url(ref.url) == ref  # idempotent


@given(owner=owners, name=names, user=st.from_regex(r"(ghp_)?[A-Za-z0-9_]{12,36}", fullmatch=True),
       password=st.one_of(st.none(), st.from_regex(r"ghp_[A-Za-z0-9]{20,36}", fullmatch=True)))
def test_credentials_in_the_address_are_refused_and_never_repeated(owner, name, user, password):
    userinfo = user if password is None else f"{user}:{password}"
    error = refused(f"https://{userinfo}@github.com/{owner}/{name}", "credentials")
    assert userinfo not in error.message
    if password:
        assert password not in error.message


@given(owner=owners, name=names)
def test_the_key_ignores_case_as_github_does(owner, name):
    assert normalize_repo_url(f"https://github.com/{owner}/{name}").key == normalize_repo_url(
        f"https://github.com/{owner.upper()}/{name.lower()}").key


# --- repository addresses: each refusal ------------------------------------------------------

def test_examples_of_the_canonical_form():
    assert normalize_repo_url("https://github.com/NumFOCUS/numhack.git").url == "https://github.com/NumFOCUS/numhack"
    assert normalize_repo_url("http://www.github.com/a/b/tree/main/x?y=1#z").url == "https://github.com/a/b"
    assert normalize_repo_url("github.com/a/b").url == "https://github.com/a/b"
    assert normalize_repo_url("  https://github.com/a/b.git.git  ").url == "https://github.com/a/b"
    assert normalize_repo_url("https://github.com//a//b").url == "https://github.com/a/b"


def test_a_gist_is_refused_with_what_to_do_instead():
    error = refused("https://gist.github.com/octocat/6cad326836d38bd3a7ae", "gist")
    assert "repository" in error.message and "github.com/new" in error.message
    refused("https://gist.githubusercontent.com/octocat/6cad/raw/x.py", "gist")


@pytest.mark.parametrize("text", ["https://github.com/orgs/numfocus", "https://github.com/orgs/numfocus/repositories"])
def test_an_organisation_page_is_refused(text):
    error = refused(text, "account_page")
    assert "numfocus" in error.message and "https://github.com/numfocus/<repository>" in error.message


def test_a_user_page_is_refused_with_the_address_to_complete():
    error = refused("https://github.com/octocat", "account_page")
    assert "https://github.com/octocat/<repository>" in error.message
    refused("https://github.com/octocat/", "account_page")
    refused("https://github.com/octocat?tab=repositories", "account_page")


@pytest.mark.parametrize("text", ["https://github.com/settings/profile", "https://github.com/topics/ai", "https://github.com/marketplace/x",
                                  "https://github.com/search?q=x", "https://github.com"])
def test_github_pages_that_are_not_repositories_are_refused(text):
    refused(text, "not_a_repository")


def test_a_github_pages_site_points_to_the_repository():
    error = refused("https://octocat.github.io/hello", "not_a_repository")
    assert "https://github.com/octocat/<repository>" in error.message


@pytest.mark.parametrize("text", ["https://bitbucket.org/a/b", "https://gitlab.com/a/b", "https://evil.example/a/b",
                                  "https://raw.githubusercontent.com/a/b/main/x", "https://api.github.com/repos/a/b",
                                  "https://github.com.evil.example/a/b"])
def test_hosts_not_allowed_are_refused_naming_the_allowed_ones(text):
    error = refused(text, "host_not_allowed")
    assert "allowed: github.com" in error.message


def test_another_port_is_a_host_not_allowed():
    refused("https://github.com:8443/a/b", "host_not_allowed")


@pytest.mark.parametrize("text", ["", "   ", "my repo", "javascript:alert(1)", "ftp://github.com/a/b", "mailto:a@b.c",
                                  "https:/github.com/a/b", "https://", "https://[::1/a/b", "https://github.com:99999/a/b",
                                  "https://gith ub.com/a/b", "https://github.com/a/b\x00"])
def test_text_that_is_not_a_web_address_is_refused(text):
    refused(text, "not_a_url")


def test_an_over_long_address_is_refused_before_any_other_reading():
    error = refused("https://github.com/a/" + "b" * MAX_URL_LENGTH, "too_long")
    assert str(MAX_URL_LENGTH) in error.message


@pytest.mark.parametrize("text", ["https://github.com/-a/b", "https://github.com/a/..", "https://github.com/a/.",
                                  "https://github.com/" + "a" * 40 + "/b", "https://github.com/a/" + "b" * 101,
                                  "https://github.com/a_b/c", "https://github.com/a/b%20c", "https://github.com/a/.git"])
def test_names_github_would_not_allow_are_refused(text):
    refused(text, "bad_name")


# --- other hosts ---------------------------------------------------------------------------

def test_gitlab_style_hosts_keep_subgroups_and_stop_at_the_dash():
    hosts = ["github.com", "gitlab.com"]
    ref = normalize_repo_url("https://gitlab.com/group/sub/project/-/tree/main", hosts)
    assert ref == RepoRef("gitlab.com", "group/sub", "project")
    assert normalize_repo_url("https://gitlab.com/group/project.git", hosts).url == "https://gitlab.com/group/project"
    assert normalize_repo_url("git@gitlab.com:group/sub/project.git", hosts).url == "https://gitlab.com/group/sub/project"
    assert normalize_repo_url("https://github.com/a/b", hosts).url == "https://github.com/a/b"
    with pytest.raises(UrlRefused) as info:
        normalize_repo_url("https://gitlab.com/group", hosts)
    assert info.value.reason == "account_page"
    with pytest.raises(UrlRefused) as info:
        normalize_repo_url("https://gitlab.com/groups/numfocus", hosts)
    assert info.value.reason == "not_a_repository"


def test_a_self_hosted_gitlab_is_named_with_its_style():
    host = repo_host("gitlab:git.example.org")
    assert host == RepoHost("git.example.org", "gitlab")
    assert normalize_repo_url("https://git.example.org/lab/ml/proj/-/blob/main/x", [host]).url == "https://git.example.org/lab/ml/proj"
    assert repo_host("codeberg.org") == RepoHost("codeberg.org", "plain")
    assert normalize_repo_url("https://codeberg.org/a/b/src/branch/main", ["codeberg.org"]).url == "https://codeberg.org/a/b"


@pytest.mark.parametrize("spec", ["", "github", "www.github.com", "svn:x.org", "https://github.com"])
def test_bad_host_specs_are_refused(spec):
    with pytest.raises(ValueError):
        repo_host(spec)


gitlab_paths = st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,15}", fullmatch=True), min_size=2, max_size=5)


@given(path=gitlab_paths, trailing=st.sampled_from(["", "/", ".git", "/-/tree/main", "/-/issues/4"]), query=query)
def test_gitlab_addresses_normalise_to_themselves(path, trailing, query):
    ref = normalize_repo_url(f"https://gitlab.com/{'/'.join(path)}{trailing}{query}", ["gitlab.com"])
    assert ref.url == f"https://gitlab.com/{'/'.join(path)}"
    assert normalize_repo_url(ref.url, ["gitlab.com"]) == ref


# --- demo addresses ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("http://youtu.be/dQw4w9WgXcQ?si=x&t=30", "https://youtu.be/dQw4w9WgXcQ?si=x&t=30"),
    ("youtube.com/shorts/abc", "https://youtube.com/shorts/abc"),
    ("https://M.YouTube.com/watch?v=a#t=1m", "https://m.youtube.com/watch?v=a#t=1m"),
    ("https://vimeo.com/123456", "https://vimeo.com/123456"),
    ("https://player.vimeo.com/video/123456", "https://player.vimeo.com/video/123456"),
    ("https://www.loom.com/share/0123abcd", "https://www.loom.com/share/0123abcd"),
    ("https://drive.google.com/file/d/1AbC/view?usp=sharing", "https://drive.google.com/file/d/1AbC/view?usp=sharing"),
    ("<https://vimeo.com/1>", "https://vimeo.com/1"),
])
def test_demo_addresses_on_allowed_hosts(text, expected):
    assert normalize_demo_url(text) == expected


@pytest.mark.parametrize("text", ["https://evil.example/video", "https://notyoutube.com/watch?v=a", "https://youtube.com.evil.example/x",
                                  "https://docs.google.com/presentation/d/1", "https://www.dropbox.com/s/x/demo.mp4"])
def test_demo_hosts_not_allowed_are_refused_naming_the_allowed_ones(text):
    error = demo_refused(text, "host_not_allowed")
    assert "youtube.com" in error.message and "vimeo.com" in error.message


def test_demo_refusals():
    demo_refused("https://user:pw@vimeo.com/1", "credentials")
    demo_refused("https://www.youtube.com/", "no_video")
    demo_refused("https://drive.google.com/file/d/1/view?access_token=abc", "secret_in_query")
    demo_refused("my demo", "not_a_url")
    demo_refused("https://youtu.be/" + "a" * MAX_URL_LENGTH, "too_long")


def test_demo_hosts_are_configurable():
    assert normalize_demo_url("https://peertube.example/w/abc", ["peertube.example"]) == "https://peertube.example/w/abc"
    demo_refused("https://youtu.be/abc", "host_not_allowed", allowed_hosts=["peertube.example"])


DEMO_PREFIXES = ["https://youtu.be/", "https://www.youtube.com/watch?v=", "vimeo.com/", "https://a:b@loom.com/"]
DEMO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "loom.com", "drive.google.com")


@given(st.text(max_size=100) | st.builds(lambda a, b: a + b, st.sampled_from(DEMO_PREFIXES), st.text(max_size=60)))
def test_any_demo_text_is_accepted_on_an_allowed_host_or_refused(text):
    try:
        url = normalize_demo_url(text)
    except UrlRefused as exc:
        assert exc.reason and exc.message
        return
    host = url.split("/")[2]
    assert url.startswith("https://") and "@" not in host
    assert any(host == h or host.endswith("." + h) for h in DEMO_HOSTS)
    assert normalize_demo_url(url) == url  # idempotent
