"""Every request the bot makes to Telegram passes here: paced by the one limiter, retried when
Telegram or the network stumbles.

aiogram runs session middlewares around each HTTP request, whoever makes it (a handler's
reply, an edit, the error handler's apology, the outbox worker), so pacing here cannot be
forgotten by a new feature.

- Messages and edits (send*, copy*, forward*, edit* with a chat_id) wait for a grant from the
  one `RateLimiter`. Edits are paced too: Telegram counts them against the same flood limits
  and answers 429 to a flurry of them. `sendChatAction` is not (it shows "typing…" and is not
  a message). answerCallbackQuery has no chat and must be answered within seconds of the tap,
  so it is not paced, only retried.
- A 429 pauses the whole limiter for `retry_after`; a person-facing request then waits and is
  sent again, so a burst is answered late rather than not at all.
- 5xx, an HTML or empty body (aiogram's ClientDecodeError), timeouts and dropped connections
  are retried a few times with short backoff, bounded in total; then the error propagates.
- Bulk sends (the delivery worker) acquire their own grant with bulk priority and run inside
  `bulk_send_granted()`: this middleware then neither acquires again nor retries — the worker
  puts the row back in the outbox instead, where a retry survives a restart.

A retry after a dropped connection can duplicate a message Telegram had already accepted (the
answer was lost, not the request); see the README's paragraph on delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramType

from services.metrics import RequestCounts
from services.ratelimit import ChatId, RateLimiter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

DEFAULT_RETRY_BUDGET = 30.0  # seconds of backoff a person-facing request may spend, in all
DEFAULT_FIRST_BACKOFF = 0.5  # seconds before the first retry; doubles each time
DEFAULT_MAX_RETRY_AFTER = 10  # 429s waited out per request before giving up

_PACED_EXTRA = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})
_NOT_PACED = frozenset({"sendchataction"})
_RETRIED_EXTRA = frozenset({"answercallbackquery"})
_MESSAGES = ("send", "copy", "forward")  # methods that post a message (counted as sent)

# Set by the delivery worker around its sends: "already granted (bulk); do not retry".
_bulk_granted: ContextVar[bool] = ContextVar("bulk_send_granted", default=False)


@contextlib.contextmanager
def bulk_send_granted() -> Iterator[None]:
    """Requests inside hold a bulk grant already; failures go back to the caller untouched."""
    token = _bulk_granted.set(True)
    try:
        yield
    finally:
        _bulk_granted.reset(token)


def is_transient(error: BaseException) -> bool:
    """Not a refusal of the request: Telegram or the way to it had trouble (5xx, an HTML or
    empty body, a timeout, a dropped connection). A 413 is aiogram's network error subclass
    but a definite refusal."""
    if isinstance(error, TelegramEntityTooLarge):
        return False
    return isinstance(
        error,
        TelegramServerError | TelegramNetworkError | ClientDecodeError | TimeoutError | OSError,
    )


def _method_name(method: TelegramMethod[TelegramType]) -> str:
    return str(method.__api_method__).lower()


def paced_chat(method: TelegramMethod[TelegramType]) -> ChatId | None:
    """The chat whose budget this request spends, or None for requests that are not paced."""
    name = _method_name(method)
    posts = name.startswith(("send", "edit")) or name in _PACED_EXTRA
    if not posts or name in _NOT_PACED:
        return None
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) and not isinstance(chat_id, bool) else None


def _retried(method: TelegramMethod[TelegramType]) -> bool:
    name = _method_name(method)
    return paced_chat(method) is not None or name in _RETRIED_EXTRA or name.startswith("edit")


class PacedRequests(BaseRequestMiddleware):
    """The session middleware: one limiter for all messages, retries for person-facing ones."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        first_backoff: float = DEFAULT_FIRST_BACKOFF,
        max_retry_after: int = DEFAULT_MAX_RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limiter = limiter
        self.counts = RequestCounts()  # the app's /metrics replaces it with its own
        self._retry_budget = retry_budget
        self._first_backoff = first_backoff
        self._max_retry_after = max_retry_after
        self._clock = clock
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await self._request(make_request, bot, method)
        name = _method_name(method)
        if name.startswith(_MESSAGES) and name not in _NOT_PACED:
            self.counts.messages_sent += 1
        return response

    async def _request(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if _bulk_granted.get():
            return await self._bulk(make_request, bot, method)
        chat_id = paced_chat(method)
        if not _retried(method):
            return await make_request(bot, method)
        started = self._clock()
        backoff = self._first_backoff
        waited_out = 0
        while True:
            if chat_id is not None:
                await self.limiter.acquire(chat_id)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.counts.too_many_requests += 1
                self.limiter.pause(exc.retry_after)
                waited_out += 1
                if waited_out > self._max_retry_after:
                    raise
                log.info("429 on %s: everything waits %s s", method.__api_method__, exc.retry_after)
                if chat_id is None:  # nothing to acquire: wait the pause out here
                    await self._sleep(exc.retry_after)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                spent = self._clock() - started
                if spent + backoff > self._retry_budget:
                    raise
                log.warning(
                    "%s failed (%s: %s); again in %.1f s",
                    method.__api_method__,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await self._sleep(backoff)
                backoff *= 2

    async def _bulk(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            self.counts.too_many_requests += 1
            # Replies must wait too: the flood limit is the bot's, not the outbox's.
            self.limiter.pause(exc.retry_after)
            raise


def pace_requests(bot: Bot, limiter: RateLimiter) -> PacedRequests:
    """Make `bot` send through `limiter`: install the middleware, or re-point the installed one
    (the dispatcher's start-up hook calls this so the bot and the outbox share one limiter)."""
    for middleware in bot.session.middleware:
        if isinstance(middleware, PacedRequests):
            middleware.limiter = limiter
            return middleware
    paced = PacedRequests(limiter)
    bot.session.middleware(paced)
    return paced
