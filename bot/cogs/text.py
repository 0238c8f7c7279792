"""Small text helpers every reply uses: names people chose, shown as typed and never as markup or
a ping; numbers; and texts cut at Discord's limits (bot/discord_limits.py) before they are sent."""

from __future__ import annotations

import discord

from bot import discord_limits as limits

ELLIPSIS = "…"


def shown(name: str) -> str:
    """A name someone typed (a team, an event), shown as typed: no bold, no link, no ping.
    A team called "<@&123>" or "@everyone" is written out, never a mention."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(name))


def number(value: float) -> str:
    return f"{value:g}"


def points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def fit_lines(lines: list[str], limit: int, *, more: str = "… and {n} more") -> str:
    """As many whole lines as fit in `limit` characters, then a line saying how many were left out."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for n, line in enumerate(lines):
        tail = "\n" + more.format(n=len(lines) - n - 1)
        if len("\n".join([*kept, line])) + len(tail) > limit:
            break
        kept.append(line)
    return clip("\n".join([*kept, more.format(n=len(lines) - len(kept))]), limit)


def chunks(blocks: list[str], limit: int = limits.CONTENT) -> list[str]:
    """Blocks (lines or paragraphs) packed, in order, into messages of at most `limit` characters;
    a block longer than a message is cut. Nothing is lost between messages."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = clip(block, limit)
        candidate = f"{current}\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts towards an embed's 6000 (D message.mdx:619)."""
    return len(embed)
