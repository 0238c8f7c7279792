"""/winners announce: every prize of the event file, previewed to the organizer who asked.

With [[prizes]]: the preview lists every prize as bot/core/winners.py decides it (each source,
exclusions, ties, close calls, what an undecided prize waits for); "Freeze" freezes the decided
prizes (nothing public yet), the winning teams are told privately at [winners] notify_at
(bot/winner_notices.py), and `/winners reveal next` posts one prize at a time, in the file's
order, as on a stream. Nothing public names a winner before its prize's reveal.

Without [[prizes]] (wave 1): the podium of the leaderboard, posted on "Post".

The announcement pings each winning team through its role. However many teams tie, every one
is named: the text is split at line ends into messages of at most 2000 characters, each
allowing pings for the roles it names only (Discord takes at most 100 role ids a message).

Post and Cancel are persistent buttons (bot/cogs/views.py) whose custom_id holds how many
places, which phase, and a digest of the previewed text: a click after a restart recomputes the
podium and posts it only if it is still what the organizer saw.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot import guild as spaces
from bot.cogs import views
from bot.cogs.choices import phase_choices
from bot.cogs.common import guild_of, hackbot_of, organizer_group, organizer_only, services_of
from bot.cogs.leaderboard import phase_title
from bot.cogs.text import chunks, fit_lines, number, shown
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.leaderboard import Podium, Winner
from bot.core.winners import PrizeView

if TYPE_CHECKING:
    from bot.app import Hackbot

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
QUESTION = "winners"
YES, NO = "Post", "Cancel"
FREEZE_QUESTION = "freezewinners"
FREEZE = "Freeze these results"
_ROLE_MENTION = re.compile(r"<@&([0-9]+)>")


@dataclass(frozen=True)
class PrizeSection:
    title: str
    lines: list[str]  # one line a winner, with the team's role mention when it has one


def team_mention(winner: Winner, guild: discord.Guild | None) -> str:
    role_id = winner.discord_role_id
    if role_id is not None and guild is not None and guild.get_role(role_id) is not None:
        return f"<@&{role_id}>"
    return f"**{shown(winner.team)}**"


def leaderboard_section(podium: Podium, guild: discord.Guild | None) -> PrizeSection:
    max_total = number(podium.standings.max_total)
    lines = [
        f"{MEDALS.get(w.rank, f'`#{w.rank}`')} {team_mention(w, guild)} · {w.total:.3f} / {max_total} points"
        for w in podium.winners
    ]
    board = podium.standings.board
    private = " (final board: the private scores)" if board is not None and board.kind == "private" else ""
    return PrizeSection(f"Leaderboard, {phase_title(podium.standings)}{private}", lines)


def prize_sections(podium: Podium, guild: discord.Guild | None) -> list[PrizeSection]:
    """Every prize the announcement lists, in order. Today: the leaderboard podium only.

    The jury's prizes (per category, on the jury criteria) and the community favourite come in
    a later issue: each adds a section here, from its own service, after the podium.
    """
    return [leaderboard_section(podium, guild)]


def announcement_parts(event_name: str, sections: list[PrizeSection]) -> list[str]:
    """The announcement as messages of at most 2000 characters, split at line ends, in order."""
    blocks = [f"🏆 **{shown(event_name)}: the winners**"]
    for section in sections:
        blocks += ["", f"**{section.title}**", *section.lines]
    return chunks(blocks, limits.CONTENT)


def mentioned_roles(part: str) -> list[int]:
    return list(dict.fromkeys(int(r) for r in _ROLE_MENTION.findall(part)))


def digest(podium: Podium) -> str:
    """The podium the organizer saw (ranks, teams, totals), not how it is written: a team whose
    role was repaired meanwhile is the same winner."""
    seen = [(w.rank, w.team, round(w.total, 6)) for w in podium.winners]
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:12]


def _args(top: int, phase_index: int | None, podium: Podium) -> str:
    return f"{top}.{'' if phase_index is None else phase_index}.{digest(podium)}"


ANNOUNCEMENT = "announcement"


def announcement_key(args: str) -> str:
    """The announcement's idempotency key: places, phase and the podium's digest. A second Post
    (a double click, another organizer's preview of the same podium, a click after a restart)
    finds the key taken and posts nothing: the database guards it, not this process's memory."""
    return f"winners:{args}"


# previews cancelled in this process (their buttons are gone once the cancel is shown; this
# answers a Post clicked in the same instant)
_CANCELLED: set[int | str] = set()


def _preview_key(interaction: discord.Interaction, args: str) -> int | str:
    return interaction.message.id if interaction.message is not None else args


async def post_clicked(interaction: discord.Interaction, args: str) -> None:
    services = services_of(interaction)
    guild = guild_of(interaction)
    channel = spaces.announcements_channel(guild, services.config)
    key = announcement_key(args)
    if await services.outbox.delivery(key) is not None:
        raise AlreadyDone("this announcement is posted already")
    if _preview_key(interaction, args) in _CANCELLED:
        raise NotAllowed("this announcement was cancelled; run /winners announce again")
    top, phase_index, wanted = args.split(".")
    phase = services.config.phases[int(phase_index)].id if phase_index else None
    podium = await services.leaderboard.podium(int(top), phase)
    if digest(podium) != wanted:
        await interaction.response.defer()
        await interaction.edit_original_response(
            content="The standings changed since this preview: nothing was posted. "
            "Run /winners announce again to see the podium as it is now.",
            embed=None, view=views.answered_view(YES, NO),
        )
        return
    parts = announcement_parts(services.config.event.name, prize_sections(podium, guild))
    payload = {"parts": [{"content": part, "roles": mentioned_roles(part)} for part in parts]}
    # the key decides, in the database: of two clicks (or two processes), one writes the row
    if not await services.outbox.enqueue(ANNOUNCEMENT, key, payload, lane="announcements"):
        raise AlreadyDone("this announcement is posted already")
    # posting takes longer than the 3 seconds Discord gives a first answer: acknowledge first
    await interaction.response.defer()
    bot = hackbot_of(interaction)
    done = await bot.drainer.deliver(key, bot.executors.in_guild(guild))
    if done is not None and done.status == "failed":
        content = f"Not posted: {done.error}. Fix it, then `hackbot outbox retry` posts it."
    elif done is None or done.status != "sent":
        content = f"Posting in {channel.mention}: the announcement is queued and goes out in a moment."
    else:
        content = f"Posted in {channel.mention}" + (f" ({len(parts)} messages)." if len(parts) > 1 else ".")
    await interaction.edit_original_response(content=content, embed=None, view=views.answered_view(YES, NO))


async def cancel_clicked(interaction: discord.Interaction, args: str) -> None:
    if await services_of(interaction).outbox.delivery(announcement_key(args)) is not None:
        raise AlreadyDone("this announcement is posted already")
    _CANCELLED.add(_preview_key(interaction, args))
    await interaction.response.edit_message(content="Cancelled: nothing was posted.", embed=None,
                                            view=views.answered_view(YES, NO))


views.QUESTIONS[QUESTION] = views.Question(post_clicked, cancel_clicked, who="who asked for this preview")


def preview_embed(channel: discord.TextChannel, parts: list[str], *, can_ping: bool) -> discord.Embed:
    lines = "\n\n".join(parts).splitlines()
    embed = discord.Embed(title=f"Preview: to be posted in #{channel.name}"[: limits.EMBED_TITLE],
                          description=fit_lines(lines, limits.EMBED_DESCRIPTION, more="… and {n} more lines"))
    posted_as = f"Posted as {len(parts)} messages. " if len(parts) > 1 else ""
    if can_ping:
        embed.set_footer(text=f"{posted_as}Role mentions ping the winning teams when posted.")
    else:  # message.mdx:714: a role that is not mentionable notifies nobody, unless the bot may ping all roles
        embed.set_footer(text=f"{posted_as}The bot lacks the Mention @everyone, @here and All Roles permission: the "
                         "teams will be named but not notified. An organizer can give it to the bot's role in "
                         "Server Settings → Roles before posting.")
    return embed


def prize_lines(prize: PrizeView, *, private: bool) -> list[str]:
    """A prize's places; `private` adds what only the organizers see (close calls, passed over)."""
    lines = []
    for place in prize.places:
        teams = ", ".join(f"**{shown(t)}**" for t in place.teams)
        reward = f" ({shown(place.reward)})" if place.reward else ""
        lines.append(f"{MEDALS.get(place.place, f'`#{place.place}`')} {teams}{reward}")
    if private:
        lines += [f"⚠ {shown(p)}" for p in prize.problems]
        if prize.close_call:
            lines.append(f"⚠ too close to call: {', '.join(shown(t) for t in prize.close_call)}")
        if prize.passed_over:
            lines.append(f"passed over: {', '.join(shown(t) for t in prize.passed_over)}")
    return lines


def prizes_preview(prizes: list[PrizeView]) -> discord.Embed:
    lines = []
    for prize in prizes:
        state = "revealed" if prize.revealed else "frozen" if prize.frozen else "decided" if prize.decided else "undecided"
        lines += [f"**{shown(prize.title)}** · {prize.source} · {state}", *prize_lines(prize, private=True), ""]
    embed = discord.Embed(title="Preview: every prize (nothing is posted)",
                          description=fit_lines(lines, limits.EMBED_DESCRIPTION, more="… and {n} more lines"))
    embed.set_footer(text="Freeze: the decided prizes never change; their teams are told privately at the notification "
                     "time; /winners reveal next then posts one prize at a time.")
    return embed


async def freeze_clicked(interaction: discord.Interaction, digest: str) -> None:
    await interaction.response.defer()
    services = services_of(interaction)
    frozen = await services.winners.freeze(digest, str(interaction.user.id))
    notify = services.config.winners.notify_at
    told = f"at <t:{int(notify.timestamp())}:f>" if notify and notify > services.clock() else "now"
    await interaction.edit_original_response(
        content=f"Frozen: {', '.join(shown(p.title) for p in frozen)}. The winning teams are told privately {told}. "
                "Nothing is public yet: /winners reveal next posts one prize at a time.",
        embed=None, view=views.answered_view(FREEZE, NO))


async def freeze_cancelled(interaction: discord.Interaction, digest: str) -> None:
    await interaction.response.edit_message(content="Cancelled: nothing was frozen.", embed=None,
                                            view=views.answered_view(FREEZE, NO))


views.QUESTIONS[FREEZE_QUESTION] = views.Question(freeze_clicked, freeze_cancelled, who="who asked for this preview")


class Winners(commands.Cog):
    winners = organizer_group("winners", "Announce the winners (organizers)")
    reveal = app_commands.Group(name="reveal", description="Reveal the winners live", parent=winners)

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @winners.command(name="announce", description="Preview the podium of a phase's leaderboard, then post it")
    @app_commands.describe(top="How many places to announce (1 to 10)", phase="Which phase (default: the current one)")
    @app_commands.autocomplete(phase=phase_choices)
    @organizer_only()
    async def announce(
        self, interaction: discord.Interaction, top: app_commands.Range[int, 1, 10] = 3, phase: str | None = None
    ) -> None:
        services = services_of(interaction)
        guild = guild_of(interaction)
        channel = spaces.announcements_channel(guild, services.config)  # refused now rather than at Post
        if services.config.prizes:
            await interaction.response.defer(ephemeral=True, thinking=True)
            preview = await services.winners.preview()
            view = views.question_view(FREEZE_QUESTION, interaction.user.id, preview.digest, yes=FREEZE, no=NO) \
                if preview.to_freeze else None
            embed = prizes_preview(list(preview.prizes))
            if view is None:
                await interaction.followup.send(embed=embed, ephemeral=True)
            else:
                await interaction.followup.send(embed=embed, view=view, ephemeral=True)
            return
        podium = await services.leaderboard.podium(top, phase)
        if not podium.winners:
            raise NotAllowed(f"no team is on the leaderboard of {phase_title(podium.standings)}; nothing to announce")
        parts = announcement_parts(services.config.event.name, prize_sections(podium, guild))
        standing_phase = podium.standings.phase
        phase_index = [p.id for p in services.config.phases].index(standing_phase.id) if standing_phase else None
        view = views.question_view(QUESTION, interaction.user.id, _args(top, phase_index, podium), yes=YES, no=NO)
        can_ping = guild.me.guild_permissions.mention_everyone
        await interaction.response.send_message(embed=preview_embed(channel, parts, can_ping=can_ping), view=view,
                                                ephemeral=True)


    @reveal.command(name="next", description="Post the next prize's winners in the announcements channel")
    @organizer_only()
    async def reveal_next(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        guild = guild_of(interaction)
        channel = spaces.announcements_channel(guild, services.config)
        await interaction.response.defer(ephemeral=True, thinking=True)
        prize, left = await services.winners.reveal_next(str(interaction.user.id))
        roles = await services.winners.team_roles([t for place in prize.places for t in place.team_ids])
        lines = []
        for place in prize.places:
            named = []
            for team_id, name in zip(place.team_ids, place.teams, strict=True):
                role_id = roles.get(team_id)
                found = role_id is not None and guild.get_role(role_id) is not None
                named.append(f"<@&{role_id}>" if found else f"**{shown(name)}**")
            reward = f" ({shown(place.reward)})" if place.reward else ""
            lines.append(f"{MEDALS.get(place.place, f'`#{place.place}`')} {', '.join(named)}{reward}")
        for part in chunks([f"🏆 **{shown(prize.title)}**", *lines], limits.CONTENT):
            allowed = discord.AllowedMentions(everyone=False, users=False,
                                              roles=[discord.Object(id=r) for r in mentioned_roles(part)])
            await channel.send(part, allowed_mentions=allowed)
        await interaction.followup.send(f"Revealed {shown(prize.title)} in {channel.mention}; {left} prize(s) left.",
                                        ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Winners(bot))
