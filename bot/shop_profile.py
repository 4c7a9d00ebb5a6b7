"""The shop profile, read once per update and handed to handlers as `shop_profile`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update

from services.shop import ShopService


class ShopProfileMiddleware(BaseMiddleware):
    """Registered once, as an outer middleware on dp.update.

    A conversation (a private message, a button) is what shows money and applies the
    owner's knobs, so only those updates pay for the read: one short read-only
    transaction, whatever the handler then does. Services the handler calls take the
    profile as a parameter instead of reading the settings again.
    """

    def __init__(self, shop: ShopService) -> None:
        self._shop = shop

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if _needs_profile(event, data.get("event_chat")):
            data["shop_profile"] = await self._shop.profile()
        return await handler(event, data)


def _needs_profile(event: TelegramObject, chat: Chat | None) -> bool:
    if not isinstance(event, Update):
        return False
    # Any button press (one under a channel post too reaches the private routers' handlers);
    # messages only from private chats, the only ones the bot answers.
    if event.callback_query is not None:
        return True
    return event.message is not None and chat is not None and chat.type == "private"
