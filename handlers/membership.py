"""The bot's membership in private chats: blocked ("kicked") or unblocked ("member")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated

from services.reachability import Change, ReachabilityService

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name=__name__)
    router.my_chat_member.register(bot_status_changed, F.chat.type == "private")
    return router


async def bot_status_changed(
    event: ChatMemberUpdated,
    reachability: ReachabilityService,
    clock: Callable[[], datetime],
) -> None:
    # In a private chat the chat id is the person's Telegram id.
    change = await reachability.bot_status_changed(
        event.chat.id, event.new_chat_member.status, clock()
    )
    if change is not Change.NONE:
        log.info("chat %s is now %s", event.chat.id, change.value)
