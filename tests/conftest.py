"""Shared fixtures: a controllable clock, databases (SQLite always, PostgreSQL when given),
and the real bot polling a fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_bot, create_dispatcher
from bot.config import Settings, load_settings
from services.ratelimit import RateLimiter
from storage.database import Database
from tests.fakes.telegram import FakeTelegram, TelegramUser
from ui.telegram_requests import pace_requests

OWNER_ID = 1000
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


@dataclass
class FakeClock:
    """The time as the bot sees it; tests move it forward by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Monotonic:
    """A hand-moved monotonic clock for the limiter; its sleep moves time instead of waiting."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


async def eventually(
    check: Callable[[], Any], within: float = 5.0, what: str = "the condition"
) -> None:
    """Wait for something the bot brings about in the background (the outbox, a burst)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > give_up:
            pytest.fail(f"{what}: not within {within}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _schema(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def _async_url(url: str) -> str:
    return load_settings(database_url=url, _env_file=None).database_url


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: every storage test runs on both engines."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await database.migrate()
        yield database
        await database.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    # A schema of its own per test: parallel runs never see each other's tables.
    url = _async_url(POSTGRES_URL)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await _schema(url, f"CREATE SCHEMA {schema}")
    database = Database(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await database.migrate()
        yield database
    finally:
        await database.dispose()
        await _schema(url, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def make_settings(fake: FakeTelegram, database: Database, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": "123456:TEST-TOKEN",
        "owner_ids": str(OWNER_ID),
        "database_url": database.url,
        "telegram_api_url": fake.base_url,
        "timezone": "Europe/Moscow",
        "default_language": "ru",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class RunningBot:
    fake: FakeTelegram
    dp: Dispatcher
    bot: Bot
    db: Database
    settings: Settings
    clock: FakeClock

    def user(self, user_id: int, **profile: object) -> TelegramUser:
        return self.fake.user(user_id, **profile)  # type: ignore[arg-type]

    @property
    def owner(self) -> TelegramUser:
        return self.fake.user(OWNER_ID, first_name="Owner", language_code="en")


def use_limiter(app: RunningBot, limiter: RateLimiter) -> None:
    """Swap the process's one limiter (the worker's, and the bot's requests through it): tests
    that switch on the fake's flood limits pace the bot as production does."""
    app.dp["delivery"].limiter = app.dp["limiter"] = limiter
    pace_requests(app.bot, limiter)


async def register(
    app: RunningBot,
    user_id: int,
    name: str | None = None,
    phone: str | None = None,
    *,
    start: str = "/start",
) -> TelegramUser:
    """A customer who goes through /start: shares a phone, skips the birthday, agrees to offers."""
    person = app.user(user_id, first_name=name or f"User{user_id}", language_code="en")
    await person.send(start)
    await person.share_contact(phone or f"7916{user_id:07d}")
    await person.send("Skip")
    await person.click("Yes, send me offers")
    return person


@pytest.fixture
async def app(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The production dispatcher and bot, polling the fake server."""
    settings = make_settings(fake, sqlite_db)
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    # Telegram's pace (1 message a second per chat) only where a test checks the pacing: the
    # fake enforces no limits unless a test calls fake.rate_limits() and swaps the limiter in.
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])) as bot:
        yield RunningBot(fake, dp, bot, sqlite_db, settings, clock)
