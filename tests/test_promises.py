"""The bot keeps its word (issue 14, item 2): no first-visit gift promised in the channel welcome,
no gift promised when asking for a birthday, an honest sentence (and the owner's choice) for a
birthday entered too close to the day, and buttons that say what they did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.birthdays import queue_birthdays
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import Customer, OutboxMessage
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings
from tests.fakes.telegram import FakeTelegram, TelegramUser
from ui.callbacks import ConsentChoice

CHANNEL = -1001234567890

# Customer-facing texts, by Telegram language.
T = {
    "ru": {
        "skip": "Пропустить",
        "yes": "Да, присылайте",
        "gift": "подар",
        "late": "До него меньше 30 дней, поэтому подарок ко дню рождения в этом году не обещаем.",
        "saved": "День рождения сохранён: 05.03.",
        "resume": "Присылать предложения снова",
        "resumed": "Готово: предложения и напоминания снова будут приходить.",
        "registered": "зарегистрированы",
        "greeting": "скоро ваш день рождения",
    },
    "en": {
        "skip": "Skip",
        "yes": "Yes, send me offers",
        "gift": "gift",
        "late": "It is less than 30 days away, so we can't promise a birthday gift this year.",
        "saved": "Birthday saved: 05.03.",
        "resume": "Send me offers again",
        "resumed": "Done: offers and reminders will come again.",
        "registered": "registered",
        "greeting": "happy birthday soon",
    },
}


@pytest.fixture
async def shop(fake: FakeTelegram, db: Database, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """The bot with the shop's channel, on SQLite and PostgreSQL."""
    settings = make_settings(fake, db, channel_id=str(CHANNEL))
    fake.add_chat(CHANNEL, type="channel", title="Nails by Anna")
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        yield RunningBot(fake, dp, bot, db, settings, clock)


async def start(shop: RunningBot, user_id: int, language: str) -> TelegramUser:
    """/start and the phone; the bot then asks for the birthday."""
    person = shop.user(user_id, first_name="Anna", language_code=language)
    await person.send("/start")
    await person.share_contact(f"7916{user_id:07d}")
    return person


async def customer(db: Database, telegram_id: int) -> Customer:
    async with db.reading() as repos:
        row = await repos.customers.by_telegram_id(telegram_id)
    assert row is not None
    return row


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_channel_welcome_promises_no_gift(shop: RunningBot, language: str) -> None:
    shop.fake.chat_join_request(CHANNEL, 501, None, first_name="Lena", language_code=language)
    await shop.fake.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 501)
    [welcome] = shop.fake.sent_messages(501)
    assert "Lena" in welcome["text"]
    assert T[language]["gift"] not in welcome["text"].casefold()
    assert welcome["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=channel")


async def new_customer_note(shop: RunningBot) -> dict[str, Any]:
    """The owner's new-customer notice, once the delivery worker has sent it."""
    await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == OWNER_ID and "Новый клиент" in (c.text or "")
    )
    return shop.fake.sent_messages(OWNER_ID)[-1]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_birthday_too_close_is_told_and_the_owner_may_give_the_gift(
    shop: RunningBot, language: str
) -> None:
    anna = await start(shop, 601, language)
    assert T[language]["gift"] not in (anna.last_text or "").casefold()  # no promise when asking
    await anna.send("05.12")  # 10 days after "today", 25.11
    assert T[language]["late"] in (anna.messages[-2]["text"])  # then the consent question
    await anna.click(T[language]["yes"])

    # The owner hears of the new customer (through the outbox: a moment later), with the
    # birthday rule and a button; in the shop's language, as the owner has not written yet.
    note = await new_customer_note(shop)
    assert "День рождения: 05.12. Указан меньше чем за 30 дней" in note["text"]
    [data] = [b["callback_data"] for row in note["reply_markup"]["inline_keyboard"] for b in row]
    owner = shop.owner
    await owner.click("Подарить всё равно", message=note)
    assert (
        owner.last_text
        == "The greeting with a promo code will go at 02.12 10:00. Customer: "
        + (f"#1 Anna · +7916{601:07d}")
    )
    # A second press (a double tap) finds the button gone and queues nothing more.
    mark = len(shop.fake.calls)
    update = shop.fake.callback(OWNER_ID, note, data, language_code="en")
    await shop.fake.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery"
            and c.params.get("callback_query_id") == update["callback_query"]["id"]
        ),
        since=mark,
    )
    async with shop.db.reading() as repos:
        rows = (
            await repos.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "birthday")
            )
        ).all()
    assert [(r.dedup_key, r.not_before) for r in rows] == [
        ("birthday:1:2026", datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    ]

    # When the day comes, the usual greeting with a code goes out, once.
    shop.clock.now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert await queue_birthdays(shop.db, shop.settings.zone, shop.clock.now) == 0
    shop.dp["delivery"].notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while T[language]["greeting"] not in (anna.last_text or ""):
        assert loop.time() < deadline, anna.last_text
        await asyncio.sleep(0.02)
    assert "BD-" in (anna.last_text or "")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_birthday_far_enough_is_saved_without_a_word_on_gifts(
    shop: RunningBot, language: str
) -> None:
    anna = await start(shop, 602, language)
    await anna.send("05.03")
    assert anna.messages[-2]["text"] == T[language]["saved"]
    await anna.click(T[language]["yes"])
    note = await new_customer_note(shop)
    assert "День рождения" not in note["text"]
    assert not note.get("reply_markup")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_send_offers_again_says_offers_resumed(shop: RunningBot, language: str) -> None:
    anna = await start(shop, 603, language)
    await anna.send(T[language]["skip"])
    await anna.click(T[language]["yes"])
    await anna.send("/stop")
    assert (await customer(shop.db, 603)).consent is False
    await anna.click(T[language]["resume"])
    assert (anna.last_text or "").startswith(T[language]["resumed"])
    assert T[language]["registered"] not in (anna.last_text or "")
    assert not anna.inline_buttons(anna.last_message)
    assert (await customer(shop.db, 603)).consent is True


async def test_an_old_consent_button_of_a_registered_customer_says_what_it_did(
    shop: RunningBot,
) -> None:
    """A "yes" button left from before (an old /stop message) no longer says "registered"."""
    anna = await start(shop, 604, "en")
    await anna.send("Skip")
    await anna.click("No, thanks")
    # Pressed on another message than the finished consent question (one choice per message).
    message = anna.messages[0]
    mark = len(shop.fake.calls)
    shop.fake.callback(anna.id, message, ConsentChoice(agree=True).pack(), language_code="en")
    edit = await shop.fake.wait_for(
        lambda c: c.method == "editMessageText" and c.chat_id == anna.id, since=mark
    )
    assert str(edit.params["text"]).startswith(T["en"]["resumed"])
    assert (await customer(shop.db, 604)).consent is True
