"""A customer's answers to retention messages: "not now" on a reminder, a visit's rating."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from handlers.filters import ANSWER
from handlers.once import ONCE_PER_MESSAGE
from services.feedback import FeedbackService
from services.owner_notices import OwnerNotices
from services.rebooking import RebookingService
from ui.callbacks import RateVisit, RebookDecline
from ui.i18n import tr


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
    rebooking: RebookingService,
    clock: Callable[[], datetime],
) -> None:
    await rebooking.decline(query.from_user.id, callback_data.ref, clock())
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
    owner_notices: OwnerNotices,
) -> None:
    now = clock()
    result = await feedback.rate(
        query.from_user.id, callback_data.purchase_id, callback_data.stars, now
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if result.low:
            await state.set_state(LowRating.reason)
            await state.update_data(purchase_id=result.purchase_id)
            await query.message.answer(tr("rb-rating-ask-why"))
            # The master hears now, even if the customer never writes why.
            await owner_notices.low_rating(result, None, now)
        else:
            await query.message.answer(tr("rb-rating-thanks"))


async def explain_low_rating(
    message: Message,
    state: FSMContext,
    feedback: FeedbackService,
    owner_notices: OwnerNotices,
    clock: Callable[[], datetime],
) -> None:
    assert message.text is not None and message.from_user is not None
    data = await state.get_data()
    result = await feedback.explain(message.from_user.id, int(data["purchase_id"]), message.text)
    await state.clear()
    await message.answer(tr("rb-rating-comment-thanks"))
    await owner_notices.low_rating(result, message.text, clock())


async def ask_for_words(message: Message) -> None:
    await message.answer(tr("error-rating-comment"))
