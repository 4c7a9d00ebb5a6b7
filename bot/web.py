"""The bot's web side: Telegram's webhook (`run --webhook`) on an aiohttp app, next to
/healthz, /readyz and /metrics (bot/health.py) and, when WEBAPP_URL is set, the Mini App
(bot/webapp/: /app and its API), which polling mode serves too.

Telegram posts each update to WEBHOOK_URL with WEBHOOK_SECRET in the
X-Telegram-Bot-Api-Secret-Token header; aiogram's SimpleRequestHandler answers 401 to any
other request and hands the update to the dispatcher. A reverse proxy (nginx, Caddy) ends
TLS and forwards WEBHOOK_URL's path to WEB_HOST:WEB_PORT.

The start-up and shutdown hooks are the dispatcher's own (bot/app.py: menus, scheduler,
delivery worker), run by the web app as start_polling runs them, so both modes start alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import Settings
from bot.health import add_health_routes
from bot.startup import StartupError

log = logging.getLogger(__name__)

NO_WEBHOOK_URL = (
    "WEBHOOK_URL is not set, so Telegram does not know where to post updates: set it to the "
    "https:// address your reverse proxy forwards to WEB_HOST:WEB_PORT, or run without --webhook"
)
NO_WEBHOOK_SECRET = (
    "WEBHOOK_SECRET is not set: without it anybody could post fake updates to the webhook; "
    "set it to 1-256 characters A-Z a-z 0-9 _ - "
    "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
)


def webhook_settings_error(settings: Settings) -> str | None:
    """The one line that says which webhook setting is missing, or None when all are there."""
    if not settings.webhook_url:
        return NO_WEBHOOK_URL
    if settings.webhook_secret is None:
        return NO_WEBHOOK_SECRET
    return None


def create_web_app(dp: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    """The webhook app: POST WEBHOOK_URL's path → the dispatcher, with the secret checked;
    GET /healthz, /readyz, /metrics. Its start-up and shutdown run the dispatcher's hooks.
    `set_webhook` points Telegram at it once it listens."""
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    # First the dispatcher's hooks (worker, scheduler), then the route's (it closes the
    # session on shutdown, after the worker has finished its sends).
    setup_application(app, dp, bot=bot)
    # Not in the background: Telegram gets its 200 once the update is handled, so an update
    # a crash interrupted is posted again, and Telegram's max_connections bounds our load.
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=secret).register(
        app, path=settings.webhook_path
    )

    add_health_routes(app, dp)
    if settings.webapp_url:
        from bot.webapp import add_webapp_routes

        add_webapp_routes(app, dp, bot)
    return app


def create_polling_app(dp: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    """Polling mode's web server: /healthz, /readyz, /metrics, and the Mini App (/app) when
    WEBAPP_URL is set. The dispatcher's hooks stay with start_polling."""
    app = web.Application()
    add_health_routes(app, dp)
    if settings.webapp_url:
        from bot.webapp import add_webapp_routes

        add_webapp_routes(app, dp, bot)
    return app


@contextlib.asynccontextmanager
async def listening(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    """`app` served on WEB_HOST:WEB_PORT while the block runs (start-up hooks first)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    try:
        await runner.setup()  # runs the app's start-up hooks
        site = web.TCPSite(runner, settings.web_host, settings.web_port)
        try:
            await site.start()
        except OSError as exc:
            msg = (
                f"Cannot listen on {settings.web_host}:{settings.web_port} ({exc.strerror}): "
                "check WEB_HOST and WEB_PORT (is another program using the port?)"
            )
            raise StartupError(msg) from None
        log.info("listening on %s:%s", settings.web_host, settings.web_port)
        yield
    finally:
        await runner.cleanup()  # the shutdown hooks


async def set_webhook(dp: Dispatcher, bot: Bot, settings: Settings) -> None:
    """Tell Telegram to post updates to WEBHOOK_URL, with the secret and the update types the
    handlers use (as polling asks for them). The webhook stays set when the bot stops:
    Telegram keeps the updates until the bot (or another copy of it) is back."""
    url = settings.webhook_url
    assert url is not None and settings.webhook_secret is not None
    try:
        await bot.set_webhook(
            url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=dp.resolve_used_update_types(),
        )
    except TelegramAPIError as exc:
        msg = f"Telegram refused WEBHOOK_URL {url} ({exc.message}): check WEBHOOK_URL"
        raise StartupError(msg) from None
    log.info("webhook set: Telegram posts updates to %s", url)


async def serve_webhook(dp: Dispatcher, bot: Bot, settings: Settings) -> None:
    """`run --webhook`: listen first, then tell Telegram, until SIGINT or SIGTERM."""
    async with listening(create_web_app(dp, bot, settings), settings):
        await set_webhook(dp, bot, settings)
        await _until_signalled()


async def _until_signalled() -> None:
    """Return at SIGINT or SIGTERM (what `docker stop` and systemd send)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("stopping")
