"""Forgotten means forgotten: after /forget no copy of the person is left in the database
files, in an owner's unfinished conversation, in Redis, or in the logs of an SQL error."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.exc import IntegrityError

from bot.app import create_bot, create_dispatcher
from services.customers import fold
from storage.database import Database
from storage.models import Customer
from tests.conftest import FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram

REDIS_URL = os.environ.get("TEST_REDIS_URL")
NAME = "Zinaida"
PHONE = "79165554433"


async def customer(app: RunningBot, user_id: int, name: str, phone: str) -> None:
    """A registered customer, written directly: this file is about forgetting, not signing up."""
    async with app.db.transaction() as repos:
        repos.session.add(
            Customer(
                telegram_id=user_id,
                name=name,
                search_name=fold(name),
                phone="+" + phone,
                language="en",
                consent=True,
                registered_at=app.clock.now,
                created_at=app.clock.now,
            )
        )


def owner_key(app: RunningBot, owner_id: int) -> StorageKey:
    return StorageKey(bot_id=app.bot.id, chat_id=owner_id, user_id=owner_id)


async def owner_starts_a_sale_for_her(app: RunningBot, owner_id: int) -> None:
    """The owner's guided /sale stops at the amount: its data now holds her name and phone."""
    owner = app.user(owner_id, first_name="Owner", language_code="en")
    await owner.send("/sale")
    await owner.send(NAME)
    assert NAME in (owner.last_text or "")
    data = await app.dp.storage.get_data(owner_key(app, owner_id))
    assert data.get("customer_id") == 1


async def forget(app: RunningBot, user_id: int) -> None:
    person = app.user(user_id, first_name=NAME, language_code="en")
    await person.send("/forget")
    await person.click("Yes, erase my data")
    # The tap is answered first; the edit comes once the data is erased and the file flushed.
    for _ in range(100):
        if "erased" in (person.last_text or ""):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no 'erased' answer: {person.last_text!r}")


async def test_forget_leaves_nothing_in_the_sqlite_files_or_the_owner_draft(
    app: RunningBot,
) -> None:
    await customer(app, 501, NAME, PHONE)
    await owner_starts_a_sale_for_her(app, 1000)

    await forget(app, 501)

    key = owner_key(app, 1000)
    assert await app.dp.storage.get_state(key) is None
    assert await app.dp.storage.get_data(key) == {}
    path = Path(app.db.url.split(":///", 1)[1])
    for file in (path, path.with_name(path.name + "-wal")):
        if not file.exists():
            continue
        content = file.read_bytes().lower()
        for secret in (NAME, PHONE):
            assert secret.lower().encode() not in content, (file.name, secret)


async def test_an_owner_draft_about_someone_else_survives(app: RunningBot) -> None:
    await customer(app, 501, NAME, PHONE)
    await customer(app, 502, "Other", "79160000002")
    owner = app.owner
    await owner.send("/sale")
    await owner.send("Other")
    await forget(app, 501)
    data = await app.dp.storage.get_data(owner_key(app, 1000))
    assert data.get("customer_id") == 2


def redis_keys(app: RunningBot, user_id: int) -> list[str]:
    """Where RedisStorage keeps a private chat's state and data."""
    key = owner_key(app, user_id)
    builder = app.dp.storage.key_builder  # type: ignore[attr-defined]
    return [builder.build(key, part) for part in ("state", "data")]


@pytest.fixture
async def redis_app(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> AsyncIterator[tuple[RunningBot, int]]:
    """The bot with its conversations in Redis; an owner id of its own so parallel runs
    sharing the Redis database never meet."""
    if not REDIS_URL:
        pytest.skip("Redis tests need TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    owner_id = 10_000_000 + uuid.uuid4().int % 10_000_000
    settings = make_settings(
        fake, sqlite_db, redis_url=REDIS_URL, owner_ids=str(owner_id), fsm_ttl_hours="6"
    )
    dp = create_dispatcher(settings, sqlite_db, clock=clock, schedule_jobs=False)
    async with fake.polling(dp, create_bot(settings)) as bot:
        app = RunningBot(fake, dp, bot, sqlite_db, settings, clock)
        try:
            yield app, owner_id
        finally:
            redis = dp.storage.redis  # type: ignore[attr-defined]
            await redis.delete(*redis_keys(app, owner_id), *redis_keys(app, 501))
            await dp.storage.close()


async def test_redis_conversations_expire_and_forget_clears_them(
    redis_app: tuple[RunningBot, int],
) -> None:
    app, owner_id = redis_app
    redis = app.dp.storage.redis  # type: ignore[attr-defined]
    await customer(app, 501, NAME, PHONE)
    await owner_starts_a_sale_for_her(app, owner_id)
    keys = redis_keys(app, owner_id)
    for key in keys:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= 6 * 3600, (key, ttl)  # FSM_TTL_HOURS=6

    await forget(app, 501)

    assert not await redis.exists(*keys)
    for key in redis_keys(app, 501):
        value = (await redis.get(key) or b"").lower()
        assert PHONE.encode() not in value and NAME.lower().encode() not in value


async def test_an_sql_error_logs_no_phone(
    db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine hides bound parameters: a failed insert names no phone in its message."""
    async with db.transaction() as repos:
        repos.session.add(Customer(name=NAME, phone="+" + PHONE, created_at=clock.now))
    caplog.set_level(logging.INFO)
    with pytest.raises(IntegrityError) as error:
        async with db.transaction() as repos:
            repos.session.add(Customer(name="Twin", phone="+" + PHONE, created_at=clock.now))
    logging.getLogger("bot.errors").error("update failed", exc_info=error.value)
    assert "update failed" in caplog.text
    assert PHONE not in caplog.text
    assert "Twin" not in caplog.text
