"""Suite-wide settings and the databases of the tests.

Hypothesis deadlines are off: these machines are shared and noisy, and a property's speed is
measured by the benchmarks, not by the tests.

Every test that opens Services runs twice, on SQLite and on PostgreSQL (ids [sqlite] and
[postgres]): it asks for `db` (one fresh database) or `databases` (`databases.new()` for more).
Where the PostgreSQL server comes from: tests/postgres_server.py.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.databases import Admin, Databases, ensure_template
from tests.postgres_server import NoServer, find_server

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
        admin.template = admin.run(ensure_template(server))
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
