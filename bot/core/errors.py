"""Domain errors. Each carries a message a participant can act on, and the kind of refusal.

The HTTP layer maps `status` to the response code of DESIGN.md; the Discord layer shows the
message ephemerally. Neither needs to know which rule was broken.
"""

from __future__ import annotations


class HackbotError(Exception):
    status = 400  # bad input

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(HackbotError):
    status = 400


class BadCredentials(HackbotError):
    status = 401


class NotAllowed(HackbotError):
    """Not allowed now: budget spent, team not validated, dataset not in this phase, closed."""

    status = 403


class NotFound(HackbotError):
    status = 404


class AlreadyDone(HackbotError):
    """A one-time action done already (the one submission per dataset and phase)."""

    status = 409


class TooLarge(HackbotError):
    status = 413


class TooManyAttempts(HackbotError):
    status = 429

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(HackbotError):
    """The database cannot record anything now: a full disk, a read-only or locked database, or the
    PostgreSQL server unreachable or out of disk. Nothing was written; trying again later is the
    right move (the HTTP API answers 503).

    Two texts for two audiences: `message` is what participants see (a Discord reply, the HTTP
    API's answer): that nothing was recorded and to try again, never a path or the database's
    words. `reason` says what is wrong, for organizers: the CLI's message, the server's log and
    the report to the organizers' channel."""

    status = 503
    MESSAGE = "nothing was recorded: the server cannot write right now; try again in a minute"

    def __init__(self, message: str = MESSAGE, *, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message
