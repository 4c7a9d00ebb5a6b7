"""The one-line sale as people type it (issue 14, item 6): a day anywhere in the line, a name
without quotes, and an unknown phone or name added with one tap, in Russian and in English."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import Customer, Purchase
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings, register
from tests.fakes.telegram import FakeTelegram, TelegramUser

# The clock stands at Wednesday 2026-11-25, 12:00 in Moscow; a past day's sale sits at local noon.
YESTERDAY_NOON = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FRIDAY_NOON = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

SERVICES = {
    "ru": ("/addservice Педикюр; 1800; 21; 60", "/addservice Маникюр гель; 2700; 21; 90"),
    "en": ("/addservice Pedicure; 1800; 21; 60", "/addservice Gel manicure; 2700; 21; 90"),
}
# What each language types and reads.
WORDS = {
    "ru": {
        "pedicure": "Педикюр",
        "manicure": "Маникюр гель",
        "yesterday": "вчера",
        "friday": "в пятницу",
        "olga": "Ольга Смирнова",
        "add": "Добавить клиента и записать продажу",
        "not_found": "Клиент не найден:",
        "added": "Клиент добавлен:",
        "done": "Уже сделано",
    },
    "en": {
        "pedicure": "Pedicure",
        "manicure": "Gel manicure",
        "yesterday": "yesterday",
        "friday": "on friday",
        "olga": "Olga Smirnova",
        "add": "Add customer and log the sale",
        "not_found": "No customer found:",
        "added": "Customer added:",
        "done": "Already done",
    },
}


@pytest.fixture
async def shop(fake: FakeTelegram, db: Database, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """The production bot on both engines, with a fast limiter (the fake has no flood limits)."""
    settings = make_settings(fake, db)
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        yield RunningBot(fake, dp, bot, db, settings, clock)


async def owner_in(shop: RunningBot, language: str) -> TelegramUser:
    owner = shop.fake.user(OWNER_ID, first_name="Owner", language_code=language)
    for command in SERVICES[language]:
        await owner.send(command)
    return owner


async def purchases(db: Database) -> list[Purchase]:
    async with db.reading() as repos:
        rows = await repos.session.scalars(select(Purchase).order_by(Purchase.id))
        return list(rows)


async def customers(db: Database) -> list[Customer]:
    async with db.reading() as repos:
        return list(await repos.session.scalars(select(Customer).order_by(Customer.id)))


async def service_name(db: Database, service_id: int | None) -> str | None:
    if service_id is None:
        return None
    async with db.reading() as repos:
        service = await repos.catalogue.get(service_id)
        return service.name if service else None


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_phone_amount_with_spaces_and_yesterday_at_the_end(
    shop: RunningBot, language: str
) -> None:
    """«/sale +79990000000 1 800 ₽ Педикюр вчера» used to answer «Такой услуги нет»."""
    words = WORDS[language]
    await register(shop, 42, "Anna", "79990000000")
    owner = await owner_in(shop, language)
    await owner.send(f"/sale +79990000000 1 800 ₽ {words['pedicure']} {words['yesterday']}")
    assert "24.11.2026" in (owner.last_text or "")
    [row] = await purchases(shop.db)
    assert (row.amount, row.purchased_at) == (180000, YESTERDAY_NOON)
    assert await service_name(shop.db, row.service_id) == words["pedicure"]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_name_without_quotes(shop: RunningBot, language: str) -> None:
    """«/sale Ольга Смирнова 2700 Маникюр гель» used to be an amount error."""
    words = WORDS[language]
    await register(shop, 42, words["olga"], "79990000000")
    owner = await owner_in(shop, language)
    await owner.send(f"/sale {words['olga']} 2700 {words['manicure']}")
    await owner.send(f"/sale {words['olga']} {words['friday']} 2 500 ₽")
    [today, friday] = await purchases(shop.db)
    assert (today.amount, today.purchased_at) == (270000, shop.clock.now)
    assert await service_name(shop.db, today.service_id) == words["manicure"]
    assert (friday.amount, friday.service_id, friday.purchased_at) == (250000, None, FRIDAY_NOON)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_unknown_phone_is_added_with_the_sale_in_one_tap(
    shop: RunningBot, language: str
) -> None:
    words = WORDS[language]
    owner = await owner_in(shop, language)
    await owner.send(f"/sale +79990000000 1 800 ₽ {words['pedicure']} {words['yesterday']}")
    offer = owner.last_text or ""
    assert f"{words['not_found']} +79990000000" in offer
    assert "1\u00a0800\u00a0₽" in offer
    assert await purchases(shop.db) == []  # nothing is logged before the tap
    await owner.click(words["add"])
    assert any(words["added"] in (m.get("text") or "") for m in owner.messages)
    assert "24.11.2026" in (owner.last_text or "")
    [customer] = await customers(shop.db)
    assert (customer.phone, customer.name, customer.source) == ("+79990000000", None, "offline")
    [row] = await purchases(shop.db)
    assert (row.customer_id, row.amount, row.purchased_at) == (customer.id, 180000, YESTERDAY_NOON)


async def test_a_double_tap_adds_one_customer_and_one_sale(shop: RunningBot) -> None:
    owner = await owner_in(shop, "ru")
    await owner.send("/sale Ольга Смирнова 2700 Маникюр гель")
    offer = owner.last_message
    assert offer is not None
    [button] = owner.inline_buttons(offer)
    updates = [shop.fake.callback(OWNER_ID, offer, button["callback_data"]) for _ in range(2)]
    ids = {update["callback_query"]["id"] for update in updates}
    for _ in range(100):
        if set(shop.fake.callback_answers) >= ids:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # let the winner finish its replies
    assert len(await customers(shop.db)) == 1
    assert len(await purchases(shop.db)) == 1


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_unknown_name_is_added_with_the_sale(shop: RunningBot, language: str) -> None:
    words = WORDS[language]
    owner = await owner_in(shop, language)
    await owner.send(f"/sale {words['olga']} 2700 {words['manicure']}")
    assert f"{words['not_found']} {words['olga']}" in (owner.last_text or "")
    await owner.click(words["add"])
    [customer] = await customers(shop.db)
    assert (customer.name, customer.phone) == (words["olga"], None)
    [row] = await purchases(shop.db)
    assert (row.customer_id, row.amount) == (customer.id, 270000)
    # The next sale finds her by the same name.
    await owner.send(f"/sale {words['olga']} 2700 {words['manicure']} 2026-11-01")
    assert len(await purchases(shop.db)) == 2
    assert len(await customers(shop.db)) == 1


async def test_a_sale_that_fails_adds_nobody(shop: RunningBot) -> None:
    """Adding and logging are one transaction: points a new customer does not have undo both."""
    owner = await owner_in(shop, "en")
    await owner.send("/sale +79990000000 2500 points:100")
    await owner.click(WORDS["en"]["add"])
    assert await customers(shop.db) == []
    assert await purchases(shop.db) == []


async def test_unknown_customer_with_a_free_visit_is_asked_about_it(shop: RunningBot) -> None:
    owner = await owner_in(shop, "en")
    await owner.send("/sale +79990000000 0")
    await owner.click(WORDS["en"]["add"])
    assert "free visit" in (owner.last_text or "")
    assert len(await customers(shop.db)) == 1
    assert await purchases(shop.db) == []


@pytest.mark.parametrize(
    ("language", "command", "expected"),
    [
        ("ru", "/sale +79990000000 2500 вчерашний", "Не могу понять, какой это день: «вчерашний»"),
        ("ru", "/sale +79990000000 2500 пятнца", "Не могу понять, какой это день: «пятнца»"),
        ("ru", "/sale +79990000000 2500 вчера 20.11", "два дня: «вчера» и «20.11»"),
        ("ru", "/sale +79990000000 2500 31.02", "Такой даты нет в календаре"),
        ("ru", "/sale Ольга Смирнова 2 2700", "Непонятно, где сумма: «2 2700»"),
        ("en", "/sale +79990000000 2500 mondy", "I can't tell which day “mondy” is"),
        ("en", "/sale +79990000000 2500 today 2026-11-20", "names two days"),
        ("en", "/sale Olga 2 2700", "I can't tell where the amount is: “2 2700”"),
        ("en", "/sale +79990000000 2500 on friday 2019-01-01", "names two days"),
        ("en", "/sale +79990000000 2500 26.11.2026", "in the future"),
    ],
)
async def test_what_people_mistype_gets_a_clear_answer(
    shop: RunningBot, language: str, command: str, expected: str
) -> None:
    await register(shop, 42, "Ольга Смирнова", "79990000000")
    owner = await owner_in(shop, language)
    replies = await owner.send(command)
    assert expected in replies[-1]["text"]
    assert await purchases(shop.db) == []
    assert len(await customers(shop.db)) == 1
