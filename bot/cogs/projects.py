"""/project submit, edit, show, withdraw (and /project bundle and /project pitch for Hackathon42), and the
organizers' moderation queue (/admin projects, /admin moderate in bot/cogs/admin.py call here).

The form is two steps: an ephemeral message with the select menus (category, opt-in prizes) and
buttons, then the modal with the text fields. Every select and button is persistent
(`DynamicItem`): its custom_id holds the whole state (the version the member read, the chosen
category's index, the opt-ins as a bit mask), so nothing is kept in memory between the steps and
a click is answered after a restart too. The edit names the version it read: of two members
editing at once, the second is told who saved first (bot/core/projects.py decides).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs.common import is_organizer, services_of, side_effects, user_key
from bot.core.clock import fmt_utc
from bot.core.errors import NotAllowed
from bot.core.outbox import Delivery
from bot.core.projects import TEAM_NOTICE, Project, ProjectInput, ProjectService, Saved
from bot.core.teams import team_lane
from bot.tree import report_error, send_ephemeral

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

STATE = r"(?P<version>[0-9]+):(?P<cat>-?[0-9]+):(?P<bits>[0-9]+)"
MODES = {"s": "Submit", "d": "Save as draft", "e": "Save the edit"}
MORE_ANSWERS = "More answers"
ANSWERS_ID = "hackbot:project:answers"


def _state(version: int, cat: int, bits: int) -> str:
    return f"{version}:{cat}:{bits}"


def _opt_ins(service: ProjectService, bits: int) -> tuple[str, ...]:
    return tuple(p for i, p in enumerate(service.section.opt_in_prizes) if bits >> i & 1)


def _category(service: ProjectService, cat: int) -> str | None:
    categories = service.section.categories
    return categories[cat] if 0 <= cat < len(categories) else None


def choices_view(service: ProjectService, version: int, cat: int, bits: int, modes: tuple[str, ...]) -> discord.ui.View:
    """The selects and the buttons that open the form; every custom_id carries the state."""
    section = service.section
    view = discord.ui.View(timeout=None)
    state = _state(version, cat, bits)
    if section.categories:
        view.add_item(discord.ui.Select(
            custom_id=f"hackbot:project:cat:{state}:{''.join(modes)}", placeholder="Category (pick exactly one)",
            options=[discord.SelectOption(label=c, value=str(i), default=i == cat) for i, c in enumerate(section.categories)],
        ))
    if section.opt_in_prizes:
        prizes = {p.id: p.title for p in service.config.prizes}
        view.add_item(discord.ui.Select(
            custom_id=f"hackbot:project:opt:{state}:{''.join(modes)}", placeholder="Opt into prizes (optional)",
            min_values=0, max_values=len(section.opt_in_prizes),
            options=[discord.SelectOption(label=prizes.get(p, p)[:100], value=str(i), default=bool(bits >> i & 1))
                     for i, p in enumerate(section.opt_in_prizes)],
        ))
    for mode in modes:
        view.add_item(discord.ui.Button(label=f"{MODES[mode]}…", custom_id=f"hackbot:project:form:{mode}:{state}",
                                        style=discord.ButtonStyle.primary if mode != "d" else discord.ButtonStyle.secondary))
    if len(section.questions) > 1:
        view.add_item(discord.ui.Button(label=f"{MORE_ANSWERS}…", custom_id=ANSWERS_ID,
                                        style=discord.ButtonStyle.secondary))
    return view


def choices_text(service: ProjectService, cat: int, bits: int) -> str:
    category = _category(service, cat) or "none yet"
    opted = ", ".join(_opt_ins(service, bits)) or "none"
    lines = ["Choose below, then open the form."]
    if service.section.categories:
        lines.append(f"Category: **{category}**")
    if service.section.opt_in_prizes:
        lines.append(f"Opted into: **{opted}**")
    questions = service.section.questions
    if len(questions) > 1:
        lines.append(f"This event asks {len(questions)} questions: the form holds the first, “{MORE_ANSWERS}…” the "
                     "others (on a saved project: save a draft first, answer, then submit).")
    return "\n".join(lines)


class ChoiceSelect(discord.ui.DynamicItem[discord.ui.Select],
                   template=rf"hackbot:project:(?P<what>cat|opt):{STATE}:(?P<modes>[sde]+)"):
    def __init__(self, what: str, version: int, cat: int, bits: int, modes: str):
        super().__init__(discord.ui.Select(custom_id=f"hackbot:project:{what}:{_state(version, cat, bits)}:{modes}"))
        self.what, self.version, self.cat, self.bits, self.modes = what, version, cat, bits, modes

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ChoiceSelect:
        return cls(match["what"], int(match["version"]), int(match["cat"]), int(match["bits"]), match["modes"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            service = services_of(interaction).projects
            values = [int(v) for v in self.item.values]
            cat, bits = self.cat, self.bits
            if self.what == "cat":
                cat = values[0] if values else -1
            else:
                bits = sum(1 << v for v in values)
            await interaction.response.edit_message(
                content=choices_text(service, cat, bits),
                view=choices_view(service, self.version, cat, bits, tuple(self.modes)))
        except Exception as exc:  # noqa: BLE001 - every error reaches the member
            await report_error(interaction, exc)


class FormButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"hackbot:project:form:(?P<mode>[sde]):{STATE}"):
    def __init__(self, mode: str, version: int, cat: int, bits: int):
        custom_id = f"hackbot:project:form:{mode}:{_state(version, cat, bits)}"
        super().__init__(discord.ui.Button(label=MODES[mode], custom_id=custom_id))
        self.mode, self.version, self.cat, self.bits = mode, version, cat, bits

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> FormButton:
        return cls(match["mode"], int(match["version"]), int(match["cat"]), int(match["bits"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            services = services_of(interaction)
            team = await services.projects.team_of(user_key(interaction.user))
            current = await services.projects.of_team(team.id)
            await interaction.response.send_modal(ProjectForm(services.projects, current, self.mode, self.version,
                                                              self.cat, self.bits))
        except Exception as exc:  # noqa: BLE001
            await report_error(interaction, exc)


class ProjectForm(discord.ui.Modal):
    def __init__(self, service: ProjectService, current: Project | None, mode: str, version: int, cat: int, bits: int):
        super().__init__(title="Your project" if mode != "e" else "Edit your project", timeout=15 * 60)
        self.service, self.mode, self.version, self.cat, self.bits = service, mode, version, cat, bits
        self.current = current
        required = service.section.required
        self.title_input: discord.ui.TextInput[ProjectForm] = discord.ui.TextInput(
            label="Title", max_length=100, default=current.title if current else None)
        self.summary: discord.ui.TextInput[ProjectForm] = discord.ui.TextInput(
            label="Summary: what it does, for whom", style=discord.TextStyle.paragraph, max_length=4000,
            required=mode == "s" and "description" in required, default=current.summary if current else None)
        self.repo: discord.ui.TextInput[ProjectForm] = discord.ui.TextInput(
            label="Repository URL", max_length=500, required=mode == "s" and "repo" in required,
            placeholder="https://github.com/owner/name", default=current.repo_url if current else None)
        self.demo: discord.ui.TextInput[ProjectForm] = discord.ui.TextInput(
            label="Demo video URL", max_length=500, required=mode == "s" and "demo" in required,
            placeholder="https://youtu.be/...", default=current.demo_url if current else None)
        for item in (self.title_input, self.summary, self.repo, self.demo):
            self.add_item(item)
        # a modal holds 5 inputs: the first question fits here; the others are in AnswersForm ("More answers…")
        self.question: discord.ui.TextInput[ProjectForm] | None = None
        if service.section.questions:
            q = service.section.questions[0]
            self.question = discord.ui.TextInput(
                label=q.question, style=discord.TextStyle.paragraph, max_length=q.max_chars,
                required=mode == "s" and q.required, default=current.answers.get(q.id) if current else None)
            self.add_item(self.question)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        # saving checks the repository on GitHub (up to its 10 s timeout): past Discord's 3 s for a
        # first answer, so the form is acknowledged first and answered by a follow-up
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        team = await services.projects.team_of(user_key(interaction.user))
        answers = dict(self.current.answers) if self.current else {}
        if self.question is not None:
            answers[self.service.section.questions[0].id] = self.question.value
        data = ProjectInput(
            title=self.title_input.value, summary=self.summary.value, repo=self.repo.value or None,
            demo=self.demo.value or None, category=_category(self.service, self.cat),
            opt_ins=_opt_ins(self.service, self.bits), answers=tuple(answers.items()))
        submit = {"s": True, "d": False, "e": None}[self.mode]
        saved = await services.projects.save(team.id, user_key(interaction.user), data, submit=submit,
                                             expected_version=self.version or None)
        await send_ephemeral(interaction, saved_text(saved))

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


class AnswersButton(discord.ui.DynamicItem[discord.ui.Button], template=ANSWERS_ID):
    """Opens the form of the event's other questions (a modal holds 5 inputs: the project's form
    has room for the first question only)."""

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label=MORE_ANSWERS, custom_id=ANSWERS_ID))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AnswersButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            services = services_of(interaction)
            team = await services.projects.team_of(user_key(interaction.user))
            current = await services.projects.of_team(team.id)
            if current is None:
                raise NotAllowed("save your project first (Save as draft…), then add the other answers")
            await interaction.response.send_modal(AnswersForm(services.projects, current))
        except Exception as exc:  # noqa: BLE001
            await report_error(interaction, exc)


class AnswersForm(discord.ui.Modal):
    """The event's questions after the first, saved on the project as the API saves them (an edit
    of the version read when the form opened: a change saved meanwhile is not overwritten)."""

    def __init__(self, service: ProjectService, current: Project):
        super().__init__(title="More answers", timeout=15 * 60)
        self.service, self.current = service, current
        self.inputs: list[tuple[str, discord.ui.TextInput[AnswersForm]]] = []
        for q in service.section.questions[1:limits.MODAL_ROWS + 1]:
            text_input: discord.ui.TextInput[AnswersForm] = discord.ui.TextInput(
                label=q.question, style=discord.TextStyle.paragraph, max_length=q.max_chars,
                required=current.status == "submitted" and q.required, default=current.answers.get(q.id))
            self.inputs.append((q.id, text_input))
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        team = await services.projects.team_of(user_key(interaction.user))
        p = self.current
        answers = dict(p.answers)
        for qid, text_input in self.inputs:
            answers[qid] = text_input.value
        data = ProjectInput(p.title, p.summary, p.repo_url, p.demo_url, p.category, p.opt_ins, tuple(answers.items()))
        saved = await services.projects.save(team.id, user_key(interaction.user), data, submit=None,
                                             expected_version=p.version)
        given = sum(1 for qid, _ in self.inputs if saved.project.answers.get(qid))
        await send_ephemeral(interaction, f"Saved {given} of {len(self.inputs)} more answer(s).\n{saved_text(saved)}")

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


def _esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def project_text(p: Project, *, own: bool) -> str:
    status = {"draft": "a draft (not handed in)", "submitted": "submitted", "withdrawn": "withdrawn"}[p.status]
    lines = [f"**{_esc(p.title)}** by team **{_esc(p.team_name)}**: {status}, version {p.version}"]
    if p.category:
        lines.append(f"Category: {p.category}")
    if p.opt_ins:
        lines.append(f"Opted into: {', '.join(p.opt_ins)}")
    if p.repo_url:
        lines.append(f"Repository: <{p.repo_url}>" + (f" at commit `{p.deadline_commit[:7]}`" if p.deadline_commit else ""))
    if p.commits_after_deadline:
        lines.append(f"{p.commits_after_deadline} commit(s) after the deadline")
    if p.demo_url:
        lines.append(f"Demo: <{p.demo_url}>")
    if p.summary:
        lines.append(f">>> {p.summary[:800]}")
        lines = ["\n".join(lines)]
    if own:
        if p.deadline:
            lines.append(f"Deadline: <t:{int(p.deadline.timestamp())}:F>" + (" (extended for your team)" if p.extended else ""))
        if p.moderation != "pending":
            lines.append(f"Organizers: {p.moderation}" + (f" ({_esc(p.moderation_reason)})" if p.moderation_reason else ""))
        for note in p.warnings:
            lines.append(f"⚠️ {note.message}")
        lines.append(f"Last change by <@{p.updated_by}> <t:{int(p.updated_at.timestamp())}:R>")
    return "\n".join(lines)[: limits.CONTENT]


def saved_text(saved: Saved) -> str:
    p = saved.project
    head = {"submitted": "Your project is submitted.", "draft": "Your draft is saved (not handed in yet).",
            "withdrawn": "Your project is saved (withdrawn)."}[p.status]
    if p.verified is True:
        head += " The repository checks passed."
    elif p.verified is None and p.repo_url:
        head += " The repository could not be checked now; it will be checked again, nothing to do."
    elif p.warnings:
        head += " Fix what is below and edit the project (/project edit) before the deadline."
    return f"{head}\n{project_text(p, own=True)}"


def _state_of(service: ProjectService, p: Project | None) -> tuple[int, int, int]:
    if p is None:
        return 0, -1, 0
    cats = service.section.categories
    cat = cats.index(p.category) if p.category in cats else -1
    prizes = list(service.section.opt_in_prizes)
    bits = sum(1 << prizes.index(x) for x in p.opt_ins if x in prizes)
    return p.version, cat, bits


async def _open_choices(interaction: discord.Interaction, *, edit: bool) -> None:
    services = services_of(interaction)
    service = services.projects
    service.section  # noqa: B018 - refuses when the event takes no projects
    team = await service.team_of(user_key(interaction.user))
    current = await service.of_team(team.id)
    if edit and current is None:
        raise NotAllowed("your team has no project yet; start one with /project submit")
    version, cat, bits = _state_of(service, current)
    if not edit and current is not None and current.status == "submitted":
        raise NotAllowed("your team's project is submitted already; change it with /project edit")
    modes: tuple[str, ...]
    if current is None:
        modes = ("s", "d")
    elif current.status == "submitted":
        modes = ("e",)
    else:
        modes = ("s", "d")
    await send_ephemeral(interaction, choices_text(service, cat, bits),
                         view=choices_view(service, version, cat, bits, modes))


class Projects(commands.Cog):
    project = app_commands.Group(name="project", description="Your team's project: submit, edit, show, withdraw",
                                 guild_only=True)

    def __init__(self, bot: Hackbot):
        self.bot = bot

    @project.command(name="submit", description="Hand in your team's project (or save a draft): choices, then a form")
    async def submit(self, interaction: discord.Interaction) -> None:
        await _open_choices(interaction, edit=False)

    @project.command(name="edit", description="Change your team's project before the deadline")
    async def edit(self, interaction: discord.Interaction) -> None:
        await _open_choices(interaction, edit=True)

    @project.command(name="show", description="Your team's project, or another team's once the gallery is public")
    @app_commands.describe(team="Another team's name (its project is shown once the deadline passed)")
    async def show(self, interaction: discord.Interaction, team: str | None = None) -> None:
        service = services_of(interaction).projects
        if team is None:
            mine = await service.team_of(user_key(interaction.user))
            p = await service.of_team(mine.id)
            if p is None:
                raise NotAllowed("your team has no project yet; start one with /project submit")
            history = await service.history(p.id)
            changes = "\n".join(f"v{v.version} {v.change} by <@{v.author}> <t:{int(v.at.timestamp())}:R>"
                                for v in history[-5:])
            await send_ephemeral(interaction, f"{project_text(p, own=True)}\n**Changes**\n{changes}"[: limits.CONTENT],
                                 allowed_mentions=discord.AllowedMentions.none())
            return
        p = await service.of_team_named(team)
        organizer = is_organizer(interaction)
        if not organizer and (not service.gallery_public() or p.status != "submitted" or p.moderation == "ineligible"):
            closes = service.closes
            when = f" after {fmt_utc(closes)}" if closes else ""
            raise NotAllowed(f"other teams' projects are shown{when}, in the gallery")
        await send_ephemeral(interaction, project_text(p, own=organizer), allowed_mentions=discord.AllowedMentions.none())

    @project.command(name="bundle", description="Hand in your code as a zip and a written explanation per dataset")
    @app_commands.describe(exercise_id="The dataset the explanation is for", file="The zip of your code (not the data)",
                           explanation="How you solved this dataset (the jury reads it)")
    async def bundle(self, interaction: discord.Interaction, exercise_id: int | None = None,
                     file: discord.Attachment | None = None, explanation: str | None = None) -> None:
        services = services_of(interaction)
        bundles = services.bundles
        section = bundles.section
        team = await services.projects.team_of(user_key(interaction.user))
        upload = None
        if file is not None:
            limit = min(section.max_bytes, interaction.filesize_limit)
            if file.size > limit:
                raise NotAllowed(f"the zip has {file.size:,} bytes; the limit is {limit:,} bytes: leave the datasets out")
            await interaction.response.defer(ephemeral=True, thinking=True)
            upload = (file.filename, await file.read())
        saved = await bundles.save(team.id, user_key(interaction.user), file=upload, dataset_id=exercise_id,
                                   explanation=explanation)
        missing = saved.missing(bundles.datasets())
        text = (f"Your team's bundle: `{_esc(saved.filename)}` ({saved.size:,} bytes, sha256 `{(saved.sha256 or '')[:12]}`), "
                f"{len(saved.explanations)} explanation(s), version {saved.version}. Only organizers and judges see it.")
        if missing:
            text += f"\nStill to explain: dataset(s) {', '.join(map(str, missing))} (`/project bundle exercise_id explanation`)."
        await send_ephemeral(interaction, text)

    @project.command(name="pitch", description="Ask the jury to hear your team (a round that takes requests to pitch)")
    @app_commands.describe(note="What you would pitch, in a sentence (the jury reads it)")
    async def pitch(self, interaction: discord.Interaction, note: app_commands.Range[str, 0, 500] = "") -> None:
        asked = await services_of(interaction).judging.ask_to_pitch(user_key(interaction.user), note=note)
        title = asked.round.title or asked.round.id
        when = f" The teams heard are final at {fmt_utc(asked.final_at)}." if asked.final_at else ""
        if asked.new:
            text = f"{asked.team} asked to pitch in {title}: the jury hears your team with the shortlisted teams.{when}"
        else:
            text = f"{asked.team} has asked to pitch in {title} already: your team will be heard.{when}"
        await send_ephemeral(interaction, text, allowed_mentions=discord.AllowedMentions.none())

    @project.command(name="withdraw", description="Withdraw your team's project (you may submit it again before the deadline)")
    async def withdraw(self, interaction: discord.Interaction) -> None:
        service = services_of(interaction).projects
        team = await service.team_of(user_key(interaction.user))
        p = await service.of_team(team.id)
        if p is None:
            raise NotAllowed("your team has no project to withdraw")
        p = await service.withdraw(team.id, user_key(interaction.user), p.version)
        await send_ephemeral(interaction, f"Your project {p.title!r} is withdrawn: it does not enter judging. "
                                          "/project submit hands it in again before the deadline.")


async def moderation_queue(interaction: discord.Interaction) -> None:
    """/admin projects: the submitted projects by verdict, pending first, with the organizers' flags."""
    service = services_of(interaction).projects
    queue = await service.queue()
    if not queue:
        await send_ephemeral(interaction, "No submitted project yet.")
        return
    lines = [f"**{len(queue)} submitted project(s)**; rule with `/admin moderate team verdict reason` (or on the "
             "organizers' page, /organizers/projects with the key of `hackbot organizers link`)."]
    for p in queue:
        line = f"• **{_esc(p.team_name)}**: {_esc(p.title)} [{p.moderation}]"
        if p.verified is None and p.repo_url:
            line += " (repository unverified)"
        notes = [n.message for n in p.warnings] + [n.message for n in p.flags]
        if notes:
            line += "\n  " + "\n  ".join(f"⚑ {n[:200]}" for n in notes[:3])
        lines.append(line)
    text = "\n".join(lines)
    if len(text) > limits.CONTENT:
        text = text[: limits.CONTENT - 60] + "\n… (see `hackbot projects export` for all)"
    await send_ephemeral(interaction, text)


async def moderate(interaction: discord.Interaction, team: str, verdict: str, reason: str) -> None:
    """/admin moderate: the verdict; the team is told why in its channel (the outbox row the
    verdict committed with, run now so that the reply says whether it was posted)."""
    services = services_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    ruled = await services.projects.moderate(team, verdict, reason, user_key(interaction.user))
    name = ruled.project.team_name
    if ruled.notice_key is None:
        await send_ephemeral(interaction, f"Team {name}'s project was already **{verdict}** with this reason; "
                                          "nothing changed and the team is not told again.")
        return
    done = await side_effects(interaction, team_lane(ruled.project.team_id), TEAM_NOTICE)
    await send_ephemeral(interaction, f"Team {name}'s project is now **{verdict}**; {told(done)}.")


def told(done: Delivery | None) -> str:
    """Where the team was told, from its notice's outbox row."""
    if done is None or done.status in ("pending", "sending"):
        return "the bot tells the team in its channel shortly"
    if done.status == "failed":
        return f"the team could not be told in its channel: {done.error}"
    if (done.result or {}).get("skipped"):
        return "the team has no channel: it sees the verdict with /project show"
    return "the team is told in its channel"


PERSISTENT_ITEMS = (ChoiceSelect, FormButton, AnswersButton)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Projects(bot))
