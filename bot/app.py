"""The composition root: every long-lived object is built here, by a small factory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.errors import register_error_handlers
from bot.i18n import UserLanguageMiddleware, create_i18n
from bot.menu import set_command_menus
from bot.roles import RoleMiddleware
from handlers import get_routers
from scheduler import create_scheduler
from services.catalogue import CatalogueService
from services.customers import CustomerService
from services.sales import SalesService
from services.shop import ShopService
from storage.database import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        # Plain text: customer names and typed values go into messages and must not be parsed.
        default=DefaultBotProperties(parse_mode=None, link_preview_is_disabled=True),
    )


def create_fsm_storage(settings: Settings) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return MemoryStorage()


def create_dispatcher(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = utc_now,
    storage: BaseStorage | None = None,
    scheduler: AsyncIOScheduler | None = None,
) -> Dispatcher:
    dp = Dispatcher(storage=storage or create_fsm_storage(settings))
    dp.workflow_data.update(
        settings=settings,
        db=db,
        clock=clock,
        customers=CustomerService(db),
        sales=SalesService(db, settings.zone),
        catalogue=CatalogueService(db),
        shop=ShopService(db),
        scheduler=scheduler or create_scheduler(settings.zone),
    )
    i18n = create_i18n(settings.default_language)
    dp.update.outer_middleware(RoleMiddleware(frozenset(settings.owner_ids)))
    dp.update.outer_middleware(UserLanguageMiddleware(i18n))
    register_error_handlers(dp)
    dp.include_routers(*get_routers())
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def on_startup(bot: Bot, settings: Settings, scheduler: AsyncIOScheduler) -> None:
    await set_command_menus(bot, settings)
    # AsyncIOScheduler binds to the running loop, so it starts here, not at construction.
    scheduler.start()
    log.info("bot started")


async def on_shutdown(scheduler: AsyncIOScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)
    log.info("bot stopped")


async def run_polling(settings: Settings) -> None:
    if not settings.owner_ids:
        log.warning("OWNER_IDS is empty: nobody can log sales; see .env.example")
    db = Database(settings.database_url)
    await db.migrate()
    bot = create_bot(settings)
    dp = create_dispatcher(settings, db)
    try:
        await dp.start_polling(bot)
    finally:
        await bot.session.close()
        await db.dispose()
