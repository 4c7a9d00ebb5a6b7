"""Every action happens once: double taps, repeated buttons, a one-line sale typed twice."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.delivery import DeliveryWorker
from scheduler.jobs import rebooking
from services.feedback import queue_feedback
from services.once import OnceService, Press
from services.transfer import import_csv
from storage.database import Database
from storage.models import (
    Booking,
    Campaign,
    Customer,
    OnceClaim,
    OutboxMessage,
    PointsEntry,
    Purchase,
    Rating,
)
from tests.conftest import OWNER_ID, FakeClock, RunningBot, register
from tests.fakes.telegram import JSON, TelegramUser

ALREADY = "Already done."
STALE = "This button is from a finished step. Please start again."


# --- the claim itself, on both databases -----------------------------------------------------


async def test_a_press_is_claimed_once_released_and_pruned(db: Database, clock: FakeClock) -> None:
    once = OnceService(db)
    press = Press(42, 7, "o-sd:0")
    assert await once.claim(press, clock.now)
    assert not await once.claim(press, clock.now)
    # Another message, or another button of it, is another press.
    assert await once.claim(Press(42, 8, "o-sd:0"), clock.now)
    assert await once.claim(Press(42, 7, "o-sd:1"), clock.now)
    await once.release(press)  # the action failed: the button works again
    assert await once.claim(press, clock.now)
    clock.advance(days=91)
    assert await once.prune(clock.now) == 3
    assert await once.claim(press, clock.now)


async def test_simultaneous_claims_let_exactly_one_through(db: Database, clock: FakeClock) -> None:
    once = OnceService(db)
    press = Press(42, 7, "bk:1:29000000:0")
    results = await asyncio.gather(*(once.claim(press, clock.now) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    async with db.reading() as repos:
        assert await repos.session.scalar(select(func.count()).select_from(OnceClaim)) == 1


# --- end to end ------------------------------------------------------------------------------


async def count(app: RunningBot, model: Any, *where: Any) -> int:
    async with app.db.reading() as repos:
        query = select(func.count()).select_from(model).where(*where)
        return int(await repos.session.scalar(query) or 0)


async def until(check: Any, seconds: float = 5.0) -> None:
    """Wait for a condition the bot brings about (replies may be paced by the limiter)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not get there in time")


async def wait_answers(app: RunningBot, ids: set[str]) -> list[JSON]:
    await until(lambda: set(app.fake.callback_answers) >= ids)
    await asyncio.sleep(0.3)  # let the winner finish its replies
    return [app.fake.callback_answers[i] for i in ids]


async def double_tap(app: RunningBot, person: TelegramUser, text: str) -> list[JSON]:
    """Two presses of one button, queued back to back before the bot answers either."""
    await until(lambda: any(b["text"] == text for b in person.inline_buttons()))
    message = person._newest_with_inline_keyboard()
    assert message is not None
    [button] = [b for b in person.inline_buttons(message) if b["text"] == text]
    updates = [app.fake.callback(person.id, message, button["callback_data"]) for _ in range(2)]
    return await wait_answers(app, {u["callback_query"]["id"] for u in updates})


def alerts(answers: list[JSON]) -> list[str]:
    return sorted(str(a.get("text") or "") for a in answers)


async def to_consent(app: RunningBot, user_id: int, name: str) -> TelegramUser:
    person = app.user(user_id, first_name=name, language_code="en")
    await person.send("/start")
    await until(lambda: bool(person.reply_keyboard_buttons()))
    await person.send("Skip")
    await until(lambda: "birthday" in (person.last_text or ""))
    await person.send("Skip")
    await until(lambda: any(b["text"] == "Yes, send me offers" for b in person.inline_buttons()))
    return person


def has_button(person: TelegramUser, text: str, *, exact: bool = False) -> bool:
    buttons = [b["text"] for b in person.inline_buttons()]
    return text in buttons if exact else any(text in b for b in buttons)


async def press(person: TelegramUser, text: str, *, exact: bool = False) -> None:
    """Click once the button is there (the previous reply may still be on its way)."""
    await until(lambda: has_button(person, text, exact=exact))
    await person.click(text)


def texts_of(person_or_chat: TelegramUser, part: str) -> list[str]:
    return [m["text"] for m in person_or_chat.messages if part in (m.get("text") or "")]


async def exactly_one(get: Any) -> None:
    """One, and no second after a pause longer than one paced message (a second per chat)."""
    await until(lambda: len(get()) >= 1)
    await asyncio.sleep(1.2)
    assert len(get()) == 1, get()


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


async def guided_sale_until_day(owner: TelegramUser) -> None:
    await owner.send("/sale")
    await owner.send("anna")
    await press(owner, "Gel manicure")
    await press(owner, "2\u00a0500\u00a0₽", exact=True)


async def test_guided_sale_last_button_twice_logs_one_sale(shop: RunningBot) -> None:
    owner = shop.owner
    await guided_sale_until_day(owner)
    answers = await double_tap(shop, owner, "Today")
    # The second press was claimed already or found the form finished: never an error.
    assert alerts(answers)[0] == ""
    assert alerts(answers)[1] in {ALREADY, STALE}
    assert await count(shop, Purchase) == 1
    await exactly_one(lambda: texts_of(owner, "first purchase"))
    assert await count(shop, OutboxMessage, OutboxMessage.kind == "thanks") == 1
    assert await count(shop, PointsEntry, PointsEntry.reason == "cashback") == 1


async def test_promo_send_twice_sends_once(shop: RunningBot) -> None:
    await register(shop, 43, "Boris", "79161234568")
    owner = shop.owner
    await owner.send("/promo")
    await owner.send("-20% on everything this weekend!")
    await press(owner, "Everyone who agreed to offers")
    await until(lambda: has_button(owner, "Send to"))
    send = next(b["text"] for b in owner.inline_buttons() if b["text"].startswith("Send to"))
    answers = await double_tap(shop, owner, send)
    assert alerts(answers) == ["", ALREADY]
    assert await count(shop, Campaign) == 1
    async with shop.db.reading() as repos:
        chats = (
            await repos.session.scalars(
                select(OutboxMessage.chat_id).where(OutboxMessage.campaign_id.is_not(None))
            )
        ).all()
    assert sorted(chats) == [42, 43]  # one promo row per customer


async def test_consent_twice_is_not_an_error(app: RunningBot) -> None:
    person = await to_consent(app, 50, "Vera")
    answers = await double_tap(app, person, "Yes, send me offers")
    assert alerts(answers) == ["", ALREADY]
    await until(lambda: (person.last_text or "").startswith("Done"))
    assert not texts_of(person, "went wrong")
    # Pressed again later on the edited message (a stale client): still just "already done".
    update = app.fake.callback(person.id, person.messages[-1], "cons:1")
    [answer] = await wait_answers(app, {update["callback_query"]["id"]})
    assert answer.get("text") == ALREADY
    assert not texts_of(person, "went wrong")
    async with app.db.reading() as repos:
        row = await repos.customers.by_telegram_id(50)
        assert row is not None and row.consent is True and row.registered_at is not None


async def test_an_edit_that_changes_nothing_is_not_an_error(app: RunningBot) -> None:
    """Telegram's 400 "message is not modified" is handled once, for every handler."""
    person = await to_consent(app, 51, "Gleb")
    app.fake.fail_next(
        "editMessageText",
        error_code=400,
        description="Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same as a current content and reply markup "
        "of the message",
    )
    await person.click("Yes, send me offers")
    await asyncio.sleep(1.2)
    assert not any("went wrong" in text for text in person.alerts)
    assert not texts_of(person, "went wrong")
    async with app.db.reading() as repos:
        row = await repos.customers.by_telegram_id(51)
        assert row is not None and row.registered_at is not None


async def test_delete_confirm_twice_deletes_once(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/sale #1 1500")
    await until(lambda: bool(texts_of(owner, "Sale #1")))
    await owner.send("/delsale 1")
    answers = await double_tap(shop, owner, "Yes, delete")
    assert alerts(answers) == ["", ALREADY]
    assert await count(shop, Purchase) == 0
    await exactly_one(lambda: [e for e in shop.fake.edits if e.chat_id == OWNER_ID])


async def book_thursday_until_slots(person: TelegramUser) -> None:
    await person.send("/book")
    await press(person, "Gel manicure")
    await press(person, "Thu 26.11")
    await until(lambda: has_button(person, "10:00"))


async def test_booking_slot_twice_books_once(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await book_thursday_until_slots(anna)
    answers = await double_tap(shop, anna, "10:00")
    assert alerts(answers) == ["", ALREADY]
    assert await count(shop, Booking) == 1
    await exactly_one(lambda: texts_of(anna, "Booked:"))
    await exactly_one(
        lambda: [
            # Through the outbox, in the owner's language (they wrote /addservice in English).
            m
            for m in shop.fake.sent_messages(OWNER_ID)
            if "New booking" in (m.get("text") or "")
        ]
    )


async def test_a_taken_slot_gives_its_press_back(shop: RunningBot) -> None:
    """A tap that booked nothing (the slot went meanwhile) can be tried again later."""
    await register(shop, 43, "Boris", "79161234568")
    anna, boris = shop.user(42, first_name="Anna"), shop.user(43, first_name="Boris")
    await book_thursday_until_slots(anna)
    await book_thursday_until_slots(boris)
    slots = boris._newest_with_inline_keyboard()
    await anna.click("10:00")
    await until(lambda: bool(texts_of(anna, "Booked:")))
    await boris.click("10:00", message=slots)
    await until(lambda: bool(texts_of(boris, "just taken")))
    async with shop.db.reading() as repos:
        claims = (
            await repos.session.scalars(
                select(OnceClaim.chat_id).where(OnceClaim.data.startswith("bk:"))
            )
        ).all()
    assert claims == [42]


async def test_rating_twice_rates_once(shop: RunningBot) -> None:
    await shop.owner.send("/sale #1 1500")
    await until(lambda: bool(texts_of(shop.owner, "Sale #1")))
    anna = shop.user(42, first_name="Anna")
    shop.clock.advance(hours=6)  # the rating question goes out hours after the visit
    assert await queue_feedback(shop.db, shop.settings.zone, shop.clock.now) == 1
    worker: DeliveryWorker = shop.dp["delivery"]
    await worker.run_once(shop.clock.now)
    await until(lambda: has_button(anna, "⭐⭐⭐⭐⭐", exact=True))
    # Two of the question's buttons pressed at once (5 stars, then 4): one choice per message.
    message = anna._newest_with_inline_keyboard()
    assert message is not None
    updates = [shop.fake.callback(42, message, data) for data in ("rate:1:5", "rate:1:4")]
    answers = await wait_answers(shop, {u["callback_query"]["id"] for u in updates})
    assert alerts(answers) == ["", ALREADY]
    assert await count(shop, Rating) == 1
    await exactly_one(lambda: texts_of(anna, "Thank you for the rating"))


# --- a one-line sale typed again within minutes is confirmed first --------------------------


async def test_repeated_one_line_sale_is_confirmed(shop: RunningBot) -> None:
    owner = shop.owner

    async def sale(expect: str) -> None:
        mark = len(owner.messages)
        await owner.send("/sale #1 1500 Gel manicure")
        await until(lambda: any(expect in (m.get("text") or "") for m in owner.messages[mark:]))

    await sale("first purchase")
    shop.clock.advance(minutes=3)
    await sale("Log another one?")
    assert owner.last_text == "The same sale was already logged 3 min ago (#1).\nLog another one?"
    await owner.click("No")
    await until(lambda: owner.last_text == "OK, no second sale logged.")
    assert await count(shop, Purchase) == 1
    # Another day (a past visit entered now) or another amount is another sale: no question.
    await owner.send("/sale #1 1500 Gel manicure 2026-11-20")
    await until(lambda: bool(texts_of(owner, "20.11.2026")))
    assert await count(shop, Purchase) == 2
    await owner.send("/sale #1 1400 Gel manicure")
    await until(lambda: len(texts_of(owner, "repeat purchase")) == 1)
    assert await count(shop, Purchase) == 3
    await sale("Log another one?")
    answers = await double_tap(shop, owner, "Yes, log another one")
    assert alerts(answers) == ["", ALREADY]
    await until(lambda: len(texts_of(owner, "repeat purchase")) == 2)
    assert await count(shop, Purchase) == 4  # Yes pressed twice: one more sale, not two
    # Past the window the same sale is just logged.
    shop.clock.advance(minutes=11)
    await sale("repeat purchase")
    assert await count(shop, Purchase) == 5


# --- imported customers are customers ---------------------------------------------------------


async def test_imported_customer_books_from_a_reminder(shop: RunningBot) -> None:
    now = shop.clock.now
    zone = shop.settings.zone
    customers = "name,phone,telegram_id,consent\nMila,+79160000077,777,yes\n"
    day = (now - timedelta(days=18)).astimezone(zone).date().isoformat()
    purchases = f"customer,date,amount,service\n777,{day},2500,Gel manicure\n"
    await import_csv(shop.db, "customers", io.StringIO(customers), zone=zone, now=now)
    await import_csv(shop.db, "purchases", io.StringIO(purchases), zone=zone, now=now)
    async with shop.db.reading() as repos:
        mila = await repos.session.scalar(select(Customer).where(Customer.telegram_id == 777))
        assert mila is not None and mila.registered_at is None  # never pressed /start
    assert await rebooking(shop.db, zone, now) == 1
    worker: DeliveryWorker = shop.dp["delivery"]
    await worker.run_once(now)
    person = shop.user(777, first_name="Mila", language_code="en")
    await until(lambda: bool(person.inline_buttons()))
    await person.click(person.inline_buttons()[0]["text"])
    await until(lambda: bool(texts_of(person, "Booked: Gel manicure")))
    [booking] = await _bookings(shop)
    assert booking.source == "rebook" and booking.outbox_id is not None
    # /book works for them too.
    await person.send("/book")
    await until(lambda: has_button(person, "Gel manicure"))
    assert not texts_of(person, "register first")


async def _bookings(app: RunningBot) -> list[Booking]:
    async with app.db.reading() as repos:
        return list((await repos.session.scalars(select(Booking))).all())
