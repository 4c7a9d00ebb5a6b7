"""A customer's answers to retention messages: "not now" on a reminder, a visit's rating."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot.callbacks import RateVisit, RebookDecline
from bot.config import Settings
from bot.filters import ANSWER
from bot.i18n import tr, tr_in
from bot.once import ONCE_PER_MESSAGE
from services.feedback import FeedbackService, RatingResult
from services.rebooking import decline_own
from storage.database import Database

log = logging.getLogger(__name__)


class LowRating(StatesGroup):
    reason = State()


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(decline_reminder, RebookDecline.filter(), flags=ONCE_PER_MESSAGE)
    # One rating per question: five stars are one choice.
    router.callback_query.register(rate_visit, RateVisit.filter(), flags=ONCE_PER_MESSAGE)
    router.message.register(explain_low_rating, LowRating.reason, ANSWER)
    router.message.register(ask_for_words, LowRating.reason, ~F.text)
    return router


async def decline_reminder(
    query: CallbackQuery,
    callback_data: RebookDecline,
    db: Database,
    clock: Callable[[], datetime],
) -> None:
    await decline_own(db, query.from_user.id, callback_data.ref, clock())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(tr("rb-declined"))


async def rate_visit(
    query: CallbackQuery,
    callback_data: RateVisit,
    state: FSMContext,
    feedback: FeedbackService,
    clock: Callable[[], datetime],
    bot: Bot,
    settings: Settings,
    i18n: I18n,
) -> None:
    result = await feedback.rate(
        query.from_user.id, callback_data.purchase_id, callback_data.stars, clock()
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if result.low:
            await state.set_state(LowRating.reason)
            await state.update_data(purchase_id=result.purchase_id)
            await query.message.answer(tr("rb-rating-ask-why"))
            # The master hears now, even if the customer never writes why.
            waiting = tr_in(i18n, settings.default_language, "rb-owner-low-rating-waiting")
            await _alert_owners(bot, settings, i18n, result, waiting)
        else:
            await query.message.answer(tr("rb-rating-thanks"))


async def explain_low_rating(
    message: Message,
    state: FSMContext,
    feedback: FeedbackService,
    bot: Bot,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.text is not None and message.from_user is not None
    data = await state.get_data()
    result = await feedback.explain(message.from_user.id, int(data["purchase_id"]), message.text)
    await state.clear()
    await message.answer(tr("rb-rating-comment-thanks"))
    await _alert_owners(bot, settings, i18n, result, message.text)


async def ask_for_words(message: Message) -> None:
    await message.answer(tr("error-rating-comment"))


async def _alert_owners(
    bot: Bot, settings: Settings, i18n: I18n, result: RatingResult, comment: str
) -> None:
    text = tr_in(
        i18n,
        settings.default_language,
        "rb-owner-low-rating",
        stars=result.stars,
        customer=result.customer.label,
        comment=comment[:3500],
    )
    for owner_id in settings.owner_ids:
        try:
            await bot.send_message(owner_id, text)
        except TelegramAPIError as exc:
            log.warning("low rating alert to %s failed: %s", owner_id, exc)
