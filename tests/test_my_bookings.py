"""A customer's own bookings: listed in /me and /book with Reschedule and Cancel, and
confirmations that say exactly when the day-before reminder comes (or nothing)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.booking_reminders import queue_booking_reminders, reminder_moment
from services.bookings import BookingService
from services.catalogue import CatalogueService
from services.shop import ShopProfile
from storage.database import Database
from storage.models import Booking
from tests.conftest import FakeClock, RunningBot, register
from tests.fakes.telegram import TelegramUser

MOSCOW = ZoneInfo("Europe/Moscow")
WEDNESDAY = date(2026, 11, 25)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow
THURSDAY = date(2026, 11, 26)
FRIDAY = date(2026, 11, 27)
SATURDAY = date(2026, 11, 28)

# What each language says (the same flow is played in both).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "service": "Gel manicure",
        "thu": "Thu 26.11",
        "fri": "Fri 27.11",
        "wed": "Wed 25.11",
        "move": "🔁 Reschedule",
        "cancel": "✖ Cancel",
        "item": "Your booking: Gel manicure, Thu 26.11 10:00. "
        "You can reschedule or cancel it until it starts.",
        "none": "No upcoming bookings. To book: /book.",
        "cancelled": "Cancelled: Gel manicure, Thu 26.11 10:00",
        "pick_day": "pick a day",
        "moved": "Moved: Gel manicure, now Fri 27.11 12:00. "
        "We'll remind you the day before, Thu 26.11 at 10:00.",
        "booked_today": "Booked: Gel manicure, Wed 25.11 15:00.",
        "booked_fri": "Booked: Gel manicure, Fri 27.11 10:00. "
        "We'll remind you the day before, Thu 26.11 at 10:00.",
        "booked_thu": "Booked: Gel manicure, Thu 26.11 10:00.",
        "remind_word": "remind",
    },
    "ru": {
        "service": "Gel manicure",
        "thu": "Чт 26.11",
        "fri": "Пт 27.11",
        "wed": "Ср 25.11",
        "move": "🔁 Перенести",
        "cancel": "✖ Отменить",
        "item": "Ваша запись: Gel manicure, Чт 26.11 10:00. "
        "Перенести или отменить её можно до начала.",
        "none": "Предстоящих записей нет. Записаться — /book.",
        "cancelled": "Запись отменена: Gel manicure, Чт 26.11 10:00",
        "pick_day": "выберите день",
        "moved": "Запись перенесена: Gel manicure, теперь Пт 27.11 12:00. "
        "Напомним накануне, Чт 26.11 в 10:00.",
        "booked_today": "Вы записаны: Gel manicure, Ср 25.11 15:00.",
        "booked_fri": "Вы записаны: Gel manicure, Пт 27.11 10:00. "
        "Напомним накануне, Чт 26.11 в 10:00.",
        "booked_thu": "Вы записаны: Gel manicure, Чт 26.11 10:00.",
        "remind_word": "Напомним",
    },
}
LANGUAGES = pytest.mark.parametrize("lang", ["en", "ru"])


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await register(app, 43, "Boris", "79161234568")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


def speaker(app: RunningBot, user_id: int, lang: str) -> TelegramUser:
    # The bot speaks the language of the person's Telegram app, update by update.
    return app.user(user_id, first_name=f"U{user_id}", language_code=lang)


async def book(person: TelegramUser, day: str, slot: str) -> str:
    await person.send("/book")
    await person.click("Gel manicure")
    await person.click(day)
    await person.click(slot)
    return person.last_text or ""


async def bookings_in(app: RunningBot) -> list[Booking]:
    async with app.db.reading() as repos:
        return list((await repos.session.scalars(select(Booking).order_by(Booking.id))).all())


def with_button(replies: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The one reply of a turn that carries a button with this text."""
    [found] = [
        r
        for r in replies
        if any(
            b.get("text") == text
            for row in (r.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        )
    ]
    return found


# --- /me -------------------------------------------------------------------------------------


@LANGUAGES
async def test_me_lists_a_booking_with_both_buttons(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    replies = await anna.send("/me")
    assert t["none"] in replies[-1]["text"]
    await book(anna, t["thu"], "10:00")
    replies = await anna.send("/me")
    assert len(replies) == 2  # the profile, then the booking in its own message
    assert t["none"] not in replies[0]["text"]
    assert replies[1]["text"] == t["item"]
    assert [b["text"] for b in anna.inline_buttons(replies[1])] == [t["move"], t["cancel"]]


@LANGUAGES
async def test_cancel_from_me_frees_the_slot(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    await book(anna, t["thu"], "10:00")
    replies = await anna.send("/me")
    await anna.click(t["cancel"], message=with_button(replies, t["cancel"]))
    assert (anna.last_text or "").startswith(t["cancelled"])
    [booking] = await bookings_in(shop)
    assert booking.status == "cancelled"
    replies = await anna.send("/me")
    assert len(replies) == 1 and t["none"] in replies[0]["text"]
    # The freed 10:00 is offered and can be booked by someone else.
    boris = speaker(shop, 43, lang)
    assert (await book(boris, t["thu"], "10:00")).startswith(t["booked_thu"])


@LANGUAGES
async def test_another_customer_cannot_cancel_it(shop: RunningBot, lang: str) -> None:
    """The BookingAction check of ownership holds for buttons shown in /me too."""
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    await book(anna, t["thu"], "10:00")
    replies = await anna.send("/me")
    mine = with_button(replies, t["cancel"])
    [cancel] = [b for b in anna.inline_buttons(mine) if b["text"] == t["cancel"]]
    boris = speaker(shop, 43, lang)
    await boris.send("/me")
    update = shop.fake.callback(43, boris.messages[-1], cancel["callback_data"])
    await shop.fake.wait_for(
        lambda c: (
            c.method.lower() == "answercallbackquery"
            and c.params.get("callback_query_id") == update["callback_query"]["id"]
        )
    )
    [booking] = await bookings_in(shop)
    assert booking.status == "booked"


# --- /book -----------------------------------------------------------------------------------


@LANGUAGES
async def test_move_from_book(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    await book(anna, t["thu"], "10:00")
    replies = await anna.send("/book")
    assert replies[0]["text"] == t["item"]
    # The service menu comes last, so a new booking of another service stays one tap away.
    assert t["service"] in anna.inline_buttons(replies[-1])[0]["text"]
    await anna.click(t["move"], message=with_button(replies, t["move"]))
    assert t["pick_day"] in (anna.last_text or "")
    await anna.click(t["fri"])
    await anna.click("12:00")
    assert anna.last_text == t["moved"]
    [booking] = await bookings_in(shop)
    assert (booking.starts_at, booking.status) == (local(FRIDAY, 12), "booked")
    async with shop.db.reading() as repos:
        cells = await repos.bookings.taken_cells(local(THURSDAY, 0), local(date(2026, 11, 28), 0))
    assert min(cells) == local(FRIDAY, 12) and len(cells) == 6


# --- what the confirmation says about the reminder -------------------------------------------


@LANGUAGES
async def test_a_booking_today_gets_no_reminder_sentence(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    text = await book(anna, t["wed"], "15:00")
    assert text == t["booked_today"]
    assert t["remind_word"] not in text


@LANGUAGES
async def test_a_booking_tomorrow_says_when_the_reminder_comes(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    shop.clock.advance(hours=19)  # Thursday 07:00 in Moscow: Friday is tomorrow
    anna = speaker(shop, 42, lang)
    assert await book(anna, t["fri"], "10:00") == t["booked_fri"]
    # And the scan does exactly that: the reminder is queued to go at Thursday 10:00.
    assert await queue_booking_reminders(shop.db, MOSCOW, shop.clock.now) == 1
    [booking] = await bookings_in(shop)
    async with shop.db.reading() as repos:
        row = await repos.outbox.by_key(f"bookrem:{booking.id}")
    assert row is not None and row.not_before.replace(tzinfo=UTC) == local(THURSDAY, 10)


@LANGUAGES
async def test_booked_late_on_the_eve_no_reminder_is_promised_or_sent(
    shop: RunningBot, lang: str
) -> None:
    t = TEXTS[lang]
    shop.clock.advance(hours=9)  # Wednesday 21:00: the window opens again only on Thursday
    anna = speaker(shop, 42, lang)
    assert await book(anna, t["thu"], "10:00") == t["booked_thu"]
    assert await queue_booking_reminders(shop.db, MOSCOW, shop.clock.now) == 0


@LANGUAGES
async def test_a_booking_two_days_ahead_says_the_eve(shop: RunningBot, lang: str) -> None:
    t = TEXTS[lang]
    anna = speaker(shop, 42, lang)
    assert await book(anna, t["fri"], "10:00") == t["booked_fri"]


# --- the service (both engines) ---------------------------------------------------------------


def test_reminder_moment() -> None:
    profile = ShopProfile()  # sending window 10:00–20:00
    friday_ten = local(FRIDAY, 10)
    assert reminder_moment(friday_ten, local(WEDNESDAY, 12), MOSCOW, profile) == local(THURSDAY, 10)
    assert reminder_moment(friday_ten, local(THURSDAY, 7), MOSCOW, profile) == local(THURSDAY, 10)
    assert reminder_moment(friday_ten, local(THURSDAY, 15), MOSCOW, profile) == local(THURSDAY, 15)
    assert reminder_moment(friday_ten, local(THURSDAY, 21), MOSCOW, profile) is None
    assert reminder_moment(friday_ten, local(FRIDAY, 8), MOSCOW, profile) is None


async def test_reminder_at_is_none_once_reminded(db: Database, clock: FakeClock) -> None:
    item = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    async with db.transaction() as repos:
        await repos.customers.add(
            telegram_id=42, name="A", registered_at=clock.now, created_at=clock.now
        )
    service = BookingService(db, MOSCOW)
    booking = await service.book(
        telegram_id=42, service_id=item.id, starts_at=local(FRIDAY, 10), now=clock.now
    )
    assert await service.reminder_at(booking, clock.now) == local(THURSDAY, 10)
    later = local(THURSDAY, 11)
    assert await queue_booking_reminders(db, MOSCOW, later) == 1
    # Moved to Saturday after its reminder was queued: the key is taken, so the scan will not
    # remind it again, and nothing is promised.
    moved = await service.reschedule(
        telegram_id=42, booking_id=booking.id, starts_at=local(SATURDAY, 12), now=later
    )
    assert await service.reminder_at(moved, later) is None
