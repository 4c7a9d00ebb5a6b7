"""Commands everybody has: /help and /cancel."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove

from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(help_handler, Command("help"))
    router.message.register(cancel_handler, Command("cancel"), StateFilter("*"))
    return router


async def help_handler(message: Message, is_owner: bool) -> None:
    await message.answer(tr("help-owner" if is_owner else "help-customer"))


async def cancel_handler(message: Message, state: FSMContext) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(
        tr("cancelled" if had_state else "nothing-to-cancel"), reply_markup=ReplyKeyboardRemove()
    )
