"""The inbox end to end (issue 14, item 1): a customer's reply or question reaches the owners at
once, with who wrote it and what it answers; the owner answers from the bot's chat; the answer
reaches the customer through the outbox, waiting for the sending window when it must."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher
from services.customers import TelegramPerson
from services.inbox import InboxService, Incoming
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Winback
from services.ratelimit import RateLimiter
from storage.database import Database
from storage.models import InboxMessage, OutboxMessage
from tests.conftest import OWNER_ID, FakeClock, RunningBot, make_settings
from tests.fakes.telegram import Call, FakeTelegram, TelegramUser

JSON = dict[str, Any]

# What a customer sees, by their Telegram language.
PASSED_ON = {"ru": "Сообщение передано мастеру", "en": "passed on to the master"}
ANSWER_HEADER = {"ru": "Ответ мастера:", "en": "The master's answer:"}
WINBACK = {"ru": "соскучились", "en": "we miss you"}


@pytest.fixture
async def shop(fake: FakeTelegram, db: Database, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """The production bot on SQLite and PostgreSQL, with a limiter the fake server needs not."""
    settings = make_settings(fake, db)
    dp = create_dispatcher(settings, db, clock=clock, schedule_jobs=False)
    dp["delivery"].limiter = RateLimiter(1000, 1000)
    async with fake.polling(dp, create_bot(settings)) as bot:
        yield RunningBot(fake, dp, bot, db, settings, clock)


async def add_customer(shop: RunningBot, user_id: int, name: str, language: str) -> TelegramUser:
    now = shop.clock.now
    async with shop.db.transaction() as repos:
        await repos.customers.add(
            telegram_id=user_id,
            name=name,
            search_name=name.casefold(),
            phone=f"+7916{user_id:07d}",
            language=language,
            consent=True,
            registered_at=now,
            created_at=now,
        )
    first = name.split(maxsplit=1)[0]
    return shop.user(user_id, first_name=first, language_code=language)


async def send_winback(shop: RunningBot, person: TelegramUser, name: str) -> JSON:
    """The win-back message, as the at-risk button queues it; returns it as the customer sees it."""
    before = len(person.messages)
    async with shop.db.transaction() as repos:
        customer = await repos.customers.by_telegram_id(person.id)
        assert customer is not None
        key = f"winback:{customer.id}:test"
        message = Outgoing(key, person.id, customer.id, shop.clock.now, Winback(name))
        await enqueue(repos, message, shop.clock.now)
    shop.dp["delivery"].notify()
    await wait_until(lambda: len(person.messages) > before)
    # The worker marks the row sent just after Telegram's answer: a reply quicker than that
    # would find no message to answer (a race seen under load, not a behaviour).
    for _ in range(750):
        async with shop.db.reading() as repos:
            row = await repos.outbox.by_key(key)
        if row is not None and row.sent_at is not None:
            break
        await asyncio.sleep(0.02)
    return person.messages[-1]


async def wait_until(predicate: Callable[[], bool], seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def say(
    person: TelegramUser, text: str | None = None, *, reply_to: JSON | None = None, **extra: Any
) -> list[JSON]:
    """A message, optionally a Telegram reply to `reply_to`; the bot's answers in this chat."""
    fake = person.fake
    mark = len(fake.calls)
    if reply_to is not None:
        extra["reply_to_message"] = dict(reply_to)
    update = fake.user_message(
        person.id,
        text,
        first_name=person.first_name,
        last_name=person.last_name,
        username=person.username,
        language_code=person.language_code,
        **extra,
    )
    return await person._conversation_turn(update, mark, True, f"message {text!r}")


def sent_to(fake: FakeTelegram, chat_id: int, since: int = 0) -> list[Call]:
    return [
        c
        for c in fake.calls[since:]
        if c.ok and c.chat_id == chat_id and c.method.lower() in {"sendmessage", "copymessage"}
    ]


async def owner_copy(shop: RunningBot, since: int, needle: str) -> JSON:
    """The owner's copy of a customer's message, once delivered (it goes through the outbox)."""
    call = await shop.fake.wait_for(
        lambda c: (
            c.ok
            and c.chat_id == OWNER_ID
            and c.method == "sendMessage"
            and needle in (c.text or "")
        ),
        since=since,
    )
    assert call.message is not None
    await settled(shop.db)
    return call.message


async def settled(db: Database) -> None:
    """Every due outbox row is marked: a reply may now find the row behind its message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        async with db.reading() as repos:
            statuses = (await repos.session.scalars(select(OutboxMessage.status))).all()
        if "sending" not in statuses:
            return
        assert loop.time() < deadline, statuses
        await asyncio.sleep(0.02)


async def inbox_rows(db: Database) -> list[InboxMessage]:
    async with db.reading() as repos:
        return list(
            (await repos.session.scalars(select(InboxMessage).order_by(InboxMessage.id))).all()
        )


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_reply_to_a_winback_reaches_the_owner_and_the_answer_comes_back(
    shop: RunningBot, language: str
) -> None:
    anna = await add_customer(shop, 501, "Анна Петрова", language)
    winback = await send_winback(shop, anna, "Анна")
    assert WINBACK[language] in winback["text"]

    mark = len(shop.fake.calls)
    replies = await say(anna, "Да, можно в среду вечером?", reply_to=winback)
    assert PASSED_ON[language] in replies[-1]["text"]
    assert "не понял" not in replies[-1]["text"] and "understand" not in replies[-1]["text"]

    copy = await owner_copy(shop, mark, "Да, можно в среду вечером?")
    text = copy["text"]
    # Who wrote (name and phone), what it answers (the win-back as the customer read it), the words.
    assert "Клиент: #1 Анна Петрова · +79160000501" in text
    assert "В ответ на сообщение бота от 25.11 12:00" in text  # Moscow time of the send
    assert WINBACK[language] in text
    assert [b["text"] for row in copy["reply_markup"]["inline_keyboard"] for b in row] == [
        "Ответить"
    ]

    owner = shop.owner
    await owner.send("/inbox")
    assert "Анна Петрова" in (owner.last_text or "")
    assert "Да, можно в среду вечером?" in (owner.last_text or "")

    # The owner answers by replying to the copy.
    mark = len(shop.fake.calls)
    answered = await say(owner, "Да, в среду в 19:00 есть окно", reply_to=copy)
    assert "Your answer is on its way. Customer: #1 Анна Петрова" in answered[-1]["text"]
    await wait_until(lambda: ANSWER_HEADER[language] in (anna.last_text or ""))
    assert anna.last_text == f"{ANSWER_HEADER[language]}\n\nДа, в среду в 19:00 есть окно"

    await owner.send("/inbox")
    assert owner.last_text == "No customer messages are waiting for an answer."
    rows = await inbox_rows(shop.db)
    assert [(r.direction, r.answered_at is not None) for r in rows] == [
        ("in", True),
        ("out", False),
    ]
    assert rows[0].about_outbox_id is not None


async def test_a_question_at_night_reaches_the_owner_and_the_answer_waits_for_the_window(
    shop: RunningBot,
) -> None:
    shop.clock.now = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: quiet hours
    olga = await add_customer(shop, 502, "Olga", "en")
    mark = len(shop.fake.calls)
    replies = await say(olga, "Hello, how much is a manicure?")
    assert PASSED_ON["en"] in replies[-1]["text"]
    copy = await owner_copy(shop, mark, "how much is a manicure")  # at once, at night
    assert "Клиент пишет сам" in copy["text"]  # no bot message in the last days to answer

    # The owner answers a day later (still at night), with the Answer button.
    shop.clock.advance(days=1)
    owner = shop.owner
    await owner.send("/inbox")
    assert "Olga" in (owner.last_text or "")
    await owner.click("Answer: #1 Olga")
    assert "Write your answer" in (owner.last_text or "")
    mark = len(shop.fake.calls)
    await owner.send("2500 ₽, see you!")
    assert "The answer will go at 27.11 10:00" in (owner.last_text or "")
    shop.dp["delivery"].notify()
    await asyncio.sleep(0.3)
    assert sent_to(shop.fake, olga.id, mark) == []  # nothing to the customer at night

    shop.clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    shop.dp["delivery"].notify()
    await wait_until(lambda: "2500 ₽, see you!" in (olga.last_text or ""))
    await owner.send("/inbox")
    assert owner.last_text == "No customer messages are waiting for an answer."


async def test_a_photo_is_copied_to_the_owner_and_a_photo_answer_to_the_customer(
    shop: RunningBot,
) -> None:
    lena = await add_customer(shop, 503, "Лена", "ru")
    photo = [{"file_id": "AgACphoto1", "file_unique_id": "u1", "width": 800, "height": 600}]
    mark = len(shop.fake.calls)
    replies = await say(lena, None, photo=photo, caption="Такой дизайн можно?")
    assert PASSED_ON["ru"] in replies[-1]["text"]
    header = await owner_copy(shop, mark, "Такой дизайн можно?")
    assert "Вложение: фото" in header["text"]
    copied = await shop.fake.wait_for(
        lambda c: c.ok and c.method == "copyMessage" and c.chat_id == OWNER_ID, since=mark
    )
    assert copied.params["from_chat_id"] == lena.id
    await settled(shop.db)

    # A reply to the copied photo itself is an answer too; the owner answers with a photo.
    copy = shop.fake.sent_messages(OWNER_ID)[-1]
    assert copy.get("photo")
    owner = shop.owner
    mark = len(shop.fake.calls)
    their_photo = [{"file_id": "AgACphoto2", "file_unique_id": "u2", "width": 800, "height": 600}]
    await say(owner, None, reply_to=copy, photo=their_photo, caption="Да, вот похожий")
    await shop.fake.wait_for(
        lambda c: c.ok and c.method == "copyMessage" and c.chat_id == lena.id, since=mark
    )
    assert lena.last_message is not None and lena.last_message.get("photo")


async def test_owners_and_commands_are_not_caught_by_the_inbox(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("hello there")
    assert "I didn't understand that" in (owner.last_text or "")
    maria = await add_customer(shop, 504, "Maria", "en")
    await maria.send("/whatever")
    assert PASSED_ON["en"] not in (maria.last_text or "")
    # A reply to a message the owner got directly (not a customer's copy) is not an answer.
    await owner.send("/inbox")
    await say(owner, "thanks", reply_to=owner.messages[-1])
    assert await inbox_rows(shop.db) == []


async def test_a_copy_lost_to_telegram_is_sent_again(shop: RunningBot) -> None:
    """Telegram down when the question arrives: the owner's copy waits in the outbox."""
    ivan = await add_customer(shop, 505, "Ivan", "en")
    shop.fake.fail_next("sendMessage", chat_id=OWNER_ID, error_code=502, description="Bad Gateway")
    mark = len(shop.fake.calls)
    await say(ivan, "Are you open on Sunday?")
    await shop.fake.wait_for(
        lambda c: c.chat_id == OWNER_ID and c.method == "sendMessage" and not c.ok, since=mark
    )
    await settled(shop.db)  # put back for a retry, a little later
    shop.clock.advance(minutes=5)
    shop.dp["delivery"].notify()
    await owner_copy(shop, mark, "Are you open on Sunday?")


async def test_the_same_update_twice_is_passed_on_once(db: Database, clock: FakeClock) -> None:
    inbox = InboxService(db, ZoneInfo("Europe/Moscow"), [OWNER_ID, 2000])
    person = TelegramPerson(601, "Vera", None, None, "ru")
    incoming = Incoming(chat_id=601, message_id=7, content="text", text="Здравствуйте")
    first = await inbox.receive(person, incoming, clock.now)
    again = await inbox.receive(person, incoming, clock.now + timedelta(seconds=1))
    assert first.new and not again.new and first.customer_id == again.customer_id
    async with db.reading() as repos:
        rows = (await repos.session.scalars(select(OutboxMessage))).all()
    assert sorted(r.chat_id for r in rows) == [OWNER_ID, 2000]  # one copy per owner
    assert all(json.loads(r.payload)["text"] == "Здравствуйте" for r in rows)
    conversations = await inbox.open_conversations()
    assert [(c.customer.name, c.waiting) for c in conversations] == [("Vera", 1)]


async def test_forget_erases_the_inbox_and_the_owners_copies(
    db: Database, clock: FakeClock
) -> None:
    from services.privacy import PrivacyService

    inbox = InboxService(db, ZoneInfo("Europe/Moscow"), [OWNER_ID])
    person = TelegramPerson(602, "Secret", "Name", None, "en")
    await inbox.receive(person, Incoming(602, 1, "text", "my secret words"), clock.now)
    await PrivacyService(db).forget(602, clock.now)
    async with db.reading() as repos:
        payloads = (await repos.session.scalars(select(OutboxMessage.payload))).all()
        texts = (await repos.session.scalars(select(InboxMessage.text))).all()
    assert not any("Secret" in p or "secret words" in p for p in payloads)
    assert texts == [None]
