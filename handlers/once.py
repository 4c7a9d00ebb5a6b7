"""The `once` handler flag: a state-changing button acts on its first press only.

Handlers opt in with ``flags=ONCE``; one inner middleware on the dispatcher's callback_query
observer (inner, so the matched handler's flags are visible) claims the press before the
handler runs. A later press of the same button, even one handled at the same moment by
another task or process, gets a short "already done" and reaches no handler. If the handler
raises, the claim is released so the person can try again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any, Final

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, TelegramObject

from bot.errors import not_modified
from services.once import OnceService, Press
from ui.i18n import tr

log = logging.getLogger(__name__)

# This very button acts once (a slot of several: another slot may still be tried).
ONCE: Final[dict[str, Any]] = {"once": "button"}
# One choice per message: Yes or No, Today or Yesterday, one of five stars. Once one of the
# message's buttons of this kind acted, all of them are done, so a fast Yes-then-No cannot
# do both.
ONCE_PER_MESSAGE: Final[dict[str, Any]] = {"once": "message"}

# What a handler declares to receive the give-back (absent when the handler is not guarded).
ReleasePress = Callable[[], Awaitable[None]]


def press_of(query: CallbackQuery, scope: str) -> Press | None:
    """The press to claim; None for a button without a chat message (inline mode: unused)."""
    if query.message is None or query.data is None:
        return None
    # CallbackData packs "prefix:field:field…": the prefix names the kind of button.
    data = query.data.split(":", 1)[0] if scope == "message" else query.data
    return Press(query.message.chat.id, query.message.message_id, data)


class OnceMiddleware(BaseMiddleware):
    def __init__(self, once: OnceService, clock: Callable[[], datetime]) -> None:
        self._once = once
        self._clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        scope = get_flag(data, "once")
        if not isinstance(event, CallbackQuery) or not scope:
            return await handler(event, data)
        press = press_of(event, str(scope))
        if press is None:
            return await handler(event, data)
        if not await self._once.claim(press, self._clock()):
            try:
                await event.answer(tr("once-already-done"))
            except TelegramAPIError as exc:  # the query may have expired meanwhile
                log.info("could not answer a repeated press: %s", exc)
            return None
        # A handler whose press turned out to do nothing (a slot taken meanwhile) may give
        # the press back by calling `release_press()`, so the same button can be tried again.
        data["release_press"] = partial(self._once.release, press)
        try:
            return await handler(event, data)
        except Exception as error:
            # An edit that changed nothing came after the action: the press did act.
            if not not_modified(error):
                await self._once.release(press)
            raise
