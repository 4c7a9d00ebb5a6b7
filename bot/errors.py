"""Errors: a person's mistake gets a clear answer; the program's gets logged and an apology."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, User
from aiogram.utils.i18n import I18n

from services.errors import InputError
from ui.i18n import pick_language, tr_in

log = logging.getLogger(__name__)


# Error handlers run outside the language middleware (aiogram's ErrorsMiddleware is the
# outermost one), so they pick the language again from the same data.


async def explain_input_error(
    event: ErrorEvent, i18n: I18n, event_from_user: User | None = None
) -> None:
    error = event.exception
    assert isinstance(error, InputError)
    language = pick_language(
        event_from_user.language_code if event_from_user else None, i18n.default_locale
    )
    await _answer(event, tr_in(i18n, language, error.code, **error.params))


async def apologise(event: ErrorEvent, i18n: I18n, event_from_user: User | None = None) -> None:
    update = event.update
    user = update.event.from_user if hasattr(update.event, "from_user") else None
    log.error(
        "update %s (%s from user %s) failed",
        update.update_id,
        update.event_type,
        getattr(user, "id", None),
        exc_info=event.exception,
    )
    try:
        language = pick_language(
            event_from_user.language_code if event_from_user else None, i18n.default_locale
        )
        await _answer(event, tr_in(i18n, language, "error-internal"))
    except (TelegramAPIError, ClientDecodeError):
        # The apology was paced and retried like any reply (ui/telegram_requests.py).
        log.warning("could not apologise for update %s", update.update_id)


async def _answer(event: ErrorEvent, text: str) -> None:
    if event.update.message:
        await event.update.message.answer(text)
    elif event.update.callback_query:
        await event.update.callback_query.answer(text[:200], show_alert=True)


def not_modified(error: BaseException) -> bool:
    """Telegram's 400 for an edit that changes nothing (a second press of the same button)."""
    return isinstance(error, TelegramBadRequest) and "message is not modified" in error.message


def is_not_modified(event: ErrorEvent) -> bool:
    return not_modified(event.exception)


async def ignore_not_modified(event: ErrorEvent) -> None:
    """The message already shows what the edit wanted: nothing went wrong, say nothing."""
    log.debug("update %s: edit changed nothing", event.update.update_id)
    query = event.update.callback_query
    if query is not None:
        # Stops the button's spinner if the handler had not; usually it had (an error then).
        with suppress(TelegramAPIError):
            await query.answer()


def register_error_handlers(dp: Dispatcher) -> None:
    dp.errors.register(ignore_not_modified, is_not_modified)
    dp.errors.register(explain_input_error, ExceptionTypeFilter(InputError))
    dp.errors.register(apologise)
