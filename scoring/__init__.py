"""Pure-numpy scoring: label-file parsing, metrics and the leaderboard.

Depends only on numpy and the standard library so it can be used and tested
without the bot's network stack.
"""

from scoring.metrics import (
    PairedBootstrap,
    Score,
    Scorer,
    Scores,
    accuracy,
    bootstrap_ci,
    group_accuracy,
    paired_bootstrap,
    score_many,
    score_one,
    worst_group_accuracy,
)
from scoring.parse import LabelFileError, ascii_int, parse_labels
from scoring.ranking import Ranking, leaderboard

__all__ = [
    "LabelFileError", "PairedBootstrap", "Ranking", "Score", "Scorer", "Scores", "accuracy", "ascii_int",
    "bootstrap_ci", "group_accuracy", "leaderboard", "paired_bootstrap", "parse_labels", "score_many",
    "score_one", "worst_group_accuracy",
]
