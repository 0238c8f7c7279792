"""Suite-wide settings and fixtures.

Hypothesis deadlines are off: these machines are shared and noisy, and a property's speed is
measured by the benchmarks, not by the tests.

Every test that opens Services runs twice, on SQLite and on PostgreSQL (ids [sqlite] and
[postgres]): it asks for `db` (one fresh database) or `databases` (`databases.new()` for more).
Where the PostgreSQL server comes from: tests/postgres_server.py. The page tests get headless
Chromium from the fixtures `browser` and `axe_js` below (tests/browser.py drives it).
"""

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.browser import AXE_JS, CHROMIUM, Browser, Chromium, axe_available, chromium_available, connect
from tests.databases import Admin, Databases, ensure_template
from tests.postgres_server import NoServer, find_server

# The processes the tests start (bots, web processes, CLI runs, racing clients) import Hackbot from
# cached bytecode, as an installed one does: where the environment sets PYTHONDONTWRITEBYTECODE
# (this sandbox and its CI do), each of them compiled every module from source, about a second each.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

settings.register_profile("hackbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hackbot")

DIALECTS = ["sqlite", "postgres"]
_postgres_origin: list[str] = []  # where this session's PostgreSQL came from, for the summary


def pytest_terminal_summary(terminalreporter):
    if _postgres_origin:
        terminalreporter.write_line(f"PostgreSQL tests ran on: {_postgres_origin[0]}")


@pytest.fixture(scope="session")
def postgres_admin():
    """The session's PostgreSQL server and its migrated template database; skipped (failed under
    CI=true) when there is no server."""
    try:
        server = find_server()
    except NoServer as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no PostgreSQL server for the tests: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL server: {exc}")
    _postgres_origin.append(server.origin)
    admin = Admin(server)
    try:
        admin.template = admin.run(ensure_template(server, admin.connection))
        yield admin
    finally:
        admin.close()
        server.stop()


@pytest.fixture(params=DIALECTS)
def databases(request, tmp_path):
    """Fresh databases of the test's dialect: `databases.new()` -> a SQLite path or a PostgreSQL URL."""
    if request.param == "postgres":
        made = Databases("postgres", tmp_path, request.getfixturevalue("postgres_admin"))
    else:
        made = Databases("sqlite", tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
def db(databases) -> str:
    """One fresh database (a SQLite path or a PostgreSQL URL) of the test's dialect."""
    return databases.new()


# --- headless Chromium for the page tests (tests/browser.py) -------------------------------------


def missing(reason: str) -> None:
    """Skip a test that needs a tool this machine lacks; under CI=true, fail it instead, since CI
    must run every test (`make test` installs both chromium and axe-core where it can)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: CI must run the page tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_process() -> Iterator[Chromium]:
    """One headless Chromium for the whole run, started by the first test that needs it."""
    if not chromium_available():
        missing(f"Debian's chromium is not installed at {CHROMIUM} (make chromium)")
    with Chromium() as proc:
        yield proc


@pytest.fixture
async def browser(chromium_process: Chromium) -> AsyncIterator[Browser]:
    """A DevTools connection to the suite's Chromium, in this test's event loop; the pages it
    opens (`await browser.new_page(...)`, each in a fresh browser context) close after the test.
    A Chromium that died in an earlier test is started again."""
    if not chromium_process.alive():
        chromium_process.stop()
        chromium_process.start()
    async with connect(chromium_process.ws_url) as b:
        yield b


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's script, for tests that call `page.axe()`: @pytest.mark.usefixtures("axe_js")."""
    if not axe_available():
        missing(f"axe-core is not installed at {AXE_JS} (make axe, which needs npm)")
    return AXE_JS
