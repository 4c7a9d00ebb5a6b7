"""The owner's "Give the gift anyway" for a birthday entered too close to the day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from handlers.once import ONCE
from services.birthday_gift import BirthdayGiftService
from ui.callbacks import BirthdayGrant
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(grant_gift, BirthdayGrant.filter(), flags=ONCE)
    return router


async def grant_gift(
    query: CallbackQuery,
    callback_data: BirthdayGrant,
    birthday_gifts: BirthdayGiftService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    grant = await birthday_gifts.grant(callback_data.customer_id, clock())
    when = grant.send_at.astimezone(settings.zone)
    key = "kw-gift-queued" if grant.new else "kw-gift-already"
    text = tr(key, customer=grant.customer.label, when=f"{when:%d.%m %H:%M}")
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(text)
