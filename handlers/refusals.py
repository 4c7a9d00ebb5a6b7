"""What a customer gets for an owner command or an owner button: a refusal, nothing done."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from handlers.roles import IsCustomer
from ui.callbacks import OWNER_PREFIX
from ui.commands import OWNER_ONLY_COMMANDS
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(refuse_command, IsCustomer(), Command(*OWNER_ONLY_COMMANDS))
    router.callback_query.register(refuse_button, IsCustomer(), F.data.startswith(OWNER_PREFIX))
    return router


async def refuse_command(message: Message) -> None:
    await message.answer(tr("error-owner-only"))


async def refuse_button(query: CallbackQuery) -> None:
    await query.answer(tr("error-owner-only"), show_alert=True)
