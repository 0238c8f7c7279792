"""/submit: the Discord door onto submissions. It asks before it spends.

The file is checked by its name and announced size before it is downloaded, validated in full
(`SubmissionService.validate`), and only a click on "Submit" records it
(`SubmissionService.confirm`). Cancel, or letting the question expire, spends nothing.

The checked file waits in this process's memory for the click (it is never written before the
team says so). The Submit/Cancel buttons are persistent (bot/cogs/views.py): after a restart the
click still gets an answer, that the question no longer holds the file and to run /submit again.
Their custom_id carries the question's nonce and when it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_limits as limits
from bot.cogs import views
from bot.cogs.choices import dataset_choices
from bot.cogs.common import services_of, team_of
from bot.cogs.text import clip, points
from bot.core.controls import OwnSubmission
from bot.core.errors import AlreadyDone, NotAllowed
from bot.core.services import Services
from bot.core.submissions import Submission, Validated

if TYPE_CHECKING:
    from bot.app import Hackbot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 120.0  # seconds to click Submit before the question expires
QUESTION = "submit"
YES, NO = "Submit", "Cancel"


def render_submitted(submission: Submission, dataset_points: float, live: bool, filename: str) -> str:
    """The reply to a recorded submission. `live`: the reply may carry the score (the dataset's
    visibility; blind: never)."""
    head = f"Submitted for dataset {submission.dataset_id}: `{filename}`, {submission.rows} rows."
    left = "" if submission.left is None else f" Submissions left on this dataset: {submission.left}."
    if not live or submission.score is None:
        return f"{head} Recorded; scores stay hidden until the organizers announce the results.{left}"
    score = submission.score
    name = "Public accuracy" if submission.split else "Accuracy"  # the private part is never shown
    text = (
        f"{head} {name} **{score:.4f}** "
        f"({points(dataset_points)} × {score:.4f} = {dataset_points * score:.3f})."
    )
    if submission.worst_group is not None and not submission.split:
        text += f" Worst group accuracy: {submission.worst_group:.4f}."
    return text + left


def _filename(name: str) -> str:
    return clip(name.replace("`", "'"), 100)


@dataclass
class PendingSubmission:
    """A checked file waiting for Submit. The database's one-submission rule decides between two
    clicks (the second is told the dataset was already submitted)."""

    services: Services
    validated: Validated
    owner_id: int
    expires_at: datetime
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    state: str = "open"  # open | submitted | cancelled | expired
    confirming: int = 0  # Submit clicks being recorded right now
    message: discord.WebhookMessage | None = None  # the question, edited when it expires

    @property
    def dataset_id(self) -> int:
        return self.validated.opened.dataset.id

    @property
    def args(self) -> str:
        return f"{self.nonce}.{int(self.expires_at.timestamp())}"

    def prompt(self) -> str:
        ds = self.validated.opened.dataset
        quota = self.validated.quota
        if not ds.submissions.one_shot:
            left = "" if quota is None or quota.left is None else f" You have {quota.left} left on this dataset."
            return (
                f"Submit for dataset {ds.id} ({points(ds.points)}): `{_filename(self.validated.filename)}`, "
                f"{self.validated.opened.hidden.n} rows, checked and valid.{left} Submit it? "
                f"This question expires {discord.utils.format_dt(self.expires_at, 'R')}."
            )
        return (
            f"This is your only submission for dataset {ds.id} ({points(ds.points)}): "
            f"`{_filename(self.validated.filename)}`, {self.validated.opened.hidden.n} rows, checked and valid. "
            f"It cannot be replaced. Submit it? This question expires {discord.utils.format_dt(self.expires_at, 'R')}."
        )

    def refuse_if_closed(self) -> None:
        if self.state == "cancelled":
            raise NotAllowed("you cancelled this; nothing was submitted. Run /submit again to submit")
        if self.state == "expired":
            raise NotAllowed("this question expired; nothing was submitted. Run /submit again to submit")

    async def expire(self) -> None:
        """The question's time is up: this process lets go of the file and, when the question was
        still open, says that nothing was submitted. A later click reads the expiry in its
        custom_id."""
        if not self.confirming:
            PENDING.pop(self.nonce, None)
        if self.state != "open" or self.confirming:
            return
        self.state = "expired"
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):  # the question is gone: nothing left to update
                await self.message.edit(content="Expired: nothing was submitted. Run /submit again to submit.",
                                        view=views.answered_view(YES, NO))


# nonce -> the question this process still holds; a restart empties it
PENDING: dict[str, PendingSubmission] = {}
_EXPIRING: set[asyncio.Task] = set()  # expiries under way (a task nobody holds may be collected)


def _pending(args: str) -> PendingSubmission:
    nonce, _, expires = args.partition(".")
    pending = PENDING.get(nonce)
    if pending is not None:
        return pending
    if expires.isdigit() and datetime.fromtimestamp(int(expires), UTC) <= discord.utils.utcnow():
        raise NotAllowed("this question expired; nothing was submitted. Run /submit again to submit")
    raise NotAllowed("this question was asked before the bot restarted and no longer holds your file: "
                     "nothing was submitted, your one submission is unused. Run /submit again")


async def submit_clicked(interaction: discord.Interaction, args: str) -> None:
    pending = _pending(args)
    pending.refuse_if_closed()
    pending.confirming += 1
    try:
        submission = await pending.services.submissions.confirm(pending.validated, source="discord")
    finally:
        pending.confirming -= 1
    pending.state = "submitted"
    text = render_submitted(submission, pending.validated.opened.dataset.points, submission.score_visible,
                            _filename(pending.validated.filename))
    await interaction.response.edit_message(content=text, view=views.answered_view(YES, NO))


async def cancel_clicked(interaction: discord.Interaction, args: str) -> None:
    pending = _pending(args)
    if pending.state == "submitted" or pending.confirming:
        raise AlreadyDone("too late to cancel: this file is submitted")
    pending.refuse_if_closed()
    pending.state = "cancelled"
    await interaction.response.edit_message(
        content=f"Cancelled: nothing was submitted; your one submission for dataset {pending.dataset_id} is unused.",
        view=views.answered_view(YES, NO),
    )


views.QUESTIONS[QUESTION] = views.Question(submit_clicked, cancel_clicked, who="who ran /submit")


class Submissions(commands.Cog):
    def __init__(self, bot: Hackbot):
        self.bot = bot

    @app_commands.command(name="submit", description="Submit your predictions for a dataset: one submission each")
    @app_commands.describe(
        exercise_id="The dataset, as in /reveal", file="A .csv file: one integer label per line, no header"
    )
    @app_commands.autocomplete(exercise_id=dataset_choices)
    async def submit(self, interaction: discord.Interaction, exercise_id: int, file: discord.Attachment) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        team = await team_of(interaction)
        # refused by name and size before anything is downloaded
        services.submissions.check_upload(file.filename, file.size, limit=interaction.filesize_limit)
        data = await file.read()
        validated = await services.submissions.validate(team, exercise_id, file.filename, data)
        pending = PendingSubmission(services, validated, interaction.user.id,
                                    discord.utils.utcnow() + timedelta(seconds=CONFIRM_TIMEOUT))
        PENDING[pending.nonce] = pending
        view = views.question_view(QUESTION, interaction.user.id, pending.args, yes=YES, no=NO)
        pending.message = await interaction.followup.send(pending.prompt(), view=view, ephemeral=True, wait=True)
        asyncio.get_running_loop().call_later(CONFIRM_TIMEOUT, _expire_later, pending)


def render_own(dataset_id: int, own: list[OwnSubmission], closes: datetime | None) -> str:
    """The team's submissions on a dataset, numbered as /final-pick takes them."""
    if not own:
        return f"Your team has no submission for dataset {dataset_id} yet."
    lines = [f"Your team's submissions for dataset {dataset_id} (pick one with `/final-pick {dataset_id} <number>`):"]
    for s in own:
        score = "" if s.score is None else f" · public accuracy {s.score:.4f}"
        mark = " · **picked**" if s.picked else ""
        lines.append(f"`{s.number}` · {discord.utils.format_dt(datetime.fromtimestamp(s.submitted_at, UTC), 'f')}"
                     f"{score}{mark}")
    if closes is not None:
        lines.append(f"Picks close {discord.utils.format_dt(closes, 'R')}.")
    return clip("\n".join(lines), limits.CONTENT)


class FinalPick(commands.Cog):
    def __init__(self, bot: Hackbot):
        self.bot = bot

    @app_commands.command(name="final-pick",
                          description="Choose which of your submissions counts for a dataset (where the event asks you to)")
    @app_commands.describe(exercise_id="The dataset", number="Which submission (1 = your first); leave empty to list them")
    @app_commands.autocomplete(exercise_id=dataset_choices)
    async def final_pick(self, interaction: discord.Interaction, exercise_id: int,
                         number: app_commands.Range[int, 1, 10_000] | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        team = await team_of(interaction)
        dataset = services.config.dataset(exercise_id)
        closes = services.controls.pick_closes(dataset) if dataset is not None else None
        if number is None:
            own = await services.controls.own(team, exercise_id)
            await interaction.followup.send(render_own(exercise_id, own, closes), ephemeral=True)
            return
        pick = await services.controls.final_pick(team, exercise_id, number)
        score = "" if pick.score is None else f" (public accuracy {pick.score:.4f})"
        until = "" if pick.closes is None else f" You can change it until {discord.utils.format_dt(pick.closes, 'f')}."
        await interaction.followup.send(
            f"Submission {pick.number} now counts for dataset {pick.dataset_id}{score}.{until}", ephemeral=True)


def _expire_later(pending: PendingSubmission) -> None:
    task = asyncio.create_task(pending.expire(), name="hackbot-submit-expiry")
    _EXPIRING.add(task)
    task.add_done_callback(_EXPIRING.discard)


async def setup(bot: Hackbot) -> None:
    await bot.add_cog(Submissions(bot))
    await bot.add_cog(FinalPick(bot))
