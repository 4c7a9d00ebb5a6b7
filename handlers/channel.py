"""The shop's channel: join requests through tracked links become leads with a welcome DM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatJoinRequest, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from services.customers import TelegramPerson
from services.growth import GrowthService
from ui.i18n import tr

log = logging.getLogger(__name__)


def create_router(settings: Settings) -> Router:
    router = Router(name=__name__)
    if settings.channel_id is not None:
        router.chat_join_request.register(approve_and_welcome, F.chat.id == settings.channel_id)
    return router


def start_button(bot_username: str, source: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("ch-button-start"), url=f"https://t.me/{bot_username}?start={source}")
    return builder.as_markup()


async def approve_and_welcome(
    request: ChatJoinRequest,
    bot: Bot,
    growth: GrowthService,
    clock: Callable[[], datetime],
) -> None:
    user = request.from_user
    person = TelegramPerson(
        user.id, user.first_name, user.last_name, user.username, user.language_code
    )
    invite = request.invite_link.invite_link if request.invite_link else None
    lead = await growth.join_request(person, invite, clock())
    await request.approve()
    # user_chat_id lets the bot write first, within five minutes of the request.
    me = await bot.me()
    try:
        await bot.send_message(
            request.user_chat_id,
            # No gift is promised: the shop has no first-visit gift to give.
            tr("kw-channel-welcome", name=user.first_name),
            reply_markup=start_button(me.username or "", lead.source),
        )
    except TelegramAPIError as exc:
        log.warning("welcome to %s after joining failed: %s", user.id, exc)
