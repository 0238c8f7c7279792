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
from bot.core.store import IntegrityError
from bot.core.winners import notice_text
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
    discord = await judged.winners.claim_notices("discord")
    assert sorted(n.team for n in discord) == ["Team 0", "Team 1"]
    assert await judged.winners.claim_notices("discord") == []  # claimed once
    email = await judged.winners.claim_notices("email")
    assert [(n.team, n.emails) for n in email] == [("Team 0", ("zero@example.org",))]
    text = notice_text("Test event", email[0])
    assert "Best Build" in text and "place 1" in text
    await judged.winners.notice_done(email[0], sent=True)
    assert ("Team 0", "build", "email", "sent", "") in await judged.winners.notices()


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
