"""/judge for judges (next, score, rank, choose, progress, recuse, conflict, affiliation) and /judging for
organizers (check, results, rule, void). Every reply is ephemeral: scores and results are private.

A judge is a member with a panel's role ([[judging.panels]] role, or [discord] judge_role): each
/judge command reads the caller's roles and registers them with their panels (bot/core/judging.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs.common import member_of, organizer_group, organizer_only, services_of, user_key
from bot.cogs.text import clip, fit_lines, shown
from bot.core.judging import ReviewItem, RoundResults, RoundWork

if TYPE_CHECKING:
    from bot.app import Hackbot


async def register_judge(interaction: discord.Interaction) -> str:
    member = member_of(interaction)
    judging = services_of(interaction).judging
    panels = judging.panels_for_roles([r.name for r in member.roles])
    await judging.register(user_key(member), member.display_name, panels)
    return user_key(member)


def when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "no close set"
    stamp = f"<t:{int(at.timestamp())}:R>"
    return f"closes {stamp}" if at > now else f"closed {stamp}"


def hours_left(at: datetime | None, now: datetime) -> str:
    """"closes in 3 h" (plain text: also for the web page)."""
    if at is None:
        return "no close set"
    seconds = (at - now).total_seconds()
    if seconds <= 0:
        return "closed"
    if seconds < 3600:
        return f"closes in {max(1, int(seconds // 60))} min"
    if seconds < 48 * 3600:
        return f"closes in {int(seconds // 3600)} h"
    return f"closes in {int(seconds // 86400)} days"


def project_lines(item: ReviewItem) -> list[str]:
    project = item.project
    if project is None:
        return [f"**{shown(item.team)}** (no project handed in: heard in person)"]
    lines = [f"**{shown(item.team)}**: {shown(project.title)}" + (f" · {project.category}" if project.category else "")]
    if project.repo_url:
        if project.deadline_commit:  # the repository as it was at the deadline
            url = f"{project.repo_url.rstrip('/')}/tree/{project.deadline_commit}"
            lines.append(f"Repository at the deadline: <{url}> (commit `{project.deadline_commit[:12]}`)")
        else:
            lines.append(f"Repository: <{project.repo_url}>")
    if project.commits_after_deadline:
        lines.append(f"{project.commits_after_deadline} commit(s) after the deadline (not judged)")
    if project.demo_url:
        lines.append(f"Demo: <{project.demo_url}>")
    if project.extension_reason:
        lines.append(f"Deadline extended: {shown(project.extension_reason)}")
    if project.summary:
        lines.append(clip(shown(project.summary), 800))
    return lines


def work_embed(work: RoundWork, now: datetime) -> discord.Embed:
    rnd = work.round
    title = f"{rnd.title or rnd.id}: {work.done} of {work.total} done"
    embed = discord.Embed(title=clip(title, limits.EMBED_TITLE))
    lines = [when(work.closes, now), ""]
    if rnd.mode == "rubric":
        item = work.next_item
        if item is None:
            lines.append("Every review is done. You can change a score until the round closes (/judge score).")
        else:
            lines += project_lines(item)
            lines += ["", "**The form** (1 to 5 each):"]
            for c in rnd.criteria:
                weight = f" ×{c.weight:g}" if c.weight != 1 else ""
                lines.append(f"• **{c.id}** {shown(c.title)}{weight}: {shown(c.description)}")
                if c.levels:
                    lines.append("  " + " · ".join(f"{n} {shown(level)}" for n, level in enumerate(c.levels, start=1)))
            if rnd.checklist:
                lines += ["", "**Rules to check** (pass or fail):"]
                lines += [f"• **{c.id}**: {shown(c.text)}" for c in rnd.checklist]
            example = " ".join("4" for _ in rnd.criteria)
            lines += ["", f"Score it: `/judge score team:{item.team} scores:{example}`"
                      + (" checklist:pass pass …" if rnd.checklist else "")]
    elif rnd.mode == "pairwise":
        pair = work.next_pair
        if pair is None:
            lines.append("Every comparison is done. You can change a choice until the round closes (/judge choose).")
        else:
            lines.append("**Which project is better?**")
            for label, item in (("A", pair.first), ("B", pair.second)):
                lines += ["", f"**{label}.**", *project_lines(item)]
            a, b = pair.first.team, pair.second.team
            lines += ["", f"A is better: `/judge choose better:{a} worse:{b}`",
                      f"B is better: `/judge choose better:{b} worse:{a}`"]
    else:
        lines.append("Rank every project, best first, by its number:")
        for item in work.items:
            mark = "✓ " if item.done else ""
            head = project_lines(item)[0]
            lines.append(f"`{item.number}.` {mark}{head}")
        lines += ["", f"Rank them: `/judge rank order:{' '.join(str(i.number) for i in work.items)}` (best first)"]
    embed.description = fit_lines(lines, limits.EMBED_DESCRIPTION)
    return embed


async def my_teams(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    services = services_of(interaction)
    try:
        work = await services.judging.work(user_key(interaction.user), plan=False)
    except Exception:  # not a judge yet: nothing to suggest
        return []
    typed = (current or "").casefold()
    names = dict.fromkeys(i.team for w in work if w.open for i in w.items if typed in i.team.casefold())
    return [app_commands.Choice(name=clip(n, limits.CHOICE_NAME), value=clip(n, limits.CHOICE_VALUE))
            for n in names][: limits.CHOICES]


def results_lines(results: RoundResults) -> list[str]:
    lines = [f"{results.judges} judge(s), {results.scores} counted score(s)" + (", closed" if results.closed else ", open")]
    for row in results.rows:
        interval = f" [{row.low}–{row.high}]" if row.low is not None else ""
        close = " ⚠ too close to call" if row.too_close else ""
        close += " · calibration (wins nothing)" if row.calibration else ""
        raw = f", raw mean {row.raw_mean:.2f}" if row.raw_mean is not None else ""
        lines.append(f"`#{row.rank}`{interval} **{shown(row.team)}** {row.estimate:.2f}{raw} · {row.reviews} review(s){close}")
        for flag in row.flags:
            lines.append(f"   ✗ checklist: {shown(flag)}")
    if not results.rows:
        lines.append("No score yet.")
    return lines


class Judging(commands.Cog):
    judge = app_commands.Group(name="judge", description="Review the projects you are assigned (judges)", guild_only=True)
    judging = organizer_group("judging", "Follow and correct the judging (organizers)")

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @judge.command(name="next", description="Show your next project to review, with the round's form")
    async def next(self, interaction: discord.Interaction) -> None:
        user = await register_judge(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        work = [w for w in await services.judging.work(user) if w.open and w.total]
        if not work:
            await interaction.followup.send("You have no review in an open round now. /judge progress shows your rounds.",
                                            ephemeral=True)
            return
        current = next((w for w in work if w.done < w.total), work[0])
        await interaction.followup.send(embed=work_embed(current, services.clock()), ephemeral=True)

    @judge.command(name="score", description="Score a project on the round's criteria (changeable until the close)")
    @app_commands.describe(team="The team whose project you score", scores="One score from 1 to 5 per criterion, in the "
                           "form's order (e.g. 4 3 5 2 4), or impact=4 ...", checklist="pass or fail per rule, in order",
                           note="A note for the organizers (optional)")
    @app_commands.autocomplete(team=my_teams)
    async def score(self, interaction: discord.Interaction, team: str, scores: str, checklist: str = "",
                    note: str = "") -> None:
        user = await register_judge(interaction)
        services = services_of(interaction)
        scored = await services.judging.score(user, team, scores, checklist=checklist, note=note)
        verb = "Changed your score of" if scored.changed else "Scored"
        total = f" {scored.total:.2f} / 5" if scored.total is not None else ""
        await interaction.response.send_message(
            f"{verb} **{shown(scored.team)}**:{total}. {scored.done} of {scored.of} done in {scored.round}. "
            "/judge next shows the next one.", ephemeral=True)

    @judge.command(name="rank", description="Rank your projects of a ranking round, best first")
    @app_commands.describe(order="The numbers /judge next shows, best first, e.g. 3 1 2")
    async def rank(self, interaction: discord.Interaction, order: str) -> None:
        user = await register_judge(interaction)
        ranked = await services_of(interaction).judging.rank(user, order)
        verb = "Changed your ranking" if ranked.changed else "Ranked"
        await interaction.response.send_message(f"{verb} in {ranked.round}: {shown(ranked.team)}. You can change it "
                                                "until the round closes.", ephemeral=True)

    @judge.command(name="choose", description="Say which of the two projects /judge next shows is better (pairwise rounds)")
    @app_commands.describe(better="The better project's team", worse="The other team",
                           note="A note for the organizers (optional)")
    @app_commands.autocomplete(better=my_teams, worse=my_teams)
    async def choose(self, interaction: discord.Interaction, better: str, worse: str, note: str = "") -> None:
        user = await register_judge(interaction)
        chosen = await services_of(interaction).judging.choose(user, better, worse, note=note)
        verb = "Changed your choice" if chosen.changed else "Chose"
        await interaction.response.send_message(
            f"{verb}: **{shown(chosen.team)}**. {chosen.done} of {chosen.of} comparisons done in {chosen.round}. "
            "/judge next shows the next pair.", ephemeral=True)

    @judge.command(name="progress", description="How many of your reviews are done, and when each round closes")
    async def progress(self, interaction: discord.Interaction) -> None:
        user = await register_judge(interaction)
        services = services_of(interaction)
        now = services.clock()
        lines = [f"**{shown(w.round.title or w.round.id)}**: {w.done} of {w.total} done, {hours_left(w.closes, now)}"
                 for w in await services.judging.work(user, plan=False)]
        await interaction.response.send_message("\n".join(lines) or "You judge no round of this event.", ephemeral=True)

    @judge.command(name="interviews", description="Your interview slots: which team, when, in which room")
    async def interviews(self, interaction: discord.Interaction) -> None:
        user = await register_judge(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        lines = []
        for rnd in services.interviews.rounds():
            slots = await services.interviews.for_judge(user, rnd.id)
            rooms = rnd.interviews.rooms if rnd.interviews else 1
            lines.append(f"**{shown(rnd.title or rnd.id)}**: {len(slots)} interview(s)"
                         + (f" in room {slots[0].room}" if slots and rooms > 1 else ""))
            lines += [f"<t:{int(s.starts.timestamp())}:t>–<t:{int(s.ends.timestamp())}:t> **{shown(s.team)}**"
                      for s in slots]
        text = fit_lines(lines, limits.CONTENT) if lines else "No round of this event is heard in interviews."
        await interaction.followup.send(text, ephemeral=True)

    @judge.command(name="recuse", description="Step back from a team's project (a conflict of interest)")
    @app_commands.describe(team="The team", note="Why, for the organizers (optional)")
    @app_commands.autocomplete(team=my_teams)
    async def recuse(self, interaction: discord.Interaction, team: str, note: str = "") -> None:
        user = await register_judge(interaction)
        services = services_of(interaction)
        found = await services.teams.get(team)
        ended = await services.judging.declare_conflict(user, found.id, recuse=True, note=note)
        await interaction.response.send_message(
            f"You recused yourself from **{shown(found.name)}**: {ended} review(s) ended and your scores of it no longer "
            "count; another judge takes it.", ephemeral=True)

    @judge.command(name="conflict", description="Declare a conflict of interest with a team before reviews are given")
    @app_commands.describe(team="The team", note="Why, for the organizers (optional)")
    async def conflict(self, interaction: discord.Interaction, team: str, note: str = "") -> None:
        user = await register_judge(interaction)
        services = services_of(interaction)
        found = await services.teams.get(team)
        ended = await services.judging.declare_conflict(user, found.id, note=note)
        more = f" {ended} review(s) of it ended." if ended else ""
        await interaction.response.send_message(f"Noted: you will not review **{shown(found.name)}**.{more}", ephemeral=True)

    @judge.command(name="affiliation", description="Declare a school or employer: you never review its teams")
    @app_commands.describe(name="e.g. EPFL, Acme Corp")
    async def affiliation(self, interaction: discord.Interaction, name: str) -> None:
        user = await register_judge(interaction)
        await services_of(interaction).judging.add_affiliation(user, name)
        await interaction.response.send_message(f"Noted: you will not review teams affiliated with {shown(name)}.",
                                                ephemeral=True)

    @judging.command(name="check", description="Projects that would end a round with too few reviews, and why")
    @organizer_only()
    async def check(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        problems = await services_of(interaction).judging.check()
        text = fit_lines([shown(p) for p in problems], limits.CONTENT) if problems else \
            "Every project of every round gets its reviews."
        await interaction.followup.send(text, ephemeral=True)

    @judging.command(name="results", description="A round's ranking with rank intervals (organizers only)")
    @app_commands.describe(round="The round's id")
    @organizer_only()
    async def results(self, interaction: discord.Interaction, round: str) -> None:  # noqa: A002 (the option's name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        results = await services_of(interaction).judging.results(round)
        embed = discord.Embed(title=clip(f"Results of {round}", limits.EMBED_TITLE),
                              description=fit_lines(results_lines(results), limits.EMBED_DESCRIPTION))
        await interaction.followup.send(embed=embed, ephemeral=True)

    @judging.command(name="rule", description="Uphold or dismiss a code-review failure a judge marked (organizers)")
    @app_commands.describe(round="The round's id", team="The team", item="The checklist item's id",
                           uphold="True: the team wins no prize; False: dismissed, no consequence",
                           reason="Why (shown with the prizes)")
    @organizer_only()
    async def rule(self, interaction: discord.Interaction, round: str, team: str, item: str,  # noqa: A002
                   uphold: bool, reason: str) -> None:
        services = services_of(interaction)
        failure = await services.judging.rule(round, team, item, upheld=uphold, reason=reason,
                                              by=user_key(interaction.user))
        consequence = " It wins no prize." if uphold else ""
        await interaction.response.send_message(f"**{shown(failure.team)}**: {shown(failure.describe())}.{consequence}",
                                                ephemeral=True)

    @judging.command(name="void", description="Void a judge's scores of a round so far, with a reason (kept in the log)")
    @app_commands.describe(round="The round's id", judge="The judge", reason="Why (kept in the log)")
    @organizer_only()
    async def void(self, interaction: discord.Interaction, round: str, judge: discord.Member,  # noqa: A002
                   reason: str) -> None:
        voided = await services_of(interaction).judging.void(round, user_key(judge), reason, user_key(interaction.user))
        await interaction.response.send_message(f"Voided {voided} score(s) of {shown(judge.display_name)} in {round}.",
                                                ephemeral=True)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Judging(bot))
