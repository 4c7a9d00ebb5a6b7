"""The day before a booking: a reminder with confirm / reschedule / cancel.

A scan (a plain function of the database and the time): bookings that start tomorrow in the
shop's zone and are still booked get one outbox row each, keyed by the booking, so running the
scan again (or after a restart) queues nothing new. The row waits for the sending window; a
reminder whose window opens only on the booking's own day is not sent (it would say "tomorrow").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.outbox import Outgoing, enqueue
from services.outbox_payloads import BookingReminder
from services.schedule import local_bounds
from services.shop import ShopProfile, profile_from
from storage.database import Database


def reminder_key(booking_id: int) -> str:
    return f"bookrem:{booking_id}"


def reminder_moment(
    starts_at: datetime, now: datetime, zone: ZoneInfo, profile: ShopProfile
) -> datetime | None:
    """When the scan sends the reminder of a booking at `starts_at`, seen from `now`.

    The scan picks a booking up on the day before (shop-local) and the row waits for the
    sending window; None when that moment would fall on the booking's own day (none is sent).
    """
    day = starts_at.astimezone(zone).date()
    day_start, _ = local_bounds(day, zone)
    eve_start, _ = local_bounds(day - timedelta(days=1), zone)
    moment = profile.next_send_time(max(now, eve_start), zone)
    return moment if moment < day_start else None


async def queue_booking_reminders(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """Queue tomorrow's booking reminders; returns how many were queued now."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    start, end = local_bounds(tomorrow, zone)
    queued = 0
    async with db.transaction() as repos:
        profile = profile_from(await repos.settings.all())
        for record in await repos.bookings.booked_between(start, end):
            customer, booking = record.customer, record.booking
            if customer.telegram_id is None or customer.blocked_at is not None:
                continue  # nobody to write to; the owner sees the booking in /today
            not_before = reminder_moment(booking.starts_at, now, zone, profile)
            if not_before is None:
                continue  # the window opens only on the day itself: "tomorrow" would be wrong
            outgoing = Outgoing(
                key=reminder_key(booking.id),
                chat_id=customer.telegram_id,
                customer_id=customer.id,
                not_before=not_before,
                payload=BookingReminder(
                    booking_id=booking.id, service=record.service.name, starts_at=booking.starts_at
                ),
            )
            if await enqueue(repos, outgoing, now) is not None:
                queued += 1
    return queued
