"""Who is speaking: the owner (and the staff the owner named) or a customer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters import Filter
from aiogram.types import TelegramObject, User


class RoleMiddleware(BaseMiddleware):
    """Sets `is_owner` for every update; registered once, on dp.update."""

    def __init__(self, owner_ids: frozenset[int]) -> None:
        self._owner_ids = owner_ids

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["is_owner"] = user is not None and user.id in self._owner_ids
        return await handler(event, data)


class IsOwner(Filter):
    async def __call__(self, event: TelegramObject, is_owner: bool = False) -> bool:
        return is_owner


class IsCustomer(Filter):
    async def __call__(self, event: TelegramObject, is_owner: bool = False) -> bool:
        return not is_owner
