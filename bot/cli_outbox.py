"""`hackbot outbox ...`: the Discord side effects waiting, done and failed (bot/core/outbox.py).
Registered on `hackbot` by bot/cli.py. Any process may write to the outbox; the bot process that
holds the Discord gateway sends what is written."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot import discord_limits as limits
from bot.cli import console, event_options, fail, main, with_services
from bot.core.outbox import OutboxStatus
from bot.core.services import Services


def status_json(status: OutboxStatus) -> dict:
    return {
        "counts": status.counts,
        "drained": status.drained,
        "oldest_waiting_s": None if status.oldest_pending is None else round(time.time() - status.oldest_pending, 1),
        "time_to_drain_s": None if status.time_to_drain is None else round(status.time_to_drain, 3),
        "wait_p50_s": None if status.wait_p50 is None else round(status.wait_p50, 3),
        "wait_max_s": None if status.wait_max is None else round(status.wait_max, 3),
        "failed": [{"key": f.key, "kind": f.kind, "attempts": f.attempts, "error": f.error} for f in status.failed],
    }


@main.group("outbox")
def outbox_group() -> None:
    """Discord side effects waiting to be sent.

    Roles, channels and posts are written to the outbox with the change that causes them, and the
    bot process sends them within Discord's rate limits."""


@outbox_group.command("status", short_help="Show pending and failed side effects.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and failures as JSON.")
@click.option("--failed", "failed_limit", default=20, show_default=True, help="How many failed rows to list.")
@event_options
def outbox_status(as_json: bool, failed_limit: int, config_path: Path, db_path: str) -> None:
    """Show how many side effects are pending, sent and failed.

    Failed ones are listed with the reason Discord gave (a missing permission, a channel gone):
    fix it, then `hackbot outbox retry`. Exits 1 when some failed."""
    status = with_services(config_path, db_path, lambda s: s.outbox.status(failed_limit), readonly=True)
    if as_json:
        click.echo(json.dumps(status_json(status), indent=2))
    else:
        counts = status.counts
        console.print(f"pending {counts['pending']} · being sent {counts['sending']} · sent {counts['sent']}"
                      f" · failed {counts['failed']}", highlight=False)
        if status.oldest_pending is not None:
            console.print(f"the oldest waiting was written {time.time() - status.oldest_pending:.0f} s ago"
                          " (is a bot process running with DISCORD_TOKEN?)", highlight=False)
        if status.failed:
            table = Table("key", "kind", "attempts", "reason")
            for f in status.failed:
                table.add_row(escape(f.key), f.kind, str(f.attempts), escape(f.error))
            console.print(table)
            console.print("Fix what Discord refused, then `hackbot outbox retry` (all) or `hackbot outbox retry KEY`.")
    if status.counts["failed"]:
        sys.exit(1)


@outbox_group.command("retry")
@click.argument("key", required=False)
@event_options
def outbox_retry(key: str | None, config_path: Path, db_path: str) -> None:
    """Try failed side effects again.

    All of them, or the one of KEY (as `hackbot outbox status` lists it), from their first attempt."""
    changed = with_services(config_path, db_path, lambda s: s.outbox.retry_failed(key))
    if key is not None and not changed:
        fail(f"no failed side effect has the key {key!r}; `hackbot outbox status` lists them")
    console.print(f"{changed} side effect(s) will be tried again by the bot process.")


@outbox_group.command("post", short_help="Post a message through the outbox.")
@click.option("--channel", required=True, help="The channel's name, as the event file names channels (#news).")
@click.option("--key", help="An idempotency key: posting twice with the same key posts once.")
@click.argument("text")
@event_options
def outbox_post(channel: str, key: str | None, text: str, config_path: Path, db_path: str) -> None:
    """Post a message in a channel of the event's server.

    Written to the outbox: the bot process posts it (this command needs no Discord connection),
    and posts it once even when run twice with the same --key."""
    if not text.strip():
        fail("the message is empty; give the text to post")
    if len(text) > limits.CONTENT:
        fail(f"the message has {len(text)} characters; Discord takes at most {limits.CONTENT}")
    chosen = key or f"cli:{time.time_ns()}"

    async def action(services: Services) -> bool:
        return await services.outbox.enqueue("message", chosen, {"channel": channel, "content": text},
                                             lane=f"channel:{channel}")

    if with_services(config_path, db_path, action):
        console.print(f"queued for #{escape(channel.removeprefix('#'))} (key {escape(chosen)}): the bot process posts it.")
    else:
        console.print(f"already queued with the key {escape(chosen)}: not posted twice.")
