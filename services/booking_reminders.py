"""The day before a booking: a reminder with confirm / reschedule / cancel.

A scan (a plain function of the database and the time): bookings that start tomorrow in the
shop's zone and are still booked get one outbox row each, keyed by the booking, so running the
scan again (or after a restart) queues nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.outbox import Outgoing, enqueue
from services.schedule import local_bounds
from services.shop import profile_from
from storage.database import Database

KIND = "booking_reminder"


def reminder_key(booking_id: int) -> str:
    return f"bookrem:{booking_id}"


async def queue_booking_reminders(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """Queue tomorrow's booking reminders; returns how many were queued now."""
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    start, end = local_bounds(tomorrow, zone)
    queued = 0
    async with db.transaction() as repos:
        profile = profile_from(await repos.settings.all())
        not_before = profile.next_send_time(now, zone)
        for record in await repos.bookings.booked_between(start, end):
            customer, booking = record.customer, record.booking
            if customer.telegram_id is None or customer.blocked_at is not None:
                continue  # nobody to write to; the owner sees the booking in /today
            outgoing = Outgoing(
                key=reminder_key(booking.id),
                kind=KIND,
                chat_id=customer.telegram_id,
                customer_id=customer.id,
                not_before=not_before,
                payload={
                    "booking_id": booking.id,
                    "service": record.service.name,
                    "starts_at": booking.starts_at.isoformat(),
                },
            )
            if await enqueue(repos, outgoing, now) is not None:
                queued += 1
    return queued
