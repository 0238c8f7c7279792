"""Where the PostgreSQL tests get a server, in this order (issue 10):

1. HACKBOT_TEST_POSTGRES, a URL of a server on which the tests may create databases (its own
   database is only used to create and drop the tests' ones);
2. a server on 127.0.0.1:5432, if one answers (HACKBOT_TEST_POSTGRES_PROBE=host:port probes
   another address: set it to a closed port to try step 3 on a machine that has a server);
3. a throwaway cluster: initdb + pg_ctl from the installed PostgreSQL binaries (PATH, pg_config
   --bindir, /usr/lib/postgresql/*/bin), in a temporary folder, on a free port, fsync off,
   stopped and deleted at the end of the session. PostgreSQL refuses to run as root: as root
   the cluster runs as the `postgres` user (Debian's package creates it).

Without any of them the PostgreSQL tests are skipped with the reason, except under CI=true,
where they fail: CI must run them. Plain functions, no pytest: worker processes import this too.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_PROBE = "127.0.0.1:5432"


class NoServer(Exception):
    """No PostgreSQL server can be had; the message says why and what to install."""


@dataclass
class Server:
    admin_url: str  # a database on it from which others are created and dropped
    origin: str  # "HACKBOT_TEST_POSTGRES" | "127.0.0.1:5432" | "throwaway cluster ..."
    _cluster: Path | None = field(default=None, repr=False)
    _owner: str | None = field(default=None, repr=False)

    def url(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))

    def stop(self) -> None:
        if self._cluster is None:
            return
        _run(self._owner, [_binary("pg_ctl"), "-D", str(self._cluster / "data"), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self._cluster, ignore_errors=True)
        self._cluster = None


def _answers(url: str, timeout: float = 3.0) -> str | None:
    """None when a server at `url` accepts a connection, else why not."""
    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=timeout)
        await conn.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _port_open(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
        return True
    return False


def _bindirs() -> list[str]:
    dirs = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            dirs.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # the newest first
    return dirs


def _binary(name: str) -> str:
    for folder in _bindirs():
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise NoServer(f"no {name} found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin): "
                       "install PostgreSQL (Debian: apt-get install postgresql), or set HACKBOT_TEST_POSTGRES")
    return found


def _run(owner: str | None, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if owner is not None:
        command = ["runuser", "-u", owner, "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def throwaway_cluster() -> Server:
    """initdb + pg_ctl start in a temporary folder, as a non-root user."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise NoServer("running as root and there is no `postgres` user to run a throwaway cluster as "
                           "(PostgreSQL refuses root): create one, or set HACKBOT_TEST_POSTGRES") from None
        owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="hackbot-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if owner is not None:
        shutil.chown(folder, owner)
        shutil.chown(sockets, owner)
    port = _free_port()
    try:
        _run(owner, [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        _run(owner, [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "-t", "60", "start"])
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (folder / "server.log").read_text(errors="replace")[-2000:] if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        output = getattr(exc, "stderr", "") or ""
        raise NoServer(f"a throwaway PostgreSQL cluster did not start: {exc}\n{output}\n{log}") from None
    version = Path(initdb).parent.parent.name
    return Server(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                  f"throwaway cluster (PostgreSQL {version}, port {port}, {folder})", folder, owner)


def find_server() -> Server:
    """A server for the tests, following the order of the module doc; NoServer when none."""
    url = os.environ.get("HACKBOT_TEST_POSTGRES")
    if url:
        why = _answers(url)
        if why is not None:
            raise NoServer(f"HACKBOT_TEST_POSTGRES does not answer: {why}")
        return Server(url, "HACKBOT_TEST_POSTGRES")
    probe = os.environ.get("HACKBOT_TEST_POSTGRES_PROBE", DEFAULT_PROBE)
    if _port_open(probe):
        url = f"postgresql://postgres@{probe}/postgres"
        if _answers(url) is None:
            return Server(url, probe)
    return throwaway_cluster()
