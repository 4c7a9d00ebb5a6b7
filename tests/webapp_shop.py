"""A shop with the Mini App turned on (WEBAPP_URL), for the Mini App's tests (issue 12)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_bot, create_dispatcher
from bot.webapp import add_webapp_routes
from services.catalogue import CatalogueService
from services.ratelimit import RateLimiter
from storage.database import Database
from tests.conftest import FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram

WEBAPP_URL = "https://shop.example/app"
ANNA, BORIS = 42, 43


@contextlib.asynccontextmanager
async def running_shop(
    fake: FakeTelegram, db: Database, clock: FakeClock, **extra: object
) -> AsyncIterator[RunningBot]:
    """The production dispatcher and bot with WEBAPP_URL set, polling the fake server; one
    service (Manicure, 60 min, 2 500 ₽) and two customers on Telegram, Anna (#1) and Boris (#2).
    `extra` settings on top (a payment provider, say)."""
    settings = make_settings(fake, db, webapp_url=WEBAPP_URL, **extra)
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])) as bot:
        running = RunningBot(fake, dp, bot, db, settings, clock)
        now = clock.now
        await CatalogueService(db).add(
            name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=now
        )
        async with db.transaction() as repos:
            for telegram_id, name, phone in (
                (ANNA, "Anna", "+79160000042"),
                (BORIS, "Boris", "+79160000043"),
            ):
                await repos.customers.add(
                    telegram_id=telegram_id,
                    name=name,
                    search_name=name.casefold(),
                    phone=phone,
                    language="en",
                    registered_at=now,
                    consent=True,
                    created_at=now,
                )
        yield running


@contextlib.asynccontextmanager
async def webapp_client(shop: RunningBot, static: Path) -> AsyncIterator[TestClient[Any, Any]]:
    """The Mini App's routes on a test server on 127.0.0.1, its page's files from `static`."""
    web_app = web.Application()
    add_webapp_routes(web_app, shop.dp, shop.bot, static)
    client: TestClient[Any, Any] = TestClient(TestServer(web_app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
