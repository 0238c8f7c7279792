"""Who sees scores: the one rule behind the leaderboard, a submitter's accuracy and the answer
to a repeated submission, for every door (Discord, the HTTP API, the CLI)."""

from __future__ import annotations

from datetime import datetime

from bot.config import Dataset, EventConfig, Visibility


def scores_visible(config: EventConfig, *, organizer: bool = False) -> bool:
    """Organizers always see scores; participants (a submitter reading its accuracy included)
    while the event's leaderboard is live, and never while it is hidden until the announcement."""
    return organizer or config.leaderboard.visibility == "live"


# --- per dataset and phase (issue 16) -------------------------------------------------------

def board_visibility(config: EventConfig, dataset: Dataset, phase_id: str) -> Visibility:
    """A dataset's board in a phase: "live", "hidden" (no scores on the board) or "blind" (no
    score anywhere a participant looks, their own submission's reply included)."""
    return dataset.visibility_in(phase_id, config.leaderboard.visibility)


def reply_shows_score(config: EventConfig, dataset: Dataset, phase_id: str) -> bool:
    """Whether the team's own reply to a submission carries its score. Live: yes; blind: no;
    hidden: the event-wide [leaderboard] hidden keeps Hackathon42's rule (nothing until the
    announcement), a dataset's own "hidden" hides the board only."""
    shown = board_visibility(config, dataset, phase_id)
    if shown != "hidden":
        return shown == "live"
    own = dataset.visibility.get(phase_id) if isinstance(dataset.visibility, dict) else dataset.visibility
    return own == "hidden"


def frozen(dataset: Dataset, now: datetime) -> bool:
    """Past the dataset's freeze: the public board stops moving for participants."""
    return dataset.freeze is not None and now >= dataset.freeze


def final(config: EventConfig, now: datetime) -> bool:
    """Submissions have closed: the final board ranks by the private scores."""
    closes = config.submissions.closes
    return closes is not None and now >= closes
