"""Bookings: /book, the one-tap race, reminders (confirm / move / cancel), /today, done, no-show."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import services.bookings as bookings_module
import services.sales as sales_module
from scheduler.delivery import DeliveryWorker
from services.booking_reminders import queue_booking_reminders
from services.bookings import AlreadyBooked, BookingService, SlotTaken
from services.catalogue import CatalogueService
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import Text
from services.slot_time import slot_minutes
from storage.database import Database
from storage.errors import CellsTaken
from storage.models import Booking, BookingCell, OutboxMessage, Purchase
from tests.conftest import FakeClock, RunningBot, drained, register
from tests.fakes.telegram import TelegramUser
from ui.callbacks import BookSlot

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


async def add_customer(db: Database, telegram_id: int, now: datetime) -> int:
    async with db.transaction() as repos:
        row = await repos.customers.add(
            telegram_id=telegram_id, name=f"C{telegram_id}", registered_at=now, created_at=now
        )
        return row.id


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.reading() as repos:
        return int(
            await repos.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


@pytest.fixture
async def service_id(db: Database, clock: FakeClock) -> int:
    item = await CatalogueService(db).add(
        name="Manicure", price=250000, cycle_days=21, duration_minutes=60, now=clock.now
    )
    for telegram_id in (42, 43):
        await add_customer(db, telegram_id, clock.now)
    return item.id


# --- the service ---------------------------------------------------------------------------


async def test_two_customers_tap_the_same_slot_at_once(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    service = BookingService(db, MOSCOW)
    at = local(THURSDAY, 10)
    results = await asyncio.gather(
        *(
            service.book(telegram_id=who, service_id=service_id, starts_at=at, now=clock.now)
            for who in (42, 43)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["BookingItem", "SlotTaken"]
    assert await count(db, Booking) == 1
    assert await count(db, BookingCell) == 4  # 60 minutes = four 15-minute cells


async def test_the_cells_decide_even_when_both_saw_the_slot_free(
    db: Database, clock: FakeClock, service_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read-then-write: with the freeness check blinded, the primary key still decides."""

    async def always_free(*args: object, **kwargs: object) -> bool:
        return True

    monkeypatch.setattr(bookings_module, "slot_is_free", always_free)
    service = BookingService(db, MOSCOW)
    # Overlapping, not equal: 10:00–11:00 against 10:30–11:30 share two cells.
    results = await asyncio.gather(
        service.book(
            telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
        ),
        service.book(
            telegram_id=43, service_id=service_id, starts_at=local(THURSDAY, 10, 30), now=clock.now
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["BookingItem", "SlotTaken"]
    assert await count(db, Booking) == 1
    assert await count(db, BookingCell) == 4


async def test_a_cell_cannot_be_held_twice(db: Database, clock: FakeClock, service_id: int) -> None:
    booking = await BookingService(db, MOSCOW).book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    with pytest.raises(CellsTaken):
        async with db.transaction() as repos:
            await repos.bookings.take_cells(booking.id, [local(THURSDAY, 10, 45)])


async def test_booking_rules(db: Database, clock: FakeClock, service_id: int) -> None:
    service = BookingService(db, MOSCOW)
    now = clock.now
    for bad_time in (
        local(THURSDAY, 10, 10),  # off the grid
        local(THURSDAY, 18, 30),  # runs past closing
        local(date(2026, 11, 29), 12),  # Sunday
        local(date(2026, 11, 25), 12, 30),  # less than an hour from now
        local(date(2026, 11, 24), 12),  # the past
    ):
        with pytest.raises(SlotTaken):
            await service.book(telegram_id=42, service_id=service_id, starts_at=bad_time, now=now)
    with pytest.raises(InputError) as unregistered:
        await service.book(
            telegram_id=777, service_id=service_id, starts_at=local(THURSDAY, 10), now=now
        )
    assert unregistered.value.code == "error-book-not-registered"
    first = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=now
    )
    with pytest.raises(AlreadyBooked):  # one future booking per service: move it instead
        await service.book(
            telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 15), now=now
        )
    moved = await service.reschedule(
        telegram_id=42, booking_id=first.id, starts_at=local(THURSDAY, 10, 30), now=now
    )
    assert moved.starts_at == local(THURSDAY, 10, 30)  # overlapping its own old time is fine
    with pytest.raises(InputError):  # somebody else's booking
        await service.cancel(telegram_id=43, booking_id=first.id, now=now)
    cancelled = await service.cancel(telegram_id=42, booking_id=first.id, now=now)
    assert cancelled.status == "cancelled"
    assert await count(db, BookingCell) == 0
    with pytest.raises(InputError):
        await service.confirm(telegram_id=42, booking_id=first.id, now=now)


async def test_reminders_are_queued_once_for_tomorrow(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    service = BookingService(db, MOSCOW)
    tomorrow = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    await service.book(
        telegram_id=43,
        service_id=service_id,
        starts_at=local(date(2026, 11, 27), 10),
        now=clock.now,
    )
    assert await queue_booking_reminders(db, MOSCOW, clock.now) == 1
    assert await queue_booking_reminders(db, MOSCOW, clock.now) == 0
    async with db.reading() as repos:
        row = await repos.outbox.by_key(f"bookrem:{tomorrow.id}")
        assert row is not None and row.kind == "booking_reminder" and row.chat_id == 42
        assert json.loads(row.payload)["booking_id"] == tomorrow.id
    assert await count(db, OutboxMessage) == 1
    # Late at night (22:00 in Moscow) the window opens only on the booking's own day, 10:00:
    # a "tomorrow" reminder then would be wrong, so none is queued.
    clock.advance(days=1, hours=10)
    assert await queue_booking_reminders(db, MOSCOW, clock.now) == 0
    assert await count(db, OutboxMessage) == 1


# --- end to end ----------------------------------------------------------------------------


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await register(app, 43, "Boris", "79161234568")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


async def bookings_in(app: RunningBot) -> list[Booking]:
    async with app.db.reading() as repos:
        return list((await repos.session.scalars(select(Booking).order_by(Booking.id))).all())


async def owner_notice(app: RunningBot, needle: str) -> str:
    """A notice to the owner: it goes through the outbox, so it arrives a moment later."""
    call = await app.fake.wait_for(
        lambda c: c.ok and c.chat_id == 1000 and needle in (c.text or "")
    )
    return call.text or ""


async def book_thursday(person: TelegramUser, slot: str = "10:00") -> None:
    await person.send("/book")
    await person.click("Gel manicure")
    await person.click("Thu 26.11")
    await person.click(slot)


async def test_book_a_slot_and_the_owner_is_told(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await anna.send("/book")
    assert "What would you like to book?" in (anna.last_text or "")
    await anna.click("Gel manicure")
    assert "pick a day" in (anna.last_text or "")
    days = [b["text"] for b in anna.inline_buttons()]
    assert days[0] == "Wed 25.11" and "Sun 29.11" not in days
    await anna.click("Thu 26.11")
    times = [b["text"] for b in anna.inline_buttons()]
    assert times[0] == "10:00" and times[-2] == "17:30"  # 90 minutes: the last start is 17:30
    await anna.click("10:00")
    # Booked on the eve inside the sending window: the reminder comes within minutes, so
    # no reminder moment is promised (tests/test_my_bookings.py covers the other cases).
    assert anna.last_text == "Booked: Gel manicure, Thu 26.11 10:00."
    # Owners hear through the outbox, in the language they last wrote in (English here).
    owner_text = await owner_notice(shop, "New booking")
    assert owner_text.startswith("New booking: #1 Anna") and "Thu 26.11 10:00" in owner_text
    [booking] = await bookings_in(shop)
    assert (booking.starts_at, booking.status, booking.source) == (
        local(THURSDAY, 10),
        "booked",
        "book",
    )
    # A second /book of the same service offers to move the one they have.
    await anna.send("/book")
    await anna.click("Gel manicure")
    assert "already booked" in (anna.last_text or "")
    assert [b["text"] for b in anna.inline_buttons()] == [
        "✅ I'll come",
        "🔁 Reschedule",
        "✖ Cancel",
    ]
    replies = await anna.send("/book")
    assert "Your booking: Gel manicure, Thu 26.11 10:00" in replies[0]["text"]


async def test_unregistered_people_are_sent_to_start(shop: RunningBot) -> None:
    stranger = shop.user(99, language_code="en")
    await stranger.send("/book")
    assert "register first" in (stranger.last_text or "")
    # A forged slot button from someone who never registered books nothing.
    update = shop.fake.callback(
        99,
        stranger.messages[-1],
        BookSlot(service_id=1, at=slot_minutes(local(THURSDAY, 10))).pack(),
    )
    await shop.fake.wait_for(
        lambda c: (
            c.method.lower() == "answercallbackquery"
            and c.params.get("callback_query_id") == update["callback_query"]["id"]
        )
    )
    assert await bookings_in(shop) == []


async def test_the_loser_of_a_race_gets_fresh_slots(shop: RunningBot) -> None:
    anna, boris = shop.user(42, first_name="Anna"), shop.user(43, first_name="Boris")
    for person in (anna, boris):
        await person.send("/book")
        await person.click("Gel manicure")
        await person.click("Thu 26.11")
    await asyncio.gather(anna.click("10:00"), boris.click("10:00"))
    [booking] = await bookings_in(shop)
    winner, loser = (anna, boris) if booking.customer_id == 1 else (boris, anna)
    assert (winner.last_text or "").startswith("Booked:")
    assert loser.last_text == "That time was just taken. Here are the nearest free ones:"
    fresh = [b["text"] for b in loser.inline_buttons()]
    assert "Thu 26.11 10:00" not in fresh and "Thu 26.11 11:30" in fresh
    await loser.click("Thu 26.11 11:30")
    assert (loser.last_text or "").startswith("Booked: Gel manicure, Thu 26.11 11:30")
    assert len(await bookings_in(shop)) == 2
    # A stale button of the old keyboard: taken, fresh slots again, nothing written.
    await loser.click("10:30", message=loser.messages[-3])
    assert "just taken" in (loser.last_text or "") or "already booked" in (loser.last_text or "")
    assert len(await bookings_in(shop)) == 2


async def deliver_reminders(app: RunningBot) -> None:
    assert await queue_booking_reminders(app.db, app.settings.zone, app.clock.now) >= 1
    worker: DeliveryWorker = app.dp["delivery"]
    await worker.run_once(app.clock.now)
    await asyncio.sleep(0.2)  # the background worker may have been faster: either sends once


async def test_reminder_confirm(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await book_thursday(anna)
    await deliver_reminders(shop)
    assert (anna.last_text or "").startswith("Reminder: tomorrow at 10:00 — Gel manicure")
    await anna.click("✅ I'll come")
    assert (anna.last_text or "").startswith("Thank you! See you: Gel manicure, Thu 26.11 10:00")
    assert (await owner_notice(shop, "Confirmed:")).startswith("Confirmed: #1 Anna")
    [booking] = await bookings_in(shop)
    assert booking.confirmed_at == shop.clock.now
    assert await queue_booking_reminders(shop.db, shop.settings.zone, shop.clock.now) == 0


async def test_reminder_reschedule(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await book_thursday(anna)
    await deliver_reminders(shop)
    await anna.click("🔁 Reschedule")
    assert "pick a day" in (anna.last_text or "")
    await anna.click("Fri 27.11")
    await anna.click("12:00")
    assert (anna.last_text or "").startswith("Moved: Gel manicure, now Fri 27.11 12:00")
    assert "Thu 26.11 10:00 → Fri 27.11 12:00" in await owner_notice(shop, "Booking moved")
    [booking] = await bookings_in(shop)
    assert (booking.starts_at, booking.status) == (local(date(2026, 11, 27), 12), "booked")
    async with shop.db.reading() as repos:
        cells = await repos.bookings.taken_cells(local(THURSDAY, 0), local(date(2026, 11, 28), 0))
    assert min(cells) == local(date(2026, 11, 27), 12) and len(cells) == 6


async def test_reminder_cancel_frees_the_time(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await book_thursday(anna)
    await deliver_reminders(shop)
    await anna.click("✖ Cancel")
    assert (anna.last_text or "").startswith("Cancelled: Gel manicure, Thu 26.11 10:00")
    assert (await owner_notice(shop, "cancelled")).startswith("Booking cancelled: #1 Anna")
    [booking] = await bookings_in(shop)
    assert booking.status == "cancelled"
    await anna.click("✅ I'll come", message=anna.messages[-2])  # the reminder's stale button
    assert "no longer active" in anna.alerts[-1]
    boris = shop.user(43, first_name="Boris")
    await book_thursday(boris)  # the freed 10:00 can be booked again
    assert (boris.last_text or "").startswith("Booked: Gel manicure, Thu 26.11 10:00")


async def test_a_booking_from_a_reminder_records_the_reaction(shop: RunningBot) -> None:
    now = shop.clock.now
    async with shop.db.transaction() as repos:
        ref = await enqueue(repos, Outgoing("test:1", 42, 1, now, Text("hi")), now)
    assert ref is not None
    anna = shop.user(42, first_name="Anna")
    at = slot_minutes(local(THURSDAY, 10))
    update = shop.fake.callback(
        42, anna.messages[-1], BookSlot(service_id=1, at=at, ref=ref).pack()
    )
    await shop.fake.wait_for(
        lambda c: (
            c.method.lower() == "answercallbackquery"
            and c.params.get("callback_query_id") == update["callback_query"]["id"]
        )
    )
    await owner_notice(shop, "New booking: #1 Anna")
    [booking] = await bookings_in(shop)
    assert (booking.outbox_id, booking.source) == (ref, "rebook")
    async with shop.db.reading() as repos:
        row = await repos.outbox.get(ref)
        assert row is not None and row.reaction == "booked"


async def test_today_done_logs_the_sale_and_the_amount_can_change(shop: RunningBot) -> None:
    anna, boris = shop.user(42, first_name="Anna"), shop.user(43, first_name="Boris")
    await book_thursday(anna, "10:00")
    await book_thursday(boris, "11:30")
    await drained(shop)  # the owner's "new booking" notices are out before /today's answer
    owner = shop.owner
    await owner.send("/today 26.11")
    text = owner.last_text or ""
    assert text.startswith("Bookings, Thu 26.11.2026:")
    assert text.index("10:00–11:30 Gel manicure — #1 Anna") < text.index("11:30–13:00")
    await owner.click("✅ 10:00 done")
    assert "hasn't started" in owner.alerts[-1]  # Thursday's booking, and it is Wednesday
    shop.clock.advance(days=1)  # Thursday 12:00 in Moscow
    await owner.send("/today")
    await owner.click("✅ 10:00 done")
    receipt = owner.last_text or ""
    assert "first purchase" in receipt and "2\u00a0500\u00a0₽" in receipt
    await owner.click("✅ 10:00 done", message=owner.messages[-2])  # pressed twice
    assert "Already done" in owner.alerts[-1]  # the press was claimed: nothing changes
    await owner.click("Change amount")
    for typed, expected in [
        ("abc", "I need an amount"),
        ("0", "more than zero"),
        ("x" * 4000, "I need an amount"),
    ]:
        await owner.send(typed)
        assert expected in (owner.last_text or "")
    await owner.send("3 000")
    assert "3\u00a0000\u00a0₽" in (owner.last_text or "")
    # the real balance: 5 % cashback of the corrected amount (issue 14 showed 0)
    assert "Customer's points now: 150" in (owner.last_text or "")
    async with shop.db.reading() as repos:
        purchases = (await repos.session.scalars(select(Purchase))).all()
    assert [(p.amount, p.service_id, p.customer_id) for p in purchases] == [(300000, 1, 1)]
    await owner.send("/today")
    await owner.click("✖ 11:30 no-show")
    assert "No-show recorded: #2 Boris" in (owner.last_text or "")
    done, no_show = await bookings_in(shop)
    assert (done.status, done.purchase_id, no_show.status) == ("done", purchases[0].id, "no_show")
    await owner.send("/today")
    assert "(done)" in (owner.last_text or "") and "(no-show)" in (owner.last_text or "")
    assert not [b for b in owner.inline_buttons() if "done" in b["text"]]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/today someday", "I need a date"),
        ("/today 31.02", "no such date"),
        ("/today " + "1" * 4000, "I need a date"),
    ],
)
async def test_today_bad_input(shop: RunningBot, command: str, expected: str) -> None:
    replies = await shop.owner.send(command)
    assert expected in replies[-1]["text"]


async def test_today_on_an_empty_day_and_navigation(shop: RunningBot) -> None:
    owner = shop.owner
    await owner.send("/today 2026-12-01")
    assert "No bookings." in (owner.last_text or "")
    await owner.click("Next day ▶")
    assert (owner.last_text or "").startswith("Bookings, Wed 02.12.2026:")


async def test_done_is_one_transaction_and_a_failure_leaves_the_booking_booked(
    db: Database, clock: FakeClock, service_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claim, sale and link are one transaction: a failure half-way needs no undo step."""
    service = BookingService(db, MOSCOW)
    booking = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    thursday_noon = local(THURSDAY, 12)
    writes = 0
    real_transaction = db.transaction

    def counted_transaction() -> Any:
        nonlocal writes
        writes += 1
        return real_transaction()

    monkeypatch.setattr(db, "transaction", counted_transaction)

    async def broken_thanks(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(sales_module, "queue_thanks", broken_thanks)
    with pytest.raises(RuntimeError):
        await service.mark_done(booking.id, thursday_noon)
    assert writes == 1
    item = await service.get(booking.id)
    assert item is not None and (item.status, item.purchase_id) == ("booked", None)
    assert await count(db, Purchase) == 0

    monkeypatch.undo()  # the outbox is back: the same press now closes the booking
    closed = await service.mark_done(booking.id, thursday_noon)
    assert (closed.booking.status, closed.booking.purchase_id) == ("done", closed.sale.purchase_id)
    assert closed.sale.currency == "RUB"
    assert await count(db, Purchase) == 1
