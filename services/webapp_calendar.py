"""The owner's week for the Mini App, and the two moves chat gives only customers (issue 12):
the owner moves or cancels a customer's booking.

The time either frees goes to the waitlist, as a customer's own move or cancellation does; a
paid deposit of a booking the shop cancels is the customer's to get back (issue 13).

A move is the chat's own (`services.bookings.move_booking`): the same race rule for the new
time, and the old time offered to the waitlist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.bookings import BOOKED, CANCELLED, BookingItem, move_booking
from services.deposits import deposit_on_cancel
from services.errors import InputError
from services.outbox import Outgoing, enqueue
from services.outbox_payloads import BookingChanged
from services.schedule import (
    CELL,
    HOURS_KEY,
    Week,
    local_bounds,
)
from services.shop import profile_from
from services.waitlist import free_for_waiting, freed_span, offer_freed
from storage.bookings import BookingRecord
from storage.database import Database
from storage.repositories import Repositories

WEEK_DAYS = 7
OFF_NOTE = "off"  # ScheduleService.add_day_off's note on a whole-day block

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class DayView:
    day: date
    day_off: bool
    hours: tuple[time, time] | None
    bookings: list[BookingItem]  # cancelled ones left out, as in /today
    free: list[Span]
    blocks: list[Span]


@dataclass(frozen=True, slots=True)
class MovedBooking:
    booking: BookingItem
    was: datetime


class OwnerCalendar:
    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self._db = db
        self._zone = zone

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()

    async def week(self, start: date, now: datetime) -> list[DayView]:
        first, _ = local_bounds(start, self._zone)
        _, last = local_bounds(start + timedelta(days=WEEK_DAYS - 1), self._zone)
        async with self._db.reading() as repos:
            week = Week.decode((await repos.settings.all()).get(HOURS_KEY))
            records = await repos.bookings.between(first, last)
            blocks = await repos.bookings.blocks_overlapping(first, last)
            taken = await repos.bookings.taken_cells(first, last)
        days = []
        for n in range(WEEK_DAYS):
            day = start + timedelta(days=n)
            day_start, day_end = local_bounds(day, self._zone)
            hours = week.on(day.weekday())
            day_blocks = [
                (b.starts_at, b.ends_at)
                for b in blocks
                if b.starts_at < day_end and day_start < b.ends_at
            ]
            whole_day_off = any(
                b.note == OFF_NOTE and b.starts_at <= day_start and b.ends_at >= day_end
                for b in blocks
            )
            free: list[Span] = []
            if hours is not None and not whole_day_off:
                opens = datetime.combine(day, hours[0], tzinfo=self._zone).astimezone(UTC)
                closes = datetime.combine(day, hours[1], tzinfo=self._zone).astimezone(UTC)
                busy = day_blocks + [(c, c + CELL) for c in taken if opens <= c < closes]
                busy.append((opens, max(opens, now)))  # the past is not free time
                free = _subtract((opens, closes), busy)
            days.append(
                DayView(
                    day=day,
                    day_off=hours is None or whole_day_off,
                    hours=hours,
                    bookings=[
                        BookingItem.of(r)
                        for r in records
                        if day_start <= r.booking.starts_at < day_end
                        and r.booking.status != CANCELLED
                    ],
                    free=free,
                    blocks=day_blocks,
                )
            )
        return days

    async def move(self, booking_id: int, starts_at: datetime, now: datetime) -> MovedBooking:
        """Move a booked visit to another free slot; the customer is told through the outbox."""
        async with self._db.transaction() as repos:
            record = await _active(repos, booking_id, now)
            was = record.booking.starts_at
            await move_booking(repos, self._zone, record, starts_at, now)
            item = await _item(repos, booking_id)
            await self._tell_customer(repos, record, "moved", item.starts_at, now, was=was)
            return MovedBooking(item, was)

    async def cancel(self, booking_id: int, now: datetime) -> BookingItem:
        """The owner cancels a visit that has not started; its time becomes free again and the
        customer is told through the outbox."""
        async with self._db.transaction() as repos:
            record = await _active(repos, booking_id, now)
            freed = freed_span(record.booking.starts_at, record.booking.ends_at)
            before = await free_for_waiting(repos, self._zone, now, *freed)
            if not await repos.bookings.change_status(
                booking_id, expected=BOOKED, status=CANCELLED, cancelled_at=now
            ):
                raise InputError("error-booking-closed")
            await repos.bookings.free_cells(booking_id)
            await offer_freed(repos, self._zone, now, *freed, before)
            # The shop cancelled: never a late cancellation, and a paid deposit goes back.
            refund = await deposit_on_cancel(repos, booking_id, False, now)
            await self._tell_customer(repos, record, "cancelled", record.booking.starts_at, now)
            return replace(await _item(repos, booking_id), deposit_refund=refund)

    async def _tell_customer(
        self,
        repos: Repositories,
        record: BookingRecord,
        action: str,
        starts_at: datetime,
        now: datetime,
        was: datetime | None = None,
    ) -> None:
        """The customer hears of the shop's change through the outbox, in the sending window
        (nobody is told who cannot be: no Telegram, or they blocked the bot)."""
        customer = record.customer
        if customer.telegram_id is None or customer.blocked_at is not None:
            return
        payload = BookingChanged(
            booking_id=record.booking.id,
            action=action,
            service=record.service.name,
            starts_at=starts_at,
            was=was,
        )
        send_at = profile_from(await repos.settings.all()).next_send_time(now, self._zone)
        # The moment names the change: the same booking may be moved back and forth.
        key = f"{payload.kind}:{record.booking.id}:{action}:{int(now.timestamp() * 1000)}"
        message = Outgoing(key, customer.telegram_id, customer.id, send_at, payload)
        await enqueue(repos, message, now)


async def _active(repos: Repositories, booking_id: int, now: datetime) -> BookingRecord:
    record = await repos.bookings.record(booking_id)
    if record is None:
        raise InputError("error-booking-unknown")
    if record.booking.status != BOOKED:
        raise InputError("error-booking-closed")
    if record.booking.starts_at <= now:
        raise InputError("error-booking-not-active")
    return record


async def _item(repos: Repositories, booking_id: int) -> BookingItem:
    record = await repos.bookings.record(booking_id)
    assert record is not None
    return BookingItem.of(record)


def _subtract(span: Span, busy: list[Span]) -> list[Span]:
    """`span` minus the busy spans, as ordered free spans."""
    free = []
    cursor, end = span
    for b_start, b_end in sorted(busy):
        if b_end <= cursor or b_start >= end:
            continue
        if b_start > cursor:
            free.append((cursor, b_start))
        cursor = max(cursor, b_end)
    if cursor < end:
        free.append((cursor, end))
    return free
