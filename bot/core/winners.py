"""The winners of every prize: computed, confirmed and frozen, told privately, then revealed.

`preview()` gathers each source's ranked results (the leaderboard, each judging round's results,
the vote that decides a prize, the organizers' picks for a manual prize) and hands them to
bot/core/prizes.py's `decide_winners`, the one place prizes are decided. `/winners announce`
shows the preview; its confirmation freezes every prize decided at that moment (`freeze`): the
result is a row of `frozen_prizes` the database never lets change. A prize still undecided (a
vote not closed yet, a tie the organizers have to break) stays out and is frozen by a later
announce.

The embargo: frozen winners are told privately at [winners] notify_at, and nothing public
names them until `reveal_next` marks their prize revealed, one prize at a time in the event
file's order. `revealed()` is all a public page or message may show.

The private notices: a direct message to each member of a winning team for each prize it won is
an outbox row (bot/core/outbox.py, kind `dm`: the team's channel when the member's DMs are closed),
written in the freeze's own transaction and due at notify_at. Its key names the prize, the team
and the member (`notice_key`), so whichever process freezes (the bot, a web or CLI process) queues
them, and two drainers, a double click or a crash and restart still send each one once. An email
to the team's addresses is a `winner_notices` row, claimed once by the process that sends it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import LEADERBOARD_SOURCE, MANUAL_SOURCE, VOTE_SOURCE, EventConfig, Prize
from bot.core.clock import Clock
from bot.core.errors import AlreadyDone, BadInput, NotAllowed, NotFound
from bot.core.judging import JudgingService
from bot.core.leaderboard import LeaderboardService
from bot.core.outbox import Outbox, enqueue
from bot.core.prizes import Entrant, PrizeResult, Standing, decide_winners, manual_key
from bot.core.projects import eligible_projects
from bot.core.store import IntegrityError, Store, Tx
from bot.core.votes import VoteService, vote_standings


@dataclass(frozen=True)
class PlaceView:
    place: int
    teams: tuple[str, ...]  # team names; more than one: a shared place
    team_ids: tuple[int, ...]
    reward: str | None


@dataclass(frozen=True)
class PrizeView:
    """One prize as the organizers (and, once revealed, everyone) see it."""

    id: str
    title: str
    source: str
    places: tuple[PlaceView, ...]
    decided: bool
    problems: tuple[str, ...] = ()  # why it is not decided, or what the organizers should look at
    close_call: tuple[str, ...] = ()  # team names whose rank intervals overlap at the cut-off
    passed_over: tuple[str, ...] = ()  # "Team X (won top3)"
    frozen: bool = False
    revealed: bool = False

    @property
    def winners(self) -> list[str]:
        return [team for place in self.places for team in place.teams]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "source": self.source,
                "places": [{"place": p.place, "teams": list(p.teams), "team_ids": list(p.team_ids), "reward": p.reward}
                           for p in self.places],
                "close_call": list(self.close_call), "passed_over": list(self.passed_over)}

    @classmethod
    def from_json(cls, data: dict[str, Any], *, revealed: bool) -> PrizeView:
        places = tuple(PlaceView(p["place"], tuple(p["teams"]), tuple(p["team_ids"]), p["reward"]) for p in data["places"])
        return cls(data["id"], data["title"], data["source"], places, True, (), tuple(data["close_call"]),
                   tuple(data["passed_over"]), frozen=True, revealed=revealed)


@dataclass(frozen=True)
class Preview:
    prizes: tuple[PrizeView, ...]  # every prize of the event file, in reveal order
    digest: str  # what the organizer confirms: the decided, not yet frozen prizes

    @property
    def to_freeze(self) -> list[PrizeView]:
        return [p for p in self.prizes if p.decided and not p.frozen]


@dataclass(frozen=True)
class Notice:
    """A private notice to a winning team, claimed for sending."""

    team_id: int
    team: str
    channel: str  # "discord" | "email"
    prizes: tuple[tuple[str, int, str | None], ...]  # (prize title, place, reward)
    members: tuple[str, ...]  # Discord user ids
    team_channel_id: int | None
    emails: tuple[str, ...]
    prize_ids: tuple[str, ...]


class WinnerService:
    def __init__(self, store: Store, config: EventConfig, clock: Clock, leaderboard: LeaderboardService,
                 judging: JudgingService, votes: VoteService, outbox: Outbox | None = None):
        self.store, self.config, self.clock = store, config, clock
        self.leaderboard, self.judging, self.votes = leaderboard, judging, votes
        self.outbox = outbox  # told after a freeze that queued notices (this process's drainer wakes)

    def _prize(self, prize_id: str) -> Prize:
        prize = next((p for p in self.config.prizes if p.id == prize_id), None)
        if prize is None:
            known = ", ".join(p.id for p in self.config.prizes) or "none"
            raise NotFound(f"there is no prize {prize_id!r}; the prizes are: {known}")
        return prize

    async def _sources(self) -> tuple[dict[str, list[Standing]], dict[str, str]]:
        """Each source's ranked results (keyed as decide_winners reads them), and why a source has none."""
        results: dict[str, list[Standing]] = {}
        missing: dict[str, str] = {}
        teams = dict(await self.store.fetchall("SELECT name, id FROM teams"))
        sources = {p.source for p in self.config.prizes}
        if LEADERBOARD_SOURCE in sources:
            standings = await self.leaderboard.standings(None, organizer=True)
            results[LEADERBOARD_SOURCE] = [Standing(str(teams[r.team]), r.rank, r.total) for r in standings.rows
                                           if r.rank is not None and r.team in teams and r.last_submitted is not None]
        for rnd in self.config.judging.rounds:
            if rnd.id in sources:
                round_results = await self.judging.results(rnd.id)
                if round_results.rows:
                    results[rnd.id] = round_results.standings()
                else:
                    missing[rnd.id] = f"no scores in judging round {rnd.id!r} yet"
        for prize in self.config.prizes:
            if prize.source == MANUAL_SOURCE:
                picks = await self.store.fetchall(
                    "SELECT team_id, place FROM manual_picks WHERE prize = ? ORDER BY place, team_id", (prize.id,))
                if picks:
                    results[manual_key(prize)] = [Standing(str(t), int(place)) for t, place in picks]
                else:
                    missing[manual_key(prize)] = (f"the organizers have not picked its winners; run "
                                                  f"`hackbot winners pick {prize.id} TEAM...`")
            elif prize.source == VOTE_SOURCE:
                vote = next((v for v in self.config.votes if v.prize == prize.id), None)
                if vote is None:
                    missing[VOTE_SOURCE] = f"no [[votes]] entry decides it (set prize = {prize.id!r} on the vote)"
                    continue
                if self.clock() >= vote.closes:
                    await self.votes.state(vote.id)  # the first use after the close time freezes the vote
                counted = await self.store.run(vote_standings, vote.id)
                if counted is None:
                    missing[VOTE_SOURCE] = (f"vote not closed: the vote {vote.id!r} closes at "
                                            f"{vote.closes:%Y-%m-%d %H:%M} UTC")
                    continue
                # the vote ranks projects; prizes go to teams (one project per team)
                team_of = {str(p): str(t) for p, t in await self.store.fetchall("SELECT id, team_id FROM projects")}
                results[VOTE_SOURCE] = [Standing(team_of[s.project], s.rank, s.score, s.low, s.high)
                                        for s in counted if s.project in team_of]
        return results, missing

    async def _entrants(self) -> tuple[dict[str, Entrant], dict[str, str]]:
        teams = await self.store.fetchall("SELECT id, name FROM teams")
        projects = {p.team_id: p for p in await self.store.run(eligible_projects)}
        measuring, _ = await self.judging.calibration()
        excluded, pending = await self.judging.code_review()
        entrants = {}
        for team_id, name in teams:
            project = projects.get(team_id)
            entrants[str(team_id)] = Entrant(str(team_id), name, project.category if project else None,
                                             frozenset(project.opt_ins) if project else frozenset(),
                                             calibration=team_id in measuring, disqualified=excluded.get(team_id),
                                             review_pending=pending.get(team_id))
        return entrants, {str(t): n for t, n in teams}

    async def preview(self) -> Preview:
        """Every prize, decided from the sources as they are now (frozen prizes as frozen)."""
        results, missing = await self._sources()
        entrants, names = await self._entrants()
        frozen = {p.id: p for p in await self.frozen()}
        decided = decide_winners(self.config.prizes, results, entrants)
        views = []
        for prize, result in zip(self.config.prizes, decided, strict=True):
            if prize.id in frozen:
                views.append(frozen[prize.id])
                continue
            key = manual_key(prize) if prize.source == MANUAL_SOURCE else prize.source
            views.append(self._view(result, names, missing.get(key)))
        return Preview(tuple(views), _digest([v for v in views if v.decided and not v.frozen]))

    @staticmethod
    def _view(result: PrizeResult, names: dict[str, str], missing: str | None) -> PrizeView:
        places = tuple(PlaceView(p.place, tuple(names.get(t, t) for t in p.projects), tuple(int(t) for t in p.projects),
                                 p.reward) for p in result.places)
        problems = (missing,) if missing and not result.places else result.problems
        return PrizeView(result.prize, result.title, result.source, places, result.decided and missing is None, problems,
                         tuple(names.get(t, t) for t in result.close_call),
                         tuple(f"{names.get(t, t)} ({why})" for t, why in result.passed_over))

    async def freeze(self, digest: str, by: str) -> list[PrizeView]:
        """Freeze the decided prizes the organizer saw (its digest): their winners never change;
        each winning team's private notices are queued, due at [winners] notify_at (now if passed):
        a direct message per prize and member in the outbox, an email row where the team gave one."""
        preview = await self.preview()
        if preview.digest != digest:
            raise AlreadyDone("the results changed since this preview (a score, a vote, a pick); nothing was frozen: "
                              "run /winners announce again to see them as they are now")
        chosen = preview.to_freeze
        if not chosen:
            raise NotAllowed("no decided prize is left to freeze; /winners announce lists what each prize waits for")
        now = self.clock()
        notify = self.config.winners.notify_at
        due = max(now, notify).timestamp() if notify else now.timestamp()
        positions = {p.id: n for n, p in enumerate(self.config.prizes)}
        contacts = await self._contacts()

        async def hop(tx: Tx) -> None:
            async with tx.transaction():
                for view in chosen:
                    try:
                        await tx.execute("INSERT INTO frozen_prizes(prize, position, result, frozen_at, frozen_by, notify_at)"
                                         " VALUES (?, ?, ?, ?, ?, ?)",
                                         (view.id, positions[view.id], json.dumps(view.to_json()), now.timestamp(), by, due))
                    except IntegrityError:
                        raise AlreadyDone(f"{view.title} was frozen meanwhile; run /winners announce again") from None
                    for place in view.places:
                        for team_id in place.team_ids:
                            await self._queue_notices(tx, view, place, team_id, due - now.timestamp())
                            if contacts.get(team_id):
                                await tx.execute("INSERT INTO winner_notices(team_id, prize, channel, due_at)"
                                                 " VALUES (?, ?, 'email', ?) ON CONFLICT DO NOTHING",
                                                 (team_id, view.id, due))

        await self.store.run(hop)
        if self.outbox is not None:
            self.outbox.wake()
        return chosen

    async def _queue_notices(self, tx: Tx, view: PrizeView, place: PlaceView, team_id: int, delay: float) -> None:
        """A direct message for each member of a winning team, in the outbox (in the freeze's transaction)."""
        name = await tx.fetchval("SELECT name FROM teams WHERE id = ?", (team_id,))
        text = prize_notice_text(self.config.event.name, name or str(team_id), [(view.title, place.place, place.reward)])
        members = await tx.fetchall("SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id", (team_id,))
        for (member,) in members:
            await enqueue(tx, NOTICE_KIND, notice_key(view.id, team_id, str(member)),
                          {"user_id": str(member), "team_id": team_id, "content": text},
                          lane=f"winners:{team_id}", delay=max(0.0, delay))

    async def _contacts(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for team_id, email in await self.store.fetchall("SELECT team_id, email FROM team_contacts ORDER BY team_id, email"):
            out.setdefault(team_id, []).append(email)
        return out

    async def frozen(self) -> list[PrizeView]:
        rows = await self.store.fetchall("SELECT result, revealed_at FROM frozen_prizes ORDER BY position")
        return [PrizeView.from_json(json.loads(r[0]), revealed=r[1] is not None) for r in rows]

    async def revealed(self) -> list[PrizeView]:
        """What may be shown in public: the prizes revealed so far, in reveal order."""
        return [p for p in await self.frozen() if p.revealed]

    async def reveal_next(self, by: str) -> tuple[PrizeView, int]:
        """Reveal the next prize of the event file's order; (the prize, prizes left to reveal)."""
        frozen = {p.id: p for p in await self.frozen()}
        upcoming = [p for p in self.config.prizes if not (p.id in frozen and frozen[p.id].revealed)]
        if not upcoming:
            raise AlreadyDone("every prize is revealed")
        prize = upcoming[0]
        if prize.id not in frozen:
            raise NotAllowed(f"the next prize, {prize.title}, is not frozen yet: run /winners announce once it is decided "
                             "(it shows what it waits for)")
        changed = await self.store.execute(
            "UPDATE frozen_prizes SET revealed_at = ?, revealed_by = ? WHERE prize = ? AND revealed_at IS NULL",
            (self.clock().timestamp(), by, prize.id))
        if not changed:
            raise AlreadyDone(f"{prize.title} was revealed a moment ago; run /winners reveal next again for the next one")
        view = frozen[prize.id]
        return PrizeView(view.id, view.title, view.source, view.places, True, (), view.close_call, view.passed_over,
                         frozen=True, revealed=True), len(upcoming) - 1

    async def team_roles(self, team_ids: list[int]) -> dict[int, int | None]:
        """The Discord roles of teams, to mention them when their prize is revealed."""
        if not team_ids:
            return {}
        marks = ", ".join("?" * len(team_ids))
        rows = await self.store.fetchall(f"SELECT id, discord_role_id FROM teams WHERE id IN ({marks})", tuple(team_ids))
        return {int(r[0]): r[1] for r in rows}

    async def pick(self, prize_id: str, teams: list[str]) -> None:
        """The organizers' winners of a manual prize, in order (replaces an earlier pick)."""
        prize = self._prize(prize_id)
        if prize.source != MANUAL_SOURCE:
            raise BadInput(f"{prize.title} is decided by {prize.source!r}, not picked; only manual prizes are picked")
        ids = []
        for name in teams:
            row = await self.store.fetchone("SELECT id FROM teams WHERE name_key = ?", (" ".join(name.split()).casefold(),))
            if row is None:
                raise NotFound(f"no team named {name!r}; `hackbot team list` shows the teams")
            ids.append(int(row[0]))

        async def hop(tx: Tx) -> None:
            async with tx.transaction():
                await tx.execute("DELETE FROM manual_picks WHERE prize = ?", (prize_id,))
                await tx.executemany("INSERT INTO manual_picks(prize, place, team_id) VALUES (?, ?, ?)",
                                     [(prize_id, n, t) for n, t in enumerate(ids, start=1)])

        await self.store.run(hop)

    # --- the private notices ----------------------------------------------------------------

    async def claim_notices(self, channel: str, now: datetime | None = None, limit: int = 50) -> list[Notice]:
        """The notices due now on a channel, claimed by this process (each sent once)."""
        at = (now or self.clock()).timestamp()

        async def hop(tx: Tx) -> list[tuple]:
            async with tx.transaction():
                rows = await tx.fetchall("SELECT team_id, prize FROM winner_notices WHERE channel = ? AND status = 'pending'"
                                         " AND due_at <= ? ORDER BY due_at, team_id, prize LIMIT ?", (channel, at, limit))
                claimed = []
                for team_id, prize in rows:
                    if await tx.execute("UPDATE winner_notices SET status = 'claimed', claimed_at = ? WHERE team_id = ?"
                                        " AND prize = ? AND channel = ? AND status = 'pending'", (at, team_id, prize, channel)):
                        claimed.append((team_id, prize))
                return claimed

        claimed = await self.store.run(hop)
        frozen = {p.id: p for p in await self.frozen()}
        contacts = await self._contacts()
        by_team: dict[int, list[str]] = {}
        for team_id, prize in claimed:
            by_team.setdefault(team_id, []).append(prize)
        notices = []
        for team_id, prize_ids in sorted(by_team.items()):
            row = await self.store.fetchone("SELECT name, discord_channel_id FROM teams WHERE id = ?", (team_id,))
            members = [r[0] for r in await self.store.fetchall("SELECT user_id FROM team_members WHERE team_id = ?"
                                                               " ORDER BY user_id", (team_id,))]
            won = []
            for prize_id in prize_ids:
                view = frozen[prize_id]
                for place in view.places:
                    if team_id in place.team_ids:
                        won.append((view.title, place.place, place.reward))
            notices.append(Notice(team_id, row[0] if row else str(team_id), channel, tuple(won), tuple(members),
                                  row[1] if row else None, tuple(contacts.get(team_id, ())), tuple(prize_ids)))
        return notices

    async def notice_done(self, notice: Notice, *, sent: bool, detail: str = "") -> None:
        status = "sent" if sent else "failed"
        for prize in notice.prize_ids:
            await self.store.execute("UPDATE winner_notices SET status = ?, sent_at = ?, detail = ? WHERE team_id = ?"
                                     " AND prize = ? AND channel = ?",
                                     (status, self.clock().timestamp(), detail[:500], notice.team_id, prize, notice.channel))

    async def notices(self) -> list[tuple[str, str, str, str, str]]:
        """(team, prize, channel, status, detail) of every notice, for the organizers: the emails as
        recorded, the direct messages as their outbox rows stand (one a member)."""
        rows = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in await self.store.fetchall(
            "SELECT t.name_key, t.name, n.prize, n.channel, n.status, n.detail FROM winner_notices n"
            " JOIN teams t ON t.id = n.team_id WHERE n.channel = 'email'")]
        teams = {int(r[0]): (r[1], r[2]) for r in await self.store.fetchall("SELECT id, name_key, name FROM teams")}
        dms: dict[tuple[int, str], list[tuple[str, str | None, str | None]]] = {}
        for key, status, result, error in await self.store.fetchall(
                "SELECT key, status, result, last_error FROM outbox WHERE key LIKE ? ORDER BY id", (NOTICE_PREFIX + "%",)):
            prize, team_id, _member = key.removeprefix(NOTICE_PREFIX).rsplit(":", 2)
            dms.setdefault((int(team_id), prize), []).append((status, result, error))
        for (team_id, prize), states in dms.items():
            key, name = teams.get(team_id, (str(team_id), str(team_id)))
            rows.append((key, name, prize, "discord", _dm_status([s for s, _, _ in states]), _dm_detail(states)))
        return [(name, prize, channel, status, detail) for _key, name, prize, channel, status, detail in sorted(rows)]


NOTICE_KIND = "dm"  # bot/outbox_executors.py: a direct message, the team's channel when DMs are closed
NOTICE_PREFIX = "winner:"


def notice_key(prize: str, team_id: int, member: str) -> str:
    """The outbox key of one member's private notice of one prize: sent once, whoever queues it."""
    return f"{NOTICE_PREFIX}{prize}:{team_id}:{member}"


def _dm_status(states: list[str]) -> str:
    if "failed" in states:
        return "failed"
    return "sent" if all(s == "sent" for s in states) else "pending"


def _dm_detail(states: list[tuple[str, str | None, str | None]]) -> str:
    sent = [json.loads(result) if result else {} for status, result, _ in states if status == "sent"]
    in_channel = sum(r.get("dm") is False for r in sent)
    detail = f"{len(sent) - in_channel} of {len(states)} DM(s) sent"
    if in_channel:
        detail += f"; {in_channel} posted in the team's channel (DMs closed)"
    errors = sorted({error for status, _, error in states if status == "failed" and error})
    return "; ".join([detail, *errors])[:500]


def notice_text(event: str, notice: Notice) -> str:
    """The private message to a winning team (plain text: for a DM, a channel and an email)."""
    return prize_notice_text(event, notice.team, notice.prizes)


def prize_notice_text(event: str, team: str, prizes: tuple[tuple[str, int, str | None], ...] |
                      list[tuple[str, int, str | None]]) -> str:
    lines = [f"Congratulations, {team}! Your team won at {event}:"]
    for title, place, reward in prizes:
        lines.append(f"- {title}: place {place}" + (f" ({reward})" if reward else ""))
    lines.append("This is private until the public announcement: please keep it to your team until then.")
    return "\n".join(lines)


def _digest(views: list[PrizeView]) -> str:
    seen = [(v.id, [(p.place, list(p.team_ids)) for p in v.places]) for v in views]
    return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:12]
