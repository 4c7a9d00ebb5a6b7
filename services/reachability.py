"""Who can be written to: a customer who blocked the bot is unreachable until they unblock it.

Telegram tells us in two ways: a send answers 403 "bot was blocked by the user", and a
`my_chat_member` update in the private chat moves the bot to "kicked". Unblocking (or pressing
Start again) moves it back to "member". Unreachable customers get no outbox messages: the
delivery worker marks theirs `blocked` without sending.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from storage.database import Database
from storage.repositories import Repositories


class Change(Enum):
    UNREACHABLE = "unreachable"
    REACHABLE = "reachable"
    NONE = "none"


# The bot's own status in a private chat, as `my_chat_member` reports it.
_UNREACHABLE_STATUSES = frozenset({"kicked"})
_REACHABLE_STATUSES = frozenset({"member"})


def change_for(new_status: str) -> Change:
    if new_status in _UNREACHABLE_STATUSES:
        return Change.UNREACHABLE
    if new_status in _REACHABLE_STATUSES:
        return Change.REACHABLE
    return Change.NONE


async def mark_unreachable(
    repos: Repositories,
    now: datetime,
    *,
    customer_id: int | None = None,
    telegram_id: int | None = None,
) -> int:
    """Inside the caller's transaction (the worker's, after a 403)."""
    return await repos.reachability.set_blocked_at(
        now, customer_id=customer_id, telegram_id=telegram_id
    )


class ReachabilityService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def bot_status_changed(self, telegram_id: int, new_status: str, now: datetime) -> Change:
        """Record what a `my_chat_member` update in a private chat means; what changed."""
        change = change_for(new_status)
        if change is Change.NONE:
            return change
        when = now if change is Change.UNREACHABLE else None
        async with self._db.transaction() as repos:
            await repos.reachability.set_blocked_at(when, telegram_id=telegram_id)
        return change
