"""Customer registration, end to end through the fake Bot API server."""

from __future__ import annotations

import os
import uuid

import pytest
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import func, select

from bot.app import create_bot, create_dispatcher, create_fsm_storage
from storage.database import Database
from storage.models import Customer
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram

REDIS_URL = os.environ.get("TEST_REDIS_URL")


async def customers_in(app: RunningBot) -> list[Customer]:
    async with app.db.reading() as repos:
        return list(await repos.customers.all())


async def test_full_registration_with_phone_birthday_and_consent(app: RunningBot) -> None:
    anna = app.user(42, first_name="Anna", username="anna_nails", language_code="ru")
    async with app.db.transaction() as repos:  # the owner's tracked link (/link insta_promo)
        await repos.growth.add_link(
            name="insta_promo", url="https://t.me/+insta_promo", created_at=app.clock.now
        )

    replies = await anna.send("/start insta_promo")
    assert "Поделитесь номером" in replies[-1]["text"]
    buttons = anna.reply_keyboard_buttons()
    assert buttons[0].request_contact
    assert buttons[1].text == "Пропустить"

    await anna.share_contact("79161234567")
    assert "день рождения" in (anna.last_text or "")

    await anna.send("05.03")
    assert "Можно присылать" in (anna.last_text or "")
    await anna.click("Да, присылайте")
    assert "зарегистрированы" in (anna.last_text or "")

    [row] = await customers_in(app)
    assert (row.telegram_id, row.phone, row.username) == (42, "+79161234567", "anna_nails")
    assert (row.birth_day, row.birth_month, row.birth_year) == (5, 3, None)
    assert row.source == "insta_promo"
    assert row.consent is True
    assert row.registered_at == app.clock.now

    # The owner hears about the new customer through the outbox (a moment later), in the
    # shop's default language: the owner has not written to the bot yet.
    await app.fake.wait_for(
        lambda c: c.ok and c.chat_id == OWNER_ID and "Новый клиент" in (c.text or "")
    )
    owner_texts = [m["text"] for m in app.fake.sent_messages(OWNER_ID)]
    assert any("Новый клиент" in t and "+79161234567" in t for t in owner_texts)


async def test_second_start_does_not_duplicate(app: RunningBot) -> None:
    bob = app.user(43, first_name="Bob", language_code="en")
    await bob.send("/start")
    await bob.send("Skip")
    await bob.send("Skip")
    await bob.click("No, thanks")
    assert "won't send offers" in (bob.last_text or "")

    replies = await bob.send("/start other_source")
    assert "Welcome back" in replies[-1]["text"]
    rows = await customers_in(app)
    assert len(rows) == 1
    assert rows[0].consent is False
    assert rows[0].source is None  # a later deep link does not rewrite where they came from
    assert len([m for m in app.fake.sent_messages(OWNER_ID) if "New customer" in m["text"]]) == 0
    await app.fake.wait_for(lambda c: c.ok and c.chat_id == OWNER_ID)
    assert len(app.fake.sent_messages(OWNER_ID)) == 1  # told once


async def test_someone_elses_contact_is_refused(app: RunningBot) -> None:
    eve = app.user(44, language_code="en")
    await eve.send("/start")
    await eve.share_contact("79160000000", own=False)
    assert "your own number" in (eve.last_text or "")
    [row] = await customers_in(app)
    assert row.phone is None


async def test_typed_phone_asks_for_the_button(app: RunningBot) -> None:
    eve = app.user(45, language_code="en")
    await eve.send("/start")
    await eve.send("+7 916 123 45 67")
    assert "Share my phone number" in (eve.last_text or "")
    [row] = await customers_in(app)
    assert row.phone is None


async def test_bad_birthdays_are_explained_and_not_saved(app: RunningBot) -> None:
    kate = app.user(46, language_code="en")
    await kate.send("/start")
    await kate.send("Skip")
    for typed, expected in [
        ("31.02", "no such date"),
        ("29.02.2001", "no such date"),
        ("01.01.2030", "in the future"),
        ("sometime in spring", "day and month"),
        ("x" * 4000, "day and month"),
        ("01.01.1850", "check the year"),
    ]:
        await kate.send(typed)
        assert expected in (kate.last_text or ""), typed
    [row] = await customers_in(app)
    assert row.birth_day is None
    await kate.send("29.02")  # a leap-day birthday without a year is fine
    [row] = await customers_in(app)
    assert (row.birth_day, row.birth_month) == (29, 2)


async def test_sticker_instead_of_birthday(app: RunningBot) -> None:
    kate = app.user(47, language_code="en")
    await kate.send("/start")
    await kate.send("Skip")
    await kate.share_contact("79160000001")  # a contact where a birthday is expected
    assert "day and month" in (kate.last_text or "")


async def test_registered_phone_merges_with_owner_record(app: RunningBot) -> None:
    owner = app.owner
    await owner.send("/addcustomer Maria Ivanova +7 (916) 555-44-33")
    assert "Customer added" in (owner.last_text or "")
    await owner.send("/sale +79165554433 1500")
    assert "first purchase" in (owner.last_text or "")

    maria = app.user(48, first_name="Masha", language_code="ru")
    await maria.send("/start")
    await maria.share_contact("+79165554433")
    await maria.send("Пропустить")
    await maria.click("Да, присылайте")

    rows = await customers_in(app)
    assert len(rows) == 1
    [row] = rows
    assert (row.telegram_id, row.phone, row.name) == (48, "+79165554433", "Maria Ivanova")
    replies = await maria.send("/me")
    assert "Визитов: 1" in replies[-1]["text"]
    async with app.db.reading() as repos:
        count = await repos.session.scalar(select(func.count()).select_from(Customer))
    assert count == 1


async def test_me_before_registration(app: RunningBot) -> None:
    stranger = app.user(49, language_code="en")
    replies = await stranger.send("/me")
    assert "/start" in replies[-1]["text"]


async def test_language_falls_back_to_default(app: RunningBot) -> None:
    hans = app.user(50, language_code="de")
    replies = await hans.send("/start")
    assert "Здравствуйте" in replies[-1]["text"]


async def test_registration_with_fsm_state_in_redis(
    fake: FakeTelegram, sqlite_db: Database, clock: FakeClock
) -> None:
    """The same conversation with REDIS_URL set: state survives as JSON in Redis."""
    if not REDIS_URL:
        pytest.skip("Redis tests need TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)")
    settings = make_settings(fake, sqlite_db, redis_url=REDIS_URL)
    storage = create_fsm_storage(settings)
    assert isinstance(storage, RedisStorage)
    # An id of its own instead of emptying the database: parallel runs share it.
    user_id = 20_000_000 + uuid.uuid4().int % 10_000_000
    dp = create_dispatcher(settings, sqlite_db, clock=clock, storage=storage)
    try:
        async with fake.polling(dp, create_bot(settings)):
            lena = fake.user(user_id, language_code="en")
            await lena.send("/start")
            await lena.share_contact("79161230000")
            assert [key async for key in storage.redis.scan_iter(f"fsm:*{user_id}*")]
            await lena.send("Skip")
            await lena.click("Yes, send me offers")
            assert "registered" in (lena.last_text or "")
    finally:
        keys = [key async for key in storage.redis.scan_iter(f"fsm:*{user_id}*")]
        if keys:
            await storage.redis.delete(*keys)
        await storage.close()
