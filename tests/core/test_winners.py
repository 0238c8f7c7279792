"""The winners: every prize previewed from its source, decided prizes frozen (never changed),
private notices claimed once and emailed through a real local SMTP server, and the embargo:
nothing public names a winner before its prize is revealed, one prize at a time, in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.mail import MailError, SmtpSettings, send_mail
from bot.core.outbox import OutboxDrainer, OutboxRow, nonce
from bot.core.store import IntegrityError
from bot.core.winners import notice_key, notice_text
from bot.sandbox.client import free_port
from tests.core.judging_helpers import CLOSES, FINAL_CLOSES, open_judged, teams_with_projects


@pytest.fixture
async def judged(tmp_path, db, clock):
    services = await open_judged(tmp_path / "event", db, clock)
    yield services
    await services.close()


async def play_judging(services, clock) -> list[int]:
    """Four projects; Team 0 is best, then 1, 2, 3; the final panel prefers Team 1."""
    teams = await teams_with_projects(services, 4)
    for judge in ("900", "901"):
        await services.judging.register(judge, f"Judge {judge}", ["jury"])
    for judge in ("900", "901"):
        for item in (await services.judging.work(judge))[0].items:
            level = 5 - teams.index(item.team_id)
            await services.judging.score(judge, item.team_id, f"{level} {level}")
    clock.set(CLOSES + timedelta(hours=1))
    for judge in ("800", "801"):
        await services.judging.register(judge, f"Final {judge}", ["final"])
        work = [w for w in await services.judging.work(judge) if w.round.id == "final"][0]
        order = sorted(work.items, key=lambda i: i.team != "Team 1")
        await services.judging.rank(judge, [i.number for i in order])
    return teams


async def test_preview_decides_each_prize_from_its_source_with_exclusions(judged, clock):
    await play_judging(judged, clock)
    preview = await judged.winners.preview()
    by_id = {p.id: p for p in preview.prizes}
    assert [p.id for p in preview.prizes] == ["build", "picked", "grand", "board"]
    assert by_id["grand"].winners == ["Team 1"] and by_id["grand"].places[0].reward == "$1000"
    # Team 0 is Build's best in the initial round; Team 1 (Train) won the grand prize anyway
    assert by_id["build"].winners == ["Team 0"] and by_id["build"].decided
    assert not by_id["picked"].decided and "hackbot winners pick picked" in by_id["picked"].problems[0]
    assert not by_id["board"].decided
    await judged.winners.pick("picked", ["Team 3"])
    assert {p.id: p for p in (await judged.winners.preview()).prizes}["picked"].winners == ["Team 3"]


async def test_freeze_then_reveal_one_prize_at_a_time_nothing_public_before(judged, clock):
    await play_judging(judged, clock)
    preview = await judged.winners.preview()
    assert await judged.winners.revealed() == []
    frozen = await judged.winners.freeze(preview.digest, by="org")
    assert [p.id for p in frozen] == ["build", "grand"]
    with pytest.raises(IntegrityError):
        await judged.store.execute("UPDATE frozen_prizes SET result = '{}'")
    assert await judged.winners.revealed() == []  # the embargo: frozen is not public
    shown, left = await judged.winners.reveal_next("org")
    assert shown.id == "build" and shown.winners == ["Team 0"] and left == 3
    assert [p.id for p in await judged.winners.revealed()] == ["build"]
    with pytest.raises(NotAllowed, match="Organizers' pick"):  # the next in order is not decided yet
        await judged.winners.reveal_next("org")
    await judged.winners.pick("picked", ["Team 2"])
    later = await judged.winners.preview()
    assert [p.id for p in later.to_freeze] == ["picked"]
    await judged.winners.freeze(later.digest, by="org")
    assert (await judged.winners.reveal_next("org"))[0].id == "picked"
    assert (await judged.winners.reveal_next("org"))[0].id == "grand"
    with pytest.raises(IntegrityError):  # a revealed prize never changes
        await judged.store.execute("UPDATE frozen_prizes SET revealed_at = 0 WHERE prize = 'build'")


async def test_a_stale_preview_freezes_nothing(judged, clock):
    teams = await play_judging(judged, clock)
    preview = await judged.winners.preview()
    clock.set(CLOSES - timedelta(hours=1))  # back in the initial round: the judges mark Team 0 down
    for judge in ("900", "901"):
        await judged.judging.score(judge, teams[0], "1 1")
    clock.set(FINAL_CLOSES + timedelta(hours=1))
    with pytest.raises(AlreadyDone, match="changed"):
        await judged.winners.freeze(preview.digest, by="org")
    assert await judged.store.fetchval("SELECT count(*) FROM frozen_prizes") == 0


async def test_notices_are_due_at_notify_time_and_claimed_once(judged, clock):
    teams = await play_judging(judged, clock)
    await judged.store.execute("INSERT INTO team_contacts(team_id, email) VALUES (?, 'zero@example.org')", (teams[0],))
    await judged.winners.freeze((await judged.winners.preview()).digest, by="org")
    # the direct messages are outbox rows written by the freeze: one per prize, team and member
    dms = await judged.store.fetchall("SELECT key, kind FROM outbox WHERE key LIKE 'winner:%' ORDER BY key")
    assert dms == [(notice_key("build", teams[0], "1000"), "dm"), (notice_key("grand", teams[1], "1001"), "dm")]
    assert ("Team 0", "build", "discord", "pending", "0 of 1 DM(s) sent") in await judged.winners.notices()
    assert await judged.winners.claim_notices("discord") == []
    email = await judged.winners.claim_notices("email")
    assert [(n.team, n.emails) for n in email] == [("Team 0", ("zero@example.org",))]
    text = notice_text("Test event", email[0])
    assert "Best Build" in text and "place 1" in text
    await judged.winners.notice_done(email[0], sent=True)
    assert ("Team 0", "build", "email", "sent", "") in await judged.winners.notices()


async def test_a_restart_after_a_partial_send_sends_each_notice_exactly_once(judged, clock):
    """The drainer dies after Discord took some notices (one of them before the row was marked sent);
    started again, it sends the rest, and Discord (which keeps a message's nonce) shows each once."""
    teams = await play_judging(judged, clock)
    await judged.roster.set_open("1000", True)
    await judged.roster.join("2000", "Team 0", None)  # Team 0 (Best Build) has two members

    async def spaces_made(row: OutboxRow) -> dict:
        return {}

    await OutboxDrainer(judged.outbox, spaces_made).drain()  # the teams' channels: out of the way
    await judged.winners.freeze((await judged.winners.preview()).digest, by="org")
    assert not await judged.outbox.enqueue("dm", notice_key("build", teams[0], "1000"), {"user_id": "1000"})  # queued once
    inboxes: dict[str, dict[str, str]] = {}  # Discord: a user's messages by nonce (a nonce seen is not sent again)
    calls: list[str] = []
    stuck = asyncio.Event()

    def discord(row: OutboxRow) -> None:
        calls.append(row.key)
        inboxes.setdefault(row.payload["user_id"], {}).setdefault(row.nonce, row.payload["content"])

    async def dies_after_the_first(row: OutboxRow) -> dict:
        discord(row)
        if len(calls) > 1:  # Discord has it; the process dies before the row is marked sent
            stuck.set()
            await asyncio.Event().wait()
        return {"dm": True}

    first = OutboxDrainer(judged.outbox, dies_after_the_first, owner="host:1")
    draining = asyncio.create_task(first.drain())
    await asyncio.wait_for(stuck.wait(), 10)
    for task in [draining, *first._tasks]:  # the process is gone: nothing of it runs on
        task.cancel()
    await asyncio.gather(draining, *first._tasks, return_exceptions=True)
    assert (await judged.outbox.status()).counts["sending"] >= 1

    async def sends(row: OutboxRow) -> dict:
        discord(row)
        return {"dm": True}

    again = OutboxDrainer(judged.outbox, sends, owner="host:1")  # the same host and name, started again
    await again.drain()
    expected = {("1000", "build"), ("2000", "build"), ("1001", "grand")}
    got = {(user, prize) for user, messages in inboxes.items() for text in messages.values()
           for prize, title in (("build", "Best Build"), ("grand", "Grand prize")) if title in text}
    assert got == expected and sum(len(m) for m in inboxes.values()) == 3  # each notice once
    assert all(nonce(key) in inboxes[key.rsplit(":", 1)[1]] for key in calls)
    notices = {(team, prize, channel): (status, detail)
               for team, prize, channel, status, detail in await judged.winners.notices()}
    assert notices[("Team 0", "build", "discord")] == ("sent", "2 of 2 DM(s) sent")
    assert notices[("Team 1", "grand", "discord")] == ("sent", "1 of 1 DM(s) sent")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


async def test_an_email_reaches_a_real_local_smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = SmtpSettings("127.0.0.1", port, sender="prizes@example.org", starttls=False)
        await send_mail(settings, ["a@example.org", "b@example.org"], "You won", "Congratulations, Team 0!")
        await asyncio.sleep(0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    to, content = inbox.messages[0]
    assert to == ["a@example.org", "b@example.org"] and "Congratulations, Team 0!" in content and "You won" in content
    with pytest.raises(MailError, match="refused or failed"):  # the server is gone: a clear error, no password
        await send_mail(settings, ["a@example.org"], "You won", "text")


async def test_a_vote_prize_waits_for_the_close_then_goes_to_the_most_voted_team(tmp_path, db):
    from bot.config import load_event
    from bot.core.services import Services
    from tests.core.helpers import Clock
    from tests.core.vote_helpers import CLOSES as VOTE_CLOSES
    from tests.core.vote_helpers import DURING, OLD_MEMBER, add_projects, old_account, write_vote_event

    clock = Clock()
    services = await Services.open(load_event(write_vote_event(tmp_path / "vote")), db, clock=clock)
    try:
        projects = await add_projects(services, 3)
        prize = (await services.winners.preview()).prizes[0]
        assert not prize.decided and prize.problems[0].startswith("vote not closed")
        clock.set(DURING)
        for k, choice in enumerate([[projects[1][0]], [projects[1][0], projects[2][0]], [projects[2][0]],
                                    [projects[1][0]]]):
            await services.votes.cast_discord("fav", old_account(k), OLD_MEMBER, choice)
        clock.set(VOTE_CLOSES + timedelta(minutes=1))
        prize = (await services.winners.preview()).prizes[0]
        assert prize.decided and prize.winners == ["Team 001"]  # 3 approvals against 2
    finally:
        await services.close()
