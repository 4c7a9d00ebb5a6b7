"""Translations: aiogram's gettext-based I18n, fed straight from the .po catalogues.

Texts are keyed by ids ("sale-saved"), so both languages live in the locale files and none in
the handlers; each feature keeps its own .po file (messages.po, retention.po, analytics.po …).
Babel compiles them in memory at start-up: no build step, no .mo files to keep in step.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("ru", "en")


class CatalogI18n(I18n):
    """Loads every .po file of a language (one per feature) as one catalogue."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(self.path.iterdir()):
            merged = Catalog(locale=folder.name)
            for po_path in sorted(folder.glob("LC_MESSAGES/*.po")):
                with po_path.open("rb") as po_file:
                    for message in read_po(po_file, locale=folder.name):
                        if message.id:
                            merged[message.id] = message
            if not len(merged):
                continue
            compiled = BytesIO()
            write_mo(compiled, merged)
            compiled.seek(0)
            translations[folder.name] = gettext.GNUTranslations(compiled)
        return translations


def create_i18n(default_language: str) -> CatalogI18n:
    return CatalogI18n(path=LOCALES, default_locale=default_language, domain="messages")


def pick_language(code: str | None, default: str) -> str:
    """Telegram sends "ru", "en-US", "uk" …; we speak Russian and English."""
    if code:
        base = code.split("-", 1)[0].lower()
        if base in LANGUAGES:
            return base
    return default


def tr(key: str, /, **params: Any) -> str:
    """The text `key` in the language of the current update, with its placeholders filled."""
    # ContextInstanceMixin keeps one context variable per class: ask our own class.
    i18n = CatalogI18n.get_current(no_error=False)
    assert i18n is not None
    text = i18n.gettext(key)
    return text.format(**params) if params else text


def tr_in(i18n: I18n, language: str, key: str, /, **params: Any) -> str:
    """The text `key` in a given language: for messages to someone other than the sender."""
    text = i18n.gettext(key, locale=language)
    return text.format(**params) if params else text


class UserLanguageMiddleware(I18nMiddleware):
    """Speaks the language of the person's Telegram app, else the shop's default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None, self.i18n.default_locale)
