"""The command menus Telegram shows: one per role, in each language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n

from bot.config import Settings
from ui.commands import CUSTOMER_COMMANDS as CUSTOMERS
from ui.commands import OWNER_COMMANDS as OWNERS
from ui.i18n import LANGUAGES, create_i18n

log = logging.getLogger(__name__)


def _commands(i18n: I18n, language: str, spec: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(key, locale=language))
        for name, key in spec
    ]


# issue 12: /app opens the Mini App; in the menus only when WEBAPP_URL is set.
APP_COMMAND = ("app", "wa-command-app")


async def set_command_menus(bot: Bot, settings: Settings) -> None:
    i18n = create_i18n(settings.default_language)
    default = settings.default_language
    extra = (APP_COMMAND,) if settings.webapp_url else ()
    customer_commands, owner_commands = (*CUSTOMERS, *extra), (*OWNERS, *extra)
    await bot.set_my_commands(_commands(i18n, default, customer_commands), BotCommandScopeDefault())
    for language in LANGUAGES:
        await bot.set_my_commands(
            _commands(i18n, language, customer_commands),
            BotCommandScopeDefault(),
            language_code=language,
        )
    for owner_id in settings.owner_ids:
        scope = BotCommandScopeChat(chat_id=owner_id)
        try:
            await bot.set_my_commands(_commands(i18n, default, owner_commands), scope)
            for language in LANGUAGES:
                await bot.set_my_commands(
                    _commands(i18n, language, owner_commands), scope, language_code=language
                )
        except TelegramAPIError as exc:  # "chat not found" until the owner opens the bot
            log.warning("owner menu for %s not set: %s", owner_id, exc)


async def set_owner_menu_buttons(bot: Bot, settings: Settings) -> None:
    """The button beside each owner's message field opens the Mini App (setChatMenuButton per
    owner chat); customers keep the commands menu and get /app and the "Book" button."""
    if not settings.webapp_url:
        return
    i18n = create_i18n(settings.default_language)
    button = MenuButtonWebApp(
        text=i18n.gettext("wa-menu-button", locale=settings.default_language),
        web_app=WebAppInfo(url=settings.webapp_url),
    )
    for owner_id in settings.owner_ids:
        try:
            await bot.set_chat_menu_button(chat_id=owner_id, menu_button=button)
        except TelegramAPIError as exc:  # "chat not found" until the owner opens the bot
            log.warning("owner menu button for %s not set: %s", owner_id, exc)
