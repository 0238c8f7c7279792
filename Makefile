# Two commands on a fresh machine: `make demo` runs the bundled demo event, `make test` runs
# every test. Both create .venv and install Hackbot into it first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test chromium axe postgres nginx libical bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Hackbot needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hackbot demo

# The page tests drive Debian's Chromium; install it when it is missing and we may.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the page tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	  else echo "chromium is missing: the page tests will be skipped (apt-get install chromium)"; fi; }

# The page tests check accessibility with axe-core from the npm registry, kept in .venv/npm and
# installed once per major version (the stamp); without npm, those tests are skipped (failed in CI).
AXE_CORE  := axe-core@4
AXE_STAMP := $(VENV)/npm/.installed-$(AXE_CORE)
axe:
	@test -f $(AXE_STAMP) || { \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "installing $(AXE_CORE) from npm into $(VENV)/npm for the accessibility tests"; \
	    npm install --prefix $(VENV)/npm $(AXE_CORE) --no-audit --no-fund --loglevel=error && touch $(AXE_STAMP); \
	  else echo "npm is missing: the accessibility tests will be skipped (apt-get install npm)"; fi; }

# Every test that opens the services runs on SQLite and on PostgreSQL. The PostgreSQL tests use
# HACKBOT_TEST_POSTGRES if set, else a server on 127.0.0.1:5432 if one answers, else a throwaway
# cluster started from the installed binaries (tests/postgres_server.py): install Debian's
# postgresql for that when it is missing and we may. Under CI=true they never skip.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's postgresql for the PostgreSQL tests"; \
	    (apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)); \
	  else echo "PostgreSQL is missing: without a server on 127.0.0.1:5432 the PostgreSQL tests are skipped (apt-get install postgresql)"; fi; }

# The reverse-proxy test runs deploy/nginx/hackbot.conf in a real nginx; install Debian's when
# it is missing and we may. Under CI=true that test never skips.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's nginx for the reverse-proxy test"; \
	    (apt-get install -y -qq nginx >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq nginx >/dev/null)); \
	  else echo "nginx is missing: the reverse-proxy test will be skipped (apt-get install nginx)"; fi; }

# The calendar test runs /schedule.ics through libical's parser and iTIP checks (ctypes over
# Debian's libical3); install it when it is missing and we may. Under CI=true that test never skips.
libical:
	@ldconfig -p 2>/dev/null | grep -q 'libical\.so\.3' || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's libical3 for the calendar test"; \
	    (apt-get install -y -qq libical3 >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq libical3 >/dev/null)); \
	  else echo "libical is missing: the calendar's libical test will be skipped (apt-get install libical3)"; fi; }

# lint and types first, at zero findings (pyproject.toml holds their settings), then the tests
test: $(STAMP) chromium axe postgres nginx libical
	$(BIN)/ruff check bot scoring tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_submission.py --quick
	$(BIN)/python benchmarks/bench_leaderboard.py
	$(BIN)/python benchmarks/bench_reveal_http.py --quick
	$(BIN)/python benchmarks/bench_reminders.py --quick
	$(BIN)/python benchmarks/bench_matchmaking.py
	$(BIN)/python benchmarks/bench_burst.py
	$(BIN)/python benchmarks/bench_rehearsal.py
	$(BIN)/python benchmarks/bench_jury.py --quick
	$(BIN)/python benchmarks/bench_rescore.py --quick
	$(BIN)/python benchmarks/bench_outbox.py --runs 1

clean:
	rm -rf $(VENV) .hackbot config/demo-data .mypy_cache .ruff_cache
