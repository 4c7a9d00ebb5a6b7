"""Owner notices through the outbox, in each owner's own language (issue 8, item 3): a new
customer, a booking made or moved, a low rating; an outage delays a notice, never loses it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import run_job
from services.booking_reminders import queue_booking_reminders
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import OutboxMessage, ShopSetting
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings
from tests.fakes.telegram import Call, FakeTelegram, TelegramUser

RUSSIAN_OWNER = 1001


@pytest.fixture
async def shop(fake: FakeTelegram, db: Database, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """Two owners, on SQLite and PostgreSQL; 1000 writes in English, 1001 in Russian."""
    settings = make_settings(fake, db, owner_ids=f"{OWNER_ID},{RUSSIAN_OWNER}")
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = dp["limiter"] = RateLimiter(10_000, 10_000, margin=0)
    async with fake.polling(dp, create_bot(settings, dp["limiter"])) as bot:
        yield RunningBot(fake, dp, bot, db, settings, clock)


def russian_owner(shop: RunningBot, language_code: str | None = "ru") -> TelegramUser:
    return shop.user(RUSSIAN_OWNER, first_name="Хозяйка", language_code=language_code)


async def owners_write(shop: RunningBot) -> None:
    """Owners are remembered in the language of the last update they sent."""
    await shop.owner.send("/help")
    await russian_owner(shop).send("/help")


async def notice(shop: RunningBot, owner_id: int, needle: str, since: int) -> str:
    """The text of the first notice to `owner_id` containing `needle` sent after `since`."""
    call = await shop.fake.wait_for(
        lambda c: (
            c.method.lower() == "sendmessage"
            and c.ok
            and c.chat_id == owner_id
            and needle in (c.text or "")
        ),
        since=since,
    )
    return call.text or ""


def delivered(shop: RunningBot, owner_id: int, needle: str) -> list[Call]:
    return [
        c
        for c in shop.fake.calls_of("sendMessage")
        if c.ok and c.chat_id == owner_id and needle in (c.text or "")
    ]


async def start_registration(shop: RunningBot, user_id: int, name: str) -> TelegramUser:
    person = shop.user(user_id, first_name=name, language_code="en")
    await person.send("/start")
    await person.share_contact(f"7916{user_id:07d}")
    await person.send("Skip")
    return person


async def test_each_owner_hears_of_a_new_customer_a_booking_and_its_move_in_their_language(
    shop: RunningBot,
) -> None:
    await owners_write(shop)
    mark = len(shop.fake.calls)
    anna = await start_registration(shop, 42, "Anna")
    await anna.click("Yes, send me offers")
    english = await notice(shop, OWNER_ID, "New customer: #1 Anna", mark)
    russian = await notice(shop, RUSSIAN_OWNER, "Новый клиент: #1 Anna", mark)
    assert "+79160000042" in english and "+79160000042" in russian

    await shop.owner.send("/addservice Gel manicure; 2500; 21; 90")
    mark = len(shop.fake.calls)
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    english = await notice(shop, OWNER_ID, "New booking", mark)
    russian = await notice(shop, RUSSIAN_OWNER, "Новая запись", mark)
    assert english == "New booking: #1 Anna · +79160000042 — Gel manicure, Thu 26.11 10:00."
    assert russian == "Новая запись: #1 Anna · +79160000042 — Gel manicure, Чт 26.11 10:00."

    # The reminder's Reschedule: the notice names both times, in each owner's words.
    assert await queue_booking_reminders(shop.db, shop.settings.zone, shop.clock.now) == 1
    worker: DeliveryWorker = shop.dp["delivery"]
    worker.notify()
    await shop.fake.wait_for(lambda c: c.chat_id == 42 and "Reminder" in (c.text or ""))
    await anna.click("🔁 Reschedule")
    await anna.click("Fri 27.11")
    mark = len(shop.fake.calls)
    await anna.click("12:00")
    english = await notice(shop, OWNER_ID, "Booking moved", mark)
    russian = await notice(shop, RUSSIAN_OWNER, "Запись перенесена", mark)
    assert "Thu 26.11 10:00 → Fri 27.11 12:00" in english
    assert "Чт 26.11 10:00 → Пт 27.11 12:00" in russian

    # Each notice was sent once, to each owner.
    for needle in ("New customer", "New booking", "Booking moved"):
        assert len(delivered(shop, OWNER_ID, needle)) == 1
    assert len(delivered(shop, RUSSIAN_OWNER, "Новая запись")) == 1


async def test_a_low_rating_reaches_each_owner_in_their_language(shop: RunningBot) -> None:
    await owners_write(shop)
    anna = await start_registration(shop, 42, "Anna")
    await anna.click("Yes, send me offers")
    await shop.owner.send("/sale +79160000042 2000")
    shop.clock.advance(hours=3)  # the rating question comes a few hours after the visit
    assert await run_job("feedback", shop.db, shop.settings.zone, shop.clock()) == 1
    shop.dp["delivery"].notify()
    question = await shop.fake.wait_for(lambda c: c.chat_id == 42 and "How was" in (c.text or ""))
    assert question.ok
    mark = len(shop.fake.calls)
    await anna.click("⭐⭐")
    assert "What went wrong" in (anna.last_text or "")
    english = await notice(shop, OWNER_ID, "Low rating 2/5 from #1 Anna", mark)
    russian = await notice(shop, RUSSIAN_OWNER, "Низкая оценка 2/5. Клиент: #1 Anna", mark)
    assert "asked what went wrong" in english and "спросили, что пошло не так" in russian

    mark = len(shop.fake.calls)
    await anna.send("The gel chipped after two days")
    english = await notice(shop, OWNER_ID, "The gel chipped", mark)
    russian = await notice(shop, RUSSIAN_OWNER, "The gel chipped", mark)
    assert english.startswith("⚠️ Low rating 2/5") and russian.startswith("⚠️ Низкая оценка 2/5")


async def test_an_owner_who_switches_language_gets_the_next_notice_in_the_new_one(
    shop: RunningBot,
) -> None:
    await owners_write(shop)
    await russian_owner(shop, language_code=None).send("/help")  # no code: nothing changes
    await russian_owner(shop, language_code="en-GB").send("/help")
    await russian_owner(shop, language_code="en-GB").send("/help")  # the same: no write
    async with shop.db.reading() as repos:
        stored = await repos.settings.values([f"owner_language:{RUSSIAN_OWNER}"])
    assert stored == {f"owner_language:{RUSSIAN_OWNER}": "en"}
    mark = len(shop.fake.calls)
    await (await start_registration(shop, 42, "Anna")).click("Yes, send me offers")
    await notice(shop, RUSSIAN_OWNER, "New customer: #1 Anna", mark)
    await notice(shop, OWNER_ID, "New customer: #1 Anna", mark)


async def test_without_a_remembered_language_owners_get_the_shop_language(
    shop: RunningBot,
) -> None:
    mark = len(shop.fake.calls)
    await (await start_registration(shop, 42, "Anna")).click("Yes, send me offers")
    await notice(shop, OWNER_ID, "Новый клиент: #1 Anna", mark)
    await notice(shop, RUSSIAN_OWNER, "Новый клиент: #1 Anna", mark)
    async with shop.db.reading() as repos:
        keys = list(await repos.session.scalars(select(ShopSetting.key)))
    assert not [key for key in keys if key.startswith("owner_language:")]


async def test_a_notice_queued_during_an_outage_is_delivered_after_it_once(
    shop: RunningBot,
) -> None:
    await owners_write(shop)
    anna = await start_registration(shop, 42, "Anna")
    shop.fake.outage(502, "<html>Bad Gateway</html>", methods=("sendMessage",))
    mark = len(shop.fake.calls)
    await anna.click("Yes, send me offers")  # an edit and a callback answer: not sendMessage
    for owner_id in (OWNER_ID, RUSSIAN_OWNER):
        await shop.fake.wait_for(
            lambda c, owner_id=owner_id: (
                c.method.lower() == "sendmessage" and not c.ok and c.chat_id == owner_id
            ),
            since=mark,
        )
    await asyncio.sleep(0.3)  # the worker puts both rows back before the outage ends
    async with shop.db.reading() as repos:
        rows = list(await repos.session.scalars(select(OutboxMessage)))
    assert {(r.chat_id, r.status) for r in rows} == {
        (OWNER_ID, "pending"),
        (RUSSIAN_OWNER, "pending"),
    }
    assert all(r.customer_id is None and json.loads(r.payload)["customer_id"] for r in rows)
    assert delivered(shop, OWNER_ID, "New customer") == []

    shop.fake.outage_off()
    shop.clock.advance(minutes=6)  # past any backoff (capped at five minutes)
    shop.dp["delivery"].notify()
    await notice(shop, OWNER_ID, "New customer: #1 Anna", mark)
    await notice(shop, RUSSIAN_OWNER, "Новый клиент: #1 Anna", mark)
    shop.clock.advance(minutes=6)
    shop.dp["delivery"].notify()
    await asyncio.sleep(0.3)
    assert len(delivered(shop, OWNER_ID, "New customer")) == 1
    assert len(delivered(shop, RUSSIAN_OWNER, "Новый клиент")) == 1
    async with shop.db.reading() as repos:
        statuses = list(await repos.session.scalars(select(OutboxMessage.status)))
    assert statuses == ["sent", "sent"]


async def test_forget_blanks_the_owners_notices(shop: RunningBot) -> None:
    await owners_write(shop)
    anna = await start_registration(shop, 42, "Anna")
    mark = len(shop.fake.calls)
    await anna.click("Yes, send me offers")
    await notice(shop, OWNER_ID, "New customer", mark)
    await notice(shop, RUSSIAN_OWNER, "Новый клиент", mark)
    await anna.send("/forget")
    await anna.click("Yes, erase my data")
    async with shop.db.reading() as repos:
        payloads = list(
            await repos.session.scalars(
                select(OutboxMessage.payload).where(OutboxMessage.kind == "owner_new_customer")
            )
        )
    assert payloads == ["{}", "{}"]
