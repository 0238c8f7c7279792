"""An organizer's bad day, from the command line: every start-up failure of `hackbot run` and
`hackbot demo` (and of the other commands) is one message and exit status 1, within seconds,
never a hang or a traceback; the read-only commands still read a read-only database.

Read-only and full file systems are real: a bind mount remounted read-only, and a small tmpfs
filled up, each in a private mount namespace (`unshare -m`) that disappears with the command.
Those tests need root (CI runs as root) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.web.conftest import free_port, hackbot_env
from tests.web.test_cli import COMMAND, hackbot, live_event

STARTUP_TIMEOUT = 60  # the failures below take about a second; a hang would take forever


def assert_fails(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    message = " ".join(result.stderr.split())
    for word in words:
        assert word.lower() in message.lower(), (word, result.stderr)
    return message


@pytest.fixture
def event_file(tmp_path, data_root) -> Path:
    return live_event(tmp_path / "event.toml", data_root)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return hackbot("run", *args, cwd=cwd, timeout=STARTUP_TIMEOUT)


# --- hackbot run / demo: each start-up failure is a message -----------------------------------

def test_run_on_a_busy_port(tmp_path, event_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--config", str(event_file), "--db", str(tmp_path / "db.sqlite3"), "--port", str(port), cwd=tmp_path)
        demo = hackbot("demo", "--db", str(tmp_path / "demo.sqlite3"), "--port", str(port), cwd=tmp_path,
                       timeout=STARTUP_TIMEOUT)
    assert_fails(result, f"port {port} on 127.0.0.1 is in use", "another --port")
    assert_fails(demo, f"port {port} on 127.0.0.1 is in use")


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--port", "99999", ["--port 99999 is not a TCP port", "1 to 65535"]),
    ("--port", "0", ["--port 0 is not a TCP port"]),
    ("--host", "bad host!", ["neither an IP address nor a host name", "127.0.0.1"]),
    ("--host", "999.1.1.1", ["neither an IP address nor a host name"]),
    ("--host", "192.0.2.1", ["192.0.2.1 is not an address of this machine"]),  # a documentation address: bind fails
])
def test_run_and_demo_refuse_what_cannot_be_listened_on(tmp_path, event_file, option, value, words):
    result = run("--config", str(event_file), "--db", str(tmp_path / "db.sqlite3"), option, value, cwd=tmp_path)
    assert_fails(result, *words)
    if option == "--port":  # demo shares the check (and exits before writing anything)
        assert_fails(hackbot("demo", option, value, cwd=tmp_path, timeout=STARTUP_TIMEOUT), *words)


def test_run_with_a_dataset_without_y_val(tmp_path, data_root):
    data = tmp_path / "data"
    shutil.copytree(data_root, data)
    event = live_event(tmp_path / "event.toml", data)
    next((data / "mock").glob("03_*")).joinpath("y_val.npy").unlink()
    result = run("--config", str(event), "--db", str(tmp_path / "db.sqlite3"), "--port", str(free_port()), cwd=tmp_path)
    assert_fails(result, "hidden labels cannot be loaded", "03_random_row")


def test_db_that_is_a_folder(tmp_path, event_file):
    folder = tmp_path / "db-folder"
    folder.mkdir()
    for args in (("run", "--port", str(free_port())), ("team", "create", "X"), ("team", "list"), ("leaderboard",)):
        result = hackbot(*args, "--config", str(event_file), "--db", str(folder), cwd=tmp_path, timeout=STARTUP_TIMEOUT)
        assert_fails(result, f"--db {folder} is a folder", "event.sqlite3")


def test_db_under_a_file(tmp_path, event_file):
    (tmp_path / "plain.txt").write_text("not a folder")
    result = hackbot("team", "create", "X", "--config", str(event_file), "--db", str(tmp_path / "plain.txt" / "db.sqlite3"),
                     cwd=tmp_path)
    assert_fails(result, "is a file, not a folder")


def test_damaged_database(tmp_path, event_file):
    db = tmp_path / "damaged.sqlite3"
    db.write_bytes(b"this is not SQLite at all\n" * 200)
    for args in (("run", "--port", str(free_port())), ("team", "create", "X"), ("team", "list"), ("leaderboard",)):
        result = hackbot(*args, "--config", str(event_file), "--db", str(db), cwd=tmp_path, timeout=STARTUP_TIMEOUT)
        assert_fails(result, "not a Hackbot database, or it is damaged", "backup")
    assert db.read_bytes().startswith(b"this is not SQLite")  # left as it was


# --- real read-only and full file systems (root only: private mount namespaces) --------------

def _can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("nsenter") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m to mount file systems")


def in_namespace(setup: str, *args: str, cwd: Path, env: dict | None = None, timeout: float = STARTUP_TIMEOUT,
                 popen: bool = False):
    """`hackbot ARGS` after the shell commands `setup`, in a private mount namespace."""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in (*COMMAND, *args))
    command = ["unshare", "-m", "sh", "-c", f"set -e; {setup}; exec {quoted}"]
    if popen:
        return subprocess.Popen(command, cwd=cwd, env=env or hackbot_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=cwd, env=env or hackbot_env(), capture_output=True, text=True, timeout=timeout)


def read_only(folder: Path) -> str:
    return f"mount --bind '{folder}' '{folder}'; mount -o remount,bind,ro '{folder}'"


def full_tmpfs(folder: Path, size: str = "4m") -> str:
    return (f"mount -t tmpfs -o size={size} tmpfs '{folder}'; "
            f"dd if=/dev/zero of='{folder}/filler' bs=64k 2>/dev/null || true")


@needs_mounts
def test_read_only_database(tmp_path, event_file):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "event.sqlite3"
    common = ("--config", str(event_file), "--db", str(db))
    created = hackbot("team", "create", "Read Only Team", "--validated", "--json", *common, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listing = in_namespace(read_only(folder), "team", "list", *common, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "Read Only Team" in listing.stdout and "reading it without writing" in listing.stderr
    board = in_namespace(read_only(folder), "leaderboard", "--json", *common, cwd=tmp_path)
    assert board.returncode == 0, board.stderr
    assert [t["team"] for t in json.loads(board.stdout)["teams"]] == ["Read Only Team"]
    assert_fails(in_namespace(read_only(folder), "team", "create", "Another", *common, cwd=tmp_path), "read-only",
                 "nothing was changed")
    assert_fails(in_namespace(read_only(folder), "run", "--port", str(free_port()), *common, cwd=tmp_path),
                 "read-only", "nothing was changed")


@needs_mounts
def test_new_database_on_a_full_file_system(tmp_path, event_file):
    folder = tmp_path / "full"
    folder.mkdir()
    db = folder / "new.sqlite3"
    for args in (("run", "--port", str(free_port())), ("team", "create", "X")):
        result = in_namespace(full_tmpfs(folder), *args, "--config", str(event_file), "--db", str(db), cwd=tmp_path)
        assert_fails(result, "full", "free disk space")
    # the read-only commands cannot read a database that could not be created: the same message
    assert_fails(in_namespace(full_tmpfs(folder), "team", "list", "--config", str(event_file), "--db", str(db),
                              cwd=tmp_path), "full")


@needs_mounts
def test_run_on_a_disk_that_fills_up_answers_503_and_recovers(tmp_path, event_file, data_root):
    """`hackbot run` on a real tmpfs: teams submit, the disk fills, the API answers 503 and logs
    one error; space comes back and the same requests succeed; nothing recorded was lost."""
    folder = tmp_path / "disk"
    folder.mkdir()
    port = free_port()
    proc = in_namespace(f"mount -t tmpfs -o size=16m tmpfs '{folder}'", "run", "--config", str(event_file),
                        "--db", str(folder / "db.sqlite3"), "--port", str(port), cwd=tmp_path, popen=True)
    base = f"http://127.0.0.1:{port}"
    inside = Path(f"/proc/{proc.pid}/root") / str(folder).lstrip("/")  # the namespace's tmpfs, seen from here
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "hackbot run did not start"
                time.sleep(0.1)
        # SQLite resolves /proc/PID/root to "/": a team is created from inside the namespace
        created = subprocess.run(["nsenter", "-t", str(proc.pid), "-m", *COMMAND, "team", "create", "Disk Team",
                                  "--validated", "--json", "--config", str(event_file), "--db", str(folder / "db.sqlite3")],
                                 cwd=tmp_path, env=hackbot_env(), capture_output=True, text=True, timeout=60)
        creds = json.loads(created.stdout)
        login = {"username": creds["username"], "password": creds["password"]}
        assert requests.post(f"{base}/reveal/", data={**login, "exercise_id": 3, "datum_id": 1}, timeout=10).ok
        with (inside / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        y = __import__("numpy").load(next((data_root / "mock").glob("03_*")) / "y_val.npy")
        labels = ("".join(f"{v}\n" for v in y)).encode()
        answers = []
        for datum in range(2, 6):
            answers.append(requests.post(f"{base}/reveal/", data={**login, "exercise_id": 3, "datum_id": datum},
                                         timeout=10))
        for _ in range(3):
            answers.append(requests.post(f"{base}/submit/", data={**login, "exercise_id": 3},
                                         files={"file": ("labels.csv", labels)}, timeout=10))
        refused = [a for a in answers if a.status_code == 503]
        assert refused, [(a.status_code, a.text) for a in answers]
        assert all(a.status_code in (200, 503) for a in answers), [(a.status_code, a.text) for a in answers]
        assert all("nothing was recorded" in a.json()["error"] for a in refused)
        (inside / "filler").unlink()
        for datum in range(2, 6):
            assert requests.post(f"{base}/reveal/", data={**login, "exercise_id": 3, "datum_id": datum}, timeout=10).ok
        done = requests.post(f"{base}/submit/", data={**login, "exercise_id": 3}, files={"file": ("labels.csv", labels)},
                             timeout=10)
        assert done.status_code in (200, 409), done.text  # 409: one submission got in before the disk was full
        board = requests.get(f"{base}/api/leaderboard", timeout=10).json()
        assert board["teams"][0]["scores"]["3"] == {"submitted": True, "score": 1.0, "worst_group": 1.0}
    finally:
        proc.send_signal(2)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    fault_lines = [line for line in err.splitlines() if "bot.web.faults" in line]
    assert len(fault_lines) == 1 and "ERROR" in fault_lines[0] and "full" in fault_lines[0], err[-3000:]
    assert "Traceback" not in err


# --- the other commands' bad inputs ---------------------------------------------------------

def test_lfg_import_of_a_latin1_csv(tmp_path):
    numhack = Path(__file__).resolve().parents[2] / "config" / "numhack.toml"
    people = tmp_path / "people.csv"
    people.write_bytes("discord_id,name,topics,experience,timezone,skills\n101,Zoë,Build,some,UTC,\n".encode("latin-1"))
    result = hackbot("lfg", "import", str(people), "--config", str(numhack), "--db", str(tmp_path / "n.sqlite3"),
                     cwd=tmp_path)
    assert_fails(result, f"{people}:2: not UTF-8", "CSV UTF-8")


@pytest.mark.parametrize("where", ["under-a-file", "in-proc"])
def test_datasets_synth_into_a_folder_that_cannot_exist(tmp_path, event_file, where):
    if where == "under-a-file":
        (tmp_path / "file.txt").write_text("x")
        out = tmp_path / "file.txt" / "data"
    else:
        out = Path("/proc/hackbot-cannot-exist/data")
    result = hackbot("datasets", "synth", str(out), "--config", str(event_file), "--rows", "8", cwd=tmp_path)
    assert_fails(result, f"cannot write the datasets to {out}", "choose a folder")


def test_synthetic_hidden_labels_cannot_be_git_added(tmp_path, event_file):
    """An organizer's `git add -A` in the event's repository does not publish y_val.npy."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "event-repo"
    repo.mkdir()
    env = {**hackbot_env(), "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([git, "init", "-q"], cwd=repo, check=True, env=env)
    shutil.copy(event_file, repo / "event.toml")
    result = hackbot("datasets", "synth", "datasets", "--config", "event.toml", "--rows", "8", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert list((repo / "datasets").glob("*/y_val.npy"))
    subprocess.run([git, "add", "-A"], cwd=repo, check=True, env=env)
    staged = subprocess.run([git, "diff", "--cached", "--name-only"], cwd=repo, check=True, env=env,
                            capture_output=True, text=True).stdout.split()
    assert staged == ["event.toml"], staged


def test_the_repositorys_own_event_data_folders_are_ignored():
    """The presets' data folders (config/datasets*, config/demo-data) and any y_val file are
    git-ignored in this repository, even before `datasets synth` drops its own .gitignore."""
    git = shutil.which("git")
    root = Path(__file__).resolve().parents[2]
    if git is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("config/datasets/00_toy_dataset/y_val.npy", "config/datasets2/03_x/X_val.npy",
                 "config/demo-data/00_toy_dataset/y_val.npy", "somewhere/else/y_val.npy", "data/y_val.txt"):
        checked = subprocess.run([git, "check-ignore", "-q", path], cwd=root)
        assert checked.returncode == 0, f"{path} is not git-ignored"
