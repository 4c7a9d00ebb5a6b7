"""The composition root: every long-lived object is built here, by a small factory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.token import TokenValidationError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.errors import register_error_handlers
from bot.menu import set_command_menus, set_owner_menu_buttons
from bot.metrics import BotMetrics
from bot.owner_language import OwnerLanguageMiddleware
from bot.shop_profile import ShopProfileMiddleware
from bot.startup import StartupError, check_telegram, open_database
from handlers import get_routers
from handlers.once import OnceMiddleware
from handlers.roles import RoleMiddleware
from scheduler import create_scheduler
from scheduler.backups import BackupPlan
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import RunningScans, register_jobs
from scheduler.progress import CampaignProgress
from services.analytics import AnalyticsService
from services.birthday_gift import BirthdayGiftService
from services.bookings import BookingService
from services.campaigns import CampaignService
from services.catalogue import CatalogueService
from services.channel_posts import ChannelPostService
from services.customers import CustomerService
from services.feedback import FeedbackService
from services.growth import GrowthService
from services.inbox import InboxService
from services.once import OnceService
from services.owner_notices import OwnerLanguages, OwnerNotices
from services.privacy import PrivacyService
from services.ratelimit import Pacing, RateLimiter
from services.reachability import ReachabilityService
from services.rebooking import RebookingService
from services.sales import SalesService
from services.schedule import ScheduleService
from services.shop import ShopService
from storage.database import Database
from ui.i18n import UserLanguageMiddleware, create_i18n
from ui.telegram_requests import pace_requests

log = logging.getLogger(__name__)

BAD_TOKEN_FORMAT = (
    "BOT_TOKEN does not look like a token from @BotFather (digits, a colon, then letters, "
    "as in 123456789:AAF...): copy it into BOT_TOKEN again"
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_bot(settings: Settings, limiter: RateLimiter | None = None) -> Bot:
    """The Bot, every request of it paced and retried (ui/telegram_requests.py). The
    dispatcher's start-up hook points it at the outbox worker's limiter: one per process."""
    assert settings.bot_token is not None
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        # Plain text: customer names and typed values go into messages and must not be parsed.
        default=DefaultBotProperties(parse_mode=None, link_preview_is_disabled=True),
    )
    pace_requests(bot, limiter or RateLimiter())
    return bot


def create_limiter(settings: Settings) -> RateLimiter:
    """The process's one limiter; with RATE_LIMIT_REDIS_URL its budget is shared by every
    instance of this bot (keyed by the bot's id, the part of the token before the colon)."""
    if not settings.rate_limit_redis_url:
        return RateLimiter()
    from storage.redis_budget import RedisBudget

    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    bot_key = token.split(":", 1)[0] or "bot"
    pacing = Pacing.of()
    budget = RedisBudget.from_url(settings.rate_limit_redis_url, bot_key, pacing)
    return RateLimiter(shared=budget)


def create_fsm_storage(settings: Settings) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        # A time to live, so a conversation left half-way (with a customer's name in its
        # data) does not stay in Redis for ever.
        ttl = timedelta(hours=settings.fsm_ttl_hours)
        return RedisStorage.from_url(settings.redis_url, state_ttl=ttl, data_ttl=ttl)
    return MemoryStorage()


def create_dispatcher(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = utc_now,
    storage: BaseStorage | None = None,
    scheduler: AsyncIOScheduler | None = None,
    schedule_jobs: bool = True,
) -> Dispatcher:
    """The production dispatcher; tests pass their clock and run the scans themselves."""
    dp = Dispatcher(storage=storage or create_fsm_storage(settings))
    scheduler = scheduler or create_scheduler(settings.zone)
    dp.workflow_data.update(
        settings=settings,
        db=db,
        clock=clock,
        customers=CustomerService(db),
        sales=SalesService(db, settings.zone),
        catalogue=CatalogueService(db),
        shop=ShopService(db),
        feedback=FeedbackService(db),
        inbox=InboxService(
            db, settings.zone, settings.owner_ids, on_queued=lambda: _wake_delivery(dp)
        ),
        # Owners hear of customers' steps through the outbox, at once (no quiet hours).
        owner_notices=OwnerNotices(db, settings.owner_ids, on_queued=lambda: _wake_delivery(dp)),
        privacy=PrivacyService(db),
        growth=GrowthService(db),
        scheduler=scheduler,
    )
    dp.workflow_data.update(
        bookings=BookingService(db, settings.zone),
        schedule=ScheduleService(db, settings.zone),
        birthday_gifts=BirthdayGiftService(db, settings.zone),
        rebooking=RebookingService(db),
    )
    dp["scans"] = RunningScans()
    if schedule_jobs:
        register_jobs(
            scheduler, db, settings.zone, clock, on_queued=lambda: _wake_delivery(dp),
            backups=BackupPlan(settings.backup_dir, settings.backup_keep),
            scans=dp["scans"],
        )  # fmt: skip
    i18n = create_i18n(settings.default_language)
    # The Bot arrives only with start_polling; on_startup attaches it to the worker.
    dp["delivery"] = DeliveryWorker(
        db, None, settings, i18n, clock=clock, limiter=create_limiter(settings)
    )
    # The one limiter of the process: outbox sends and every other request share it.
    dp["limiter"] = dp["delivery"].limiter
    dp["reachability"] = ReachabilityService(db)
    campaigns = CampaignService(db, settings.zone)
    dp["campaigns"] = campaigns
    # One per dispatcher: it caches the fitted customer-value model between updates.
    dp["analytics"] = AnalyticsService(db, settings.zone)
    dp["posts"] = ChannelPostService(db, settings.channel_id)
    dp["progress"] = CampaignProgress(campaigns, i18n, settings.default_language, clock)
    # First of the outer middlewares: it times the whole handling of each update (/metrics).
    dp["metrics"] = BotMetrics()
    dp.update.outer_middleware(dp["metrics"].middleware)
    dp.update.outer_middleware(RoleMiddleware(frozenset(settings.owner_ids)))
    dp.update.outer_middleware(UserLanguageMiddleware(i18n))
    # After RoleMiddleware: owners' notices go in the language they last wrote to us in.
    dp.update.outer_middleware(
        OwnerLanguageMiddleware(OwnerLanguages(db), settings.default_language)
    )
    # One read of the owner's knobs per conversation update; handlers take `shop_profile`.
    dp.update.outer_middleware(ShopProfileMiddleware(dp.workflow_data["shop"]))
    # Inner, so it sees the matched handler's `once` flag; once here covers every router.
    dp.callback_query.middleware(OnceMiddleware(OnceService(db), clock))
    register_error_handlers(dp)
    dp.include_routers(*get_routers(settings))
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


def _wake_delivery(dp: Dispatcher) -> None:
    """Rows a scan just queued go out now rather than at the worker's next look."""
    delivery = dp.workflow_data.get("delivery")
    if delivery is not None:
        delivery.notify()


async def on_startup(
    bot: Bot,
    settings: Settings,
    scheduler: AsyncIOScheduler,
    delivery: DeliveryWorker,
    progress: CampaignProgress,
    clock: Clock,
    metrics: BotMetrics,
) -> None:
    # Replies, edits and outbox sends share one budget (the worker's limiter, which a
    # test may have swapped for a faster one before polling started).
    pace_requests(bot, delivery.limiter).counts = metrics.counts
    await set_command_menus(bot, settings)
    await set_owner_menu_buttons(bot, settings)  # issue 12: only with WEBAPP_URL
    # AsyncIOScheduler binds to the running loop, so it starts here, not at construction.
    scheduler.start()
    # Rows a crash left half-sent are reported as uncertain before anything new goes out.
    delivery.attach(bot)
    metrics.counts.uncertain_rows += await delivery.recover(clock())
    delivery.start()
    progress.start(bot)
    log.info("bot started as instance %s", delivery.instance)


async def on_shutdown(
    scheduler: AsyncIOScheduler,
    delivery: DeliveryWorker,
    progress: CampaignProgress,
    scans: RunningScans,
) -> None:
    await progress.stop()
    await delivery.stop()
    await delivery.limiter.close()
    if scheduler.running:
        scheduler.shutdown(wait=False)
    await scans.stop()  # before the database closes
    log.info("bot stopped")


async def run_polling(settings: Settings, *, connect_delays: Sequence[float] | None = None) -> None:
    """Raises StartupError (one line naming the setting to fix) when the bot cannot start."""
    await run_bot(settings, connect_delays=connect_delays)


async def run_bot(
    settings: Settings, *, webhook: bool = False, connect_delays: Sequence[float] | None = None
) -> None:
    """The bot with long polling (the default) or a webhook (bot/web.py); both start alike:
    the database migrated and writable, Telegram answering, then the dispatcher's start-up
    hooks (menus, scheduler, delivery worker). Raises StartupError when it cannot start."""
    if not settings.owner_ids:
        log.warning("OWNER_IDS is empty: nobody can log sales; see .env.example")
    db = await open_database(settings)
    try:
        dp = create_dispatcher(settings, db)
        try:
            bot = create_bot(settings, dp["limiter"])
        except TokenValidationError:
            raise StartupError(BAD_TOKEN_FORMAT) from None
        try:
            await check_telegram(bot, settings, connect_delays)
            if webhook:
                from bot.web import serve_webhook

                await serve_webhook(dp, bot, settings)
            else:
                # Telegram refuses getUpdates while a webhook is set (a past `run --webhook`);
                # the updates it holds stay and come by polling.
                await bot.delete_webhook(drop_pending_updates=False)
                await _poll(dp, bot, settings)
        finally:
            await bot.session.close()
    finally:
        await db.dispose()


async def _poll(dp: Dispatcher, bot: Bot, settings: Settings) -> None:
    # The web server beside polling: health probes, and the Mini App when WEBAPP_URL is set.
    if not (settings.health_server or settings.webapp_url):
        await dp.start_polling(bot)
        return
    from bot.web import create_polling_app, listening

    async with listening(create_polling_app(dp, bot, settings), settings):
        await dp.start_polling(bot)
