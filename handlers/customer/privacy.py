"""/stop ends offers (booking messages stay); /forget erases the customer's personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import ConsentChoice, ForgetConfirm
from bot.i18n import tr
from services.privacy import PrivacyService


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stop_offers, Command("stop"))
    router.message.register(ask_forget, Command("forget"))
    router.callback_query.register(confirm_forget, ForgetConfirm.filter())
    return router


def _resume() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr("pv-button-resume"), callback_data=ConsentChoice(agree=True))
    return builder.as_markup()


async def stop_offers(message: Message, privacy: PrivacyService) -> None:
    assert message.from_user is not None
    await privacy.stop_offers(message.from_user.id)
    await message.answer(tr("pv-stopped"), reply_markup=_resume())


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
    privacy: PrivacyService,
    clock: Callable[[], datetime],
) -> None:
    await query.answer()
    assert isinstance(query.message, Message)
    if not callback_data.sure:
        await query.message.edit_text(tr("pv-forget-kept"))
        return
    await privacy.forget(query.from_user.id, clock())
    await state.clear()
    await query.message.edit_text(tr("pv-forgotten"))
