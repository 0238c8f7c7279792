"""The command line says what it acts on (issue 9, section 5): the event and the database on
stderr, no silent fallback to the demo event, --version, help lines that are sentences, and the
environment variables listed in `hackbot --help`."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import ENVIRONMENT, LAZY_COMMANDS, main
from bot.core.store import redact
from bot.settings import Settings
from tests.web.conftest import EVENT_NAME, hackbot_env
from tests.web.test_cli import hackbot, hackbot_parallel, live_event


@pytest.fixture
def event_file(tmp_path, data_root) -> Path:
    return live_event(tmp_path / "event.toml", data_root)


def test_every_command_says_its_event_and_database_on_stderr(tmp_path, event_file):
    db = tmp_path / "said.sqlite3"
    common = ("--config", str(event_file), "--db", str(db))
    created = hackbot("team", "create", "Said", "--validated", "--json", *common, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert set(json.loads(created.stdout)) == {"team", "username", "password"}  # stdout: the JSON alone
    said = f"event '{EVENT_NAME}' ({event_file}); database {db}"
    assert said in " ".join(created.stderr.split())
    results = hackbot_parallel(
        ("team", "list", *common), ("team", "validate", "Said", *common), ("leaderboard", "--json", *common),
        ("match", "--dry-run", "--json", *common), cwd=tmp_path,
    )
    for result in results:
        assert result.returncode == 0, result.stderr
        assert said in " ".join(result.stderr.split()), (result.args, result.stderr)
    json.loads(results[2].stdout), json.loads(results[3].stdout)  # clean JSON on stdout


def test_the_environment_and_dotenv_name_the_event(tmp_path, event_file):
    env_db = tmp_path / "env.sqlite3"
    result = hackbot("team", "list", cwd=tmp_path, env=hackbot_env(HACKBOT_CONFIG=str(event_file), HACKBOT_DB=str(env_db)))
    assert result.returncode == 0 and f"database {env_db}" in result.stderr
    (tmp_path / ".env").write_text(f"HACKBOT_CONFIG={event_file}\n", encoding="utf-8")
    result = hackbot("team", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"({event_file}); database .hackbot/event.sqlite3" in " ".join(result.stderr.split())


@pytest.mark.parametrize("args", [("team", "create", "Lost"), ("team", "list"), ("leaderboard",), ("run",),
                                  ("lfg", "import", "people.csv"), ("match", "--dry-run"), ("sync",),
                                  ("datasets", "synth", "out")])
def test_no_command_but_demo_falls_back_to_the_demo_event(tmp_path, args):
    (tmp_path / "people.csv").write_text("discord_id,name,topics,experience,timezone,skills\n", encoding="utf-8")
    env = hackbot_env(DISCORD_TOKEN="not-a-token") if args == ("sync",) else hackbot_env()
    result = hackbot(*args, cwd=tmp_path, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "which event? pass --config FILE or set HACKBOT_CONFIG" in " ".join(result.stderr.split())
    assert not (tmp_path / ".hackbot").exists() and not (tmp_path / "out").exists()  # nothing written anywhere


def test_version(tmp_path):
    result = hackbot("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"hackbot {metadata.version('hackbot')}"


def test_help_lists_every_environment_variable():
    help_text = CliRunner().invoke(main, ["--help"], env={"COLUMNS": "100"}).output
    read_by_settings = {name.upper() for name in Settings.model_fields}
    listed = {name for name, _ in ENVIRONMENT}
    assert read_by_settings <= listed, read_by_settings - listed
    for name, text in ENVIRONMENT:
        assert name in help_text and text in " ".join(help_text.split()), name


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the lazy ones too (imported here)
        command = group.get_command(ctx, name)
        assert command is not None, f"hackbot {' '.join((*prefix, name))} is listed but cannot be loaded"
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def _is_sentence(text: str | None) -> bool:
    text = " ".join((text or "").split())
    return bool(text) and (text[0].isupper() or text[0] in "\"'`") and text.endswith(".") and not text.endswith("...")


def test_every_help_line_is_a_whole_sentence():
    problems = []
    for path, command in [((), main), *_commands(main)]:
        short = command.get_short_help_str(limit=45)
        if path and not _is_sentence(short):
            problems.append(f"hackbot {' '.join(path)}: listed as {short!r}")
        for param in command.params:
            if isinstance(param, click.Option) and not _is_sentence(param.help):
                problems.append(f"hackbot {' '.join(path)} {param.opts[0]}: {param.help!r}")
    assert problems == []


@pytest.mark.parametrize("path", [(), ("team",), ("team", "import"), ("run",), ("datasets", "synth"), ("config",)])
def test_help_pages_render_in_an_80_column_terminal(path):
    result = CliRunner().invoke(main, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1] if "Commands:" in result.output else ""
    assert "..." not in listed.split("Environment")[0], result.output  # no command's sentence cut short


@pytest.mark.parametrize(("db", "shown"), [
    ("postgresql://hackbot:s3cret@db.example.org:5432/event", "postgresql://hackbot:***@db.example.org:5432/event"),
    ("postgresql://hackbot@localhost/event", "postgresql://hackbot@localhost/event"),
    (".hackbot/event.sqlite3", ".hackbot/event.sqlite3"),
])
def test_a_database_url_is_shown_without_its_password(db, shown):
    assert redact(db) == shown


def test_the_table_of_lazy_commands_is_what_their_modules_register():
    """`hackbot --help` lists the bot/cli_*.py commands from LAZY_COMMANDS without importing them: the
    table must name every command those modules register, its module and its help line."""
    commands = dict(_commands(main))
    groups = {"main": main, "team": commands[("team",)], "judging": commands[("judging",)]}
    for group_name, group in groups.items():
        assert isinstance(group, click.Group)
        registered = {name: command for name, command in group.commands.items()
                      if command.callback is not None and command.callback.__module__ != "bot.cli"}
        table = LAZY_COMMANDS[group_name]
        assert sorted(registered) == sorted(table), group_name
        for name, command in registered.items():
            assert command.callback is not None
            assert table[name] == (command.callback.__module__, command.get_short_help_str(limit=1000)), name


HELP_BEFORE_AND_AFTER = """
import json, sys
from click.testing import CliRunner
from bot.cli import LAZY_COMMANDS, load_every_command, main
def helps():
    return [CliRunner().invoke(main, [*group, "--help"], env={"COLUMNS": "100"}).output
            for group in ((), ("team",), ("judging",))]
modules = {module for entries in LAZY_COMMANDS.values() for module, _ in entries.values()}
before = helps()
imported = sorted(module for module in modules if module in sys.modules)
load_every_command()
print(json.dumps({"imported": imported, "before": before, "after": helps()}))
"""


def test_help_lists_every_command_without_importing_the_command_modules():
    done = subprocess.run([sys.executable, "-c", HELP_BEFORE_AND_AFTER], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert seen["imported"] == []  # `hackbot --help` (and `hackbot leaderboard`) imported no bot/cli_*.py
    assert seen["before"] == seen["after"]  # the same pages as with every command module imported
    assert "winners" in seen["before"][0] and "disqualify" in seen["before"][1] and "void" in seen["before"][2]
