"""The Telegram Mini App (issue 12): its page, files and JSON API on the bot's own aiohttp app.

`add_webapp_routes(app, dp, bot)` adds /app (the page), /app/static/* and /app/api/* to a web
app; bot/web.py calls it in webhook mode, and in polling mode for the server it starts beside
polling when WEBAPP_URL is set.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.config import Settings
from bot.webapp.api import WebApp, add_api_routes
from bot.webapp.files import STATIC, add_static_routes
from bot.webapp.texts import AppTexts
from services.customer_list import CustomerList
from services.once import OnceService
from services.webapp_calendar import OwnerCalendar
from ui.i18n import create_i18n


def create_webapp(dp: Dispatcher, bot: Bot) -> WebApp:
    """The API's view of the dispatcher's services (the same objects the chat uses)."""
    settings: Settings = dp["settings"]
    assert settings.bot_token is not None
    zone = settings.zone
    return WebApp(
        bot=bot,
        token=settings.bot_token.get_secret_value(),
        owner_ids=frozenset(settings.owner_ids),
        max_age=timedelta(hours=settings.webapp_auth_max_age_hours),
        db=dp["db"],
        zone=zone,
        clock=dp["clock"],
        texts=AppTexts(create_i18n(settings.default_language), settings.default_language),
        bookings=dp["bookings"],
        schedule=dp["schedule"],
        catalogue=dp["catalogue"],
        customers=dp["customers"],
        analytics=dp["analytics"],
        owner_notices=dp["owner_notices"],
        calendar=OwnerCalendar(dp["db"], zone),
        # The /stats model cache: the list's predicted values are the ones /stats shows.
        customer_list=CustomerList(dp["db"], zone, dp["analytics"].models),
        once=OnceService(dp["db"]),
        settings=settings,
        deposits=dp["deposits"],
        no_shows=dp["no_shows"],
    )


def add_webapp_routes(
    app: web.Application, dp: Dispatcher, bot: Bot, static: Path = STATIC
) -> WebApp:
    webapp = create_webapp(dp, bot)
    add_static_routes(app, static)
    add_api_routes(app, webapp)
    return webapp
