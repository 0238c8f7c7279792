"""Who sees scores: the one rule behind the leaderboard, a submitter's accuracy and the answer
to a repeated submission, for every door (Discord, the HTTP API, the CLI)."""

from __future__ import annotations

from bot.config import EventConfig


def scores_visible(config: EventConfig, *, organizer: bool = False) -> bool:
    """Organizers always see scores; participants (a submitter reading its accuracy included)
    while the event's leaderboard is live, and never while it is hidden until the announcement."""
    return organizer or config.leaderboard.visibility == "live"
