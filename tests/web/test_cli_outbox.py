"""`hackbot outbox post|status|retry`, run as an organizer or a script runs them: a post written
by a process with no Discord connection, once per key; the failures listed with Discord's reason,
and tried again."""

from __future__ import annotations

import json
from pathlib import Path

from bot.config import load_event
from bot.core.outbox import DeliveryFailed, Outbox, OutboxDrainer, OutboxRow
from bot.core.services import Services
from tests.web.test_cli import hackbot

NUMHACK = Path(__file__).resolve().parents[2] / "config" / "numhack.toml"


async def test_post_status_and_retry(tmp_path, db):
    options = ("--config", str(NUMHACK), "--db", db)
    first = hackbot("outbox", "post", "--channel", "#news", "--key", "lunch", "Lunch is served", *options, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "queued for #news (key lunch)" in first.stdout
    again = hackbot("outbox", "post", "--channel", "news", "--key", "lunch", "Lunch is served", *options, cwd=tmp_path)
    assert "already queued with the key lunch: not posted twice" in again.stdout
    hackbot("outbox", "post", "--channel", "news", "Dinner at 8", *options, cwd=tmp_path)
    empty = hackbot("outbox", "post", "--channel", "news", "  ", *options, cwd=tmp_path)
    assert empty.returncode == 1 and "the message is empty" in empty.stderr

    waiting = json.loads(hackbot("outbox", "status", "--json", *options, cwd=tmp_path).stdout)
    assert waiting["counts"] == {"pending": 2, "sending": 0, "sent": 0, "failed": 0} and not waiting["drained"]

    services = await Services.open(load_event(NUMHACK), db)
    try:
        async def refuse_lunch(row: OutboxRow) -> dict:
            if row.key == "lunch":
                raise DeliveryFailed(False, "could not message: the bot lacks the Send Messages permission in #news")
            return {"message_id": 1}

        await OutboxDrainer(Outbox(services.store), refuse_lunch).drain()
    finally:
        await services.close()
    status = hackbot("outbox", "status", *options, cwd=tmp_path)
    assert status.returncode == 1  # something failed: scripts notice
    assert "pending 0 · being sent 0 · sent 1 · failed 1" in status.stdout
    assert "lunch" in status.stdout and "Send Messages" in status.stdout and "hackbot outbox retry" in status.stdout
    unknown = hackbot("outbox", "retry", "nope", *options, cwd=tmp_path)
    assert unknown.returncode == 1 and "no failed side effect has the key 'nope'" in unknown.stderr
    retried = hackbot("outbox", "retry", "lunch", *options, cwd=tmp_path)
    assert "1 side effect(s) will be tried again" in retried.stdout
    counts = json.loads(hackbot("outbox", "status", "--json", *options, cwd=tmp_path).stdout)["counts"]
    assert counts == {"pending": 1, "sending": 0, "sent": 1, "failed": 0}
