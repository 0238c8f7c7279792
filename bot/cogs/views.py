"""The buttons every cog shares: Prev/Next over a paged embed, and Yes/No on a question.

Both are persistent (discord.py `DynamicItem`): the custom_id names what the button acts on, so a
click is answered by whatever process runs the bot, after any restart, with nothing kept in
memory. A paged embed's button says which pager draws it, with what arguments and which page;
a question's button says which question, who may answer it, and its arguments. The cogs
register what draws their pages and what answers their questions (`PAGERS`, `QUESTIONS`), and
Hackbot.setup_hook registers the two button kinds (`PERSISTENT_ITEMS`).

Custom ids hold at most 100 characters (discord_limits.CUSTOM_ID), so arguments stay short:
ids and indexes, never names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.discord_limits import CUSTOM_ID
from bot.tree import report_error, send_ephemeral

# draw(interaction, args, page) -> (the page's embed, how many pages there are)
Draw = Callable[[discord.Interaction, str, int], Awaitable[tuple[discord.Embed, int]]]
PAGERS: dict[str, Draw] = {}


@dataclass(frozen=True)
class Question:
    """What a Yes/No pair answers. `who` ends "Only <@id>, {who}, can answer this"."""

    yes: Callable[[discord.Interaction, str], Awaitable[None]]
    no: Callable[[discord.Interaction, str], Awaitable[None]]
    who: str = "who asked"


QUESTIONS: dict[str, Question] = {}

_ARGS = r"[A-Za-z0-9_.=-]*"


def page_count(rows: int, size: int) -> int:
    return max(1, math.ceil(rows / size))


def _checked(custom_id: str) -> str:
    if len(custom_id) > CUSTOM_ID:
        raise ValueError(f"custom_id {custom_id!r} is over Discord's {CUSTOM_ID} characters")
    return custom_id


# --- pages ------------------------------------------------------------------------------------

class PageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"hackbot:page:(?P<kind>[a-z]+):(?P<args>{_ARGS}):(?P<page>[0-9]+):(?P<side>[pn])",
):
    """Prev or Next: shows page `page` of what PAGERS[kind] draws with `args`."""

    def __init__(self, kind: str, args: str, page: int, side: str, *, disabled: bool = False):
        label = "Prev" if side == "p" else "Next"
        custom_id = _checked(f"hackbot:page:{kind}:{args}:{max(page, 0)}:{side}")
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id,
                                           disabled=disabled))
        self.kind, self.args, self.page = kind, args, max(page, 0)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> PageButton:
        return cls(match["kind"], match["args"], int(match["page"]), match["side"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            draw = PAGERS.get(self.kind)
            if draw is None:
                await send_ephemeral(interaction, "These pages are no longer available; run the command again.")
                return
            embed, pages = await draw(interaction, self.args, self.page)
            page = min(self.page, pages - 1)
            await interaction.response.edit_message(embed=embed, view=pager_view(self.kind, self.args, page, pages))
        except Exception as error:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, error)


def pager_view(kind: str, args: str, page: int, pages: int) -> discord.ui.View | None:
    """Prev/Next under page `page` (0-based) of `pages`; None when there is one page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(kind, args, page - 1, "p", disabled=page <= 0))
    view.add_item(PageButton(kind, args, page + 1, "n", disabled=page >= pages - 1))
    return view


async def send_pages(interaction: discord.Interaction, kind: str, args: str = "") -> None:
    """The first page, ephemeral, with Prev/Next when there are more."""
    embed, pages = await PAGERS[kind](interaction, args, 0)
    view = pager_view(kind, args, 0, pages)
    if view is None:
        await interaction.response.send_message(embed=embed, ephemeral=True)
    else:
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


# --- questions ----------------------------------------------------------------------------------

class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=rf"hackbot:ask:(?P<what>[a-z]+):(?P<answer>yes|no):(?P<owner>[0-9]+):(?P<args>{_ARGS})",
):
    """Yes or No to QUESTIONS[what], for the member `owner` only."""

    def __init__(self, what: str, answer: str, owner: int, args: str, *, label: str = "",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary):
        custom_id = _checked(f"hackbot:ask:{what}:{answer}:{owner}:{args}")
        super().__init__(discord.ui.Button(label=label or answer.title(), style=style, custom_id=custom_id))
        self.what, self.answer, self.owner, self.args = what, answer, owner, args

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> AnswerButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["what"], match["answer"], int(match["owner"]), match["args"], label=label or "")

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.owner:
            return True
        question = QUESTIONS.get(self.what)
        who = question.who if question else "who asked"
        await send_ephemeral(interaction, f"Only <@{self.owner}>, {who}, can answer this.")
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            question = QUESTIONS.get(self.what)
            if question is None:
                await send_ephemeral(interaction, "This question is no longer open; run the command again.")
                return
            await (question.yes if self.answer == "yes" else question.no)(interaction, self.args)
        except Exception as error:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, error)


def question_view(what: str, owner: int, args: str, *, yes: str, no: str = "Cancel") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(what, "yes", owner, args, label=yes, style=discord.ButtonStyle.success))
    view.add_item(AnswerButton(what, "no", owner, args, label=no))
    return view


def answered_view(yes: str, no: str = "Cancel") -> discord.ui.View:
    """The question's buttons, greyed out once it is answered (no custom_id reaches the bot again)."""
    view = discord.ui.View(timeout=None)
    for n, label in enumerate((yes, no)):
        view.add_item(discord.ui.Button(label=label, disabled=True, custom_id=f"hackbot:answered:{n}"))
    return view


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (PageButton, AnswerButton)
