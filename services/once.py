"""Buttons that act once: the first press of a button claims it, later presses find it taken.

A press is named by its chat, the message the button sits on and the button's callback data,
so the same button on another message (a new /sale, the next reminder) is a new press.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Database

# A claim only has to outlive the button's usefulness; older ones can be pruned.
KEEP_CLAIMS = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Press:
    chat_id: int
    message_id: int
    data: str


class OnceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, press: Press, now: datetime) -> bool:
        """True for the first press (act on it); False when it was acted on already.

        Its own committed transaction, before the action starts: a second press handled at
        the same moment (another task, another process) must already see the claim.
        """
        async with self._db.transaction() as repos:
            return await repos.once.claim(press.chat_id, press.message_id, press.data, now)

    async def release(self, press: Press) -> None:
        """The action failed: the press did nothing, so pressing again must work."""
        async with self._db.transaction() as repos:
            await repos.once.release(press.chat_id, press.message_id, press.data)

    async def prune(self, now: datetime) -> int:
        async with self._db.transaction() as repos:
            return await repos.once.prune(now - KEEP_CLAIMS)
