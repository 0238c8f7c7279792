"""The organizers' secret links to their pages (the mentoring metrics, the perks' stock):
`hackbot organizers link` makes one, `hackbot organizers revoke` ends them all.

A link carries a random token (192 bits); only its SHA-256 is stored, as for the teams' API
passwords (bot/core/teams.py): a slow hash buys nothing against a random token. The pages that
take it answer no-store and no-referrer, so the token stays out of caches and other sites' logs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.store import Store


@dataclass(frozen=True)
class NewLink:
    token: str  # shown once
    label: str

    def __repr__(self) -> str:
        return f"NewLink(token=<hidden>, label={self.label!r})"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class OrganizerLinks:
    def __init__(self, store: Store, clock: Clock):
        self.store, self.clock = store, clock

    async def create(self, label: str = "") -> NewLink:
        token = secrets.token_urlsafe(24)
        await self.store.execute(
            "INSERT INTO organizer_links(digest, label, created_at) VALUES (?, ?, ?)",
            (_digest(token), label.strip()[:100], self.clock().timestamp()),
        )
        return NewLink(token, label.strip()[:100])

    async def valid(self, token: str | None) -> bool:
        if not token or len(token) > 100:
            return False
        return bool(await self.store.fetchone(
            "SELECT 1 FROM organizer_links WHERE digest = ? AND revoked_at IS NULL", (_digest(token),)
        ))

    async def revoke_all(self) -> int:
        return await self.store.execute(
            "UPDATE organizer_links SET revoked_at = ? WHERE revoked_at IS NULL", (self.clock().timestamp(),)
        )
