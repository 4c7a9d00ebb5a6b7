"""The last word: anything no other handler understood."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from handlers.customer import inbox
from handlers.roles import IsCustomer
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(need_text, ~StateFilter(None), ~F.text)
    # A customer's words nobody understood are for the owner (commands are not words).
    router.message.register(inbox.pass_on, IsCustomer(), ~F.text.startswith("/"))
    router.message.register(not_understood)
    router.callback_query.register(stale_button)
    return router


async def need_text(message: Message) -> None:
    await message.answer(tr("error-need-text"))


async def not_understood(message: Message) -> None:
    await message.answer(tr("not-understood"))


async def stale_button(query: CallbackQuery) -> None:
    """A button from a form that is already finished or was cancelled."""
    await query.answer(tr("error-stale-button"), show_alert=True)
