"""Remembers the language of each owner's Telegram app, for the notices sent to them later."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.owner_notices import OwnerLanguages
from ui.i18n import pick_language

log = logging.getLogger(__name__)


class OwnerLanguageMiddleware(BaseMiddleware):
    """On dp.update, after RoleMiddleware (it reads `is_owner`)."""

    def __init__(self, languages: OwnerLanguages, default_language: str) -> None:
        self._languages = languages
        self._default = default_language

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        # Telegram leaves language_code out sometimes: that says nothing about a change.
        if data.get("is_owner") and user is not None and user.language_code:
            language = pick_language(user.language_code, self._default)
            try:
                await self._languages.remember(user.id, language)
            except Exception:  # a notice in the shop's language beats an unanswered command
                log.exception("could not remember the language of owner %s", user.id)
        return await handler(event, data)
