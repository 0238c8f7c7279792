"""/vote: the Discord door onto the public votes (bot/core/votes.py holds every rule).

- /vote cast: up to five choices, each with autocomplete over the ballot (Discord shows 25
  choices: the list is filtered by what the voter types, so a ballot of 200 projects works). A
  choice is a project's number (what the autocomplete fills in) or its title.
- The Vote button on the announcement (persistent: its custom_id names the vote, any process
  answers it after any restart) opens a form with one field per choice, filled the same way.
- /vote open (organizers) posts the announcement: the link to the web page, its QR code image for
  the stream, and the Vote button. /vote close (organizers) freezes the result; the organizer who
  closed sees the ranking, the channel sees the turnout (a prize's vote is revealed with the winners).
- /vote status: turnout, and the ranking only where it may be shown.

Discord allows no command named like a group, so the ballot is /vote cast; and Discord's
permission hint applies to a whole command, so /vote open and /vote close carry the bot's own
organizer check (which refuses everyone else) without the hint.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs.common import guild_of, hackbot_of, member_of, organizer_only, services_of, side_effects
from bot.cogs.text import clip
from bot.config import Vote
from bot.core.errors import BadInput, HackbotError, NotAllowed
from bot.core.qr import qr_png
from bot.core.reminders import PostFailed
from bot.core.votes import VOTE_CLOSE, VOTE_OPEN, BallotReceipt, Candidate, VoteStatus, hidden_text, vote_lane
from bot.posting import find_channel
from bot.settings import Settings
from bot.tree import report_error, send_ephemeral

if TYPE_CHECKING:
    from bot.app import Hackbot

FORM_FIELDS = 5  # a modal holds five inputs; /vote cast takes as many choices
BUTTON_TEMPLATE = r"hackbot:vote:(?P<vote>[A-Za-z0-9_-]{1,60})"


def _ts(when) -> str:
    return f"<t:{int(when.timestamp())}:f>"


def _matches(typed: str, candidate: Candidate) -> bool:
    typed = typed.strip().casefold()
    return not typed or typed in candidate.title.casefold() or typed in candidate.team.casefold() \
        or typed == str(candidate.id)


def resolve(typed: str, candidates: list[Candidate]) -> int:
    """A choice as typed (a project's number, its title, or a unique part of it) -> its project id."""
    text = typed.strip()
    if text.isdigit() and any(c.id == int(text) for c in candidates):
        return int(text)
    exact = [c for c in candidates if c.title.casefold() == text.casefold()]
    if len(exact) == 1:
        return exact[0].id
    found = [c for c in candidates if _matches(text, c)] if text else []
    if len(found) == 1:
        return found[0].id
    if not found:
        raise BadInput(f"no project on the ballot matches {clip(text, 60)!r}; pick one from the list as you type")
    names = ", ".join(f"{c.title} ({c.id})" for c in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise BadInput(f"{clip(text, 60)!r} matches several projects: {names}{more}; type more of the title or its number")


def choice_fields(vote: Vote) -> int:
    if vote.kind == "single":
        return 1
    return min(FORM_FIELDS, vote.max_choices or FORM_FIELDS)


def receipt_text(receipt: BallotReceipt) -> str:
    order = " (in this order)" if receipt.vote.kind == "ranked" else ""
    head = "replaced your previous one" if receipt.replaced else "is recorded"
    text = (f"Your ballot for **{receipt.vote.title}** {head}: {', '.join(receipt.choices)}{order}. "
            f"You can change it until {_ts(receipt.closes_at)} by voting again.")
    if receipt.status == "unverified":
        text += f"\nNote: {receipt.message}."
    return text


def status_text(status: VoteStatus) -> str:
    state = status.state
    vote = state.vote
    if state.phase == "not open":
        head = f"**{vote.title}** opens {_ts(state.opens_at)} and closes {_ts(state.closes_at)}."
    elif state.phase == "open":
        head = f"**{vote.title}** is open until {_ts(state.closes_at)}: {status.turnout} ballot(s) so far."
    else:
        head = f"**{vote.title}** is closed: {status.turnout} ballot(s)."
    if status.results is None:
        return head + ("" if state.phase == "not open" else f"\n{hidden_text(state)[:1].upper()}{hidden_text(state)[1:]}.")
    lines = [f"{r.rank}. {r.title} ({r.team}): {r.points}" for r in status.results[:10]]
    return head + "\n" + "\n".join(lines)


async def cast(interaction: discord.Interaction, vote_id: str | None, typed: list[str]) -> None:
    services = services_of(interaction)
    vote = services.votes.default_vote(vote_id)
    candidates = await services.votes.candidates(vote.id)
    choices = [resolve(t, candidates) for t in typed if t and t.strip()]
    member = member_of(interaction)
    receipt = await services.votes.cast_discord(vote.id, member.id, member.joined_at, choices)
    await send_ephemeral(interaction, receipt_text(receipt))


class BallotForm(discord.ui.Modal):
    def __init__(self, vote: Vote):
        super().__init__(title=clip(f"Vote: {vote.title}", limits.MODAL_TITLE))
        self.vote = vote
        self.fields: list[discord.ui.TextInput[BallotForm]] = []
        n = choice_fields(vote)
        for k in range(n):
            label = "Your choice" if n == 1 else ("First choice" if vote.kind == "ranked" and k == 0 else f"Choice {k + 1}")
            field: discord.ui.TextInput[BallotForm] = discord.ui.TextInput(
                label=label, required=k == 0, max_length=100,
                placeholder="A project's title, or its number on the vote page",
            )
            self.fields.append(field)
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await cast(interaction, self.vote.id, [f.value for f in self.fields])

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=BUTTON_TEMPLATE):
    """The announcement's Vote button: opens the ballot form of the vote its custom_id names."""

    def __init__(self, vote_id: str):
        super().__init__(discord.ui.Button(label="Vote", style=discord.ButtonStyle.primary,
                                           custom_id=f"hackbot:vote:{vote_id}"))
        self.vote_id = vote_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> VoteButton:
        return cls(match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            vote = services_of(interaction).votes.vote(self.vote_id)
            await interaction.response.send_modal(BallotForm(vote))
        except Exception as error:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, error)


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (VoteButton,)


def announcements(interaction: discord.Interaction) -> discord.TextChannel:
    try:
        return find_channel(guild_of(interaction), None, services_of(interaction).config.discord.announcements_channel)
    except PostFailed as exc:
        raise NotAllowed(exc.reason) from None


def vote_url(settings: Settings, vote: Vote) -> str | None:
    base = settings.hackbot_public_url
    return f"{base.rstrip('/')}/vote/{vote.id}" if base else None


def open_post(settings: Settings, vote: Vote, closes_at: float) -> dict[str, Any]:
    """The announcement of an open vote (an outbox row of kind vote.open): its text, the web
    page's link and QR code when there is a public URL, and the persistent Vote button."""
    url = vote_url(settings, vote)
    how = "press **Vote** below or use `/vote cast`"
    lines = [f"🗳️ **{vote.title}** is open until {_ts(datetime.fromtimestamp(closes_at, UTC))}: {how}."]
    files: list[discord.File] = []
    if url and vote.codes:
        lines.append(f"Not in this server? Vote at {url} with the ballot code the organizers gave you.")
    if url:
        files.append(discord.File(io.BytesIO(qr_png(url)), filename=f"vote-{vote.id}.png",
                                  description=f"QR code of {url}"))
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(vote.id))
    return {"content": "\n".join(lines), "files": files, "view": view}


class Votes(commands.Cog):
    vote_group = app_commands.Group(name="vote", description="Public votes: cast your ballot; organizers open and close",
                                    guild_only=True)

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @vote_group.command(name="cast", description="Vote for projects: type to search the ballot")
    @app_commands.describe(choice="A project (type part of its title)", choice_2="Another project (optional)",
                           choice_3="Another project (optional)", choice_4="Another project (optional)",
                           choice_5="Another project (optional)", vote="Which vote (when the event holds several)")
    async def cast_command(self, interaction: discord.Interaction, choice: str, choice_2: str | None = None,
                           choice_3: str | None = None, choice_4: str | None = None, choice_5: str | None = None,
                           vote: str | None = None) -> None:
        await cast(interaction, vote, [c for c in (choice, choice_2, choice_3, choice_4, choice_5) if c])

    @cast_command.autocomplete("choice")
    @cast_command.autocomplete("choice_2")
    @cast_command.autocomplete("choice_3")
    @cast_command.autocomplete("choice_4")
    @cast_command.autocomplete("choice_5")
    async def choice_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        services = services_of(interaction)
        try:
            vote = services.votes.default_vote(interaction.namespace.vote or None)
            candidates = await services.votes.candidates(vote.id)
        except HackbotError:  # no such vote (or none in the event): no suggestion; the command says why
            return []
        return [app_commands.Choice(name=clip(f"{c.title} · {c.team}", limits.CHOICE_NAME), value=str(c.id))
                for c in candidates if _matches(str(typed or ""), c)][: limits.CHOICES]

    @cast_command.autocomplete("vote")
    async def vote_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return _vote_choices(interaction, typed)

    @vote_group.command(name="status", description="A vote's turnout (results once they may be shown)")
    @app_commands.describe(vote="Which vote (when the event holds several)")
    async def status(self, interaction: discord.Interaction, vote: str | None = None) -> None:
        services = services_of(interaction)
        status = await services.votes.status(services.votes.default_vote(vote).id)
        await send_ephemeral(interaction, status_text(status))

    @status.autocomplete("vote")
    async def status_vote_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return _vote_choices(interaction, typed)

    @vote_group.command(name="open", description="Organizers: open a vote and post its link, QR code and button")
    @app_commands.describe(vote="Which vote (when the event holds several)")
    @organizer_only()
    async def open(self, interaction: discord.Interaction, vote: str | None = None) -> None:
        services = services_of(interaction)
        chosen = services.votes.default_vote(vote)
        channel = announcements(interaction)  # before opening: a missing channel is said first
        await services.votes.open(chosen.id, by=str(interaction.user.id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        # the announcement was written to the outbox with the opening: posted now, or by the drainer
        done = await side_effects(interaction, vote_lane(chosen.id), VOTE_OPEN)
        if done is not None and done.status == "failed":
            await interaction.followup.send(f"{chosen.title} is open, but the announcement was not posted: "
                                            f"{done.error}.", ephemeral=True)
            return
        url = vote_url(hackbot_of(interaction).settings, chosen)
        note = "" if url else (" Set HACKBOT_PUBLIC_URL to post the web page's link and QR code too.")
        await interaction.followup.send(f"{chosen.title} is open; the announcement is in {channel.mention}.{note}",
                                        ephemeral=True)

    @open.autocomplete("vote")
    async def open_vote_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return _vote_choices(interaction, typed)

    @vote_group.command(name="close", description="Organizers: close a vote now and freeze its result")
    @app_commands.describe(vote="Which vote (when the event holds several)")
    @organizer_only()
    async def close(self, interaction: discord.Interaction, vote: str | None = None) -> None:
        services = services_of(interaction)
        chosen = services.votes.default_vote(vote)
        announcements(interaction)  # a missing channel is said before anything changes
        await services.votes.close(chosen.id, by=str(interaction.user.id))
        status = await services.votes.status(chosen.id, organizer=True)
        prize = f" It decides the prize `{chosen.prize}`, revealed with the winners." if chosen.prize else ""
        await send_ephemeral(interaction, f"Closed and frozen (organizers only below).{prize}\n{status_text(status)}\n"
                                          f"Per-project report: `hackbot vote report {chosen.id}`.")
        # the public turnout was written to the outbox with the close, once: posted now, or by the drainer
        await side_effects(interaction, vote_lane(chosen.id), VOTE_CLOSE)

    @close.autocomplete("vote")
    async def close_vote_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return _vote_choices(interaction, typed)


def _vote_choices(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
    votes = services_of(interaction).config.votes
    typed = str(typed or "").casefold()
    return [app_commands.Choice(name=clip(v.title, limits.CHOICE_NAME), value=v.id) for v in votes
            if typed in (v.id + v.title).casefold()][: limits.CHOICES]


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Votes(bot))
