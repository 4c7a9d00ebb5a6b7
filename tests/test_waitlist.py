"""Issue 13, the waitlist: freed time is offered in join order, the first tap books, later taps
hear "already taken" and stay on the list; the owner sees the list per day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.bookings import BookingService
from services.waitlist import WaitlistService, tidy_waitlist
from storage.database import Database
from storage.models import Booking, OutboxMessage, WaitlistEntry
from tests.conftest import FakeClock, RunningBot, drained, manicure_and_two_customers, register
from tests.fakes.telegram import TelegramUser

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await register(app, 43, "Boris", "79161234568")
    await register(app, 44, "Clara", "79161234569")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


async def entries(app: RunningBot) -> list[WaitlistEntry]:
    async with app.db.reading() as repos:
        rows = await repos.session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))
        return list(rows.all())


async def join_waitlist(person: TelegramUser, days: str = "The next 3 days") -> None:
    await person.send("/book")
    await person.click("Gel manicure")
    await person.click("⏳ Tell me if time frees up")
    assert "Which days would suit you?" in (person.last_text or "")
    await person.click(days)


async def offer_to(app: RunningBot, person: TelegramUser) -> None:
    await drained(app)
    await app.fake.wait_for(
        lambda c: c.ok and c.chat_id == person.id and "Time has freed up" in (c.text or "")
    )


async def test_a_cancelled_slot_goes_to_the_waitlist_and_the_first_tap_books(
    shop: RunningBot,
) -> None:
    anna, boris, clara = shop.user(42), shop.user(43), shop.user(44)
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    await join_waitlist(boris)
    assert (boris.last_text or "").startswith("Done: you are on the waitlist for Gel manicure")
    await join_waitlist(clara, "The next 7 days")
    await shop.owner.send("/waitlist 26.11")
    listing = shop.owner.last_text or ""
    assert listing.index("1. #2 Boris") < listing.index("2. #3 Clara")
    # Anna cancels: both waiting customers are offered the freed 10:00, Boris's row first.
    await anna.send("/book")
    await anna.click("✖ Cancel", message=anna.messages[-2])
    await offer_to(shop, boris)
    await offer_to(shop, clara)
    async with shop.db.reading() as repos:
        offers = (
            await repos.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "waitlist_offer")
                .order_by(OutboxMessage.id)
            )
        ).all()
    assert [o.chat_id for o in offers] == [43, 44]
    assert boris.last_text == "Time has freed up: Gel manicure, Thu 26.11 10:00. Shall I book you?"
    # Both tap at once: one booking, the other hears it is taken and keeps waiting.
    await asyncio.gather(
        boris.click("✅ Book: Thu 26.11 10:00"), clara.click("✅ Book: Thu 26.11 10:00")
    )
    texts = sorted([boris.last_text or "", clara.last_text or ""])
    assert texts[0].startswith("Booked: Gel manicure, Thu 26.11 10:00")
    assert texts[1].startswith("Someone has already taken this time")
    async with shop.db.reading() as repos:
        booked = (
            await repos.session.scalars(select(Booking).where(Booking.status == "booked"))
        ).all()
    assert len(booked) == 1 and booked[0].source == "waitlist"
    statuses = {e.customer_id: e.status for e in await entries(shop)}
    winner = booked[0].customer_id
    loser = 2 if winner == 3 else 3
    assert (statuses[winner], statuses[loser]) == ("booked", "waiting")


async def test_an_offer_tapped_after_its_time_began_has_expired_and_books_nothing(
    shop: RunningBot,
) -> None:
    anna, boris = shop.user(42), shop.user(43)
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    await join_waitlist(boris)
    await anna.send("/book")
    await anna.click("✖ Cancel", message=anna.messages[-2])
    await offer_to(shop, boris)
    shop.clock.advance(days=1)  # Thursday 12:00: the offered 10:00 has begun
    await boris.click("✅ Book: Thu 26.11 10:00")
    assert (boris.last_text or "").startswith("That time has already passed. You stay on")
    async with shop.db.reading() as repos:
        booked = (
            await repos.session.scalars(select(Booking).where(Booking.status == "booked"))
        ).all()
    assert booked == []
    assert [e.status for e in await entries(shop)] == ["waiting"]


async def test_opening_hours_offers_the_new_time(shop: RunningBot) -> None:
    boris = shop.user(43)
    owner = shop.owner
    await owner.send("/hours off 26.11")
    block = (owner.last_text or "").split("#")[1].split()[0]
    await join_waitlist(boris)
    await owner.send(f"/hours unblock {block}")
    await offer_to(shop, boris)
    assert "Thu 26.11 10:00" in (boris.last_text or "")
    await boris.click("Stop waiting")
    assert boris.last_text == "All right, you are off the waitlist."
    [entry] = await entries(shop)
    assert entry.status == "left"
    await boris.click("✅ Book: Thu 26.11 10:00", message=boris.messages[-2])
    assert "no longer on the waitlist" in (boris.alerts[-1] if boris.alerts else "")


async def test_owner_waitlist_bad_input(shop: RunningBot) -> None:
    await shop.owner.send("/waitlist someday")
    assert "date" in (shop.owner.last_text or "").lower()
    await shop.owner.send("/waitlist 27.11")
    assert "Nobody is waiting for this day." in (shop.owner.last_text or "")


# --- the service ---------------------------------------------------------------------------


@pytest.fixture
async def service_id(db: Database, clock: FakeClock) -> int:
    return await manicure_and_two_customers(db, clock.now)


async def test_forged_join_days_are_refused(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    from services.errors import InputError

    with pytest.raises(InputError):
        await WaitlistService(db, MOSCOW).join(
            telegram_id=43, service_id=service_id, days=365, now=clock.now
        )
    async with db.reading() as repos:
        assert (await repos.session.scalars(select(WaitlistEntry))).all() == []


async def test_offers_expire_with_the_slot(db: Database, clock: FakeClock, service_id: int) -> None:
    bookings, waitlist = BookingService(db, MOSCOW), WaitlistService(db, MOSCOW)
    booking = await bookings.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    await waitlist.join(telegram_id=43, service_id=service_id, days=3, now=clock.now)
    late_evening = local(date(2026, 11, 25), 22)  # outside the window: offers wait for 10:00
    await bookings.cancel(telegram_id=42, booking_id=booking.id, now=late_evening)
    async with db.reading() as repos:
        [offer] = (
            await repos.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")
            )
        ).all()
    # 10:00 itself would begin as the window opens: the earliest usable new slot is offered.
    assert offer.not_before == local(THURSDAY, 10) and offer.status == "pending"
    assert ":10:00" not in offer.payload
    assert await tidy_waitlist(db, MOSCOW, local(THURSDAY, 12)) == 0
    async with db.reading() as repos:
        row = await repos.outbox.get(offer.id)
        assert row is not None and row.status == "cancelled"
    assert await tidy_waitlist(db, MOSCOW, local(date(2026, 11, 28), 12)) == 0
    async with db.reading() as repos:
        [entry] = (await repos.session.scalars(select(WaitlistEntry))).all()
    assert entry.status == "ended"  # its last day (Friday) has passed


async def test_joining_from_a_rebooking_reminder(shop: RunningBot) -> None:
    """A reminder's "Another time" leads to the same days, with the waitlist button."""
    from services.outbox import Outgoing, enqueue
    from services.outbox_payloads import Rebook

    now = shop.clock.now
    async with shop.db.transaction() as repos:
        payload = Rebook(service_id=1, service="Gel manicure", name="Boris", slots=())
        await enqueue(repos, Outgoing("rebook:2:1:test", 43, 2, now, payload), now)
    await drained(shop)
    boris = shop.user(43)
    await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == 43 and "Gel manicure" in (c.text or "")
    )
    await boris.click("Another time")
    await boris.click("⏳ Tell me if time frees up")
    await boris.click("The next 14 days")
    [entry] = await entries(shop)
    assert (entry.customer_id, entry.service_id, entry.status) == (2, 1, "waiting")
    assert (entry.last_day - entry.first_day).days == 13
