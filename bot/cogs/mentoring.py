"""/help, /ticket, /mentor and /perk: the Discord door onto the help queue and the perks
(bot/core/mentoring.py, bot/core/perks.py hold every rule).

- /help opens a form (problem, tags, where to meet); the reply gives the ticket's number, its
  position and the estimated wait; the ticket is posted in the mentors' queue channel with a
  persistent Claim button (ClaimButton: its custom_id names the ticket, so a click is answered by
  any process after any restart). Of simultaneous clicks one wins; the others are told who has it.
- Claiming opens a private thread in the help channel with the team and the mentor; another
  mentor can /mentor join; /mentor release puts the ticket back at its place; /ticket resolve
  and /ticket cancel close it; after a resolve the thread offers 1-5 stars and a comment.
- /perk claim answers the code ephemerally: codes are secrets.

The Discord side effects (post, edits, thread, notes) are outbox rows written with the change
(bot/core/mentoring.py); a command runs its ticket's rows at once to show their result
(bot/help_queue.py renders them).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import help_queue
from bot.cogs import views
from bot.cogs.common import is_organizer, member_of, organizer_only, services_of, side_effects, user_key
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.mentoring import TICKET_EDIT, TICKET_POST, TICKET_THREAD, QueueSpot, Ticket, TicketTaken, ticket_lane
from bot.core.outbox import REPORT_KIND, REPORT_LANE, Delivery
from bot.core.services import Services
from bot.tree import report_error, send_ephemeral

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)
ASSIGN = "mentorassign"


class NotMentor(app_commands.CheckFailure):
    pass


def is_mentor(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        return False
    member = member_of(interaction)
    section = services_of(interaction).config.mentoring
    role = section.mentor_role if section else None
    return is_organizer(interaction) or any(r.name == role for r in member.roles)


def _refuse_non_mentor(interaction: discord.Interaction) -> None:
    section = services_of(interaction).mentoring.section  # NotAllowed when the event has no help queue
    if not is_mentor(interaction):
        raise NotMentor(f"Only mentors (the {section.mentor_role!r} role) can do this.")


def mentor_only():
    async def predicate(interaction: discord.Interaction) -> bool:
        _refuse_non_mentor(interaction)
        return True

    return app_commands.check(predicate)


def wait_text(spot: QueueSpot) -> str:
    wait = spot.wait
    if wait.basis == "no history":
        return "no estimate yet (too few recent tickets)"
    basis = "recent tickets with the same tags" if wait.basis == "same tags" else "recent tickets"
    return f"about {wait.median} (median time to a claim of {wait.samples} {basis})"


def spot_text(spot: QueueSpot, *, heading: str) -> str:
    ticket = spot.ticket
    if ticket.status == "claimed":
        where = f"<@{ticket.claimed_by}> is on it" + (f" in <#{ticket.thread_id}>" if ticket.thread_id else "")
        return f"{heading} Ticket **#{ticket.number}**: {where}."
    return (f"{heading} Ticket **#{ticket.number}**: position **{spot.position}** of {spot.waiting} in the queue; "
            f"estimated wait {wait_text(spot)}. A mentor will meet you in a private thread. "
            f"`/ticket cancel` withdraws it.")


async def claimed(interaction: discord.Interaction, number: int) -> None:
    """Claim ticket `number` for the caller: the Claim button and /mentor claim."""
    services = services_of(interaction)
    mentor = user_key(interaction.user)
    try:
        claim = await services.mentoring.claim(number, mentor)
    except TicketTaken as taken:
        await send_ephemeral(interaction, f"Ticket #{number} is already claimed by <@{taken.holder}>.",
                             allowed_mentions=discord.AllowedMentions.none())
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    where = _thread_of(await side_effects(interaction, ticket_lane(number), TICKET_THREAD))
    await interaction.followup.send(f"You claimed ticket **#{number}** of team {claim.ticket.team}: meet them{where}.",
                                    ephemeral=True)


def _thread_of(done: Delivery | None) -> str:
    """" in <#thread>" when the ticket's thread row was sent, else nothing (the drainer retries it)."""
    thread_id = (done.result or {}).get("thread_id") if done is not None else None
    return f" in <#{thread_id}>" if thread_id else ""


class ClaimButton(discord.ui.DynamicItem[discord.ui.Button], template=help_queue.CLAIM_TEMPLATE):
    """The queue post's Claim button, answered by any process after any restart."""

    def __init__(self, number: int):
        super().__init__(discord.ui.Button(label="Claim", style=discord.ButtonStyle.primary,
                                           custom_id=help_queue.CLAIM_ID.format(number=number)))
        self.number = number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ClaimButton:
        return cls(int(match["number"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            _refuse_non_mentor(interaction)
            await claimed(interaction, self.number)
        except Exception as error:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, error)


class RateButton(discord.ui.DynamicItem[discord.ui.Button], template=help_queue.RATE_TEMPLATE):
    """1 to 5 stars under a resolved ticket: opens the comment form."""

    def __init__(self, number: int, score: int):
        super().__init__(discord.ui.Button(label="★" * score, style=discord.ButtonStyle.secondary,
                                           custom_id=f"hackbot:ticket:rate:{number}:{score}"))
        self.number, self.score = number, score

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RateButton:
        return cls(int(match["number"]), int(match["score"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_modal(RateForm(self.number, self.score))
        except Exception as error:  # noqa: BLE001
            await report_error(interaction, error)


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ClaimButton, RateButton)


class RateForm(discord.ui.Modal):
    def __init__(self, number: int, score: int):
        super().__init__(title=f"Rate the help on ticket #{number}"[:45])
        self.number, self.score = number, score
        self.comment: discord.ui.TextInput[RateForm] = discord.ui.TextInput(
            label=f"{'★' * score}: a comment (optional)", style=discord.TextStyle.paragraph, required=False,
            max_length=1000,
        )
        self.add_item(self.comment)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        await services.mentoring.rate(self.number, user_key(interaction.user), self.score, self.comment.value)
        await send_ephemeral(interaction, f"Thank you: ticket #{self.number} rated {'★' * self.score}.")

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


class HelpForm(discord.ui.Modal, title="Ask a mentor for help"):
    def __init__(self, tags: list[str]):
        super().__init__()
        self.problem: discord.ui.TextInput[HelpForm] = discord.ui.TextInput(
            label="What is the problem?", style=discord.TextStyle.paragraph, max_length=1000,
            placeholder="What you tried, what happened, what you expected",
        )
        self.tags: discord.ui.TextInput[HelpForm] = discord.ui.TextInput(
            label="Tags (optional, separated by commas)", required=False, max_length=400,
            placeholder=", ".join(tags)[:100] or None,
        )
        self.place: discord.ui.TextInput[HelpForm] = discord.ui.TextInput(
            label="Where to meet you (optional)", required=False, max_length=200,
            placeholder="Table 12, room B, or the thread",
        )
        for item in (self.problem, self.tags, self.place):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        spot = await services.mentoring.open_ticket(user_key(interaction.user), self.problem.value, self.tags.value,
                                                    self.place.value)
        await send_ephemeral(interaction, spot_text(spot, heading="Your help request is in."))
        # its post was written to the outbox with the ticket: made now, or by the drainer
        await side_effects(interaction, ticket_lane(spot.ticket.number), TICKET_POST)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


async def _closed(interaction: discord.Interaction, ticket: Ticket, text: str) -> None:
    await send_ephemeral(interaction, text)
    # the post's edit and the thread's note were written with the change: shown now, or by the drainer
    await side_effects(interaction, ticket_lane(ticket.number), TICKET_EDIT)


async def _my_number(services: Services, interaction: discord.Interaction, ticket: int | None) -> int:
    if ticket is not None:
        return ticket
    spot = await services.mentoring.my_ticket(user_key(interaction.user))
    if spot is None:
        raise NotAllowed("your team has no open ticket; /help opens one")
    return spot.ticket.number


async def confirm_assignment(interaction: discord.Interaction, args: str) -> None:
    services = services_of(interaction)
    seed, _, fingerprint = args.partition(".")
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        pairs = await services.assignments.confirm(fingerprint, user_key(interaction.user), seed=int(seed or 0))
    except AlreadyDone as exc:
        await interaction.followup.send(f"{exc.message}: run /mentor assign again.", ephemeral=True)
        return
    # the introductions were written to the outbox with the assignments: the drainer posts them
    missed = [pair.team for pair in pairs if pair.channel_id is None]
    text = f"{len(pairs)} mentor assignment(s) recorded; each team's channel gets its introduction."
    if missed:
        text += f" Not introduced (no team channel): {', '.join(missed)}"[:1500]
    await interaction.followup.send(text, ephemeral=True)


async def cancel_assignment(interaction: discord.Interaction, args: str) -> None:
    await interaction.response.edit_message(content="Nothing was recorded.", view=views.answered_view("Confirm"))


views.QUESTIONS[ASSIGN] = views.Question(confirm_assignment, cancel_assignment, who="the organizer who asked")


class Mentoring(commands.Cog):
    ticket_group = app_commands.Group(name="ticket", description="Your team's help ticket", guild_only=True)
    mentor_group = app_commands.Group(name="mentor", description="Mentors: tags, duty, the queue, claims",
                                      guild_only=True)
    perk_group = app_commands.Group(name="perk", description="Perks for teams (credits, ...)", guild_only=True)

    def __init__(self, bot: Hackbot):
        self.bot = bot

    # --- participants -------------------------------------------------------------------

    @app_commands.command(name="help", description="Ask a mentor for help: a form, then a place in the queue")
    @app_commands.guild_only()
    async def help_form(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        services.mentoring.section  # noqa: B018 - refuses when the event has no help queue
        await interaction.response.send_modal(HelpForm(services.mentoring.tags))

    @ticket_group.command(name="status", description="Your team's ticket: its position and estimated wait")
    async def status(self, interaction: discord.Interaction) -> None:
        spot = await services_of(interaction).mentoring.my_ticket(user_key(interaction.user))
        if spot is None:
            await send_ephemeral(interaction, "Your team has no open ticket; /help opens one.")
            return
        await send_ephemeral(interaction, spot_text(spot, heading="Your help request."))

    @ticket_group.command(name="cancel", description="Withdraw your team's ticket")
    @app_commands.describe(ticket="The ticket's number (default: your team's open ticket)")
    async def cancel(self, interaction: discord.Interaction, ticket: int | None = None) -> None:
        services = services_of(interaction)
        number = await _my_number(services, interaction, ticket)
        closed = await services.mentoring.cancel(number, user_key(interaction.user), organizer=is_organizer(interaction))
        await _closed(interaction, closed, f"Ticket #{number} is cancelled.")

    @ticket_group.command(name="resolve", description="Close a ticket as solved (its team or its mentors)")
    @app_commands.describe(ticket="The ticket's number (default: your team's open ticket)")
    async def resolve(self, interaction: discord.Interaction, ticket: int | None = None) -> None:
        services = services_of(interaction)
        number = await _my_number(services, interaction, ticket)
        closed = await services.mentoring.resolve(number, user_key(interaction.user), organizer=is_organizer(interaction))
        await _closed(interaction, closed, f"Ticket #{number} is resolved. Thank you!")

    @ticket_group.command(name="reopen", description="Put a ticket closed as stale back in the queue")
    @app_commands.describe(ticket="The ticket's number")
    async def reopen(self, interaction: discord.Interaction, ticket: int) -> None:
        spot = await services_of(interaction).mentoring.reopen(ticket, user_key(interaction.user))
        await send_ephemeral(interaction, spot_text(spot, heading="Reopened."))
        await side_effects(interaction, ticket_lane(ticket), TICKET_EDIT)

    @ticket_group.command(name="rate", description="Rate the help on a resolved ticket, 1 to 5")
    @app_commands.describe(ticket="The ticket's number", rating="1 (no help) to 5 (great help)",
                           comment="What helped, or what did not (optional)")
    async def rate(self, interaction: discord.Interaction, ticket: int, rating: app_commands.Range[int, 1, 5],
                   comment: str = "") -> None:
        await services_of(interaction).mentoring.rate(ticket, user_key(interaction.user), rating, comment)
        await send_ephemeral(interaction, f"Thank you: ticket #{ticket} rated {'★' * rating}.")

    # --- mentors --------------------------------------------------------------------------

    @mentor_group.command(name="tags", description="What you can help with (the event's tags)")
    @app_commands.describe(tags="Tags separated by commas, e.g. Train, Modal")
    @mentor_only()
    async def tags(self, interaction: discord.Interaction, tags: str) -> None:
        mentor = await services_of(interaction).mentoring.set_mentor(user_key(interaction.user), tags=tags)
        duty = "on duty" if mentor.on_duty else "off duty (/mentor on when you are available)"
        await send_ephemeral(interaction, f"Your tags: {', '.join(mentor.tags) or 'none'}; you are {duty}.")

    @tags.autocomplete("tags")
    async def tags_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        known = services_of(interaction).mentoring.tags
        done, _, last = typed.rpartition(",")
        prefix = f"{done}, " if done else ""
        picks = [t for t in known if t.casefold().startswith(last.strip().casefold())]
        return [app_commands.Choice(name=(prefix + t)[:100], value=(prefix + t)[:100]) for t in picks][:25]

    @mentor_group.command(name="on", description="Go on duty: tickets with your tags ping you")
    @mentor_only()
    async def on(self, interaction: discord.Interaction) -> None:
        mentor = await services_of(interaction).mentoring.set_mentor(user_key(interaction.user), on_duty=True)
        hint = "" if mentor.tags else " Set your tags with /mentor tags to be pinged first for them."
        await send_ephemeral(interaction, f"You are on duty.{hint}")

    @mentor_group.command(name="off", description="Go off duty: no more pings")
    @mentor_only()
    async def off(self, interaction: discord.Interaction) -> None:
        await services_of(interaction).mentoring.set_mentor(user_key(interaction.user), on_duty=False)
        await send_ephemeral(interaction, "You are off duty. Thank you!")

    @mentor_group.command(name="queue", description="The tickets waiting, oldest first")
    @app_commands.describe(tag="Only tickets asking for this tag")
    @mentor_only()
    async def queue(self, interaction: discord.Interaction, tag: str | None = None) -> None:
        services = services_of(interaction)
        waiting = await services.mentoring.queue(tag)
        now = services.clock()
        if not waiting:
            await send_ephemeral(interaction, "No ticket is waiting" + (f" for {tag}." if tag else "."))
            return
        lines = [f"**{len(waiting)} waiting**" + (f" for {tag}" if tag else "") + ", oldest first:"]
        for position, t in enumerate(waiting, 1):
            minutes = int((now - t.opened_at).total_seconds() // 60)
            line = (f"{position}. #{t.number} · {discord.utils.escape_markdown(t.team)} · "
                    f"{', '.join(t.tags) or 'no tag'} · {minutes} min · {t.problem[:80]}")
            if sum(len(x) + 1 for x in lines) + len(line) > 1850:
                lines.append(f"… and {len(waiting) - position + 1} more")
                break
            lines.append(line)
        lines.append("Claim one with its button in the queue channel, or /mentor claim.")
        await send_ephemeral(interaction, "\n".join(lines), allowed_mentions=discord.AllowedMentions.none())

    @queue.autocomplete("tag")
    async def tag_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        known = services_of(interaction).mentoring.tags
        return [app_commands.Choice(name=t, value=t) for t in known if typed.casefold() in t.casefold()][:25]

    @mentor_group.command(name="claim", description="Claim a ticket: a private thread with its team opens")
    @app_commands.describe(ticket="The ticket's number")
    @mentor_only()
    async def claim(self, interaction: discord.Interaction, ticket: int) -> None:
        await claimed(interaction, ticket)

    @mentor_group.command(name="join", description="Join a ticket another mentor claimed")
    @app_commands.describe(ticket="The ticket's number")
    @mentor_only()
    async def join(self, interaction: discord.Interaction, ticket: int) -> None:
        claim = await services_of(interaction).mentoring.join(ticket, user_key(interaction.user))
        await interaction.response.defer(ephemeral=True, thinking=True)
        where = _thread_of(await side_effects(interaction, ticket_lane(claim.ticket.number), TICKET_THREAD))
        await interaction.followup.send(f"You joined ticket **#{ticket}**{where}.", ephemeral=True)

    @mentor_group.command(name="release", description="Put your ticket back at its place in the queue")
    @app_commands.describe(ticket="The ticket's number")
    @mentor_only()
    async def release(self, interaction: discord.Interaction, ticket: int) -> None:
        released = await services_of(interaction).mentoring.release(ticket, user_key(interaction.user),
                                                                    organizer=is_organizer(interaction))
        await send_ephemeral(interaction, f"Ticket #{released.number} is back at its place in the queue.")
        await side_effects(interaction, ticket_lane(released.number), TICKET_EDIT)

    @mentor_group.command(name="assign", description="Organizers: propose a mentor for each team, then confirm")
    @app_commands.describe(seed="The tie-break (the same data and seed give the same proposal)")
    @organizer_only()
    async def assign(self, interaction: discord.Interaction, seed: int = 0) -> None:
        proposal = await services_of(interaction).assignments.propose(seed=seed)
        if not proposal.pairs:
            await send_ephemeral(interaction, f"Nothing to propose: {proposal.mentored} team(s) have a mentor, and no "
                                              "other team has members, or no mentor set /mentor tags.")
            return
        lines = [f"**{len(proposal.pairs)} team(s)**, loads "
                 + ", ".join(f"<@{m}>: {n}" for m, n in proposal.loads.items())]
        for pair in proposal.pairs:
            shared = ", ".join(pair.shared) or "no shared topic"
            line = f"- {discord.utils.escape_markdown(pair.team)} → <@{pair.mentor}> ({shared})"
            if sum(len(x) + 1 for x in lines) + len(line) > 1700:
                lines.append("… and more (`hackbot mentoring assign` lists them all)")
                break
            lines.append(line)
        if proposal.unassigned:
            lines.append(f"Without a mentor (too few mentors): {len(proposal.unassigned)} team(s)")
        lines.append("Record it? Each team's channel then gets its mentor's introduction.")
        view = views.question_view(ASSIGN, interaction.user.id, f"{seed}.{proposal.fingerprint}", yes="Confirm")
        await send_ephemeral(interaction, "\n".join(lines), view=view, allowed_mentions=discord.AllowedMentions.none())

    # --- perks ------------------------------------------------------------------------------

    @perk_group.command(name="claim", description="Your team's code for a perk (only you see it)")
    @app_commands.describe(perk="Which perk (when the event has several)")
    async def perk_claim(self, interaction: discord.Interaction, perk: str | None = None) -> None:
        services = services_of(interaction)
        claim = await services.perks.claim(perk, user_key(interaction.user))
        again = "" if claim.new else " (the same code as before)"
        about = f"\n{claim.perk.description}" if claim.perk.description else ""
        await send_ephemeral(interaction, f"**{claim.perk.title}**{again}: `{claim.code}`{about}")
        if claim.warning:  # the stock is low or out: the report, written with the claim, goes out now
            await side_effects(interaction, REPORT_LANE, REPORT_KIND)

    @perk_claim.autocomplete("perk")
    async def perk_complete(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        perks = services_of(interaction).config.perks
        return [app_commands.Choice(name=p.title[:100], value=p.id) for p in perks
                if typed.casefold() in (p.id + p.title).casefold()][:25]


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Mentoring(bot))
