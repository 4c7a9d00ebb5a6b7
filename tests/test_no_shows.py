"""Issue 13, no-show history: late cancellations and no-shows per customer, /today, /stats,
and the eve's one message about unconfirmed bookings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.jobs import run_job
from services.bookings import BookingService
from services.no_shows import NoShowService, queue_unconfirmed
from storage.database import Database
from storage.models import Booking, OutboxMessage, ShopSetting
from tests.conftest import (
    OWNER_ID,
    FakeClock,
    RunningBot,
    drained,
    manicure_and_two_customers,
    register,
)

MOSCOW = ZoneInfo("Europe/Moscow")
THURSDAY = date(2026, 11, 26)  # the clock starts on Wednesday 2026-11-25, 12:00 in Moscow
FRIDAY = date(2026, 11, 27)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MOSCOW).astimezone(UTC)


@pytest.fixture
async def service_id(db: Database, clock: FakeClock) -> int:
    return await manicure_and_two_customers(db, clock.now)


async def test_a_cancellation_after_the_cut_off_is_late(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    service = BookingService(db, MOSCOW)
    now = clock.now
    soon = await service.book(  # 22 hours ahead: inside the default 24-hour cut-off
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=now
    )
    later = await service.book(  # 46 hours ahead
        telegram_id=43, service_id=service_id, starts_at=local(FRIDAY, 10), now=now
    )
    await service.cancel(telegram_id=42, booking_id=soon.id, now=now)
    await service.cancel(telegram_id=43, booking_id=later.id, now=now)
    async with db.reading() as repos:
        rows = (await repos.session.scalars(select(Booking).order_by(Booking.id))).all()
    assert [(b.late_cancel, b.cancelled_at) for b in rows] == [(True, now), (False, now)]
    lost = await NoShowService(db).of_customers({1, 2})
    assert (lost[1].no_shows, lost[1].late_cancels) == (0, 1)
    assert 2 not in lost  # an in-time cancellation costs nothing


async def test_the_cut_off_is_a_knob(db: Database, clock: FakeClock, service_id: int) -> None:
    async with db.transaction() as repos:
        await repos.settings.put("late_cancel_hours", "12")
    service = BookingService(db, MOSCOW)
    booking = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=clock.now
    )
    await service.cancel(telegram_id=42, booking_id=booking.id, now=clock.now)
    assert await NoShowService(db).of_customers({1}) == {}


async def test_stats_share_counts_done_no_show_and_late(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    service = BookingService(db, MOSCOW)
    now = clock.now
    done = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=now
    )
    missed = await service.book(
        telegram_id=43, service_id=service_id, starts_at=local(THURSDAY, 12), now=now
    )
    thursday_evening = local(THURSDAY, 20)
    await service.mark_done(done.id, thursday_evening)
    await service.mark_no_show(missed.id, thursday_evening)
    friday = await service.book(
        telegram_id=43, service_id=service_id, starts_at=local(FRIDAY, 10), now=thursday_evening
    )
    await service.cancel(telegram_id=43, booking_id=friday.id, now=thursday_evening)
    visits = await NoShowService(db).visits(local(date(2026, 11, 28), 0))
    assert (visits.booked, visits.lost, visits.no_shows, visits.late_cancels) == (3, 2, 1, 1)


async def test_unconfirmed_bookings_reach_the_owner_once_on_the_eve(
    db: Database, clock: FakeClock, service_id: int
) -> None:
    service = BookingService(db, MOSCOW)
    now = clock.now
    first = await service.book(
        telegram_id=42, service_id=service_id, starts_at=local(THURSDAY, 10), now=now
    )
    await service.book(
        telegram_id=43, service_id=service_id, starts_at=local(THURSDAY, 12), now=now
    )
    await service.confirm(telegram_id=43, booking_id=2, now=now)
    owners = (OWNER_ID, 1001)
    assert await queue_unconfirmed(db, MOSCOW, local(date(2026, 11, 25), 17, 59), owners) == 0
    eve = local(date(2026, 11, 25), 18)
    assert await queue_unconfirmed(db, MOSCOW, eve, owners) == 2  # one message per owner
    assert await queue_unconfirmed(db, MOSCOW, eve, owners) == 0  # once, however often it runs
    assert await run_job("unconfirmed", db, MOSCOW, local(date(2026, 11, 25), 19), owners) == 0
    async with db.reading() as repos:
        rows = (
            await repos.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "owner_unconfirmed")
            )
        ).all()
    assert sorted(r.chat_id for r in rows) == sorted(owners)
    assert all(f"[{first.id}]" in r.payload.replace(" ", "") for r in rows)
    assert await queue_unconfirmed(db, MOSCOW, eve, ()) == 0  # no owners: nobody to tell


# --- end to end -----------------------------------------------------------------------------


@pytest.fixture
async def shop(app: RunningBot) -> RunningBot:
    await register(app, 42, "Anna", "79161234567")
    await register(app, 43, "Boris", "79161234568")
    await app.owner.send("/addservice Gel manicure; 2500; 21; 90")
    return app


async def test_a_no_show_shows_on_today_and_in_stats(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    await drained(shop)
    shop.clock.advance(days=1)  # Thursday 12:00
    owner = shop.owner
    await owner.send("/today")
    assert "⚠" not in (owner.last_text or "")
    await owner.click("✖ 10:00 no-show")
    assert "The customer now has: 1 no-show." in (owner.last_text or "")
    # She books again: the owner's day shows her record beside the booking.
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Fri 27.11")
    await anna.click("10:00")
    await drained(shop)
    await owner.send("/today 27.11")
    assert "#1 Anna" in (owner.last_text or "") and "⚠ 1 no-show" in (owner.last_text or "")
    await owner.send("/stats")
    assert "In 90 days: 1 booking, 1 of them lost (100 %)" in (owner.last_text or "")


async def test_the_eve_message_is_rendered_for_the_owner(shop: RunningBot) -> None:
    anna = shop.user(42, first_name="Anna")
    await anna.send("/book")
    await anna.click("Gel manicure")
    await anna.click("Thu 26.11")
    await anna.click("10:00")
    await drained(shop)
    shop.clock.advance(hours=6)  # Wednesday 18:00
    queued = await queue_unconfirmed(shop.db, MOSCOW, shop.clock.now, shop.settings.owner_ids)
    assert queued == 1
    await drained(shop)
    call = await shop.fake.wait_for(
        lambda c: c.ok and c.chat_id == OWNER_ID and "Not confirmed" in (c.text or "")
    )
    assert (call.text or "").startswith("Not confirmed for tomorrow, Thu 26.11 (1 booking):")
    assert "10:00 Gel manicure — #1 Anna" in (call.text or "")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/settings late_cancel_hours abc", "0 to 168"),
        ("/settings late_cancel_hours 200", "0 to 168"),
        ("/settings unconfirmed_hour 24", "0 to 23"),
        ("/settings deposit_hold_minutes 1", "5 to 120"),
    ],
)
async def test_no_show_knobs_reject_wrong_input(
    app: RunningBot, command: str, expected: str
) -> None:
    replies = await app.owner.send(command)
    assert expected in replies[-1]["text"]
    async with app.db.reading() as repos:
        assert (await repos.session.scalars(select(ShopSetting.key))).all() == [] or all(
            not key.startswith(("late_", "unconfirmed", "deposit"))
            for key in (await repos.session.scalars(select(ShopSetting.key))).all()
        )
