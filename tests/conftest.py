"""Suite-wide settings and fixtures. Hypothesis deadlines are off: these machines are shared and
noisy, and a property's speed is measured by the benchmarks, not by the tests. The page tests get
headless Chromium from the fixtures `browser` and `axe_js` below (tests/browser.py drives it)."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.browser import AXE_JS, CHROMIUM, Browser, Chromium, axe_available, chromium_available, connect

settings.register_profile("hackbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hackbot")


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
