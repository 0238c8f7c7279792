"""Who holds a claimed row: a process named host:pid, and whether that process is gone (a row it
claimed may then be taken back at once). Shared by the reminder runner and the outbox drainer."""

from __future__ import annotations

import os
import socket


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """True when `owner` names a process of this host that no longer runs."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
