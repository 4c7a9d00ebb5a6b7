"""Start-up checks: the database can be written and Telegram answers, or one line says why not.

A new owner who starts the bot with a read-only disk, no network or a mistyped token should
read what to fix, in plain words that name the setting, not a traceback. Each check raises
`StartupError` with that line; the CLI prints it and exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.config import Settings
from storage.database import Database

log = logging.getLogger(__name__)

_THREAD_POLL = 0.01  # seconds between looks at aiosqlite's worker threads

# Seconds between tries to reach the Bot API: about a quarter of a minute in all, enough for
# a network that comes up together with the bot, short enough for a person waiting.
CONNECT_DELAYS: Sequence[float] = (1.0, 2.0, 4.0, 8.0)
REQUEST_TIMEOUT = 10  # seconds one getMe may take; aiogram's default is a minute
_REASON_LENGTH = 200

# Errors after which another try may succeed: the network, Telegram's own outages.
_TRANSIENT = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, ClientDecodeError)


class StartupError(Exception):
    """The bot cannot start; the message is one line that names what to fix."""


def _reason(exc: BaseException) -> str:
    """The first line of the driver's own words, without SQLAlchemy's wrapping."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return lines[0][:_REASON_LENGTH]


def _where(url: str) -> str:
    """The database as a person would name it: a file path, or the URL without a password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the file {parsed.database}"
    return parsed.render_as_string(hide_password=True)


async def open_database(settings: Settings) -> Database:
    """A migrated database that accepts writes, or StartupError naming DATABASE_URL."""
    where = _where(settings.database_url)
    hint = (
        "the file and its folder must be writable by this user"
        if settings.is_sqlite
        else "the server must be running and the user allowed to write"
    )
    try:
        db = Database(settings.database_url)
    except OSError as exc:  # the SQLite file's folder cannot be created
        msg = f"Cannot create the database folder for {where} ({exc.strerror}): check DATABASE_URL"
        raise StartupError(msg) from None
    try:
        await db.migrate()
        await db.check_writable()
    except (SQLAlchemyError, OSError) as exc:
        await db.dispose()
        await _let_sqlite_threads_finish()
        msg = f"Cannot write the database, {where} ({_reason(exc)}): check DATABASE_URL; {hint}"
        raise StartupError(msg) from None
    return db


async def _let_sqlite_threads_finish(limit: float = 2.0) -> None:
    """Wait (briefly) until aiosqlite's worker threads have stopped.

    A failed aiosqlite connect stops its thread by queueing a last call whose answer goes back
    to the event loop; when the process exits right after, the loop may already be closed and
    the thread prints a traceback under our one-line message. Nothing else runs at this point
    of start-up, so every such thread is ours.
    """
    for _ in range(round(limit / _THREAD_POLL)):
        if not any(t.name.endswith("(_connection_worker_thread)") for t in threading.enumerate()):
            return
        await asyncio.sleep(_THREAD_POLL)  # the threads answer through this loop: keep it running


async def check_telegram(
    bot: Bot, settings: Settings, delays: Sequence[float] | None = None
) -> User:
    """Who the bot is, asked of the Bot API with a few retries; StartupError if it never answers
    or refuses the token."""
    delays = CONNECT_DELAYS if delays is None else delays
    # Where we asked: a self-hosted Bot API server, or Telegram itself (aiogram's default).
    server = f" at {settings.telegram_api_url}" if settings.telegram_api_url else ""
    last: Exception | None = None
    for attempt, pause in enumerate([*delays, None], start=1):
        try:
            return await bot.get_me(request_timeout=REQUEST_TIMEOUT)
        except (TelegramUnauthorizedError, TelegramNotFound):
            # Telegram answers 401 to a revoked or mistyped token, 404 to a malformed one.
            msg = (
                f"Telegram rejected BOT_TOKEN (the Bot API{server} answered that it is not valid): "
                "copy the token from @BotFather into BOT_TOKEN again"
            )
            raise StartupError(msg) from None
        except _TRANSIENT as exc:
            last = exc
            if pause is None:
                break
            log.debug("Bot API not reachable (try %d): %s; next in %s s", attempt, exc, pause)
            await asyncio.sleep(pause)
    reason = _reason(last) if last is not None else "no answer"
    msg = (
        f"Cannot reach the Telegram Bot API{server} after {len(delays) + 1} tries "
        f"({reason}): check the network"
        + (" and TELEGRAM_API_URL" if settings.telegram_api_url else "")
    )
    raise StartupError(msg)
