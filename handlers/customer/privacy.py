"""/stop ends offers (booking messages stay); /forget erases the customer's personal data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from handlers.once import ONCE_PER_MESSAGE
from services.privacy import PrivacyService
from ui.callbacks import ForgetConfirm, ResumeOffers
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stop_offers, Command("stop"))
    router.message.register(ask_forget, Command("forget"))
    router.callback_query.register(resume_offers, ResumeOffers.filter(), flags=ONCE_PER_MESSAGE)
    router.callback_query.register(confirm_forget, ForgetConfirm.filter(), flags=ONCE_PER_MESSAGE)
    return router


def _resume() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("pv-button-resume"), callback_data=ResumeOffers())
    return builder.as_markup()


async def stop_offers(message: Message, privacy: PrivacyService) -> None:
    assert message.from_user is not None
    await privacy.stop_offers(message.from_user.id)
    await message.answer(tr("pv-stopped"), reply_markup=_resume())


async def resume_offers(query: CallbackQuery, privacy: PrivacyService) -> None:
    """The button under /stop's answer: offers again, and it says so (not "registered")."""
    await privacy.resume_offers(query.from_user.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(tr("kw-offers-resumed"))


async def ask_forget(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("pv-button-forget-yes"), callback_data=ForgetConfirm(sure=True))
    builder.button(text=tr("pv-button-forget-no"), callback_data=ForgetConfirm(sure=False))
    builder.adjust(1)
    await message.answer(tr("pv-forget-ask"), reply_markup=builder.as_markup())


async def confirm_forget(
    query: CallbackQuery,
    callback_data: ForgetConfirm,
    state: FSMContext,
    bot: Bot,
    privacy: PrivacyService,
    settings: Settings,
    clock: Callable[[], datetime],
) -> None:
    assert isinstance(query.message, Message)
    if not callback_data.sure:
        await query.answer()
        await query.message.edit_text(tr("pv-forget-kept"))
        return
    # Before answering: someone with nothing to forget gets the refusal as the answer.
    customer_id = await privacy.forget(query.from_user.id, clock())
    await query.answer()
    await state.clear()
    await _drop_owner_drafts(state, bot.id, settings.owner_ids, customer_id)
    await query.message.edit_text(tr("pv-forgotten"))


def _mentions(data: object, customer_id: int) -> bool:
    """Whether conversation data refers to this customer (at any depth: drafts nest)."""
    if isinstance(data, dict):
        return data.get("customer_id") == customer_id or any(
            _mentions(value, customer_id) for value in data.values()
        )
    if isinstance(data, list):
        return any(_mentions(value, customer_id) for value in data)
    return False


async def _drop_owner_drafts(
    state: FSMContext, bot_id: int, owner_ids: Iterable[int], customer_id: int
) -> None:
    """End an owner's unfinished conversation about the erased person (a half-entered sale
    keeps their name in its data, in Redis when that is the storage)."""
    for owner_id in owner_ids:
        key = StorageKey(bot_id=bot_id, chat_id=owner_id, user_id=owner_id)
        if _mentions(await state.storage.get_data(key), customer_id):
            await state.storage.set_state(key, None)
            await state.storage.set_data(key, {})
