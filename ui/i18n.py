"""Translations: aiogram's gettext-based I18n, fed straight from the .po catalogues.

Texts are keyed by ids ("sale-saved"), so both languages live in the locale files and none in
the handlers; each feature keeps its own .po file (messages.po, retention.po, analytics.po …).
Babel compiles them in memory at start-up: no build step, no .mo files to keep in step.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
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


def trn(key: str, n: int, /, **params: Any) -> str:
    """The text `key` in the form its language uses for the count `n` ({n} is filled in).

    Plural entries in the .po files carry the key as both msgid and msgid_plural; Babel gives
    Russian its three forms (1 покупка, 2 покупки, 5 покупок) from the catalogue's locale.
    """
    i18n = CatalogI18n.get_current(no_error=False)
    assert i18n is not None
    return i18n.gettext(key, key, n).format(n=n, **params)


def trn_in(i18n: I18n, language: str, key: str, n: int, /, **params: Any) -> str:
    """`trn` in a given language: for messages to someone other than the sender."""
    return i18n.gettext(key, key, n, locale=language).format(n=n, **params)


def tr_in(i18n: I18n, language: str, key: str, /, **params: Any) -> str:
    """The text `key` in a given language: for messages to someone other than the sender."""
    text = i18n.gettext(key, locale=language)
    return text.format(**params) if params else text


@dataclass(frozen=True, slots=True)
class Texts:
    """Texts in one language, plain and plural: what report renderers receive as `t`.

    Handlers pass `current_texts()`, the CLI `Texts(i18n, default_language)`; renderers also read
    `language` to format numbers the reader's way (4,65 in Russian, 4.65 in English).
    """

    i18n: I18n
    language: str

    def __call__(self, key: str, /, **params: Any) -> str:
        return tr_in(self.i18n, self.language, key, **params)

    def plural(self, key: str, n: int, /, **params: Any) -> str:
        return trn_in(self.i18n, self.language, key, n, **params)


def current_texts() -> Texts:
    """`Texts` in the language of the current update."""
    i18n = CatalogI18n.get_current(no_error=False)
    assert i18n is not None
    return Texts(i18n, i18n.current_locale)


class UserLanguageMiddleware(I18nMiddleware):
    """Speaks the language of the person's Telegram app, else the shop's default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None, self.i18n.default_locale)
