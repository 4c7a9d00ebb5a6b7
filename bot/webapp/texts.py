"""The Mini App's words: the bot's own catalogues, in the caller's Telegram language.

`app_texts` hands the front end every msgid starting with "app-" (ui/locales/*/webapp.po), so
the page carries no texts of its own; API errors and the /stats figures' labels come from the
same catalogues as the chat's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from babel.messages.pofile import read_po

from services.analytics import StatsReport
from ui.i18n import LANGUAGES, LOCALES, CatalogI18n, Texts, pick_language, tr_in
from ui.messages.analytics import stats_figures

APP_PREFIX = "app-"


@dataclass
class AppTexts:
    i18n: CatalogI18n
    default: str
    _app: dict[str, dict[str, Any]] = field(default_factory=dict)

    def language_of(self, code: str | None) -> str:
        return pick_language(code, self.default)

    def text(self, language: str, key: str, /, **params: Any) -> str:
        try:
            return tr_in(self.i18n, language, key, **params)
        except (KeyError, IndexError):  # a text whose placeholders the params do not fill
            return tr_in(self.i18n, language, key)

    def texts(self, language: str) -> Texts:
        return Texts(self.i18n, language)

    def app_texts(self, language: str) -> dict[str, Any]:
        """msgid → text for the front end; a plural entry gives its forms as a list."""
        if language not in self._app:
            self._app[language] = _read_app_texts(language)
        return self._app[language]

    def stats_figures(self, t: Texts, report: StatsReport) -> list[dict[str, str]]:
        if report.empty:
            lines = [("title", t("stats-title", day=report.as_of.strftime("%d.%m.%Y")))]
            lines.append(("empty", t("stats-empty", customers=report.customers)))
        else:
            lines = stats_figures(t, report)
        return [{"key": key, "label": t(f"wa-figure-{key}"), "text": text} for key, text in lines]


def _read_app_texts(language: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if language not in LANGUAGES:
        return found
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale=language):
                msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
                if not msgid or not str(msgid).startswith(APP_PREFIX):
                    continue
                value = message.string
                found[str(msgid)] = list(value) if isinstance(value, tuple | list) else value
    return found
