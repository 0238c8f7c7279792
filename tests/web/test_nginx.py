"""deploy/nginx/hackbot.conf, as shipped, in front of 2 `hackbot run --role web` processes: a real
nginx on loopback (started with a generated nginx.conf in a temporary folder, so that no root
path is needed), and the Hackathon42 README's curl and requests calls, unchanged but for the
address, work through it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.web.conftest import CURL, free_port, hidden_y, valid_csv
from tests.web.processes import web_processes
from tests.web.test_cli import live_event
from tests.web.test_roles import make_teams

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "hackbot.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def site_config(upstreams: list[int], port: int) -> str:
    """The shipped file with this test's ports: its upstream servers and its listen address."""
    text = SITE.read_text(encoding="utf-8")
    ports = iter(upstreams)
    text, servers = re.subn(r"server 127\.0\.0\.1:\d+", lambda m: f"server 127.0.0.1:{next(ports)}", text)
    assert servers == len(upstreams), "deploy/nginx/hackbot.conf lists the 2 web processes the test starts"
    text = re.sub(r"^\s*listen \[::\]:80;\n", "", text, flags=re.MULTILINE)
    return text.replace("listen 80;", f"listen 127.0.0.1:{port};")


class Nginx:
    def __init__(self, folder: Path, upstreams: list[int]):
        assert NGINX is not None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        folder.mkdir()
        (folder / "hackbot.conf").write_text(site_config(upstreams, self.port), encoding="utf-8")
        temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                                 "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""  # the workers can reach the temporary folder
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    log_format upstream '$upstream_addr $status';\n"
            f"    access_log {folder}/access.log upstream;\n{temp}\n    include {folder}/hackbot.conf;\n}}\n",
            encoding="utf-8",
        )
        self.proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e",
                                      str(folder / "error.log")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, f"nginx exited: {self.proc.communicate()[0]!r} {self.errors()}"
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.ConnectionError:
                assert time.monotonic() < deadline, self.errors()
                time.sleep(0.1)

    def errors(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def upstreams_used(self) -> set[str]:
        return {line.split()[0] for line in (self.folder / "access.log").read_text().splitlines() if line.strip()}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)  # graceful
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def nginx_binary() -> str:
    if NGINX is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and no nginx (apt-get install nginx; `make test` installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx; `make test` installs it when it may)")
    return NGINX


def test_the_shipped_config_passes_nginx_t(nginx_binary, tmp_path):
    proxy = Nginx(tmp_path / "nginx", [free_port(), free_port()])
    try:
        done = subprocess.run([nginx_binary, "-t", "-p", str(proxy.folder), "-c", str(proxy.folder / "nginx.conf"),
                               "-e", str(proxy.folder / "error.log")], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    finally:
        proxy.stop()


def test_two_web_processes_behind_nginx_answer_the_readme_calls(nginx_binary, tmp_path, data_root, db):
    event = live_event(tmp_path / "event.toml", data_root)
    [(username, password)] = make_teams(event, db, "Proxied Team")
    with web_processes(event, db, 2, tmp_path, env={"HACKBOT_TRUSTED_PROXIES": "127.0.0.1"}) as processes:
        proxy = Nginx(tmp_path / "nginx", [p.port for p in processes])
        try:
            base = proxy.url
            # the README's cURL line, the address aside
            out = subprocess.run([CURL, "-s", "-F", f"username={username}", "-F", f"password={password}", "-F",
                                  "exercise_id=3", "-F", "datum_id=456", f"{base}/reveal/"],
                                 capture_output=True, text=True, timeout=30)
            y3 = hidden_y(data_root, "mock", 3)
            assert json.loads(out.stdout) == {"exercise_id": 3, "datum_id": 456, "label": int(y3[456]),
                                              "previously revealed": []}
            # the README's requests script
            res = requests.post(f"{base}/reveal/", data={
                'username': username,
                'password': password,
                'exercise_id': 0,
                'datum_id': 4,
            })
            res_json = json.loads(res.content)
            assert res_json == {"exercise_id": 0, "datum_id": 4, "label": int(hidden_y(data_root, "mock", 0)[4]),
                                "previously revealed": []}
            # more reveals, spread by nginx: the budget and the order hold across both processes
            for datum in (457, 458, 456):
                res = requests.post(f"{base}/reveal/", data={"username": username, "password": password,
                                                             "exercise_id": 3, "datum_id": datum}, timeout=10)
                assert res.status_code == 200, res.text
            assert res.json()["previously revealed"] == [457, 458]
            # a submission, as the README's CSV: one label per line, no header
            labels = tmp_path / "labels.csv"
            labels.write_bytes(valid_csv(y3))
            out = subprocess.run([CURL, "-s", "-F", f"username={username}", "-F", f"password={password}", "-F",
                                  "exercise_id=3", "-F", f"file=@{labels}", f"{base}/submit/"],
                                 capture_output=True, text=True, timeout=30)
            assert json.loads(out.stdout) == {"exercise_id": 3, "rows": len(y3), "accuracy": 1.0}
            assert requests.get(f"{base}/", timeout=10).status_code == 200
            board = requests.get(f"{base}/api/leaderboard", timeout=10).json()
            assert "Proxied Team" in json.dumps(board)
            # failed logins through the proxy: one limit for both processes, keyed on the client
            statuses = [requests.post(f"{base}/reveal/", data={"username": username, "password": f"typo{i}",
                                                               "exercise_id": 3, "datum_id": 1}, timeout=10).status_code
                        for i in range(6)]
            assert statuses == [401] * 5 + [429]
            assert proxy.upstreams_used() >= {f"127.0.0.1:{p.port}" for p in processes}  # both served
        finally:
            proxy.stop()
