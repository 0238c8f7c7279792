"""Fixtures of the web tests: a two-phase event on disk, a clock the test moves, and a REAL
HTTP server on loopback (bot.web.server.start_web) over Services opened on a database (a SQLite
file, and a PostgreSQL database: every test runs on both).

Clients talk to it over real TCP: aiohttp.ClientSession, the `curl` binary, `requests`.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_event
from bot.core.services import Services
from bot.core.synth import synthesize_event
from bot.web.server import start_web
from tests.core.helpers import Clock

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)  # phase "mock" starts
REAL = T0 + timedelta(days=2)  # phase "real" starts
CLOSES = T0 + timedelta(days=4)  # submissions close
ROWS = 500
MAX_BYTES = 20_000
EVENT_NAME = "Web Test Event"
CURL = shutil.which("curl") or "/usr/bin/curl"

# id, name, points, default_score, reveal_budget, phases (None: every phase)
DATASETS = [
    (0, "toy_dataset", 1, 0.8, 5, None),
    (2, "digits_456", 1, 0.8, 5, None),  # labels 4, 5, 6 (MNIST digits, not 0/1)
    (3, "random_row", 2, 0.8, 5, None),
    (12, "hard_real_only", 1, 0.5, 3, ["real"]),
]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_toml(
    *,
    data_root: Path,
    visibility: str = "live",
    require_validation: bool = True,
    max_bytes: int = MAX_BYTES,
    closes: datetime = CLOSES,
    controls: dict[int, str] | None = None,
) -> str:
    datasets = ""
    for ds_id, name, points, default, budget, phases in DATASETS:
        datasets += (
            f'\n[[datasets]]\nid = {ds_id}\nname = "{name}"\npoints = {points}\n'
            f"default_score = {default}\nreveal_budget = {budget}\n"
        )
        if controls and ds_id in controls:  # a dataset's competition controls (issue 16)
            datasets += controls[ds_id] + "\n"
        if phases is not None:
            datasets += "phases = [" + ", ".join(f'"{p}"' for p in phases) + "]\n"
    return f"""
[event]
name = "{EVENT_NAME}"
timezone = "UTC"

[teams]
min_size = 1
max_size = 5
require_validation = {str(require_validation).lower()}

[[phases]]
id = "mock"
name = "Mock datasets"
starts = {_iso(T0)}
data_dir = "{data_root / 'mock'}"

[[phases]]
id = "real"
name = "Real datasets"
starts = {_iso(REAL)}
data_dir = "{data_root / 'real'}"

[submissions]
closes = {_iso(closes)}
max_bytes = {max_bytes}

[leaderboard]
visibility = "{visibility}"
{datasets}"""


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """Synthetic hidden labels for both phases, written once per session (read-only after)."""
    root = tmp_path_factory.mktemp("webdata")
    path = root / "event.toml"
    path.write_text(event_toml(data_root=root), encoding="utf-8")
    written = synthesize_event(load_event(path, check_data=False), rows=ROWS)
    assert len(written) == 7  # 3 datasets in "mock", 4 in "real"
    return root


def hidden_y(data_root: Path, phase: str, dataset_id: int) -> np.ndarray:
    folders = [p for p in (data_root / phase).iterdir() if p.name.startswith(f"{dataset_id:02d}_")]
    assert len(folders) == 1, folders
    return np.load(folders[0] / "y_val.npy")


@pytest.fixture
def write_event(tmp_path, data_root):
    """write_event(**options) -> path of an event file over the session's data."""
    counter = iter(range(1000))

    def write(**options) -> Path:
        folder = tmp_path / f"event{next(counter)}"
        folder.mkdir()
        path = folder / "event.toml"
        path.write_text(event_toml(data_root=data_root, **options), encoding="utf-8")
        return path

    return write


@dataclass
class Server:
    services: Services
    clock: Clock
    port: int
    data_root: Path
    runner: object

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def y(self, dataset_id: int, phase: str = "mock") -> np.ndarray:
        return hidden_y(self.data_root, phase, dataset_id)

    async def team(self, name: str, *, validated: bool = True):
        """A team and its API credentials: (username, password)."""
        creds = await self.services.teams.create(name, validated=validated)
        return creds.team.username, creds.password


@pytest.fixture
def clock() -> Clock:
    return Clock(now=T0 + timedelta(hours=1))


@pytest.fixture
async def start_server(tmp_path, write_event, data_root, clock, databases):
    """start_server(**event_options) -> Server: real aiohttp server on 127.0.0.1, ephemeral port,
    over a fresh database (SQLite and PostgreSQL: tests/conftest.py)."""
    started: list[Server] = []

    async def start(**options) -> Server:
        path = write_event(**options)
        services = await Services.open(load_event(path), databases.new(), clock=clock)
        runner = await start_web(services, "127.0.0.1", 0)
        port = runner.addresses[0][1]
        server = Server(services, clock, port, data_root, runner)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.runner.cleanup()
        await server.services.close()


@pytest.fixture
async def server(start_server) -> Server:
    return await start_server()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def valid_csv(y: np.ndarray, wrong: int = 0) -> bytes:
    """A label file for hidden labels y with exactly `wrong` wrong rows (the first ones)."""
    labels = np.unique(y)
    pred = y.copy()
    for i in range(wrong):
        pred[i] = labels[(np.searchsorted(labels, y[i]) + 1) % len(labels)]
    return ("\n".join(str(int(v)) for v in pred) + "\n").encode()


def hackbot_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HACKBOT_", "DISCORD_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"})
    env.update(extra)
    return env
