"""/app: a button that opens the Mini App (issue 12), for the owner and for customers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo

from bot.config import Settings
from ui.i18n import tr


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(app_command, Command("app"))
    return router


def app_button(settings: Settings, key: str = "wa-app-button") -> InlineKeyboardButton | None:
    """A web_app button (private chats only, which is where the bot talks), or None when the
    Mini App is off."""
    if not settings.webapp_url:
        return None
    return InlineKeyboardButton(text=tr(key), web_app=WebAppInfo(url=settings.webapp_url))


async def app_command(message: Message, settings: Settings, is_owner: bool) -> None:
    button = app_button(settings)
    if button is None:
        await message.answer(tr("wa-app-off-owner" if is_owner else "wa-app-off-customer"))
        return
    await message.answer(
        tr("wa-app-owner" if is_owner else "wa-app-customer"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
