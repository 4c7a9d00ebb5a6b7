"""The command menus Telegram shows: one per role, in each language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.config import Settings
from ui.commands import CUSTOMER_COMMANDS, OWNER_COMMANDS
from ui.i18n import LANGUAGES, create_i18n

log = logging.getLogger(__name__)


def _commands(i18n: I18n, language: str, spec: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(key, locale=language))
        for name, key in spec
    ]


async def set_command_menus(bot: Bot, settings: Settings) -> None:
    i18n = create_i18n(settings.default_language)
    default = settings.default_language
    await bot.set_my_commands(_commands(i18n, default, CUSTOMER_COMMANDS), BotCommandScopeDefault())
    for language in LANGUAGES:
        await bot.set_my_commands(
            _commands(i18n, language, CUSTOMER_COMMANDS),
            BotCommandScopeDefault(),
            language_code=language,
        )
    for owner_id in settings.owner_ids:
        scope = BotCommandScopeChat(chat_id=owner_id)
        try:
            await bot.set_my_commands(_commands(i18n, default, OWNER_COMMANDS), scope)
            for language in LANGUAGES:
                await bot.set_my_commands(
                    _commands(i18n, language, OWNER_COMMANDS), scope, language_code=language
                )
        except TelegramAPIError as exc:  # "chat not found" until the owner opens the bot
            log.warning("owner menu for %s not set: %s", owner_id, exc)
