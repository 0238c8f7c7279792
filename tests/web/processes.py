"""`hackbot run --role web` as real OS processes over one database: what several web processes
behind a proxy are. Plain helpers (no fixtures) for the tests of roles and of the proxy."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.web.conftest import free_port, hackbot_env

HACKBOT = Path(sys.executable).with_name("hackbot")
COMMAND = [str(HACKBOT)] if HACKBOT.exists() else [sys.executable, "-m", "bot.cli"]


class WebProcess:
    def __init__(self, event: Path, db: str, log: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [*COMMAND, "run", "--role", "web", "--config", str(event), "--port", str(self.port)],
            cwd=log.parent, env=hackbot_env(HACKBOT_DB=db, **(env or {})), stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"hackbot run --role web exited:\n{self.output()}"
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"no /healthz within {timeout} s:\n{self.output()}"
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.proc.returncode


@contextlib.contextmanager
def web_processes(event: Path, db: str, count: int, folder: Path,
                  env: dict[str, str] | None = None) -> Iterator[list[WebProcess]]:
    """`count` web processes on one database, started together, each answering /healthz."""
    started = [WebProcess(event, db, folder / f"web{i}.log", env) for i in range(count)]
    try:
        for process in started:
            process.wait_ready()
        yield started
    finally:
        codes = [process.stop() for process in started]
        assert codes == [0] * count, "\n".join(p.output() for p in started)
